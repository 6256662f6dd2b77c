//! Properties of the list query: the engine equals a naive filter and sort, paging visits every
//! match exactly once, queries round-trip through parameters, and parsing never panics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cmp::Ordering;
use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use todo_core::model::Priority;
use todo_core::query::{
    Limit, Page, Queryable, SortKey, SortOrder, StatusFilter, TagFilter, TagsMode, TaskQuery,
    apply, matches,
};
use todo_core::{TagId, TaskId};

#[derive(Debug, Clone)]
struct Item {
    id: i64,
    title: String,
    description: Option<String>,
    completed: bool,
    due: Option<DateTime<Utc>>,
    priority: Priority,
    tags: Vec<TagId>,
    created: DateTime<Utc>,
}

impl Queryable for Item {
    fn id(&self) -> TaskId {
        TaskId::new(self.id)
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    fn completed(&self) -> bool {
        self.completed
    }
    fn due(&self) -> Option<DateTime<Utc>> {
        self.due
    }
    fn priority(&self) -> Priority {
        self.priority
    }
    fn tag_ids(&self) -> &[TagId] {
        &self.tags
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created
    }
}

/// One of a few instants, so that ties are common; sub-second parts included.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..6, prop_oneof![Just(0u32), Just(500_000_000u32)]).prop_map(|(h, nanos)| {
        Utc.timestamp_opt(1_767_225_600 + h * 3600, nanos)
            .single()
            .unwrap_or_default()
    })
}

/// Short text over an alphabet with case pairs, non-ASCII letters, LIKE wildcards and a
/// character whose lowercase is ASCII (the Kelvin sign).
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just('A'),
            Just('b'),
            Just('B'),
            Just('é'),
            Just('É'),
            Just('ß'),
            Just('%'),
            Just('_'),
            Just(' '),
            Just('\u{212A}'),
            Just('k'),
        ],
        1..8,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn priority() -> impl Strategy<Value = Priority> {
    prop_oneof![
        Just(Priority::High),
        Just(Priority::Medium),
        Just(Priority::Low)
    ]
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    proptest::collection::vec(
        (
            text(),
            proptest::option::of(text()),
            any::<bool>(),
            proptest::option::of(instant()),
            priority(),
            proptest::collection::btree_set(1i64..5, 0..3),
            instant(),
        ),
        0..40,
    )
    .prop_perturb(|rows, mut rng| {
        // Unique ids in an arbitrary order, so the input order is not the id order.
        let mut ids: Vec<i64> = (1..=rows.len() as i64).collect();
        for i in (1..ids.len()).rev() {
            let j = rng.random_range(0..=i);
            ids.swap(i, j);
        }
        rows.into_iter()
            .zip(ids)
            .map(
                |((title, description, completed, due, priority, tags, created), id)| Item {
                    id,
                    title,
                    description,
                    completed,
                    due,
                    priority,
                    tags: tags.into_iter().rev().map(TagId::new).collect(),
                    created,
                },
            )
            .collect()
    })
}

/// Lowercase search words without whitespace, as `from_pairs` makes them.
fn search_words() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(
        prop_oneof![
            3 => text().prop_map(|t| t.chars().flat_map(char::to_lowercase).collect::<String>()),
            1 => "[^\\s]{1,6}".prop_map(|t| t.chars().flat_map(char::to_lowercase).collect::<String>()),
        ]
        .prop_filter_map("a word without whitespace, stable under lowercasing", |w| {
            let w: String = w.split_whitespace().collect();
            (!w.is_empty() && w.chars().flat_map(char::to_lowercase).collect::<String>() == w).then_some(w)
        }),
        0..3,
    )
}

/// A query as `from_pairs` can produce it (canonical priorities, start <= end).
fn query() -> impl Strategy<Value = TaskQuery> {
    (
        prop_oneof![2 => Just(Vec::new()), 1 => search_words()],
        prop_oneof![
            Just(StatusFilter::All),
            Just(StatusFilter::Pending),
            Just(StatusFilter::Completed)
        ],
        proptest::sample::subsequence(Priority::ALL.to_vec(), 0..=3),
        proptest::option::of(instant()),
        proptest::option::of(instant()),
        proptest::option::of((
            proptest::collection::vec(1i64..6, 1..3),
            prop_oneof![Just(TagsMode::Any), Just(TagsMode::All)],
        )),
        prop_oneof![
            Just(SortKey::CreatedAt),
            Just(SortKey::DueDatetime),
            Just(SortKey::Priority),
            Just(SortKey::Title)
        ],
        prop_oneof![Just(SortOrder::Asc), Just(SortOrder::Desc)],
        1u32..=100,
        prop_oneof![3 => 0u64..50, 1 => any::<u64>().prop_map(|o| o >> 1)],
    )
        .prop_map(
            |(search, status, priorities, a, b, tags, sort_by, sort_order, limit, offset)| {
                let (due_start, due_end) = match (a, b) {
                    (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
                    other => other,
                };
                TaskQuery {
                    search,
                    status,
                    priorities,
                    due_start,
                    due_end,
                    tags: tags.and_then(|(ids, mode)| {
                        TagFilter::new(ids.into_iter().map(TagId::new).collect(), mode)
                    }),
                    sort_by,
                    sort_order,
                    limit: Limit::new(limit).unwrap_or_default(),
                    offset,
                }
            },
        )
}

// The naive reference: a predicate and a comparator written out in full.

fn naive_matches(q: &TaskQuery, t: &Item) -> bool {
    let title = t
        .title
        .chars()
        .flat_map(char::to_lowercase)
        .collect::<String>();
    let description = t
        .description
        .as_deref()
        .unwrap_or("")
        .chars()
        .flat_map(char::to_lowercase)
        .collect::<String>();
    let words = q
        .search
        .iter()
        .all(|w| title.contains(w.as_str()) || description.contains(w.as_str()));
    let status = match q.status {
        StatusFilter::All => true,
        StatusFilter::Pending => !t.completed,
        StatusFilter::Completed => t.completed,
    };
    let priority = q.priorities.is_empty() || q.priorities.contains(&t.priority);
    let due = match (q.due_start, q.due_end, t.due) {
        (None, None, _) => true,
        (_, _, None) => false,
        (s, e, Some(d)) => s.is_none_or(|s| s <= d) && e.is_none_or(|e| d <= e),
    };
    let tags = match &q.tags {
        None => true,
        Some(f) if f.mode() == TagsMode::Any => f.ids().iter().any(|id| t.tags.contains(id)),
        Some(f) => f.ids().iter().all(|id| t.tags.contains(id)),
    };
    words && status && priority && due && tags
}

fn naive_cmp(q: &TaskQuery, a: &Item, b: &Item) -> Ordering {
    let dir = |o: Ordering| {
        if q.sort_order == SortOrder::Asc {
            o
        } else {
            o.reverse()
        }
    };
    let key = match q.sort_by {
        SortKey::CreatedAt => dir(a.created.cmp(&b.created)),
        SortKey::Priority => dir(a.priority.rank().cmp(&b.priority.rank())),
        SortKey::Title => dir(a
            .title
            .chars()
            .flat_map(char::to_lowercase)
            .collect::<String>()
            .cmp(
                &b.title
                    .chars()
                    .flat_map(char::to_lowercase)
                    .collect::<String>(),
            )),
        SortKey::DueDatetime => match (a.due, b.due) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => dir(x.cmp(&y)),
        },
    };
    key.then_with(|| dir(a.id.cmp(&b.id)))
}

fn naive_all(q: &TaskQuery, items: &[Item]) -> Vec<i64> {
    let mut hits: Vec<&Item> = items.iter().filter(|t| naive_matches(q, t)).collect();
    hits.sort_by(|a, b| naive_cmp(q, a, b));
    hits.iter().map(|t| t.id).collect()
}

fn ids(p: &Page<&Item>) -> Vec<i64> {
    p.items.iter().map(|t| t.id).collect()
}

fn pairs(q: &TaskQuery) -> Vec<(String, String)> {
    q.to_pairs()
}

fn reparse(p: &[(String, String)]) -> Result<TaskQuery, todo_core::ValidationErrors> {
    TaskQuery::from_pairs(p.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// A parameter name: mostly known ones, sometimes anything.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(todo_core::query::PARAMETERS.to_vec()).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// A value: mostly plausible ones, sometimes anything.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "-?[0-9]{0,25}",
        "[a-zA-Z_ ,]{0,12}",
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-][01][0-9]:[0-5][0-9])",
        "[0-9 ,]{0,10}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn engine_equals_naive_filter_and_sort(items in items(), q in query()) {
        let all = naive_all(&q, &items);
        let page = apply(&q, &items);
        let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
        let want: Vec<i64> = all.iter().skip(offset).take(q.limit.get() as usize).copied().collect();
        prop_assert_eq!(ids(&page), want);
        prop_assert_eq!(page.total, all.len() as u64);
        prop_assert_eq!(page.limit, q.limit.get());
        prop_assert_eq!(page.offset, q.offset);
        for t in &items {
            prop_assert_eq!(matches(&q, t), naive_matches(&q, t), "item {:?}", t);
        }
    }

    #[test]
    fn paging_visits_every_match_exactly_once(items in items(), q in query(), limit in 1u32..8) {
        let mut q = q;
        q.limit = Limit::new(limit).unwrap_or_default();
        q.offset = 0;
        let mut seen: Vec<i64> = Vec::new();
        let total = apply(&q, &items).total;
        loop {
            let page = apply(&q, &items);
            prop_assert_eq!(page.total, total);
            if page.items.is_empty() {
                break;
            }
            prop_assert!(page.items.len() <= limit as usize);
            seen.extend(ids(&page));
            q.offset += u64::from(limit);
        }
        prop_assert_eq!(seen.len() as u64, total);
        let unique: BTreeSet<i64> = seen.iter().copied().collect();
        prop_assert_eq!(unique.len(), seen.len(), "a task appeared twice: {:?}", seen);
        let matching: BTreeSet<i64> = items.iter().filter(|t| matches(&q, *t)).map(|t| t.id).collect();
        prop_assert_eq!(unique, matching);
        q.offset = 0;
        q.limit = Limit::new(100).unwrap_or_default();
        if total <= 100 {
            prop_assert_eq!(ids(&apply(&q, &items)), seen);
        }
    }

    #[test]
    fn queries_round_trip_through_parameters(q in query()) {
        let p = pairs(&q);
        prop_assert_eq!(reparse(&p), Ok(q), "pairs {:?}", p);
    }

    #[test]
    fn from_pairs_never_panics(raw in proptest::collection::vec((key(), value()), 0..8)) {
        // And whatever it accepts renders back to itself.
        if let Ok(q) = reparse(&raw) {
            prop_assert_eq!(reparse(&pairs(&q)), Ok(q.clone()));
            prop_assert!(q.search.len() <= todo_core::query::SEARCH_MAX_WORDS);
            prop_assert!(q.due_start.zip(q.due_end).is_none_or(|(s, e)| s <= e));
        }
    }
}
