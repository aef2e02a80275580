//! EP time from outside: contracts, calendars, bookings that never collide (under concurrency,
//! and across two server processes on PostgreSQL), cancellation and rescheduling with the
//! ledger behind them, availability across the clock changes, balances against a hand-computed
//! fixture, and what each role sees.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::London;
use serde_json::{Value, json};

use scps_tests::clock::{london, monday_in, rfc};
use scps_tests::{Answer, Tenant, TestApp};

const BOOK: &str = "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id status contractId directMinutes preparationMinutes blockedFrom blockedUntil } warnings } userErrors { field message code } } }";
const CANCEL: &str = "mutation($i: CancelBookingInput!) { cancelBooking(input: $i) { result { chargedMinutes booking { id status cancellation { charged cancelledFor reason } } } userErrors { field message code } } }";
const BALANCE: &str = "query($id: ID!) { contract(id: $id) { balance { purchasedMinutes bookedMinutes deliveredMinutes lateCancellationMinutes adjustedMinutes usedMinutes remainingMinutes directMinutes preparationMinutes inUnits { purchased remaining } } } }";

/// A tenant whose EP works Monday to Friday, 09:00 to 17:00, and whose school A has a traded
/// contract of 10 days (3900 minutes) for the coming year, with the EP as link EP.
struct TimeFixture {
    t: Tenant,
    contract: String,
    unit_day: String,
}

async fn setup(app: &TestApp) -> TimeFixture {
    let t = app.tenant().await;
    set_pattern(app, &t, &t.ep.person_id, &[1, 2, 3, 4, 5], "09:00", "17:00").await;
    set_pattern(app, &t, &t.other_ep.person_id, &[1, 2, 3, 4, 5], "09:00", "17:00").await;
    let units = app
        .gql(
            &t.admin.token,
            "query($id: ID!) { service(id: $id) { units { id name minutes } } }",
            json!({ "id": t.service_id }),
        )
        .await;
    let unit_day = units.ok()["service"]["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "day")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let contract = create_contract(app, &t, &t.school_a.id, &unit_day, 10.0, &t.ep.person_id).await;
    TimeFixture { t, contract, unit_day }
}

async fn set_pattern(app: &TestApp, t: &Tenant, ep: &str, days: &[i32], from: &str, to: &str) {
    let hours: Vec<Value> = days
        .iter()
        .map(|d| json!({ "weekday": d, "startsAt": from, "endsAt": to }))
        .collect();
    let a = app
        .gql(
            &t.admin.token,
            "mutation($i: SetWorkingPatternInput!) { setWorkingPattern(input: $i) { workingPattern { id } userErrors { field message } } }",
            json!({ "i": { "serviceId": t.service_id, "epId": ep, "effectiveFrom": "2020-01-01", "fte": 1.0, "hours": hours } }),
        )
        .await;
    assert!(
        a.ok()["setWorkingPattern"]["workingPattern"]["id"].is_string(),
        "{}",
        a.body
    );
}

async fn create_contract(app: &TestApp, t: &Tenant, school: &str, unit: &str, quantity: f64, link_ep: &str) -> String {
    let today = Utc::now().date_naive();
    let a = app
        .gql(
            &t.admin.token,
            "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } userErrors { field message code } } }",
            json!({ "i": {
                "schoolId": school, "periodKind": "ACADEMIC_YEAR",
                "startsOn": (today - Duration::days(60)).to_string(), "endsOn": (today + Duration::days(300)).to_string(),
                "fundingStream": "TRADED", "unitId": unit, "quantity": quantity, "linkEpId": link_ep, "pricePence": 450000
            } }),
        )
        .await;
    a.ok()["createContract"]["contract"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("contract: {}", a.body))
        .to_owned()
}

fn booking_input(t: &Tenant, school: Option<&str>, ep: &str, start: DateTime<Utc>, minutes: i64) -> Value {
    json!({
        "schoolId": school, "epId": ep, "kind": "CONSULTATION",
        "startsAt": rfc(start), "endsAt": rfc(start + Duration::minutes(minutes)),
        "serviceId": if school.is_none() { Some(t.service_id.clone()) } else { None },
        // Administrators book inside the minimum notice (and in the past) with a reason; the
        // notice rule itself is tested on its own.
        "shortNoticeReason": "Booked in a test",
    })
}

async fn book(app: &TestApp, token: &str, input: Value) -> Answer {
    app.gql(token, BOOK, json!({ "i": input })).await
}

fn booked_id(a: &Answer) -> String {
    a.ok()["createBooking"]["result"]["booking"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a booking: {}", a.body))
        .to_owned()
}

fn user_error_codes(a: &Answer, field: &str) -> Vec<String> {
    a.body["data"][field]["userErrors"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|e| e["code"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn balance(app: &TestApp, token: &str, contract: &str) -> Value {
    let a = app.gql(token, BALANCE, json!({ "id": contract })).await;
    a.ok()["contract"]["balance"].clone()
}

/// Ledger entries of a booking as (kind, category) -> minutes.
async fn entries(app: &TestApp, token: &str, booking: &str) -> BTreeMap<(String, String), i64> {
    let a = app
        .gql(
            token,
            "query($b: ID!) { ledgerEntries(filter: { bookingId: $b }, first: 100) { edges { node { kind category minutes } } } }",
            json!({ "b": booking }),
        )
        .await;
    let mut out = BTreeMap::new();
    for e in a.ok()["ledgerEntries"]["edges"].as_array().unwrap() {
        let n = &e["node"];
        *out.entry((
            n["kind"].as_str().unwrap().to_owned(),
            n["category"].as_str().unwrap().to_owned(),
        ))
        .or_insert(0) += n["minutes"].as_i64().unwrap();
    }
    out
}

fn entry(kind: &str, category: &str, minutes: i64) -> ((String, String), i64) {
    ((kind.to_owned(), category.to_owned()), minutes)
}

#[tokio::test]
async fn fifty_concurrent_attempts_at_one_slot_make_exactly_one_booking() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let start = london(monday_in(2) + Duration::days(1), 10, 0);
    let before_ledger = app.count("ledger_entries").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        // Overlapping, not identical: each starts a few minutes later than the last.
        let input = booking_input(
            &fx.t,
            Some(&fx.t.school_a.id),
            &fx.t.ep.person_id,
            start + Duration::minutes(i % 5),
            60,
        );
        let client = app.client.clone();
        let url = app.url("/graphql");
        let token = fx.t.admin.token.clone();
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": BOOK, "variables": { "i": input } }))
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        }));
    }
    let mut made = 0;
    let mut conflicts = 0;
    for task in tasks {
        let body = task.await.unwrap();
        if body["data"]["createBooking"]["result"]["booking"]["id"].is_string() {
            made += 1;
        } else {
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "CONFLICT",
                "every loser gets a conflict: {body}"
            );
            // Caught by the check ("not available") or, in a closer race, by the database ("no
            // longer available").
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.contains("not available") || message.contains("no longer available"),
                "{message}"
            );
            conflicts += 1;
        }
    }
    assert_eq!((made, conflicts), (1, 49));
    assert_eq!(app.count("bookings").await, 1);
    assert_eq!(
        app.count("ledger_entries").await - before_ledger,
        1,
        "one BOOKED entry (no preparation minutes)"
    );
}

#[tokio::test]
async fn two_server_processes_on_one_postgres_database_still_make_one_booking() {
    if !scps_tests::on_postgres() {
        return; // SQLite is one process's file; the cross-process race is PostgreSQL's.
    }
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let mut children = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..2 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_scps-under-test"))
            .arg("serve")
            .env("SCPS_BIND", format!("127.0.0.1:{port}"))
            .env("SCPS_DATABASE_URL", &app.database.url)
            .env("SCPS_JWT_SECRET", scps_tests::TEST_SECRET)
            .env("SCPS_MIGRATE_ON_START", "false")
            .env("SCPS_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        children.push(child);
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    for base in &bases {
        let mut up = false;
        for _ in 0..100 {
            if app
                .client
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(up, "{base} started");
    }
    let start = london(monday_in(2) + Duration::days(2), 14, 0);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let input = booking_input(
            &fx.t,
            Some(&fx.t.school_a.id),
            &fx.t.ep.person_id,
            start + Duration::minutes(i % 7),
            45,
        );
        let url = format!("{}/graphql", bases[i as usize % 2]);
        let client = app.client.clone();
        let token = fx.t.admin.token.clone();
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": BOOK, "variables": { "i": input } }))
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        }));
    }
    let mut made = 0;
    for task in tasks {
        let body = task.await.unwrap();
        if body["data"]["createBooking"]["result"]["booking"]["id"].is_string() {
            made += 1;
        } else {
            assert_eq!(body["errors"][0]["extensions"]["code"], "CONFLICT", "{body}");
        }
    }
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    assert_eq!(made, 1);
    assert_eq!(app.count("bookings").await, 1);
}

#[tokio::test]
async fn back_to_back_bookings_fit_and_travel_buffers_block() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let day = monday_in(2) + Duration::days(2);
    let a = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 10, 0), 60),
    )
    .await;
    booked_id(&a);
    let b = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 11, 0), 60),
    )
    .await;
    booked_id(&b);
    let overlap = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 11, 30), 60),
    )
    .await;
    assert_eq!(overlap.code(), Some("CONFLICT"));
    assert!(
        overlap.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already booked")
    );

    let s = app
        .gql(
            &t.admin.token,
            "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { travelBufferMinutes } } }",
            json!({ "i": { "serviceId": t.service_id, "travelBufferMinutes": 30 } }),
        )
        .await;
    assert_eq!(s.ok()["updateTimeSettings"]["timeSettings"]["travelBufferMinutes"], 30);
    create_contract(&app, t, &t.school_b.id, &fx.unit_day, 5.0, &t.ep.person_id).await;
    // In person at another school, the EP needs one buffer (30 minutes) to get there after
    // the 11:00 to 12:00 booking at school A: 12:00 is too soon, 12:30 is fine.
    let tight = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_b.id), &t.ep.person_id, london(day, 12, 0), 30),
    )
    .await;
    assert_eq!(tight.code(), Some("CONFLICT"), "{}", tight.body);
    assert!(
        tight.body["errors"][0]["message"].as_str().unwrap().contains("travel"),
        "{}",
        tight.body
    );
    let later = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_b.id), &t.ep.person_id, london(day, 12, 30), 30),
    )
    .await;
    let blocked_from = later.ok()["createBooking"]["result"]["booking"]["blockedFrom"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        blocked_from.parse::<DateTime<Utc>>().unwrap(),
        london(day, 12, 30),
        "a booking blocks its own time; travel is kept between neighbours"
    );
    // Back at school A after school B (12:30 to 13:00): one buffer again, so 13:30.
    let back = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 13, 15), 15),
    )
    .await;
    assert_eq!(back.code(), Some("CONFLICT"), "{}", back.body);
    booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 13, 30), 15),
        )
        .await,
    );
    // Online needs no travel.
    let mut online = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 14, 0), 30);
    online["mode"] = json!("ONLINE");
    booked_id(&book(&app, &t.admin.token, online).await);
}

#[tokio::test]
async fn a_late_school_cancellation_is_charged_and_an_early_one_is_not() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    // Inside the 48-hour notice window.
    let soon = tomorrow();
    let mut late_input = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(soon, 16, 0), 60);
    late_input["preparationMinutes"] = json!(30);
    let late = booked_id(&book(&app, &t.admin.token, late_input).await);
    let early = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(
                t,
                Some(&t.school_a.id),
                &t.ep.person_id,
                london(monday_in(3), 10, 0),
                60,
            ),
        )
        .await,
    );

    let c = app
        .gql(
            &t.senco_a.token,
            CANCEL,
            json!({ "i": { "id": late, "reason": "Class trip clash" } }),
        )
        .await;
    let r = &c.ok()["cancelBooking"]["result"];
    assert_eq!(r["chargedMinutes"], 90);
    assert_eq!(r["booking"]["status"], "CANCELLED");
    assert_eq!(r["booking"]["cancellation"]["charged"], true);
    assert_eq!(r["booking"]["cancellation"]["cancelledFor"], "SCHOOL");
    assert_eq!(r["booking"]["cancellation"]["reason"], "Class trip clash");
    assert_eq!(
        entries(&app, &t.admin.token, &late).await,
        BTreeMap::from([
            entry("BOOKED", "DIRECT", 60),
            entry("BOOKED", "PREPARATION", 30),
            entry("RELEASED", "DIRECT", -60),
            entry("RELEASED", "PREPARATION", -30),
            entry("LATE_CANCELLATION", "DIRECT", 60),
            entry("LATE_CANCELLATION", "PREPARATION", 30),
        ])
    );

    let c = app
        .gql(
            &t.senco_a.token,
            CANCEL,
            json!({ "i": { "id": early, "reason": "No longer needed" } }),
        )
        .await;
    assert_eq!(c.ok()["cancelBooking"]["result"]["chargedMinutes"], 0);
    assert_eq!(
        entries(&app, &t.admin.token, &early).await,
        BTreeMap::from([entry("BOOKED", "DIRECT", 60), entry("RELEASED", "DIRECT", -60)])
    );
    let b = balance(&app, &t.admin.token, &fx.contract).await;
    assert_eq!(b["lateCancellationMinutes"], 90);
    assert_eq!(b["bookedMinutes"], 0);
    assert_eq!(b["remainingMinutes"], 3900 - 90);
}

#[tokio::test]
async fn the_charge_follows_the_policy_and_the_service_or_ep_is_never_charged() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    app.gql(
        &t.admin.token,
        "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { lateCancellationChargePercent } } }",
        json!({ "i": { "serviceId": t.service_id, "lateCancellationChargePercent": 50, "cancellationNoticeHours": 24 * 28 } }),
    )
    .await
    .ok();
    let day = monday_in(2);
    let a = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 9, 0), 90),
        )
        .await,
    );
    let b = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 11, 0), 60),
        )
        .await,
    );
    let c = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 13, 0), 60),
        )
        .await,
    );
    let alt = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 15, 0), 60),
        )
        .await,
    );

    let school = app
        .gql(
            &t.admin.token,
            CANCEL,
            json!({ "i": { "id": a, "reason": "r", "cancelledFor": "SCHOOL" } }),
        )
        .await;
    assert_eq!(
        school.ok()["cancelBooking"]["result"]["chargedMinutes"],
        45,
        "half of 90 minutes"
    );
    // An administrator must say on whose behalf: a forgotten field must not give the school
    // its time back.
    let unsaid = app
        .gql(&t.admin.token, CANCEL, json!({ "i": { "id": b, "reason": "r" } }))
        .await;
    assert_eq!(user_error_codes(&unsaid, "cancelBooking"), vec!["REQUIRED"]);
    let service = app
        .gql(
            &t.admin.token,
            CANCEL,
            json!({ "i": { "id": b, "reason": "r", "cancelledFor": "SERVICE" } }),
        )
        .await;
    assert_eq!(
        service.ok()["cancelBooking"]["result"]["booking"]["cancellation"]["cancelledFor"],
        "SERVICE"
    );
    assert_eq!(service.ok()["cancelBooking"]["result"]["chargedMinutes"], 0);
    // The EP cancels: the policy asks for an alternative.
    let bare = app
        .gql(&t.ep.token, CANCEL, json!({ "i": { "id": c, "reason": "Unwell" } }))
        .await;
    assert_eq!(user_error_codes(&bare, "cancelBooking"), vec!["REQUIRED"]);
    let with_alt = app
        .gql(
            &t.ep.token,
            CANCEL,
            json!({ "i": { "id": c, "reason": "Unwell", "alternativeBookingId": alt } }),
        )
        .await;
    let r = &with_alt.ok()["cancelBooking"]["result"];
    assert_eq!(r["chargedMinutes"], 0);
    assert_eq!(r["booking"]["cancellation"]["cancelledFor"], "EP");
    // A SENCO cannot cancel on the service's behalf.
    let d = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 16, 0), 30),
        )
        .await,
    );
    let pretend = app
        .gql(
            &t.senco_a.token,
            CANCEL,
            json!({ "i": { "id": d, "reason": "r", "cancelledFor": "SERVICE" } }),
        )
        .await;
    assert_eq!(user_error_codes(&pretend, "cancelBooking"), vec!["NOT_ALLOWED"]);
}

#[tokio::test]
async fn a_reschedule_is_all_or_nothing_and_links_both_ways() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let day = monday_in(2) + Duration::days(3);
    let first = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 10, 0), 60),
        )
        .await,
    );
    let _blocker = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 14, 0), 60),
        )
        .await,
    );
    let bookings_before = app.count("bookings").await;
    let ledger_before = app.count("ledger_entries").await;
    let q = "mutation($i: RescheduleBookingInput!) { rescheduleBooking(input: $i) { result { previous { id status rescheduledToId } booking { id status rescheduledFromId startsAt } } userErrors { code } } }";

    let clash = app
        .gql(
            &t.admin.token,
            q,
            json!({ "i": { "id": first, "startsAt": rfc(london(day, 14, 30)), "endsAt": rfc(london(day, 15, 30)) } }),
        )
        .await;
    assert_eq!(clash.code(), Some("CONFLICT"));
    assert_eq!(app.count("bookings").await, bookings_before, "no new booking");
    assert_eq!(app.count("ledger_entries").await, ledger_before, "no ledger entry");
    let still = app
        .gql(
            &t.admin.token,
            "query($id: ID!) { booking(id: $id) { status } }",
            json!({ "id": first }),
        )
        .await;
    assert_eq!(still.ok()["booking"]["status"], "CONFIRMED");

    // Half an hour later overlaps the booking itself: the new time is booked, then the old freed.
    let moved = app
        .gql(
            &t.admin.token,
            q,
            json!({ "i": { "id": first, "startsAt": rfc(london(day, 10, 30)), "endsAt": rfc(london(day, 11, 30)) } }),
        )
        .await;
    let r = &moved.ok()["rescheduleBooking"]["result"];
    let new_id = r["booking"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r["previous"]["status"], "CANCELLED");
    assert_eq!(r["previous"]["rescheduledToId"], new_id.as_str());
    assert_eq!(r["booking"]["rescheduledFromId"], first.as_str());
    assert_eq!(r["booking"]["status"], "CONFIRMED");
    let b = balance(&app, &t.admin.token, &fx.contract).await;
    assert_eq!(b["bookedMinutes"], 120, "two bookings of an hour are held, not three");
}

#[tokio::test]
async fn a_refused_booking_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let day = monday_in(2);
    let before = (
        app.count("bookings").await,
        app.count("ledger_entries").await,
        app.count("audit_events").await,
    );
    let start = london(day, 10, 0);
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut backwards = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, start, 60);
    backwards["endsAt"] = json!(rfc(start - Duration::minutes(30)));
    cases.push((backwards, "OUT_OF_RANGE"));
    let mut zero = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, start, 60);
    zero["endsAt"] = json!(rfc(start));
    cases.push((zero, "OUT_OF_RANGE"));
    let mut negative_prep = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, start, 60);
    negative_prep["preparationMinutes"] = json!(-10);
    cases.push((negative_prep, "OUT_OF_RANGE"));
    let mut seconds = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, start, 60);
    seconds["startsAt"] = json!(rfc(start + Duration::seconds(30)));
    cases.push((seconds, "INVALID"));
    // School B has no contract at all; so it has nothing covering the date.
    cases.push((
        booking_input(t, Some(&t.school_b.id), &t.ep.person_id, start, 60),
        "NOT_ALLOWED",
    ));
    // Beyond the contract's period.
    cases.push((
        booking_input(
            t,
            Some(&t.school_a.id),
            &t.ep.person_id,
            london(monday_in(52), 10, 0),
            60,
        ),
        "NOT_ALLOWED",
    ));
    // Not an EP of the service.
    cases.push((
        booking_input(t, Some(&t.school_a.id), &t.senco_a.person_id, start, 60),
        "NOT_FOUND",
    ));
    let mut long_location = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, start, 60);
    long_location["location"] = json!("x".repeat(201));
    cases.push((long_location, "TOO_LONG"));
    for (input, code) in cases {
        let a = book(&app, &t.admin.token, input.clone()).await;
        assert!(
            user_error_codes(&a, "createBooking").contains(&code.to_owned()),
            "{input}: expected {code}, got {}",
            a.body
        );
        assert!(a.body["data"]["createBooking"]["result"].is_null());
    }
    // A conflict, too, writes nothing.
    booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, start, 60),
        )
        .await,
    );
    let after_one = (app.count("bookings").await, app.count("ledger_entries").await);
    assert_eq!(after_one.0, before.0 + 1);
    let clash = book(
        &app,
        &t.admin.token,
        booking_input(
            t,
            Some(&t.school_a.id),
            &t.ep.person_id,
            start + Duration::minutes(15),
            60,
        ),
    )
    .await;
    assert_eq!(clash.code(), Some("CONFLICT"));
    assert_eq!(
        (app.count("bookings").await, app.count("ledger_entries").await),
        after_one
    );
    // Unknown enum values never reach the service.
    let mut bad_kind = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, start, 60);
    bad_kind["kind"] = json!("PICNIC");
    let a = book(&app, &t.admin.token, bad_kind).await;
    assert!(
        matches!(a.code(), Some("BAD_USER_INPUT" | "GRAPHQL_VALIDATION_FAILED")),
        "{}",
        a.body
    );
    assert_eq!(
        (app.count("bookings").await, app.count("ledger_entries").await),
        after_one
    );
}

#[tokio::test]
async fn overbooking_follows_each_policy() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    // A contract of a quarter of a day (98 minutes) at school B.
    let small = create_contract(&app, t, &t.school_b.id, &fx.unit_day, 0.25, &t.ep.person_id).await;
    let day = monday_in(3);
    let policy = |p: &str| json!({ "i": { "serviceId": t.service_id, "overbookingPolicy": p } });
    let set = "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { overbookingPolicy } } }";
    let counts = || async { (app.count("bookings").await, app.count("ledger_entries").await) };

    let hard = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_b.id), &t.ep.person_id, london(day, 9, 0), 120),
    )
    .await;
    assert_eq!(
        user_error_codes(&hard, "createBooking"),
        vec!["NOT_ALLOWED"],
        "HARD_STOP is the default"
    );
    assert!(
        hard.body["data"]["createBooking"]["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("98")
    );
    assert_eq!(counts().await, (0, 0));

    app.gql(&t.admin.token, set, policy("ALLOW_WITH_WARNING")).await.ok();
    let warned = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_b.id), &t.ep.person_id, london(day, 9, 0), 120),
    )
    .await;
    let warnings = warned.ok()["createBooking"]["result"]["warnings"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("Over the allocation")),
        "{warnings:?}"
    );
    let b = balance(&app, &t.admin.token, &small).await;
    assert_eq!(b["remainingMinutes"], 98 - 120);

    app.gql(&t.admin.token, set, policy("ADMIN_OVERRIDE")).await.ok();
    let before = counts().await;
    let by_ep = book(
        &app,
        &t.ep.token,
        booking_input(t, Some(&t.school_b.id), &t.ep.person_id, london(day, 13, 0), 60),
    )
    .await;
    assert_eq!(user_error_codes(&by_ep, "createBooking"), vec!["NOT_ALLOWED"]);
    let no_reason = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_b.id), &t.ep.person_id, london(day, 13, 0), 60),
    )
    .await;
    assert_eq!(user_error_codes(&no_reason, "createBooking"), vec!["NOT_ALLOWED"]);
    assert_eq!(counts().await, before);
    let mut with_reason = booking_input(t, Some(&t.school_b.id), &t.ep.person_id, london(day, 13, 0), 60);
    with_reason["overbookingReason"] = json!("Urgent: agreed with the head");
    booked_id(&book(&app, &t.admin.token, with_reason).await);
}

#[tokio::test]
async fn statutory_work_never_draws_down_traded_time() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let mut input = booking_input(
        t,
        Some(&t.school_a.id),
        &t.ep.person_id,
        london(monday_in(2), 9, 0),
        180,
    );
    input["fundingStream"] = json!("STATUTORY");
    let a = book(&app, &t.admin.token, input).await;
    assert!(
        a.ok()["createBooking"]["result"]["booking"]["contractId"].is_null(),
        "no statutory contract needed"
    );
    let b = balance(&app, &t.admin.token, &fx.contract).await;
    assert_eq!(b["bookedMinutes"], 0);
    assert_eq!(b["remainingMinutes"], 3900);
}

#[tokio::test]
async fn balances_equal_a_hand_computed_fixture() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    // Top up one day: 3900 + 390 = 4290 minutes purchased.
    let top = app
        .gql(
            &t.admin.token,
            "mutation($i: TopUpContractInput!) { topUpContract(input: $i) { contract { purchasedMinutes topUps { minutes } } userErrors { message } } }",
            json!({ "i": { "contractId": fx.contract, "quantity": 1, "reason": "Extra day agreed in October" } }),
        )
        .await;
    assert_eq!(top.ok()["topUpContract"]["contract"]["purchasedMinutes"], 4290);

    // A: last week, delivered with 120 direct and 30 preparation minutes.
    let past = london(monday_in(-1) + Duration::days(1), 10, 0);
    let a = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, past, 120),
        )
        .await,
    );
    let d = app
        .gql(
            &t.ep.token,
            "mutation($i: RecordDeliveryInput!) { recordDelivery(input: $i) { booking { status } userErrors { message } } }",
            json!({ "i": { "id": a, "preparationMinutes": 30 } }),
        )
        .await;
    assert_eq!(d.ok()["recordDelivery"]["booking"]["status"], "DELIVERED");
    // B: booked for later, 90 direct and 15 preparation.
    let mut b_input = booking_input(
        t,
        Some(&t.school_a.id),
        &t.ep.person_id,
        london(monday_in(4), 10, 0),
        90,
    );
    b_input["preparationMinutes"] = json!(15);
    booked_id(&book(&app, &t.admin.token, b_input).await);
    // C: cancelled by the school inside the notice window: 60 charged.
    let c = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, past + Duration::days(1), 60),
        )
        .await,
    );
    app.gql(&t.senco_a.token, CANCEL, json!({ "i": { "id": c, "reason": "Late" } }))
        .await
        .ok();
    // D: cancelled by the school well ahead: nothing charged.
    let d = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(
                t,
                Some(&t.school_a.id),
                &t.ep.person_id,
                london(monday_in(6), 10, 0),
                60,
            ),
        )
        .await,
    );
    app.gql(&t.senco_a.token, CANCEL, json!({ "i": { "id": d, "reason": "Early" } }))
        .await
        .ok();
    // An adjustment gives 30 minutes back.
    let adj = app
        .gql(
            &t.admin.token,
            "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { entry { kind minutes } userErrors { message } } }",
            json!({ "i": { "schoolId": t.school_a.id, "contractId": fx.contract, "fundingStream": "TRADED", "minutes": -30, "appliesOn": Utc::now().date_naive().to_string(), "reason": "Meeting overran by our mistake" } }),
        )
        .await;
    assert_eq!(adj.ok()["adjustLedger"]["entry"]["kind"], "ADJUSTMENT");

    let b = balance(&app, &t.admin.token, &fx.contract).await;
    assert_eq!(b["purchasedMinutes"], 4290);
    assert_eq!(b["bookedMinutes"], 105);
    assert_eq!(b["deliveredMinutes"], 150);
    assert_eq!(b["lateCancellationMinutes"], 60);
    assert_eq!(b["adjustedMinutes"], -30);
    assert_eq!(b["usedMinutes"], 105 + 150 + 60 - 30);
    assert_eq!(b["remainingMinutes"], 4290 - 285);
    assert_eq!(b["directMinutes"], 90 + 120 + 60 - 30);
    assert_eq!(b["preparationMinutes"], 15 + 30);
    assert_eq!(b["inUnits"]["purchased"], 11.0);
    assert_eq!(
        b["inUnits"]["remaining"],
        ((4290.0 - 285.0) / 390.0 * 100.0_f64).round() / 100.0
    );

    // The summary says the same, by school and by EP, over a range that holds the contract.
    let q = "query($i: TimeSummaryInput!) { timeSummary(input: $i) { schools { school { id } streams { fundingStream balance { purchasedMinutes bookedMinutes deliveredMinutes lateCancellationMinutes adjustedMinutes remainingMinutes } } } eps { ep { id } balance { bookedMinutes deliveredMinutes lateCancellationMinutes } } } }";
    let today = Utc::now().date_naive();
    let range = |from: i64, to: i64| json!({ "i": { "serviceId": t.service_id, "from": (today + Duration::days(from)).to_string(), "to": (today + Duration::days(to)).to_string() } });
    let s = app.gql(&t.admin.token, q, range(-90, 400)).await;
    let summary = &s.ok()["timeSummary"];
    let row = summary["schools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["school"]["id"] == t.school_a.id.as_str())
        .unwrap();
    let traded = &row["streams"][0];
    assert_eq!(traded["fundingStream"], "TRADED");
    assert_eq!(traded["balance"]["purchasedMinutes"], 4290);
    assert_eq!(traded["balance"]["remainingMinutes"], 4005);
    let ep = summary["eps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ep"]["id"] == t.ep.person_id.as_str())
        .unwrap();
    assert_eq!(ep["balance"]["deliveredMinutes"], 150);
    assert_eq!(ep["balance"]["bookedMinutes"], 105);
    assert_eq!(ep["balance"]["lateCancellationMinutes"], 60);

    // Over a range that holds only part of the contract, the purchase is counted by its share
    // of the contract's working days (Monday to Friday; without an academic calendar every
    // weekday is term time).
    let weekdays = |from: i64, to: i64| {
        (from..=to)
            .filter(|d| {
                use chrono::Datelike;
                (today + Duration::days(*d)).weekday().number_from_monday() <= 5
            })
            .count() as i64
    };
    let part = app.gql(&t.admin.token, q, range(-90, 200)).await;
    let row = part.ok()["timeSummary"]["schools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["school"]["id"] == t.school_a.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        row["streams"][0]["balance"]["purchasedMinutes"],
        4290 * weekdays(-60, 200) / weekdays(-60, 300)
    );
    // Asking about one EP leaves the schools' figures whole.
    let mut one_ep = range(-90, 400);
    one_ep["i"]["epIds"] = json!([t.other_ep.person_id]);
    let narrowed = app.gql(&t.admin.token, q, one_ep).await;
    let narrowed = &narrowed.ok()["timeSummary"];
    assert_eq!(narrowed["eps"].as_array().unwrap().len(), 1);
    let row = narrowed["schools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["school"]["id"] == t.school_a.id.as_str())
        .unwrap();
    assert_eq!(row["streams"][0]["balance"]["remainingMinutes"], 4005);
}

#[allow(
    clippy::disallowed_methods,
    reason = "the test tries to edit the ledger behind the API's back"
)]
#[tokio::test]
async fn the_ledger_cannot_be_edited_or_deleted_in_the_database() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(
                t,
                Some(&t.school_a.id),
                &t.ep.person_id,
                london(monday_in(2), 10, 0),
                60,
            ),
        )
        .await,
    );
    let db = &app.services.db;
    let update = sea_orm::ConnectionTrait::execute_unprepared(db, "UPDATE ledger_entries SET minutes = 0").await;
    assert!(update.is_err(), "updates are refused");
    let delete = sea_orm::ConnectionTrait::execute_unprepared(db, "DELETE FROM ledger_entries").await;
    assert!(delete.is_err(), "deletes are refused");
    assert_eq!(app.count("ledger_entries").await, 1);
}

/// Free slot start times, as UTC strings.
async fn slots(app: &TestApp, token: &str, input: Value) -> Vec<String> {
    let a = app
        .gql(
            token,
            "query($i: AvailabilityInput!) { availability(input: $i, first: 100) { edges { node { startsAt endsAt epId visitId } } } }",
            json!({ "i": input }),
        )
        .await;
    a.ok()["availability"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["node"]["startsAt"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap()
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .collect()
}

/// The last Sunday of a month.
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut d = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .unwrap()
        - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

/// The next clock change of a month (this year's, or next year's if it has passed).
fn next_change(month: u32) -> NaiveDate {
    let today = Utc::now().date_naive();
    let this = last_sunday(today.year(), month);
    if this > today + Duration::days(2) {
        this
    } else {
        last_sunday(today.year() + 1, month)
    }
}

async fn hourly_steps(app: &TestApp, t: &Tenant) {
    app.gql(
        &t.admin.token,
        "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { slotStepMinutes } } }",
        json!({ "i": { "serviceId": t.service_id, "slotStepMinutes": 60 } }),
    )
    .await
    .ok();
}

#[tokio::test]
async fn availability_keeps_to_local_hours_on_the_last_sunday_of_march() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    hourly_steps(&app, &t).await;
    // A (fictional) Sunday-night pattern across the change: 00:00 to 04:00 local.
    set_pattern(&app, &t, &t.ep.person_id, &[7], "00:00", "04:00").await;
    let sunday = next_change(3);
    let found = slots(
        &app,
        &t.ep.token,
        json!({ "epId": t.ep.person_id, "from": rfc(london(sunday, 0, 0) - Duration::hours(2)), "to": rfc(london(sunday, 12, 0)), "durationMinutes": 60, "kind": "OTHER" }),
    )
    .await;
    // 00:00 GMT is 00:00 UTC; at 01:00 the clocks jump to 02:00 BST; 04:00 BST is 03:00 UTC:
    // three hours of work, three hourly slots.
    let d = sunday.format("%Y-%m-%d");
    assert_eq!(
        found,
        vec![format!("{d} 00:00"), format!("{d} 01:00"), format!("{d} 02:00")]
    );
    // The Monday after, 09:00 local is 08:00 UTC.
    set_pattern(&app, &t, &t.other_ep.person_id, &[1], "09:00", "11:00").await;
    let monday = sunday + Duration::days(1);
    let found = slots(
        &app,
        &t.admin.token,
        json!({ "epId": t.other_ep.person_id, "from": rfc(london(monday, 0, 0)), "to": rfc(london(monday, 23, 0)), "durationMinutes": 60, "kind": "OTHER" }),
    )
    .await;
    let m = monday.format("%Y-%m-%d");
    assert_eq!(found, vec![format!("{m} 08:00"), format!("{m} 09:00")]);
}

#[tokio::test]
async fn availability_keeps_to_local_hours_on_the_last_sunday_of_october() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    hourly_steps(&app, &t).await;
    set_pattern(&app, &t, &t.ep.person_id, &[7], "00:00", "04:00").await;
    let sunday = next_change(10);
    let found = slots(
        &app,
        &t.ep.token,
        json!({ "epId": t.ep.person_id, "from": rfc(london(sunday, 0, 0) - Duration::hours(3)), "to": rfc(london(sunday, 12, 0)), "durationMinutes": 60, "kind": "OTHER" }),
    )
    .await;
    // 00:00 BST is 23:00 UTC the day before; 01:00 to 02:00 happens twice; 04:00 GMT is
    // 04:00 UTC: five hours of work.
    let saturday = (sunday - Duration::days(1)).format("%Y-%m-%d");
    let d = sunday.format("%Y-%m-%d");
    assert_eq!(
        found,
        vec![
            format!("{saturday} 23:00"),
            format!("{d} 00:00"),
            format!("{d} 01:00"),
            format!("{d} 02:00"),
            format!("{d} 03:00")
        ]
    );
}

#[tokio::test]
async fn availability_skips_closures_leave_and_bookings() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    hourly_steps(&app, t).await;
    let monday = monday_in(3);
    let tuesday = monday + Duration::days(1);
    let wednesday = monday + Duration::days(2);
    let closure = app
        .gql(
            &t.admin.token,
            "mutation($i: AddClosureInput!) { addClosure(input: $i) { closure { id } userErrors { message } } }",
            json!({ "i": { "serviceId": t.service_id, "kind": "BANK_HOLIDAY", "startsOn": monday.to_string(), "endsOn": monday.to_string(), "reason": "Bank holiday" } }),
        )
        .await;
    assert!(closure.ok()["addClosure"]["closure"]["id"].is_string());
    let leave = app
        .gql(
            &t.admin.token,
            "mutation($i: AddCalendarExceptionInput!) { addCalendarException(input: $i) { exception { id } userErrors { message } } }",
            json!({ "i": { "serviceId": t.service_id, "epId": t.ep.person_id, "kind": "LEAVE", "startsAt": rfc(london(tuesday, 12, 0)), "endsAt": rfc(london(tuesday, 23, 0)) } }),
        )
        .await;
    assert!(leave.ok()["addCalendarException"]["exception"]["id"].is_string());
    booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(wednesday, 10, 0), 60),
        )
        .await,
    );

    let found = slots(
        &app,
        &t.admin.token,
        json!({ "epId": t.ep.person_id, "from": rfc(london(monday, 0, 0)), "to": rfc(london(wednesday, 23, 0)), "durationMinutes": 60 }),
    )
    .await;
    let local: Vec<String> = found
        .iter()
        .map(|s| {
            let utc = NaiveDateTimeUtc::parse(s);
            utc.with_timezone(&London).format("%a %H:%M").to_string()
        })
        .collect();
    let expected: Vec<String> = [
        "Tue 09:00",
        "Tue 10:00",
        "Tue 11:00",
        "Wed 09:00",
        "Wed 11:00",
        "Wed 12:00",
        "Wed 13:00",
        "Wed 14:00",
        "Wed 15:00",
        "Wed 16:00",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(
        local, expected,
        "no Monday (bank holiday), Tuesday morning only (leave), Wednesday around the booking"
    );

    // Booking on the bank holiday or in the leave is refused too.
    let holiday = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(monday, 10, 0), 60),
    )
    .await;
    assert_eq!(user_error_codes(&holiday, "createBooking"), vec!["NOT_ALLOWED"]);
    let on_leave = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(tuesday, 14, 0), 60),
    )
    .await;
    assert_eq!(user_error_codes(&on_leave, "createBooking"), vec!["NOT_ALLOWED"]);
}

struct NaiveDateTimeUtc;
impl NaiveDateTimeUtc {
    fn parse(s: &str) -> DateTime<Utc> {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
    }
}

#[tokio::test]
async fn a_school_search_finds_its_link_eps_slots_and_time_inside_its_visits() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    hourly_steps(&app, t).await;
    let day = monday_in(3) + Duration::days(3);
    let mut visit = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 9, 0), 180);
    visit["kind"] = json!("VISIT");
    let visit_id = booked_id(&book(&app, &t.admin.token, visit).await);
    let a = app
        .gql(
            &t.senco_a.token,
            "query($i: AvailabilityInput!) { availability(input: $i, first: 100) { edges { node { startsAt epId visitId } } } }",
            json!({ "i": { "schoolId": t.school_a.id, "from": rfc(london(day, 0, 0)), "to": rfc(london(day, 23, 0)), "durationMinutes": 60 } }),
        )
        .await;
    let edges = a.ok()["availability"]["edges"].as_array().unwrap().clone();
    let inside: Vec<&Value> = edges
        .iter()
        .filter(|e| e["node"]["visitId"] == visit_id.as_str())
        .collect();
    assert_eq!(inside.len(), 3, "09:00, 10:00 and 11:00 inside the visit: {edges:?}");
    assert!(
        edges.iter().all(|e| e["node"]["epId"] == t.ep.person_id.as_str()),
        "only the link EP works with school A"
    );
    // A booking inside the visit takes its slot there, without clashing with the visit.
    let mut inner = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 10, 0), 60);
    inner["visitId"] = json!(visit_id);
    let made = book(&app, &t.admin.token, inner).await;
    assert!(
        made.ok()["createBooking"]["result"]["booking"]["contractId"].is_null(),
        "time inside a visit is the visit's"
    );
    // The other school's SENCO cannot search school A.
    let other = app
        .gql(
            &t.senco_b.token,
            "query($i: AvailabilityInput!) { availability(input: $i) { edges { node { startsAt } } } }",
            json!({ "i": { "schoolId": t.school_a.id, "from": rfc(london(day, 0, 0)), "to": rfc(london(day, 23, 0)), "durationMinutes": 60 } }),
        )
        .await;
    assert_eq!(other.code(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn each_role_sees_what_the_table_says_of_ep_time() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let day = monday_in(2);
    let a = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 10, 0), 60),
        )
        .await,
    );
    let contract_b = create_contract(&app, t, &t.school_b.id, &fx.unit_day, 2.0, &t.other_ep.person_id).await;
    let b = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_b.id), &t.other_ep.person_id, london(day, 10, 0), 60),
        )
        .await,
    );
    let (partner, _, _) = app.partner(t, &["AVAILABILITY_READ"], Some(vec![&t.school_a.id])).await;
    let other = app.tenant().await;

    let get = "query($id: ID!) { booking(id: $id) { id } }";
    let code = |a: &Answer| a.code().map(str::to_owned);
    // Administrators: everything in their service; another service's administrator: nothing.
    assert!(app.gql(&t.admin.token, get, json!({ "id": b })).await.ok()["booking"]["id"].is_string());
    assert_eq!(
        code(&app.gql(&other.admin.token, get, json!({ "id": a })).await).as_deref(),
        Some("NOT_FOUND")
    );
    // SENCOs and leaders: their school's bookings, contract and balance; nothing of the other.
    assert!(app.gql(&t.senco_a.token, get, json!({ "id": a })).await.ok()["booking"]["id"].is_string());
    assert!(app.gql(&t.leader_a.token, get, json!({ "id": a })).await.ok()["booking"]["id"].is_string());
    assert_eq!(
        code(&app.gql(&t.senco_b.token, get, json!({ "id": a })).await).as_deref(),
        Some("NOT_FOUND")
    );
    assert_eq!(
        code(&app.gql(&t.senco_a.token, get, json!({ "id": b })).await).as_deref(),
        Some("NOT_FOUND")
    );
    assert_eq!(
        balance(&app, &t.senco_a.token, &fx.contract).await["purchasedMinutes"],
        3900
    );
    assert_eq!(
        code(&app.gql(&t.senco_a.token, BALANCE, json!({ "id": contract_b })).await).as_deref(),
        Some("NOT_FOUND")
    );
    let list = app
        .gql(&t.senco_a.token, "{ bookings { edges { node { id } } } }", json!({}))
        .await;
    let ids: Vec<&str> = list.ok()["bookings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![a.as_str()]);
    // School staff: no contracts, no bookings.
    assert_eq!(
        code(
            &app.gql(&t.staff_a.token, "{ bookings { edges { node { id } } } }", json!({}))
                .await
        )
        .as_deref(),
        Some("FORBIDDEN")
    );
    assert_eq!(
        code(
            &app.gql(&t.staff_a.token, "{ contracts { edges { node { id } } } }", json!({}))
                .await
        )
        .as_deref(),
        Some("FORBIDDEN")
    );
    // EPs: their own calendar and the schools they work with (link EP of A; booked at nothing else).
    assert!(app.gql(&t.ep.token, get, json!({ "id": a })).await.ok()["booking"]["id"].is_string());
    assert_eq!(
        code(&app.gql(&t.ep.token, get, json!({ "id": b })).await).as_deref(),
        Some("NOT_FOUND")
    );
    assert!(app.gql(&t.other_ep.token, get, json!({ "id": b })).await.ok()["booking"]["id"].is_string());
    // An EP records delivery of their own booking only.
    let deliver =
        "mutation($i: RecordDeliveryInput!) { recordDelivery(input: $i) { booking { status } userErrors { code } } }";
    let not_theirs = app.gql(&t.ep.token, deliver, json!({ "i": { "id": b } })).await;
    assert_eq!(code(&not_theirs).as_deref(), Some("NOT_FOUND"));
    let not_yet = app.gql(&t.ep.token, deliver, json!({ "i": { "id": a } })).await;
    assert_eq!(
        user_error_codes(&not_yet, "recordDelivery"),
        vec!["INVALID_STATE"],
        "a future booking is not delivered yet"
    );
    // A SENCO may not book EP time, or record delivery.
    let senco_books = book(
        &app,
        &t.senco_a.token,
        booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 14, 0), 60),
    )
    .await;
    assert_eq!(code(&senco_books).as_deref(), Some("FORBIDDEN"));
    // A partner with the availability scope sees free slots but no bookings.
    let free = app
        .gql(
            &partner.token,
            "query($i: AvailabilityInput!) { availability(input: $i) { edges { node { startsAt epId } } } }",
            json!({ "i": { "schoolId": t.school_a.id, "from": rfc(london(day, 0, 0)), "to": rfc(london(day, 23, 0)), "durationMinutes": 60 } }),
        )
        .await;
    assert!(!free.ok()["availability"]["edges"].as_array().unwrap().is_empty());
    assert_eq!(
        code(
            &app.gql(&partner.token, "{ bookings { edges { node { id } } } }", json!({}))
                .await
        )
        .as_deref(),
        Some("FORBIDDEN")
    );
    assert_eq!(
        code(&app.gql(&partner.token, get, json!({ "id": a })).await).as_deref(),
        Some("NOT_FOUND")
    );
    // The summary: administrators see every school; a SENCO only theirs.
    let summary =
        "query($i: TimeSummaryInput!) { timeSummary(input: $i) { schools { school { id } } eps { ep { id } } } }";
    let range = json!({ "i": { "serviceId": t.service_id, "from": (Utc::now().date_naive() - Duration::days(30)).to_string(), "to": (Utc::now().date_naive() + Duration::days(60)).to_string() } });
    let admin_view = app.gql(&t.admin.token, summary, range.clone()).await;
    assert_eq!(admin_view.ok()["timeSummary"]["schools"].as_array().unwrap().len(), 2);
    assert_eq!(admin_view.ok()["timeSummary"]["eps"].as_array().unwrap().len(), 2);
    let senco_view = app.gql(&t.senco_a.token, summary, range.clone()).await;
    let schools = senco_view.ok()["timeSummary"]["schools"].as_array().unwrap().clone();
    assert_eq!(schools.len(), 1);
    assert_eq!(schools[0]["school"]["id"], t.school_a.id.as_str());
    assert!(senco_view.ok()["timeSummary"]["eps"].as_array().unwrap().is_empty());
    assert_eq!(
        code(&app.gql(&other.admin.token, summary, range).await).as_deref(),
        Some("NOT_FOUND")
    );
}

#[tokio::test]
async fn the_summary_of_many_schools_takes_as_many_statements_as_of_few() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let q = "query($i: TimeSummaryInput!) { timeSummary(input: $i) { schools { school { name } flags streams { balance { remainingMinutes } byPeriod { usedMinutes } } } eps { ep { displayName } balance { deliveredMinutes } } } }";
    let input = json!({ "i": { "serviceId": t.service_id, "from": (Utc::now().date_naive() - Duration::days(30)).to_string(), "to": (Utc::now().date_naive() + Duration::days(90)).to_string() } });
    let statements = |a: &Answer| a.headers["x-sql-statements"].to_str().unwrap().parse::<u64>().unwrap();
    // The first asking reads the service's calendar into memory; the count compared is the
    // steady one.
    app.gql(&t.admin.token, q, input.clone()).await.ok();
    let few = app.gql(&t.admin.token, q, input.clone()).await;
    assert_eq!(few.ok()["timeSummary"]["schools"].as_array().unwrap().len(), 2);
    for i in 0..13 {
        let s = app
            .create_school(
                &t.admin.token,
                &t.service_id,
                &format!("Extra school {i}"),
                &format!("3000{i:02}"),
            )
            .await;
        create_contract(&app, t, &s.id, &fx.unit_day, 2.0, &t.ep.person_id).await;
        booked_id(
            &book(
                &app,
                &t.admin.token,
                booking_input(
                    t,
                    Some(&s.id),
                    &t.ep.person_id,
                    london(monday_in(2) + Duration::days(i % 5), 9 + (i / 5) as u32, 0),
                    30,
                ),
            )
            .await,
        );
    }
    let many = app.gql(&t.admin.token, q, input).await;
    assert_eq!(many.ok()["timeSummary"]["schools"].as_array().unwrap().len(), 15);
    assert_eq!(
        statements(&many),
        statements(&few),
        "the statement count does not grow with the schools"
    );
}

#[tokio::test]
async fn contracts_refuse_bad_input_and_write_nothing() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let other = app.tenant().await;
    let other_units = app
        .gql(
            &other.admin.token,
            "query($id: ID!) { service(id: $id) { units { id } } }",
            json!({ "id": other.service_id }),
        )
        .await;
    let foreign_unit = other_units.ok()["service"]["units"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.count("contracts").await;
    let q = "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } userErrors { field code } } }";
    let base = json!({ "schoolId": t.school_b.id, "periodKind": "FINANCIAL_YEAR", "startsOn": "2027-04-01", "endsOn": "2028-03-31", "fundingStream": "TRADED", "unitId": fx.unit_day, "quantity": 5 });
    let mut cases = Vec::new();
    let mut c = base.clone();
    c["endsOn"] = json!("2027-03-01");
    cases.push((c, "OUT_OF_RANGE"));
    let mut c = base.clone();
    c["quantity"] = json!(0);
    cases.push((c, "OUT_OF_RANGE"));
    let mut c = base.clone();
    c["quantity"] = json!(-2);
    cases.push((c, "OUT_OF_RANGE"));
    let mut c = base.clone();
    c["quantity"] = json!(1.234);
    cases.push((c, "INVALID"));
    let mut c = base.clone();
    c["unitId"] = json!(foreign_unit);
    cases.push((c, "NOT_FOUND"));
    let mut c = base.clone();
    c["linkEpId"] = json!(t.senco_a.person_id);
    cases.push((c, "NOT_FOUND"));
    let mut c = base.clone();
    c["schoolId"] = json!(t.school_a.id);
    c["startsOn"] = json!(Utc::now().date_naive().to_string());
    c["endsOn"] = json!((Utc::now().date_naive() + Duration::days(30)).to_string());
    cases.push((c, "TAKEN"));
    for (input, code) in cases {
        let a = app.gql(&t.admin.token, q, json!({ "i": input })).await;
        assert!(
            user_error_codes(&a, "createContract").contains(&code.to_owned()),
            "{input} should give {code}: {}",
            a.body
        );
    }
    assert_eq!(app.count("contracts").await, before);
    // Not an administrator: forbidden (they can see the school); another service: not found.
    let senco = app.gql(&t.senco_b.token, q, json!({ "i": base.clone() })).await;
    assert_eq!(senco.code(), Some("FORBIDDEN"));
    let foreign = app.gql(&other.admin.token, q, json!({ "i": base })).await;
    assert_eq!(foreign.code(), Some("NOT_FOUND"));
    assert_eq!(app.count("contracts").await, before);
}

#[tokio::test]
async fn an_eps_calendar_shows_their_patterns_and_leave_to_them_and_administrators_only() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let from = london(monday_in(1), 0, 0);
    let leave = app
        .gql(
            &t.ep.token,
            "mutation($i: AddCalendarExceptionInput!) { addCalendarException(input: $i) { exception { id kind } userErrors { message } } }",
            json!({ "i": { "serviceId": t.service_id, "epId": t.ep.person_id, "kind": "TRAINING", "startsAt": rfc(from + Duration::days(1)), "endsAt": rfc(from + Duration::days(2)), "reason": "Conference" } }),
        )
        .await;
    assert_eq!(
        leave.ok()["addCalendarException"]["exception"]["kind"],
        "TRAINING",
        "an EP records their own"
    );
    let q = "query($s: ID!, $e: ID!, $f: DateTime!, $t: DateTime!) { epCalendar(serviceId: $s, epId: $e, from: $f, to: $t) { workingPatterns { fte hours { weekday startsAt endsAt } } exceptions { kind reason } } }";
    let vars = json!({ "s": t.service_id, "e": t.ep.person_id, "f": rfc(from), "t": rfc(from + Duration::days(14)) });
    for token in [&t.ep.token, &t.admin.token] {
        let a = app.gql(token, q, vars.clone()).await;
        let cal = &a.ok()["epCalendar"];
        assert_eq!(
            cal["workingPatterns"][0]["hours"].as_array().unwrap().len(),
            5,
            "{}",
            a.body
        );
        assert_eq!(cal["workingPatterns"][0]["hours"][0]["startsAt"], "09:00");
        assert_eq!(cal["exceptions"][0]["reason"], "Conference");
    }
    for token in [&t.other_ep.token, &t.senco_a.token] {
        let a = app.gql(token, q, vars.clone()).await;
        assert!(matches!(a.code(), Some("FORBIDDEN" | "NOT_FOUND")), "{}", a.body);
    }
    // An EP cannot record leave for someone else.
    let other = app
        .gql(
            &t.ep.token,
            "mutation($i: AddCalendarExceptionInput!) { addCalendarException(input: $i) { exception { id } } }",
            json!({ "i": { "serviceId": t.service_id, "epId": t.other_ep.person_id, "kind": "LEAVE", "startsAt": rfc(from), "endsAt": rfc(from + Duration::days(1)) } }),
        )
        .await;
    assert_eq!(other.code(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn instants_far_from_now_are_refused_not_crashed_on() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let far = "9999-12-31T23:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let a = book(
        &app,
        &t.admin.token,
        booking_input(t, Some(&t.school_a.id), &t.ep.person_id, far, 60),
    )
    .await;
    assert_eq!(
        user_error_codes(&a, "createBooking"),
        vec!["OUT_OF_RANGE", "OUT_OF_RANGE"],
        "{}",
        a.body
    );
    let slots = app
        .gql(
            &t.admin.token,
            "query($i: AvailabilityInput!) { availability(input: $i) { edges { node { startsAt } } } }",
            json!({ "i": { "epId": t.ep.person_id, "from": "9999-12-30T00:00:00Z", "to": "9999-12-31T23:59:00Z", "durationMinutes": 60 } }),
        )
        .await;
    assert_eq!(slots.code(), Some("BAD_USER_INPUT"));
    let ok = app
        .gql(&t.admin.token, "{ viewer { services { name } } }", json!({}))
        .await;
    assert!(ok.ok()["viewer"]["services"].is_array(), "the service still answers");
}

const RESCHEDULE: &str = "mutation($i: RescheduleBookingInput!) { rescheduleBooking(input: $i) { result { booking { id } } userErrors { field code message } } }";

/// Tomorrow: a day whose 10:00 to 16:00 always lies inside the default 48-hour notice window
/// (outside an EP's working days a booking only warns).
fn tomorrow() -> NaiveDate {
    Utc::now().with_timezone(&London).date_naive() + Duration::days(1)
}

#[tokio::test]
async fn a_partner_cancels_for_the_school_and_no_one_but_administrators_books_statutory_work() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let (partner, _, _) = app.partner(t, &["BOOKINGS_READ", "BOOKINGS_WRITE"], None).await;
    // Partners book with notice: none here, so that tomorrow can be booked and cancelled late.
    app.set_policy(t, json!({ "minimumNoticeHours": 0 })).await;
    let late = booked_id(
        &book(
            &app,
            &partner.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(tomorrow(), 15, 0), 60),
        )
        .await,
    );
    let pretend = app
        .gql(
            &partner.token,
            CANCEL,
            json!({ "i": { "id": late, "reason": "r", "cancelledFor": "SERVICE" } }),
        )
        .await;
    assert_eq!(user_error_codes(&pretend, "cancelBooking"), vec!["NOT_ALLOWED"]);
    let c = app
        .gql(&partner.token, CANCEL, json!({ "i": { "id": late, "reason": "r" } }))
        .await;
    let r = &c.ok()["cancelBooking"]["result"];
    assert_eq!(r["booking"]["cancellation"]["cancelledFor"], "SCHOOL");
    assert_eq!(
        r["chargedMinutes"], 60,
        "a late cancellation by the school's partner is charged"
    );
    for token in [&partner.token, &t.ep.token] {
        let mut statutory = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(monday_in(3), 9, 0), 60);
        statutory["fundingStream"] = json!("STATUTORY");
        let refused = book(&app, token, statutory).await;
        assert_eq!(
            user_error_codes(&refused, "createBooking"),
            vec!["NOT_ALLOWED"],
            "{}",
            refused.body
        );
    }
}

#[tokio::test]
async fn an_ep_books_their_time_only_at_schools_they_work_with() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let day = monday_in(3);
    // The other EP works with no school yet.
    let refused = book(
        &app,
        &t.other_ep.token,
        booking_input(t, Some(&t.school_a.id), &t.other_ep.person_id, london(day, 10, 0), 60),
    )
    .await;
    assert_eq!(refused.code(), Some("FORBIDDEN"));
    assert_eq!(app.count("bookings").await, 0);
    // Booked at school A by the administrator, they now work with it, and may book there.
    booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.other_ep.person_id, london(day, 9, 0), 30),
        )
        .await,
    );
    booked_id(
        &book(
            &app,
            &t.other_ep.token,
            booking_input(t, Some(&t.school_a.id), &t.other_ep.person_id, london(day, 10, 0), 60),
        )
        .await,
    );
    // The link EP of A does not work with school B: booking there is not theirs to do.
    let elsewhere = book(
        &app,
        &t.ep.token,
        booking_input(t, Some(&t.school_b.id), &t.ep.person_id, london(day, 14, 0), 60),
    )
    .await;
    assert_eq!(elsewhere.code(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn bookings_inside_a_visit_keep_to_its_school() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let day = monday_in(3) + Duration::days(1);
    let mut visit = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 9, 0), 180);
    visit["kind"] = json!("VISIT");
    let at_a = booked_id(&book(&app, &t.admin.token, visit).await);
    let mut online = booking_input(t, None, &t.ep.person_id, london(day, 13, 0), 180);
    online["kind"] = json!("VISIT");
    online["mode"] = json!("ONLINE");
    let no_school = booked_id(&book(&app, &t.admin.token, online).await);
    let inside = |visit: &str, school: Option<&str>, h: u32| {
        let mut i = booking_input(t, school, &t.ep.person_id, london(day, h, 0), 30);
        i["visitId"] = json!(visit);
        i
    };
    for (visit, school, h) in [
        (&at_a, Some(t.school_b.id.as_str()), 9),
        (&no_school, Some(t.school_a.id.as_str()), 13),
    ] {
        let a = book(&app, &t.admin.token, inside(visit, school, h)).await;
        assert_eq!(
            a.body["data"]["createBooking"]["userErrors"][0]["field"],
            json!(["input", "visitId"]),
            "{}",
            a.body
        );
    }
    // With no school named, a booking inside takes the visit's school.
    let made = book(&app, &t.admin.token, inside(&at_a, None, 10)).await;
    let booking = booked_id(&made);
    let school = app
        .gql(
            &t.admin.token,
            "query($id: ID!) { booking(id: $id) { schoolId visitId } }",
            json!({ "id": booking }),
        )
        .await;
    assert_eq!(school.ok()["booking"]["schoolId"], t.school_a.id.as_str());
    // The other school's SENCO cannot tell the visit exists.
    let mut probe = inside(&at_a, None, 11);
    probe["epId"] = json!(t.other_ep.person_id);
    let a = book(&app, &t.senco_b.token, probe).await;
    assert!(a.body["data"]["createBooking"]["result"].is_null());
}

#[tokio::test]
async fn a_school_cannot_move_a_booking_inside_the_notice_window() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let (partner, _, _) = app
        .partner(t, &["BOOKINGS_READ", "BOOKINGS_WRITE"], Some(vec![&t.school_a.id]))
        .await;
    let soon = booked_id(
        &book(
            &app,
            &t.admin.token,
            booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(tomorrow(), 14, 0), 60),
        )
        .await,
    );
    let later = london(monday_in(4), 10, 0);
    let moved = app
        .gql(
            &partner.token,
            RESCHEDULE,
            json!({ "i": { "id": soon, "startsAt": rfc(later), "endsAt": rfc(later + Duration::hours(1)) } }),
        )
        .await;
    assert_eq!(
        user_error_codes(&moved, "rescheduleBooking"),
        vec!["NOT_ALLOWED"],
        "{}",
        moved.body
    );
    // The service may move it.
    let by_admin = app
        .gql(
            &t.admin.token,
            RESCHEDULE,
            json!({ "i": { "id": soon, "startsAt": rfc(later), "endsAt": rfc(later + Duration::hours(1)) } }),
        )
        .await;
    assert!(by_admin.ok()["rescheduleBooking"]["result"]["booking"]["id"].is_string());
}

#[tokio::test]
async fn a_visit_with_delivered_time_is_not_cancelled_and_a_missed_one_closes_what_is_inside() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let deliver =
        "mutation($i: RecordDeliveryInput!) { recordDelivery(input: $i) { booking { status } userErrors { code } } }";
    let past = monday_in(-1) + Duration::days(1);
    let visit_at = |h: u32| {
        let mut v = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(past, h, 0), 120);
        v["kind"] = json!("VISIT");
        v
    };
    let inside = |visit: &str, h: u32| {
        let mut i = booking_input(t, None, &t.ep.person_id, london(past, h, 0), 30);
        i["visitId"] = json!(visit);
        i
    };
    let first = booked_id(&book(&app, &t.admin.token, visit_at(9)).await);
    let child = booked_id(&book(&app, &t.admin.token, inside(&first, 9)).await);
    app.gql(&t.admin.token, deliver, json!({ "i": { "id": child } }))
        .await
        .ok();
    let c = app
        .gql(
            &t.admin.token,
            CANCEL,
            json!({ "i": { "id": first, "reason": "r", "cancelledFor": "SERVICE" } }),
        )
        .await;
    assert_eq!(user_error_codes(&c, "cancelBooking"), vec!["INVALID_STATE"]);

    let second = booked_id(&book(&app, &t.admin.token, visit_at(13)).await);
    let open_child = booked_id(&book(&app, &t.admin.token, inside(&second, 13)).await);
    let missed = app
        .gql(
            &t.admin.token,
            "mutation($i: RecordNoShowInput!) { recordNoShow(input: $i) { result { booking { status } } userErrors { code } } }",
            json!({ "i": { "id": second, "reason": "Nobody there" } }),
        )
        .await;
    assert_eq!(missed.ok()["recordNoShow"]["result"]["booking"]["status"], "NO_SHOW");
    let status = app
        .gql(
            &t.admin.token,
            "query($id: ID!) { booking(id: $id) { status } }",
            json!({ "id": open_child }),
        )
        .await;
    assert_eq!(status.ok()["booking"]["status"], "CANCELLED");
}

#[tokio::test]
async fn partners_never_see_what_people_typed_about_a_booking() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let (partner, _, _) = app.partner(t, &["BOOKINGS_READ"], Some(vec![&t.school_a.id])).await;
    let mut input = booking_input(
        t,
        Some(&t.school_a.id),
        &t.ep.person_id,
        london(monday_in(3), 10, 0),
        60,
    );
    input["location"] = json!("Room 4, with the Year 3 teacher");
    let id = booked_id(&book(&app, &t.admin.token, input).await);
    app.gql(
        &t.admin.token,
        CANCEL,
        json!({ "i": { "id": id, "reason": "Pupil moved school", "cancelledFor": "SCHOOL" } }),
    )
    .await
    .ok();
    let q = "query($id: ID!) { booking(id: $id) { location cancellation { reason cancelledFor } } }";
    let admin = app.gql(&t.admin.token, q, json!({ "id": id })).await;
    assert_eq!(admin.ok()["booking"]["location"], "Room 4, with the Year 3 teacher");
    assert_eq!(admin.ok()["booking"]["cancellation"]["reason"], "Pupil moved school");
    let seen = app.gql(&partner.token, q, json!({ "id": id })).await;
    assert!(seen.ok()["booking"]["location"].is_null());
    assert!(seen.ok()["booking"]["cancellation"]["reason"].is_null());
    assert_eq!(seen.ok()["booking"]["cancellation"]["cancelledFor"], "SCHOOL");
}

#[tokio::test]
async fn an_eps_sickness_is_not_told_to_whoever_books() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let (partner, _, _) = app.partner(t, &["BOOKINGS_WRITE"], Some(vec![&t.school_a.id])).await;
    let day = monday_in(3) + Duration::days(2);
    app.gql(
        &t.admin.token,
        "mutation($i: AddCalendarExceptionInput!) { addCalendarException(input: $i) { exception { id } } }",
        json!({ "i": { "serviceId": t.service_id, "epId": t.ep.person_id, "kind": "SICKNESS", "startsAt": rfc(london(day, 0, 0)), "endsAt": rfc(london(day, 23, 0)) } }),
    )
    .await
    .ok();
    let input = booking_input(t, Some(&t.school_a.id), &t.ep.person_id, london(day, 10, 0), 60);
    let by_partner = book(&app, &partner.token, input.clone()).await;
    let message = by_partner.body["data"]["createBooking"]["userErrors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(message, "the EP is not available then");
    let by_admin = book(&app, &t.admin.token, input).await;
    let message = by_admin.body["data"]["createBooking"]["userErrors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("sickness"), "the service knows why: {message}");
}

#[tokio::test]
async fn concurrent_overlapping_contracts_make_one() {
    let app = TestApp::spawn().await;
    let fx = setup(&app).await;
    let t = &fx.t;
    let q = "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } userErrors { code } } }";
    let mut tasks = Vec::new();
    for i in 0..10 {
        let input = json!({ "i": { "schoolId": t.school_b.id, "periodKind": "FINANCIAL_YEAR", "startsOn": format!("2027-04-{:02}", i + 1), "endsOn": "2028-03-31", "fundingStream": "TRADED", "unitId": fx.unit_day, "quantity": 5 } });
        let client = app.client.clone();
        let url = app.url("/graphql");
        let token = t.admin.token.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": q, "variables": input }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }));
    }
    let mut made = 0;
    for task in tasks {
        let body = task.await.unwrap();
        if body["data"]["createContract"]["contract"]["id"].is_string() {
            made += 1;
        } else {
            assert_eq!(
                body["data"]["createContract"]["userErrors"][0]["code"], "TAKEN",
                "{body}"
            );
        }
    }
    assert_eq!(made, 1);
}

#[tokio::test]
async fn a_closure_of_another_school_is_not_found_to_its_senco() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let add = "mutation($i: AddClosureInput!) { addClosure(input: $i) { closure { id } } }";
    let remove = "mutation($i: RemoveClosureInput!) { removeClosure(input: $i) { deleted { id } } }";
    let day = monday_in(5).to_string();
    let school_b = app
        .gql(&t.admin.token, add, json!({ "i": { "serviceId": t.service_id, "schoolId": t.school_b.id, "kind": "SCHOOL_CLOSURE", "startsOn": day, "endsOn": day } }))
        .await;
    let closure_b = school_b.ok()["addClosure"]["closure"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let holiday = app
        .gql(
            &t.admin.token,
            add,
            json!({ "i": { "serviceId": t.service_id, "kind": "BANK_HOLIDAY", "startsOn": day, "endsOn": day } }),
        )
        .await;
    let holiday = holiday.ok()["addClosure"]["closure"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.gql(&t.senco_a.token, remove, json!({ "i": { "id": closure_b } }))
            .await
            .code(),
        Some("NOT_FOUND")
    );
    assert_eq!(
        app.gql(&t.senco_a.token, remove, json!({ "i": { "id": holiday } }))
            .await
            .code(),
        Some("FORBIDDEN")
    );
    assert_eq!(
        app.gql(&t.senco_b.token, remove, json!({ "i": { "id": closure_b } }))
            .await
            .code(),
        Some("FORBIDDEN")
    );
}
