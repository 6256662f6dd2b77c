//! Instants and time zones.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError};

/// Truncates an instant to whole microseconds, the precision every store keeps, so that a value
/// read back from PostgreSQL or SQLite equals the value written.
pub fn normalize_instant(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Parses an RFC 3339 date-time with an explicit offset (`2026-02-20T15:00:00Z`,
/// `2026-02-20T16:00:00+01:00`) into UTC, naming `field` on failure.
pub fn parse_instant(field: &str, s: &str) -> Result<DateTime<Utc>, FieldError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| normalize_instant(t.with_timezone(&Utc)))
        .map_err(|_| {
            FieldError::new(
                field,
                ErrorCode::InvalidFormat,
                format!("{field} must be an RFC 3339 date-time with offset, e.g. 2026-02-20T15:00:00Z; got {s:?}"),
            )
        })
}

/// Formats an instant as RFC 3339 in UTC with a `Z` suffix and only as many fraction digits as needed.
pub fn format_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// An IANA time zone (`Europe/Berlin`); recurrence is computed in it. Defaults to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// UTC.
    pub const UTC: TimeZone = TimeZone(chrono_tz::Tz::UTC);

    /// Parses an IANA zone name (exact spelling, as in the tz database).
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        s.trim()
            .parse::<chrono_tz::Tz>()
            .map(TimeZone)
            .map_err(|_| {
                FieldError::new(
                    "timezone",
                    ErrorCode::InvalidValue,
                    format!(
                        "timezone must be an IANA time zone name such as Europe/Berlin; got {s:?}"
                    ),
                )
            })
    }

    /// The chrono-tz zone.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl From<chrono_tz::Tz> for TimeZone {
    fn from(tz: chrono_tz::Tz) -> Self {
        TimeZone(tz)
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TimeZone {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeZone::parse(s)
    }
}

impl Serialize for TimeZone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TimeZone::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        let t = parse_instant("due_datetime", "2026-02-20T16:00:00.1234567+01:00").unwrap();
        assert_eq!(format_instant(t), "2026-02-20T15:00:00.123456Z");
        assert!(parse_instant("due_datetime", "2026-02-20T15:00:00").is_err());
        assert!(parse_instant("due_datetime", "2026-02-20").is_err());
        assert_eq!(
            parse_instant("due_date_end", "x").unwrap_err().field,
            "due_date_end"
        );
    }

    #[test]
    fn zones() {
        assert_eq!(
            TimeZone::parse("Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert_eq!(TimeZone::default(), TimeZone::UTC);
        assert_eq!(
            TimeZone::parse("Mars/Olympus").unwrap_err().field,
            "timezone"
        );
    }
}
