//! What the recurrence cost limits leave (issue 14): time and peak memory of validating a rule
//! (parse, checks, build the series, "has an occurrence") and of its next occurrences, for the
//! most expensive rules the limits still accept; and how fast the attack rule they were made for
//! is refused. Peak memory is the process's `VmHWM`, reset before each rule through
//! `/proc/self/clear_refs` and printed once before the timings.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::Duration as Span;
use criterion::{Criterion, criterion_group, criterion_main};
use todo_benches::recurrence_data;
use todo_benches::rrule_limits_data;
use todo_core::FieldError;
use todo_core::model::{RRuleText, Recurrence, TimeZone};
use todo_core::recurrence::Series;

/// Parses and validates a rule into a series from `now`, as `POST /tasks` does.
fn validate(rule: &str) -> Result<Series, FieldError> {
    let text = RRuleText::parse(rule)?;
    Series::new(
        Recurrence::Rule(text),
        TimeZone::parse("Europe/Berlin")?,
        recurrence_data::now(),
        None,
    )
}

/// How far into a series the timings ask: near the end of a `COUNT=100000` series of 96 dates a
/// day, where a counted rule costs most (it is counted from its start).
const IN: Span = Span::days(1000);

/// Validation plus what completing the task does (`next_after` its due date) and a preview of
/// 100 dates [`IN`] the series, as one unit of work.
fn full(rule: &str) -> usize {
    match validate(rule) {
        Ok(s) => {
            let mid = s.start() + IN;
            usize::from(s.next_after(s.start()).is_some()) + s.upcoming(mid, 100).len()
        }
        Err(_) => 0,
    }
}

/// The process's peak resident memory (KiB), after resetting it, around `f`.
fn peak_kib(f: impl FnOnce()) -> Option<u64> {
    let read = || -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmHWM"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let before = read()?;
    f();
    Some(read()?.saturating_sub(before))
}

fn bench(c: &mut Criterion) {
    let attack = rrule_limits_data::attack();
    match validate(&attack) {
        Err(refused) => assert_eq!(refused.code.as_str(), "too_complex", "{refused}"),
        Ok(_) => panic!("the attack rule is accepted"),
    }
    let worst = rrule_limits_data::worst();
    for (name, rule) in &worst {
        let t = Instant::now();
        let mut n = 0;
        let peak = peak_kib(|| n = full(rule));
        eprintln!(
            "rrule_limits: {name}: validate + next_after + upcoming(100) = {n} dates in {:?}, \
             peak RSS +{} KiB ({} chars)",
            t.elapsed(),
            peak.map_or("?".to_owned(), |p| p.to_string()),
            rule.len()
        );
    }
    let t = Instant::now();
    let peak = peak_kib(|| {
        let _ = black_box(validate(&attack));
    });
    eprintln!(
        "rrule_limits: attack refused in {:?}, peak RSS +{} KiB",
        t.elapsed(),
        peak.map_or("?".to_owned(), |p| p.to_string())
    );

    let mut g = c.benchmark_group("rrule_limits");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("attack_refused", |b| {
        b.iter(|| validate(black_box(&attack)).is_err())
    });
    for (name, rule) in &worst {
        g.bench_function(format!("{name}/validate"), |b| {
            b.iter(|| validate(black_box(rule)).is_ok())
        });
        if let Ok(series) = validate(rule) {
            let mid = series.start() + IN;
            g.bench_function(format!("{name}/next_after"), |b| {
                b.iter(|| series.next_after(black_box(mid)))
            });
            g.bench_function(format!("{name}/upcoming_100"), |b| {
                b.iter(|| series.upcoming(black_box(mid), 100).len())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
