//! RFC 5545 RRULEs, expanded by the `rrule` crate in *floating* wall-clock time.
//!
//! The crate is given the series start as a wall-clock time in UTC (a zone without DST), so every
//! local time it generates exists exactly once; [`super::local::resolve`] then turns each into an
//! instant with the same RFC 5545 gap/overlap rules as the simple patterns. Run in the real zone,
//! the crate silently drops occurrences whose wall-clock time is skipped or repeated when the
//! zone's midnight is too (America/Havana, America/Santiago: spring forward at 00:00).
//!
//! `UNTIL` is removed from the rule before the crate sees it and applied to the resolved instants,
//! since the crate would compare it with the floating times.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc, Weekday,
};
use rrule::{Frequency, RRule, RRuleSet, Unvalidated, Validated};

use crate::error::{ErrorCode, FieldError};
use crate::model::RRuleText;
use crate::model::recurrence::check_cost;

/// A rule checked against its series start, ready to expand.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    /// The rule without `UNTIL`, its defaults (BYMONTHDAY, BYHOUR, ...) filled from the start.
    rule: RRule<Validated>,
    /// The start's wall-clock time, whole seconds (the crate's resolution).
    start: NaiveDateTime,
    /// The start's fraction of a second, added back to every occurrence.
    subsec: Duration,
    /// The rule's `UNTIL`.
    until: Option<DateTime<Utc>>,
}

impl CompiledRule {
    /// Validates `text` against the series start `start` (wall-clock time in the series' zone),
    /// and checks the cost limits ([`crate::model::recurrence::MAX_TIMES_PER_DAY`], ...) once the
    /// rule's defaults are filled: a rule that reached the store before a limit existed
    /// ([`RRuleText::parse_stored`]) is refused here, before anything expands it.
    pub(crate) fn new(text: &RRuleText, start: NaiveDateTime) -> Result<Self, FieldError> {
        let invalid = |e: &dyn std::fmt::Display| {
            FieldError::new(
                "rrule",
                ErrorCode::InvalidValue,
                format!("rrule does not fit the series start: {e}"),
            )
        };
        let whole = start.with_nanosecond(0).unwrap_or(start);
        let subsec = start - whole;
        let rule = text
            .without_until()
            .parse::<RRule<Unvalidated>>()
            .map_err(|e| invalid(&e))?
            .validate(floating(whole))
            .map_err(|e| invalid(&e))?;
        check_cost(&rule)?;
        Ok(CompiledRule {
            rule,
            start: whole,
            subsec,
            until: text.until(),
        })
    }

    /// The rule's `UNTIL`.
    pub(crate) fn until(&self) -> Option<DateTime<Utc>> {
        self.until
    }

    /// Wall-clock times of occurrences, ascending, starting no later than the first one at or after
    /// `from` (possibly a little earlier).
    ///
    /// Without `COUNT` the expansion starts at the beginning of the rule's period (year, month, week,
    /// day, hour, ...) that contains `from`, aligned to `INTERVAL` as counted from the series start,
    /// instead of at the series start: the rule's defaults are already filled from the real start, and
    /// each period's occurrences depend only on the period, so the result is the same and the cost does
    /// not grow with the age of the series. With `COUNT` the expansion must count from the start, so
    /// its cost grows with the number of occurrences before `from` (at most `COUNT`, itself at most
    /// [`crate::model::recurrence::MAX_COUNT`]).
    ///
    /// The crate stops after 100,000 consecutive periods without an occurrence (its iteration limit),
    /// so a rule that yields nothing more ends instead of counting periods up to the year 10000.
    /// With `HOURLY` and slower frequencies (the only ones [`RRuleText::parse`] accepts) no rule
    /// with a later occurrence within the years 1 to 9999 is known to reach it: the crate skips
    /// whole days that do not match, and every calendar pattern recurs within 400 years.
    pub(crate) fn occurrences_from(
        &self,
        from: NaiveDateTime,
    ) -> impl Iterator<Item = NaiveDateTime> + use<> {
        let dt_start = if self.rule.get_count().is_some() {
            self.start
        } else {
            self.period_start(from).unwrap_or(self.start)
        };
        let set = RRuleSet::new(floating(dt_start))
            .rrule(self.rule.clone())
            .limit();
        let subsec = self.subsec;
        (&set)
            .into_iter()
            .filter_map(move |t| t.naive_utc().checked_add_signed(subsec))
    }

    /// The start of the `INTERVAL`-aligned period containing `from`, if it is after the series start.
    fn period_start(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        if from <= self.start {
            return None;
        }
        let interval = i64::from(self.rule.get_interval().max(1));
        let s = self.start;
        let aligned = |units: i64| units.div_euclid(interval) * interval;
        let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0);
        let start = match self.rule.get_freq() {
            Frequency::Yearly => {
                let years = aligned(i64::from(from.year() - s.year()));
                midnight(NaiveDate::from_ymd_opt(
                    s.year() + i32::try_from(years).ok()?,
                    1,
                    1,
                )?)?
            }
            Frequency::Monthly => {
                let month = |d: NaiveDateTime| i64::from(d.year()) * 12 + i64::from(d.month0());
                let m = month(s) + aligned(month(from) - month(s));
                let year = i32::try_from(m.div_euclid(12)).ok()?;
                let month0 = u32::try_from(m.rem_euclid(12)).ok()?;
                midnight(NaiveDate::from_ymd_opt(year, month0 + 1, 1)?)?
            }
            Frequency::Weekly => {
                let wkst = self.rule.get_week_start();
                let week_of = |d: NaiveDate| d - Duration::days(days_since(d.weekday(), wkst));
                let (ws, wf) = (week_of(s.date()), week_of(from.date()));
                let weeks = aligned((wf - ws).num_days() / 7);
                midnight(ws.checked_add_signed(Duration::weeks(weeks))?)?
            }
            Frequency::Daily => {
                let days = aligned((from.date() - s.date()).num_days());
                midnight(s.date().checked_add_signed(Duration::days(days))?)?
            }
            Frequency::Hourly => sub_daily(s, from, Duration::hours(1), interval)?,
            Frequency::Minutely => sub_daily(s, from, Duration::minutes(1), interval)?,
            Frequency::Secondly => sub_daily(s, from, Duration::seconds(1), interval)?,
        };
        (start > s).then_some(start)
    }
}

/// The `interval`-aligned multiple of `unit` after `s` that starts the unit containing `from`
/// (naive time has no DST, so the crate's hour/minute/second counter is continuous).
fn sub_daily(
    s: NaiveDateTime,
    from: NaiveDateTime,
    unit: Duration,
    interval: i64,
) -> Option<NaiveDateTime> {
    let unit_secs = unit.num_seconds();
    let floor = |t: NaiveDateTime| {
        let secs = i64::from(t.num_seconds_from_midnight());
        t.date()
            .and_hms_opt(0, 0, 0)
            .map(|m| m + Duration::seconds(secs - secs % unit_secs))
    };
    let (fs, ff) = (floor(s)?, floor(from)?);
    let units = (ff - fs).num_seconds() / unit_secs;
    let aligned = units.div_euclid(interval) * interval;
    fs.checked_add_signed(Duration::seconds(aligned.checked_mul(unit_secs)?))
}

/// Days from the week start `wkst` back to `d`'s weekday.
fn days_since(d: Weekday, wkst: Weekday) -> i64 {
    i64::from((7 + d.num_days_from_monday() - wkst.num_days_from_monday()) % 7)
}

/// A wall-clock time as a date-time in the crate's UTC zone.
fn floating(t: NaiveDateTime) -> DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&t)
}
