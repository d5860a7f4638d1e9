//! `GET /v1/dashboard/stats`: the caller's projects at a glance, in three statements whatever
//! the number of projects (the original walked projects, services, releases and deployments one
//! query per row, across every tenant).

use switchyard_db::repo::dashboard::{
    self, DeploymentStatsRow, RecentDeploymentRow, ServiceOverviewRow,
};
use switchyard_domain::Error;

use crate::{ControlPlane, Principal, auth::db_unavailable};

/// At most this many services and activities are shown.
pub const DASHBOARD_LIMIT: i64 = 100;
const ACTIVITY_LIMIT: i64 = 10;

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub stats: DeploymentStatsRow,
    pub activities: Vec<RecentDeploymentRow>,
    pub services: Vec<ServiceOverviewRow>,
}

/// The original's rendering of a mean deploy time: `45s`, `2m 5s`, `3m`, `1.5h`; `N/A` without
/// data.
pub fn format_deploy_time(secs: Option<f64>) -> String {
    let Some(secs) = secs.filter(|s| s.is_finite() && *s >= 0.0) else {
        return "N/A".to_owned();
    };
    // Whole seconds; deploy times are far below u64::MAX.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked finite and >= 0 above"
    )]
    let whole = secs as u64;
    match whole {
        0..=59 => format!("{whole}s"),
        60..=3599 if whole.is_multiple_of(60) => format!("{}m", whole / 60),
        60..=3599 => format!("{}m {}s", whole / 60, whole % 60),
        _ => format!("{:.1}h", secs / 3600.0),
    }
}

impl ControlPlane {
    pub async fn dashboard(&self, principal: &Principal) -> Result<Dashboard, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let all = principal.is_platform_admin();
        let user = principal.user_id;
        Ok(Dashboard {
            stats: dashboard::stats(&mut conn, user, all).await?,
            activities: dashboard::recent_deployments(&mut conn, user, all, ACTIVITY_LIMIT).await?,
            services: dashboard::services(&mut conn, user, all, DASHBOARD_LIMIT).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_times_read_like_the_original() {
        assert_eq!(format_deploy_time(None), "N/A");
        assert_eq!(format_deploy_time(Some(42.7)), "42s");
        assert_eq!(format_deploy_time(Some(125.0)), "2m 5s");
        assert_eq!(format_deploy_time(Some(180.0)), "3m");
        assert_eq!(format_deploy_time(Some(5400.0)), "1.5h");
    }
}
