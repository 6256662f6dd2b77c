//! The list query over 10,000 tasks: filter, sort and page, as the in-memory store and the
//! hosts run it. Target: under 2 ms per query.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use todo_benches::query_data;
use todo_core::model::Task;
use todo_core::query::{TaskQuery, apply};

const N: usize = 10_000;

fn query(pairs: &[(&str, &str)]) -> TaskQuery {
    match TaskQuery::from_pairs(pairs.iter().copied()) {
        Ok(q) => q,
        Err(e) => panic!("benchmark query {pairs:?} is invalid: {e}"),
    }
}

fn data() -> Vec<Task> {
    match query_data::tasks(N, 42) {
        Ok(t) => t,
        Err(e) => panic!("benchmark data: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    let tasks = data();
    let cases: Vec<(&str, TaskQuery)> = vec![
        ("default_created_desc", query(&[])),
        (
            "search_status_priority_by_title",
            query(&[
                ("search", "report"),
                ("status", "pending"),
                ("priority", "High,Medium"),
                ("sort_by", "title"),
                ("sort_order", "asc"),
            ]),
        ),
        (
            "due_range_by_due",
            query(&[
                ("due_date_start", "2026-01-15T00:00:00Z"),
                ("due_date_end", "2026-02-15T00:00:00Z"),
                ("sort_by", "due_datetime"),
                ("sort_order", "asc"),
            ]),
        ),
        ("tags_all", query(&[("tags", "3,7"), ("tags_mode", "all")])),
        (
            "two_words_by_due_desc",
            query(&[("search", "Plan budget"), ("sort_by", "due_datetime")]),
        ),
        (
            "title_sort_deep_page",
            query(&[("sort_by", "title"), ("limit", "100"), ("offset", "5000")]),
        ),
    ];
    let mut g = c.benchmark_group("query_10k");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    for (name, q) in &cases {
        g.bench_function(*name, |b| {
            b.iter(|| apply(black_box(q), black_box(&tasks)).total)
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
