//! Connecting to SQLite or PostgreSQL, write transactions, and turning database errors into
//! domain meanings in one place.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, RuntimeErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::error::{DomainError, FieldErrorCode};

pub type Db = DatabaseConnection;

/// Called after every SQL statement (for metrics and statement counts).
pub type StatementObserver = Arc<dyn Fn(&sea_orm::metric::Info<'_>) + Send + Sync>;

/// Opens a pool. SQLite files (and their folder) are created if missing, in WAL mode with
/// foreign keys on and a busy timeout, so that writers queue instead of failing.
pub async fn connect(url: &str, max_connections: u32, observer: Option<StatementObserver>) -> Result<Db, DbErr> {
    if let Some(path) = sqlite_path(url)
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(15))
        });
    let mut db = sea_orm::Database::connect(options).await?;
    if let Some(observer) = observer {
        db.set_metric_callback(move |info| observer(info));
    }
    Ok(db)
}

/// The file path of an SQLite URL such as `sqlite://data/scps.sqlite?mode=rwc`.
pub fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a transaction that reads and then writes must not discover half-way that
/// another writer got there first.
pub async fn begin_write(db: &Db) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Whether the database answers.
#[allow(clippy::disallowed_methods, reason = "a statement that reads no table")]
pub async fn ping(db: &Db) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Takes (or gives back) the lock that keeps replicas starting together from migrating at the
/// same time: a PostgreSQL advisory lock held by this connection. SQLite has one writer anyway.
#[allow(clippy::disallowed_methods, reason = "an advisory lock, touching no rows")]
pub async fn migration_lock(conn: &impl ConnectionTrait, take: bool) -> Result<(), DbErr> {
    if is_postgres(conn) {
        let call = if take { "pg_advisory_lock" } else { "pg_advisory_unlock" };
        conn.execute_unprepared(&format!("SELECT {call}(7468211)")).await?;
    }
    Ok(())
}

/// Lets a booking overlap the one it replaces until the end of the transaction (PostgreSQL's
/// exclusion constraints are deferrable; SQLite's triggers already allow a reschedule).
#[allow(
    clippy::disallowed_methods,
    reason = "a statement about constraints, touching no rows"
)]
pub async fn defer_overlap_checks(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if is_postgres(conn) {
        conn.execute_unprepared("SET CONSTRAINTS bookings_ep_no_overlap, bookings_visit_no_overlap DEFERRED")
            .await?;
    }
    Ok(())
}

pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// What the database said, reduced to what the domain needs to know.
struct DbFailure {
    /// SQLSTATE on PostgreSQL, the extended result code on SQLite.
    code: String,
    constraint: Option<String>,
    message: String,
}

fn failure(err: &DbErr) -> Option<DbFailure> {
    let runtime = match err {
        DbErr::Exec(e) | DbErr::Query(e) | DbErr::Conn(e) => e,
        _ => return None,
    };
    let RuntimeErr::SqlxError(sqlx_err) = runtime else {
        return None;
    };
    let sqlx::Error::Database(db_err) = sqlx_err.as_ref() else {
        return None;
    };
    Some(DbFailure {
        code: db_err.code().map(|c| c.into_owned()).unwrap_or_default(),
        constraint: db_err.constraint().map(str::to_owned),
        message: db_err.message().to_owned(),
    })
}

/// A constraint the schema enforces, and what breaking it means.
struct Rule {
    /// The PostgreSQL constraint or index name; SQLite reports it in the message.
    name: &'static str,
    /// How SQLite names the same failure in its message.
    sqlite_message: &'static str,
    meaning: fn() -> DomainError,
}

/// Someone else took the slot between our check and our write.
pub const SLOT_TAKEN: &str = "That time is no longer available: the EP was booked by someone else a moment ago.";

const RULES: &[Rule] = &[
    Rule {
        name: "ux_space_to_talk_bookings_live_slot",
        sqlite_message: "space_to_talk_bookings.slot_id",
        meaning: || DomainError::Conflict(crate::space_to_talk::booking::JUST_TAKEN.into()),
    },
    Rule {
        name: "bookings_ep_no_overlap",
        sqlite_message: "bookings_ep_no_overlap",
        meaning: || DomainError::Conflict(SLOT_TAKEN.into()),
    },
    Rule {
        name: "bookings_visit_no_overlap",
        sqlite_message: "bookings_visit_no_overlap",
        meaning: || DomainError::Conflict(SLOT_TAKEN.into()),
    },
    Rule {
        name: "contracts_no_overlap",
        sqlite_message: "contracts_no_overlap",
        meaning: || {
            DomainError::invalid(
                "startsOn",
                FieldErrorCode::Taken,
                "the school already has a contract in this funding stream for part of this period; top it up instead",
            )
        },
    },
    Rule {
        name: "academic_years_no_overlap",
        sqlite_message: "academic_years_no_overlap",
        meaning: || DomainError::invalid("startsOn", FieldErrorCode::OutOfRange, "overlaps another academic year"),
    },
    Rule {
        name: "ux_schools_service_id_urn",
        sqlite_message: "schools.service_id, schools.urn",
        meaning: || {
            DomainError::invalid(
                "urn",
                FieldErrorCode::Taken,
                "another school in this service has this URN",
            )
        },
    },
    Rule {
        name: "ux_people_email",
        sqlite_message: "people.email",
        meaning: || DomainError::invalid("email", FieldErrorCode::Taken, "this email address is already in use"),
    },
    Rule {
        name: "ux_memberships_active_service_role",
        sqlite_message: "memberships.person_id, memberships.service_id, memberships.role",
        meaning: || {
            DomainError::invalid(
                "role",
                FieldErrorCode::Taken,
                "this person already holds this role here",
            )
        },
    },
    Rule {
        name: "ux_memberships_active_school_role",
        sqlite_message: "memberships.person_id, memberships.school_id, memberships.role",
        meaning: || {
            DomainError::invalid(
                "role",
                FieldErrorCode::Taken,
                "this person already holds this role here",
            )
        },
    },
    Rule {
        name: "ux_time_units_service_id_name",
        sqlite_message: "time_units.service_id, time_units.name",
        meaning: || {
            DomainError::invalid(
                "name",
                FieldErrorCode::Taken,
                "the service already has a unit with this name",
            )
        },
    },
    Rule {
        name: "ux_academic_years_service_id_name",
        sqlite_message: "academic_years.service_id, academic_years.name",
        meaning: || {
            DomainError::invalid(
                "name",
                FieldErrorCode::Taken,
                "the service already has an academic year with this name",
            )
        },
    },
];

/// Turns a database error into its domain meaning: a known constraint becomes what breaking it
/// means; contention becomes a conflict the caller may retry; anything else is internal.
pub fn classify(err: DbErr) -> DomainError {
    if let Some(f) = failure(&err) {
        for rule in RULES {
            let named = f.constraint.as_deref() == Some(rule.name);
            if named || f.message.contains(rule.sqlite_message) {
                return (rule.meaning)();
            }
        }
        // PostgreSQL serialization failure or deadlock; SQLite busy after its timeout.
        if matches!(f.code.as_str(), "40001" | "40P01" | "5" | "517") {
            return DomainError::Conflict("The service is busy with a conflicting change; please try again.".into());
        }
    }
    DomainError::internal("database", err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_found_in_urls() {
        assert_eq!(sqlite_path("sqlite://data/scps.sqlite"), Some("data/scps.sqlite"));
        assert_eq!(sqlite_path("sqlite:///tmp/x.db?mode=rwc"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://localhost/x"), None);
    }
}
