//! Applying a [`TaskQuery`] to tasks in memory. SQL adapters mirror these semantics exactly:
//!
//! **Filters** (all must hold; see [`matches`]):
//! - `search`: every word occurs, as a plain substring (no wildcards: `%` and `_` are literal),
//!   in [`search_text`] of the task. Words are lowercased with [`fold_case`] and contain no
//!   whitespace, so a word never spans title and description.
//! - `status`: `pending` = not completed, `completed` = completed, `all` = both.
//! - `priority`: the task's priority is in the set (an empty set allows all).
//! - due range: `due_date_start <= due_datetime <= due_date_end`, both ends inclusive; a task
//!   without a due date matches only when neither bound is given.
//! - `tags`: `any` = the task has at least one of the ids; `all` = it has every one of them.
//!
//! **Order** (see [`apply`]): by the sort key in the sort direction, ties broken by task id in
//! the same direction, so the order is total and pages never overlap or skip.
//! - `created_at`: by instant.
//! - `due_datetime`: by instant; tasks without a due date come last in both directions (SQL:
//!   `ORDER BY due_datetime IS NULL, due_datetime {dir}, id {dir}`).
//! - `priority`: by [`Priority::rank`](crate::model::Priority::rank), `asc` = Low first.
//! - `title`: by [`title_key`] compared as byte strings (SQL: a stored key column with a binary
//!   collation, `COLLATE "C"` in PostgreSQL, SQLite's default `BINARY`).
//!
//! **Page**: `total` counts every match; the items are positions `[offset, offset + limit)` of
//! the ordered matches (empty when `offset >= total`).

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::{Page, Queryable, SortKey, SortOrder, StatusFilter, TagsMode, TaskQuery};

/// Lowercases every character on its own (`char::to_lowercase`). Unlike `str::to_lowercase`
/// it ignores context (a final `Σ` becomes `σ` like any other), so a word folds the same
/// wherever it stands and `ΟΔΟΣ` finds `ΟΔΟΣΟΣ`.
pub fn fold_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_folded(&mut out, s);
    out
}

/// Appends [`fold_case`] of `s` to `out`; ASCII text (the common case) byte by byte.
fn push_folded(out: &mut String, s: &str) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else {
        out.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// The lowercased text that search words are matched against: [`fold_case`] of the title,
/// followed, when there is a description, by `"\n"` and [`fold_case`] of the description.
/// SQL adapters store it in a column and match each word with `LIKE '%word%' ESCAPE ...`
/// (escaping `%`, `_` and the escape character in the word).
pub fn search_text(title: &str, description: Option<&str>) -> String {
    let mut s = String::with_capacity(title.len() + description.map_or(0, |d| d.len() + 1));
    push_folded(&mut s, title);
    if let Some(d) = description {
        s.push('\n');
        push_folded(&mut s, d);
    }
    s
}

/// The case-insensitive sort key of a title: [`fold_case`] of it. Titles sort by these
/// keys compared as byte strings (which for UTF-8 is the order of code points).
pub fn title_key(title: &str) -> String {
    fold_case(title)
}

/// Whether the item passes every filter of the query (sorting and paging aside).
pub fn matches<T: Queryable>(q: &TaskQuery, item: &T) -> bool {
    Matcher::new(q).matches(item)
}

/// Filters, sorts and pages `items`; see the module documentation for the exact semantics.
pub fn apply<'a, T: Queryable>(q: &TaskQuery, items: &'a [T]) -> Page<&'a T> {
    let mut m = Matcher::new(q);
    let dir = q.sort_order;
    match q.sort_by {
        SortKey::CreatedAt => select(
            q,
            items,
            &mut m,
            |t| instant_key(t.created_at()),
            |a, b| directed(a.cmp(b), dir),
        ),
        SortKey::DueDatetime => select(
            q,
            items,
            &mut m,
            |t| t.due().map(instant_key),
            |a, b| match (a, b) {
                (Some(a), Some(b)) => directed(a.cmp(b), dir),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
        ),
        SortKey::Priority => select(
            q,
            items,
            &mut m,
            |t| t.priority().rank(),
            |a, b| directed(a.cmp(b), dir),
        ),
        SortKey::Title => select(q, items, &mut m, TitleKey::of, |a, b| {
            directed(a.cmp_key(b), dir)
        }),
    }
}

/// An instant as one integer (nanoseconds since the epoch, without overflow).
fn instant_key(t: DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos())
}

fn directed(o: Ordering, dir: SortOrder) -> Ordering {
    match dir {
        SortOrder::Asc => o,
        SortOrder::Desc => o.reverse(),
    }
}

/// A matching item with its precomputed sort key.
struct Entry<'a, T, K> {
    key: K,
    item: &'a T,
    /// The position in the input: a last tie-breaker, only reached if ids repeat, that keeps
    /// the result deterministic.
    index: usize,
}

/// Filters, then orders by `cmp` on the keys, then by id in the query's direction, and returns
/// the page. Only the first `offset + limit` entries are sorted.
fn select<'a, T: Queryable, K>(
    q: &TaskQuery,
    items: &'a [T],
    m: &mut Matcher<'_>,
    key: impl Fn(&'a T) -> K,
    cmp: impl Fn(&K, &K) -> Ordering,
) -> Page<&'a T> {
    let mut hits: Vec<Entry<'a, T, K>> = items
        .iter()
        .enumerate()
        .filter(|(_, t)| m.matches(*t))
        .map(|(index, item)| Entry {
            key: key(item),
            item,
            index,
        })
        .collect();
    let total = hits.len();
    let dir = q.sort_order;
    let order = |a: &Entry<'a, T, K>, b: &Entry<'a, T, K>| {
        cmp(&a.key, &b.key)
            .then_with(|| directed(a.item.id().cmp(&b.item.id()), dir))
            .then_with(|| a.index.cmp(&b.index))
    };
    let limit = q.limit.get() as usize;
    let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
    let items = if offset >= total {
        Vec::new()
    } else {
        let end = offset.saturating_add(limit).min(total);
        if end < total {
            hits.select_nth_unstable_by(end - 1, order);
            hits.truncate(end);
        }
        hits.sort_unstable_by(order);
        hits[offset..].iter().map(|e| e.item).collect()
    };
    Page {
        items,
        total: total as u64,
        limit: q.limit.get(),
        offset: q.offset,
    }
}

/// A title's sort key without allocating for ASCII titles: the bytes of [`title_key`] are the
/// ASCII-lowercased bytes of the title when it is ASCII, else those of the lowercased title
/// (which has no ASCII upper case left, so lowercasing its bytes again changes nothing).
struct TitleKey<'a> {
    /// The first 8 key bytes, big-endian, zero-padded: when two prefixes differ they order the
    /// keys (a zero pad only ever stands where the shorter key has ended), so most comparisons
    /// never look at the text.
    prefix: u64,
    text: KeyText<'a>,
}

enum KeyText<'a> {
    Ascii(&'a str),
    Folded(String),
}

impl<'a> TitleKey<'a> {
    fn of<T: Queryable>(t: &'a T) -> Self {
        let title = t.title();
        let text = if title.is_ascii() {
            KeyText::Ascii(title)
        } else {
            KeyText::Folded(title_key(title))
        };
        let mut head = [0u8; 8];
        for (h, b) in head.iter_mut().zip(text.bytes()) {
            *h = b.to_ascii_lowercase();
        }
        TitleKey {
            prefix: u64::from_be_bytes(head),
            text,
        }
    }

    /// Compares the keys as byte strings of [`title_key`].
    fn cmp_key(&self, other: &Self) -> Ordering {
        self.prefix.cmp(&other.prefix).then_with(|| {
            let (a, b) = (self.text.bytes(), other.text.bytes());
            a.iter()
                .map(u8::to_ascii_lowercase)
                .cmp(b.iter().map(u8::to_ascii_lowercase))
        })
    }
}

impl KeyText<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            KeyText::Ascii(s) => s.as_bytes(),
            KeyText::Folded(s) => s.as_bytes(),
        }
    }
}

/// Whether `word` occurs in `text` (`text.contains(word)`). Where `str::contains` has no SIMD
/// path (every target but x86_64, e.g. wasm32), words of up to [`SHORT_WORD`] bytes, nearly every
/// search word, are found by [`scan`] instead: its per-call setup of the Two-Way searcher costs
/// more than the search itself on texts as short as tasks'.
fn occurs(text: &str, word: &str) -> bool {
    const SCAN: bool = !cfg!(all(target_arch = "x86_64", target_feature = "sse2"));
    if SCAN && word.len() <= SHORT_WORD {
        scan(text.as_bytes(), word.as_bytes())
    } else {
        text.contains(word)
    }
}

/// The longest word [`occurs`] finds with [`scan`].
const SHORT_WORD: usize = 16;

/// Whether `word` occurs in `text`, by scanning for its first byte and comparing the rest: at
/// most `word.len()` comparisons per byte of text. For UTF-8 `text` and `word` this is
/// `str::contains`: a whole UTF-8 word matches UTF-8 text only at character boundaries.
fn scan(text: &[u8], word: &[u8]) -> bool {
    let Some((first, rest)) = word.split_first() else {
        return true;
    };
    let Some(last) = text.len().checked_sub(word.len()) else {
        return false;
    };
    let mut from = 0;
    while from <= last {
        let Some(i) = text[from..=last].iter().position(|b| b == first) else {
            return false;
        };
        let at = from + i;
        if text[at + 1..].starts_with(rest) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// The filters of one query, with a scratch buffer for the search text that is reused across
/// items, so that searching ASCII text does not allocate per item.
struct Matcher<'q> {
    q: &'q TaskQuery,
    scratch: String,
}

impl<'q> Matcher<'q> {
    fn new(q: &'q TaskQuery) -> Self {
        Matcher {
            q,
            scratch: String::new(),
        }
    }

    fn matches<T: Queryable>(&mut self, t: &T) -> bool {
        let q = self.q;
        let status_ok = match q.status {
            StatusFilter::All => true,
            StatusFilter::Pending => !t.completed(),
            StatusFilter::Completed => t.completed(),
        };
        status_ok
            && (q.priorities.is_empty() || q.priorities.contains(&t.priority()))
            && self.due_ok(t.due())
            && self.tags_ok(t.tag_ids())
            && self.search_ok(t)
    }

    fn due_ok(&self, due: Option<DateTime<Utc>>) -> bool {
        let (start, end) = (self.q.due_start, self.q.due_end);
        if start.is_none() && end.is_none() {
            return true;
        }
        match due {
            None => false,
            Some(d) => start.is_none_or(|s| s <= d) && end.is_none_or(|e| d <= e),
        }
    }

    fn tags_ok(&self, tag_ids: &[crate::ids::TagId]) -> bool {
        match &self.q.tags {
            None => true,
            // The filter's ids are sorted; the task's are in any order.
            Some(f) => match f.mode() {
                TagsMode::Any => tag_ids.iter().any(|id| f.ids().binary_search(id).is_ok()),
                TagsMode::All => f.ids().iter().all(|id| tag_ids.contains(id)),
            },
        }
    }

    /// Every word occurs in [`search_text`] of the task (the definition itself, so it holds for
    /// any words, even ones a parser would never make): the text the task keeps
    /// ([`Queryable::search_text`]), else folded here.
    fn search_ok<T: Queryable>(&mut self, t: &T) -> bool {
        let words = &self.q.search;
        if words.is_empty() {
            return true;
        }
        if let Some(kept) = t.search_text() {
            return words.iter().all(|w| occurs(kept, w));
        }
        let (title, description) = (t.title(), t.description());
        let s = &mut self.scratch;
        s.clear();
        s.push_str(title);
        if let Some(d) = description {
            s.push('\n');
            s.push_str(d);
        }
        if s.is_ascii() {
            // The same bytes as `search_text`, reusing the buffer.
            s.make_ascii_lowercase();
        } else {
            *s = search_text(title, description);
        }
        words.iter().all(|w| occurs(s, w))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ids::{TagId, TaskId};
    use crate::model::Priority;
    use crate::query::{Limit, TagFilter};

    #[derive(Debug, Clone)]
    struct T {
        id: i64,
        title: &'static str,
        description: Option<&'static str>,
        completed: bool,
        due: Option<i64>,
        priority: Priority,
        tags: Vec<TagId>,
        created: i64,
    }

    impl Queryable for T {
        fn id(&self) -> TaskId {
            TaskId::new(self.id)
        }
        fn title(&self) -> &str {
            self.title
        }
        fn description(&self) -> Option<&str> {
            self.description
        }
        fn completed(&self) -> bool {
            self.completed
        }
        fn due(&self) -> Option<DateTime<Utc>> {
            self.due.map(at)
        }
        fn priority(&self) -> Priority {
            self.priority
        }
        fn tag_ids(&self) -> &[TagId] {
            &self.tags
        }
        fn created_at(&self) -> DateTime<Utc> {
            at(self.created)
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn t(id: i64, title: &'static str) -> T {
        T {
            id,
            title,
            description: None,
            completed: false,
            due: None,
            priority: Priority::Medium,
            tags: Vec::new(),
            created: id,
        }
    }

    fn ids(p: &Page<&T>) -> Vec<i64> {
        p.items.iter().map(|t| t.id).collect()
    }

    fn query(pairs: &[(&str, &str)]) -> TaskQuery {
        TaskQuery::from_pairs(pairs.iter().copied()).unwrap()
    }

    #[test]
    fn search_text_separates_title_and_description() {
        assert_eq!(
            search_text("Buy MILK", Some("At Store")),
            "buy milk\nat store"
        );
        assert_eq!(search_text("Buy", None), "buy");
        assert_eq!(search_text("ÉCOLE", None), "école");
        // ASCII and non-ASCII parts fold alike.
        assert_eq!(search_text("Ab C", Some("ÉtÉ\tX")), "ab c\nété\tx");
        assert_eq!(search_text("ÀB", Some("CD")), "àb\ncd");
        assert_eq!(fold_case("MiXed Ünï"), "mixed ünï");
        assert_eq!(title_key("Ärger Über"), "ärger über");
    }

    #[test]
    fn search_every_word_case_insensitive_literal() {
        let mut a = t(1, "Write REPORT");
        a.description = Some("for the École board 100%");
        let b = t(2, "report_card");
        let items = vec![a, b];
        let run = |s: &str| ids(&apply(&query(&[("search", s)]), &items));
        assert_eq!(run("report"), vec![2, 1]);
        assert_eq!(run("REPORT école"), vec![1]);
        assert_eq!(run("écOLE"), vec![1]);
        assert_eq!(run("report board"), vec![1]);
        // A word never spans title and description.
        assert_eq!(run("report for"), vec![1]);
        assert_eq!(run("reportfor"), Vec::<i64>::new());
        // LIKE wildcards are literal.
        assert_eq!(run("100%"), vec![1]);
        assert_eq!(run("t_c"), vec![2]);
        assert_eq!(run("r%t"), Vec::<i64>::new());
        assert_eq!(run("missing report"), Vec::<i64>::new());
    }

    #[test]
    fn search_non_ascii_text_with_ascii_word() {
        // The Kelvin sign lowercases to an ASCII 'k'.
        let items = vec![t(1, "\u{212A}ilo"), t(2, "Kilo"), t(3, "kïlo")];
        assert_eq!(
            ids(&apply(&query(&[("search", "kilo")]), &items)),
            vec![2, 1]
        );
        assert_eq!(ids(&apply(&query(&[("search", "KÏLO")]), &items)), vec![3]);
    }

    #[test]
    fn status_priority_tags_filters() {
        let mut items: Vec<T> = (1..=6).map(|i| t(i, "x")).collect();
        items[0].completed = true;
        items[1].priority = Priority::High;
        items[2].priority = Priority::Low;
        items[3].tags = vec![TagId::new(1), TagId::new(2)];
        items[4].tags = vec![TagId::new(2)];
        items[5].tags = vec![TagId::new(3), TagId::new(1)];
        let run = |p: &[(&str, &str)]| ids(&apply(&query(p), &items));
        assert_eq!(run(&[("status", "completed")]), vec![1]);
        assert_eq!(run(&[("status", "pending")]), vec![6, 5, 4, 3, 2]);
        assert_eq!(run(&[("priority", "high,low")]), vec![3, 2]);
        assert_eq!(run(&[("tags", "1,2")]), vec![6, 5, 4]);
        assert_eq!(run(&[("tags", "1,2"), ("tags_mode", "all")]), vec![4]);
        assert_eq!(
            run(&[("tags", "1"), ("tags", "3"), ("tags_mode", "all")]),
            vec![6]
        );
        assert_eq!(run(&[("tags", "9")]), Vec::<i64>::new());
    }

    #[test]
    fn due_range_inclusive_and_undated_excluded() {
        let mut items: Vec<T> = (1..=4).map(|i| t(i, "x")).collect();
        items[0].due = Some(10);
        items[1].due = Some(20);
        items[2].due = Some(30);
        let mut q = TaskQuery {
            due_start: Some(at(10)),
            due_end: Some(at(20)),
            ..TaskQuery::default()
        };
        assert_eq!(ids(&apply(&q, &items)), vec![2, 1]);
        q.due_end = None;
        assert_eq!(ids(&apply(&q, &items)), vec![3, 2, 1]);
        q.due_start = None;
        q.due_end = Some(at(29));
        assert_eq!(ids(&apply(&q, &items)), vec![2, 1]);
        q.due_end = None;
        assert_eq!(ids(&apply(&q, &items)), vec![4, 3, 2, 1]);
    }

    #[test]
    fn due_sort_puts_undated_last_both_ways_ties_by_id() {
        let mut items: Vec<T> = (1..=5).map(|i| t(i, "x")).collect();
        items[0].due = Some(5);
        items[2].due = Some(1);
        items[3].due = Some(5);
        let run = |o: &str| {
            ids(&apply(
                &query(&[("sort_by", "due_datetime"), ("sort_order", o)]),
                &items,
            ))
        };
        assert_eq!(run("asc"), vec![3, 1, 4, 2, 5]);
        assert_eq!(run("desc"), vec![4, 1, 3, 5, 2]);
    }

    #[test]
    fn priority_and_title_sort() {
        let mut items = vec![
            t(1, "banana"),
            t(2, "Apple"),
            t(3, "apple"),
            t(4, "Éclair"),
            t(5, "zebra"),
        ];
        items[0].priority = Priority::Low;
        items[1].priority = Priority::High;
        let run =
            |k: &str, o: &str| ids(&apply(&query(&[("sort_by", k), ("sort_order", o)]), &items));
        assert_eq!(run("priority", "asc"), vec![1, 3, 4, 5, 2]);
        assert_eq!(run("priority", "desc"), vec![2, 5, 4, 3, 1]);
        // "é" (0xC3 0xA9) sorts after every ASCII letter, bytewise.
        assert_eq!(run("title", "asc"), vec![2, 3, 1, 5, 4]);
        assert_eq!(run("title", "desc"), vec![4, 5, 1, 3, 2]);
    }

    #[test]
    fn title_keys_longer_than_the_prefix_and_with_nul() {
        let titles = [
            "abcdefgh",
            "ABCDEFGHb",
            "abcdefghA",
            "abcdefg",
            "abcdefg\0",
            "abcdefg\0\0",
            "Abcdéfgh",
            "abcdefgÉ",
            "abcdefgé",
            "",
        ];
        let items: Vec<T> = titles.iter().zip(1..).map(|(s, i)| t(i, s)).collect();
        let mut want: Vec<&T> = items.iter().collect();
        want.sort_by(|a, b| {
            title_key(a.title)
                .cmp(&title_key(b.title))
                .then(a.id.cmp(&b.id))
        });
        let want: Vec<i64> = want.iter().map(|t| t.id).collect();
        let q = query(&[("sort_by", "title"), ("sort_order", "asc")]);
        assert_eq!(ids(&apply(&q, &items)), want);
        assert_eq!(want, vec![10, 4, 5, 6, 1, 3, 2, 8, 9, 7]);
    }

    #[test]
    fn created_at_ties_by_id_in_direction() {
        let mut items: Vec<T> = (1..=4).map(|i| t(i, "x")).collect();
        for i in &mut items {
            i.created = 7;
        }
        items[3].created = 0;
        let run = |o: &str| ids(&apply(&query(&[("sort_order", o)]), &items));
        assert_eq!(run("desc"), vec![3, 2, 1, 4]);
        assert_eq!(run("asc"), vec![4, 1, 2, 3]);
    }

    #[test]
    fn paging_total_and_offset_past_end() {
        let items: Vec<T> = (1..=10).map(|i| t(i, "x")).collect();
        let mut q = TaskQuery {
            limit: Limit::new(3).unwrap(),
            offset: 2,
            ..TaskQuery::default()
        };
        let p = apply(&q, &items);
        assert_eq!(
            (ids(&p), p.total, p.limit, p.offset),
            (vec![8, 7, 6], 10, 3, 2)
        );
        q.offset = 9;
        assert_eq!(ids(&apply(&q, &items)), vec![1]);
        q.offset = 10;
        let p = apply(&q, &items);
        assert_eq!((ids(&p), p.total), (vec![], 10));
        q.offset = u64::MAX;
        assert_eq!(apply(&q, &items).items.len(), 0);
    }

    #[test]
    fn matches_agrees_with_apply() {
        let mut a = t(1, "Alpha");
        a.tags = vec![TagId::new(4)];
        let q = TaskQuery {
            search: vec!["alp".into()],
            tags: TagFilter::new(vec![TagId::new(4)], TagsMode::All),
            ..TaskQuery::default()
        };
        assert!(matches(&q, &a));
        assert!(!matches(&q, &t(2, "Alpha")));
    }

    #[test]
    fn occurs_and_scan_are_contains() {
        let texts = [
            "",
            "a",
            "ab",
            "aab",
            "abab\nba",
            "école\nétê",
            "xxxxxxxxxxxxxxxxy",
            "€€a€",
        ];
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "aab",
            "bab",
            "é",
            "ê",
            "\nb",
            "€a",
            "a€",
            "xxxxxxxxxxxxxxxy",
            "xxxxxxxxxxxxxxxxy",
            "xxxxxxxxxxxxxxxxxy",
            "abab\nba!",
        ];
        for t in texts {
            for w in words {
                assert_eq!(occurs(t, w), t.contains(w), "{t:?} {w:?}");
                assert_eq!(
                    scan(t.as_bytes(), w.as_bytes()),
                    t.contains(w),
                    "{t:?} {w:?}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn occurs_is_contains_for_any_text(t in "[abé€\n]{0,40}", w in "[abé€]{0,20}") {
            proptest::prop_assert_eq!(occurs(&t, &w), t.contains(w.as_str()));
            proptest::prop_assert_eq!(scan(t.as_bytes(), w.as_bytes()), t.contains(w.as_str()));
        }
    }

    #[test]
    fn many_words() {
        // Queries built by hand may exceed the parser's word limit; they still work.
        let q = TaskQuery {
            search: vec!["a".to_owned(); 30],
            ..TaskQuery::default()
        };
        assert!(matches(&q, &t(1, "a")));
        assert!(!matches(&q, &t(2, "b")));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod fold_tests {
    use super::*;

    #[test]
    fn a_final_sigma_folds_like_any_other() {
        assert_eq!(fold_case("ΟΔΟΣ"), "οδοσ");
        assert_eq!(search_text("ΟΔΟΣΟΣ", None), "οδοσοσ");
        let q = TaskQuery::from_pairs([("search", "ΟΔΟΣ")]).unwrap();
        assert_eq!(q.search, ["οδοσ"]);
        // str::to_lowercase would make the search word end in 'ς' and miss this title.
        assert!(search_text("ΟΔΟΣΟΣ", None).contains(q.search[0].as_str()));
        assert_eq!(title_key("Éa"), "éa");
    }
}
