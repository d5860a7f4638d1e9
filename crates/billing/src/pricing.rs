//! Plans and the bill of a period. Prices are integer micro-dollars per unit (the seeded
//! $0.000463 per GB-hour is 463), quantities millionths of a unit, so a line's cost is exact
//! until it is rounded, half up, to whole cents once; the total is the sum of the rounded lines.
//! Storage is billed per GB-month: GB-hours / 720 (the original multiplied by the period's
//! hours as well, which was wrong by that factor).

use crate::{MICRO, Metric};

/// Hours in the billing month that storage prices assume.
pub const HOURS_PER_MONTH: i64 = 720;

/// A plan, from the `billing_plans` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub base_price_micro: i64,
    /// Included quantities in millionths (storage in GB-months); `None` = unlimited.
    pub included_compute_micro: Option<i64>,
    pub included_build_micro: Option<i64>,
    pub included_storage_micro: Option<i64>,
    pub included_bandwidth_micro: Option<i64>,
    pub included_domains: Option<i64>,
    /// Micro-dollars per unit (GB-hour, build minute, GB-month, GB, domain).
    pub price_compute_micro: i64,
    pub price_build_micro: i64,
    pub price_storage_micro: i64,
    pub price_bandwidth_micro: i64,
}

/// What a period used, in millionths: sums of the hourly quantities, except custom domains (the
/// most attached in any hour).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub compute_gb_hours: i64,
    pub build_minutes: i64,
    pub storage_gb_hours: i64,
    pub bandwidth_gb: i64,
    pub custom_domains: i64,
}

impl Usage {
    pub fn add(&mut self, metric: Metric, sum: i64, peak: i64) {
        match metric {
            Metric::ComputeGbHours => self.compute_gb_hours += sum,
            Metric::BuildMinutes => self.build_minutes += sum,
            Metric::StorageGbHours => self.storage_gb_hours += sum,
            Metric::BandwidthGb => self.bandwidth_gb += sum,
            Metric::CustomDomains => self.custom_domains = self.custom_domains.max(peak),
        }
    }
}

/// One line of a bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillLine {
    pub metric: Metric,
    pub label: &'static str,
    pub unit: &'static str,
    /// In millionths of `unit`.
    pub used_micro: i64,
    /// `None` = unlimited.
    pub included_micro: Option<i64>,
    pub price_micro: i64,
    pub cost_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    pub plan_id: String,
    pub plan_name: String,
    pub lines: Vec<BillLine>,
    pub usage_cents: i64,
    pub base_cents: i64,
}

impl Bill {
    pub fn grand_total_cents(&self) -> i64 {
        self.usage_cents + self.base_cents
    }
}

/// Micro-dollars → cents, half up.
pub fn micro_dollars_to_cents(micro: i128) -> i64 {
    i64::try_from((micro + 5_000) / 10_000).unwrap_or(i64::MAX)
}

/// (used − included, at least 0) × price, in cents.
fn cost_cents(used_micro: i64, included_micro: Option<i64>, price_micro: i64) -> i64 {
    let Some(included) = included_micro else {
        return 0;
    };
    let over = i128::from((used_micro - included).max(0));
    micro_dollars_to_cents(over * i128::from(price_micro) / i128::from(MICRO))
}

/// The bill of `usage` on `plan`.
pub fn bill(plan: &Plan, usage: &Usage) -> Bill {
    let storage_gb_months = (usage.storage_gb_hours + HOURS_PER_MONTH / 2) / HOURS_PER_MONTH;
    let domains = plan.included_domains.map(|d| d.saturating_mul(MICRO));
    let specs = [
        (
            Metric::ComputeGbHours,
            "Compute",
            "GB-hours",
            usage.compute_gb_hours,
            plan.included_compute_micro,
            plan.price_compute_micro,
        ),
        (
            Metric::BuildMinutes,
            "Build minutes",
            "minutes",
            usage.build_minutes,
            plan.included_build_micro,
            plan.price_build_micro,
        ),
        (
            Metric::StorageGbHours,
            "Storage",
            "GB-months",
            storage_gb_months,
            plan.included_storage_micro,
            plan.price_storage_micro,
        ),
        (
            Metric::BandwidthGb,
            "Bandwidth",
            "GB",
            usage.bandwidth_gb,
            plan.included_bandwidth_micro,
            plan.price_bandwidth_micro,
        ),
        // Custom domains are free (Waybill's calculator); the plan's allowance is shown.
        (
            Metric::CustomDomains,
            "Custom domains",
            "domains",
            usage.custom_domains,
            domains,
            0,
        ),
    ];
    let lines: Vec<BillLine> = specs
        .into_iter()
        .map(|(metric, label, unit, used, included, price)| BillLine {
            metric,
            label,
            unit,
            used_micro: used,
            included_micro: included,
            price_micro: price,
            cost_cents: cost_cents(used, included, price),
        })
        .collect();
    Bill {
        plan_id: plan.id.clone(),
        plan_name: plan.name.clone(),
        usage_cents: lines.iter().map(|l| l.cost_cents).sum(),
        base_cents: micro_dollars_to_cents(i128::from(plan.base_price_micro)),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn hobby() -> Plan {
        Plan {
            id: "hobby".into(),
            name: "Hobby".into(),
            base_price_micro: 5_000_000,
            included_compute_micro: Some(500 * MICRO),
            included_build_micro: Some(500 * MICRO),
            included_storage_micro: Some(MICRO),
            included_bandwidth_micro: Some(100 * MICRO),
            included_domains: Some(1),
            price_compute_micro: 463,
            price_build_micro: 10_000,
            price_storage_micro: 250_000,
            price_bandwidth_micro: 100_000,
        }
    }

    #[test]
    fn only_overage_costs_and_each_line_rounds_to_cents_once() {
        let usage = Usage {
            compute_gb_hours: 10_500 * MICRO, // 10 000 over × $0.000463 = $4.63
            build_minutes: 520 * MICRO + 500_000, // 20.5 over × $0.01 = $0.205 → 21 ¢
            storage_gb_hours: 3 * 720 * MICRO, // 3 GB-months, 2 over × $0.25 = $0.50
            bandwidth_gb: 0,
            custom_domains: 3 * MICRO,
        };
        let b = bill(&hobby(), &usage);
        let cents: Vec<i64> = b.lines.iter().map(|l| l.cost_cents).collect();
        assert_eq!(cents, [463, 21, 50, 0, 0]);
        assert_eq!(
            b.lines[2].used_micro,
            3 * MICRO,
            "GB-hours / 720, not × the period"
        );
        assert_eq!(
            (b.usage_cents, b.base_cents, b.grand_total_cents()),
            (534, 500, 1034)
        );
    }

    #[test]
    fn unlimited_allowances_cost_nothing() {
        let mut plan = hobby();
        plan.included_compute_micro = None;
        let usage = Usage {
            compute_gb_hours: 1_000_000 * MICRO,
            ..Usage::default()
        };
        assert_eq!(bill(&plan, &usage).usage_cents, 0);
    }
}
