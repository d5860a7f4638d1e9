//! Test harness (dev-dependency only): one private PostgreSQL and Redis shared by every test
//! process of a run, a template database migrated once and cloned per test, a Redis key prefix
//! per test, and `TestApp`, the real router on a real socket.
//!
//! `TEST_DATABASE_URL` (a server where we may create databases) and `TEST_REDIS_URL` replace the
//! private servers, e.g. for `docker compose up`.
#![expect(
    clippy::expect_used,
    reason = "a harness that cannot start should fail the test loudly"
)]

mod app;
mod db;
mod services;

pub use app::{TEST_SIGNING_KEY, TestApp, TestAppBuilder, auth_settings, test_auth_config};
pub use db::TestDb;
pub use services::{Services, services};
