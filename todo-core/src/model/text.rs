//! Validated text values: task title and description, tag name and color.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError};

/// A task title: 1-200 characters after trimming surrounding whitespace, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TaskTitle(String);

impl TaskTitle {
    /// The longest title, in characters (Unicode scalar values).
    pub const MAX_LEN: usize = 200;

    /// Trims and validates a title.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        let len = t.chars().count();
        if len == 0 {
            return Err(FieldError::new(
                "title",
                ErrorCode::Required,
                "title must be 1-200 characters after trimming; it is empty",
            ));
        }
        if len > Self::MAX_LEN {
            return Err(FieldError::new(
                "title",
                ErrorCode::TooLong,
                format!("title must be 1-200 characters after trimming; it has {len}"),
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(FieldError::new(
                "title",
                ErrorCode::InvalidFormat,
                "title must not contain control characters (such as line breaks)",
            ));
        }
        Ok(TaskTitle(t.to_owned()))
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task description: at most 4000 characters, no NUL and no control characters other than
/// line breaks and tabs. Kept as given (not trimmed), since whitespace may be formatting.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Description(String);

impl Description {
    /// The longest description, in characters.
    pub const MAX_LEN: usize = 4000;

    /// Validates a description.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let len = s.chars().count();
        if len > Self::MAX_LEN {
            return Err(FieldError::new(
                "description",
                ErrorCode::TooLong,
                format!("description must be at most 4000 characters; it has {len}"),
            ));
        }
        if s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(FieldError::new(
                "description",
                ErrorCode::InvalidFormat,
                "description must not contain control characters other than line breaks and tabs",
            ));
        }
        Ok(Description(s.to_owned()))
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tag name: 1-50 characters after trimming, no control characters. Unique per user,
/// compared case-insensitively through [`TagName::key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TagName(String);

impl TagName {
    /// The longest tag name, in characters.
    pub const MAX_LEN: usize = 50;

    /// Trims and validates a tag name.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        let len = t.chars().count();
        if len == 0 {
            return Err(FieldError::new(
                "name",
                ErrorCode::Required,
                "name must be 1-50 characters after trimming; it is empty",
            ));
        }
        if len > Self::MAX_LEN {
            return Err(FieldError::new(
                "name",
                ErrorCode::TooLong,
                format!("name must be 1-50 characters after trimming; it has {len}"),
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                ErrorCode::InvalidFormat,
                "name must not contain control characters",
            ));
        }
        Ok(TagName(t.to_owned()))
    }

    /// The name as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key under which names are unique per user: the lowercased name.
    /// SQL adapters store this key in a unique column.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A color as `#RRGGBB`, stored in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Color(String);

impl Color {
    /// The color of a tag created without one.
    pub const DEFAULT: &'static str = "#3B82F6";

    /// Validates `#RRGGBB` (hex digits in either case).
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        let ok =
            t.len() == 7 && t.starts_with('#') && t[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(FieldError::new(
                "color",
                ErrorCode::InvalidFormat,
                format!("color must be #RRGGBB (e.g. #3B82F6); got {s:?}"),
            ));
        }
        Ok(Color(t.to_ascii_uppercase()))
    }

    /// The color as `#RRGGBB`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Color {
    fn default() -> Self {
        Color(Self::DEFAULT.to_owned())
    }
}

macro_rules! text_impls {
    ($($t:ident),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $t::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    )*};
}
text_impls!(TaskTitle, Description, TagName, Color);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_trims_and_counts_chars() {
        assert_eq!(TaskTitle::parse("  hi  ").unwrap().as_str(), "hi");
        assert_eq!(
            TaskTitle::parse("   ").unwrap_err().code,
            ErrorCode::Required
        );
        assert!(TaskTitle::parse(&"é".repeat(200)).is_ok());
        assert_eq!(
            TaskTitle::parse(&"é".repeat(201)).unwrap_err().code,
            ErrorCode::TooLong
        );
        assert_eq!(
            TaskTitle::parse("a\nb").unwrap_err().code,
            ErrorCode::InvalidFormat
        );
    }

    #[test]
    fn description_limits() {
        assert!(Description::parse("").is_ok());
        assert!(Description::parse("line\nline\ttab").is_ok());
        assert!(Description::parse(&"x".repeat(4000)).is_ok());
        assert_eq!(
            Description::parse(&"x".repeat(4001)).unwrap_err().field,
            "description"
        );
        assert_eq!(
            Description::parse("a\0b").unwrap_err().code,
            ErrorCode::InvalidFormat
        );
    }

    #[test]
    fn tag_name_and_key() {
        let n = TagName::parse(" Work ").unwrap();
        assert_eq!(n.as_str(), "Work");
        assert_eq!(n.key(), "work");
        assert_eq!(
            TagName::parse(&"x".repeat(51)).unwrap_err().code,
            ErrorCode::TooLong
        );
    }

    #[test]
    fn color_normalizes() {
        assert_eq!(Color::parse("#10b981").unwrap().as_str(), "#10B981");
        for bad in ["10B981", "#10B98", "#10B9811", "#GGGGGG", "", "#ééé"] {
            assert_eq!(Color::parse(bad).unwrap_err().field, "color", "{bad}");
        }
        assert_eq!(Color::default().as_str(), "#3B82F6");
    }
}
