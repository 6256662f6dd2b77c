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
//!   (01:30 on the fall-back day is 01:30 EDT). The start itself is always the exact instant given,
//!   and nothing comes before it (an hourly series at :30 and :45 that starts at the second 01:30,
//!   EST, on the fall-back day is not preceded by 01:45, which means 01:45 EDT).
//! - The supported local years are 1 to 9999; there is no occurrence after that.
//! - Tasks repeat at most hourly: [`crate::model::RRuleText::parse`] refuses `FREQ=MINUTELY` and
//!   `FREQ=SECONDLY`. A rule must yield an occurrence from the start on (the start itself counts if
//!   it matches): [`Series::new`] rejects one that yields none, because its `UNTIL` comes before the
//!   first match, it asks for a date that does not exist (`BYMONTH=2;BYMONTHDAY=30`), its next
//!   period is past the year 9999, or the `rrule` crate gives up (after 100,000 consecutive periods
//!   without an occurrence) before finding one. A pattern always recurs; an end before the start
//!   or before the first occurrence only leaves the series empty.
//!
//! Cost: a rule is checked against cost limits before it is ever expanded, when it is parsed
//! ([`crate::model::RRuleText::parse`]) and again when a series is built from it (for rules stored
//! before a limit existed): at most [`crate::model::recurrence::MAX_TIMES_PER_DAY`] times a day
//! and [`crate::model::recurrence::MAX_LIST_LEN`] entries per day-level `BYxxx` list and in
//! `BYSETPOS`. The `rrule` crate materialises each period's candidates (days x times) before it
//! yields the first, so this bounds the memory of one period to
//! [`MAX_CANDIDATES_PER_PERIOD`] candidates (about 1 MB); and each expansion takes at most
//! [`MAX_EXPANSION_STEPS`] candidates, then answers "no further occurrence".
//!
//! Without `COUNT`, an RRULE is expanded from the period that contains the instant asked
//! about, so [`Series::next_after`] does not get slower as a series ages. With `COUNT` the expansion
//! has to count from `DTSTART`, so `next_after` costs grow with the number of occurrences before
//! the instant: at most `COUNT`, itself at most 100,000 (near the end of `FREQ=HOURLY;COUNT=100000`,
//! about 25 ms in a release build). [`Series::upcoming`] expands the rule once for all its dates, so
//! 100 dates there cost about the same.

pub(crate) mod forecast;
mod local;
mod pattern;
mod rule;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::error::{ErrorCode, FieldError};
use crate::model::recurrence::{MAX_CANDIDATES_PER_PERIOD, MAX_COUNT};
use crate::model::{Recurrence, RecurrencePattern, Task, TimeZone};

use rule::CompiledRule;

/// The most dates [`Series::upcoming`] returns, whatever it is asked for.
pub const MAX_UPCOMING: usize = 1000;

/// The most candidate wall-clock times one expansion ([`Series::next_after`],
/// [`Series::upcoming`], [`Series::has_occurrence`]) takes from the `rrule` crate. When it runs
/// out, the answer is "no further occurrence" (and [`Series::new`] refuses the rule). An accepted
/// rule never needs as many: an expansion walks at most `COUNT` candidates before the instant
/// asked about ([`MAX_COUNT`]) or one period of them ([`MAX_CANDIDATES_PER_PERIOD`]), plus the
/// dates it returns ([`MAX_UPCOMING`]); twice that is the budget (272,272: about 60 ms in a
/// release build).
pub const MAX_EXPANSION_STEPS: usize =
    2 * (MAX_COUNT as usize + MAX_CANDIDATES_PER_PERIOD as usize + MAX_UPCOMING);

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
    /// is checked against its `DTSTART` here) or yields no occurrence from the start on (see
    /// [`Series::has_occurrence`]), and with field `due_datetime` when the start's local year is
    /// outside 1 to 9999. The end is not checked: a series that ends before its first occurrence
    /// is valid and empty. A [`Recurrence::None`] series has the start as its only occurrence.
    pub fn new(
        recurrence: Recurrence,
        timezone: TimeZone,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
    ) -> Result<Series, FieldError> {
        let series = Series::build(recurrence, timezone, start, end)?;
        if !series.has_occurrence() {
            return Err(FieldError::new(
                "rrule",
                ErrorCode::InvalidValue,
                "rrule yields no occurrence after the series start (or none within the search limit)",
            ));
        }
        Ok(series)
    }

    /// [`Series::new`] without the check that the rule yields an occurrence.
    fn build(
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
    /// no start, or its rule yields no occurrence, which [`Series::new`] rejects for new input);
    /// the start is `series_start`, else `due_datetime`.
    pub fn for_task(task: &Task) -> Result<Option<Series>, FieldError> {
        match (
            task.recurrence.is_recurring(),
            task.series_start.or(task.due_datetime),
        ) {
            (true, Some(start)) => {
                let series = Series::build(
                    task.recurrence.clone(),
                    task.timezone,
                    start,
                    task.recurrence_end_date,
                )?;
                Ok(series.has_occurrence().then_some(series))
            }
            _ => Ok(None),
        }
    }

    /// Whether the series has an occurrence at all, ignoring its end: always for a pattern or a
    /// series that does not repeat; for a rule, whether it yields an occurrence at or after the
    /// start before `UNTIL`, `COUNT` and the year 9999 end it and before the `rrule` crate gives up
    /// (after 100,000 consecutive periods without one). The start counts only if it matches the
    /// rule. A rule that yields nothing is `FREQ=DAILY;UNTIL=` before the start, a date that does
    /// not exist (`FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30`), or a next period past the year 9999
    /// (`FREQ=YEARLY;INTERVAL=65535;BYMONTH=1` from March).
    pub fn has_occurrence(&self) -> bool {
        match &self.engine {
            Engine::Once | Engine::Pattern(_) => true,
            // Any occurrence will do, not only the first: no need to look past it.
            Engine::Rule(rule) => {
                let until = rule.until();
                let stop = until.and_then(|u| self.past(u));
                let walk = rule.occurrences_from(self.start_local);
                for local in walk.take(MAX_EXPANSION_STEPS) {
                    if stop.is_some_and(|s| local > s) {
                        return false;
                    }
                    // `None`: past the supported years, and so is everything after.
                    let Some(t) = self.instant(local) else {
                        return false;
                    };
                    if t >= self.start && until.is_none_or(|u| t <= u) {
                        return true;
                    }
                }
                false
            }
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
    /// the [`Series::next_after`] of the one before. An RRULE is expanded once, from where
    /// `next_after(after)` starts, not once per occurrence: with `COUNT` every expansion starts at
    /// `DTSTART`.
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let n = n.min(MAX_UPCOMING);
        if let Engine::Rule(rule) = &self.engine {
            if self.end.is_some_and(|e| e <= after) {
                return Vec::new();
            }
            return self.rule_after(rule, after, self.end, n);
        }
        let mut out = Vec::new();
        let mut t = after;
        while out.len() < n {
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

    /// A wall-clock time after which every wall-clock time is an instant after `limit`: `limit`
    /// plus the largest offset in force around it.
    fn past(&self, limit: DateTime<Utc>) -> Option<NaiveDateTime> {
        let (_, hi) = local::offset_bounds(self.timezone.tz(), limit.naive_utc());
        limit.naive_utc().checked_add_signed(Duration::seconds(hi))
    }

    fn next_of_rule(&self, rule: &CompiledRule, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.rule_after(rule, after, self.end, 1).first().copied()
    }

    /// Up to `n` occurrences of the rule strictly after `after` and not after `end`, ascending, in
    /// one pass over the expansion.
    ///
    /// The expansion yields wall-clock times in ascending order, but their instants can be out of
    /// order within the offset change of a DST transition. So instants are collected in order,
    /// and the earliest is final once the wall-clock times have passed it by the largest offset
    /// in force around it: every later one is a later instant.
    fn rule_after(
        &self,
        rule: &CompiledRule,
        after: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
        n: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        if n == 0 {
            return out;
        }
        let tz = self.timezone.tz();
        let seconds = |s: i64| Duration::seconds(s);
        // A wall-clock time `l` near instant `t` is the instant `l - o` for an offset `o` in force
        // near `t`, so `l - o > after` needs `l > after + min(o)`.
        let from = if after < self.start {
            self.start_local
        } else {
            let (lo, _) = local::offset_bounds(tz, after.naive_utc());
            match after.naive_utc().checked_add_signed(seconds(lo)) {
                Some(from) if local::in_range(from) => from,
                _ => return out,
            }
        };
        let past = |limit| self.past(limit);
        let until = rule.until();
        let last = match (until, end) {
            (Some(u), Some(e)) => Some(u.min(e)),
            (l, None) | (None, l) => l,
        };
        let stop = last.and_then(past);
        // Instants found but not yet known to be the earliest left, and when the earliest is.
        let mut pending = BTreeSet::new();
        let mut settled: Option<NaiveDateTime> = None;
        for local in rule.occurrences_from(from).take(MAX_EXPANSION_STEPS) {
            if stop.is_some_and(|s| local > s) {
                break;
            }
            while settled.is_some_and(|s| local > s) {
                out.extend(pending.pop_first());
                if out.len() == n {
                    return out;
                }
                settled = pending.first().copied().and_then(past);
            }
            // `None`: past the supported years, and so is everything after.
            let Some(t) = self.instant(local) else { break };
            // A wall-clock time in a repeated hour after a start at its second occurrence means
            // the first one, which can be before the start: not an occurrence.
            if t <= after || t < self.start || last.is_some_and(|l| t > l) {
                continue;
            }
            if pending.first().is_none_or(|first| t < *first) {
                settled = past(t);
            }
            pending.insert(t);
        }
        out.extend(pending.into_iter().take(n - out.len()));
        out
    }
}

#[cfg(test)]
mod tests;
