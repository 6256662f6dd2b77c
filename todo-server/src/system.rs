//! The real-world implementations of the core's clock and id ports.

use chrono::{DateTime, Utc};
use todo_core::ids::EventId;
use todo_core::ports::{Clock, IdSource};

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Random (v4) UUIDs for event ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn event_id(&self) -> EventId {
        EventId::new(uuid::Uuid::new_v4())
    }
}
