//! Task priority.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError};

/// How important a task is. Sorting by priority puts `High` above `Medium` above `Low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Priority {
    /// Most important.
    High,
    /// The default.
    #[default]
    Medium,
    /// Least important.
    Low,
}

impl Priority {
    /// All priorities, highest first.
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];

    /// A number that orders priorities: `High` (3) > `Medium` (2) > `Low` (1).
    /// SQL adapters store or compute the same rank so that sorting agrees with the core.
    pub const fn rank(self) -> u8 {
        match self {
            Priority::High => 3,
            Priority::Medium => 2,
            Priority::Low => 1,
        }
    }

    /// The canonical name: `High`, `Medium` or `Low`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Priority::High => "High",
            Priority::Medium => "Medium",
            Priority::Low => "Low",
        }
    }

    /// Parses a priority (case-insensitive: `high` is accepted and becomes `High`), naming `field` on failure.
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    ErrorCode::InvalidValue,
                    format!("{field} must be one of High, Medium, Low; got {s:?}"),
                )
            })
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::parse("priority", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_rank() {
        assert_eq!("high".parse::<Priority>().unwrap(), Priority::High);
        assert_eq!(" Low ".parse::<Priority>().unwrap(), Priority::Low);
        assert_eq!("urgent".parse::<Priority>().unwrap_err().field, "priority");
        assert!(Priority::High.rank() > Priority::Medium.rank());
        assert!(Priority::Medium.rank() > Priority::Low.rank());
        assert_eq!(Priority::default(), Priority::Medium);
    }
}
