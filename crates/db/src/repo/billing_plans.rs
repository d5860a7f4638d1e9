//! `billing_plans` (seeded by migration, prices an operator may change) and
//! `billing_subscriptions` (a project's plan; none = the configured default plan). Money is
//! `numeric` dollars in SQL and integer micro-dollars (`*_micro`) in Rust.

use sqlx::PgConnection;
use switchyard_domain::Error;
use uuid::Uuid;

use super::translate;

/// A plan as one project is subscribed to it.
#[derive(Debug, Clone)]
pub struct ProjectPlanRow {
    pub project_id: Uuid,
    /// The plan the project is on: its subscription's, else the default.
    pub id: String,
    /// Whether `billing_plans` has that plan. When it does not (a mistyped default), the other
    /// columns are 0 and must not be used to bill.
    pub exists: bool,
    pub name: String,
    pub base_price_micro: i64,
    pub included_compute_micro: i64,
    pub included_build_micro: i64,
    pub included_storage_micro: i64,
    pub included_bandwidth_micro: i64,
    pub included_custom_domains: i32,
    pub price_compute_micro: i64,
    pub price_build_micro: i64,
    pub price_storage_micro: i64,
    pub price_bandwidth_micro: i64,
}

/// The plan of each of `projects`: its subscription's, else `default_plan`. Every project has a
/// row, also when its plan does not exist (`exists` false), so none is silently left unbilled.
pub async fn plans_of(
    conn: &mut PgConnection,
    projects: &[Uuid],
    default_plan: &str,
) -> Result<Vec<ProjectPlanRow>, Error> {
    sqlx::query_as!(
        ProjectPlanRow,
        r#"select p.id as "project_id!", coalesce(s.plan_id, $2) as "id!",
                  pl.id is not null as "exists!", coalesce(pl.name, '') as "name!",
                  coalesce((pl.base_price * 1000000)::int8, 0) as "base_price_micro!",
                  coalesce((pl.included_compute_gb_hours * 1000000)::int8, 0)
                      as "included_compute_micro!",
                  coalesce((pl.included_build_minutes * 1000000)::int8, 0)
                      as "included_build_micro!",
                  coalesce((pl.included_storage_gb * 1000000)::int8, 0)
                      as "included_storage_micro!",
                  coalesce((pl.included_bandwidth_gb * 1000000)::int8, 0)
                      as "included_bandwidth_micro!",
                  coalesce(pl.included_custom_domains, 0) as "included_custom_domains!",
                  coalesce((pl.price_compute_gb_hour * 1000000)::int8, 0)
                      as "price_compute_micro!",
                  coalesce((pl.price_build_minute * 1000000)::int8, 0) as "price_build_micro!",
                  coalesce((pl.price_storage_gb_month * 1000000)::int8, 0)
                      as "price_storage_micro!",
                  coalesce((pl.price_bandwidth_gb * 1000000)::int8, 0)
                      as "price_bandwidth_micro!"
           from unnest($1::uuid[]) as p(id)
           left join billing_subscriptions s on s.project_id = p.id
           left join billing_plans pl on pl.id = coalesce(s.plan_id, $2)"#,
        projects,
        default_plan,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("reading billing plans", &[]))
}

/// The ids of every plan, in order.
pub async fn ids(conn: &mut PgConnection) -> Result<Vec<String>, Error> {
    sqlx::query_scalar!("select id from billing_plans order by id")
        .fetch_all(conn)
        .await
        .map_err(translate("reading billing plans", &[]))
}
