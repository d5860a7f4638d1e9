//! Why a render refuses: an input that would produce an object Kubernetes rejects. Messages name
//! the offending name or key, never a variable's value.

/// A render that would emit an invalid object.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A name (of an object, a host, a volume…) breaks the Kubernetes rule for its kind.
    #[error("{what} {value:?} is not valid: {rule}")]
    InvalidName {
        what: &'static str,
        value: String,
        rule: &'static str,
    },
    /// A label value is longer than 63 characters or has characters labels refuse.
    #[error(
        "label {key} cannot hold {value:?}: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    )]
    InvalidLabelValue { key: &'static str, value: String },
    /// An environment variable name that is not a C identifier.
    #[error(
        "environment variable {name:?} is not a valid name: letters, digits and '_', not starting with a digit"
    )]
    InvalidVariableName { name: String },
    /// The same name among the plain and the secret variables.
    #[error("environment variable {name} is both a plain and a secret variable")]
    DuplicateVariable { name: String },
    /// A CPU, memory or storage amount that is not a Kubernetes quantity.
    #[error("{field} {value:?} is not a Kubernetes quantity")]
    InvalidQuantity { field: &'static str, value: String },
    /// A number too large for the field of the object.
    #[error("{field} {value} is out of range")]
    OutOfRange { field: &'static str, value: String },
    /// The release's image reference is empty or has white space.
    #[error("image {image:?} is not a valid image reference")]
    InvalidImage { image: String },
    /// A typed object that could not become JSON (a bug, not an input error).
    #[error("serialising {kind} {name}")]
    Serialize {
        kind: &'static str,
        name: String,
        #[source]
        source: serde_json::Error,
    },
}
