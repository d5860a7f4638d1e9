//! Pod logs: `GET /v1/deployments/:id/logs` (read once) and the followed streams of a
//! deployment or of a service in one of its environments. The caller is authorized first (404
//! for what they cannot see); the namespace is always the stored environment's
//! `kube_namespace`, never one a caller names. A deployment's logs are its own pods'
//! (`enclii.dev/deployment=<id>`); a service's, every pod of the service in that environment.

use switchyard_db::repo::environments;
use switchyard_domain::{DeploymentId, Error, ResourceKind, ServiceId};
use switchyard_k8s::cluster::{LogFollow, LogOptions, LogSource};

use crate::{ControlPlane, Principal, auth::db_unavailable, cluster_error, policy::Need};

/// Lines per pod when the caller does not say.
pub const DEFAULT_LOG_LINES: u32 = 100;
/// The most lines per pod one read may ask for (the original's history limit).
pub const MAX_LOG_LINES: u32 = 10_000;
/// The environment of a service's stream when the caller names none (the original's).
pub const DEFAULT_LOG_ENVIRONMENT: &str = "development";

/// `lines` as received (absent: [`DEFAULT_LOG_LINES`]): a whole number from 1 to
/// [`MAX_LOG_LINES`].
pub fn log_lines(raw: Option<&str>) -> Result<u32, Error> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LOG_LINES);
    };
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_LOG_LINES).contains(n))
        .ok_or_else(|| {
            Error::invalid(
                "lines",
                format!("must be a whole number from 1 to {MAX_LOG_LINES}, got {raw:?}"),
            )
        })
}

/// `GET /v1/deployments/:id/logs`: the original body's parts.
#[derive(Debug, Clone)]
pub struct DeploymentLogs {
    pub deployment_id: DeploymentId,
    pub service_name: String,
    /// The last lines of each pod, `[<pod>] `-prefixed when there are several.
    pub logs: String,
    pub lines: u32,
}

/// A followed log and what it is of.
#[derive(Debug)]
pub struct FollowedLogs {
    pub service_name: String,
    pub environment: String,
    pub namespace: String,
    pub follow: LogFollow,
}

/// Whose logs, once the caller may read them.
struct Target {
    source: LogSource,
    environment: String,
}

impl ControlPlane {
    /// `GET /v1/deployments/:id/logs`: the last `options.lines` lines of each of the
    /// deployment's pods.
    pub async fn deployment_logs(
        &self,
        principal: &Principal,
        id: DeploymentId,
        options: LogOptions,
    ) -> Result<DeploymentLogs, Error> {
        let target = self.deployment_target(principal, id).await?;
        let logs = self
            .cluster_view()
            .pods()?
            .pod_logs(&target.source, options)
            .await
            .map_err(cluster_error)?;
        Ok(DeploymentLogs {
            deployment_id: id,
            service_name: target.source.service,
            logs,
            lines: options.lines,
        })
    }

    /// `GET /v1/deployments/:id/logs?follow=true` and `/logs/stream`: the deployment's pods,
    /// followed.
    pub async fn follow_deployment_logs(
        &self,
        principal: &Principal,
        id: DeploymentId,
        options: LogOptions,
    ) -> Result<FollowedLogs, Error> {
        let target = self.deployment_target(principal, id).await?;
        self.follow(target, options).await
    }

    /// `GET /v1/services/:id/logs/stream?env=`: every pod of the service in its project's
    /// environment named `environment` (404 when the project has none of that name).
    pub async fn follow_service_logs(
        &self,
        principal: &Principal,
        id: ServiceId,
        environment: Option<&str>,
        options: LogOptions,
    ) -> Result<FollowedLogs, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let found = self
            .service_authorized(&mut conn, principal, id, Need::Read, false)
            .await?;
        let name = environment.unwrap_or(DEFAULT_LOG_ENVIRONMENT);
        let env = environments::find_by_name(&mut conn, found.project.id(), name)
            .await?
            .ok_or_else(|| Error::not_found(ResourceKind::Environment, name))?;
        let hidden = || Error::not_found(ResourceKind::Service, id.to_string());
        self.authorize_row(
            &mut conn,
            principal,
            found.project,
            Some(env.id()),
            Need::Read,
            hidden,
        )
        .await?;
        drop(conn);
        let target = Target {
            source: LogSource {
                namespace: env.kube_namespace,
                service: found.service.spec.0.name,
                deployment: None,
            },
            environment: env.name,
        };
        self.follow(target, options).await
    }

    /// The pods of deployment `id`, if `principal` may read it.
    async fn deployment_target(
        &self,
        principal: &Principal,
        id: DeploymentId,
    ) -> Result<Target, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let (deployment, found) = self
            .deployment_authorized(&mut conn, principal, id, Need::Read)
            .await?;
        let env = environments::find(&mut conn, deployment.environment_id())
            .await?
            .ok_or_else(|| {
                Error::internal("reading a deployment's logs", "its environment is gone")
            })?;
        Ok(Target {
            source: LogSource {
                namespace: env.kube_namespace,
                service: found.service.spec.0.name,
                deployment: Some(id.to_string()),
            },
            environment: env.name,
        })
    }

    async fn follow(&self, target: Target, options: LogOptions) -> Result<FollowedLogs, Error> {
        let follow = self
            .cluster_view()
            .pods()?
            .follow_logs(&target.source, options)
            .await
            .map_err(cluster_error)?;
        Ok(FollowedLogs {
            service_name: target.source.service,
            environment: target.environment,
            namespace: target.source.namespace,
            follow,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_default_to_100_and_must_be_1_to_10000() {
        assert_eq!(log_lines(None).unwrap(), 100);
        assert_eq!(log_lines(Some("1")).unwrap(), 1);
        assert_eq!(log_lines(Some("10000")).unwrap(), 10_000);
        for bad in ["0", "10001", "-1", "abc", "", "1.5", "99999999999"] {
            let error = log_lines(Some(bad)).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidInput { field: Some(f), .. } if f == "lines"),
                "{bad}: {error:?}"
            );
        }
    }
}
