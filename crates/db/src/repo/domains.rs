//! The `custom_domains` table: host names routed to a service in one environment, unique across
//! every tenant (case-insensitively), verified when `verified_at` is set.

use sqlx::PgConnection;
use switchyard_domain::{DomainId, EnvironmentId, Error, ProjectId, ResourceKind, ServiceId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

#[derive(Debug, Clone)]
pub struct DomainRow {
    pub id: Uuid,
    pub service_id: Uuid,
    pub environment_id: Uuid,
    pub domain: String,
    pub is_platform_domain: bool,
    pub tls_enabled: bool,
    pub verified_at: Option<OffsetDateTime>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl DomainRow {
    pub fn id(&self) -> DomainId {
        DomainId::from_uuid(self.id)
    }

    pub fn service_id(&self) -> ServiceId {
        ServiceId::from_uuid(self.service_id)
    }

    pub fn environment_id(&self) -> EnvironmentId {
        EnvironmentId::from_uuid(self.environment_id)
    }
}

/// A domain with the names of what it routes to (`GET /v1/domains`).
#[derive(Debug, Clone)]
pub struct DomainListRow {
    pub domain: DomainRow,
    pub service_name: String,
    pub environment_name: String,
    pub project_slug: String,
}

pub struct NewDomain<'a> {
    pub id: DomainId,
    pub service_id: ServiceId,
    pub environment_id: EnvironmentId,
    pub domain: &'a str,
    pub is_platform_domain: bool,
    pub tls_enabled: bool,
    /// Platform domains are verified when they are created.
    pub verified: bool,
}

/// A name already routed anywhere (any tenant): the message does not say where.
const DUPLICATE: &[(&str, ResourceKind, &str)] = &[(
    "custom_domains_domain_key",
    ResourceKind::Domain,
    "with this name",
)];

pub async fn insert(conn: &mut PgConnection, new: &NewDomain<'_>) -> Result<DomainRow, Error> {
    sqlx::query_as!(
        DomainRow,
        "insert into custom_domains (id, service_id, environment_id, domain, is_platform_domain,
                                     tls_enabled, verified_at)
         values ($1, $2, $3, $4, $5, $6, case when $7 then now() end)
         returning id, service_id, environment_id, domain, is_platform_domain, tls_enabled,
                   verified_at, version, created_at, updated_at",
        new.id.as_uuid(),
        new.service_id.as_uuid(),
        new.environment_id.as_uuid(),
        new.domain,
        new.is_platform_domain,
        new.tls_enabled,
        new.verified,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("adding a custom domain", DUPLICATE))
}

/// The domain `id` of `service` (none when it belongs to another service).
pub async fn find(
    conn: &mut PgConnection,
    service: ServiceId,
    id: DomainId,
) -> Result<Option<DomainRow>, Error> {
    sqlx::query_as!(
        DomainRow,
        "select id, service_id, environment_id, domain, is_platform_domain, tls_enabled,
                verified_at, version, created_at, updated_at
         from custom_domains where id = $1 and service_id = $2",
        id.as_uuid(),
        service.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a custom domain", &[]))
}

/// As `find`, locking the row for a change in this transaction.
pub async fn find_for_update(
    conn: &mut PgConnection,
    service: ServiceId,
    id: DomainId,
) -> Result<Option<DomainRow>, Error> {
    sqlx::query_as!(
        DomainRow,
        "select id, service_id, environment_id, domain, is_platform_domain, tls_enabled,
                verified_at, version, created_at, updated_at
         from custom_domains where id = $1 and service_id = $2 for update",
        id.as_uuid(),
        service.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a custom domain", &[]))
}

/// One page of a service's domains, in id (creation) order.
pub async fn list(
    conn: &mut PgConnection,
    service: ServiceId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DomainRow>, Error> {
    sqlx::query_as!(
        DomainRow,
        "select id, service_id, environment_id, domain, is_platform_domain, tls_enabled,
                verified_at, version, created_at, updated_at
         from custom_domains where service_id = $1 and ($2::uuid is null or id > $2)
         order by id limit $3",
        service.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing custom domains", &[]))
}

/// Sets `tls_enabled` and bumps the version.
pub async fn set_tls(
    conn: &mut PgConnection,
    id: DomainId,
    tls_enabled: bool,
) -> Result<DomainRow, Error> {
    sqlx::query_as!(
        DomainRow,
        "update custom_domains set tls_enabled = $2, version = version + 1, updated_at = now()
         where id = $1
         returning id, service_id, environment_id, domain, is_platform_domain, tls_enabled,
                   verified_at, version, created_at, updated_at",
        id.as_uuid(),
        tls_enabled,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("updating a custom domain", &[]))
}

/// Records a successful verification (now) and bumps the version.
pub async fn set_verified(conn: &mut PgConnection, id: DomainId) -> Result<DomainRow, Error> {
    sqlx::query_as!(
        DomainRow,
        "update custom_domains set verified_at = now(), version = version + 1, updated_at = now()
         where id = $1
         returning id, service_id, environment_id, domain, is_platform_domain, tls_enabled,
                   verified_at, version, created_at, updated_at",
        id.as_uuid(),
    )
    .fetch_one(conn)
    .await
    .map_err(translate("verifying a custom domain", &[]))
}

pub async fn delete(conn: &mut PgConnection, id: DomainId) -> Result<bool, Error> {
    let done = sqlx::query!("delete from custom_domains where id = $1", id.as_uuid())
        .execute(conn)
        .await
        .map_err(translate("deleting a custom domain", &[]))?;
    Ok(done.rows_affected() == 1)
}

/// The verified custom (non-platform) domains of `project` (of `service` only, when set) as
/// (id, host): what is billed, and stops being billed when they go with their service.
pub async fn billed(
    conn: &mut PgConnection,
    project: ProjectId,
    service: Option<ServiceId>,
) -> Result<Vec<(Uuid, String)>, Error> {
    let rows = sqlx::query!(
        "select d.id, d.domain from custom_domains d join services s on s.id = d.service_id
         where s.project_id = $1 and ($2::uuid is null or d.service_id = $2)
           and d.verified_at is not null and not d.is_platform_domain
         order by d.domain",
        project.as_uuid(),
        service.map(|s| s.as_uuid()),
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading the billed domains", &[]))?;
    Ok(rows.into_iter().map(|r| (r.id, r.domain)).collect())
}

/// The verified hosts of `service` in `environment` with whether each wants TLS, by name: what
/// the renderer routes.
pub async fn verified_hosts(
    conn: &mut PgConnection,
    service: ServiceId,
    environment: EnvironmentId,
) -> Result<Vec<(String, bool)>, Error> {
    let rows = sqlx::query!(
        "select domain, tls_enabled from custom_domains
         where service_id = $1 and environment_id = $2 and verified_at is not null
         order by domain",
        service.as_uuid(),
        environment.as_uuid(),
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading the verified domains of a service", &[]))?;
    Ok(rows
        .into_iter()
        .map(|r| (r.domain, r.tls_enabled))
        .collect())
}

/// Filters of `GET /v1/domains`; `projects` limits rows to those projects (None: every project,
/// for platform admins).
#[derive(Debug, Clone, Copy)]
pub struct VisibleFilter<'a> {
    pub projects: Option<&'a [Uuid]>,
    pub verified: Option<bool>,
    pub tls_enabled: Option<bool>,
}

/// One page of the domains of the visible projects, in id (creation) order, after the row
/// `after` and past `offset` rows (the original's paging).
pub async fn list_visible(
    conn: &mut PgConnection,
    filter: VisibleFilter<'_>,
    after: Option<Uuid>,
    offset: i64,
    limit: i64,
) -> Result<Vec<DomainListRow>, Error> {
    let rows = sqlx::query!(
        "select d.id, d.service_id, d.environment_id, d.domain, d.is_platform_domain,
                d.tls_enabled, d.verified_at, d.version, d.created_at, d.updated_at,
                s.name as service_name, e.name as environment_name, p.slug as project_slug
         from custom_domains d
         join services s on s.id = d.service_id
         join environments e on e.id = d.environment_id
         join projects p on p.id = s.project_id
         where ($1::uuid[] is null or p.id = any($1))
           and ($2::bool is null or (d.verified_at is not null) = $2)
           and ($3::bool is null or d.tls_enabled = $3)
           and ($4::uuid is null or d.id > $4)
         order by d.id offset $5 limit $6",
        filter.projects,
        filter.verified,
        filter.tls_enabled,
        after,
        offset,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing custom domains", &[]))?;
    Ok(rows
        .into_iter()
        .map(|r| DomainListRow {
            domain: DomainRow {
                id: r.id,
                service_id: r.service_id,
                environment_id: r.environment_id,
                domain: r.domain,
                is_platform_domain: r.is_platform_domain,
                tls_enabled: r.tls_enabled,
                verified_at: r.verified_at,
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
            },
            service_name: r.service_name,
            environment_name: r.environment_name,
            project_slug: r.project_slug,
        })
        .collect())
}

/// Counts over the domains of the visible projects (`GET /v1/domains` and `/stats`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DomainCounts {
    /// Rows matching the filter.
    pub total: i64,
    pub verified: i64,
    pub tls_enabled: i64,
    pub platform: i64,
}

pub async fn count_visible(
    conn: &mut PgConnection,
    filter: VisibleFilter<'_>,
) -> Result<DomainCounts, Error> {
    sqlx::query_as!(
        DomainCounts,
        r#"select count(*) as "total!",
                  count(*) filter (where d.verified_at is not null) as "verified!",
                  count(*) filter (where d.tls_enabled) as "tls_enabled!",
                  count(*) filter (where d.is_platform_domain) as "platform!"
           from custom_domains d
           join services s on s.id = d.service_id
           where ($1::uuid[] is null or s.project_id = any($1))
             and ($2::bool is null or (d.verified_at is not null) = $2)
             and ($3::bool is null or d.tls_enabled = $3)"#,
        filter.projects,
        filter.verified,
        filter.tls_enabled,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("counting custom domains", &[]))
}
