//! How a task repeats: a simple pattern or an RFC 5545 RRULE.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError};

/// The simple repeat patterns of the API's `recurrence_pattern` field (besides `none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecurrencePattern {
    /// Every day at the same wall-clock time.
    Daily,
    /// Every week on the same weekday at the same wall-clock time.
    Weekly,
    /// Every month on the same day (the month's last day when it is shorter) at the same wall-clock time.
    Monthly,
}

impl RecurrencePattern {
    /// The API name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecurrencePattern::Daily => "daily",
            RecurrencePattern::Weekly => "weekly",
            RecurrencePattern::Monthly => "monthly",
        }
    }
}

/// An RRULE value (`FREQ=WEEKLY;BYDAY=MO,WE`), syntactically checked with the `rrule` crate.
/// Stored normalized: upper case, without an `RRULE:` prefix, without `DTSTART` (the task's first due
/// date is the series start).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RRuleText(String);

impl RRuleText {
    /// The longest accepted rule text.
    pub const MAX_LEN: usize = 1000;

    /// Parses and normalizes a rule.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        let t = t
            .strip_prefix("RRULE:")
            .or_else(|| t.strip_prefix("rrule:"))
            .unwrap_or(t)
            .trim();
        if t.is_empty() {
            return Err(FieldError::new("rrule", ErrorCode::Required, "rrule must not be empty"));
        }
        if t.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                "rrule",
                ErrorCode::TooLong,
                format!("rrule must be at most {} characters", Self::MAX_LEN),
            ));
        }
        let upper = t.to_ascii_uppercase();
        if upper.contains("DTSTART") || upper.contains('\n') {
            return Err(FieldError::new(
                "rrule",
                ErrorCode::InvalidFormat,
                "rrule must be a single RRULE value without DTSTART; the task's due_datetime is the series start",
            ));
        }
        match upper.parse::<rrule::RRule<rrule::Unvalidated>>() {
            Ok(_) => Ok(RRuleText(upper)),
            Err(e) => Err(FieldError::new(
                "rrule",
                ErrorCode::InvalidFormat,
                format!("rrule is not a valid RFC 5545 recurrence rule: {e}"),
            )),
        }
    }

    /// The normalized rule text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RRuleText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RRuleText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RRuleText::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How a task repeats.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Recurrence {
    /// It does not repeat.
    #[default]
    None,
    /// A simple pattern.
    Pattern(RecurrencePattern),
    /// An RFC 5545 rule.
    Rule(RRuleText),
}

impl Recurrence {
    /// Whether the task repeats.
    pub fn is_recurring(&self) -> bool {
        !matches!(self, Recurrence::None)
    }

    /// The API's `recurrence_pattern` value: the pattern, `none`, or `none` for an RRULE (which is given in `rrule`).
    pub fn pattern_str(&self) -> &'static str {
        match self {
            Recurrence::Pattern(p) => p.as_str(),
            Recurrence::None | Recurrence::Rule(_) => "none",
        }
    }

    /// The API's `rrule` value, if any.
    pub fn rrule(&self) -> Option<&RRuleText> {
        match self {
            Recurrence::Rule(r) => Some(r),
            _ => None,
        }
    }

    /// Parses the API's `recurrence_pattern` field (`daily|weekly|monthly|none`).
    pub fn parse_pattern(s: &str) -> Result<Recurrence, FieldError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Recurrence::None),
            "daily" => Ok(Recurrence::Pattern(RecurrencePattern::Daily)),
            "weekly" => Ok(Recurrence::Pattern(RecurrencePattern::Weekly)),
            "monthly" => Ok(Recurrence::Pattern(RecurrencePattern::Monthly)),
            _ => Err(FieldError::new(
                "recurrence_pattern",
                ErrorCode::InvalidValue,
                format!("recurrence_pattern must be one of daily, weekly, monthly, none; got {s:?}"),
            )),
        }
    }
}
