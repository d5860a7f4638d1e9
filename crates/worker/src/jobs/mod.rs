//! The jobs this worker runs, one per outbox topic.

pub mod builds;
pub mod cleanup;
pub mod deployments;
pub mod usage;
pub mod waybill;
