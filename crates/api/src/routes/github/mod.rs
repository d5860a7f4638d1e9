//! GitHub's webhook, its delivery log, and Roundhouse's lookup of services by repository.

pub(crate) mod handlers;
