//! Request bodies into typed values, with the field that did not fit named in the error.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

/// `value` as a `T`; a missing or mistyped field is an `InvalidInput` naming its path (`key`,
/// `variables[2].value`, or `body` for the document itself).
pub fn from_json<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        // A missing field is reported at its parent object: name the field itself.
        let missing = e
            .inner()
            .to_string()
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned);
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name,
            (".", None) => "body".to_owned(),
            (parent, Some(name)) => format!("{parent}.{name}"),
            (path, None) => path.to_owned(),
        };
        Error::InvalidInput {
            message: format!("{field}: {}", e.inner()),
            field: Some(field),
        }
    })
}
