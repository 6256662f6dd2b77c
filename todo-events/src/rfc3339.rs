//! Serde helpers for the wire form of instants: written as RFC 3339 in UTC with a `Z` suffix
//! (through core's `format_instant`, so events and the HTTP API print instants alike), read as
//! strict RFC 3339 with any offset and converted to UTC.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serializer};
use todo_core::model::format_instant;

fn parse<E: serde::de::Error>(s: &str) -> Result<DateTime<Utc>, E> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            E::custom(format!(
                "expected an RFC 3339 date-time with offset, got {s:?}"
            ))
        })
}

/// A required instant.
pub(crate) mod instant {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_instant(*t))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s)
    }
}

/// A nullable instant. The key must be present unless the field also has `#[serde(default)]`.
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_instant(*t)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => parse(&s).map(Some),
            None => Ok(None),
        }
    }
}
