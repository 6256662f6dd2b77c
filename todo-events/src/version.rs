//! The envelope's `version`: semantic versioning of the event contract.
//!
//! * The producer always writes [`SchemaVersion::CURRENT`] (`"1.0"`).
//! * A consumer accepts any version with the major it knows ([`SUPPORTED_MAJOR`]), whatever the
//!   minor and patch, and rejects another major with [`Error::UnsupportedVersion`] (the consumer
//!   sends such events to the dead-letter topic).
//! * A minor version only adds fields. So fields this crate does not know are ignored when, and
//!   only when, the event's minor is higher than [`SchemaVersion::CURRENT`]'s; for the current
//!   minor (any patch) an unknown field is an error, which keeps typos and producer bugs loud.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The major version this crate produces and understands.
pub const SUPPORTED_MAJOR: u32 = 1;

/// The version written into every produced event.
pub const CURRENT_VERSION: &str = "1.0";

/// A parsed `MAJOR.MINOR[.PATCH]` (numbers without leading zeros, as in SemVer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaVersion {
    /// Breaking changes.
    pub major: u32,
    /// Additive changes.
    pub minor: u32,
    /// Fixes; `None` when the version was written as `MAJOR.MINOR`.
    pub patch: Option<u32>,
}

/// How this crate reads an event of a given version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compatibility {
    /// Same major and a minor this crate knows: unknown fields are errors.
    Strict,
    /// Same major, newer minor: fields this crate does not know are ignored.
    IgnoreUnknownFields,
}

impl SchemaVersion {
    /// The version this crate writes: `1.0`.
    pub const CURRENT: SchemaVersion = SchemaVersion {
        major: SUPPORTED_MAJOR,
        minor: 0,
        patch: None,
    };

    /// Parses `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`; anything else is [`Error::InvalidVersion`].
    pub fn parse(s: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidVersion {
            found: format!("{s:?}"),
        };
        let mut parts = s.split('.');
        let major = parts.next().and_then(number).ok_or_else(invalid)?;
        let minor = parts.next().and_then(number).ok_or_else(invalid)?;
        let patch = match parts.next() {
            None => None,
            Some(p) => Some(number(p).ok_or_else(invalid)?),
        };
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(SchemaVersion {
            major,
            minor,
            patch,
        })
    }

    /// Whether this crate can read the version, and how; [`Error::UnsupportedVersion`] for another major.
    pub fn compatibility(self) -> Result<Compatibility, Error> {
        if self.major != SUPPORTED_MAJOR {
            return Err(Error::UnsupportedVersion {
                found: self.to_string(),
                supported: SUPPORTED_MAJOR,
            });
        }
        if self.minor > Self::CURRENT.minor {
            Ok(Compatibility::IgnoreUnknownFields)
        } else {
            Ok(Compatibility::Strict)
        }
    }
}

/// A SemVer numeric identifier: ASCII digits, no sign, no leading zero, fits in `u32`.
fn number(s: &str) -> Option<u32> {
    let ok =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

impl Default for SchemaVersion {
    fn default() -> Self {
        Self::CURRENT
    }
}

impl fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if let Some(p) = self.patch {
            write!(f, ".{p}")?;
        }
        Ok(())
    }
}

impl FromStr for SchemaVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SchemaVersion::parse(s)
    }
}

impl Serialize for SchemaVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SchemaVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SchemaVersion::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_is_one_zero() {
        assert_eq!(SchemaVersion::CURRENT.to_string(), CURRENT_VERSION);
        assert_eq!(
            SchemaVersion::parse(CURRENT_VERSION).unwrap(),
            SchemaVersion::CURRENT
        );
    }

    #[test]
    fn parses_and_prints() {
        let v = SchemaVersion::parse("1.3.7").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (1, 3, Some(7)));
        assert_eq!(v.to_string(), "1.3.7");
        assert_eq!(SchemaVersion::parse("10.20").unwrap().to_string(), "10.20");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "1",
            "1.",
            ".1",
            "1.0.",
            "1.0.0.0",
            "v1.0",
            " 1.0",
            "1.0 ",
            "01.0",
            "1.00",
            "1.-1",
            "+1.0",
            "1.x",
            "1,0",
            "99999999999.0",
            "1.0-beta",
        ] {
            let e = SchemaVersion::parse(bad).unwrap_err();
            assert_eq!(e.code(), "INVALID_VERSION", "{bad:?}");
        }
    }

    #[test]
    fn compatibility_by_major_and_minor() {
        let c = |s: &str| SchemaVersion::parse(s).unwrap().compatibility();
        assert_eq!(c("1.0").unwrap(), Compatibility::Strict);
        assert_eq!(c("1.0.4").unwrap(), Compatibility::Strict);
        assert_eq!(c("1.3").unwrap(), Compatibility::IgnoreUnknownFields);
        assert_eq!(
            c("2.0").unwrap_err(),
            Error::UnsupportedVersion {
                found: "2.0".into(),
                supported: 1
            }
        );
        assert_eq!(c("0.9").unwrap_err().code(), "UNSUPPORTED_VERSION");
    }
}
