//! `GET /v1/usage`, `/v1/usage/costs` and `/v1/projects/:slug/usage/ledger`: the month's usage
//! of the projects the caller can see, priced by each project's plan, and the hourly lines of
//! one project with the events behind each; `POST /v1/admin/billing/aggregate` for platform
//! admins.

use std::collections::{BTreeMap, BTreeSet};

use switchyard_billing::{
    Bill, BillLine, Contribution, Ledger, Metric, Plan, Source, UsageEvent, floor_hour,
    pricing::{self, Usage},
};
use switchyard_db::repo::{billing_plans, billing_plans::ProjectPlanRow, projects, usage};
use switchyard_domain::{Error, ProjectId};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{ControlPlane, Need, Principal, auth::db_unavailable};

/// How projects are billed.
#[derive(Debug, Clone)]
pub struct BillingSettings {
    /// `ENCLII_BILLING_DEFAULT_PLAN`: the plan of a project without a subscription.
    pub default_plan: String,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            default_plan: "pro".to_owned(),
        }
    }
}

/// The longest range the ledger route lists (a month and a day, in hours).
pub const MAX_LEDGER_HOURS: i64 = 32 * 24;

/// The month so far, priced.
#[derive(Debug, Clone)]
pub struct UsageReport {
    pub period_start: OffsetDateTime,
    pub period_end: OffsetDateTime,
    pub plan_name: String,
    /// One line per metric, summed over the projects (an allowance is unlimited if any
    /// project's is).
    pub lines: Vec<BillLine>,
    pub usage_cents: i64,
    pub base_cents: i64,
}

/// One contribution to a ledger line and the events that produced it.
#[derive(Debug, Clone)]
pub struct LedgerSource {
    pub contribution: Contribution,
    pub events: Vec<UsageEvent>,
}

/// One billed hour of one metric.
#[derive(Debug, Clone)]
pub struct LedgerLine {
    pub hour: OffsetDateTime,
    pub metric: Metric,
    pub quantity_micro: i64,
    pub sources: Vec<LedgerSource>,
}

#[derive(Debug, Clone)]
pub struct LedgerReport {
    pub project: String,
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
    pub lines: Vec<LedgerLine>,
}

fn plan_of(row: &ProjectPlanRow) -> Plan {
    let limit = |v: i64| (v >= 0).then_some(v);
    Plan {
        id: row.id.clone(),
        name: row.name.clone(),
        base_price_micro: row.base_price_micro,
        included_compute_micro: limit(row.included_compute_micro),
        included_build_micro: limit(row.included_build_micro),
        included_storage_micro: limit(row.included_storage_micro),
        included_bandwidth_micro: limit(row.included_bandwidth_micro),
        included_domains: limit(i64::from(row.included_custom_domains)),
        price_compute_micro: row.price_compute_micro,
        price_build_micro: row.price_build_micro,
        price_storage_micro: row.price_storage_micro,
        price_bandwidth_micro: row.price_bandwidth_micro,
    }
}

/// The first instant of `now`'s month (UTC).
fn month_start(now: OffsetDateTime) -> OffsetDateTime {
    floor_hour(now)
        .replace_hour(0)
        .and_then(|t| t.replace_day(1))
        .unwrap_or(now)
}

/// The bills of several projects as one: quantities, allowances and costs added up.
fn combine(bills: &[Bill]) -> (Vec<BillLine>, i64, i64) {
    let mut lines: Vec<BillLine> = Vec::new();
    for bill in bills {
        for (i, line) in bill.lines.iter().enumerate() {
            match lines.get_mut(i) {
                None => lines.push(line.clone()),
                Some(sum) => {
                    sum.used_micro += line.used_micro;
                    sum.included_micro = sum
                        .included_micro
                        .zip(line.included_micro)
                        .map(|(a, b)| a + b);
                    sum.cost_cents += line.cost_cents;
                }
            }
        }
    }
    let usage = bills.iter().map(|b| b.usage_cents).sum();
    let base = bills.iter().map(|b| b.base_cents).sum();
    (lines, usage, base)
}

impl BillingSettings {
    /// Checks that the default plan exists in `billing_plans`, so a mistyped
    /// `ENCLII_BILLING_DEFAULT_PLAN` stops the start instead of billing $0. `Ok(false)` when
    /// the plans cannot be read yet (database unreachable, migrations pending).
    pub async fn check_default_plan(&self, pool: &switchyard_db::PgPool) -> Result<bool, Error> {
        let Ok(mut conn) = pool.acquire().await else {
            return Ok(false);
        };
        let Ok(plans) = billing_plans::ids(&mut conn).await else {
            return Ok(false);
        };
        if plans.contains(&self.default_plan) {
            return Ok(true);
        }
        Err(Error::invalid(
            "ENCLII_BILLING_DEFAULT_PLAN",
            format!(
                "{:?} is not a plan in billing_plans (plans: {})",
                self.default_plan,
                plans.join(", ")
            ),
        ))
    }
}

impl ControlPlane {
    /// The billing settings (the default plan).
    #[must_use]
    pub fn with_billing(mut self, billing: BillingSettings) -> Self {
        std::sync::Arc::make_mut(&mut self.inner).billing = billing;
        self
    }

    /// The month-to-date usage of project `slug`, or of every project the caller belongs to.
    pub async fn usage_report(
        &self,
        principal: &Principal,
        project: Option<&str>,
    ) -> Result<UsageReport, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let ids = match project {
            Some(slug) => {
                let found = self
                    .authorize(&mut conn, principal, slug, None, Need::Read)
                    .await?;
                vec![found.project.id]
            }
            None => projects::visible_ids(&mut conn, principal.user_id).await?,
        };
        let now = OffsetDateTime::now_utc();
        let from = month_start(now);
        let default_plan = &self.inner.billing.default_plan;
        let plans = billing_plans::plans_of(&mut conn, &ids, default_plan).await?;
        if let Some(missing) = plans.iter().find(|p| !p.exists) {
            return Err(Error::internal(
                "pricing usage",
                format!(
                    "billing plan {:?} does not exist (check ENCLII_BILLING_DEFAULT_PLAN and billing_subscriptions)",
                    missing.id
                ),
            ));
        }
        // Hours the periodic aggregation wrote are read; the rest of the month (the current
        // hour so far, and an hour that just ended and is not aggregated yet) is computed from
        // the ledger now and not stored.
        let aggregated_until = usage::watermark(&mut conn)
            .await?
            .map_or(from, |w| w + Duration::HOUR)
            .clamp(from, floor_hour(now));
        let mut usage_of: BTreeMap<Uuid, Usage> = BTreeMap::new();
        for t in usage::totals(&mut conn, &ids, from, aggregated_until).await? {
            if let Some(metric) = Metric::parse(&t.metric) {
                usage_of
                    .entry(t.project_id)
                    .or_default()
                    .add(metric, t.sum_micro, t.peak_micro);
            }
        }
        for id in &ids {
            let project = ProjectId::from_uuid(*id);
            let live = Ledger::explain(&mut conn, project, aggregated_until, now, now).await?;
            for ((_, metric), contributions) in live {
                let hour: i64 = contributions.iter().map(|c| c.quantity_micro).sum();
                usage_of.entry(*id).or_default().add(metric, hour, hour);
            }
        }
        let bills: Vec<Bill> = plans
            .iter()
            .map(|row| {
                pricing::bill(
                    &plan_of(row),
                    &usage_of.get(&row.project_id).copied().unwrap_or_default(),
                )
            })
            .collect();
        let names: BTreeSet<&str> = bills.iter().map(|b| b.plan_name.as_str()).collect();
        let plan_name = match names.len() {
            0 => default_plan.clone(),
            1 => names.into_iter().next().unwrap_or_default().to_owned(),
            _ => "Multiple plans".to_owned(),
        };
        let (mut lines, usage_cents, base_cents) = combine(&bills);
        if lines.is_empty() {
            let plan = Plan {
                id: default_plan.clone(),
                name: default_plan.clone(),
                base_price_micro: 0,
                included_compute_micro: Some(0),
                included_build_micro: Some(0),
                included_storage_micro: Some(0),
                included_bandwidth_micro: Some(0),
                included_domains: Some(0),
                price_compute_micro: 0,
                price_build_micro: 0,
                price_storage_micro: 0,
                price_bandwidth_micro: 0,
            };
            lines = pricing::bill(&plan, &Usage::default()).lines;
        }
        Ok(UsageReport {
            period_start: from,
            period_end: now,
            plan_name,
            lines,
            usage_cents,
            base_cents,
        })
    }

    /// The hourly lines of project `slug` in `[from, to)` (default: this month so far), each
    /// with the stretches and builds it sums and the events behind them.
    pub async fn usage_ledger(
        &self,
        principal: &Principal,
        slug: &str,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
    ) -> Result<LedgerReport, Error> {
        let now = OffsetDateTime::now_utc();
        let to = floor_hour(to.unwrap_or(now)) + Duration::HOUR;
        let from = floor_hour(from.unwrap_or_else(|| month_start(now)));
        if from >= to {
            return Err(Error::invalid("from", "must be before to"));
        }
        if (to - from).whole_hours() > MAX_LEDGER_HOURS {
            return Err(Error::invalid(
                "from",
                format!("at most {MAX_LEDGER_HOURS} hours at once"),
            ));
        }
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let project = self
            .authorize(&mut conn, principal, slug, None, Need::Read)
            .await?
            .project;
        let rows = usage::hourly(&mut conn, &[project.id], from, to).await?;
        let mut explained =
            Ledger::explain(&mut conn, ProjectId::from_uuid(project.id), from, to, now).await?;
        let mut wanted = BTreeSet::new();
        for sources in explained.values() {
            for c in sources {
                match &c.source {
                    Source::Interval {
                        start_event,
                        end_event,
                        ..
                    } => {
                        wanted.insert(*start_event);
                        wanted.extend(*end_event);
                    }
                    Source::Build { event, .. } => {
                        wanted.insert(*event);
                    }
                }
            }
        }
        let wanted: Vec<Uuid> = wanted.into_iter().collect();
        let events: BTreeMap<Uuid, UsageEvent> = usage::events_by_ids(&mut conn, &wanted)
            .await?
            .into_iter()
            .map(|r| (r.id, UsageEvent::from(r)))
            .collect();
        let lines = rows
            .into_iter()
            .filter_map(|row| {
                let metric = Metric::parse(&row.metric)?;
                let sources = explained
                    .remove(&(row.hour, metric))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| {
                        let ids: Vec<Uuid> = match &c.source {
                            Source::Interval {
                                start_event,
                                end_event,
                                ..
                            } => std::iter::once(*start_event).chain(*end_event).collect(),
                            Source::Build { event, .. } => vec![*event],
                        };
                        LedgerSource {
                            events: ids
                                .iter()
                                .filter_map(|id| events.get(id).cloned())
                                .collect(),
                            contribution: c,
                        }
                    })
                    .collect();
                Some(LedgerLine {
                    hour: row.hour,
                    metric,
                    quantity_micro: row.quantity_micro,
                    sources,
                })
            })
            .collect();
        Ok(LedgerReport {
            project: project.slug,
            from,
            to,
            lines,
        })
    }

    /// Aggregates `hour` (default: the current one, up to now) for every project at once.
    /// Platform admins only. Returns the hour and the rows written.
    pub async fn billing_aggregate(
        &self,
        principal: &Principal,
        hour: Option<OffsetDateTime>,
    ) -> Result<(OffsetDateTime, usize), Error> {
        if !principal.is_platform_admin() {
            return Err(Error::Forbidden);
        }
        let now = OffsetDateTime::now_utc();
        let hour = floor_hour(hour.unwrap_or(now));
        if hour > now {
            return Err(Error::invalid("hour", "must not be in the future"));
        }
        let rows = Ledger::new(self.pool().clone(), false)
            .aggregate_hour(hour, now)
            .await?;
        tracing::info!(hour = %hour, rows, "usage hour aggregated on request");
        Ok((hour, rows))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_period_starts_at_the_first_of_the_month_utc() {
        assert_eq!(
            month_start(datetime!(2026-11-23 10:20:30 UTC)),
            datetime!(2026-11-01 00:00 UTC)
        );
    }
}
