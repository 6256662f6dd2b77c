//! The simple patterns (`daily`, `weekly`, `monthly`) as wall-clock arithmetic on the series start.

use chrono::{Datelike, Duration, Months, NaiveDateTime};

use crate::model::RecurrencePattern;

/// The wall-clock time of occurrence `k` (0 = the start): the start's local time plus `k` days,
/// `7k` days or `k` months. Always computed from the start, never from the previous occurrence,
/// so that a monthly series on the 31st falls on the last day of shorter months and returns to the
/// 31st after (chrono's month arithmetic clamps the day to the month's length).
pub(crate) fn nth(
    pattern: RecurrencePattern,
    start: NaiveDateTime,
    k: u32,
) -> Option<NaiveDateTime> {
    match pattern {
        RecurrencePattern::Daily => start.checked_add_signed(Duration::days(i64::from(k))),
        RecurrencePattern::Weekly => start.checked_add_signed(Duration::weeks(i64::from(k))),
        RecurrencePattern::Monthly => start.checked_add_months(Months::new(k)),
    }
}

/// An index `k` whose occurrence's wall-clock time is not after `target`, as large as cheaply
/// known (0 when `target` is before the start). Searching forward from it finds the next
/// occurrence in a few steps.
pub(crate) fn index_not_after(
    pattern: RecurrencePattern,
    start: NaiveDateTime,
    target: NaiveDateTime,
) -> u32 {
    let k = match pattern {
        RecurrencePattern::Daily => (target.date() - start.date()).num_days() - 1,
        RecurrencePattern::Weekly => (target.date() - start.date()).num_days() / 7 - 1,
        RecurrencePattern::Monthly => {
            let months = |d: NaiveDateTime| i64::from(d.year()) * 12 + i64::from(d.month0());
            months(target) - months(start) - 1
        }
    };
    u32::try_from(k.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap()
    }

    #[test]
    fn monthly_clamps_and_returns() {
        let s = at(2026, 1, 31);
        let got: Vec<_> = (0..5)
            .map(|k| nth(RecurrencePattern::Monthly, s, k).unwrap())
            .collect();
        assert_eq!(
            got,
            vec![
                at(2026, 1, 31),
                at(2026, 2, 28),
                at(2026, 3, 31),
                at(2026, 4, 30),
                at(2026, 5, 31)
            ]
        );
        assert_eq!(
            nth(RecurrencePattern::Monthly, at(2027, 12, 31), 2),
            Some(at(2028, 2, 29))
        );
    }

    #[test]
    fn lower_bound_is_not_after_target() {
        let s = at(2026, 1, 31);
        for p in [
            RecurrencePattern::Daily,
            RecurrencePattern::Weekly,
            RecurrencePattern::Monthly,
        ] {
            for days in [0, 1, 2, 6, 7, 8, 30, 31, 365, 4000] {
                let target = s + Duration::days(days);
                let k = index_not_after(p, s, target);
                assert!(nth(p, s, k).unwrap() <= target, "{p:?} {days}");
            }
            assert_eq!(index_not_after(p, s, at(2020, 1, 1)), 0);
        }
    }
}
