//! Account credentials as parsed values.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use super::FieldError;

/// A syntactically plausible email address, trimmed and lower-cased so that uniqueness in the
/// database is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        let invalid = || FieldError::new(field, "must be an email address like name@example.com");
        if email.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if email.chars().count() > 254 {
            return Err(FieldError::new(field, "must be at most 254 characters"));
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let well_formed = !local.is_empty()
            && !local.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(invalid());
        }
        Ok(Self(email))
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

/// A new password that meets the length rules. Never printed: `Debug` comes from `SecretString`.
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(field: &str, raw: SecretString) -> Result<Self, FieldError> {
        let chars = raw.expose_secret().chars().count();
        if chars < Self::MIN_CHARS {
            return Err(FieldError::new(field, format!("must be at least {} characters", Self::MIN_CHARS)));
        }
        // Argon2 accepts anything, but an unbounded input is a cheap way to burn our CPU.
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(field, format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        let email = Email::parse("email", "  Ada@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
    }

    #[test]
    fn email_without_at_or_dotted_domain_is_rejected() {
        for raw in ["ada", "ada@", "@example.com", "ada@example", "ada@.com", "a da@example.com", ""] {
            let err = Email::parse("email", raw).unwrap_err();
            assert_eq!(err.field, "email", "{raw}");
        }
    }

    #[test]
    fn password_length_is_bounded_on_both_sides() {
        assert!(Password::parse("password", "short".into()).is_err());
        assert!(Password::parse("password", "x".repeat(129).into()).is_err());
        assert!(Password::parse("password", "correct horse".into()).is_ok());
    }
}
