//! Recurrence: when the next instance of a repeating task is due.
//!
//! A [`Series`] is a recurrence, the IANA zone it is computed in, its first due instant (the start,
//! an RRULE's `DTSTART`) and an optional inclusive end. Everything is computed on wall-clock time
//! in the series' zone, so a task due at 09:00 stays at 09:00 local across DST changes.
//!
//! - `daily` / `weekly` / `monthly`: occurrence `k` is the start's wall-clock time plus `k` days,
//!   `7k` days or `k` months, always counted from the start. A monthly series on the 29th-31st
//!   falls on the last day of a shorter month and returns to its day after (Jan 31, Feb 28 or 29,
//!   Mar 31, Apr 30, ...).
//! - An RRULE follows RFC 5545 as the `rrule` crate (python-dateutil's algorithm) expands it:
//!   `FREQ=MONTHLY;BYMONTHDAY=31` skips shorter months, `BYMONTHDAY=-1` is the last day, `COUNT` and
//!   `UNTIL` end the series. As in that crate, the start is an occurrence only if it matches the rule
//!   (RFC 5545 leaves a start that does not match undefined), and `COUNT` counts matching ones.
//! - Wall-clock times that a DST change skips or repeats are resolved as RFC 5545 section 3.3.5
//!   says for an explicit date-time (section 3.8.5.3 applies it to recurrence instances; section
//!   3.3.10 contradicts it by asking to drop such instances, which no mainstream calendar does):
//!   a skipped time is read with the offset before the gap (02:30 on the spring-forward day in
//!   America/New_York becomes 03:30 EDT), a repeated time means its first, earlier occurrence
//!   (01:30 on the fall-back day is 01:30 EDT). The start itself is always the exact instant given.
//! - The supported local years are 1 to 9999; there is no occurrence after that.

mod local;
mod pattern;
mod rule;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::error::{ErrorCode, FieldError};
use crate::model::{Recurrence, RecurrencePattern, Task, TimeZone};

use rule::CompiledRule;

/// The most dates [`Series::upcoming`] returns, whatever it is asked for.
pub const MAX_UPCOMING: usize = 1000;

/// A repeating schedule: a recurrence in a time zone from a start, optionally up to an end.
#[derive(Debug, Clone)]
pub struct Series {
    recurrence: Recurrence,
    timezone: TimeZone,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    /// The start's wall-clock time in the zone.
    start_local: NaiveDateTime,
    engine: Engine,
}

/// How occurrences are computed.
#[derive(Debug, Clone)]
enum Engine {
    /// Does not repeat: the start is the only occurrence.
    Once,
    /// A simple pattern.
    Pattern(RecurrencePattern),
    /// An RRULE (boxed: it is much larger than the other variants).
    Rule(Box<CompiledRule>),
}

impl Series {
    /// A series from its parts. Fails with field `rrule` when the rule does not fit the start (it
    /// is checked against its `DTSTART` here), and with field `due_datetime` when the start's local
    /// year is outside 1 to 9999. A [`Recurrence::None`] series has the start as its only occurrence.
    pub fn new(
        recurrence: Recurrence,
        timezone: TimeZone,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
    ) -> Result<Series, FieldError> {
        let start_local = local::to_local(timezone.tz(), start).ok_or_else(|| {
            FieldError::new(
                "due_datetime",
                ErrorCode::OutOfRange,
                "a repeating task's due_datetime must lie in the years 1 to 9999 of its timezone",
            )
        })?;
        let engine = match &recurrence {
            Recurrence::None => Engine::Once,
            Recurrence::Pattern(p) => Engine::Pattern(*p),
            Recurrence::Rule(r) => Engine::Rule(Box::new(CompiledRule::new(r, start_local)?)),
        };
        Ok(Series {
            recurrence,
            timezone,
            start,
            end,
            start_local,
            engine,
        })
    }

    /// The series of a task: `None` if the task does not repeat (or, against its invariants, has
    /// no start); the start is `series_start`, else `due_datetime`.
    pub fn for_task(task: &Task) -> Result<Option<Series>, FieldError> {
        match (
            task.recurrence.is_recurring(),
            task.series_start.or(task.due_datetime),
        ) {
            (true, Some(start)) => Series::new(
                task.recurrence.clone(),
                task.timezone,
                start,
                task.recurrence_end_date,
            )
            .map(Some),
            _ => Ok(None),
        }
    }

    /// How the series repeats.
    pub fn recurrence(&self) -> &Recurrence {
        &self.recurrence
    }

    /// The zone occurrences are computed in.
    pub fn timezone(&self) -> TimeZone {
        self.timezone
    }

    /// The first due instant (`DTSTART`).
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The inclusive end: no occurrence after it.
    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.end
    }

    /// The first occurrence strictly after `after`, or `None` when the series has ended (end date,
    /// `COUNT`, `UNTIL`, or a rule with no further occurrence). An occurrence exactly at the end
    /// date counts.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.end.is_some_and(|e| e <= after) {
            return None;
        }
        let next = match &self.engine {
            Engine::Once => (after < self.start).then_some(self.start),
            Engine::Pattern(p) => self.next_of_pattern(*p, after),
            Engine::Rule(r) => self.next_of_rule(r, after),
        }?;
        self.end.is_none_or(|e| next <= e).then_some(next)
    }

    /// Up to `n` (at most [`MAX_UPCOMING`]) occurrences strictly after `after`, ascending; each is
    /// the [`Series::next_after`] of the one before.
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = after;
        while out.len() < n.min(MAX_UPCOMING) {
            match self.next_after(t) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    /// The instant of a generated wall-clock time; the start's own is the start itself (which
    /// may be the second of two equal wall-clock times).
    fn instant(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        if local == self.start_local {
            Some(self.start)
        } else {
            local::resolve(self.timezone.tz(), local)
        }
    }

    fn next_of_pattern(&self, p: RecurrencePattern, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if after < self.start {
            return Some(self.start);
        }
        // Two days before `after` in wall-clock time is before `after` as an instant whatever the
        // offsets (no zone changes its offset by two days), so the search starts at or before the answer.
        let target = local::to_local(self.timezone.tz(), after)?;
        let target = target
            .checked_sub_signed(Duration::days(2))
            .unwrap_or(target);
        let mut k = pattern::index_not_after(p, self.start_local, target);
        // Occurrences are at least a day apart, so a handful of steps reach `after`.
        for _ in 0..64 {
            let t = self.instant(pattern::nth(p, self.start_local, k)?)?;
            if t > after {
                return Some(t);
            }
            k = k.checked_add(1)?;
        }
        None
    }

    fn next_of_rule(&self, rule: &CompiledRule, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let tz = self.timezone.tz();
        let seconds = |s: i64| Duration::seconds(s);
        // A wall-clock time `l` near instant `t` is the instant `l - o` for an offset `o` in force
        // near `t`, so `l - o > after` needs `l > after + min(o)`.
        let from = if after < self.start {
            self.start_local
        } else {
            let (lo, _) = local::offset_bounds(tz, after.naive_utc());
            let from = after.naive_utc().checked_add_signed(seconds(lo))?;
            if !local::in_range(from) {
                return None;
            }
            from
        };
        // Wall-clock times past `limit + max(o)` are instants past `limit`.
        let past = |limit: DateTime<Utc>| {
            let (_, hi) = local::offset_bounds(tz, limit.naive_utc());
            limit.naive_utc().checked_add_signed(seconds(hi))
        };
        let until = rule.until();
        let mut stop = match (until, self.end) {
            (Some(u), Some(e)) => past(u.min(e)),
            (Some(l), None) | (None, Some(l)) => past(l),
            (None, None) => None,
        };
        let mut best: Option<DateTime<Utc>> = None;
        for local in rule.occurrences_from(from) {
            if stop.is_some_and(|s| local > s) {
                break;
            }
            // `None`: past the supported years, and so is everything after.
            let Some(t) = self.instant(local) else { break };
            if t <= after || until.is_some_and(|u| t > u) {
                continue;
            }
            if best.is_none_or(|b| t < b) {
                best = Some(t);
                // Later wall-clock times can still be earlier instants, but only within the offset
                // change of a DST transition.
                let s = past(t);
                stop = match (stop, s) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        best
    }
}

#[cfg(test)]
mod tests;
