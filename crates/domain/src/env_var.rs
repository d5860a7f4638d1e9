//! Environment variables of a service: the key rule, the value cap, and the bodies of create,
//! update (PUT) and bulk upsert parsed into values that keep those rules. Values are
//! `SecretString`s from the moment they are read, so no `Debug` prints one.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::{EnvironmentId, Error, from_json};

/// Longest key (the original's limit).
pub const MAX_KEY_LEN: usize = 255;
/// Largest value, in bytes of UTF-8.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Most variables in one bulk request (the original's limit).
pub const MAX_BULK_VARIABLES: usize = 100;
/// Longest reason given for revealing a secret.
pub const MAX_REASON_CHARS: usize = 500;

/// A variable's key: `^[A-Za-z_][A-Za-z0-9_]*$`, at most 255 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvKey(String);

impl EnvKey {
    /// `raw` as a key; `field` names it in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, Error> {
        let mut chars = raw.chars();
        let starts_well = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !starts_well || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::invalid(
                field,
                "must start with a letter or _ and contain only letters, digits and _",
            ));
        }
        if raw.len() > MAX_KEY_LEN {
            return Err(Error::invalid(
                field,
                format!("must be at most {MAX_KEY_LEN} characters"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A variable's value: not empty, at most 64 KiB.
#[derive(Debug, Clone)]
pub struct EnvValue(SecretString);

impl EnvValue {
    /// `raw` as a value; `field` names it in the error.
    pub fn parse(raw: SecretString, field: &str) -> Result<Self, Error> {
        let len = raw.expose_secret().len();
        if len == 0 {
            return Err(Error::invalid(field, "must not be empty"));
        }
        if len > MAX_VALUE_BYTES {
            return Err(Error::invalid(
                field,
                format!("must be at most {MAX_VALUE_BYTES} bytes"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// `environment_id` as sent: absent, `null` or `""` mean every environment.
fn environment(raw: Option<&str>) -> Result<Option<EnvironmentId>, Error> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(id) => id
            .parse()
            .map(Some)
            .map_err(|_| Error::invalid("environment_id", "must be an environment id (UUID)")),
    }
}

/// A `required` field that was left out (or `null`).
fn required<T>(value: Option<T>, field: &str) -> Result<T, Error> {
    value.ok_or_else(|| Error::invalid(field, "is required"))
}

#[derive(Deserialize)]
struct CreateBody {
    key: Option<String>,
    value: Option<SecretString>,
    environment_id: Option<String>,
    #[serde(default)]
    is_secret: bool,
}

/// `POST /v1/services/:id/env-vars`.
#[derive(Debug)]
pub struct EnvVarCreate {
    pub key: EnvKey,
    pub value: EnvValue,
    /// `None`: every environment of the service.
    pub environment_id: Option<EnvironmentId>,
    pub is_secret: bool,
}

impl EnvVarCreate {
    pub fn from_json(body: Value) -> Result<Self, Error> {
        let body: CreateBody = from_json(body)?;
        Ok(Self {
            key: EnvKey::parse(&required(body.key, "key")?, "key")?,
            value: EnvValue::parse(required(body.value, "value")?, "value")?,
            environment_id: environment(body.environment_id.as_deref())?,
            is_secret: body.is_secret,
        })
    }
}

#[derive(Deserialize)]
struct UpdateBody {
    key: Option<String>,
    value: Option<SecretString>,
    is_secret: Option<bool>,
}

/// `PUT /v1/services/:id/env-vars/:var_id`: what is given changes, the rest stays.
#[derive(Debug)]
pub struct EnvVarUpdate {
    pub key: Option<EnvKey>,
    pub value: Option<EnvValue>,
    pub is_secret: Option<bool>,
}

impl EnvVarUpdate {
    pub fn from_json(body: Value) -> Result<Self, Error> {
        let body: UpdateBody = from_json(body)?;
        let update = Self {
            key: body.key.map(|k| EnvKey::parse(&k, "key")).transpose()?,
            value: body
                .value
                .map(|v| EnvValue::parse(v, "value"))
                .transpose()?,
            is_secret: body.is_secret,
        };
        if update.key.is_none() && update.value.is_none() && update.is_secret.is_none() {
            return Err(Error::invalid(
                "body",
                "give at least one of key, value and is_secret",
            ));
        }
        Ok(update)
    }
}

#[derive(Deserialize)]
struct BulkBody {
    environment_id: Option<String>,
    variables: Option<Vec<BulkItem>>,
}

#[derive(Deserialize)]
struct BulkItem {
    key: Option<String>,
    value: Option<SecretString>,
    #[serde(default)]
    is_secret: bool,
}

/// One variable of a bulk upsert.
#[derive(Debug)]
pub struct BulkVariable {
    pub key: EnvKey,
    pub value: EnvValue,
    pub is_secret: bool,
}

/// `POST /v1/services/:id/env-vars/bulk`: 1 to 100 variables with distinct keys, all valid (one
/// bad item refuses the whole request, naming it).
#[derive(Debug)]
pub struct EnvVarBulk {
    pub environment_id: Option<EnvironmentId>,
    pub variables: Vec<BulkVariable>,
}

impl EnvVarBulk {
    pub fn from_json(body: Value) -> Result<Self, Error> {
        let body: BulkBody = from_json(body)?;
        let items = required(body.variables, "variables")?;
        if items.is_empty() || items.len() > MAX_BULK_VARIABLES {
            return Err(Error::invalid(
                "variables",
                format!("must list 1 to {MAX_BULK_VARIABLES} variables"),
            ));
        }
        let mut variables: Vec<BulkVariable> = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let field = |name: &str| format!("variables[{i}].{name}");
            let key = EnvKey::parse(&required(item.key, &field("key"))?, &field("key"))?;
            if variables.iter().any(|v| v.key == key) {
                return Err(Error::invalid(
                    field("key"),
                    format!("{} appears more than once", key.as_str()),
                ));
            }
            let value = EnvValue::parse(required(item.value, &field("value"))?, &field("value"))?;
            variables.push(BulkVariable {
                key,
                value,
                is_secret: item.is_secret,
            });
        }
        Ok(Self {
            environment_id: environment(body.environment_id.as_deref())?,
            variables,
        })
    }
}

#[derive(Deserialize)]
struct RevealBody {
    reason: Option<String>,
}

/// The optional `{reason}` of a reveal (`None` body: no reason), trimmed, at most 500
/// characters.
pub fn parse_reason(body: Option<Value>) -> Result<Option<String>, Error> {
    let Some(body) = body else {
        return Ok(None);
    };
    let body: RevealBody = from_json(body)?;
    let reason = body
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        return Err(Error::invalid(
            "reason",
            format!("must be at most {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(e: Error) -> String {
        match e {
            Error::InvalidInput { field, .. } => field.unwrap_or_default(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn keys_follow_the_original_rule() {
        for good in ["A", "_", "DATABASE_URL", "a1_b2", &"K".repeat(255)] {
            assert!(EnvKey::parse(good, "key").is_ok(), "{good}");
        }
        for bad in ["", "1A", "A-B", "A B", "É", "A.B", &"K".repeat(256)] {
            assert_eq!(
                field(EnvKey::parse(bad, "key").unwrap_err()),
                "key",
                "{bad}"
            );
        }
    }

    #[test]
    fn every_create_rule_names_its_field() {
        let cases = [
            (json!({"value": "v"}), "key"),
            (json!({"key": "A"}), "value"),
            (json!({"key": "A", "value": ""}), "value"),
            (
                json!({"key": "A", "value": "x".repeat(MAX_VALUE_BYTES + 1)}),
                "value",
            ),
            (json!({"key": "9", "value": "v"}), "key"),
            (json!({"key": 5, "value": "v"}), "key"),
            (
                json!({"key": "A", "value": "v", "is_secret": "yes"}),
                "is_secret",
            ),
            (
                json!({"key": "A", "value": "v", "environment_id": "prod"}),
                "environment_id",
            ),
            (json!("text"), "body"),
        ];
        for (body, expected) in cases {
            let text = body.to_string();
            let error = EnvVarCreate::from_json(body).unwrap_err();
            assert_eq!(field(error), expected, "{text}");
        }
        let ok = EnvVarCreate::from_json(json!({"key": "A", "value": "v", "environment_id": ""}));
        assert!(
            ok.unwrap().environment_id.is_none(),
            "\"\" means every environment"
        );
    }

    #[test]
    fn bulk_is_all_or_nothing_and_names_the_item() {
        let cases = [
            (json!({}), "variables"),
            (json!({"variables": []}), "variables"),
            (
                json!({"variables": [{"key": "A", "value": "1"}, {"key": "B"}]}),
                "variables[1].value",
            ),
            (
                json!({"variables": [{"key": "A", "value": "1"}, {"key": "A", "value": "2"}]}),
                "variables[1].key",
            ),
            (
                json!({"variables": [{"key": "A", "value": 1}]}),
                "variables[0].value",
            ),
        ];
        for (body, expected) in cases {
            let text = body.to_string();
            assert_eq!(
                field(EnvVarBulk::from_json(body).unwrap_err()),
                expected,
                "{text}"
            );
        }
        let many: Vec<Value> = (0..=MAX_BULK_VARIABLES)
            .map(|i| json!({"key": format!("K{i}"), "value": "v"}))
            .collect();
        let error = EnvVarBulk::from_json(json!({ "variables": many })).unwrap_err();
        assert_eq!(field(error), "variables");
    }

    #[test]
    fn updates_and_reasons() {
        assert_eq!(
            field(EnvVarUpdate::from_json(json!({})).unwrap_err()),
            "body"
        );
        assert_eq!(
            field(EnvVarUpdate::from_json(json!({"value": ""})).unwrap_err()),
            "value"
        );
        assert!(EnvVarUpdate::from_json(json!({"is_secret": true})).is_ok());
        assert_eq!(parse_reason(None).unwrap(), None);
        assert_eq!(parse_reason(Some(json!({}))).unwrap(), None);
        assert_eq!(
            parse_reason(Some(json!({"reason": " debugging "})))
                .unwrap()
                .as_deref(),
            Some("debugging")
        );
        let long = json!({"reason": "x".repeat(MAX_REASON_CHARS + 1)});
        assert_eq!(field(parse_reason(Some(long)).unwrap_err()), "reason");
    }

    #[test]
    fn values_do_not_print() {
        let value = EnvValue::parse(SecretString::from("hunter2".to_owned()), "value").unwrap();
        assert!(!format!("{value:?}").contains("hunter2"));
    }
}
