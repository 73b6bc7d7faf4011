//! Task priority, shared by the events and the backend's domain model.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// How urgent a task is.
///
/// Variants are declared from least to most urgent so that the derived `Ord` gives
/// `low < medium < high < urgent`, which is what "sort by priority" means to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    /// New tasks start here when the user picks nothing.
    #[default]
    Medium,
    High,
    Urgent,
}

impl Priority {
    /// Every priority, from least to most urgent.
    pub const ALL: [Self; 4] = [Self::Low, Self::Medium, Self::High, Self::Urgent];

    /// The wire and database spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = ParsePriorityError;

    /// Accepts exactly the spellings serde writes: a case-insensitive parse here would let the
    /// API accept values that the JSON decoder of another service rejects.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == input)
            .ok_or_else(|| ParsePriorityError { input: input.to_owned() })
    }
}

/// A string that is not one of `low`, `medium`, `high`, `urgent`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown priority `{input}`: expected one of low, medium, high, urgent")]
pub struct ParsePriorityError {
    input: String,
}

impl ParsePriorityError {
    /// The rejected input.
    pub fn input(&self) -> &str {
        &self.input
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn priorities_sort_from_low_to_urgent() {
        let mut shuffled = [Priority::Urgent, Priority::Low, Priority::High, Priority::Medium];
        shuffled.sort();
        assert_eq!(shuffled, Priority::ALL);
    }

    #[test]
    fn default_priority_is_medium() {
        assert_eq!(Priority::default(), Priority::Medium);
    }

    #[test]
    fn priority_serializes_lowercase() {
        let json = serde_json::to_string(&Priority::Urgent).expect("serializable");
        assert_eq!(json, r#""urgent""#);
    }

    #[test]
    fn unknown_priority_is_rejected_with_the_valid_choices() {
        let err = "critical".parse::<Priority>().expect_err("critical is not a priority");
        assert_eq!(err.input(), "critical");
        assert_eq!(err.to_string(), "unknown priority `critical`: expected one of low, medium, high, urgent");
    }

    #[test]
    fn capitalised_priority_is_rejected_like_serde_does() {
        assert!("High".parse::<Priority>().is_err());
        assert!(serde_json::from_str::<Priority>(r#""High""#).is_err());
    }

    proptest! {
        #[test]
        fn as_str_parses_back_and_matches_serde(index in 0usize..4) {
            let priority = Priority::ALL[index];
            prop_assert_eq!(priority.as_str().parse::<Priority>(), Ok(priority));
            let json = serde_json::to_value(priority).expect("serializable");
            prop_assert_eq!(json, serde_json::Value::from(priority.as_str()));
        }

        #[test]
        fn only_the_four_spellings_parse(input in "\\PC{0,12}") {
            let expected = Priority::ALL.iter().any(|p| p.as_str() == input);
            prop_assert_eq!(input.parse::<Priority>().is_ok(), expected);
        }
    }
}
