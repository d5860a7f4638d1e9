//! `/v1/usage`, `/v1/usage/costs`, `/v1/projects/:slug/usage/ledger` and the admin-only
//! `POST /v1/admin/billing/aggregate`.

pub(crate) mod dto;
pub(crate) mod handlers;
