//! Billing's part of the worker: the `usage` consumer (the ledger), the aggregation and
//! reconciliation loop, and, when `ENCLII_WAYBILL_URL` is set, the `waybill` forwarder.

use std::{sync::Arc, time::Duration};

use switchyard_billing::Ledger;
use switchyard_core::BillingDispatch;
use switchyard_db::PgPool;
use switchyard_worker::{
    BillingLoop, Worker,
    jobs::{
        usage::UsageJob,
        waybill::{Waybill, WaybillJob},
    },
};

use crate::config::BillingConfig;

/// How often usage is aggregated and reconciled.
const BILLING_INTERVAL: Duration = Duration::from_secs(60);
/// How old a disagreement between ledger and deployments must be before it is corrected.
const RECONCILE_GRACE: Duration = Duration::from_secs(120);

/// `worker` with the billing consumer, loop and (when configured) Waybill forwarding.
pub fn with_billing(
    worker: Worker,
    pool: PgPool,
    config: &BillingConfig,
) -> anyhow::Result<Worker> {
    let forward = config.waybill_url.is_some();
    let ledger = Ledger::new(pool.clone(), forward);
    let mut worker = worker
        .with_job(Arc::new(UsageJob::new(ledger.clone())))
        .with_billing(BillingLoop {
            ledger,
            dispatch: BillingDispatch::new(pool),
            interval: BILLING_INTERVAL,
            grace: RECONCILE_GRACE,
        });
    if let Some(url) = &config.waybill_url {
        worker = worker.with_job(Arc::new(WaybillJob::new(Waybill {
            url: url.clone(),
            key: config.waybill_key.clone(),
        })?));
    }
    Ok(worker)
}
