//! The dashboard's reads: a bounded number of statements over the projects a user can see,
//! never one query per row.

use sqlx::PgConnection;
use switchyard_domain::{Error, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

/// A service with its latest deployment (if any).
#[derive(Debug, Clone)]
pub struct ServiceOverviewRow {
    pub id: Uuid,
    pub name: String,
    pub project_name: String,
    pub environment: Option<String>,
    pub phase: Option<String>,
    pub health: Option<String>,
    pub version: Option<String>,
    pub replicas: Option<i32>,
}

/// A recent deployment, for the activity feed.
#[derive(Debug, Clone)]
pub struct RecentDeploymentRow {
    pub id: Uuid,
    pub service_name: String,
    pub project_name: String,
    pub environment: String,
    pub version: String,
    pub phase: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct DeploymentStatsRow {
    pub active_projects: i64,
    pub deployments_today: i64,
    pub healthy_services: i64,
    /// Mean seconds from request to `running` over the last 7 days.
    pub avg_deploy_secs: Option<f64>,
}

pub async fn services(
    conn: &mut PgConnection,
    user: UserId,
    all: bool,
    limit: i64,
) -> Result<Vec<ServiceOverviewRow>, Error> {
    sqlx::query_as!(
        ServiceOverviewRow,
        r#"select s.id, s.name, p.name as project_name, d.environment as "environment?",
                  d.phase as "phase?", d.health as "health?", d.version as "version?",
                  d.replicas as "replicas?"
           from services s
           join projects p on p.id = s.project_id
           left join lateral (
               select e.name as environment, dd.phase, dd.health, r.version, dd.replicas
               from deployments dd
               join environments e on e.id = dd.environment_id
               join releases r on r.id = dd.release_id
               where dd.service_id = s.id
               order by dd.created_at desc limit 1) d on true
           where ($2 or exists (select 1 from project_access a where a.project_id = p.id and a.user_id = $1)
                  or exists (select 1 from team_members m where m.team_id = p.team_id and m.user_id = $1))
           order by p.name, s.name
           limit $3"#,
        user.as_uuid(),
        all,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading the dashboard's services", &[]))
}

pub async fn recent_deployments(
    conn: &mut PgConnection,
    user: UserId,
    all: bool,
    limit: i64,
) -> Result<Vec<RecentDeploymentRow>, Error> {
    sqlx::query_as!(
        RecentDeploymentRow,
        r#"select d.id, s.name as service_name, p.name as project_name, e.name as environment,
                  r.version, d.phase, d.created_at
           from deployments d
           join services s on s.id = d.service_id
           join projects p on p.id = s.project_id
           join environments e on e.id = d.environment_id
           join releases r on r.id = d.release_id
           where ($2 or exists (select 1 from project_access a where a.project_id = p.id and a.user_id = $1)
                  or exists (select 1 from team_members m where m.team_id = p.team_id and m.user_id = $1))
           order by d.created_at desc
           limit $3"#,
        user.as_uuid(),
        all,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading recent deployments", &[]))
}

pub async fn stats(
    conn: &mut PgConnection,
    user: UserId,
    all: bool,
) -> Result<DeploymentStatsRow, Error> {
    sqlx::query_as!(
        DeploymentStatsRow,
        r#"with visible as (
               select p.id from projects p
               where ($2 or exists (select 1 from project_access a where a.project_id = p.id and a.user_id = $1)
                      or exists (select 1 from team_members m where m.team_id = p.team_id and m.user_id = $1))),
           latest as (
               select distinct on (d.service_id) d.service_id, d.phase, d.health
               from deployments d join services s on s.id = d.service_id
               where s.project_id in (select id from visible)
               order by d.service_id, d.created_at desc)
           select (select count(*) from visible) as "active_projects!",
                  (select count(*) from deployments d join services s on s.id = d.service_id
                    where s.project_id in (select id from visible)
                      and d.created_at >= date_trunc('day', now())) as "deployments_today!",
                  (select count(*) from latest where phase = 'running' and health = 'healthy')
                      as "healthy_services!",
                  (select avg(extract(epoch from d.updated_at - d.created_at))::float8
                     from deployments d join services s on s.id = d.service_id
                    where s.project_id in (select id from visible) and d.phase = 'running'
                      and d.created_at >= now() - interval '7 days') as "avg_deploy_secs""#,
        user.as_uuid(),
        all,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("reading the dashboard's figures", &[]))
}
