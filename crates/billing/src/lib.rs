//! Billing: the usage event contract shared with Waybill (`event`), what a service is billed as
//! (`workload`), the replay of a resource's events into billable intervals (`replay`), the hour
//! math (`hourly`), plans and prices (`pricing`), and the [`Ledger`] that records events once
//! and aggregates them per hour. Pure code except `ledger`, whose SQL lives in `switchyard-db`.
//! Must not depend on axum, redis or kube.
//!
//! Units: quantities are integers in millionths ("micro": 1 GB-hour = 1 000 000), money is
//! integer micro-dollars while computing and whole cents once a bill line is rounded. No `f64`
//! touches money; `f64` appears only in the Waybill wire format's `metrics` map.

pub mod event;
pub mod hourly;
mod ledger;
pub mod pricing;
mod quantity;
pub mod replay;
pub mod workload;

pub use event::{EventType, UsageEvent};
pub use hourly::{Contribution, Metric, Source, floor_hour};
pub use ledger::{Ledger, Sweep, WAYBILL_TOPIC};
pub use pricing::{Bill, BillLine, Plan};
pub use replay::Interval;
pub use workload::{VolumeSize, Workload};

/// Millionths in one unit.
pub const MICRO: i64 = 1_000_000;
