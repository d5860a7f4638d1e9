//! Bodies of the env var routes: the original `EnvVar` (secrets masked as `"••••••••"` unless
//! revealed), its list envelope, and the request shapes (parsed by `switchyard-domain`; the
//! structs here describe them for OpenAPI).

use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use switchyard_core::{EnvVar, PageRequest};
use switchyard_domain::{EnvironmentId, Error};
use utoipa::{IntoParams, ToSchema};

use crate::{ApiError, routes::auth::dto::rfc3339};

/// What a secret's value reads as outside a reveal (the original's mask).
pub(crate) const MASK: &str = "••••••••";

/// An environment variable.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EnvVarView {
    id: String,
    service_id: String,
    /// Absent: the variable applies to every environment of the service.
    #[serde(skip_serializing_if = "Option::is_none")]
    environment_id: Option<String>,
    key: String,
    /// `"••••••••"` for a secret, except in the answer of `reveal`.
    value: String,
    is_secret: bool,
    created_at: String,
    updated_at: String,
}

impl From<EnvVar> for EnvVarView {
    fn from(v: EnvVar) -> Self {
        Self {
            id: v.id.to_string(),
            service_id: v.service_id.to_string(),
            environment_id: v.environment_id.map(|e| e.to_string()),
            key: v.key,
            value: v
                .value
                .map_or_else(|| MASK.to_owned(), |s| s.expose_secret().to_owned()),
            is_secret: v.is_secret,
            created_at: rfc3339(v.created_at),
            updated_at: rfc3339(v.updated_at),
        }
    }
}

/// `{environment_variables: [...]}`, never `null`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EnvVarList {
    pub(crate) environment_variables: Vec<EnvVarView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

/// The bulk answer: the original's `{message, count}` and the variables the CLI reads.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BulkUpserted {
    pub(crate) message: String,
    pub(crate) count: usize,
    pub(crate) environment_variables: Vec<EnvVarView>,
}

/// Parameters of the list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EnvVarListQuery {
    /// The set in effect in this environment: its own variables and the global ones whose key
    /// it does not set. Absent: every variable of the service.
    pub(crate) environment_id: Option<String>,
    /// 1 to 200; default 50.
    pub(crate) limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

impl EnvVarListQuery {
    pub(crate) fn parse(&self) -> Result<(Option<EnvironmentId>, PageRequest), ApiError> {
        let environment = match self.environment_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(raw.parse().map_err(|_| {
                Error::invalid("environment_id", "must be an environment id (UUID)")
            })?),
        };
        Ok((
            environment,
            PageRequest::parse(self.limit, self.cursor.as_deref())?,
        ))
    }
}

/// Create a variable.
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body for OpenAPI; switchyard-domain parses it"
)]
pub(crate) struct EnvVarCreateBody {
    /// `^[A-Za-z_][A-Za-z0-9_]*$`, at most 255 characters.
    key: String,
    /// Not empty, at most 64 KiB.
    value: String,
    /// Absent, `null` or `""`: every environment of the service.
    environment_id: Option<String>,
    /// Default false.
    is_secret: Option<bool>,
}

/// Change a variable: what is given changes, the rest stays (at least one field).
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body for OpenAPI; switchyard-domain parses it"
)]
pub(crate) struct EnvVarUpdateBody {
    key: Option<String>,
    value: Option<String>,
    is_secret: Option<bool>,
}

/// Create or replace up to 100 variables by key, all or none.
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body for OpenAPI; switchyard-domain parses it"
)]
pub(crate) struct EnvVarBulkBody {
    /// Absent: the global variables.
    environment_id: Option<String>,
    /// 1 to 100, distinct keys.
    variables: Vec<EnvVarBulkItem>,
}

#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body for OpenAPI; switchyard-domain parses it"
)]
pub(crate) struct EnvVarBulkItem {
    key: String,
    value: String,
    is_secret: Option<bool>,
}

/// Why the value is needed (recorded in the audit log). The body may be left out.
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body for OpenAPI; switchyard-domain parses it"
)]
pub(crate) struct EnvVarRevealBody {
    /// At most 500 characters.
    reason: Option<String>,
}
