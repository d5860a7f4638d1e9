//! The Secret `{service}-secrets` holding the decrypted secret variables. The only object that
//! carries their values; the Deployment references them by key.

use k8s_openapi::{ByteString, api::core::v1::Secret};
use secrecy::ExposeSecret;

use super::{Context, object};
use crate::{Object, RenderError};

/// `{service}-secrets`, the name the Deployment's `secretKeyRef`s use.
pub(super) fn secret_name(cx: &Context<'_>) -> Result<String, RenderError> {
    cx.child_name("secret name", "secrets")
}

/// An Opaque Secret with base64 `data` (not `stringData`: the API server keeps only `data`, so
/// this is what a read-back returns and what server-side apply can own key by key). `None` when
/// the service has no secret variables.
pub(super) fn secret(cx: &Context<'_>) -> Result<Option<Object>, RenderError> {
    if cx.input.secrets.is_empty() {
        return Ok(None);
    }
    let data = cx
        .input
        .secrets
        .iter()
        .map(|(key, value)| {
            crate::names::variable(key)?;
            Ok((
                key.clone(),
                ByteString(value.expose_secret().as_bytes().to_vec()),
            ))
        })
        .collect::<Result<_, RenderError>>()?;
    object(&Secret {
        metadata: cx.meta(&secret_name(cx)?),
        type_: Some("Opaque".into()),
        data: Some(data),
        ..Secret::default()
    })
    .map(Some)
}
