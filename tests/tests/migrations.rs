//! The migrations on a database of their own: `up` builds every table (with the booking overlap
//! rule of the backend), `down` removes them all, and `up` works again.

use migration::{Migrator, MigratorTrait};
use scps_tests::{TestDatabase, on_postgres};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// Every table the migrations make.
const TABLES: &[&str] = &[
    "services",
    "schools",
    "people",
    "memberships",
    "invitations",
    "partner_clients",
    "partner_client_schools",
    "sessions",
    "refresh_tokens",
    "audit_events",
    "time_settings",
    "time_units",
    "academic_years",
    "terms",
    "closures",
    "contracts",
    "contract_top_ups",
    "working_patterns",
    "working_hours",
    "calendar_exceptions",
    "bookings",
    "ledger_entries",
];

async fn names(conn: &DatabaseConnection, sql: &str) -> Vec<String> {
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut names: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", "name").unwrap()).collect();
    names.sort();
    names
}

/// The tables of the database, by name.
async fn tables(conn: &DatabaseConnection) -> Vec<String> {
    let sql = if on_postgres() {
        "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    };
    names(conn, sql).await
}

/// The booking overlap rules: exclusion constraints on PostgreSQL, triggers on SQLite.
async fn overlap_rules(conn: &DatabaseConnection) -> Vec<String> {
    let sql = if on_postgres() {
        "SELECT conname::text AS name FROM pg_constraint WHERE contype = 'x' AND conname LIKE 'bookings_%'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'bookings_%'"
    };
    names(conn, sql).await
}

async fn pending(conn: &DatabaseConnection) -> usize {
    Migrator::get_pending_migrations(conn)
        .await
        .expect("pending migrations")
        .len()
}

#[tokio::test]
async fn up_creates_every_table_down_removes_them_and_up_works_again() {
    let db = TestDatabase::create().await;
    let conn = domain::db::connect(&db.url, 1, None).await.expect("connect");
    let all = Migrator::migrations().len();
    assert!(all >= 2);

    assert!(tables(&conn).await.is_empty(), "a fresh database has no tables");
    Migrator::up(&conn, None).await.expect("up");
    let made = tables(&conn).await;
    for table in TABLES {
        assert!(made.iter().any(|t| t == table), "up made no {table}: {made:?}");
    }
    assert!(made.iter().any(|t| t == "seaql_migrations"));
    assert_eq!(made.len(), TABLES.len() + 1, "unexpected tables: {made:?}");
    assert_eq!(pending(&conn).await, 0, "nothing is pending after up");
    assert_eq!(
        Migrator::get_applied_migrations(&conn).await.expect("applied").len(),
        all
    );

    // Up again is a no-op.
    Migrator::up(&conn, None).await.expect("a second up does nothing");
    assert_eq!(tables(&conn).await, made);

    Migrator::down(&conn, None).await.expect("down");
    assert_eq!(
        tables(&conn).await,
        vec!["seaql_migrations".to_owned()],
        "down leaves only seaql_migrations"
    );
    assert_eq!(pending(&conn).await, all, "every migration is pending after down");
    assert!(overlap_rules(&conn).await.is_empty());
    if on_postgres() {
        let functions = names(
            &conn,
            "SELECT proname::text AS name FROM pg_proc WHERE proname = 'scps_append_only'",
        )
        .await;
        assert!(functions.is_empty(), "down drops the append-only function");
    }

    Migrator::up(&conn, None).await.expect("up after down");
    assert_eq!(tables(&conn).await, made);
    assert_eq!(pending(&conn).await, 0);
    conn.close().await.ok();
}

#[tokio::test]
async fn migrations_go_down_and_up_one_step_at_a_time() {
    let db = TestDatabase::create().await;
    let conn = domain::db::connect(&db.url, 1, None).await.expect("connect");
    let all = Migrator::migrations().len();
    Migrator::up(&conn, Some(1)).await.expect("the first migration");
    assert_eq!(pending(&conn).await, all - 1);
    let first = tables(&conn).await;
    assert!(first.iter().any(|t| t == "schools"));
    assert!(
        !first.iter().any(|t| t == "bookings"),
        "the second migration has not run: {first:?}"
    );
    Migrator::up(&conn, None).await.expect("the rest");
    assert_eq!(pending(&conn).await, 0);
    let full = tables(&conn).await;
    assert!(period_rules(&conn).await.contains(&"contracts_no_overlap".to_owned()));
    Migrator::down(&conn, Some(1)).await.expect("the last one down");
    assert_eq!(tables(&conn).await, full, "the last migration adds rules, not tables");
    assert!(
        period_rules(&conn).await.is_empty(),
        "one step down removes the period rules"
    );
    Migrator::down(&conn, Some((all - 2) as u32))
        .await
        .expect("down to the first");
    assert_eq!(
        tables(&conn).await,
        first,
        "all but one step down is the first migration's schema"
    );
    Migrator::down(&conn, None).await.expect("the rest down");
    assert_eq!(tables(&conn).await, vec!["seaql_migrations".to_owned()]);
    conn.close().await.ok();
}

/// The rules against overlapping contracts and academic years, on either backend.
async fn period_rules(conn: &sea_orm::DatabaseConnection) -> Vec<String> {
    let sql = if on_postgres() {
        "SELECT conname::text AS name FROM pg_constraint WHERE conname IN ('contracts_no_overlap', 'academic_years_no_overlap') ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN ('contracts_no_overlap', 'academic_years_no_overlap') ORDER BY 1"
    };
    names(conn, sql).await
}

#[tokio::test]
async fn the_booking_overlap_rule_exists_on_each_backend() {
    let db = TestDatabase::create().await;
    let conn = domain::db::connect(&db.url, 1, None).await.expect("connect");
    Migrator::up(&conn, None).await.expect("up");
    let rules = overlap_rules(&conn).await;
    assert!(
        rules.iter().any(|r| r == "bookings_ep_no_overlap"),
        "{} has no bookings_ep_no_overlap: {rules:?}",
        if on_postgres() {
            "pg_constraint"
        } else {
            "sqlite_master"
        }
    );
    assert!(rules.iter().any(|r| r == "bookings_visit_no_overlap"), "{rules:?}");
    if on_postgres() {
        let deferrable = names(
            &conn,
            "SELECT conname::text AS name FROM pg_constraint WHERE conname = 'bookings_ep_no_overlap' AND contype = 'x' AND condeferrable",
        )
        .await;
        assert_eq!(
            deferrable.len(),
            1,
            "the exclusion constraint is deferrable (a reschedule books before it cancels)"
        );
    }
    conn.close().await.ok();
}
