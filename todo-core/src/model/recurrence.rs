//! How a task repeats: a simple pattern or an RFC 5545 RRULE.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
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

/// An RRULE value (`FREQ=WEEKLY;BYDAY=MO,WE`), syntactically checked with the `rrule` crate,
/// with `FREQ` at most `HOURLY` (no `MINUTELY` or `SECONDLY`). Stored normalized: upper case, without an `RRULE:` prefix, without `DTSTART` (the task's first due
/// date is the series start).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RRuleText(String);

impl RRuleText {
    /// The longest accepted rule text.
    pub const MAX_LEN: usize = 1000;

    /// Parses and normalizes a rule given as new input: the syntax checks of
    /// [`RRuleText::parse_stored`] and the cost limits ([`MAX_TIMES_PER_DAY`],
    /// [`MAX_LIST_LEN`]), so that a rule whose expansion would be expensive is refused before
    /// it is ever expanded.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let (text, rule) = Self::parse_syntax(s)?;
        check_cost(&rule)?;
        Ok(text)
    }

    /// Parses and normalizes a rule read back from storage or from an event: the syntax checks
    /// of [`RRuleText::parse`] without its cost limits, so that a task saved before a limit
    /// existed stays readable. Such a rule is still never expanded: the recurrence engine checks
    /// the same limits before it expands a rule, and refuses it with the same field error.
    pub fn parse_stored(s: &str) -> Result<Self, FieldError> {
        Self::parse_syntax(s).map(|(text, _)| text)
    }

    /// The syntax checks, and the rule as the `rrule` crate read it.
    fn parse_syntax(s: &str) -> Result<(Self, rrule::RRule<rrule::Unvalidated>), FieldError> {
        let t = s.trim();
        let t = t
            .strip_prefix("RRULE:")
            .or_else(|| t.strip_prefix("rrule:"))
            .unwrap_or(t)
            .trim();
        if t.is_empty() {
            return Err(FieldError::new(
                "rrule",
                ErrorCode::Required,
                "rrule must not be empty",
            ));
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
        check_parts(&upper)?;
        match upper.parse::<rrule::RRule<rrule::Unvalidated>>() {
            Ok(rule) => Ok((RRuleText(upper), rule)),
            Err(e) => Err(FieldError::new(
                "rrule",
                ErrorCode::InvalidFormat,
                format!("rrule is not a valid RFC 5545 recurrence rule: {e}"),
            )),
        }
    }

    /// A rule that skips [`RRuleText::parse`]'s checks, for tests of rules that were accepted
    /// before a check existed (such as `FREQ=MINUTELY`).
    #[cfg(test)]
    pub(crate) fn unchecked(s: &str) -> Self {
        RRuleText(s.to_ascii_uppercase())
    }

    /// The normalized rule text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The rule's `UNTIL` instant, if it has one.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        parts(&self.0)
            .find(|(k, _)| *k == "UNTIL")
            .and_then(|(_, v)| parse_until(v))
    }

    /// The rule text without its `UNTIL` part (the recurrence engine applies `UNTIL` itself).
    pub(crate) fn without_until(&self) -> String {
        self.0
            .split(';')
            .filter(|p| !p.trim().is_empty() && !p.trim_start().starts_with("UNTIL="))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// The largest accepted `COUNT`: enough for an hourly series of eleven years, and small enough that
/// counting a series from its start stays fast.
pub const MAX_COUNT: u32 = 100_000;

/// The most times of day a rule may give one day: the distinct (hour, minute, second) slots its
/// `BYHOUR`, `BYMINUTE` and `BYSECOND` lists (and, for `HOURLY`, every `INTERVAL`-th hour of the
/// day) can produce. 96 is every quarter of an hour, round the clock; a calendar rule uses a few.
///
/// The `rrule` crate builds each period's candidates (days x times) in memory before it yields the
/// first one, so this bounds memory: `FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU` with every hour,
/// minute and second (86,400 times a day) made 31.6 million candidates per year, 1.5 GB.
pub const MAX_TIMES_PER_DAY: u64 = 96;

/// The most days one period of a rule can hold (the days of a leap year, for `FREQ=YEARLY`).
pub const MAX_DAYS_PER_PERIOD: u64 = 366;

/// The most candidates the `rrule` crate materialises for one period of an accepted rule: every
/// day of a leap year at [`MAX_TIMES_PER_DAY`] times (35,136, about 1 MB).
pub const MAX_CANDIDATES_PER_PERIOD: u64 = MAX_DAYS_PER_PERIOD * MAX_TIMES_PER_DAY;

/// The most entries of each day-level list (`BYDAY`, `BYMONTHDAY`, `BYYEARDAY`, `BYWEEKNO`) and of
/// `BYSETPOS`, after duplicates are dropped. 62 is every day of a month counted from both ends
/// (`BYMONTHDAY=1,...,31,-1,...,-31`); the crate tests every day of a period against these lists
/// and picks `BYSETPOS` positions with a quadratic search, so their lengths multiply its work in
/// every period it walks, including the up to 100,000 empty ones it walks before giving up.
pub const MAX_LIST_LEN: usize = 62;

/// Checks the cost limits of a rule as the `rrule` crate read it (before or after its defaults
/// are filled from the series start, which adds one value to an empty list): at most
/// [`MAX_LIST_LEN`] entries per day-level list and in `BYSETPOS`, and at most
/// [`MAX_TIMES_PER_DAY`] times a day, hence at most [`MAX_CANDIDATES_PER_PERIOD`] candidates per
/// period. Fails with field `rrule`, code `too_complex`, naming the limit.
pub(crate) fn check_cost<S>(rule: &rrule::RRule<S>) -> Result<(), FieldError> {
    let too_complex =
        |message: String| Err(FieldError::new("rrule", ErrorCode::TooComplex, message));
    let lists = [
        ("BYDAY", rule.get_by_weekday().len()),
        ("BYMONTHDAY", rule.get_by_month_day().len()),
        ("BYYEARDAY", rule.get_by_year_day().len()),
        ("BYWEEKNO", rule.get_by_week_no().len()),
        ("BYSETPOS", rule.get_by_set_pos().len()),
    ];
    for (name, len) in lists {
        if len > MAX_LIST_LEN {
            return too_complex(format!(
                "rrule is too complex: {name} has {len} distinct values; at most {MAX_LIST_LEN} are allowed"
            ));
        }
    }
    let times = times_per_day(rule);
    if times > MAX_TIMES_PER_DAY {
        return too_complex(format!(
            "rrule is too complex: BYHOUR x BYMINUTE x BYSECOND give up to {times} times a day; \
             at most {MAX_TIMES_PER_DAY} are allowed"
        ));
    }
    Ok(())
}

/// An upper bound of the distinct times of day a rule gives one day. An empty list counts as one
/// value (the start's) at or above the rule's frequency and as every value below it (an
/// `HOURLY` rule runs through the hours); at the frequency's own unit, a day holds at most
/// `ceil(units per day / INTERVAL)` steps.
fn times_per_day<S>(rule: &rrule::RRule<S>) -> u64 {
    use rrule::Frequency;
    let freq = rule.get_freq();
    let len = |n: usize, all: u64, runs: bool| match n {
        0 if runs => all,
        0 => 1,
        n => u64::try_from(n).unwrap_or(u64::MAX),
    };
    let hours = len(rule.get_by_hour().len(), 24, freq >= Frequency::Hourly);
    let minutes = len(rule.get_by_minute().len(), 60, freq >= Frequency::Minutely);
    let seconds = len(rule.get_by_second().len(), 60, freq >= Frequency::Secondly);
    let interval = u64::from(rule.get_interval().max(1));
    let steps = |units_per_day: u64| units_per_day.div_ceil(interval);
    match freq {
        Frequency::Hourly => hours.min(steps(24)) * minutes * seconds,
        Frequency::Minutely => (hours * minutes).min(steps(24 * 60)) * seconds,
        Frequency::Secondly => (hours * minutes * seconds).min(steps(24 * 60 * 60)),
        _ => hours * minutes * seconds,
    }
}

/// The `KEY=VALUE` parts of a rule.
fn parts(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.split(';')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
}

/// Parses an `UNTIL` value in RFC 5545 UTC form (`20261231T235959Z`).
fn parse_until(v: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%SZ")
        .ok()
        .filter(|_| v.len() == 16)
        .map(|t| t.and_utc())
}

/// The checks the `rrule` crate's parser leaves out, all from RFC 5545 section 3.3.10.
fn check_parts(upper: &str) -> Result<(), FieldError> {
    let bad = |code, message: &str| Err(FieldError::new("rrule", code, message));
    let mut has_count = false;
    let mut has_until = false;
    for (key, value) in parts(upper) {
        match key {
            "UNTIL" => {
                has_until = true;
                // A series starts at a zoned date-time, so RFC 5545 requires UNTIL in UTC. A floating
                // UNTIL would be read in the host machine's zone by the rrule crate, so that the
                // server, Python and WASM could disagree.
                if parse_until(value).is_none() {
                    return bad(
                        ErrorCode::InvalidFormat,
                        "rrule UNTIL must be a UTC date-time such as 20261231T235959Z",
                    );
                }
            }
            "COUNT" => {
                has_count = true;
                if !value
                    .parse::<u32>()
                    .is_ok_and(|c| (1..=MAX_COUNT).contains(&c))
                {
                    return bad(
                        ErrorCode::OutOfRange,
                        &format!("rrule COUNT must be between 1 and {MAX_COUNT}"),
                    );
                }
            }
            // Tasks are not minute-level events; and at these frequencies COUNT costs and the
            // `rrule` crate's iteration limit (100,000 periods without an occurrence) would bite.
            "FREQ" if value == "MINUTELY" || value == "SECONDLY" => {
                return bad(
                    ErrorCode::InvalidValue,
                    "rrule FREQ must be YEARLY, MONTHLY, WEEKLY, DAILY or HOURLY: tasks repeat at most hourly",
                );
            }
            "INTERVAL" if !value.parse::<u16>().is_ok_and(|i| i >= 1) => {
                return bad(
                    ErrorCode::OutOfRange,
                    "rrule INTERVAL must be between 1 and 65535",
                );
            }
            _ => {}
        }
    }
    if has_count && has_until {
        return bad(
            ErrorCode::Inconsistent,
            "rrule must not have both COUNT and UNTIL",
        );
    }
    Ok(())
}

impl fmt::Display for RRuleText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a rule as stored ([`RRuleText::parse_stored`]): a task or event written before a cost
/// limit existed must stay readable. New input goes through [`RRuleText::parse`].
impl<'de> Deserialize<'de> for RRuleText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RRuleText::parse_stored(&s).map_err(serde::de::Error::custom)
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
                format!(
                    "recurrence_pattern must be one of daily, weekly, monthly, none; got {s:?}"
                ),
            )),
        }
    }
}
