//! Postgres access: the connection pool, the embedded migrations and their runner, and the
//! repository functions (`repo`). Must not depend on axum, redis or kube.

pub mod admin;
mod leader;
pub mod migrate;
mod pool;
pub mod repo;

pub use leader::{KEEPALIVE, LeaderLock};
pub use migrate::{MIGRATOR, MigrateError, MigrateOptions, SchemaReport, SchemaState};
pub use pool::{DbConfig, PoolStats, connect_lazy, parse_url, ping, pool_stats};
pub use sqlx::{Connection, PgPool, migrate::Migrator, postgres::PgConnection};

/// A connection borrowed from the pool (returned when dropped).
pub type PoolConnection = sqlx::pool::PoolConnection<sqlx::Postgres>;

/// A transaction on a pooled connection (rolled back when dropped uncommitted).
pub type Transaction = sqlx::Transaction<'static, sqlx::Postgres>;
