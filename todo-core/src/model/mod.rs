//! Entities and the validated values they are made of.

pub mod activity;
pub mod priority;
pub mod recurrence;
pub mod reminder;
pub mod tag;
pub mod task;
pub mod text;
pub mod time;

pub use activity::{ActivityAction, ActivityEntry, Values};
pub use priority::Priority;
pub use recurrence::{RRuleText, Recurrence, RecurrencePattern};
pub use reminder::{Reminder, ReminderStatus, ReminderType};
pub use tag::Tag;
pub use task::{Task, TaskBuilder};
pub use text::{Color, Description, TagName, TaskTitle};
pub use time::{TimeZone, format_instant, normalize_instant, parse_instant};
