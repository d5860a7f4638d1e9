//! User input about people, parsed once at the edge: after `Email::parse` the value is a
//! plausible address, after `Password::parse` a password of acceptable length.

use std::fmt;

use crate::Error;

/// An e-mail address: trimmed, 3–254 characters, one `@` with text on both sides and a dot in the
/// domain. Compared case-insensitively by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let email = raw.trim();
        let invalid = || Error::invalid("email", "must be a valid e-mail address");
        if !(3..=254).contains(&email.len()) || email.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid());
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: 8–72 bytes (the original's bounds). `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: String) -> Result<Self, Error> {
        if !(8..=72).contains(&raw.len()) {
            return Err(Error::invalid(
                "password",
                "must be between 8 and 72 bytes long",
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(****)")
    }
}

/// A display name: at most 100 characters, trimmed.
pub fn parse_name(raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if name.chars().count() > 100 {
        return Err(Error::invalid("name", "must be at most 100 characters"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", " Dev@Example.com ", "x.y+z@sub.example.org"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Email::parse(" a@b.co ").unwrap().as_str(), "a@b.co");
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "a",
            "a@",
            "@b.co",
            "a@b",
            "a@@b.co",
            "a b@c.co",
            "a@.co",
            "a@co.",
            long.as_str(),
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_input", "{bad}");
        }
    }

    #[test]
    fn passwords_and_names() {
        assert!(Password::parse("12345678".into()).is_ok());
        assert!(Password::parse("1234567".into()).is_err());
        assert!(Password::parse("x".repeat(73)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("supersecret".into()).unwrap()),
            "Password(****)"
        );
        assert_eq!(parse_name("  Ada  ").unwrap(), "Ada");
        assert!(parse_name(&"n".repeat(101)).is_err());
    }
}
