//! Test harness (dev-dependency only): one private PostgreSQL and Redis shared by every test
//! process of a run, a template database migrated once and cloned per test, a Redis key prefix
//! per test, `TestApp`, the real router on a real socket, and `OidcProvider`, a real OpenID
//! Provider (npm `oidc-provider`) for browser sign-in.
//!
//! `TEST_DATABASE_URL` (a server where we may create databases) and `TEST_REDIS_URL` replace the
//! private servers, e.g. for `docker compose up`.
#![expect(
    clippy::expect_used,
    reason = "a harness that cannot start should fail the test loudly"
)]

mod app;
mod db;
pub mod oidc_provider;
mod services;

pub use app::{
    TEST_ENVVAR_KEY, TEST_GITHUB_SECRET, TEST_ROUNDHOUSE_KEY, TEST_SIGNING_KEY, TestApp,
    TestAppBuilder, auth_settings, envvar_keys, test_auth_config,
};
pub use db::TestDb;
pub use oidc_provider::OidcProvider;
pub use services::{Services, services};
