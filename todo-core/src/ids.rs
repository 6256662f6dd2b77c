//! Identifiers as newtypes, so a tag id can never be passed where a task id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError};

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl<'de> Deserialize<'de> for $name {
            /// Only positive ids are read: stores assign ids from 1.
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let n = i64::deserialize(d)?;
                if n > 0 {
                    Ok($name(n))
                } else {
                    Err(serde::de::Error::custom(format!(
                        "{} id must be a positive integer, got {}",
                        $what, n
                    )))
                }
            }
        }

        impl $name {
            /// Wraps a raw id. Ids are assigned by the store and are always positive.
            pub const fn new(raw: i64) -> Self {
                $name(raw)
            }

            /// The raw number.
            pub const fn get(self) -> i64 {
                self.0
            }

            /// Parses an id from a path or query segment, naming `field` on failure.
            pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
                match s.trim().parse::<i64>() {
                    Ok(n) if n > 0 => Ok($name(n)),
                    _ => Err(FieldError::new(
                        field,
                        ErrorCode::InvalidFormat,
                        format!("{} must be a positive integer {} id, got {:?}", field, $what, s),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(concat!($what, "_id"), s)
            }
        }
    };
}

int_id!(
    /// The id of a task.
    TaskId,
    "task"
);
int_id!(
    /// The id of a tag.
    TagId,
    "tag"
);
int_id!(
    /// The id of a reminder.
    ReminderId,
    "reminder"
);
int_id!(
    /// The id of an activity-log entry.
    ActivityId,
    "activity"
);

/// The id of a user: the JWT `sub`. 1-255 characters, no whitespace, control characters or `/`,
/// so that it is safe in a URL path and as a Kafka message key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// The longest accepted user id, in characters.
    pub const MAX_LEN: usize = 255;

    /// Validates a user id.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let len = s.chars().count();
        if len == 0 {
            return Err(FieldError::new(
                "user_id",
                ErrorCode::Required,
                "user_id must not be empty",
            ));
        }
        if len > Self::MAX_LEN {
            return Err(FieldError::new(
                "user_id",
                ErrorCode::TooLong,
                format!("user_id must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            return Err(FieldError::new(
                "user_id",
                ErrorCode::InvalidFormat,
                "user_id must not contain whitespace, control characters or '/'",
            ));
        }
        Ok(UserId(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of a conversation document (the chatbot's memory): 1 to 128 characters of
/// `[A-Za-z0-9_.:-]`, chosen by the client.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ConversationId(String);

impl ConversationId {
    /// The longest accepted conversation id, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates a conversation id.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        const FIELD: &str = "conversation_id";
        if s.is_empty() {
            return Err(FieldError::new(
                FIELD,
                ErrorCode::Required,
                "conversation_id must not be empty",
            ));
        }
        if s.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                FIELD,
                ErrorCode::TooLong,
                format!(
                    "conversation_id must be at most {} characters",
                    Self::MAX_LEN
                ),
            ));
        }
        if !s
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':' | b'-'))
        {
            return Err(FieldError::new(
                FIELD,
                ErrorCode::InvalidFormat,
                "conversation_id may only contain letters, digits, '_', '.', ':' and '-'",
            ));
        }
        Ok(ConversationId(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UserId {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UserId::parse(s)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        UserId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The id of a domain event (a UUID). Consumers deduplicate on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(uuid::Uuid);

impl EventId {
    /// Wraps a UUID made by an [`crate::ports::IdSource`].
    pub const fn new(id: uuid::Uuid) -> Self {
        EventId(id)
    }

    /// The UUID.
    pub const fn get(self) -> uuid::Uuid {
        self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_ids_parse_positive_only() {
        assert_eq!(TaskId::parse("task_id", "42").unwrap(), TaskId::new(42));
        for bad in ["0", "-1", "abc", "", "1.5", "99999999999999999999"] {
            let e = TaskId::parse("task_id", bad).unwrap_err();
            assert_eq!(e.field, "task_id");
            assert_eq!(e.code, ErrorCode::InvalidFormat);
        }
    }

    #[test]
    fn user_id_rules() {
        assert!(UserId::parse("user-123").is_ok());
        assert_eq!(UserId::parse("").unwrap_err().code, ErrorCode::Required);
        assert_eq!(
            UserId::parse("a/b").unwrap_err().code,
            ErrorCode::InvalidFormat
        );
        assert_eq!(
            UserId::parse("a b").unwrap_err().code,
            ErrorCode::InvalidFormat
        );
        assert_eq!(
            UserId::parse(&"x".repeat(256)).unwrap_err().code,
            ErrorCode::TooLong
        );
        assert!(UserId::parse(&"x".repeat(255)).is_ok());
        assert!(serde_json::from_str::<UserId>("\"a/b\"").is_err());
        assert!(serde_json::from_str::<TaskId>("0").is_err());
        assert!(serde_json::from_str::<TagId>("-3").is_err());
        assert_eq!(serde_json::from_str::<TagId>("3").unwrap(), TagId::new(3));
    }
}
