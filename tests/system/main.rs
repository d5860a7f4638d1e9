//! System tests: the real API over a real socket against real PostgreSQL and Redis (started by
//! `switchyard-testkit`), the migration outage scenarios, and the OpenAPI drift check.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test loudly")]

mod architecture;
mod auth;
mod billing;
mod billing_chaos;
mod billing_reconcile;
mod billing_reports;
mod billing_sweeps;
mod build_chaos;
mod build_status;
mod builds;
mod checksums;
mod dashboard;
mod deploy_plan;
mod deployments;
mod dns_support;
mod domain_render;
mod domain_rules;
mod domain_verify;
mod domains;
mod env_var_rules;
mod env_var_secrets;
mod env_var_support;
mod env_vars;
mod external;
mod github;
mod health;
mod http;
mod idempotency;
mod invitations;
mod jobs;
mod jobs_outage;
mod jobs_support;
mod leadership;
mod logs;
mod logs_support;
mod logs_ws;
mod migrations;
mod oidc;
mod oidc_silent;
mod openapi;
mod projects;
mod rate_limits;
mod reconcile;
mod reconcile_chaos;
mod refresh;
mod roundhouse;
mod services;
mod support;
mod team_support;
mod teams;
mod tenancy;
mod tenancy_routes;
mod tokens;
