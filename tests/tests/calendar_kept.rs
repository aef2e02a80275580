//! A service's calendar (settings, terms, closures, working patterns and hours) is kept in
//! memory under the stamp the database keeps on the service row. Whatever changes it, through
//! the API or straight in the database as another replica or a script would, the very next
//! search sees the change; a search that finds the calendar unchanged reads only the stamp.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Timelike};
use scps_tests::Answer;
use scps_tests::clock::{london, rfc};
use scps_tests::fixtures::{Fx, d, fixture, slot_starts};
use serde_json::json;

const SLOTS: &str =
    "query($i: AvailabilityInput!) { availability(input: $i, first: 100) { edges { node { startsAt } } } }";

async fn search(fx: &Fx, monday: NaiveDate) -> Answer {
    let input = json!({ "schoolId": fx.t.school_a.id, "from": rfc(london(monday, 0, 0)),
                        "to": rfc(london(monday + Duration::days(5), 0, 0)), "durationMinutes": 300 });
    fx.app.gql(&fx.t.admin.token, SLOTS, json!({ "i": input })).await
}

fn days(a: &Answer) -> BTreeSet<NaiveDate> {
    slot_starts(a)
        .iter()
        .map(|s| s.with_timezone(&chrono_tz::Europe::London).date_naive())
        .collect()
}

fn statements(a: &Answer) -> u64 {
    a.headers["x-sql-statements"].to_str().unwrap().parse().unwrap()
}

/// Writes straight to the database, past the API and this process. A test's database holds its
/// one service, so the statements name no service.
#[allow(
    clippy::disallowed_methods,
    reason = "the test changes the calendar behind the API's back, as another replica or a script would"
)]
async fn sql(fx: &Fx, statement: &str) {
    sea_orm::ConnectionTrait::execute_unprepared(&fx.app.services.db, statement)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

#[tokio::test]
async fn every_change_to_a_services_calendar_is_seen_by_the_very_next_search() {
    let fx = fixture().await;
    let t = &fx.t;
    let week = fx.week(1);
    let (tue, wed) = (week + Duration::days(1), week + Duration::days(2));

    let first = search(&fx, week).await;
    let steady = search(&fx, week).await;
    assert_eq!(slot_starts(&first), slot_starts(&steady));
    let open_days = days(&steady);
    assert_eq!(open_days.len(), 5, "a term week of five working days: {open_days:?}");
    assert!(
        statements(&steady) < statements(&first),
        "an unchanged calendar is read from memory: {} then {}",
        statements(&first),
        statements(&steady)
    );

    // Through the API: a closure on Tuesday.
    let added = fx
        .app
        .gql(
            &t.admin.token,
            "mutation($i: AddClosureInput!) { addClosure(input: $i) { closure { id } userErrors { message } } }",
            json!({ "i": { "serviceId": t.service_id, "kind": "SERVICE_CLOSURE", "startsOn": d(tue), "endsOn": d(tue) } }),
        )
        .await;
    assert_eq!(added.ok()["addClosure"]["userErrors"], json!([]), "{}", added.body);
    let closed = search(&fx, week).await;
    assert!(!days(&closed).contains(&tue), "closed on Tuesday");
    assert_eq!(days(&closed).len(), 4);
    assert!(
        statements(&closed) > statements(&steady),
        "a changed calendar is read again"
    );
    assert_eq!(statements(&search(&fx, week).await), statements(&steady));

    // Straight in the database: the closure moves to Wednesday, then goes.
    sql(
        &fx,
        &format!("UPDATE closures SET starts_on = '{w}', ends_on = '{w}'", w = d(wed)),
    )
    .await;
    let moved = days(&search(&fx, week).await);
    assert!(moved.contains(&tue) && !moved.contains(&wed), "{moved:?}");
    sql(&fx, "DELETE FROM closures").await;
    assert_eq!(days(&search(&fx, week).await), open_days);

    // The working hours end at 15:00.
    sql(&fx, "UPDATE working_hours SET ends_at = '15:00:00'").await;
    let mornings = slot_starts(&search(&fx, week).await);
    assert!(!mornings.is_empty());
    let three = chrono::NaiveTime::from_hms_opt(15, 0, 0).unwrap();
    assert!(
        mornings.iter().all(|s| (*s + Duration::hours(5))
            .with_timezone(&chrono_tz::Europe::London)
            .time()
            <= three),
        "every five hours' slot ends by 15:00: {mornings:?}"
    );

    // The slot step becomes an hour.
    sql(&fx, "UPDATE time_settings SET slot_step_minutes = 60").await;
    let hourly = slot_starts(&search(&fx, week).await);
    assert!(!hourly.is_empty());
    assert!(hourly.iter().all(|s| s.minute() == 0), "{hourly:?}");
    assert_eq!(hourly.len(), 5 * 2, "09:00 and 10:00 on five days");

    // Without terms every day is term time: half-term week opens.
    assert!(
        slot_starts(&search(&fx, fx.half_term()).await).is_empty(),
        "half-term is a holiday"
    );
    sql(&fx, "DELETE FROM terms WHERE parent_term_id IS NOT NULL").await;
    sql(&fx, "DELETE FROM terms").await;
    let opened = days(&search(&fx, fx.half_term()).await);
    assert_eq!(opened.len(), 5, "{opened:?}");
    assert!(opened.iter().all(|d| d.weekday().number_from_monday() <= 5));
}

#[allow(
    clippy::disallowed_methods,
    reason = "the test writes in a transaction of its own, behind the API's back, and rolls it back"
)]
#[tokio::test]
async fn a_write_that_rolls_back_leaves_the_calendar_as_it_was() {
    let fx = fixture().await;
    let week = fx.week(1);
    let before = slot_starts(&search(&fx, week).await);
    assert!(!before.is_empty());
    let db = &fx.app.services.db;
    let txn = sea_orm::TransactionTrait::begin(db).await.expect("begin");
    sea_orm::ConnectionTrait::execute_unprepared(&txn, "UPDATE time_settings SET slot_step_minutes = 60")
        .await
        .expect("update");
    // Read inside the transaction: the change is seen there, and kept under its own stamp.
    let inside = domain::time::ServiceCalendar::of(&txn, fx.t.service)
        .await
        .expect("calendar");
    assert_eq!(inside.policies().slot_step_minutes, 60);
    txn.rollback().await.expect("rollback");
    let after = slot_starts(&search(&fx, week).await);
    assert_eq!(after, before, "the rolled-back step is not used");
    assert!(after.iter().any(|s| s.minute() != 0), "the 15-minute step is in use");
}
