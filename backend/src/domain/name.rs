//! Names people give things, as parsed values.

use super::FieldError;

/// A name people give: a project's, a section's, their own (display name). 1–100 characters
/// on one line, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 100;

    /// `field` names the input in the error (`name`, `sections[2].name`).
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(field, format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(field, "must be a single line without control characters"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_name_their_field() {
        assert_eq!(Name::parse("name", "  Work ").unwrap().as_str(), "Work");
        assert_eq!(Name::parse("sections[1].name", " ").unwrap_err().field, "sections[1].name");
        assert!(Name::parse("name", &"é".repeat(100)).is_ok());
        assert!(Name::parse("name", &"é".repeat(101)).is_err());
        assert!(Name::parse("name", "two\nlines").is_err());
    }
}
