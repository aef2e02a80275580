//! Space to Talk (issue 20): an EP publishes a run of slots (a collision with the EP's diary
//! refuses it, naming the time), a SENCO books a parent with the least data, cancelling and
//! moving free the slot at once, the EP records attendance and its flags, the figures show it,
//! every role sees what the table says (another school and another service: not found), bad
//! inputs are userErrors with nothing written; and the parents' side: the school's booking
//! link and its page, the manage link, two parents racing for one slot, expiry and revocation.
#![allow(
    clippy::disallowed_methods,
    reason = "the tests move a session into the past, and read what was written, straight in the database"
)]

use chrono::{Duration, NaiveDate};
use domain::access::{Action, PartnerScope, Relation, Role, table_allows};
use futures_util::future::join_all;
use scps_tests::clock::{london, rfc};
use scps_tests::fixtures::{Fx, fixture};
use scps_tests::{Answer, TestApp};
use serde_json::{Value, json};

const RUN: &str = "id status startsAt endsAt slotMinutes gapMinutes wholeService drawsDownAllocation schoolIds freeSlots slots { id startsAt endsAt status bookingId }";
const BOOKING: &str = "id status startsAt endsAt slotId schoolId epId displayName phone email preferredContact topic bookedVia safeguardingConcern onwardReferral movedFromId movedToId cancelledAs cancellationReason cancelledById";

fn mutation(name: &str, input: &str, result: &str) -> String {
    format!("mutation($i: {input}!) {{ {name}(input: $i) {{ {result} userErrors {{ field message code }} }} }}")
}

async fn gql(fx: &Fx, token: &str, q: &str, v: Value) -> Answer {
    fx.app.gql(token, q, v).await
}

fn errors(a: &Answer, field: &str) -> Vec<(String, String)> {
    a.body["data"][field]["userErrors"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|e| {
                    (
                        e["code"].as_str().unwrap_or_default().to_owned(),
                        e["message"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn codes(a: &Answer, field: &str) -> Vec<String> {
    errors(a, field).into_iter().map(|(c, _)| c).collect()
}

/// Tuesday of `week` (of the fixture's calendar), London time.
fn tuesday(fx: &Fx, week: i64) -> NaiveDate {
    fx.week(week) + Duration::days(1)
}

fn at(fx: &Fx, week: i64, h: u32, m: u32) -> String {
    rfc(london(tuesday(fx, week), h, m))
}

async fn publish(fx: &Fx, token: &str, input: Value) -> Answer {
    gql(
        fx,
        token,
        &mutation(
            "publishSpaceToTalkRun",
            "PublishSpaceToTalkRunInput",
            &format!("run {{ {RUN} }}"),
        ),
        json!({ "i": input }),
    )
    .await
}

fn published(a: &Answer) -> Value {
    let r = &a.ok()["publishSpaceToTalkRun"]["run"];
    assert!(r.is_object(), "published: {}", a.body);
    r.clone()
}

/// Four 45-minute slots from 10:00 on Tuesday of week 1, 15 minutes apart, at school A.
async fn run_at_school_a(fx: &Fx) -> Value {
    published(
        &publish(
            fx,
            &fx.t.ep.token,
            json!({ "schoolIds": [fx.t.school_a.id], "startsAt": at(fx, 1, 10, 0), "slots": 4, "gapMinutes": 15, "mode": "IN_PERSON", "location": "Family room" }),
        )
        .await,
    )
}

async fn book(fx: &Fx, token: &str, input: Value) -> Answer {
    gql(
        fx,
        token,
        &mutation(
            "bookSpaceToTalk",
            "BookSpaceToTalkInput",
            &format!("booking {{ {BOOKING} }}"),
        ),
        json!({ "i": input }),
    )
    .await
}

fn booked(a: &Answer, field: &str) -> Value {
    let b = &a.ok()[field]["booking"];
    assert!(b.is_object(), "{field}: {}", a.body);
    b.clone()
}

async fn free_slots(fx: &Fx, token: &str, school: &str) -> Answer {
    gql(
        fx,
        token,
        "query($s: ID!) { spaceToTalkFreeSlots(schoolId: $s, weeks: 8) { id startsAt status } }",
        json!({ "s": school }),
    )
    .await
}

fn ids_of(a: &Answer, field: &str) -> Vec<String> {
    a.ok()[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field}: {}", a.body))
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn upcoming(fx: &Fx, token: &str, school: Option<&str>) -> Answer {
    gql(
        fx,
        token,
        &format!("query($s: ID) {{ upcomingSpaceToTalkSessions(schoolId: $s) {{ {BOOKING} }} }}"),
        json!({ "s": school }),
    )
    .await
}

fn slot_ids(run: &Value) -> Vec<String> {
    run["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Moves every Space to Talk slot, booking and the EP's time they hold 60 days back.
async fn shift_into_the_past(app: &TestApp) {
    let back = |c: &str| {
        if scps_tests::on_postgres() {
            format!("{c} = {c} - INTERVAL '60 days'")
        } else {
            format!("{c} = strftime('%Y-%m-%dT%H:%M:%S+00:00', datetime({c}, '-60 days'))")
        }
    };
    for (table, columns, filter) in [
        ("space_to_talk_slots", &["starts_at", "ends_at"][..], ""),
        ("space_to_talk_bookings", &["starts_at", "ends_at"], ""),
        (
            "bookings",
            &["starts_at", "ends_at", "blocked_from", "blocked_until"],
            " WHERE kind = 'SPACE_TO_TALK'",
        ),
    ] {
        let set: Vec<String> = columns.iter().map(|c| back(c)).collect();
        exec(app, &format!("UPDATE {table} SET {}{filter}", set.join(", "))).await;
    }
}

async fn exec(app: &TestApp, sql: &str) {
    let db = &app.services.db;
    sea_orm::ConnectionTrait::execute_raw(
        db,
        sea_orm::Statement::from_string(sea_orm::ConnectionTrait::get_database_backend(db), sql.to_owned()),
    )
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test]
async fn an_ep_publishes_a_run_the_senco_books_a_parent_and_each_role_sees_what_the_table_says() {
    let fx = fixture().await;
    let t = &fx.t;
    let run = run_at_school_a(&fx).await;
    assert_eq!(run["slotMinutes"], 45, "the default length: {run}");
    assert_eq!(run["freeSlots"], 4);
    let slots = run["slots"].as_array().unwrap();
    assert_eq!(slots[0]["startsAt"], at(&fx, 1, 10, 0));
    assert_eq!(slots[1]["startsAt"], at(&fx, 1, 11, 0));
    assert_eq!(slots[3]["endsAt"], at(&fx, 1, 13, 45));
    assert!(
        slots.iter().all(|s| s["bookingId"].is_string()),
        "every slot holds EP time"
    );
    // The slots are bookings of the EP's time: nothing else can take 11:00.
    let clash = gql(
        &fx,
        &t.admin.token,
        &mutation("createBooking", "CreateBookingInput", "result { booking { id } }"),
        json!({ "i": { "schoolId": t.school_b.id, "epId": t.ep.person_id, "kind": "CONSULTATION", "startsAt": at(&fx, 1, 11, 15), "endsAt": at(&fx, 1, 11, 45) } }),
    )
    .await;
    assert_eq!(clash.code(), Some("CONFLICT"), "{}", clash.body);

    let slot_ids = slot_ids(&run);
    let b = booked(
        &book(
            &fx,
            &t.senco_a.token,
            json!({ "slotId": slot_ids[0], "displayName": "Sam", "phone": "07700 900123", "topic": "Sleep and worries" }),
        )
        .await,
        "bookSpaceToTalk",
    );
    assert_eq!(b["status"], "BOOKED");
    assert_eq!(b["preferredContact"], "PHONE");
    assert_eq!(b["bookedVia"], "SCHOOL");
    assert_eq!(b["schoolId"], t.school_a.id.as_str());
    let free = free_slots(&fx, &t.senco_a.token, &t.school_a.id).await;
    assert_eq!(ids_of(&free, "spaceToTalkFreeSlots"), slot_ids[1..].to_vec());

    // Each role: bookings per the table; another school or service is not found.
    let other = fx.app.tenant().await;
    let cases = [
        ("admin", &t.admin, Role::ServiceAdmin, Relation::OwnSchool, 1),
        ("the run's EP", &t.ep, Role::Psychologist, Relation::OwnCalendar, 1),
        ("another EP", &t.other_ep, Role::Psychologist, Relation::OtherSchool, 0),
        ("the school's SENCO", &t.senco_a, Role::Senco, Relation::OwnSchool, 1),
        (
            "the school's leader",
            &t.leader_a,
            Role::SchoolLeader,
            Relation::OwnSchool,
            0,
        ),
        (
            "the school's staff",
            &t.staff_a,
            Role::SchoolStaff,
            Relation::OwnSchool,
            0,
        ),
    ];
    for (name, who, role, relation, n) in cases {
        let sees = table_allows(role, &[], Action::ViewSpaceToTalkBookings, relation);
        let a = upcoming(&fx, &who.token, None).await;
        if sees {
            let list = a.ok()["upcomingSpaceToTalkSessions"].as_array().unwrap().clone();
            assert_eq!(list.len(), n, "{name}: {}", a.body);
            assert_eq!(list[0]["displayName"], "Sam", "{name}");
        } else if n == 0 && role == Role::Psychologist {
            // Another EP may see bookings of their own calendar: none here.
            assert!(
                a.ok()["upcomingSpaceToTalkSessions"].as_array().unwrap().is_empty(),
                "{name}: {}",
                a.body
            );
        } else {
            assert_eq!(a.code(), Some("FORBIDDEN"), "{name}: {}", a.body);
        }
        let one = gql(
            &fx,
            &who.token,
            "query($id: ID!) { spaceToTalkBooking(id: $id) { id displayName } }",
            json!({ "id": b["id"] }),
        )
        .await;
        if sees && n == 1 {
            assert_eq!(one.ok()["spaceToTalkBooking"]["displayName"], "Sam", "{name}");
        } else {
            assert_eq!(one.code(), Some("NOT_FOUND"), "{name}: {}", one.body);
        }
    }
    // Upcoming per EP: the run's EP has one, the other EP none.
    for (ep, n) in [(&t.ep.person_id, 1), (&t.other_ep.person_id, 0)] {
        let per_ep = gql(
            &fx,
            &t.admin.token,
            "query($e: ID) { upcomingSpaceToTalkSessions(epId: $e) { id } }",
            json!({ "e": ep }),
        )
        .await;
        assert_eq!(
            per_ep.ok()["upcomingSpaceToTalkSessions"].as_array().unwrap().len(),
            n,
            "{}",
            per_ep.body
        );
    }
    // The other school's SENCO: the school, its slots and the booking are not found.
    assert!(!table_allows(
        Role::Senco,
        &[],
        Action::ViewSpaceToTalkBookings,
        Relation::OtherSchool
    ));
    for a in [
        free_slots(&fx, &t.senco_b.token, &t.school_a.id).await,
        upcoming(&fx, &t.senco_b.token, Some(&t.school_a.id)).await,
        gql(
            &fx,
            &t.senco_b.token,
            "query($id: ID!) { spaceToTalkRun(id: $id) { id } }",
            json!({ "id": run["id"] }),
        )
        .await,
    ] {
        assert_eq!(a.code(), Some("NOT_FOUND"), "{}", a.body);
    }
    let stolen = book(
        &fx,
        &t.senco_b.token,
        json!({ "slotId": slot_ids[1], "schoolId": t.school_b.id, "displayName": "Kim", "email": "kim@example.org" }),
    )
    .await;
    assert_eq!(stolen.code(), Some("NOT_FOUND"), "{}", stolen.body);
    // Another service: nothing of this one exists.
    for a in [
        free_slots(&fx, &other.senco_a.token, &t.school_a.id).await,
        free_slots(&fx, &other.admin.token, &t.school_a.id).await,
        gql(
            &fx,
            &other.admin.token,
            "query($id: ID!) { spaceToTalkBooking(id: $id) { id } }",
            json!({ "id": b["id"] }),
        )
        .await,
        gql(
            &fx,
            &other.ep.token,
            "query($id: ID!) { spaceToTalkRun(id: $id) { id } }",
            json!({ "id": run["id"] }),
        )
        .await,
        book(
            &fx,
            &other.admin.token,
            json!({ "slotId": slot_ids[1], "schoolId": t.school_a.id, "displayName": "Kim", "email": "kim@example.org" }),
        )
        .await,
    ] {
        assert_eq!(a.code(), Some("NOT_FOUND"), "{}", a.body);
    }
    let node = gql(
        &fx,
        &other.admin.token,
        "query($id: ID!) { node(id: $id) { id } }",
        json!({ "id": b["id"] }),
    )
    .await;
    assert!(node.ok()["node"].is_null());

    // A partner client with the availability scope: a count of free slots, nothing else.
    let (partner, _, _) = fx.app.partner(t, &["AVAILABILITY_READ"], None).await;
    assert!(table_allows(
        Role::PartnerClient,
        &[PartnerScope::AvailabilityRead],
        Action::ViewSpaceToTalkSlots,
        Relation::OwnSchool
    ));
    assert!(!table_allows(
        Role::PartnerClient,
        PartnerScope::ALL,
        Action::ViewSpaceToTalkBookings,
        Relation::OwnSchool
    ));
    let count = gql(
        &fx,
        &partner.token,
        "query($s: ID!) { spaceToTalkFreeSlotCount(schoolId: $s, weeks: 8) }",
        json!({ "s": t.school_a.id }),
    )
    .await;
    assert_eq!(count.ok()["spaceToTalkFreeSlotCount"], 3, "{}", count.body);
    assert_eq!(
        free_slots(&fx, &partner.token, &t.school_a.id).await.code(),
        Some("FORBIDDEN")
    );
    assert_eq!(upcoming(&fx, &partner.token, None).await.code(), Some("FORBIDDEN"));

    // Reads of the parent's details are in the audit log; the details are in no log, no
    // booking of EP time (the calendar) and no audit entry.
    let reads = fx
        .app
        .count("audit_events WHERE action = 'space_to_talk_booking.read'")
        .await;
    assert!(reads >= 4, "every read is audited: {reads}");
    let texts = fx
        .app
        .texts("SELECT action, detail, object_type FROM audit_events")
        .await;
    assert!(
        texts
            .iter()
            .all(|t| !t.contains("07700") && !t.contains("Sam") && !t.contains("Sleep"))
    );
    let calendar = fx.app.texts("SELECT location, kind FROM bookings").await;
    assert!(
        calendar.iter().all(|t| !t.contains("Sam") && !t.contains("Sleep")),
        "{calendar:?}"
    );
}

#[tokio::test]
async fn publishing_a_run_that_collides_with_the_eps_diary_is_refused_naming_the_time() {
    let fx = fixture().await;
    let t = &fx.t;
    let existing = gql(
        &fx,
        &t.admin.token,
        &mutation("createBooking", "CreateBookingInput", "result { booking { id } }"),
        json!({ "i": { "schoolId": t.school_b.id, "epId": t.ep.person_id, "kind": "CONSULTATION", "startsAt": at(&fx, 1, 11, 30), "endsAt": at(&fx, 1, 12, 30) } }),
    )
    .await;
    assert!(
        existing.ok()["createBooking"]["result"]["booking"]["id"].is_string(),
        "{}",
        existing.body
    );
    let bookings_before = fx.app.count("bookings").await;
    let a = publish(
        &fx,
        &t.ep.token,
        json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 1, 10, 0), "slots": 4, "gapMinutes": 15, "mode": "PHONE" }),
    )
    .await;
    let e = errors(&a, "publishSpaceToTalkRun");
    assert_eq!(e.len(), 1, "{}", a.body);
    assert_eq!(e[0].0, "NOT_ALLOWED");
    assert!(
        e[0].1.contains("slot 2") && e[0].1.contains("11:30"),
        "names the slot and the colliding time: {}",
        e[0].1
    );
    assert_eq!(fx.app.count("space_to_talk_runs").await, 0);
    assert_eq!(fx.app.count("space_to_talk_slots").await, 0);
    assert_eq!(
        fx.app.count("bookings").await,
        bookings_before,
        "no slot's EP time was kept"
    );
    // After the clash, the same run a little later goes in whole.
    let later = published(
        &publish(
            &fx,
            &t.ep.token,
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 1, 13, 0), "slots": 3, "mode": "PHONE" }),
        )
        .await,
    );
    assert_eq!(later["freeSlots"], 3);
    assert_eq!(fx.app.count("bookings").await, bookings_before + 3);
}

#[tokio::test]
async fn bad_inputs_are_user_errors_and_nothing_is_written() {
    let fx = fixture().await;
    let t = &fx.t;
    let bad_runs = [
        (
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 1, 10, 0), "slots": 3, "slotMinutes": 0 }),
            "OUT_OF_RANGE",
        ),
        (
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 1, 10, 0), "slots": 0 }),
            "OUT_OF_RANGE",
        ),
        (
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 1, 7, 0), "slots": 2 }),
            "OUT_OF_RANGE",
        ),
        (
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 1, 16, 0), "slots": 2 }),
            "OUT_OF_RANGE",
        ),
        (
            json!({ "schoolIds": [], "startsAt": at(&fx, 1, 10, 0), "slots": 2 }),
            "REQUIRED",
        ),
        (
            json!({ "schoolIds": [t.school_a.id], "wholeService": true, "startsAt": at(&fx, 1, 10, 0), "slots": 2 }),
            "INVALID",
        ),
        (
            json!({ "schoolIds": [t.school_a.id, t.school_a.id], "startsAt": at(&fx, 1, 10, 0), "slots": 2 }),
            "INVALID",
        ),
        (
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 1, 10, 0), "slots": 2, "gapMinutes": -5 }),
            "OUT_OF_RANGE",
        ),
        (
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 1, 10, 0), "slots": 2, "location": "x".repeat(500) }),
            "TOO_LONG",
        ),
        // A half-term week is a school holiday.
        (
            json!({ "schoolIds": [t.school_a.id], "startsAt": rfc(london(fx.half_term() + Duration::days(1), 10, 0)), "slots": 2 }),
            "NOT_ALLOWED",
        ),
    ];
    for (input, code) in bad_runs {
        let a = publish(&fx, &t.ep.token, input.clone()).await;
        assert!(
            codes(&a, "publishSpaceToTalkRun").contains(&code.to_owned()),
            "{input}: {}",
            a.body
        );
    }
    let set = gql(
        &fx,
        &t.admin.token,
        &mutation(
            "setSpaceToTalkSettings",
            "SetSpaceToTalkSettingsInput",
            "settings { slotMinutes }",
        ),
        json!({ "i": { "serviceId": t.service_id, "slotMinutes": 0 } }),
    )
    .await;
    assert_eq!(codes(&set, "setSpaceToTalkSettings"), vec!["OUT_OF_RANGE"]);
    assert_eq!(fx.app.count("space_to_talk_runs").await, 0);
    assert_eq!(fx.app.count("space_to_talk_settings").await, 0);

    let run = run_at_school_a(&fx).await;
    let slot = slot_ids(&run)[0].clone();
    let bad_parents = [
        (
            json!({ "slotId": slot, "displayName": "Sam", "phone": "not a phone" }),
            "INVALID",
        ),
        (
            json!({ "slotId": slot, "displayName": "Sam", "phone": "123" }),
            "INVALID",
        ),
        (
            json!({ "slotId": slot, "displayName": "Sam", "email": "not-an-email" }),
            "INVALID",
        ),
        (json!({ "slotId": slot, "displayName": "Sam" }), "REQUIRED"),
        (
            json!({ "slotId": slot, "displayName": "  ", "email": "sam@example.org" }),
            "REQUIRED",
        ),
        (
            json!({ "slotId": slot, "displayName": "Sam", "email": "sam@example.org", "preferredContact": "PHONE" }),
            "INVALID",
        ),
        (
            json!({ "slotId": slot, "displayName": "Sam", "email": "sam@example.org", "topic": "y".repeat(300) }),
            "TOO_LONG",
        ),
        (
            json!({ "slotId": slot, "displayName": "S".repeat(100), "email": "sam@example.org" }),
            "TOO_LONG",
        ),
    ];
    for (input, code) in bad_parents {
        let a = book(&fx, &t.senco_a.token, input.clone()).await;
        assert!(
            codes(&a, "bookSpaceToTalk").contains(&code.to_owned()),
            "{input}: {}",
            a.body
        );
    }
    assert_eq!(fx.app.count("space_to_talk_bookings").await, 0);
    let free = free_slots(&fx, &t.senco_a.token, &t.school_a.id).await;
    assert_eq!(
        ids_of(&free, "spaceToTalkFreeSlots").len(),
        4,
        "every slot is still free"
    );
    // The settings change the default length.
    let set = gql(
        &fx,
        &t.admin.token,
        &mutation(
            "setSpaceToTalkSettings",
            "SetSpaceToTalkSettingsInput",
            "settings { slotMinutes drawsDownAllocation notesEnabled }",
        ),
        json!({ "i": { "serviceId": t.service_id, "slotMinutes": 30 } }),
    )
    .await;
    assert_eq!(set.ok()["setSpaceToTalkSettings"]["settings"]["slotMinutes"], 30);
    let short = published(
        &publish(
            &fx,
            &t.ep.token,
            json!({ "schoolIds": [t.school_b.id], "startsAt": at(&fx, 3, 10, 0), "slots": 2 }),
        )
        .await,
    );
    assert_eq!(short["slotMinutes"], 30);
    // A SENCO may not publish, or change the settings.
    let senco = publish(
        &fx,
        &t.senco_a.token,
        json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 4, 10, 0), "slots": 2, "epId": t.ep.person_id }),
    )
    .await;
    assert_eq!(senco.code(), Some("FORBIDDEN"), "{}", senco.body);
}

#[tokio::test]
async fn cancelling_and_moving_free_the_slot_at_once_and_keep_who_and_why() {
    let fx = fixture().await;
    let t = &fx.t;
    let run = run_at_school_a(&fx).await;
    let slots = slot_ids(&run);
    let b = booked(
        &book(
            &fx,
            &t.senco_a.token,
            json!({ "slotId": slots[0], "displayName": "Alex", "email": "alex@example.org" }),
        )
        .await,
        "bookSpaceToTalk",
    );
    // Someone else cannot have the same slot.
    let twice = book(
        &fx,
        &t.admin.token,
        json!({ "slotId": slots[0], "displayName": "Jo", "email": "jo@example.org" }),
    )
    .await;
    assert_eq!(twice.code(), Some("CONFLICT"), "{}", twice.body);
    let moved = booked(
        &gql(
            &fx,
            &t.senco_a.token,
            &mutation(
                "moveSpaceToTalkBooking",
                "MoveSpaceToTalkBookingInput",
                &format!("booking {{ {BOOKING} }}"),
            ),
            json!({ "i": { "id": b["id"], "slotId": slots[2], "reason": "Parent asked for later" } }),
        )
        .await,
        "moveSpaceToTalkBooking",
    );
    assert_eq!(moved["slotId"], slots[2].as_str());
    assert_eq!(moved["movedFromId"], b["id"]);
    assert_eq!(moved["displayName"], "Alex");
    let old = gql(
        &fx,
        &t.admin.token,
        &format!("query($id: ID!) {{ spaceToTalkBooking(id: $id) {{ {BOOKING} }} }}"),
        json!({ "id": b["id"] }),
    )
    .await;
    let old = &old.ok()["spaceToTalkBooking"];
    assert_eq!(old["status"], "MOVED");
    assert_eq!(old["movedToId"], moved["id"]);
    assert_eq!(old["cancelledAs"], "SCHOOL");
    assert_eq!(old["cancelledById"], t.senco_a.person_id.as_str());
    assert_eq!(old["cancellationReason"], "Parent asked for later");
    let free = free_slots(&fx, &t.senco_a.token, &t.school_a.id).await;
    assert_eq!(
        ids_of(&free, "spaceToTalkFreeSlots"),
        vec![slots[0].clone(), slots[1].clone(), slots[3].clone()],
        "the old slot is free again at once"
    );
    // The EP cancels, with a reason; the table says a cancelled booking takes no more steps.
    let cancel = |token: String, id: Value, reason: &'static str| {
        let fx = &fx;
        async move {
            gql(
                fx,
                &token,
                &mutation(
                    "cancelSpaceToTalkBooking",
                    "CancelSpaceToTalkBookingInput",
                    &format!("booking {{ {BOOKING} }}"),
                ),
                json!({ "i": { "id": id, "reason": reason } }),
            )
            .await
        }
    };
    let no_reason = cancel(t.ep.token.clone(), moved["id"].clone(), "  ").await;
    assert_eq!(codes(&no_reason, "cancelSpaceToTalkBooking"), vec!["REQUIRED"]);
    let c = booked(
        &cancel(t.ep.token.clone(), moved["id"].clone(), "EP unwell").await,
        "cancelSpaceToTalkBooking",
    );
    assert_eq!(c["status"], "CANCELLED");
    assert_eq!(c["cancelledAs"], "EP");
    assert_eq!(c["cancellationReason"], "EP unwell");
    let again = cancel(t.ep.token.clone(), moved["id"].clone(), "again").await;
    assert_eq!(codes(&again, "cancelSpaceToTalkBooking"), vec!["INVALID_STATE"]);
    assert!(
        domain::space_to_talk::states::check(
            domain::space_to_talk::states::Step::Cancel,
            domain::model::SpaceToTalkStatus::Cancelled
        )
        .is_err()
    );
    // Other people's bookings: the other school's SENCO cannot even find it; a leader may not.
    let b2 = booked(
        &book(
            &fx,
            &t.senco_a.token,
            json!({ "slotId": slots[1], "displayName": "Pat", "phone": "+44 7700 900456" }),
        )
        .await,
        "bookSpaceToTalk",
    );
    let b_senco = cancel(t.senco_b.token.clone(), b2["id"].clone(), "mine now").await;
    assert_eq!(b_senco.code(), Some("NOT_FOUND"), "{}", b_senco.body);
    let other_ep = cancel(t.other_ep.token.clone(), b2["id"].clone(), "no").await;
    assert_eq!(other_ep.code(), Some("NOT_FOUND"), "{}", other_ep.body);
    let free = free_slots(&fx, &t.senco_a.token, &t.school_a.id).await;
    assert_eq!(ids_of(&free, "spaceToTalkFreeSlots").len(), 3);
}

#[tokio::test]
async fn the_ep_records_attendance_and_flags_and_the_schools_figures_show_it() {
    let fx = fixture().await;
    let t = &fx.t;
    let run = run_at_school_a(&fx).await;
    let slots = slot_ids(&run);
    let mut ids = Vec::new();
    for (i, name) in ["Ash", "Bo", "Cy"].iter().enumerate() {
        let b = booked(
            &book(
                &fx,
                &t.senco_a.token,
                json!({ "slotId": slots[i], "displayName": name, "email": format!("{name}@example.org") }),
            )
            .await,
            "bookSpaceToTalk",
        );
        ids.push(b["id"].as_str().unwrap().to_owned());
    }
    let record = |token: String, id: String, input: Value| {
        let fx = &fx;
        async move {
            let mut i = input;
            i["id"] = json!(id);
            gql(
                fx,
                &token,
                &mutation(
                    "recordSpaceToTalkAttendance",
                    "RecordSpaceToTalkAttendanceInput",
                    &format!("booking {{ {BOOKING} }}"),
                ),
                json!({ "i": i }),
            )
            .await
        }
    };
    let early = record(t.ep.token.clone(), ids[0].clone(), json!({ "attended": true })).await;
    assert_eq!(codes(&early, "recordSpaceToTalkAttendance"), vec!["INVALID_STATE"]);
    // The day comes: move the run (and the EP's time it holds) into the past.
    shift_into_the_past(&fx.app).await;
    let a = booked(
        &record(
            t.ep.token.clone(),
            ids[0].clone(),
            json!({ "attended": true, "safeguardingConcern": true }),
        )
        .await,
        "recordSpaceToTalkAttendance",
    );
    assert_eq!(a["status"], "ATTENDED");
    assert_eq!(a["safeguardingConcern"], true);
    assert_eq!(a["onwardReferral"], false);
    let d = booked(
        &record(t.ep.token.clone(), ids[1].clone(), json!({ "attended": false })).await,
        "recordSpaceToTalkAttendance",
    );
    assert_eq!(d["status"], "DID_NOT_ATTEND");
    // No notes unless the service keeps them and the parent agreed.
    let note = json!({ "attended": true, "notes": "Talked about routines at home", "parentConsentedToNotes": true });
    let refused = record(t.ep.token.clone(), ids[0].clone(), note.clone()).await;
    assert_eq!(codes(&refused, "recordSpaceToTalkAttendance"), vec!["NOT_ALLOWED"]);
    let on = gql(
        &fx,
        &t.admin.token,
        &mutation(
            "setSpaceToTalkSettings",
            "SetSpaceToTalkSettingsInput",
            "settings { notesEnabled }",
        ),
        json!({ "i": { "serviceId": t.service_id, "notesEnabled": true } }),
    )
    .await;
    assert_eq!(on.ok()["setSpaceToTalkSettings"]["settings"]["notesEnabled"], true);
    let no_consent = record(
        t.ep.token.clone(),
        ids[0].clone(),
        json!({ "attended": true, "notes": "Talked about routines at home" }),
    )
    .await;
    assert_eq!(codes(&no_consent, "recordSpaceToTalkAttendance"), vec!["REQUIRED"]);
    let kept = gql(
        &fx,
        &t.ep.token,
        &mutation(
            "recordSpaceToTalkAttendance",
            "RecordSpaceToTalkAttendanceInput",
            "booking { notes status }",
        ),
        json!({ "i": { "id": ids[0], "attended": true, "notes": "Talked about routines at home", "parentConsentedToNotes": true } }),
    )
    .await;
    assert_eq!(
        kept.ok()["recordSpaceToTalkAttendance"]["booking"]["notes"],
        "Talked about routines at home"
    );
    let senco_view = gql(
        &fx,
        &t.senco_a.token,
        "query($id: ID!) { spaceToTalkBooking(id: $id) { notes status } }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert!(
        senco_view.ok()["spaceToTalkBooking"]["notes"].is_null(),
        "the school does not read the EP's note"
    );
    let r = booked(
        &record(
            t.admin.token.clone(),
            ids[2].clone(),
            json!({ "attended": true, "onwardReferral": true }),
        )
        .await,
        "recordSpaceToTalkAttendance",
    );
    assert_eq!(r["onwardReferral"], true);
    // Who may record: the table says the EP and administrators, not the SENCO.
    assert!(!table_allows(
        Role::Senco,
        &[],
        Action::RecordSpaceToTalkAttendance,
        Relation::OwnSchool
    ));
    let senco = record(t.senco_a.token.clone(), ids[1].clone(), json!({ "attended": true })).await;
    assert_eq!(senco.code(), Some("FORBIDDEN"), "{}", senco.body);
    let other_ep = record(t.other_ep.token.clone(), ids[1].clone(), json!({ "attended": true })).await;
    assert_eq!(other_ep.code(), Some("NOT_FOUND"), "{}", other_ep.body);

    let figures = |token: String| {
        let fx = &fx;
        async move {
            gql(
                fx,
                &token,
                "query($s: ID!, $school: ID) { spaceToTalkAttendance(serviceId: $s, schoolId: $school) { schoolId term booked attended didNotAttend cancelled safeguardingConcerns onwardReferrals } }",
                json!({ "s": fx.t.service_id, "school": fx.t.school_a.id }),
            )
            .await
        }
    };
    for token in [t.admin.token.clone(), t.senco_a.token.clone(), t.leader_a.token.clone()] {
        let f = figures(token).await;
        let rows = f.ok()["spaceToTalkAttendance"].as_array().unwrap().clone();
        let attended: i64 = rows.iter().map(|r| r["attended"].as_i64().unwrap()).sum();
        let dna: i64 = rows.iter().map(|r| r["didNotAttend"].as_i64().unwrap()).sum();
        let flags: i64 = rows.iter().map(|r| r["safeguardingConcerns"].as_i64().unwrap()).sum();
        let referrals: i64 = rows.iter().map(|r| r["onwardReferrals"].as_i64().unwrap()).sum();
        assert_eq!((attended, dna, flags, referrals), (2, 1, 1, 1), "{}", f.body);
    }
    assert_eq!(figures(t.senco_b.token.clone()).await.code(), Some("NOT_FOUND"));
    // The EP's time of the sessions held is delivered; the unused slot's is not.
    let delivered = fx
        .app
        .count("bookings WHERE kind = 'SPACE_TO_TALK' AND status = 'DELIVERED'")
        .await;
    assert_eq!(delivered, 3);
    assert_eq!(figures(t.staff_a.token.clone()).await.code(), Some("FORBIDDEN"));
}

// The parents' side: the school's booking link, its page, the manage link.

/// A client that does not follow redirects, as a browser's form post is checked step by step.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

struct Page {
    status: u16,
    location: Option<String>,
    html: String,
    /// The SQL statements the server says the request cost (`x-sql-statements`).
    statements: Option<u64>,
}

async fn get(fx: &Fx, path: &str) -> Page {
    let r = browser().get(fx.app.url(path)).send().await.unwrap();
    page_of(r).await
}

async fn post(fx: &Fx, path: &str, form: &[(&str, &str)]) -> Page {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let r = browser()
        .post(fx.app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"))
        .send()
        .await
        .unwrap();
    page_of(r).await
}

/// Form encoding (`application/x-www-form-urlencoded`).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

async fn page_of(r: reqwest::Response) -> Page {
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let statements = r
        .headers()
        .get("x-sql-statements")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    Page {
        status,
        location,
        statements,
        html: r.text().await.unwrap_or_default(),
    }
}

/// Every `value` of inputs named `name`, in order.
fn values(html: &str, name: &str) -> Vec<String> {
    let needle = format!("name=\"{name}\" value=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

async fn issue_link(fx: &Fx, token: &str, school: &str) -> (String, String) {
    let a = gql(
        fx,
        token,
        &mutation(
            "issueSpaceToTalkLink",
            "IssueSpaceToTalkLinkInput",
            "result { path token link { id expiresAt } }",
        ),
        json!({ "i": { "schoolId": school, "validDays": 14 } }),
    )
    .await;
    let r = &a.ok()["issueSpaceToTalkLink"]["result"];
    assert!(r["path"].is_string(), "{}", a.body);
    (
        r["path"].as_str().unwrap().to_owned(),
        r["link"]["id"].as_str().unwrap().to_owned(),
    )
}

/// Posts the booking form of the page at `path` for `slot` (its value on the page).
async fn book_on_page(fx: &Fx, path: &str, slot: &str, name: &str, phone: &str) -> Page {
    let page = get(fx, path).await;
    let csrf = values(&page.html, "csrf").pop().unwrap_or_default();
    post(
        fx,
        path,
        &[
            ("csrf", csrf.as_str()),
            ("slot", slot),
            ("name", name),
            ("phone", phone),
            ("email", ""),
            ("contact", "PHONE"),
            ("topic", "Bedtimes"),
        ],
    )
    .await
}

#[tokio::test]
async fn a_parent_books_through_the_schools_link_then_moves_and_cancels_with_the_manage_link() {
    let fx = fixture().await;
    let t = &fx.t;
    run_at_school_a(&fx).await;
    let (path, _) = issue_link(&fx, &t.senco_a.token, &t.school_a.id).await;
    assert!(path.starts_with("/space-to-talk/stl_"), "{path}");
    let page = get(&fx, &path).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Book a Space to Talk session"));
    assert!(page.html.contains(&t.school_a.name), "names the school");
    let slots = values(&page.html, "slot");
    assert_eq!(slots.len(), 4, "every free time: {}", page.html);

    let done = book_on_page(&fx, &path, &slots[1], "Robin", "07700 900789").await;
    assert_eq!(done.status, 303, "{}", done.html);
    let manage = done.location.unwrap();
    assert!(
        manage.starts_with("/space-to-talk/manage/stm_") && manage.ends_with("?done=booked"),
        "{manage}"
    );
    let mine = get(&fx, &manage).await;
    assert_eq!(mine.status, 200);
    assert!(mine.html.contains("You are booked") && mine.html.contains("Robin"));
    let options = values(&mine.html, "slot");
    assert_eq!(options.len(), 3, "the other free times to move to");
    assert!(!options.contains(&slots[1]));
    let seen = upcoming(&fx, &t.senco_a.token, Some(&t.school_a.id)).await;
    let list = seen.ok()["upcomingSpaceToTalkSessions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["bookedVia"], "PARENT_LINK");
    assert_eq!(list[0]["displayName"], "Robin");
    assert_eq!(list[0]["topic"], "Bedtimes");

    // Move to the last time: the first booking's slot is free again; the link follows.
    let base = manage.split('?').next().unwrap().to_owned();
    let csrf = values(&mine.html, "csrf").pop().unwrap();
    let moved = post(&fx, &format!("{base}/move"), &[("csrf", &csrf), ("slot", &slots[3])]).await;
    assert_eq!(moved.status, 303, "{}", moved.html);
    let after = get(&fx, &base).await;
    assert!(after.html.contains("13:00 to 13:45"), "the new time: {}", after.html);
    let free = free_slots(&fx, &t.senco_a.token, &t.school_a.id).await;
    assert_eq!(ids_of(&free, "spaceToTalkFreeSlots").len(), 3);
    let page = get(&fx, &path).await;
    assert!(
        values(&page.html, "slot").contains(&slots[1]),
        "the old time is bookable again"
    );
    assert!(!values(&page.html, "slot").contains(&slots[3]));

    let cancelled = post(&fx, &format!("{base}/cancel"), &[("csrf", &csrf)]).await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.html);
    let gone = get(&fx, &base).await;
    assert!(
        gone.html.contains("Cancelled") && !gone.html.contains("<form"),
        "{}",
        gone.html
    );
    let free = free_slots(&fx, &t.senco_a.token, &t.school_a.id).await;
    assert_eq!(ids_of(&free, "spaceToTalkFreeSlots").len(), 4, "all free again");
    let all = gql(
        &fx,
        &t.admin.token,
        "query($s: ID!) { spaceToTalkAttendance(serviceId: $s) { cancelled } }",
        json!({ "s": t.service_id }),
    )
    .await;
    assert_eq!(all.ok()["spaceToTalkAttendance"][0]["cancelled"], 1);
    let by_parent = fx
        .app
        .count("space_to_talk_bookings WHERE cancelled_as = 'PARENT'")
        .await;
    assert_eq!(by_parent, 2, "the move and the cancellation are the parent's");
    let anonymous = fx
        .app
        .count("audit_events WHERE actor_kind = 'ANONYMOUS' AND action LIKE 'space_to_talk_booking.%'")
        .await;
    assert!(
        anonymous >= 4,
        "the parent's reads and changes are in the audit log: {anonymous}"
    );
}

#[tokio::test]
async fn the_link_opens_only_its_schools_free_slots_and_nothing_once_expired_or_revoked() {
    let fx = fixture().await;
    let t = &fx.t;
    let run_a = run_at_school_a(&fx).await;
    let run_b = published(
        &publish(
            &fx,
            &t.other_ep.token,
            json!({ "schoolIds": [t.school_b.id], "startsAt": at(&fx, 1, 10, 0), "slots": 2, "mode": "PHONE" }),
        )
        .await,
    );
    assert_eq!(run_a["freeSlots"], 4);
    let (path, link_id) = issue_link(&fx, &t.senco_a.token, &t.school_a.id).await;
    let page = get(&fx, &path).await;
    let slots = values(&page.html, "slot");
    assert_eq!(slots.len(), 4, "school A's times only");
    // The page names a slot by its row id; the API by its global id.
    let b_slots: Vec<String> = slot_ids(&run_b)
        .iter()
        .map(|id| scps::graphql::ids::decode(id).unwrap().1.simple().to_string())
        .collect();
    assert!(b_slots.iter().all(|b| !slots.contains(b)));
    assert_eq!(b_slots.len(), 2, "{run_b}");
    // Another school's slot cannot be booked through this link.
    let other = book_on_page(&fx, &path, &b_slots[0], "Lee", "07700 900111").await;
    assert_eq!(other.status, 422, "{}", other.html);
    assert!(other.html.contains("There is a problem"));
    assert_eq!(fx.app.count("space_to_talk_bookings").await, 0);
    // Bad input: the form comes back with the problem beside the field.
    let bad = book_on_page(&fx, &path, &slots[0], "Lee", "call me").await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.html.contains("aria-invalid=\"true\"") && bad.html.contains("href=\"#phone\""),
        "{}",
        bad.html
    );
    assert!(bad.html.contains("value=\"Lee\""), "what was typed is kept");
    let no_csrf = post(
        &fx,
        &path,
        &[("slot", &slots[0]), ("name", "Lee"), ("phone", "07700 900111")],
    )
    .await;
    assert_eq!(no_csrf.status, 404);
    assert_eq!(fx.app.count("space_to_talk_bookings").await, 0);

    // Two parents: neither's page shows the other's booking.
    let first = book_on_page(&fx, &path, &slots[0], "Morgan", "07700 900222").await;
    let second = book_on_page(&fx, &path, &slots[1], "Jamie", "07700 900333").await;
    let first_location = first.location.clone().unwrap();
    let first_page = get(&fx, &first_location).await;
    let second_page = get(&fx, &second.location.unwrap()).await;
    assert!(first_page.html.contains("Morgan") && !first_page.html.contains("Jamie"));
    assert!(second_page.html.contains("Jamie") && !second_page.html.contains("Morgan"));
    let booking_page = get(&fx, &path).await;
    assert!(!booking_page.html.contains("Morgan") && !booking_page.html.contains("Jamie"));
    assert_eq!(values(&booking_page.html, "slot").len(), 2, "free times only");

    // A time just taken says so and shows the remaining times.
    let senco_takes = book(
        &fx,
        &t.senco_a.token,
        json!({ "slotId": slot_ids(&run_a)[2], "displayName": "Ola", "email": "ola@example.org" }),
    )
    .await;
    booked(&senco_takes, "bookSpaceToTalk");
    let csrf = values(&booking_page.html, "csrf").pop().unwrap();
    let late = post(
        &fx,
        &path,
        &[
            ("csrf", &csrf),
            ("slot", &slots[2]),
            ("name", "Kit"),
            ("phone", "07700 900444"),
        ],
    )
    .await;
    assert_eq!(late.status, 409);
    assert!(late.html.contains(domain::space_to_talk::booking::JUST_TAKEN));
    assert_eq!(values(&late.html, "slot"), vec![slots[3].clone()], "the remaining time");
    assert!(late.html.contains("value=\"Kit\""), "what was typed is kept");

    // The link is no credential for anything else.
    let token = path.trim_start_matches("/space-to-talk/").to_owned();
    let manage_token = first_location
        .trim_start_matches("/space-to-talk/manage/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert!(manage_token.starts_with("stm_"));
    for bearer in [token.clone(), manage_token.clone()] {
        let a = fx.app.gql(&bearer, "query { viewer { id } }", json!({})).await;
        assert_eq!(a.code(), Some("UNAUTHENTICATED"), "{}", a.body);
    }

    // Wrong, revoked and expired links look the same.
    let never = get(&fx, "/space-to-talk/stl_thisisnotalinkthatexistsatall0000000000000").await;
    assert_eq!(never.status, 404);
    // Neither link opens the other kind of page.
    assert_eq!(
        get(&fx, &format!("/space-to-talk/{manage_token}")).await.html,
        never.html
    );
    assert_eq!(
        get(&fx, &format!("/space-to-talk/manage/{token}")).await.html,
        never.html
    );
    let other_senco = gql(
        &fx,
        &t.senco_b.token,
        &mutation("revokeSpaceToTalkLink", "RevokeSpaceToTalkLinkInput", "link { id }"),
        json!({ "i": { "id": link_id } }),
    )
    .await;
    assert_eq!(other_senco.code(), Some("NOT_FOUND"), "{}", other_senco.body);
    let revoked = gql(
        &fx,
        &t.senco_a.token,
        &mutation(
            "revokeSpaceToTalkLink",
            "RevokeSpaceToTalkLinkInput",
            "link { id revokedAt }",
        ),
        json!({ "i": { "id": link_id } }),
    )
    .await;
    assert!(revoked.ok()["revokeSpaceToTalkLink"]["link"]["revokedAt"].is_string());
    let after = get(&fx, &path).await;
    assert_eq!((after.status, after.html.as_str()), (404, never.html.as_str()));
    let post_after = book_on_page(&fx, &path, &slots[3], "Kit", "07700 900444").await;
    assert_eq!(post_after.status, 404);
    let (fresh, _) = issue_link(&fx, &t.admin.token, &t.school_a.id).await;
    assert_eq!(get(&fx, &fresh).await.status, 200);
    exec(
        &fx.app,
        &format!(
            "UPDATE space_to_talk_links SET expires_at = {}",
            if scps_tests::on_postgres() {
                "now() - INTERVAL '1 minute'"
            } else {
                "datetime('now', '-1 minute')"
            }
        ),
    )
    .await;
    let expired = get(&fx, &fresh).await;
    assert_eq!((expired.status, expired.html.as_str()), (404, never.html.as_str()));
    // A SENCO of another school cannot issue a link for this one.
    let foreign = gql(
        &fx,
        &t.senco_b.token,
        &mutation("issueSpaceToTalkLink", "IssueSpaceToTalkLinkInput", "result { path }"),
        json!({ "i": { "schoolId": t.school_a.id } }),
    )
    .await;
    assert_eq!(foreign.code(), Some("NOT_FOUND"), "{}", foreign.body);
    let leader = gql(
        &fx,
        &t.leader_a.token,
        &mutation("issueSpaceToTalkLink", "IssueSpaceToTalkLinkInput", "result { path }"),
        json!({ "i": { "schoolId": t.school_a.id } }),
    )
    .await;
    assert_eq!(leader.code(), Some("FORBIDDEN"), "{}", leader.body);
}

#[tokio::test]
async fn two_parents_race_for_one_slot_and_exactly_one_wins() {
    let fx = fixture().await;
    let t = &fx.t;
    published(
        &publish(
            &fx,
            &t.ep.token,
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 1, 14, 0), "slots": 2, "mode": "ONLINE" }),
        )
        .await,
    );
    let (path, _) = issue_link(&fx, &t.senco_a.token, &t.school_a.id).await;
    let page = get(&fx, &path).await;
    let slots = values(&page.html, "slot");
    let csrf = values(&page.html, "csrf").pop().unwrap();
    let names: Vec<String> = (0..8).map(|i| format!("Parent {i}")).collect();
    let answers = join_all(names.iter().map(|n| {
        let fx = &fx;
        let path = path.clone();
        let csrf = csrf.clone();
        let slot = slots[0].clone();
        async move {
            post(
                fx,
                &path,
                &[
                    ("csrf", csrf.as_str()),
                    ("slot", slot.as_str()),
                    ("name", n.as_str()),
                    ("email", "p@example.org"),
                    ("contact", "EMAIL"),
                ],
            )
            .await
        }
    }))
    .await;
    let winners = answers.iter().filter(|a| a.status == 303).count();
    assert_eq!(
        winners,
        1,
        "exactly one wins: {:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    for loser in answers.iter().filter(|a| a.status != 303) {
        assert_eq!(loser.status, 409, "{}", loser.html);
        assert!(loser.html.contains(domain::space_to_talk::booking::JUST_TAKEN));
        assert_eq!(
            values(&loser.html, "slot"),
            vec![slots[1].clone()],
            "the remaining time"
        );
    }
    assert_eq!(fx.app.count("space_to_talk_bookings").await, 1);
    assert_eq!(fx.app.count("space_to_talk_slots WHERE status = 'BOOKED'").await, 1);
}

/// The pages in a real browser: `tests/browser/space_to_talk.mjs` drives Debian's headless
/// chromium with playwright-core (a parent books, moves and cancels with JavaScript off, a
/// second meets a time just taken) and checks every page with axe-core. It runs when
/// `SCPS_BROWSER_TESTS` is set; `.ci/run` installs chromium and the Node packages and sets it.
#[tokio::test]
async fn a_parent_uses_the_booking_pages_in_a_real_browser_with_no_accessibility_violations() {
    if !scps_tests::browser::enabled() {
        return;
    }
    let fx = fixture().await;
    run_at_school_a(&fx).await;
    let (path, _) = issue_link(&fx, &fx.t.senco_a.token, &fx.t.school_a.id).await;
    scps_tests::browser::run("space_to_talk.mjs", fx.app.address.clone(), path).await;
}

#[tokio::test]
async fn slots_draw_down_a_schools_allocation_only_where_the_service_says_and_a_whole_service_run_is_open_to_all() {
    let fx = fixture().await;
    let t = &fx.t;
    let ledger = || fx.app.count("ledger_entries WHERE kind = 'BOOKED'");
    let school_of = |booking: Value| {
        let fx = &fx;
        async move {
            let a = gql(
                fx,
                &fx.t.admin.token,
                "query($id: ID!) { node(id: $id) { ... on Booking { schoolId } } }",
                json!({ "id": booking }),
            )
            .await;
            a.ok()["node"]["schoolId"].clone()
        }
    };
    let before = ledger().await;
    let free_run = run_at_school_a(&fx).await;
    assert_eq!(
        free_run["drawsDownAllocation"], false,
        "by default Space to Talk is not school time"
    );
    assert_eq!(ledger().await, before, "nothing of the school's time is booked");
    assert!(school_of(free_run["slots"][0]["bookingId"].clone()).await.is_null());
    let set = gql(
        &fx,
        &t.admin.token,
        &mutation(
            "setSpaceToTalkSettings",
            "SetSpaceToTalkSettingsInput",
            "settings { drawsDownAllocation slotMinutes }",
        ),
        json!({ "i": { "serviceId": t.service_id, "drawsDownAllocation": true } }),
    )
    .await;
    assert_eq!(
        set.ok()["setSpaceToTalkSettings"]["settings"]["drawsDownAllocation"],
        true
    );
    assert_eq!(set.ok()["setSpaceToTalkSettings"]["settings"]["slotMinutes"], 45);
    let charged = published(
        &publish(
            &fx,
            &t.ep.token,
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 3, 10, 0), "slots": 2, "mode": "ONLINE" }),
        )
        .await,
    );
    assert_eq!(charged["drawsDownAllocation"], true);
    assert!(ledger().await > before, "the school's time is booked");
    assert_eq!(
        school_of(charged["slots"][0]["bookingId"].clone()).await,
        t.school_a.id.as_str()
    );

    // The whole service: every open school's SENCO sees it and books for their own school.
    let whole = published(
        &publish(
            &fx,
            &t.admin.token,
            json!({ "wholeService": true, "epId": t.other_ep.person_id, "startsAt": at(&fx, 4, 10, 0), "slots": 3, "mode": "PHONE" }),
        )
        .await,
    );
    assert_eq!(whole["wholeService"], true);
    assert_eq!(
        whole["drawsDownAllocation"], false,
        "several schools' slots are not one school's time"
    );
    assert_eq!(whole["schoolIds"].as_array().unwrap().len(), 2);
    let slots = slot_ids(&whole);
    let b = booked(
        &book(
            &fx,
            &t.senco_b.token,
            json!({ "slotId": slots[0], "schoolId": t.school_b.id, "displayName": "Rae", "email": "rae@example.org" }),
        )
        .await,
        "bookSpaceToTalk",
    );
    assert_eq!(b["schoolId"], t.school_b.id.as_str());
    let no_school = book(
        &fx,
        &t.senco_a.token,
        json!({ "slotId": slots[1], "displayName": "Kai", "email": "kai@example.org" }),
    )
    .await;
    assert_eq!(
        codes(&no_school, "bookSpaceToTalk"),
        vec!["REQUIRED"],
        "say which school"
    );
    let for_other = book(
        &fx,
        &t.senco_a.token,
        json!({ "slotId": slots[1], "schoolId": t.school_b.id, "displayName": "Kai", "email": "kai@example.org" }),
    )
    .await;
    assert_eq!(for_other.code(), Some("NOT_FOUND"), "{}", for_other.body);
    // SENCO A sees the slot free, but not B's booking.
    let a_free = free_slots(&fx, &t.senco_a.token, &t.school_a.id).await;
    assert!(ids_of(&a_free, "spaceToTalkFreeSlots").contains(&slots[1]));
    assert!(!ids_of(&a_free, "spaceToTalkFreeSlots").contains(&slots[0]));
    let a_up = upcoming(&fx, &t.senco_a.token, None).await;
    assert!(a_up.ok()["upcomingSpaceToTalkSessions"].as_array().unwrap().is_empty());

    // Withdrawing: refused while a parent is booked; the free run's EP time is released.
    let withdraw = |token: String, id: Value| {
        let fx = &fx;
        async move {
            gql(
                fx,
                &token,
                &mutation(
                    "withdrawSpaceToTalkRun",
                    "WithdrawSpaceToTalkRunInput",
                    &format!("run {{ {RUN} }}"),
                ),
                json!({ "i": { "id": id, "reason": "EP moved to another patch" } }),
            )
            .await
        }
    };
    let busy = withdraw(t.admin.token.clone(), whole["id"].clone()).await;
    assert_eq!(codes(&busy, "withdrawSpaceToTalkRun"), vec!["INVALID_STATE"]);
    let senco = withdraw(t.senco_a.token.clone(), free_run["id"].clone()).await;
    assert_eq!(senco.code(), Some("FORBIDDEN"), "{}", senco.body);
    let open_before = fx
        .app
        .count("bookings WHERE kind = 'SPACE_TO_TALK' AND status = 'CONFIRMED'")
        .await;
    let answer = withdraw(t.ep.token.clone(), free_run["id"].clone()).await;
    let gone = &answer.ok()["withdrawSpaceToTalkRun"]["run"];
    assert_eq!(gone["status"], "CANCELLED", "{}", answer.body);
    assert_eq!(gone["freeSlots"], 0);
    assert_eq!(
        fx.app
            .count("bookings WHERE kind = 'SPACE_TO_TALK' AND status = 'CONFIRMED'")
            .await,
        open_before - 4,
        "the EP's time is free again"
    );
    let free = free_slots(&fx, &t.senco_a.token, &t.school_a.id).await;
    assert!(
        ids_of(&free, "spaceToTalkFreeSlots")
            .iter()
            .all(|s| !slot_ids(&free_run).contains(s))
    );
}

#[tokio::test]
async fn the_parents_pages_cost_a_few_statements_whatever_the_number_of_slots_and_are_rate_limited() {
    let fx = fixture().await;
    let t = &fx.t;
    run_at_school_a(&fx).await;
    let (path, _) = issue_link(&fx, &t.senco_a.token, &t.school_a.id).await;
    let statements = || fx.app.services.metrics.statements_total();
    let before = statements();
    let page = get(&fx, &path).await;
    let small = statements() - before;
    assert_eq!(values(&page.html, "slot").len(), 4);
    assert_eq!(
        page.statements,
        Some(small),
        "the page says what it cost, as the GraphQL endpoint does"
    );
    published(
        &publish(
            &fx,
            &t.ep.token,
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 3, 9, 0), "slots": 16, "slotMinutes": 15, "mode": "PHONE" }),
        )
        .await,
    );
    let before = statements();
    let page = get(&fx, &path).await;
    let large = statements() - before;
    assert_eq!(values(&page.html, "slot").len(), 20);
    println!("booking page: {small} statements with 4 slots, {large} with 20");
    assert_eq!(small, large, "the page's statements do not grow with its slots");
    assert!(large <= 10, "{large} statements");
    let slot = values(&page.html, "slot")[0].clone();
    let csrf = values(&page.html, "csrf").pop().unwrap();
    let before = statements();
    let done = post(
        &fx,
        &path,
        &[
            ("csrf", &csrf),
            ("slot", &slot),
            ("name", "Ari"),
            ("phone", "07700 900555"),
        ],
    )
    .await;
    let booking = statements() - before;
    assert_eq!(done.status, 303);
    assert_eq!(done.statements, Some(booking));
    println!("booking a time: {booking} statements");
    assert!(booking <= 20, "{booking} statements");

    // Posts through one link are limited: a flood is slowed down, not served.
    let mut statuses = Vec::new();
    for _ in 0..70 {
        statuses.push(post(&fx, &path, &[("csrf", &csrf), ("name", "Flood")]).await.status);
    }
    assert!(statuses.iter().take(58).all(|s| *s == 422), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert_eq!(fx.app.count("space_to_talk_bookings").await, 1);
}

/// The school's booking of EP time that a slot holds, and its ledger, by kind and category.
async fn ledger_of(fx: &Fx, ep_time: &Value) -> std::collections::BTreeMap<(String, String), i64> {
    let a = gql(
        fx,
        &fx.t.admin.token,
        "query($b: ID!) { ledgerEntries(filter: { bookingId: $b }, first: 100) { edges { node { kind category minutes reason } } } }",
        json!({ "b": ep_time }),
    )
    .await;
    let mut out = std::collections::BTreeMap::new();
    for e in a.ok()["ledgerEntries"]["edges"].as_array().unwrap() {
        let n = &e["node"];
        if n["kind"] == "LATE_CANCELLATION" {
            let reason = n["reason"].as_str().unwrap();
            assert!(
                reason.starts_with("Space to Talk session cancelled late by the"),
                "the ledger keeps no typed reason: {reason}"
            );
        }
        *out.entry((
            n["kind"].as_str().unwrap().to_owned(),
            n["category"].as_str().unwrap().to_owned(),
        ))
        .or_insert(0) += n["minutes"].as_i64().unwrap();
    }
    out
}

fn kinds(entries: &[(&str, i64)]) -> std::collections::BTreeMap<(String, String), i64> {
    entries
        .iter()
        .map(|(k, m)| ((k.to_string(), "DIRECT".to_owned()), *m))
        .collect()
}

async fn contract_balance(fx: &Fx, contract: &str) -> Value {
    let a = gql(
        fx,
        &fx.t.admin.token,
        "query($id: ID!) { contract(id: $id) { balance { purchasedMinutes bookedMinutes deliveredMinutes lateCancellationMinutes usedMinutes remainingMinutes } } }",
        json!({ "id": contract }),
    )
    .await;
    a.ok()["contract"]["balance"].clone()
}

/// Every ledger entry of a contract, summed by kind, as the balance's figures.
async fn ledger_sums(fx: &Fx, contract: &str) -> (i64, i64, i64) {
    let a = gql(
        fx,
        &fx.t.admin.token,
        "query($c: ID!) { ledgerEntries(filter: { contractId: $c }, first: 100) { edges { node { kind minutes } } } }",
        json!({ "c": contract }),
    )
    .await;
    let (mut booked, mut delivered, mut late) = (0, 0, 0);
    for e in a.ok()["ledgerEntries"]["edges"].as_array().unwrap() {
        let m = e["node"]["minutes"].as_i64().unwrap();
        match e["node"]["kind"].as_str().unwrap() {
            "BOOKED" | "RELEASED" => booked += m,
            "DELIVERED" => delivered += m,
            "LATE_CANCELLATION" => late += m,
            other => panic!("unexpected {other}"),
        }
    }
    (booked, delivered, late)
}

async fn cancel_stt(fx: &Fx, token: &str, id: &Value, reason: &str) -> Value {
    booked(
        &gql(
            fx,
            token,
            &mutation(
                "cancelSpaceToTalkBooking",
                "CancelSpaceToTalkBookingInput",
                &format!("booking {{ {BOOKING} }}"),
            ),
            json!({ "i": { "id": id, "reason": reason } }),
        )
        .await,
        "cancelSpaceToTalkBooking",
    )
}

async fn set_draws_down(fx: &Fx, on: bool) {
    let set = gql(
        fx,
        &fx.t.admin.token,
        &mutation(
            "setSpaceToTalkSettings",
            "SetSpaceToTalkSettingsInput",
            "settings { drawsDownAllocation }",
        ),
        json!({ "i": { "serviceId": fx.t.service_id, "drawsDownAllocation": on } }),
    )
    .await;
    assert_eq!(
        set.ok()["setSpaceToTalkSettings"]["settings"]["drawsDownAllocation"],
        on
    );
}

/// A parent books a slot (its API id) through the school's link and cancels with their manage
/// link.
async fn parent_books_and_cancels(fx: &Fx, path: &str, slot: &str) {
    let row_id = scps::graphql::ids::decode(slot).unwrap().1.simple().to_string();
    let done = book_on_page(fx, path, &row_id, "Robin", "07700 900789").await;
    assert_eq!(done.status, 303, "{}", done.html);
    let manage = done.location.unwrap();
    let base = manage.split('?').next().unwrap().to_owned();
    let mine = get(fx, &base).await;
    let csrf = values(&mine.html, "csrf").pop().unwrap();
    let cancelled = post(fx, &format!("{base}/cancel"), &[("csrf", &csrf)]).await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.html);
}

#[tokio::test]
async fn a_late_cancellation_is_charged_under_the_policy_only_where_sessions_draw_down_the_schools_time() {
    let fx = fixture().await;
    let t = &fx.t;
    let (path, _) = issue_link(&fx, &t.senco_a.token, &t.school_a.id).await;
    // Not school time: a late cancellation by the parent writes nothing to the ledger.
    app_policy(&fx, 50, 24 * 28).await;
    let free_run = run_at_school_a(&fx).await;
    let entries_before = fx.app.count("ledger_entries").await;
    parent_books_and_cancels(&fx, &path, &slot_ids(&free_run)[0]).await;
    assert_eq!(
        fx.app.count("ledger_entries").await,
        entries_before,
        "nothing is charged"
    );
    assert_eq!(contract_balance(&fx, &fx.contract_a).await["usedMinutes"], 0);

    // School time: the run's slots are booked against school A's contract.
    set_draws_down(&fx, true).await;
    app_policy(&fx, 50, 48).await;
    let run = published(
        &publish(
            &fx,
            &t.ep.token,
            json!({ "schoolIds": [t.school_a.id], "startsAt": at(&fx, 1, 14, 0), "slots": 3, "gapMinutes": 15, "mode": "ONLINE" }),
        )
        .await,
    );
    assert_eq!(run["drawsDownAllocation"], true);
    let slots = slot_ids(&run);
    let ep_time: Vec<Value> = run["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["bookingId"].clone())
        .collect();
    let b = contract_balance(&fx, &fx.contract_a).await;
    assert_eq!(b["bookedMinutes"], 3 * 45);

    // Early (more than 48 hours ahead): the parent's and the school's cancellations charge nothing.
    parent_books_and_cancels(&fx, &path, &slots[0]).await;
    let s = booked(
        &book(
            &fx,
            &t.senco_a.token,
            json!({ "slotId": slots[1], "displayName": "Alex", "email": "alex@example.org" }),
        )
        .await,
        "bookSpaceToTalk",
    );
    let c = cancel_stt(&fx, &t.senco_a.token, &s["id"], "Alex cannot come").await;
    assert_eq!(c["cancelledAs"], "SCHOOL");
    let b = contract_balance(&fx, &fx.contract_a).await;
    assert_eq!(b["lateCancellationMinutes"], 0);
    assert_eq!(b["bookedMinutes"], 3 * 45, "the slots still hold the school's time");
    assert_eq!(ledger_of(&fx, &ep_time[0]).await, kinds(&[("BOOKED", 45)]));

    // Late (inside four weeks' notice, half charged): the parent's cancellation through the
    // manage link is charged as cancelling the slot's EP time for the school would be.
    app_policy(&fx, 50, 24 * 28).await;
    parent_books_and_cancels(&fx, &path, &slots[0]).await;
    assert_eq!(
        ledger_of(&fx, &ep_time[0]).await,
        kinds(&[("BOOKED", 45), ("RELEASED", -45), ("LATE_CANCELLATION", 23)]),
        "45 minutes released, 50% of them charged (rounded once)"
    );
    let b = contract_balance(&fx, &fx.contract_a).await;
    assert_eq!(b["lateCancellationMinutes"], 23);
    assert_eq!(b["bookedMinutes"], 2 * 45);
    // The slot is free again at once; the next parent to take it books the school's time again.
    let free = free_slots(&fx, &t.senco_a.token, &t.school_a.id).await;
    assert!(ids_of(&free, "spaceToTalkFreeSlots").contains(&slots[0]));
    let again = booked(
        &book(
            &fx,
            &t.senco_a.token,
            json!({ "slotId": slots[0], "displayName": "Sam", "phone": "07700 900111" }),
        )
        .await,
        "bookSpaceToTalk",
    );
    assert_eq!(contract_balance(&fx, &fx.contract_a).await["bookedMinutes"], 3 * 45);
    // The EP's and the service's cancellations are never charged to the school, late or not.
    let by_ep = cancel_stt(&fx, &t.ep.token, &again["id"], "EP unwell").await;
    assert_eq!(by_ep["cancelledAs"], "EP");
    let s = booked(
        &book(
            &fx,
            &t.senco_a.token,
            json!({ "slotId": slots[2], "displayName": "Kim", "phone": "07700 900222" }),
        )
        .await,
        "bookSpaceToTalk",
    );
    let by_service = cancel_stt(&fx, &t.admin.token, &s["id"], "Room closed").await;
    assert_eq!(by_service["cancelledAs"], "SERVICE");
    let b = contract_balance(&fx, &fx.contract_a).await;
    assert_eq!(b["lateCancellationMinutes"], 23);
    // The school's own late cancellation is charged too, with the reason and who kept.
    let s = booked(
        &book(
            &fx,
            &t.senco_a.token,
            json!({ "slotId": slots[1], "displayName": "Lee", "phone": "07700 900333" }),
        )
        .await,
        "bookSpaceToTalk",
    );
    let c = cancel_stt(&fx, &t.senco_a.token, &s["id"], "Lee is moving house").await;
    assert_eq!(c["cancelledAs"], "SCHOOL");
    assert_eq!(c["cancellationReason"], "Lee is moving house");
    assert_eq!(c["cancelledById"], t.senco_a.person_id.as_str());
    let b = contract_balance(&fx, &fx.contract_a).await;
    assert_eq!(b["lateCancellationMinutes"], 46);
    assert_eq!(b["bookedMinutes"], 2 * 45);
    // Ledger and balance agree, line by line.
    let (booked_sum, delivered_sum, late_sum) = ledger_sums(&fx, &fx.contract_a).await;
    assert_eq!(b["bookedMinutes"], booked_sum);
    assert_eq!(b["deliveredMinutes"], delivered_sum);
    assert_eq!(b["lateCancellationMinutes"], late_sum);
    assert_eq!(
        b["remainingMinutes"].as_i64().unwrap(),
        b["purchasedMinutes"].as_i64().unwrap() - booked_sum - delivered_sum - late_sum
    );
    // Nothing personal reached the ledger.
    assert_eq!(
        fx.app
            .count("ledger_entries WHERE reason LIKE '%Lee%' OR reason LIKE '%Robin%'")
            .await,
        0
    );
}

async fn app_policy(fx: &Fx, percent: i32, notice_hours: i32) {
    let a = gql(
        fx,
        &fx.t.admin.token,
        "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { lateCancellationChargePercent cancellationNoticeHours } } }",
        json!({ "i": { "serviceId": fx.t.service_id, "lateCancellationChargePercent": percent, "cancellationNoticeHours": notice_hours } }),
    )
    .await;
    assert_eq!(
        a.ok()["updateTimeSettings"]["timeSettings"]["lateCancellationChargePercent"],
        percent,
        "{}",
        a.body
    );
}

#[tokio::test]
async fn slots_keep_their_local_times_across_the_clock_changes() {
    let fx = fixture().await;
    let t = &fx.t;
    // The days around the changes lie outside the fixture's terms: school work is allowed there.
    let allow = gql(
        &fx,
        &t.admin.token,
        "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { termTimePolicy } } }",
        json!({ "i": { "serviceId": t.service_id, "termTimePolicy": "ALLOW" } }),
    )
    .await;
    assert_eq!(
        allow.ok()["updateTimeSettings"]["timeSettings"]["termTimePolicy"],
        "ALLOW",
        "{}",
        allow.body
    );
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    // The Friday before and the Monday after the last Sundays of March and October 2027.
    for (before, after) in [(d(2027, 3, 26), d(2027, 3, 29)), (d(2027, 10, 29), d(2027, 11, 1))] {
        assert_ne!(
            london(before, 10, 0).format("%H").to_string(),
            london(after, 10, 0).format("%H").to_string(),
            "the clocks changed in between"
        );
        for day in [before, after] {
            let run = published(
                &publish(
                    &fx,
                    &t.ep.token,
                    json!({ "schoolIds": [t.school_a.id], "startsAt": rfc(london(day, 10, 0)), "slots": 3, "gapMinutes": 15, "mode": "ONLINE" }),
                )
                .await,
            );
            let times: Vec<(Value, Value)> = run["slots"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["startsAt"].clone(), s["endsAt"].clone()))
                .collect();
            let expected: Vec<(Value, Value)> = [10, 11, 12]
                .iter()
                .map(|h| (json!(rfc(london(day, *h, 0))), json!(rfc(london(day, *h, 45)))))
                .collect();
            assert_eq!(times, expected, "10:00, 11:00 and 12:00 London time on {day}");
            // Working hours are the EP's local 09:00 to 17:00 on either side of the change: a slot
            // from 16:30 London time is refused, and named in London time.
            let late = publish(
                &fx,
                &t.ep.token,
                json!({ "schoolIds": [t.school_a.id], "startsAt": rfc(london(day, 16, 30)), "slots": 1, "mode": "ONLINE" }),
            )
            .await;
            let refused = errors(&late, "publishSpaceToTalkRun");
            assert_eq!(refused.len(), 1, "{}", late.body);
            assert!(
                refused[0].1.contains("16:30 to 17:15") && refused[0].1.contains("working hours"),
                "{refused:?}"
            );
            let early = publish(
                &fx,
                &t.ep.token,
                json!({ "schoolIds": [t.school_a.id], "startsAt": rfc(london(day, 9, 0)), "slots": 1, "slotMinutes": 60, "mode": "ONLINE" }),
            )
            .await;
            assert!(
                errors(&early, "publishSpaceToTalkRun").is_empty(),
                "09:00 London time is inside the working day: {}",
                early.body
            );
        }
    }
}

#[tokio::test]
async fn the_school_and_the_service_list_its_booking_links_and_nobody_else_sees_them() {
    let fx = fixture().await;
    let t = &fx.t;
    let (_, first) = issue_link(&fx, &t.senco_a.token, &t.school_a.id).await;
    let (_, second) = issue_link(&fx, &t.admin.token, &t.school_a.id).await;
    issue_link(&fx, &t.senco_b.token, &t.school_b.id).await;
    let revoke = gql(
        &fx,
        &t.senco_a.token,
        &mutation("revokeSpaceToTalkLink", "RevokeSpaceToTalkLinkInput", "link { id }"),
        json!({ "i": { "id": first } }),
    )
    .await;
    assert!(errors(&revoke, "revokeSpaceToTalkLink").is_empty(), "{}", revoke.body);
    let list = |token: String, school: String| {
        let fx = &fx;
        async move {
            gql(
                fx,
                &token,
                "query($s: ID!) { spaceToTalkLinks(schoolId: $s) { id schoolId createdAt createdById expiresAt revokedAt } }",
                json!({ "s": school }),
            )
            .await
        }
    };
    // The school's SENCO and the service's administrators: the school's links, newest first,
    // with who issued each and whether it was revoked; never a token.
    for token in [&t.senco_a.token, &t.admin.token] {
        let a = list(token.clone(), t.school_a.id.clone()).await;
        let links = a.ok()["spaceToTalkLinks"].as_array().unwrap().clone();
        let ids: Vec<&str> = links.iter().map(|l| l["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![second.as_str(), first.as_str()], "{}", a.body);
        let admin = gql(&fx, &t.admin.token, "{ viewer { person { id } } }", json!({})).await;
        assert_eq!(links[0]["createdById"], admin.ok()["viewer"]["person"]["id"]);
        assert_eq!(links[1]["createdById"], t.senco_a.person_id.as_str());
        assert!(links[0]["revokedAt"].is_null() && links[1]["revokedAt"].is_string());
        assert!(links.iter().all(|l| l["schoolId"] == t.school_a.id.as_str()));
        assert!(!a.body.to_string().contains("stl_"), "no token: {}", a.body);
    }
    // The leader of the school may see it but not its links; anyone else does not find them.
    let leader = list(t.leader_a.token.clone(), t.school_a.id.clone()).await;
    assert_eq!(leader.code(), Some("FORBIDDEN"), "{}", leader.body);
    for token in [&t.ep.token, &t.other_ep.token, &t.staff_a.token] {
        let a = list(token.clone(), t.school_a.id.clone()).await;
        assert!(matches!(a.code(), Some("FORBIDDEN" | "NOT_FOUND")), "{}", a.body);
        assert!(a.data()["spaceToTalkLinks"].is_null(), "{}", a.body);
    }
    let other_senco = list(t.senco_b.token.clone(), t.school_a.id.clone()).await;
    assert_eq!(other_senco.code(), Some("NOT_FOUND"), "{}", other_senco.body);
    let other = fx.app.tenant().await;
    for token in [&other.admin.token, &other.senco_a.token] {
        let a = list(token.clone(), t.school_a.id.clone()).await;
        assert_eq!(a.code(), Some("NOT_FOUND"), "another service: {}", a.body);
    }
    // School B's SENCO lists their own school's one link.
    let b = list(t.senco_b.token.clone(), t.school_b.id.clone()).await;
    assert_eq!(b.ok()["spaceToTalkLinks"].as_array().unwrap().len(), 1);
}
