//! A host name as custom domains use it: lower-case ASCII (an internationalized name becomes its
//! punycode A-labels), at least two labels of letters, digits and hyphens, no wildcard, no
//! trailing dot, at most 253 characters with labels of at most 63. Parsed once at the edge;
//! after that the type keeps the rules.

use std::fmt;

use crate::Error;

/// Longest host name (RFC 1035 §2.3.4, without the root's dot).
pub const MAX_HOSTNAME_LEN: usize = 253;
/// Longest label.
pub const MAX_LABEL_LEN: usize = 63;

/// A valid, lower-case, ASCII host name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hostname(String);

impl Hostname {
    /// `raw` (surrounding spaces ignored, any case) as a host name; `field` names it in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, Error> {
        let raw = raw.trim();
        let invalid = |message: String| Error::invalid(field, message);
        if raw.is_empty() {
            return Err(invalid("is required".into()));
        }
        if raw.contains('*') {
            return Err(invalid(
                "wildcard domains are not supported: add each host name".into(),
            ));
        }
        if raw.ends_with('.') {
            return Err(invalid(format!(
                "must not end with a dot: write {}",
                raw.trim_end_matches('.')
            )));
        }
        let ascii = if raw.is_ascii() {
            raw.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(raw).map_err(|_| {
                invalid(
                    "is not a valid internationalized domain name (write it in punycode, \
                     xn--…, or check its characters)"
                        .into(),
                )
            })?
        };
        check_syntax(&ascii).map_err(invalid)?;
        Ok(Self(ascii))
    }

    /// A name read back from storage, where only parsed names are written.
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this name lies strictly below `parent` at a label boundary: `a.enclii.dev` is
    /// under `enclii.dev`; `enclii.dev` itself and `evil-enclii.dev` are not.
    pub fn is_strictly_under(&self, parent: &Self) -> bool {
        self.0
            .strip_suffix(parent.as_str())
            .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
    }

    /// This name or any name below it.
    pub fn covers(&self, other: &Self) -> bool {
        other == self || other.is_strictly_under(self)
    }

    /// The leftmost label (`shop` of `shop.example.com`).
    pub fn first_label(&self) -> &str {
        self.0.split('.').next().unwrap_or_default()
    }

    /// How many labels the name has.
    pub fn labels(&self) -> usize {
        self.0.split('.').count()
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The syntax rules on a lower-case ASCII name; the error is the message.
fn check_syntax(name: &str) -> Result<(), String> {
    if name.len() > MAX_HOSTNAME_LEN {
        return Err(format!("must be at most {MAX_HOSTNAME_LEN} characters"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    for label in &labels {
        check_label(label)?;
    }
    if labels.len() < 2 {
        return Err("must be a fully qualified name such as app.example.com".into());
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("must be a domain name, not an IP address".into());
    }
    if labels.iter().any(|l| l.starts_with("xn--"))
        && idna::domain_to_ascii_strict(name).ok().as_deref() != Some(name)
    {
        return Err("contains a label that is not valid punycode (xn--…)".into());
    }
    Ok(())
}

/// One label's rules: 1 to 63 letters, digits and hyphens, not starting or ending with one.
fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("must not contain an empty label (two dots in a row, or a leading dot)".into());
    }
    let ldh = label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ldh || label.starts_with('-') || label.ends_with('-') {
        return Err(format!(
            "label {label:?} must contain only letters, digits and hyphens, and not start or end with a hyphen"
        ));
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(format!(
            "label {label:?} is longer than {MAX_LABEL_LEN} characters"
        ));
    }
    Ok(())
}

/// `raw` (any case) as one lower-case label, e.g. the name a platform domain is given under the
/// platform's domain; `field` names it in the error.
pub fn parse_label(raw: &str, field: &str) -> Result<String, Error> {
    let label = raw.trim().to_ascii_lowercase();
    check_label(&label).map_err(|m| Error::invalid(field, m))?;
    Ok(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<String, String> {
        Hostname::parse(raw, "domain")
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn names_are_lower_cased_and_internationalized_names_become_punycode() {
        assert_eq!(parse(" Shop.Example.COM ").unwrap(), "shop.example.com");
        assert_eq!(parse("bücher.example").unwrap(), "xn--bcher-kva.example");
        assert_eq!(
            parse("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(parse("a-1.b2.io").unwrap(), "a-1.b2.io");
    }

    #[test]
    fn every_rule_is_enforced() {
        let long_label = format!("{}.example.com", "a".repeat(64));
        let long_name = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        for (bad, says) in [
            ("", "required"),
            ("*.example.com", "wildcard"),
            ("shop.example.com.", "must not end with a dot"),
            ("localhost", "fully qualified"),
            ("shop..example.com", "empty label"),
            (".example.com", "empty label"),
            ("-shop.example.com", "hyphen"),
            ("shop-.example.com", "hyphen"),
            ("shop_1.example.com", "letters, digits and hyphens"),
            ("shop example.com", "letters, digits and hyphens"),
            ("https://shop.example.com", "letters, digits and hyphens"),
            ("10.0.0.1", "IP address"),
            (long_label.as_str(), "longer than 63"),
            (long_name.as_str(), "at most 253"),
            ("xn--zz.example", "punycode"),
            ("bad\u{0}ü.example", "internationalized"),
        ] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }

    #[test]
    fn under_means_strictly_below_at_a_label_boundary() {
        let host = |s| Hostname::parse(s, "domain").unwrap();
        let platform = host("enclii.dev");
        assert!(host("shop.enclii.dev").is_strictly_under(&platform));
        assert!(host("a.b.enclii.dev").is_strictly_under(&platform));
        assert!(!host("enclii.dev").is_strictly_under(&platform));
        assert!(!host("evil-enclii.dev").is_strictly_under(&platform));
        assert!(!host("enclii.dev.evil.com").is_strictly_under(&platform));
        assert!(platform.covers(&host("enclii.dev")));
        assert!(platform.covers(&host("x.enclii.dev")));
        assert!(!platform.covers(&host("xenclii.dev")));
        assert_eq!(host("shop.example.com").first_label(), "shop");
        assert_eq!(host("shop.example.com").labels(), 3);
    }
}
