//! Shared data generators for the benchmarks.

/// Deterministic tasks for the list-query benchmark.
pub mod query_data {
    use chrono::{DateTime, Duration, Utc};
    use todo_core::model::{Description, Priority, Task, TaskTitle};
    use todo_core::{FieldError, TagId, TaskId, UserId};

    /// Mostly English words, with a few non-ASCII ones (about 5% of titles have one), so that
    /// search and title sorting see both their ASCII and their Unicode paths.
    const WORDS: &[&str] = &[
        "report",
        "budget",
        "review",
        "call",
        "email",
        "plan",
        "meeting",
        "draft",
        "invoice",
        "team",
        "client",
        "project",
        "update",
        "design",
        "release",
        "notes",
        "agenda",
        "slides",
        "Report",
        "Budget",
        "Review",
        "Call",
        "Plan",
        "Draft",
        "Invoice",
        "Release",
        "fix",
        "bug",
        "deploy",
        "server",
        "backup",
        "order",
        "groceries",
        "milk",
        "bread",
        "doctor",
        "dentist",
        "gym",
        "run",
        "read",
        "book",
        "trip",
        "flight",
        "hotel",
        "pay",
        "rent",
        "taxes",
        "car",
        "wash",
        "clean",
        "kitchen",
        "garden",
        "water",
        "plants",
        "birthday",
        "gift",
        "mom",
        "dad",
        "week",
        "monthly",
        "quarterly",
        "summary",
        "roadmap",
        "hiring",
        "interview",
        "onboarding",
    ];
    const UNICODE_WORDS: &[&str] = &["école", "Straße", "naïve", "Ärger", "café", "Über"];

    /// splitmix64, so the data never changes between runs or crate versions.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn word(&mut self) -> &'static str {
            if self.below(60) == 0 {
                UNICODE_WORDS[self.below(UNICODE_WORDS.len() as u64) as usize]
            } else {
                WORDS[self.below(WORDS.len() as u64) as usize]
            }
        }
        fn sentence(&mut self, words: u64) -> String {
            let mut s = String::new();
            for i in 0..words {
                if i > 0 {
                    s.push(' ');
                }
                s.push_str(self.word());
            }
            s
        }
    }

    /// The instant the generated dates are spread around.
    pub fn epoch() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default() // 2026-01-01
    }

    /// `n` tasks of one user with ids 1..=n: titles of 2-6 words, 60% with a description of
    /// 5-25 words, 70% with a due date in the 90 days after [`epoch`], 30% completed, 0-3 of
    /// 20 tags, created in the year before [`epoch`] (second resolution, so ties are rare).
    pub fn tasks(n: usize, seed: u64) -> Result<Vec<Task>, FieldError> {
        let mut rng = Rng(seed);
        let user = UserId::parse("bench-user")?;
        let epoch = epoch();
        let mut out = Vec::with_capacity(n);
        for id in 1..=n as i64 {
            let title_words = 2 + rng.below(5);
            let title = TaskTitle::parse(&rng.sentence(title_words))?;
            let description = if rng.below(10) < 6 {
                let words = 5 + rng.below(21);
                Some(Description::parse(&rng.sentence(words))?)
            } else {
                None
            };
            let due_datetime = (rng.below(10) < 7)
                .then(|| epoch + Duration::minutes(rng.below(90 * 24 * 4) as i64 * 15));
            let completed = rng.below(10) < 3;
            let created_at = epoch - Duration::seconds(1 + rng.below(365 * 86_400) as i64);
            let priority = Priority::ALL[rng.below(3) as usize];
            let tag_ids: Vec<TagId> = (0..rng.below(4))
                .map(|_| TagId::new(1 + rng.below(20) as i64))
                .collect();
            out.push(
                Task::builder(TaskId::new(id), user.clone(), title, created_at)
                    .description(description)
                    .completed_at(completed.then_some(created_at))
                    .due_datetime(due_datetime)
                    .priority(priority)
                    .tag_ids(tag_ids)
                    .build(),
            );
        }
        Ok(out)
    }
}

/// Deterministic repeating series for the recurrence benchmark.
pub mod recurrence_data {
    use chrono::{DateTime, Duration, Utc};
    use todo_core::FieldError;
    use todo_core::model::{RRuleText, Recurrence, TimeZone};
    use todo_core::recurrence::Series;

    /// Zones with and without DST, including a 30-minute DST (Lord Howe) and a midnight one (Havana).
    const ZONES: &[&str] = &[
        "UTC",
        "America/New_York",
        "Europe/Berlin",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/Los_Angeles",
        "Australia/Lord_Howe",
        "America/Havana",
    ];

    /// The simple patterns and a mix of rules (dense, sparse, ending, counted, sub-daily).
    const RECURRENCES: &[&str] = &[
        "daily",
        "weekly",
        "monthly",
        "FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYDAY=2TU",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=DAILY;INTERVAL=3;UNTIL=20350101T000000Z",
        "FREQ=WEEKLY;COUNT=400",
        "FREQ=HOURLY;INTERVAL=6",
    ];

    /// One series as the API would receive it.
    #[derive(Debug, Clone)]
    pub struct Spec {
        /// A `recurrence_pattern` value or an RRULE.
        pub recurrence: &'static str,
        /// An IANA zone name.
        pub timezone: &'static str,
        /// The first due instant.
        pub start: DateTime<Utc>,
    }

    /// The instant the benchmark asks "what comes next?" for (2026-06-15).
    pub fn now() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_781_481_600, 0).unwrap_or_default()
    }

    /// `n` series: recurrences and zones in rotation, starts spread over the six years before
    /// [`now`] (whole minutes), so that old series have to be fast-forwarded.
    pub fn specs(n: usize) -> Vec<Spec> {
        // A multiplicative hash of the index: deterministic and evenly spread.
        let spread = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
        (0..n as u64)
            .map(|i| Spec {
                recurrence: RECURRENCES[(i % RECURRENCES.len() as u64) as usize],
                timezone: ZONES[((i / 3) % ZONES.len() as u64) as usize],
                start: now() - Duration::minutes(1 + (spread(i) % (6 * 365 * 24 * 60)) as i64),
            })
            .collect()
    }

    /// Parses and validates a spec into a series, as a host does with API input.
    pub fn build(spec: &Spec) -> Result<Series, FieldError> {
        let recurrence = if spec.recurrence.starts_with("FREQ") {
            Recurrence::Rule(RRuleText::parse(spec.recurrence)?)
        } else {
            Recurrence::parse_pattern(spec.recurrence)?
        };
        Series::new(
            recurrence,
            TimeZone::parse(spec.timezone)?,
            spec.start,
            None,
        )
    }
}

/// The most expensive RRULEs the recurrence cost limits still accept, and the attack they
/// refuse (issue 14), for the `rrule_limits` benchmark and its peak-memory figures.
pub mod rrule_limits_data {
    /// Every hour of the day at `:00`, `:15`, `:30`, `:45`: the 96 times a day
    /// `todo_core::model::recurrence::MAX_TIMES_PER_DAY` allows.
    const TIMES: &str = "BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;\
                         BYMINUTE=0,15,30,45";

    /// The 62 `BYSETPOS` values `MAX_LIST_LEN` allows: the first and last 31 positions.
    const SETPOS: &str = "BYSETPOS=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,\
                          25,26,27,28,29,30,31,-1,-2,-3,-4,-5,-6,-7,-8,-9,-10,-11,-12,-13,-14,-15,\
                          -16,-17,-18,-19,-20,-21,-22,-23,-24,-25,-26,-27,-28,-29,-30,-31";

    /// The 62 `BYMONTHDAY` values `MAX_LIST_LEN` allows.
    const MONTHDAYS: &str = "BYMONTHDAY=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,\
                             23,24,25,26,27,28,29,30,31,-1,-2,-3,-4,-5,-6,-7,-8,-9,-10,-11,-12,-13,\
                             -14,-15,-16,-17,-18,-19,-20,-21,-22,-23,-24,-25,-26,-27,-28,-29,-30,-31";

    /// The attack of issue 14 (465 characters): every second of every day of the year, 31.6
    /// million candidates per year; it took about 10 s and 1.5 GB before the limits.
    pub fn attack() -> String {
        let list = |n: u32| (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        format!(
            "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={};BYMINUTE={};BYSECOND={}",
            list(24),
            list(60),
            list(60)
        )
    }

    /// The worst accepted rules, each with what makes it expensive.
    pub fn worst() -> Vec<(&'static str, String)> {
        vec![
            (
                "yearly_every_day_96_times",
                format!("FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;{TIMES}"),
            ),
            (
                "yearly_every_day_96_times_count_100k",
                format!("FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;{TIMES};COUNT=100000"),
            ),
            (
                "yearly_every_day_96_times_62_setpos",
                format!("FREQ=YEARLY;{MONTHDAYS};{TIMES};{SETPOS}"),
            ),
            (
                "daily_62_setpos_never_matching",
                format!("FREQ=DAILY;BYHOUR=9;BYSETPOS={}", {
                    (2..=63).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
                }),
            ),
            (
                "daily_62_monthdays_never_matching",
                "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30,31,-30,-31".to_owned(),
            ),
            (
                "hourly_96_times_never_matching",
                "FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31;BYMINUTE=0,15,30,45".to_owned(),
            ),
            ("monthly_62_nth_weekdays_never_matching", {
                let nth: Vec<String> = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
                    .iter()
                    .flat_map(|d| (1..=5).chain(-5..=-1).map(move |n| format!("{n}{d}")))
                    .take(62)
                    .collect();
                format!("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30;BYDAY={}", nth.join(","))
            }),
            (
                "weekly_every_day_never_matching",
                "FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=30;BYDAY=MO,TU,WE,TH,FR,SA,SU".to_owned(),
            ),
            (
                "yearly_62_weeknos_never_matching",
                "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;BYWEEKNO=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,\
                 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,\
                 44,45,46,47,48,49,50,51,52,53,-1,-2,-3,-4,-5,-6,-7,-8,-9"
                    .to_owned(),
            ),
        ]
    }
}
