//! Errors of the domain: validation failures that name their field, and use-case failures.

use std::fmt;

use serde::Serialize;

/// A machine-readable reason why a value was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// A required value is missing or empty.
    Required,
    /// The value is shorter than allowed.
    TooShort,
    /// The value is longer than allowed.
    TooLong,
    /// The value does not have the expected syntax.
    InvalidFormat,
    /// The value is not one of the allowed values.
    InvalidValue,
    /// A number or date lies outside the allowed range.
    OutOfRange,
    /// A date lies in the past where only future dates are allowed.
    InPast,
    /// A field that this input does not know.
    UnknownField,
    /// A field given more than once.
    Duplicate,
    /// A combination of fields that is not allowed.
    Inconsistent,
    /// An id that does not name an existing resource of this user.
    UnknownReference,
    /// A value that would cost too much to act on (an RRULE beyond the recurrence limits).
    TooComplex,
}

impl ErrorCode {
    /// The snake_case name used in error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Required => "required",
            ErrorCode::TooShort => "too_short",
            ErrorCode::TooLong => "too_long",
            ErrorCode::InvalidFormat => "invalid_format",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::OutOfRange => "out_of_range",
            ErrorCode::InPast => "in_past",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::Duplicate => "duplicate",
            ErrorCode::Inconsistent => "inconsistent",
            ErrorCode::UnknownReference => "unknown_reference",
            ErrorCode::TooComplex => "too_complex",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rejected field: which field, why, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field's name as it appears in the API (`title`, `tag_ids`, `limit`, ...).
    pub field: String,
    /// Why the field was rejected.
    pub code: ErrorCode,
    /// A sentence that explains the rule, e.g. "title must be 1-200 characters after trimming".
    pub message: String,
}

impl FieldError {
    /// A field error with the given field, code and message.
    pub fn new(field: impl Into<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// One or more rejected fields, in the order they were checked. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// The errors, first one first.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// The first error (there always is one).
    pub fn first(&self) -> &FieldError {
        // A ValidationErrors is only built from at least one error.
        &self.0[0]
    }

    /// Builds the collection from a list; `None` when the list is empty.
    pub fn from_vec(errors: Vec<FieldError>) -> Option<Self> {
        if errors.is_empty() {
            None
        } else {
            Some(ValidationErrors(errors))
        }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        ValidationErrors(vec![e])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Collects field errors while validating several fields, so that a caller hears of all of them at once.
#[derive(Debug, Default)]
pub struct Collector {
    errors: Vec<FieldError>,
}

impl Collector {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records the error and returns `None`.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Records an error.
    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    /// Whether no error was recorded so far.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The recorded errors, for a caller that found a value missing; a generic error on the
    /// `body` if (against expectations) nothing was recorded.
    pub fn into_errors(self) -> ValidationErrors {
        ValidationErrors::from_vec(self.errors).unwrap_or_else(|| {
            FieldError::new("body", ErrorCode::InvalidValue, "the input is invalid").into()
        })
    }

    /// `Ok(())` when nothing was recorded, else all errors.
    pub fn finish(self) -> Result<(), ValidationErrors> {
        match ValidationErrors::from_vec(self.errors) {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

/// The kind of resource an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// A task.
    Task,
    /// A tag.
    Tag,
    /// A reminder.
    Reminder,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Task => "task",
            Resource::Tag => "tag",
            Resource::Reminder => "reminder",
        })
    }
}

/// A failure of a storage adapter, in terms the domain understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule of the store was violated (e.g. a second next instance of one task).
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// Another transaction changed the same data; the unit of work may be retried.
    #[error("concurrent modification: {0}")]
    Conflict(String),
    /// The store cannot be reached now (connection refused, pool exhausted, ...).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the message is for logs, not for users.
    #[error("store failure: {0}")]
    Other(String),
}

/// A failure to publish committed events ([`crate::ports::EventPublisher`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The publisher cannot take events now (broker or sidecar down, timeout, a producer
    /// replaced): the events stay in the outbox and the relay offers the batch again later.
    #[error("publishing events failed: {0}")]
    Unavailable(String),
    /// The publisher refuses these events for good (too large, cannot be encoded, refused by
    /// the broker as invalid): offering them again cannot help. The relay parks them in the
    /// outbox and offers the rest of the batch again. Never empty.
    #[error("the publisher refused {} event(s) for good, first seq {}: {}",
        .0.len(),
        .0.first().map_or(0, |r| r.seq),
        .0.first().map_or("", |r| r.detail.as_str()))]
    Rejected(Vec<Rejection>),
}

/// One event a publisher refused for good ([`PublishError::Rejected`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The event's position in the outbox ([`crate::ports::OutboxEntry::seq`]).
    pub seq: u64,
    /// Why, as a class (a metric label).
    pub reason: RejectReason,
    /// Why, for people (logs and the outbox's `park_reason`); never the payload.
    pub detail: String,
    /// The encoded size of the event in bytes, when it was encoded.
    pub bytes: Option<usize>,
}

/// Why a publisher refused an event for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// Its encoding is larger than the publisher's limit (or the broker's).
    TooLarge,
    /// It cannot be turned into a contract event (a bug of this server) or serialized.
    Unencodable,
    /// The broker refused the record itself (invalid record, corrupt message).
    Invalid,
}

impl RejectReason {
    /// The label: `too_large`, `unencodable`, `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::TooLarge => "too_large",
            RejectReason::Unencodable => "unencodable",
            RejectReason::Invalid => "invalid",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of a use case of [`crate::service::TaskService`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input that breaks a rule of its own (syntax, length, range): HTTP 400.
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// Well-formed input that names something that does not exist for this user (e.g. `tag_ids`): HTTP 422.
    #[error("unprocessable: {0}")]
    Unprocessable(ValidationErrors),
    /// The resource does not exist or belongs to another user: HTTP 404.
    #[error("{resource} {id} not found")]
    NotFound {
        /// Which kind of resource.
        resource: Resource,
        /// The id that was asked for.
        id: String,
    },
    /// The change collides with existing state (duplicate tag name, tag already attached): HTTP 409.
    #[error("conflict: {message}")]
    Conflict {
        /// What collided, for people.
        message: String,
    },
    /// The user holds as many of something as their quota allows ([`crate::quota`]): HTTP 409
    /// `QUOTA_EXCEEDED`.
    #[error(
        "the {quota} quota is reached: at most {limit} {quota} per user; delete some to make room"
    )]
    QuotaExceeded {
        /// Which quota.
        quota: crate::quota::QuotaKind,
        /// Its limit.
        limit: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    /// A not-found error for a resource id.
    pub fn not_found(resource: Resource, id: impl fmt::Display) -> Self {
        Error::NotFound {
            resource,
            id: id.to_string(),
        }
    }
}

impl From<ValidationErrors> for Error {
    fn from(e: ValidationErrors) -> Self {
        Error::Validation(e)
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Validation(e.into())
    }
}
