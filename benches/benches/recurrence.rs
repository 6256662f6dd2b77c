//! The next occurrence of 10,000 repeating series (patterns and RRULEs across zones), as the
//! service computes it when tasks are completed: with the series already built, and with parsing
//! and validation included. Then the worst case of a counted rule: `next_after` and a preview of
//! 100 dates near the end of `FREQ=HOURLY;COUNT=100000`, which is counted from its start.

use std::hint::black_box;
use std::time::Duration;

use chrono::Duration as Span;
use criterion::{Criterion, criterion_group, criterion_main};
use todo_benches::recurrence_data::{self, Spec};
use todo_core::model::{RRuleText, Recurrence, TimeZone};
use todo_core::recurrence::Series;

const N: usize = 10_000;

fn build_all(specs: &[Spec]) -> Vec<Series> {
    specs
        .iter()
        .map(|s| match recurrence_data::build(s) {
            Ok(series) => series,
            Err(e) => panic!("benchmark series {s:?} is invalid: {e}"),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let specs = recurrence_data::specs(N);
    let series = build_all(&specs);
    let now = recurrence_data::now();
    let found = series
        .iter()
        .filter(|s| s.next_after(now).is_some())
        .count();
    assert!(
        found > N / 2,
        "most series still have a next occurrence ({found})"
    );

    let mut g = c.benchmark_group("recurrence");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    g.bench_function("next_after_10k_built", |b| {
        b.iter(|| {
            series
                .iter()
                .filter_map(|s| s.next_after(black_box(now)))
                .count()
        })
    });
    g.bench_function("parse_build_next_after_10k", |b| {
        b.iter(|| {
            specs
                .iter()
                .filter_map(|s| recurrence_data::build(black_box(s)).ok()?.next_after(now))
                .count()
        })
    });
    g.bench_function("upcoming_10_of_1k_built", |b| {
        b.iter(|| {
            series[..1000]
                .iter()
                .map(|s| s.upcoming(black_box(now), 10).len())
                .sum::<usize>()
        })
    });
    g.finish();

    let long = match RRuleText::parse("FREQ=HOURLY;COUNT=100000")
        .and_then(|r| Series::new(Recurrence::Rule(r), TimeZone::UTC, now, None))
    {
        Ok(series) => series,
        Err(e) => panic!("the long counted series is invalid: {e}"),
    };
    let near_end = now + Span::hours(99_000);
    assert_eq!(long.upcoming(near_end, 100).len(), 100);
    let mut g = c.benchmark_group("recurrence_count_100k");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    g.bench_function("next_after_near_end", |b| {
        b.iter(|| long.next_after(black_box(near_end)))
    });
    g.bench_function("upcoming_100_near_end", |b| {
        b.iter(|| long.upcoming(black_box(near_end), 100).len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
