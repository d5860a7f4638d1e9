//! The `audit_log` table: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE).

use serde_json::Value;
use sqlx::PgConnection;
use switchyard_domain::{AuditId, Error};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: Uuid,
    pub occurred_at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub actor_email: String,
    pub actor_role: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: String,
    pub project_id: Option<Uuid>,
    pub environment_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: String,
    pub changes: Value,
    pub metadata: Value,
}

pub struct NewAudit<'a> {
    pub id: AuditId,
    pub actor_id: Option<Uuid>,
    pub actor_email: &'a str,
    pub actor_role: &'a str,
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub resource_name: &'a str,
    pub project_id: Option<Uuid>,
    pub environment_id: Option<Uuid>,
    pub request_id: Option<&'a str>,
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub outcome: &'a str,
    pub changes: &'a Value,
    pub metadata: &'a Value,
}

pub async fn insert(conn: &mut PgConnection, new: &NewAudit<'_>) -> Result<(), Error> {
    sqlx::query!(
        "insert into audit_log (id, actor_id, actor_email, actor_role, action, resource_type,
             resource_id, resource_name, project_id, environment_id, request_id, ip_address,
             user_agent, outcome, changes, metadata)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        new.id.as_uuid(),
        new.actor_id,
        new.actor_email,
        new.actor_role,
        new.action,
        new.resource_type,
        new.resource_id,
        new.resource_name,
        new.project_id,
        new.environment_id,
        new.request_id,
        new.ip_address,
        new.user_agent,
        new.outcome,
        new.changes,
        new.metadata,
    )
    .execute(conn)
    .await
    .map_err(translate("writing an audit row", &[]))?;
    Ok(())
}

/// Filters of `GET /v1/activity`; `projects` limits rows to those projects (None: no limit, for
/// platform admins), and the caller's own rows (`own_actor`) are always included.
pub struct AuditFilter<'a> {
    pub projects: Option<&'a [Uuid]>,
    pub own_actor: Uuid,
    pub action: Option<&'a str>,
    pub resource_type: Option<&'a str>,
    pub project_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// Rows after this one in the listing order (the last row of the previous page).
    pub after: Option<Uuid>,
    pub offset: i64,
    pub limit: i64,
}

/// Newest first.
pub async fn list(conn: &mut PgConnection, f: &AuditFilter<'_>) -> Result<Vec<AuditRow>, Error> {
    sqlx::query_as!(
        AuditRow,
        "select id, occurred_at, actor_id, actor_email, actor_role, action, resource_type,
                resource_id, resource_name, project_id, environment_id, request_id, ip_address,
                user_agent, outcome, changes, metadata
         from audit_log
         where ($1::uuid[] is null or project_id = any($1) or actor_id = $2)
           and ($3::text is null or action = $3)
           and ($4::text is null or resource_type = $4)
           and ($5::uuid is null or project_id = $5)
           and ($6::uuid is null or actor_id = $6)
           and ($7::uuid is null
                or (occurred_at, id) < (select c.occurred_at, c.id from audit_log c where c.id = $7))
         order by occurred_at desc, id desc
         offset $8 limit $9",
        f.projects,
        f.own_actor,
        f.action,
        f.resource_type,
        f.project_id,
        f.actor_id,
        f.after,
        f.offset,
        f.limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading the audit log", &[]))
}
