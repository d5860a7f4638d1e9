//! Billing settings: the plan of projects without a subscription, and the optional external
//! Waybill every recorded usage event is forwarded to.

use secrecy::SecretString;
use switchyard_core::BillingSettings;

use super::Reader;

#[derive(Debug, Clone)]
pub struct BillingConfig {
    /// `ENCLII_BILLING_DEFAULT_PLAN` (default `pro`, the plan the original's `/v1/usage` showed).
    pub default_plan: String,
    /// `ENCLII_WAYBILL_URL`: forward usage events to `<url>/internal/events/batch` when set.
    pub waybill_url: Option<String>,
    /// `ENCLII_WAYBILL_API_KEY[_FILE]`: sent as `X-API-Key`.
    pub waybill_key: Option<SecretString>,
}

impl BillingConfig {
    pub fn settings(&self) -> BillingSettings {
        BillingSettings {
            default_plan: self.default_plan.clone(),
        }
    }
}

pub(super) fn billing(r: &mut Reader<'_>) -> BillingConfig {
    let default_plan = r
        .get("ENCLII_BILLING_DEFAULT_PLAN")
        .unwrap_or("pro")
        .to_owned();
    if default_plan.is_empty()
        || !default_plan
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        r.errors.push(format!(
            "ENCLII_BILLING_DEFAULT_PLAN: expected a plan id such as hobby, pro or team, got {default_plan:?}"
        ));
    }
    let waybill_url = r
        .get("ENCLII_WAYBILL_URL")
        .map(|u| u.trim_end_matches('/').to_owned());
    if let Some(url) = &waybill_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        r.errors.push(format!(
            "ENCLII_WAYBILL_URL: expected an http(s) URL, got {url:?}"
        ));
    }
    BillingConfig {
        default_plan,
        waybill_url,
        waybill_key: r.secret("ENCLII_WAYBILL_API_KEY"),
    }
}

/// The billing settings for `config check`.
pub(crate) fn report(config: &BillingConfig) -> Vec<(&'static str, String)> {
    vec![
        ("ENCLII_BILLING_DEFAULT_PLAN", config.default_plan.clone()),
        (
            "ENCLII_WAYBILL_URL",
            config
                .waybill_url
                .clone()
                .unwrap_or_else(|| "(not set: no forwarding)".to_owned()),
        ),
        (
            "ENCLII_WAYBILL_API_KEY",
            if config.waybill_key.is_some() {
                "(set)"
            } else {
                "(not set)"
            }
            .to_owned(),
        ),
    ]
}
