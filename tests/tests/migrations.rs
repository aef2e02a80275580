//! The migrations on a database of their own: `up` builds every table (with the booking overlap
//! rule of the backend), `down` removes them all, and `up` works again.
#![allow(clippy::disallowed_methods, reason = "these tests read the schema itself")]

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
    "booking_series",
    "consultation_settings",
    "pupils",
    "consultations",
    "consents",
    "consultation_records",
    "consultation_actions",
    "disposals",
    "reflective_settings",
    "reflective_session_types",
    "reflective_sessions",
    "reflective_session_schools",
    "reflective_registrations",
    "reflective_feedback",
    "space_to_talk_settings",
    "space_to_talk_runs",
    "space_to_talk_run_schools",
    "space_to_talk_slots",
    "space_to_talk_links",
    "space_to_talk_bookings",
    "semh_settings",
    "semh_templates",
    "semh_sections",
    "semh_items",
    "semh_rounds",
    "semh_respondents",
    "semh_responses",
    "semh_consensus",
    "semh_actions",
];

/// The tables the SEMH audits migration adds.
const SEMH_TABLES: &[&str] = &[
    "semh_settings",
    "semh_templates",
    "semh_sections",
    "semh_items",
    "semh_rounds",
    "semh_respondents",
    "semh_responses",
    "semh_consensus",
    "semh_actions",
];

/// The tables the Space to Talk migration adds.
const SPACE_TO_TALK_TABLES: &[&str] = &[
    "space_to_talk_settings",
    "space_to_talk_runs",
    "space_to_talk_run_schools",
    "space_to_talk_slots",
    "space_to_talk_links",
    "space_to_talk_bookings",
];

/// The tables the reflective-sessions migration adds.
const REFLECTIVE_TABLES: &[&str] = &[
    "reflective_settings",
    "reflective_session_types",
    "reflective_sessions",
    "reflective_session_schools",
    "reflective_registrations",
    "reflective_feedback",
];

/// The tables the consultations migration adds.
const CONSULTATION_TABLES: &[&str] = &[
    "consultation_settings",
    "pupils",
    "consultations",
    "consents",
    "consultation_records",
    "consultation_actions",
    "disposals",
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
    assert!(
        paired_columns(&conn).await.len() >= 7,
        "the last migration pairs schools with services"
    );
    Migrator::down(&conn, Some(1)).await.expect("the last one down");
    assert_eq!(
        tables(&conn).await,
        full,
        "the calendar stamp adds a column and triggers, not tables"
    );
    Migrator::down(&conn, Some(1))
        .await
        .expect("reissuing partner ids down");
    assert_eq!(
        tables(&conn).await,
        full,
        "reissuing partner ids changes rows, not tables"
    );
    Migrator::down(&conn, Some(1)).await.expect("the SEMH audits down");
    let without_semh: Vec<String> = full
        .iter()
        .filter(|t| !SEMH_TABLES.contains(&t.as_str()))
        .cloned()
        .collect();
    assert_eq!(
        tables(&conn).await,
        without_semh,
        "the migration before adds SEMH audits"
    );
    Migrator::down(&conn, Some(1)).await.expect("Space to Talk down");
    let without_space_to_talk: Vec<String> = without_semh
        .iter()
        .filter(|t| !SPACE_TO_TALK_TABLES.contains(&t.as_str()))
        .cloned()
        .collect();
    assert_eq!(
        tables(&conn).await,
        without_space_to_talk,
        "the migration before adds Space to Talk"
    );
    Migrator::down(&conn, Some(1))
        .await
        .expect("the reflective sessions down");
    let without_reflective: Vec<String> = without_space_to_talk
        .iter()
        .filter(|t| !REFLECTIVE_TABLES.contains(&t.as_str()))
        .cloned()
        .collect();
    assert_eq!(
        tables(&conn).await,
        without_reflective,
        "the migration before adds reflective sessions"
    );
    Migrator::down(&conn, Some(1)).await.expect("the consultations down");
    let without_consultations: Vec<String> = without_reflective
        .iter()
        .filter(|t| !CONSULTATION_TABLES.contains(&t.as_str()))
        .cloned()
        .collect();
    assert_eq!(
        tables(&conn).await,
        without_consultations,
        "the migration before adds consultations"
    );
    Migrator::down(&conn, Some(1)).await.expect("the one before down");
    let without_series: Vec<String> = without_consultations
        .iter()
        .filter(|t| *t != "booking_series")
        .cloned()
        .collect();
    assert_eq!(
        tables(&conn).await,
        without_series,
        "the migration before adds series of visits"
    );
    assert!(paired_columns(&conn).await.len() >= 7, "the pairing stays");
    Migrator::down(&conn, Some(1)).await.expect("the pairing down");
    assert_eq!(tables(&conn).await, without_series, "pairing adds rules, not tables");
    assert!(
        paired_columns(&conn).await.is_empty(),
        "two steps down remove the pairing of schools with services"
    );
    Migrator::down(&conn, Some(1)).await.expect("the third from last down");
    assert!(
        period_rules(&conn).await.is_empty(),
        "three steps down remove the period rules"
    );
    Migrator::down(&conn, Some((all - 10) as u32))
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

/// Columns that name a school (`school_id`, `charged_school_id`...), as `table.column`.
async fn school_columns(conn: &DatabaseConnection) -> Vec<String> {
    let sql = if on_postgres() {
        "SELECT table_name::text || '.' || column_name::text AS name FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_name::text LIKE '%school\\_id'"
    } else {
        "SELECT m.name || '.' || c.name AS name FROM sqlite_master m, pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND c.name GLOB '*school_id'"
    };
    names(conn, sql).await
}

/// Columns that reference `schools (id)` together with the row's `service_id` referencing
/// `schools (service_id)`, in one two-column key, as `table.column`.
async fn paired_columns(conn: &DatabaseConnection) -> Vec<String> {
    let sql = if on_postgres() {
        "SELECT c.conrelid::regclass::text || '.' || a.attname::text AS name \
         FROM pg_constraint c, unnest(c.conkey, c.confkey) AS k(col, fcol), pg_attribute a, pg_attribute fa \
         WHERE c.contype = 'f' AND c.confrelid = 'schools'::regclass AND array_length(c.conkey, 1) = 2 \
         AND a.attrelid = c.conrelid AND a.attnum = k.col AND fa.attrelid = c.confrelid AND fa.attnum = k.fcol \
         AND fa.attname = 'id' \
         AND EXISTS (SELECT 1 FROM unnest(c.conkey, c.confkey) AS s(col, fcol), pg_attribute sa, pg_attribute sfa \
                     WHERE sa.attrelid = c.conrelid AND sa.attnum = s.col AND sfa.attrelid = c.confrelid \
                     AND sfa.attnum = s.fcol AND sa.attname = 'service_id' AND sfa.attname = 'service_id')"
    } else {
        "SELECT m.name || '.' || f.\"from\" AS name FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
         WHERE m.type = 'table' AND f.\"table\" = 'schools' AND f.\"to\" = 'id' \
         AND (SELECT count(*) FROM pragma_foreign_key_list(m.name) g WHERE g.id = f.id) = 2 \
         AND EXISTS (SELECT 1 FROM pragma_foreign_key_list(m.name) g \
                     WHERE g.id = f.id AND g.\"from\" = 'service_id' AND g.\"to\" = 'service_id')"
    };
    names(conn, sql).await
}

/// School columns without the pairing. The audit log names schools too, but as a record of
/// what happened it keeps the school and service it was written with.
async fn unpaired(conn: &DatabaseConnection) -> Vec<String> {
    let paired = paired_columns(conn).await;
    school_columns(conn)
        .await
        .into_iter()
        .filter(|c| !c.starts_with("audit_events.") && !paired.contains(c))
        .collect()
}

#[tokio::test]
async fn every_table_that_names_a_school_pairs_it_with_the_schools_service() {
    let db = TestDatabase::create().await;
    let conn = domain::db::connect(&db.url, 1, None).await.expect("connect");
    Migrator::up(&conn, None).await.expect("up");
    let with_schools = school_columns(&conn).await;
    assert!(with_schools.len() >= 8, "{with_schools:?}");
    assert!(
        with_schools.contains(&"reflective_sessions.charged_school_id".to_owned()),
        "{with_schools:?}"
    );
    assert_eq!(
        unpaired(&conn).await,
        Vec::<String>::new(),
        "these columns name a school without pairing it with its service"
    );
    conn.close().await.ok();
}

#[tokio::test]
async fn the_database_refuses_a_row_that_puts_a_school_in_another_service() {
    let db = TestDatabase::create().await;
    let conn = domain::db::connect(&db.url, 1, None).await.expect("connect");
    Migrator::up(&conn, None).await.expect("up");
    let (a, b, school) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let now = "2026-12-01T00:00:00+00:00";
    let run = |sql: String| {
        let conn = conn.clone();
        async move { conn.execute_unprepared(&sql).await }
    };
    for s in [a, b] {
        run(format!(
            "INSERT INTO services (id, name, time_zone, created_at, updated_at) VALUES ('{s}', 'S {s}', 'Europe/London', '{now}', '{now}')"
        ))
        .await
        .expect("a service");
    }
    run(format!(
        "INSERT INTO schools (id, service_id, name, urn, phase, status, created_at, updated_at) VALUES ('{school}', '{a}', 'A school', '100001', 'PRIMARY', 'OPEN', '{now}', '{now}')"
    ))
    .await
    .expect("a school of the first service");
    let closure = |service: uuid::Uuid| {
        format!(
            "INSERT INTO closures (id, service_id, school_id, kind, starts_on, ends_on, created_at) VALUES ('{}', '{service}', '{school}', 'SCHOOL_CLOSURE', '2027-01-04', '2027-01-04', '{now}')",
            uuid::Uuid::now_v7()
        )
    };
    run(closure(a))
        .await
        .expect("a closure of the school in its own service");
    assert!(
        run(closure(b)).await.is_err(),
        "a closure of the school in the other service is refused"
    );
    conn.close().await.ok();
}

#[tokio::test]
async fn partner_client_ids_that_spelled_out_their_row_id_are_reissued() {
    let db = TestDatabase::create().await;
    let conn = domain::db::connect(&db.url, 1, None).await.expect("connect");
    Migrator::up(&conn, Some(9)).await.expect("up to the SEMH audits");
    let (service, old, new) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let now = "2026-12-01T00:00:00+00:00";
    let run = |sql: String| {
        let conn = conn.clone();
        async move { conn.execute_unprepared(&sql).await.expect("a row") }
    };
    run(format!(
        "INSERT INTO services (id, name, time_zone, created_at, updated_at) VALUES ('{service}', 'S', 'Europe/London', '{now}', '{now}')"
    ))
    .await;
    let random_id = "pc_0123456789abcdef0123456789abcdef";
    for (id, client_id) in [(old, format!("pc_{}", old.simple())), (new, random_id.to_owned())] {
        run(format!(
            "INSERT INTO partner_clients (id, service_id, name, client_id, secret_digest, secret_version, scopes, limited_to_schools, status, created_at, updated_at, secret_rotated_at) \
             VALUES ('{id}', '{service}', 'A portal', '{client_id}', 'x', 1, '[]', false, 'ACTIVE', '{now}', '{now}', '{now}')"
        ))
        .await;
    }
    Migrator::up(&conn, None).await.expect("up");
    let ids = |id: uuid::Uuid| format!("SELECT client_id AS name FROM partner_clients WHERE id = '{id}'");
    let reissued = names(&conn, &ids(old)).await;
    assert_eq!(reissued.len(), 1);
    assert_ne!(reissued[0], format!("pc_{}", old.simple()), "the derivable id is gone");
    assert!(
        reissued[0].starts_with("pc_")
            && reissued[0].len() == 35
            && reissued[0][3..].chars().all(|c| c.is_ascii_hexdigit()),
        "{reissued:?}"
    );
    assert_eq!(
        names(&conn, &ids(new)).await,
        vec![random_id.to_owned()],
        "a random id stays"
    );
    conn.close().await.ok();
}
