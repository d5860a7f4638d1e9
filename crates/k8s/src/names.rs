//! Kubernetes' rules for names and label values, checked before an object is emitted.

use crate::RenderError;

const LABEL_RULE: &str =
    "at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit";
const SUBDOMAIN_RULE: &str = "at most 253 characters of lower-case letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit";

fn is_label(value: &str) -> bool {
    (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
}

/// An RFC 1123 label: namespaces, container, port-less volume and pod-level names.
pub(crate) fn dns_label(what: &'static str, value: &str) -> Result<(), RenderError> {
    if is_label(value) {
        Ok(())
    } else {
        Err(invalid(what, value, LABEL_RULE))
    }
}

/// An RFC 1035 label (starts with a letter): Service names, and so the service name itself.
pub(crate) fn dns1035_label(what: &'static str, value: &str) -> Result<(), RenderError> {
    if is_label(value) && value.as_bytes()[0].is_ascii_lowercase() {
        Ok(())
    } else {
        Err(invalid(
            what,
            value,
            "at most 63 lower-case letters, digits or '-', starting with a letter and ending with a letter or digit",
        ))
    }
}

/// An RFC 1123 subdomain: most object names and Ingress hosts.
pub(crate) fn dns_subdomain(what: &'static str, value: &str) -> Result<(), RenderError> {
    let ok = (1..=253).contains(&value.len())
        && value.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(what, value, SUBDOMAIN_RULE))
    }
}

/// A label value: empty, or at most 63 of `[A-Za-z0-9._-]` starting and ending alphanumeric.
pub(crate) fn label_value(key: &'static str, value: &str) -> Result<(), RenderError> {
    let bytes = value.as_bytes();
    let ok = value.is_empty()
        || (value.len() <= 63
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b)));
    if ok {
        Ok(())
    } else {
        Err(RenderError::InvalidLabelValue {
            key,
            value: value.to_owned(),
        })
    }
}

/// An environment variable name as the domain allows it (a C identifier), which is also a valid
/// Secret key.
pub(crate) fn variable(name: &str) -> Result<(), RenderError> {
    let ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RenderError::InvalidVariableName {
            name: name.to_owned(),
        })
    }
}

fn invalid(what: &'static str, value: &str, rule: &'static str) -> RenderError {
    RenderError::InvalidName {
        what,
        value: value.to_owned(),
        rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains_follow_kubernetes() {
        for ok in ["a", "api", "a-1", &"x".repeat(63)] {
            assert!(dns_label("n", ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a.b", "a_b", &"x".repeat(64)] {
            assert!(dns_label("n", bad).is_err(), "{bad:?}");
        }
        assert!(
            dns1035_label("n", "1api").is_err(),
            "RFC 1035 starts with a letter"
        );
        assert!(dns_label("n", "1api").is_ok());
        for ok in ["shop.example.com", "a", &format!("{}.b", "x".repeat(100))] {
            assert!(dns_subdomain("n", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "*.example.com",
            "Shop.example.com",
            &"x".repeat(254),
        ] {
            assert!(dns_subdomain("n", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn label_values_and_variable_names() {
        for ok in ["", "v20260101-120000-abc1234", "1.2.3", "A_b"] {
            assert!(label_value("k", ok).is_ok(), "{ok}");
        }
        for bad in ["-v", "v-", "a b", "a/b", &"x".repeat(64)] {
            assert!(label_value("k", bad).is_err(), "{bad:?}");
        }
        for ok in ["PORT", "_X", "database_url2"] {
            assert!(variable(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1X", "A-B", "A=B", "A B"] {
            assert!(variable(bad).is_err(), "{bad:?}");
        }
    }
}
