//! `GET /v1/activity`: the audit log, limited to what the caller can see (rows of their projects
//! and their own rows, even of projects since deleted; everything for platform admins).

use switchyard_db::repo::{audit, audit::AuditRow, projects};
use switchyard_domain::{Error, ProjectId, UserId};

use crate::{ControlPlane, Page, PageRequest, Principal, auth::db_unavailable};

/// The actions the audit log records (`GET /v1/activity/actions`).
pub const ACTIONS: &[&str] = &[
    "deployment.auto_rollback",
    "deployment.auto_triggered",
    "deployment.create",
    "deployment.rollback",
    "domain.create",
    "domain.delete",
    "domain.update",
    "domain.verify",
    "env_var.bulk_upsert",
    "env_var.create",
    "env_var.delete",
    "env_var.reveal",
    "env_var.update",
    "environment.create",
    "project.create",
    "project.delete",
    "release.build",
    "service.create",
    "service.delete",
    "service.update",
    "team.create",
    "team.delete",
    "team.invitation.accept",
    "team.invitation.create",
    "team.invitation.decline",
    "team.invitation.revoke",
    "team.member.remove",
    "team.member.update",
    "team.update",
];

/// The resource types the audit log records (`GET /v1/activity/resource-types`).
pub const RESOURCE_TYPES: &[&str] = &[
    "deployment",
    "domain",
    "env_var",
    "environment",
    "project",
    "release",
    "service",
    "team",
    "team_invitation",
    "team_member",
];

/// Filters of the activity list, parsed.
#[derive(Debug, Default)]
pub struct ActivityFilter {
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub project_id: Option<ProjectId>,
    pub actor_id: Option<UserId>,
    /// The original's `offset` (still honoured; `cursor` is preferred).
    pub offset: i64,
}

impl ControlPlane {
    pub async fn activity(
        &self,
        principal: &Principal,
        filter: &ActivityFilter,
        page: PageRequest,
    ) -> Result<Page<AuditRow>, Error> {
        if filter.offset < 0 {
            return Err(Error::invalid("offset", "must not be negative"));
        }
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let visible = if principal.is_platform_admin() {
            None
        } else {
            Some(projects::visible_ids(&mut conn, principal.user_id).await?)
        };
        let rows = audit::list(
            &mut conn,
            &audit::AuditFilter {
                projects: visible.as_deref(),
                own_actor: principal.user_id.as_uuid(),
                action: filter.action.as_deref(),
                resource_type: filter.resource_type.as_deref(),
                project_id: filter.project_id.map(|p| p.as_uuid()),
                actor_id: filter.actor_id.map(|a| a.as_uuid()),
                after: page.after,
                offset: filter.offset,
                limit: page.fetch(),
            },
        )
        .await?;
        Ok(page.finish(rows, |r| r.id))
    }
}
