//! Mapping sqlx errors to the port's [`StoreError`].

use sqlx::error::ErrorKind;
use todo_core::StoreError;

/// Maps a sqlx error: unique violations, serialization failures and busy databases, and
/// unreachable databases get their own variants; everything else is [`StoreError::Other`].
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => {
            if matches!(db.kind(), ErrorKind::UniqueViolation) {
                return StoreError::UniqueViolation(db.message().to_owned());
            }
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if is_conflict_code(&code) {
                return StoreError::Conflict(db.message().to_owned());
            }
            StoreError::Other(e.to_string())
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(e.to_string()),
    }
}

/// PostgreSQL serialization failure / deadlock / lock not available; SQLite BUSY / LOCKED
/// (primary result codes 5 and 6, also as extended codes such as 517 BUSY_SNAPSHOT).
fn is_conflict_code(code: &str) -> bool {
    match code {
        "40001" | "40P01" | "55P03" => true,
        c => c.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)),
    }
}

/// A migration failure.
pub(crate) fn map_migrate_err(e: sqlx::migrate::MigrateError) -> StoreError {
    match e {
        sqlx::migrate::MigrateError::Execute(e) => map_err(e),
        other => StoreError::Other(format!("migration failed: {other}")),
    }
}

/// A stored value that does not decode into the domain.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("stored {what} is invalid: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::is_conflict_code;

    #[test]
    fn conflict_codes() {
        for c in ["40001", "40P01", "5", "6", "517", "262"] {
            assert!(is_conflict_code(c), "{c}");
        }
        for c in ["23505", "19", "2067", "", "1"] {
            assert!(!is_conflict_code(c), "{c}");
        }
    }
}
