//! Wall-clock time in an IANA zone: from an instant to local time and back, with the RFC 5545
//! rules for local times that a DST change skips or repeats.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The local years the engine computes in. Keeps every date computation (ours and the `rrule`
/// crate's, which stops at year 10000) far from chrono's limits, so nothing can overflow.
pub(crate) const MIN_YEAR: i32 = 1;
/// See [`MIN_YEAR`].
pub(crate) const MAX_YEAR: i32 = 9999;

/// The UTC offset, in seconds, in effect at instant `t`.
pub(crate) fn offset_at(tz: Tz, t: NaiveDateTime) -> i64 {
    i64::from(tz.offset_from_utc_datetime(&t).fix().local_minus_utc())
}

/// The wall-clock time of instant `t` in `tz`; `None` outside the supported years.
pub(crate) fn to_local(tz: Tz, t: DateTime<Utc>) -> Option<NaiveDateTime> {
    let utc = t.naive_utc();
    let local = utc.checked_add_signed(Duration::seconds(offset_at(tz, utc)))?;
    in_range(local).then_some(local)
}

/// Whether a local time lies within the supported years.
pub(crate) fn in_range(local: NaiveDateTime) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&local.year())
}

/// The instant of wall-clock time `local` in `tz`, following RFC 5545 section 3.3.5:
///
/// - a local time that occurs twice (the autumn fall-back overlap, e.g. 01:30 on the first Sunday of
///   November in America/New_York) means its **first** occurrence, i.e. the earlier instant (01:30 EDT);
/// - a local time that does not occur (the spring-forward gap, e.g. 02:30 on the second Sunday of March
///   in America/New_York) is interpreted **with the UTC offset before the gap**, so it lands as far after
///   the gap as it was into it: 02:30 becomes 03:30 EDT (07:30 UTC). A zone that skips a whole day
///   (Pacific/Apia, 2011-12-30) moves the time to the same wall-clock time of the next day.
///
/// `None` only outside the supported years.
pub(crate) fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    if !in_range(local) {
        return None;
    }
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => resolve_gap(tz, local),
    }
}

/// The instant of a local time inside a gap: the local time minus the offset before the gap.
fn resolve_gap(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    // As in TC39 Temporal: the offset a day before is the one before the gap, as no zone changes
    // its offset twice within a day.
    let day = Duration::days(1);
    let before = offset_at(tz, local.checked_sub_signed(day)?);
    let t = local
        .checked_sub_signed(Duration::seconds(before))?
        .and_utc();
    if to_local(tz, t).is_some_and(|l| l > local) {
        return Some(t);
    }
    // Unreachable with the tz database as it is; kept so that an odd zone still gets an answer:
    // the first local time after the gap.
    let step = Duration::minutes(15);
    let mut probe = local;
    for _ in 0..(2 * 24 * 4) {
        probe = probe.checked_add_signed(step)?;
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

/// The smallest and largest UTC offset (seconds) in effect within two days of instant `t`.
///
/// Wall-clock time `l` near `t` is the instant `l - o` for one of these offsets `o`, which bounds
/// how far local and UTC order can disagree around a DST change.
pub(crate) fn offset_bounds(tz: Tz, t: NaiveDateTime) -> (i64, i64) {
    let mut lo = offset_at(tz, t);
    let mut hi = lo;
    for d in [-2, -1, 1, 2] {
        if let Some(p) = t.checked_add_signed(Duration::days(d)) {
            let o = offset_at(tz, p);
            lo = lo.min(o);
            hi = hi.max(o);
        }
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_opt(h, mi, 0))
            .unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn rfc5545_examples() {
        let ny = chrono_tz::America::New_York;
        // RFC 5545 3.3.5: TZID=America/New_York:20071104T013000 is 01:30 EDT (the first one).
        assert_eq!(
            resolve(ny, naive(2007, 11, 4, 1, 30)),
            Some(utc("2007-11-04T05:30:00Z"))
        );
        // RFC 5545 3.3.5: TZID=America/New_York:20070311T023000 is 03:30 EDT.
        assert_eq!(
            resolve(ny, naive(2007, 3, 11, 2, 30)),
            Some(utc("2007-03-11T07:30:00Z"))
        );
    }

    #[test]
    fn gap_at_midnight_and_whole_day() {
        // Havana springs forward at midnight: 00:30 does not exist and becomes 01:30 CDT.
        assert_eq!(
            resolve(chrono_tz::America::Havana, naive(2026, 3, 8, 0, 30)),
            Some(utc("2026-03-08T05:30:00Z"))
        );
        // Apia skipped 2011-12-30; 09:00 that day is 09:00 on the 31st (+14:00).
        assert_eq!(
            resolve(chrono_tz::Pacific::Apia, naive(2011, 12, 30, 9, 0)),
            Some(utc("2011-12-30T19:00:00Z"))
        );
    }

    #[test]
    fn lord_howe_half_hour() {
        let lh = chrono_tz::Australia::Lord_Howe;
        // Spring: 02:00 +10:30 -> 02:30 +11:00 on 2026-10-04; 02:15 becomes 02:45 +11:00.
        assert_eq!(
            resolve(lh, naive(2026, 10, 4, 2, 15)),
            Some(utc("2026-10-03T15:45:00Z"))
        );
        // Autumn: 02:00 +11:00 -> 01:30 +10:30 on 2026-04-05; 01:45 is first taken at +11:00.
        assert_eq!(
            resolve(lh, naive(2026, 4, 5, 1, 45)),
            Some(utc("2026-04-04T14:45:00Z"))
        );
    }

    #[test]
    fn out_of_range() {
        assert_eq!(resolve(chrono_tz::UTC, naive(10000, 1, 1, 0, 0)), None);
        assert_eq!(to_local(chrono_tz::UTC, DateTime::<Utc>::MAX_UTC), None);
        assert_eq!(
            to_local(chrono_tz::Pacific::Kiritimati, DateTime::<Utc>::MAX_UTC),
            None
        );
        assert_eq!(
            to_local(chrono_tz::Pacific::Niue, DateTime::<Utc>::MIN_UTC),
            None
        );
    }
}
