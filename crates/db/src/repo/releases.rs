//! The `releases` table. Lists never read the SBOM text; `sbom` has its own statement.

use sqlx::PgConnection;
use switchyard_domain::{Error, GitSha, ReleaseId, ServiceId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

/// A release without its SBOM text (`has_sbom` says whether there is one).
#[derive(Debug, Clone)]
pub struct ReleaseRow {
    pub id: Uuid,
    pub service_id: Uuid,
    pub version: String,
    pub image_uri: String,
    pub git_sha: String,
    pub git_branch: String,
    pub status: String,
    pub reason: Option<String>,
    pub error_message: Option<String>,
    pub job_id: Option<String>,
    pub image_digest: Option<String>,
    pub image_size_mb: Option<f64>,
    pub has_sbom: bool,
    pub sbom_format: Option<String>,
    pub image_signature: Option<String>,
    pub build_duration_secs: Option<f64>,
    pub logs_url: Option<String>,
    pub completed_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl ReleaseRow {
    pub fn id(&self) -> ReleaseId {
        ReleaseId::from_uuid(self.id)
    }

    pub fn service_id(&self) -> ServiceId {
        ServiceId::from_uuid(self.service_id)
    }
}

pub struct NewRelease<'a> {
    pub id: ReleaseId,
    pub service_id: ServiceId,
    pub version: &'a str,
    pub image_uri: &'a str,
    pub git_sha: &'a str,
    pub git_branch: &'a str,
    pub triggered_by: Option<UserId>,
}

pub async fn insert(conn: &mut PgConnection, new: &NewRelease<'_>) -> Result<ReleaseRow, Error> {
    sqlx::query_as!(
        ReleaseRow,
        r#"insert into releases (id, service_id, version, image_uri, git_sha, git_branch, triggered_by)
           values ($1, $2, $3, $4, $5, $6, $7)
           returning id, service_id, version, image_uri, git_sha, git_branch, status, reason,
                     error_message, job_id, image_digest, image_size_mb,
                     sbom is not null as "has_sbom!", sbom_format, image_signature,
                     build_duration_secs, logs_url, completed_at, created_at, updated_at"#,
        new.id.as_uuid(),
        new.service_id.as_uuid(),
        new.version,
        new.image_uri,
        new.git_sha,
        new.git_branch,
        new.triggered_by.map(|u| u.as_uuid()),
    )
    .fetch_one(conn)
    .await
    .map_err(translate("creating a release", &[]))
}

pub async fn find(conn: &mut PgConnection, id: ReleaseId) -> Result<Option<ReleaseRow>, Error> {
    sqlx::query_as!(
        ReleaseRow,
        r#"select id, service_id, version, image_uri, git_sha, git_branch, status, reason,
                  error_message, job_id, image_digest, image_size_mb,
                  sbom is not null as "has_sbom!", sbom_format, image_signature,
                  build_duration_secs, logs_url, completed_at, created_at, updated_at
           from releases where id = $1"#,
        id.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a release", &[]))
}

/// The release, locked until the transaction ends (a build result is about to change it).
pub async fn find_for_update(
    conn: &mut PgConnection,
    id: ReleaseId,
) -> Result<Option<ReleaseRow>, Error> {
    sqlx::query_as!(
        ReleaseRow,
        r#"select id, service_id, version, image_uri, git_sha, git_branch, status, reason,
                  error_message, job_id, image_digest, image_size_mb,
                  sbom is not null as "has_sbom!", sbom_format, image_signature,
                  build_duration_secs, logs_url, completed_at, created_at, updated_at
           from releases where id = $1 for update"#,
        id.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a release", &[]))
}

/// One page of a service's releases, newest first, after the release `after`.
pub async fn list(
    conn: &mut PgConnection,
    service: ServiceId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ReleaseRow>, Error> {
    sqlx::query_as!(
        ReleaseRow,
        r#"select id, service_id, version, image_uri, git_sha, git_branch, status, reason,
                  error_message, job_id, image_digest, image_size_mb,
                  sbom is not null as "has_sbom!", sbom_format, image_signature,
                  build_duration_secs, logs_url, completed_at, created_at, updated_at
           from releases
           where service_id = $1
             and ($2::uuid is null or (created_at, id) < (select c.created_at, c.id from releases c where c.id = $2))
           order by created_at desc, id desc
           limit $3"#,
        service.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing releases", &[]))
}

/// The SBOM document of a release and its format.
pub async fn sbom(
    conn: &mut PgConnection,
    id: ReleaseId,
) -> Result<Option<(Option<String>, Option<String>)>, Error> {
    let row = sqlx::query!(
        "select sbom, sbom_format from releases where id = $1",
        id.as_uuid()
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading an SBOM", &[]))?;
    Ok(row.map(|r| (r.sbom, r.sbom_format)))
}

/// What a successful build produced.
pub struct BuildOutput<'a> {
    pub job_id: &'a str,
    pub image_uri: Option<&'a str>,
    pub image_digest: Option<&'a str>,
    pub image_size_mb: Option<f64>,
    pub sbom: Option<&'a str>,
    pub sbom_format: Option<&'a str>,
    pub image_signature: Option<&'a str>,
    pub duration_secs: Option<f64>,
    pub logs_url: Option<&'a str>,
}

/// `building → ready` with the build's output.
pub async fn mark_ready(
    conn: &mut PgConnection,
    id: ReleaseId,
    out: &BuildOutput<'_>,
) -> Result<bool, Error> {
    let done = sqlx::query!(
        "update releases set status = 'ready', job_id = $2, image_uri = coalesce($3, image_uri),
             image_digest = $4, image_size_mb = $5, sbom = $6, sbom_format = $7,
             image_signature = $8, build_duration_secs = $9, logs_url = $10,
             completed_at = now(), updated_at = now()
         where id = $1 and status = 'building'",
        id.as_uuid(),
        out.job_id,
        out.image_uri,
        out.image_digest,
        out.image_size_mb,
        out.sbom,
        out.sbom_format,
        out.image_signature,
        out.duration_secs,
        out.logs_url,
    )
    .execute(conn)
    .await
    .map_err(translate("recording a finished build", &[]))?;
    Ok(done.rows_affected() == 1)
}

/// `building → failed` with a machine-readable reason and a message.
pub async fn mark_failed(
    conn: &mut PgConnection,
    id: ReleaseId,
    job_id: Option<&str>,
    reason: &str,
    message: &str,
) -> Result<bool, Error> {
    let done = sqlx::query!(
        "update releases set status = 'failed', job_id = coalesce($2, job_id), reason = $3,
             error_message = $4, completed_at = now(), updated_at = now()
         where id = $1 and status = 'building'",
        id.as_uuid(),
        job_id,
        reason,
        message,
    )
    .execute(conn)
    .await
    .map_err(translate("recording a failed build", &[]))?;
    Ok(done.rows_affected() == 1)
}

/// Roundhouse accepted the build as `job_id` (kept if a callback already set it).
pub async fn set_job_id(conn: &mut PgConnection, id: ReleaseId, job_id: &str) -> Result<(), Error> {
    sqlx::query!(
        "update releases set job_id = coalesce(job_id, $2), updated_at = now() where id = $1",
        id.as_uuid(),
        job_id,
    )
    .execute(conn)
    .await
    .map_err(translate("recording a build job", &[]))?;
    Ok(())
}

/// Fails every release `building` since before `cutoff`; returns their ids.
pub async fn fail_stuck(
    conn: &mut PgConnection,
    cutoff: OffsetDateTime,
    reason: &str,
    message: &str,
) -> Result<Vec<Uuid>, Error> {
    sqlx::query_scalar!(
        "update releases set status = 'failed', reason = $2, error_message = $3,
             completed_at = now(), updated_at = now()
         where status = 'building' and created_at < $1
         returning id",
        cutoff,
        reason,
        message,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("timing out builds", &[]))
}

/// The newest release of `service` built from a commit whose SHA starts with `sha` (a validated
/// 7–40 hex digit string, so it holds no `LIKE` wildcard).
pub async fn latest_of_commit(
    conn: &mut PgConnection,
    service: ServiceId,
    sha: &GitSha,
) -> Result<Option<ReleaseRow>, Error> {
    sqlx::query_as!(
        ReleaseRow,
        r#"select id, service_id, version, image_uri, git_sha, git_branch, status, reason,
                  error_message, job_id, image_digest, image_size_mb,
                  sbom is not null as "has_sbom!", sbom_format, image_signature,
                  build_duration_secs, logs_url, completed_at, created_at, updated_at
           from releases
           where service_id = $1 and git_sha like $2 || '%'
           order by created_at desc, id desc
           limit 1"#,
        service.as_uuid(),
        sha.as_str(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a release", &[]))
}

/// For each service of the `projects` given (every project when `None`), its newest release
/// built from a commit whose SHA starts with `sha`; at most `limit` services, by service id.
pub async fn latest_per_service_of_commit(
    conn: &mut PgConnection,
    sha: &GitSha,
    projects: Option<&[Uuid]>,
    limit: i64,
) -> Result<Vec<ReleaseRow>, Error> {
    sqlx::query_as!(
        ReleaseRow,
        r#"select distinct on (r.service_id)
                  r.id, r.service_id, r.version, r.image_uri, r.git_sha, r.git_branch, r.status,
                  r.reason, r.error_message, r.job_id, r.image_digest, r.image_size_mb,
                  r.sbom is not null as "has_sbom!", r.sbom_format, r.image_signature,
                  r.build_duration_secs, r.logs_url, r.completed_at, r.created_at, r.updated_at
           from releases r join services s on s.id = r.service_id
           where r.git_sha like $1 || '%'
             and ($2::uuid[] is null or s.project_id = any($2))
           order by r.service_id, r.created_at desc, r.id desc
           limit $3"#,
        sha.as_str(),
        projects,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading releases", &[]))
}
