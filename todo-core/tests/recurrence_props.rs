//! Properties of the recurrence engine over random series in zones with DST.

// Strategies and helpers are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone as _, Utc,
};
use proptest::prelude::*;
use todo_core::ErrorCode;
use todo_core::model::{RRuleText, Recurrence, RecurrencePattern, TimeZone};
use todo_core::recurrence::Series;

const ZONES: &[&str] = &[
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "America/Santiago",
    "America/Havana",
    "America/Sao_Paulo",
];

const RULES: &[&str] = &[
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=2;COUNT=30",
    "FREQ=WEEKLY;BYDAY=MO,WE,SA",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYDAY=2SU",
    "FREQ=YEARLY;BYMONTH=3,11;BYDAY=1SU,2SU",
    "FREQ=HOURLY;INTERVAL=5",
    "FREQ=DAILY;UNTIL=20300615T120000Z",
];

/// Rules that yield nothing from many starts: a date that does not exist, and `UNTIL` before the
/// first match.
const SPARSE_RULES: &[&str] = &[
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;UNTIL=20281231T000000Z",
    "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9",
    "FREQ=WEEKLY;BYDAY=SU;UNTIL=20200105T120000Z",
    "FREQ=YEARLY;INTERVAL=9000;BYMONTH=1;BYMONTHDAY=1",
];

const PATTERNS: [RecurrencePattern; 3] = [
    RecurrencePattern::Daily,
    RecurrencePattern::Weekly,
    RecurrencePattern::Monthly,
];

fn local(tz: chrono_tz::Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

/// A start at a random date from 2000 to 2039, often at night (where DST changes happen).
fn start() -> impl Strategy<Value = NaiveDateTime> {
    let hour = prop_oneof![0u32..24, Just(0), Just(1), Just(2), Just(3), Just(23)];
    (0i64..365 * 40, hour, 0u32..60).prop_map(|(d, h, m)| {
        NaiveDate::from_ymd_opt(2000, 1, 1)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
            + Duration::days(d)
    })
}

#[derive(Debug, Clone)]
struct Case {
    series: Series,
    after: DateTime<Utc>,
}

fn case() -> impl Strategy<Value = Case> {
    let recurrence = prop_oneof![
        (0..PATTERNS.len()).prop_map(|i| Recurrence::Pattern(PATTERNS[i])),
        (0..RULES.len()).prop_map(|i| Recurrence::Rule(RRuleText::parse(RULES[i]).unwrap())),
    ];
    (
        recurrence,
        0..ZONES.len(),
        start(),
        proptest::option::of(0i64..86_400 * 800),
        -86_400i64 * 10..86_400 * 3000,
    )
        .prop_filter_map(
            "a rule whose UNTIL is before its start has no occurrence",
            |(recurrence, zone, start, end, after)| {
                let tz = TimeZone::parse(ZONES[zone]).unwrap();
                let start = instant(tz, start);
                let end = end.map(|e| start + Duration::seconds(e));
                let series = Series::new(recurrence, tz, start, end).ok()?;
                Some(Case {
                    series,
                    after: start + Duration::seconds(after),
                })
            },
        )
}

/// The instant of a wall-clock time (the first of two; one in a gap is read as UTC).
fn instant(tz: TimeZone, local: NaiveDateTime) -> DateTime<Utc> {
    tz.tz()
        .from_local_datetime(&local)
        .earliest()
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

/// The local dates around which `tz` changes its offset in `year` (from noon-UTC samples).
fn transition_days(tz: chrono_tz::Tz, year: i32) -> Vec<NaiveDate> {
    use chrono::Offset;
    let noon = |d: NaiveDate| d.and_hms_opt(12, 0, 0).unwrap();
    let off = |d: NaiveDate| tz.offset_from_utc_datetime(&noon(d)).fix();
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    (1..366)
        .map(|i| first + Duration::days(i))
        .filter(|d| off(*d) != off(*d - Duration::days(1)))
        .collect()
}

/// A pattern series at night-time hours that reaches a DST change of its zone just after `after`.
fn dst_case() -> impl Strategy<Value = Case> {
    (
        0..PATTERNS.len(),
        0..ZONES.len(),
        2000i32..2040,
        0usize..4,
        0i64..70,
        prop_oneof![0u32..4, Just(23), 0u32..24],
        0u32..60,
    )
        .prop_filter_map(
            "zone without DST that year",
            |(p, zone, year, which, back, h, m)| {
                let tz = TimeZone::parse(ZONES[zone]).unwrap();
                let days = transition_days(tz.tz(), year);
                let day = *days.get(which % days.len().max(1))?;
                let start = (day - Duration::days(back * if p == 2 { 31 } else { 1 }))
                    .and_hms_opt(h, m, 0)?;
                let start = tz
                    .tz()
                    .from_local_datetime(&start)
                    .earliest()?
                    .with_timezone(&Utc);
                let after = tz
                    .tz()
                    .from_local_datetime(&(day - Duration::days(2)).and_hms_opt(0, 0, 0)?)
                    .earliest()?;
                let series = Series::new(Recurrence::Pattern(PATTERNS[p]), tz, start, None).ok()?;
                Some(Case {
                    series,
                    after: after.with_timezone(&Utc).max(start),
                })
            },
        )
}

/// Rules with several occurrences a day, whose wall-clock order and instant order differ around
/// DST changes.
const DENSE_RULES: &[&str] = &[
    "FREQ=HOURLY",
    "FREQ=HOURLY;BYMINUTE=0,20,40",
    "FREQ=HOURLY;INTERVAL=3;BYMINUTE=15,45",
    "FREQ=DAILY;BYHOUR=0,1,2,3;BYMINUTE=0,30",
    "FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=30;COUNT=400",
    "FREQ=HOURLY;COUNT=2000;BYMINUTE=10,50",
];

/// A dense rule that reaches a DST change of its zone within a day of `after`.
fn dst_rule_case() -> impl Strategy<Value = Case> {
    (
        0..DENSE_RULES.len(),
        0..ZONES.len(),
        2000i32..2040,
        0usize..4,
        0i64..40,
        0u32..24,
        0u32..60,
        -36i64..12,
    )
        .prop_filter_map(
            "zone without DST that year",
            |(r, zone, year, which, back, h, m, hours)| {
                let tz = TimeZone::parse(ZONES[zone]).unwrap();
                let days = transition_days(tz.tz(), year);
                let day = *days.get(which % days.len().max(1))?;
                let start = instant(tz, (day - Duration::days(back)).and_hms_opt(h, m, 0)?);
                let rule = Recurrence::Rule(RRuleText::parse(DENSE_RULES[r]).unwrap());
                let series = Series::new(rule, tz, start, None).ok()?;
                let after = instant(tz, day.and_hms_opt(0, 0, 0)?) + Duration::hours(hours);
                Some(Case { series, after })
            },
        )
}

/// How far the wall clock jumps at a gap that contains `naive` (0 when it exists).
fn gap_at(tz: chrono_tz::Tz, naive: NaiveDateTime) -> Option<Duration> {
    match tz.from_local_datetime(&naive) {
        LocalResult::None => {
            let before = tz.offset_from_utc_datetime(&(naive - Duration::days(1)));
            let after = tz.offset_from_utc_datetime(&(naive + Duration::days(1)));
            use chrono::Offset;
            Some(Duration::seconds(i64::from(
                after.fix().local_minus_utc() - before.fix().local_minus_utc(),
            )))
        }
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn next_is_after_and_within_the_end(c in case()) {
        if let Some(next) = c.series.next_after(c.after) {
            prop_assert!(next > c.after);
            prop_assert!(next >= c.series.start());
            if let Some(end) = c.series.end() {
                prop_assert!(next <= end);
            }
        } else if let (Recurrence::Pattern(_), None) = (c.series.recurrence(), c.series.end()) {
            prop_assert!(false, "an endless pattern always has a next occurrence");
        }
    }

    #[test]
    fn patterns_keep_the_wall_clock_time(c in prop_oneof![case(), dst_case(), dst_case()]) {
        let Recurrence::Pattern(p) = *c.series.recurrence() else { return Ok(()) };
        let tz = c.series.timezone().tz();
        let start = local(tz, c.series.start());
        for next in c.series.upcoming(c.after, 5) {
            if next == c.series.start() {
                continue;
            }
            let got = local(tz, next);
            // The wall-clock time the pattern asks for on the day of the occurrence.
            let wanted = match p {
                RecurrencePattern::Monthly => {
                    let day = start.day().min(days_in_month(got.year(), got.month()));
                    NaiveDate::from_ymd_opt(got.year(), got.month(), day).unwrap().and_time(start.time())
                }
                _ => got.date().and_time(start.time()),
            };
            match gap_at(tz, wanted) {
                // The time exists: exactly it, and the first of two when it is repeated.
                None => {
                    prop_assert_eq!(got, wanted);
                    prop_assert_eq!(Some(next), tz.from_local_datetime(&wanted).earliest().map(|t| t.with_timezone(&Utc)));
                }
                // Skipped by a DST change: shifted by the gap.
                Some(gap) => prop_assert_eq!(got, wanted + gap),
            }
            match p {
                RecurrencePattern::Daily => {}
                RecurrencePattern::Weekly => prop_assert_eq!(wanted.weekday(), start.weekday()),
                RecurrencePattern::Monthly => prop_assert!(wanted.day() == start.day() || wanted.day() == days_in_month(wanted.year(), wanted.month())),
            }
        }
    }

    #[test]
    fn upcoming_is_a_chain_of_next_after(
        c in prop_oneof![case(), dst_case(), dst_rule_case()],
        n in prop_oneof![0usize..12, 20usize..60],
    ) {
        let got = c.series.upcoming(c.after, n);
        prop_assert!(got.len() <= n);
        let mut prev = c.after;
        for t in &got {
            prop_assert_eq!(Some(*t), c.series.next_after(prev));
            prop_assert!(*t > prev);
            prev = *t;
        }
        if got.len() < n {
            prop_assert_eq!(c.series.next_after(prev), None);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A rule is accepted exactly when it yields an occurrence from the start on, which for a
    /// rule with `UNTIL` is when the same rule without it yields one before `UNTIL`.
    #[test]
    fn a_rule_is_valid_iff_it_yields_an_occurrence(
        rule in prop_oneof![
            (0..RULES.len()).prop_map(|i| RULES[i]),
            (0..SPARSE_RULES.len()).prop_map(|i| SPARSE_RULES[i]),
        ],
        zone in 0..ZONES.len(),
        start in start(),
    ) {
        let tz = TimeZone::parse(ZONES[zone]).unwrap();
        let start = instant(tz, start);
        let text = RRuleText::parse(rule).unwrap();
        let first = match Series::new(Recurrence::Rule(text.clone()), tz, start, None) {
            Ok(s) => {
                let first = s.upcoming(start - Duration::seconds(1), 1);
                prop_assert_eq!(first.len(), 1, "an accepted rule yields an occurrence");
                Some(first[0])
            }
            Err(e) => {
                prop_assert_eq!(e.field.as_str(), "rrule");
                prop_assert_eq!(e.code, ErrorCode::InvalidValue);
                None
            }
        };
        // The same rule without UNTIL, when it has one.
        let Some(until) = text.until() else {
            // Only `UNTIL`, a date that does not exist or the year 9999 end a rule here.
            if first.is_none() {
                prop_assert!(rule.contains("BYMONTHDAY=31") || rule.contains("INTERVAL=9000"), "{}", rule);
            }
            return Ok(());
        };
        let open: Vec<&str> = rule.split(';').filter(|p| !p.starts_with("UNTIL=")).collect();
        let open = Series::new(
            Recurrence::Rule(RRuleText::parse(&open.join(";")).unwrap()),
            tz,
            start,
            None,
        );
        let open_first = open.ok().and_then(|s| s.upcoming(start - Duration::seconds(1), 1).first().copied());
        prop_assert_eq!(first, open_first.filter(|t| *t <= until));
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    let first = NaiveDate::from_ymd_opt(y, m, 1).unwrap();
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    u32::try_from((next.unwrap() - first).num_days()).unwrap()
}
