//! The fields of a project as parsed values.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    fn colours_read_back_as_written() {
        for colour in ProjectColor::ALL {
            assert_eq!(colour.as_str().parse::<ProjectColor>(), Ok(colour));
            assert_eq!(serde_json::to_value(colour).unwrap(), colour.as_str());
        }
        assert!("magenta".parse::<ProjectColor>().is_err());
    }
}
