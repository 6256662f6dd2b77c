//! The tag entity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{TagId, UserId};
use crate::model::text::{Color, TagName};

/// A colored label that a user can attach to many tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Assigned by the store.
    pub id: TagId,
    /// The owner.
    pub user_id: UserId,
    /// Unique per user, case-insensitively.
    pub name: TagName,
    /// `#RRGGBB`.
    pub color: Color,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}
