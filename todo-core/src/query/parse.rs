//! Parsing the list query from HTTP query parameters, and rendering it back.
//!
//! The rules (every host and adapter sees the same [`TaskQuery`], so they live only here):
//! - Parameter names are exact (`Status` is unknown); an unknown name is an
//!   [`ErrorCode::UnknownField`] error naming it (once per name).
//! - `priority` and `tags` may repeat and may be comma lists; their items are merged. Every
//!   other parameter is a scalar: a second occurrence is an [`ErrorCode::Duplicate`] error
//!   (once per name) and its value is not looked at.
//! - Values are trimmed. An empty scalar (`status=`) means the default; empty list items
//!   (`priority=High,,Low`, `tags=`) are skipped.
//! - Enumerated values (`status`, `sort_by`, `sort_order`, `tags_mode`, `priority`) are matched
//!   ASCII case-insensitively.
//! - Every error is collected, so the caller hears of all bad parameters at once.

use chrono::{DateTime, Utc};

use super::{
    ActivityQuery, Limit, SortKey, SortOrder, StatusFilter, TagFilter, TagsMode, TaskQuery,
};
use crate::error::{Collector, ErrorCode, FieldError, ValidationErrors};
use crate::ids::TagId;
use crate::model::{Priority, format_instant, parse_instant};

/// The query parameters, in the order [`TaskQuery::to_pairs`] renders them.
pub const PARAMETERS: [&str; 11] = [
    "search",
    "status",
    "priority",
    "due_date_start",
    "due_date_end",
    "tags",
    "tags_mode",
    "sort_by",
    "sort_order",
    "limit",
    "offset",
];

/// The longest accepted search, in characters, counted on the normalized text (the lowercased
/// words joined by single spaces), so that surrounding or repeated whitespace costs nothing.
pub const SEARCH_MAX_CHARS: usize = 200;

/// The most search words.
pub const SEARCH_MAX_WORDS: usize = 20;

/// Scalar parameters, indexed like the `seen` flags of [`Parser`].
const SCALARS: [&str; 9] = [
    "search",
    "status",
    "due_date_start",
    "due_date_end",
    "tags_mode",
    "sort_by",
    "sort_order",
    "limit",
    "offset",
];

impl TaskQuery {
    /// Parses the list endpoint's query parameters (already percent-decoded), collecting every
    /// error. See the module documentation for the rules.
    pub fn from_pairs<'a, I: IntoIterator<Item = (&'a str, &'a str)>>(
        pairs: I,
    ) -> Result<TaskQuery, ValidationErrors> {
        let mut p = Parser::default();
        for (key, value) in pairs {
            p.pair(key, value);
        }
        p.finish()
    }

    /// Renders the query as parameters (not percent-encoded), leaving out defaults, in the order
    /// of [`PARAMETERS`]. `TaskQuery::from_pairs(q.to_pairs())` gives `q` back for every query
    /// that `from_pairs` can produce.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: String| out.push((k.to_owned(), v));
        if !self.search.is_empty() {
            put("search", self.search.join(" "));
        }
        if self.status != StatusFilter::All {
            put("status", self.status.as_str().to_owned());
        }
        if !self.priorities.is_empty() {
            let names: Vec<&str> = self.priorities.iter().map(|p| p.as_str()).collect();
            put("priority", names.join(","));
        }
        if let Some(t) = self.due_start {
            put("due_date_start", format_instant(t));
        }
        if let Some(t) = self.due_end {
            put("due_date_end", format_instant(t));
        }
        if let Some(tags) = &self.tags {
            let ids: Vec<String> = tags.ids().iter().map(|id| id.to_string()).collect();
            put("tags", ids.join(","));
            if tags.mode() != TagsMode::Any {
                put("tags_mode", tags.mode().as_str().to_owned());
            }
        }
        if self.sort_by != SortKey::CreatedAt {
            put("sort_by", self.sort_by.as_str().to_owned());
        }
        if self.sort_order != SortOrder::Desc {
            put("sort_order", self.sort_order.as_str().to_owned());
        }
        if self.limit != Limit::DEFAULT {
            put("limit", self.limit.get().to_string());
        }
        if self.offset != 0 {
            put("offset", self.offset.to_string());
        }
        out
    }
}

/// The state of one parse: values seen so far and the errors.
#[derive(Default)]
struct Parser {
    errors: Collector,
    seen: [bool; SCALARS.len()],
    duplicate: [bool; SCALARS.len()],
    unknown: Vec<String>,
    search: Vec<String>,
    status: StatusFilter,
    priorities: Vec<Priority>,
    due_start: Option<DateTime<Utc>>,
    due_end: Option<DateTime<Utc>>,
    tag_ids: Vec<TagId>,
    tags_mode: TagsMode,
    sort_by: SortKey,
    sort_order: SortOrder,
    limit: Limit,
    offset: u64,
}

impl Parser {
    fn pair(&mut self, key: &str, value: &str) {
        match key {
            "priority" => {
                for item in list_items(value) {
                    if let Some(p) = self.errors.take(Priority::parse("priority", item))
                        && !self.priorities.contains(&p)
                    {
                        self.priorities.push(p);
                    }
                }
            }
            "tags" => {
                for item in list_items(value) {
                    if let Some(id) = self.errors.take(TagId::parse("tags", item)) {
                        self.tag_ids.push(id);
                    }
                }
            }
            _ => match SCALARS.iter().position(|s| *s == key) {
                Some(i) if self.seen[i] => {
                    if !self.duplicate[i] {
                        self.duplicate[i] = true;
                        self.errors.push(FieldError::new(
                            key,
                            ErrorCode::Duplicate,
                            format!("{key} may be given only once"),
                        ));
                    }
                }
                Some(i) => {
                    self.seen[i] = true;
                    self.scalar(key, value.trim());
                }
                None => {
                    if !self.unknown.iter().any(|u| u == key) {
                        self.unknown.push(key.to_owned());
                        self.errors.push(FieldError::new(
                            key,
                            ErrorCode::UnknownField,
                            format!(
                                "unknown query parameter {key:?}; the parameters are {}",
                                PARAMETERS.join(", ")
                            ),
                        ));
                    }
                }
            },
        }
    }

    fn scalar(&mut self, key: &str, v: &str) {
        if v.is_empty() {
            // An empty scalar means the default, which the parser already holds.
            return;
        }
        match key {
            "search" => {
                if let Some(words) = self.errors.take(parse_search(v)) {
                    self.search = words;
                }
            }
            "status" => {
                if let Some(s) = self.errors.take(parse_enum(
                    "status",
                    v,
                    &[
                        ("all", StatusFilter::All),
                        ("pending", StatusFilter::Pending),
                        ("completed", StatusFilter::Completed),
                    ],
                )) {
                    self.status = s;
                }
            }
            "due_date_start" => self.due_start = self.errors.take(parse_instant(key, v)),
            "due_date_end" => self.due_end = self.errors.take(parse_instant(key, v)),
            "tags_mode" => {
                if let Some(m) = self.errors.take(parse_enum(
                    "tags_mode",
                    v,
                    &[("any", TagsMode::Any), ("all", TagsMode::All)],
                )) {
                    self.tags_mode = m;
                }
            }
            "sort_by" => {
                if let Some(k) = self.errors.take(parse_enum(
                    "sort_by",
                    v,
                    &[
                        ("created_at", SortKey::CreatedAt),
                        ("due_datetime", SortKey::DueDatetime),
                        ("priority", SortKey::Priority),
                        ("title", SortKey::Title),
                    ],
                )) {
                    self.sort_by = k;
                }
            }
            "sort_order" => {
                if let Some(o) = self.errors.take(parse_enum(
                    "sort_order",
                    v,
                    &[("asc", SortOrder::Asc), ("desc", SortOrder::Desc)],
                )) {
                    self.sort_order = o;
                }
            }
            "limit" => {
                if let Some(l) = self.errors.take(parse_limit(v)) {
                    self.limit = l;
                }
            }
            "offset" => {
                if let Some(o) = self.errors.take(parse_offset(v)) {
                    self.offset = o;
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Result<TaskQuery, ValidationErrors> {
        if let (Some(start), Some(end)) = (self.due_start, self.due_end)
            && start > end
        {
            self.errors.push(FieldError::new(
                "due_date_end",
                ErrorCode::Inconsistent,
                "due_date_end must not be before due_date_start",
            ));
        }
        self.errors.finish()?;
        // Canonical order, so that equal filters are equal queries.
        self.priorities
            .sort_unstable_by_key(|p| std::cmp::Reverse(p.rank()));
        Ok(TaskQuery {
            search: self.search,
            status: self.status,
            priorities: self.priorities,
            due_start: self.due_start,
            due_end: self.due_end,
            tags: TagFilter::new(self.tag_ids, self.tags_mode),
            sort_by: self.sort_by,
            sort_order: self.sort_order,
            limit: self.limit,
            offset: self.offset,
        })
    }
}

/// The trimmed, non-empty items of a comma list.
fn list_items(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Matches `v` ASCII case-insensitively against the allowed names.
fn parse_enum<T: Copy>(field: &str, v: &str, allowed: &[(&str, T)]) -> Result<T, FieldError> {
    allowed
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(v))
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
            FieldError::new(
                field,
                ErrorCode::InvalidValue,
                format!("{field} must be one of {}; got {v:?}", names.join(", ")),
            )
        })
}

/// An integer written as an optional `-` and ASCII digits (any size), or `None` if `v` is not
/// one. Returned as a sign and the digits without leading zeros, so huge values are range
/// errors rather than syntax errors.
fn integer_syntax(v: &str) -> Option<(bool, &str)> {
    let (negative, digits) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    Some((negative && !trimmed.is_empty(), trimmed))
}

impl ActivityQuery {
    /// Parses the activity log's query parameters: `limit` (1-100, default 20) and `offset`
    /// (>= 0, default 0), with the same rules and errors as the task list's (unknown
    /// parameters, duplicates, ranges).
    pub fn from_pairs<'a, I: IntoIterator<Item = (&'a str, &'a str)>>(
        pairs: I,
    ) -> Result<ActivityQuery, ValidationErrors> {
        let mut c = Collector::new();
        let mut q = ActivityQuery::default();
        let (mut seen_limit, mut seen_offset) = (false, false);
        for (k, v) in pairs {
            let v = v.trim();
            match k {
                "limit" | "offset"
                    if std::mem::replace(
                        if k == "limit" {
                            &mut seen_limit
                        } else {
                            &mut seen_offset
                        },
                        true,
                    ) =>
                {
                    c.push(FieldError::new(
                        k,
                        ErrorCode::Duplicate,
                        format!("{k} is given more than once"),
                    ));
                }
                "limit" if !v.is_empty() => {
                    if let Some(l) = c.take(parse_limit(v)) {
                        q.limit = l;
                    }
                }
                "offset" if !v.is_empty() => {
                    if let Some(o) = c.take(parse_offset(v)) {
                        q.offset = o;
                    }
                }
                "limit" | "offset" => {}
                other => c.push(FieldError::new(
                    other,
                    ErrorCode::UnknownField,
                    format!("unknown parameter {other:?}; expected limit or offset"),
                )),
            }
        }
        c.finish().map(|()| q)
    }
}

fn parse_limit(v: &str) -> Result<Limit, FieldError> {
    let range = || {
        FieldError::new(
            "limit",
            ErrorCode::OutOfRange,
            format!("limit must be between 1 and {}; got {v}", Limit::MAX),
        )
    };
    match integer_syntax(v) {
        None => Err(FieldError::new(
            "limit",
            ErrorCode::InvalidFormat,
            format!(
                "limit must be an integer between 1 and {}; got {v:?}",
                Limit::MAX
            ),
        )),
        Some((true, _)) => Err(range()),
        Some((false, digits)) => digits
            .parse::<u32>()
            .ok()
            .and_then(Limit::new)
            .ok_or_else(range),
    }
}

fn parse_offset(v: &str) -> Result<u64, FieldError> {
    let range = || {
        FieldError::new(
            "offset",
            ErrorCode::OutOfRange,
            format!("offset must be between 0 and {}; got {v}", i64::MAX),
        )
    };
    match integer_syntax(v) {
        None => Err(FieldError::new(
            "offset",
            ErrorCode::InvalidFormat,
            format!("offset must be a non-negative integer; got {v:?}"),
        )),
        Some((true, _)) => Err(range()),
        Some((false, "")) => Ok(0),
        Some((false, digits)) => match digits.parse::<i64>() {
            // i64::MAX is the bound so that SQL adapters can bind the offset as BIGINT.
            Ok(n) => u64::try_from(n).map_err(|_| range()),
            Err(_) => Err(range()),
        },
    }
}

/// Splits a search on whitespace and lowercases the words ([`super::fold_case`]).
fn parse_search(v: &str) -> Result<Vec<String>, FieldError> {
    let words: Vec<String> = v.split_whitespace().map(super::fold_case).collect();
    if words.len() > SEARCH_MAX_WORDS {
        return Err(FieldError::new(
            "search",
            ErrorCode::TooLong,
            format!(
                "search must have at most {SEARCH_MAX_WORDS} words; it has {}",
                words.len()
            ),
        ));
    }
    let chars =
        words.iter().map(|w| w.chars().count()).sum::<usize>() + words.len().saturating_sub(1);
    if chars > SEARCH_MAX_CHARS {
        return Err(FieldError::new(
            "search",
            ErrorCode::TooLong,
            format!("search must be at most {SEARCH_MAX_CHARS} characters; it has {chars}"),
        ));
    }
    Ok(words)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::parse_instant;

    fn parse(pairs: &[(&str, &str)]) -> Result<TaskQuery, ValidationErrors> {
        TaskQuery::from_pairs(pairs.iter().copied())
    }

    /// The (field, code) of every error, in order.
    fn errs(pairs: &[(&str, &str)]) -> Vec<(String, ErrorCode)> {
        match parse(pairs) {
            Ok(q) => panic!("expected errors, got {q:?}"),
            Err(e) => e
                .errors()
                .iter()
                .map(|e| (e.field.clone(), e.code))
                .collect(),
        }
    }

    fn one(field: &str, code: ErrorCode) -> Vec<(String, ErrorCode)> {
        vec![(field.to_owned(), code)]
    }

    #[test]
    fn no_parameters_is_the_default_query() {
        let q = parse(&[]).unwrap();
        assert_eq!(q, TaskQuery::default());
        assert_eq!(q.limit.get(), 50);
        assert_eq!(q.offset, 0);
        assert_eq!(q.sort_by, SortKey::CreatedAt);
        assert_eq!(q.sort_order, SortOrder::Desc);
        assert_eq!(q.status, StatusFilter::All);
        assert!(q.to_pairs().is_empty());
    }

    #[test]
    fn every_parameter() {
        let q = parse(&[
            ("search", "  Report  ÉCOLE "),
            ("status", "pending"),
            ("priority", "low,HIGH"),
            ("due_date_start", "2026-02-20T16:00:00+01:00"),
            ("due_date_end", "2026-02-21T00:00:00Z"),
            ("tags", "3,1"),
            ("tags_mode", "all"),
            ("sort_by", "due_datetime"),
            ("sort_order", "asc"),
            ("limit", "20"),
            ("offset", "40"),
        ])
        .unwrap();
        assert_eq!(q.search, vec!["report", "école"]);
        assert_eq!(q.status, StatusFilter::Pending);
        assert_eq!(q.priorities, vec![Priority::High, Priority::Low]);
        assert_eq!(
            q.due_start,
            Some(parse_instant("x", "2026-02-20T15:00:00Z").unwrap())
        );
        assert_eq!(
            q.due_end,
            Some(parse_instant("x", "2026-02-21T00:00:00Z").unwrap())
        );
        let tags = q.tags.clone().unwrap();
        assert_eq!(tags.ids(), &[TagId::new(1), TagId::new(3)]);
        assert_eq!(tags.mode(), TagsMode::All);
        assert_eq!(q.sort_by, SortKey::DueDatetime);
        assert_eq!(q.sort_order, SortOrder::Asc);
        assert_eq!(q.limit.get(), 20);
        assert_eq!(q.offset, 40);
        assert_eq!(TaskQuery::from_pairs(pairs_ref(&q.to_pairs())).unwrap(), q);
    }

    fn pairs_ref(p: &[(String, String)]) -> Vec<(&str, &str)> {
        p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn to_pairs_renders_canonically() {
        let q = parse(&[
            ("tags", "2"),
            ("priority", "medium"),
            ("search", "A  b"),
            ("sort_by", "TITLE"),
        ])
        .unwrap();
        let want: Vec<(String, String)> = [
            ("search", "a b"),
            ("priority", "Medium"),
            ("tags", "2"),
            ("sort_by", "title"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(q.to_pairs(), want);
    }

    #[test]
    fn unknown_parameters_once_each() {
        assert_eq!(
            errs(&[("Status", "all")]),
            one("Status", ErrorCode::UnknownField)
        );
        assert_eq!(
            errs(&[("page", "1"), ("page", "2"), ("q", "x")]),
            vec![
                ("page".to_owned(), ErrorCode::UnknownField),
                ("q".to_owned(), ErrorCode::UnknownField)
            ]
        );
        let e = parse(&[("foo", "")]).unwrap_err();
        assert!(
            e.first().message.contains("\"foo\""),
            "{}",
            e.first().message
        );
    }

    #[test]
    fn scalars_given_twice_are_duplicates_once() {
        for name in SCALARS {
            assert_eq!(
                errs(&[(name, ""), (name, ""), (name, "")]),
                one(name, ErrorCode::Duplicate),
                "{name}"
            );
        }
        // The second value is not looked at, so a bad one adds nothing.
        assert_eq!(
            errs(&[("limit", "5"), ("limit", "x")]),
            one("limit", ErrorCode::Duplicate)
        );
    }

    #[test]
    fn priority_repeats_and_lists_merge_dedupe() {
        let q = parse(&[
            ("priority", "low"),
            ("priority", "High, LOW,,"),
            ("priority", ""),
        ])
        .unwrap();
        assert_eq!(q.priorities, vec![Priority::High, Priority::Low]);
        assert!(parse(&[("priority", "")]).unwrap().priorities.is_empty());
        assert_eq!(
            errs(&[("priority", "High,urgent,none")]),
            vec![
                ("priority".to_owned(), ErrorCode::InvalidValue),
                ("priority".to_owned(), ErrorCode::InvalidValue)
            ]
        );
    }

    #[test]
    fn tags_repeat_merge_and_validate() {
        let q = parse(&[("tags", "5, 2"), ("tags", "2"), ("tags", "")]).unwrap();
        let t = q.tags.unwrap();
        assert_eq!(t.ids(), &[TagId::new(2), TagId::new(5)]);
        assert_eq!(t.mode(), TagsMode::Any);
        assert_eq!(parse(&[("tags", " , ")]).unwrap().tags, None);
        for bad in ["0", "-1", "x", "1.5", "99999999999999999999"] {
            assert_eq!(
                errs(&[("tags", bad)]),
                one("tags", ErrorCode::InvalidFormat),
                "{bad}"
            );
        }
    }

    #[test]
    fn tags_mode_without_tags_is_ignored_but_checked() {
        assert_eq!(
            parse(&[("tags_mode", "all")]).unwrap(),
            TaskQuery::default()
        );
        assert_eq!(
            errs(&[("tags_mode", "some")]),
            one("tags_mode", ErrorCode::InvalidValue)
        );
        let q = parse(&[("tags", "1"), ("tags_mode", "")]).unwrap();
        assert_eq!(q.tags.unwrap().mode(), TagsMode::Any);
    }

    #[test]
    fn enumerations() {
        assert_eq!(
            parse(&[("status", "Completed")]).unwrap().status,
            StatusFilter::Completed
        );
        assert_eq!(
            parse(&[("status", "all")]).unwrap().status,
            StatusFilter::All
        );
        assert_eq!(
            errs(&[("status", "done")]),
            one("status", ErrorCode::InvalidValue)
        );
        assert_eq!(
            parse(&[("sort_by", "priority")]).unwrap().sort_by,
            SortKey::Priority
        );
        assert_eq!(
            parse(&[("sort_by", "created_at")]).unwrap().sort_by,
            SortKey::CreatedAt
        );
        assert_eq!(
            errs(&[("sort_by", "due_date")]),
            one("sort_by", ErrorCode::InvalidValue)
        );
        assert_eq!(
            parse(&[("sort_order", "DESC")]).unwrap().sort_order,
            SortOrder::Desc
        );
        assert_eq!(
            errs(&[("sort_order", "up")]),
            one("sort_order", ErrorCode::InvalidValue)
        );
        let e = parse(&[("sort_by", "x")]).unwrap_err();
        assert!(
            e.first()
                .message
                .contains("created_at, due_datetime, priority, title")
        );
    }

    #[test]
    fn empty_scalars_mean_default() {
        let pairs: Vec<(&str, &str)> = SCALARS.iter().map(|s| (*s, " ")).collect();
        assert_eq!(TaskQuery::from_pairs(pairs).unwrap(), TaskQuery::default());
    }

    #[test]
    fn limit_rules() {
        assert_eq!(parse(&[("limit", "1")]).unwrap().limit.get(), 1);
        assert_eq!(parse(&[("limit", "100")]).unwrap().limit.get(), 100);
        assert_eq!(parse(&[("limit", "007")]).unwrap().limit.get(), 7);
        for bad in [
            "0",
            "101",
            "-1",
            "-0",
            "4294967296",
            "99999999999999999999999",
        ] {
            assert_eq!(
                errs(&[("limit", bad)]),
                one("limit", ErrorCode::OutOfRange),
                "{bad}"
            );
        }
        for bad in ["ten", "1.0", "+5", "1e2", "5x", "--1"] {
            assert_eq!(
                errs(&[("limit", bad)]),
                one("limit", ErrorCode::InvalidFormat),
                "{bad}"
            );
        }
    }

    #[test]
    fn offset_rules() {
        assert_eq!(parse(&[("offset", "0")]).unwrap().offset, 0);
        assert_eq!(parse(&[("offset", "-0")]).unwrap().offset, 0);
        let max = i64::MAX.to_string();
        assert_eq!(parse(&[("offset", &max)]).unwrap().offset, i64::MAX as u64);
        let over = (i64::MAX as u64 + 1).to_string();
        for bad in ["-1", over.as_str(), "18446744073709551616"] {
            assert_eq!(
                errs(&[("offset", bad)]),
                one("offset", ErrorCode::OutOfRange),
                "{bad}"
            );
        }
        assert_eq!(
            errs(&[("offset", "1,5")]),
            one("offset", ErrorCode::InvalidFormat)
        );
    }

    #[test]
    fn due_dates() {
        assert_eq!(
            errs(&[("due_date_start", "2026-02-20")]),
            one("due_date_start", ErrorCode::InvalidFormat)
        );
        assert_eq!(
            errs(&[("due_date_end", "2026-02-20T10:00:00")]),
            one("due_date_end", ErrorCode::InvalidFormat)
        );
        // Equal bounds are fine (the range is inclusive).
        let t = "2026-02-20T10:00:00Z";
        assert!(parse(&[("due_date_start", t), ("due_date_end", t)]).is_ok());
        // The order is checked after converting offsets to UTC.
        assert_eq!(
            errs(&[
                ("due_date_start", "2026-02-20T10:00:00Z"),
                ("due_date_end", "2026-02-20T10:30:00+01:00")
            ]),
            one("due_date_end", ErrorCode::Inconsistent)
        );
    }

    #[test]
    fn search_rules() {
        assert!(parse(&[("search", " \t ")]).unwrap().search.is_empty());
        let q = parse(&[("search", "ÉCOLE\u{3000}Straße 100%")]).unwrap();
        assert_eq!(q.search, vec!["école", "straße", "100%"]);
        let twenty = vec!["w"; 20].join(" ");
        assert_eq!(parse(&[("search", &twenty)]).unwrap().search.len(), 20);
        let twenty_one = vec!["w"; 21].join(" ");
        assert_eq!(
            errs(&[("search", &twenty_one)]),
            one("search", ErrorCode::TooLong)
        );
        let long = "x".repeat(200);
        assert!(parse(&[("search", &format!("  {long}  "))]).is_ok());
        assert_eq!(
            errs(&[("search", &"x".repeat(201))]),
            one("search", ErrorCode::TooLong)
        );
        // Characters, not bytes.
        assert!(parse(&[("search", &"é".repeat(200))]).is_ok());
        // Separators count once each in the normalized text.
        let words = format!("{} {}", "a".repeat(100), "b".repeat(100));
        assert_eq!(
            errs(&[("search", &words)]),
            one("search", ErrorCode::TooLong)
        );
    }

    #[test]
    fn all_errors_are_collected() {
        let got = errs(&[
            ("status", "x"),
            ("limit", "0"),
            ("offset", "-5"),
            ("sort_by", "x"),
            ("sort_order", "x"),
            ("priority", "x"),
            ("tags", "x"),
            ("tags_mode", "x"),
            ("due_date_start", "x"),
            ("due_date_end", "x"),
            ("search", &"w ".repeat(21)),
            ("nope", "1"),
        ]);
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "status",
                "limit",
                "offset",
                "sort_by",
                "sort_order",
                "priority",
                "tags",
                "tags_mode",
                "due_date_start",
                "due_date_end",
                "search",
                "nope"
            ]
        );
    }
}
