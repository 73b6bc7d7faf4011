//! The fields of a project as parsed values.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldError;

/// A project's or a section's name: 1–100 characters on one line, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
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

    /// Whether two names are the same name: names ignore case, as their unique index does.
    pub fn same(&self, other: &str) -> bool {
        self.0.to_lowercase() == other.to_lowercase()
    }
}

/// The web app's palette; the `project.color` check constraint lists the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProjectColor {
    #[default]
    Grey,
    Red,
    Orange,
    Yellow,
    Green,
    Teal,
    Blue,
    Purple,
    Pink,
}

impl ProjectColor {
    pub const ALL: [Self; 9] = [
        Self::Grey,
        Self::Red,
        Self::Orange,
        Self::Yellow,
        Self::Green,
        Self::Teal,
        Self::Blue,
        Self::Purple,
        Self::Pink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grey => "grey",
            Self::Red => "red",
            Self::Orange => "orange",
            Self::Yellow => "yellow",
            Self::Green => "green",
            Self::Teal => "teal",
            Self::Blue => "blue",
            Self::Purple => "purple",
            Self::Pink => "pink",
        }
    }
}

impl std::str::FromStr for ProjectColor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| format!("unknown project colour `{s}`"))
    }
}

/// What deleting a project does with its tasks: the request must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum TasksOnDelete {
    /// Every task of the project moves to the Inbox, out of any section.
    MoveToInbox,
    /// Every task of the project is deleted.
    Delete,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_name_their_field() {
        assert_eq!(ProjectName::parse("name", "  Work ").unwrap().as_str(), "Work");
        assert_eq!(ProjectName::parse("sections[1].name", " ").unwrap_err().field, "sections[1].name");
        assert!(ProjectName::parse("name", &"é".repeat(100)).is_ok());
        assert!(ProjectName::parse("name", &"é".repeat(101)).is_err());
        assert!(ProjectName::parse("name", "two\nlines").is_err());
        assert!(ProjectName::parse("name", "Work").unwrap().same("wORK"));
    }

    #[test]
    fn colours_read_back_as_written() {
        for colour in ProjectColor::ALL {
            assert_eq!(colour.as_str().parse::<ProjectColor>(), Ok(colour));
            assert_eq!(serde_json::to_value(colour).unwrap(), colour.as_str());
        }
        assert!("magenta".parse::<ProjectColor>().is_err());
    }
}
