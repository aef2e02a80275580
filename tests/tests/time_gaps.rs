//! What issue 17's audit found untested, pinned: a term's fortnightly visits made in one call and
//! the clash report after leave; everyday queries of each role under the complexity limit, and a
//! refusal that says its cost; messages a person can act on; the CLOSURE and OUTSIDE_TERM
//! conflicts and a series that skips a school closure; the settings that restrict what a SENCO
//! books, and minimum notice for SENCOs; a hard stop that counts time given back; and one travel
//! buffer between places, none at the same school. (The property that every balance agrees is
//! in `time_properties.rs`.)

use chrono::{DateTime, Duration, NaiveDate, Utc};
use scps_tests::clock::{london, rfc};
use scps_tests::fixtures::{Fx, d, fixture};
use scps_tests::{Answer, TestApp};
use serde_json::{Value, json};

const BOOK: &str = "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id seriesId } warnings } userErrors { field message code } } }";
const ADJUST: &str = "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { entry { id contractId } userErrors { field message code } } }";
const SERIES: &str = "mutation($i: CreateVisitSeriesInput!) { createVisitSeries(input: $i) { result { series { id } visits { id startsAt seriesId } skipped { date reason } } userErrors { field message code } } }";
const LEAVE: &str = "mutation($i: AddCalendarExceptionInput!) { addCalendarException(input: $i) { exception { id } clashes { booking { id seriesId } reasons } userErrors { field message code } } }";
const CLOSURE: &str =
    "mutation($i: AddClosureInput!) { addClosure(input: $i) { closure { id } userErrors { field message code } } }";
const CONFLICTS: &str = "query($s: ID!, $f: DateTime!, $t: DateTime!) { conflicts(serviceId: $s, from: $f, to: $t) { booking { id seriesId } reasons } }";

async fn gql(fx: &Fx, token: &str, q: &str, v: Value) -> Answer {
    fx.app.gql(token, q, v).await
}

fn booking(school: &str, ep: &str, start: DateTime<Utc>, minutes: i64) -> Value {
    json!({ "schoolId": school, "epId": ep, "kind": "CONSULTATION", "startsAt": rfc(start), "endsAt": rfc(start + Duration::minutes(minutes)) })
}

async fn book(fx: &Fx, token: &str, input: Value) -> Answer {
    gql(fx, token, BOOK, json!({ "i": input })).await
}

fn booked(a: &Answer) -> String {
    a.ok()["createBooking"]["result"]["booking"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a booking: {}", a.body))
        .to_owned()
}

/// The first user error of a mutation: (field path joined with dots, code, message).
fn user_error(a: &Answer, mutation: &str) -> (String, String, String) {
    let e = &a.ok()[mutation]["userErrors"][0];
    assert!(e.is_object(), "a user error: {}", a.body);
    let field = e["field"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("."))
        .unwrap_or_default();
    (
        field,
        e["code"].as_str().unwrap_or_default().to_owned(),
        e["message"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn adjust(fx: &Fx, minutes: i64, on: NaiveDate, contract: Option<&str>) -> Answer {
    let t = &fx.t;
    let a = gql(
        fx,
        &t.admin.token,
        ADJUST,
        json!({ "i": { "schoolId": t.school_a.id, "contractId": contract, "fundingStream": "TRADED", "minutes": minutes, "appliesOn": d(on), "reason": "A correction" } }),
    )
    .await;
    assert!(a.ok()["adjustLedger"]["entry"]["id"].is_string(), "{}", a.body);
    a
}

async fn remaining(fx: &Fx, contract: &str) -> i64 {
    let a = gql(
        fx,
        &fx.t.admin.token,
        "query($id: ID!) { node(id: $id) { ... on Contract { balance { remainingMinutes } } } }",
        json!({ "id": contract }),
    )
    .await;
    a.ok()["node"]["balance"]["remainingMinutes"]
        .as_i64()
        .unwrap_or_else(|| panic!("{}", a.body))
}

async fn conflicts(fx: &Fx, from: NaiveDate, to: NaiveDate) -> Vec<Value> {
    let a = gql(
        fx,
        &fx.t.admin.token,
        CONFLICTS,
        json!({ "s": fx.t.service_id, "f": rfc(london(from, 0, 0)), "t": rfc(london(to, 0, 0)) }),
    )
    .await;
    a.ok()["conflicts"].as_array().unwrap().clone()
}

fn reasons_of(conflicts: &[Value], booking: &str) -> Value {
    conflicts
        .iter()
        .find(|c| c["booking"]["id"] == booking)
        .map(|c| c["reasons"].clone())
        .unwrap_or(Value::Null)
}

// ---- series of visits and the clash report ------------------------------------------------------

#[tokio::test]
async fn sickness_on_a_day_of_a_terms_fortnightly_series_is_reported_as_a_clash_with_that_visit() {
    let fx = fixture().await;
    let t = &fx.t;
    let made = gql(
        &fx,
        &t.admin.token,
        SERIES,
        json!({ "i": { "schoolId": t.school_a.id, "epId": t.ep.person_id, "weekday": 3, "startsAt": "09:00", "endsAt": "12:00", "everyWeeks": 2, "termId": fx.terms[0] } }),
    )
    .await;
    let r = &made.ok()["createVisitSeries"]["result"];
    let series = r["series"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", made.body))
        .to_owned();
    // Wednesdays of weeks 0, 2 (half-term, skipped) and 4 of Term 1.
    let visits = r["visits"].as_array().unwrap().clone();
    let days: Vec<NaiveDate> = visits
        .iter()
        .map(|v| {
            v["startsAt"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap()
                .with_timezone(&chrono_tz::Europe::London)
                .date_naive()
        })
        .collect();
    let wednesday = |w| fx.week(w) + Duration::days(2);
    assert_eq!(days, vec![wednesday(0), wednesday(4)], "{}", made.body);
    assert_eq!(r["skipped"][0]["date"], d(wednesday(2)));
    let visit = visits[1]["id"].as_str().unwrap().to_owned();

    let leave = gql(
        &fx,
        &t.admin.token,
        LEAVE,
        json!({ "i": { "serviceId": t.service_id, "epId": t.ep.person_id, "kind": "SICKNESS", "startsAt": rfc(london(wednesday(4), 0, 0)), "endsAt": rfc(london(wednesday(4) + Duration::days(1), 0, 0)) } }),
    )
    .await;
    let clashes = leave.ok()["addCalendarException"]["clashes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        clashes,
        vec![json!({ "booking": { "id": visit, "seriesId": series }, "reasons": ["EP_UNAVAILABLE"] })],
        "{}",
        leave.body
    );
    let listed = conflicts(&fx, fx.week(0), fx.week(12)).await;
    assert_eq!(reasons_of(&listed, &visit), json!(["EP_UNAVAILABLE"]), "{listed:?}");
    assert!(
        reasons_of(&listed, visits[0]["id"].as_str().unwrap()).is_null(),
        "the other visit still fits: {listed:?}"
    );
}

// ---- everyday queries under the complexity limit -----------------------------------------------

#[tokio::test]
async fn a_sencos_school_with_its_contracts_units_top_ups_and_balances_passes_the_complexity_limit() {
    let fx = fixture().await;
    let t = &fx.t;
    let top_up = gql(
        &fx,
        &t.admin.token,
        "mutation($i: TopUpContractInput!) { topUpContract(input: $i) { contract { id } userErrors { message } } }",
        json!({ "i": { "contractId": fx.contract_a, "quantity": 2.0, "reason": "A second term of work" } }),
    )
    .await;
    assert!(
        top_up.ok()["topUpContract"]["contract"]["id"].is_string(),
        "{}",
        top_up.body
    );
    let q = "query($id: ID!) { school(id: $id) { id name urn phase status
        balance { fundingStream contracts { id } balance { purchasedMinutes bookedMinutes deliveredMinutes lateCancellationMinutes adjustedMinutes usedMinutes remainingMinutes inUnits { purchased unitMinutes } } }
        contracts { totalCount pageInfo { hasNextPage endCursor } nodes { id status fundingStream periodKind startsOn endsOn quantity purchasedMinutes pricePence
            unit { id name minutes archived } linkEp { id displayName }
            topUps { id quantity minutes pricePence reason createdAt }
            balance { purchasedMinutes bookedMinutes deliveredMinutes lateCancellationMinutes adjustedMinutes usedMinutes remainingMinutes directMinutes preparationMinutes inUnits { purchased unitMinutes } } } } } }";
    let a = gql(&fx, &t.senco_a.token, q, json!({ "id": t.school_a.id })).await;
    assert!(a.body.get("errors").is_none(), "refused: {}", a.body);
    let contract = &a.ok()["school"]["contracts"]["nodes"][0];
    assert_eq!(contract["topUps"][0]["minutes"], 780, "two days of 390: {}", a.body);
    assert_eq!(contract["unit"]["name"], "day");
    assert_eq!(
        a.ok()["school"]["balance"][0]["balance"]["purchasedMinutes"],
        3900 + 780
    );
}

/// An administrator's list of schools with their contracts and balances, at default page sizes
/// inside (50 schools: more than the default page of 20).
const FIFTY_SCHOOLS: &str = "{ schools(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name urn phase status
    balance { fundingStream balance { purchasedMinutes usedMinutes adjustedMinutes remainingMinutes } }
    contracts { totalCount nodes { id status fundingStream quantity purchasedMinutes unit { name minutes }
        balance { purchasedMinutes bookedMinutes usedMinutes adjustedMinutes remainingMinutes } } } } } } }";

#[tokio::test]
async fn an_administrators_fifty_schools_with_contracts_and_balances_pass_the_complexity_limit() {
    let fx = fixture().await;
    let t = &fx.t;
    // The fixture's two schools and 48 more, each with a contract.
    for n in 0..48 {
        let school = fx
            .app
            .create_school(
                &t.admin.token,
                &t.service_id,
                &format!("School {n} {}", t.tag),
                &format!("{}", 200_000 + n),
            )
            .await;
        scps_tests::fixtures::contract(&fx.app, t, &school.id, &fx.year, &fx.day_unit, 1.0).await;
    }
    let a = gql(&fx, &t.admin.token, FIFTY_SCHOOLS, json!({})).await;
    assert!(a.body.get("errors").is_none(), "refused: {}", a.body);
    let edges = a.ok()["schools"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 50, "{}", a.ok()["schools"]["totalCount"]);
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["contracts"]["nodes"][0]["balance"]["purchasedMinutes"].as_i64() > Some(0)),
        "each school has its contract's balance"
    );
}

#[tokio::test]
async fn a_query_over_the_limit_is_refused_with_its_cost_and_the_limit() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let q = "{ bookings(first: 100) { nodes { id school { bookings(first: 100) { nodes { id school { bookings(first: 100) { nodes { id } } } } } } } } }";
    let a = app.gql(&t.admin.token, q, json!({})).await;
    assert_eq!(a.code(), Some("QUERY_TOO_COMPLEX"), "{}", a.body);
    let e = &a.body["errors"][0];
    let (cost, limit) = (
        e["extensions"]["cost"]
            .as_u64()
            .unwrap_or_else(|| panic!("a cost: {}", a.body)),
        e["extensions"]["limit"]
            .as_u64()
            .unwrap_or_else(|| panic!("a limit: {}", a.body)),
    );
    assert!(cost > limit, "{cost} > {limit}");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains(&cost.to_string()) && message.contains(&limit.to_string()),
        "{message}"
    );
    assert!(a.body.get("data").is_none_or(Value::is_null), "nothing ran: {}", a.body);
}

#[tokio::test]
async fn every_refusal_for_cost_says_its_cost_and_the_limit() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let queries = [
        FIFTY_SCHOOLS,
        "{ schools(first: 100) { nodes { id contracts(first: 100) { nodes { id topUps { id } balance { remainingMinutes } } } } } }",
        "{ bookings(first: 100) { nodes { id school { bookings(first: 100) { nodes { id school { bookings(first: 100) { nodes { id } } } } } } } } }",
    ];
    let mut refused = 0;
    for q in queries {
        let a = app.gql(&t.admin.token, q, json!({})).await;
        if a.code() != Some("QUERY_TOO_COMPLEX") {
            assert!(a.body.get("errors").is_none(), "{}", a.body);
            continue;
        }
        refused += 1;
        let x = &a.body["errors"][0]["extensions"];
        let (cost, limit) = (x["cost"].as_u64(), x["limit"].as_u64());
        assert!(
            matches!((cost, limit), (Some(c), Some(l)) if c > l),
            "a refusal without its cost and limit: {}",
            a.body
        );
    }
    assert!(refused > 0, "the last query is far over any sensible limit");
}

// ---- messages a person can act on -------------------------------------------------------------------

#[tokio::test]
async fn availability_with_neither_or_both_of_an_ep_and_a_school_says_what_to_give() {
    let fx = fixture().await;
    let t = &fx.t;
    let q = "query($i: AvailabilityInput!) { availability(input: $i) { totalCount } }";
    let range = |extra: Value| {
        let mut i = json!({ "from": rfc(london(fx.week(1), 0, 0)), "to": rfc(london(fx.week(2), 0, 0)), "durationMinutes": 60, "serviceId": t.service_id });
        for (k, v) in extra.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    let neither = gql(&fx, &t.admin.token, q, range(json!({}))).await;
    let both = gql(
        &fx,
        &t.admin.token,
        q,
        range(json!({ "epId": t.ep.person_id, "schoolId": t.school_a.id })),
    )
    .await;
    let refusal = |a: &Answer| {
        assert_eq!(a.code(), Some("BAD_USER_INPUT"), "{}", a.body);
        let e = &a.body["errors"][0];
        (
            e["message"].as_str().unwrap().to_owned(),
            e["extensions"]["fields"].clone(),
        )
    };
    let (neither_message, neither_fields) = refusal(&neither);
    let (both_message, both_fields) = refusal(&both);
    assert_eq!(
        neither_message,
        "epId: give an EP (their free slots) or a school (the free slots of the EPs who work with it)"
    );
    assert_eq!(neither_fields, json!(["epId"]));
    assert_eq!(
        both_message,
        "schoolId: give an EP or a school, not both: a school's free slots are those of the EPs who work with it"
    );
    assert_eq!(both_fields, json!(["schoolId"]));
}

#[tokio::test]
async fn whole_day_leave_reads_all_day_in_the_message_that_refuses_a_booking() {
    let fx = fixture().await;
    let t = &fx.t;
    let day = fx.week(1) + Duration::days(1);
    let leave = gql(
        &fx,
        &t.admin.token,
        LEAVE,
        json!({ "i": { "serviceId": t.service_id, "epId": t.ep.person_id, "kind": "LEAVE", "startsAt": rfc(london(day, 0, 0)), "endsAt": rfc(london(day + Duration::days(1), 0, 0)) } }),
    )
    .await;
    assert!(leave.ok()["addCalendarException"]["exception"]["id"].is_string());
    let refused = book(
        &fx,
        &t.admin.token,
        booking(&t.school_a.id, &t.ep.person_id, london(day, 10, 0), 60),
    )
    .await;
    let (field, code, message) = user_error(&refused, "createBooking");
    assert_eq!((field.as_str(), code.as_str()), ("input.startsAt", "NOT_ALLOWED"));
    assert_eq!(
        message,
        format!(
            "the EP is not available then (leave, all day on {})",
            day.format("%a %-d %b %Y")
        )
    );
    assert!(!message.contains("00:00"), "{message}");
}

#[tokio::test]
async fn the_over_allocation_warning_for_a_school_already_over_says_by_how_many_minutes() {
    let fx = fixture().await;
    let t = &fx.t;
    fx.app
        .set_policy(t, json!({ "overbookingPolicy": "ALLOW_WITH_WARNING" }))
        .await;
    // Ten days of 390 minutes, and 570 minutes more drawn down than that.
    adjust(&fx, 3900 + 570, fx.week(1), Some(&fx.contract_a)).await;
    assert_eq!(remaining(&fx, &fx.contract_a).await, -570);
    let a = book(
        &fx,
        &t.admin.token,
        booking(&t.school_a.id, &t.ep.person_id, london(fx.week(1), 10, 0), 60),
    )
    .await;
    booked(&a);
    assert_eq!(
        a.ok()["createBooking"]["result"]["warnings"],
        json!([
            "Over the allocation: this needs 60 minutes and the school is already 570 minutes over its allocation on this contract."
        ])
    );
}

#[tokio::test]
async fn a_forbidden_refusal_names_who_may_act() {
    let fx = fixture().await;
    let t = &fx.t;
    let before = fx.app.count("ledger_entries").await;
    let a = gql(
        &fx,
        &t.senco_a.token,
        ADJUST,
        json!({ "i": { "schoolId": t.school_a.id, "fundingStream": "TRADED", "minutes": -60, "appliesOn": d(fx.week(1)), "reason": "Give us time back" } }),
    )
    .await;
    assert_eq!(a.code(), Some("FORBIDDEN"), "{}", a.body);
    let message = a.body["errors"][0]["message"].as_str().unwrap();
    assert_ne!(message, "You may not do this.");
    assert!(
        message.starts_with("Only the service's administrators may"),
        "{message}"
    );
    assert_eq!(fx.app.count("ledger_entries").await, before, "nothing was written");
}

// ---- CLOSURE and OUTSIDE_TERM ----------------------------------------------------------------------------

#[tokio::test]
async fn a_closure_over_a_booking_and_a_booking_in_half_term_are_listed_as_conflicts() {
    let fx = fixture().await;
    let t = &fx.t;
    let day = fx.week(1) + Duration::days(3);
    let closed = booked(
        &book(
            &fx,
            &t.admin.token,
            booking(&t.school_a.id, &t.ep.person_id, london(day, 10, 0), 60),
        )
        .await,
    );
    let fine = booked(
        &book(
            &fx,
            &t.admin.token,
            booking(&t.school_b.id, &t.ep.person_id, london(day, 14, 0), 60),
        )
        .await,
    );
    let c = gql(
        &fx,
        &t.admin.token,
        CLOSURE,
        json!({ "i": { "serviceId": t.service_id, "schoolId": t.school_a.id, "kind": "SCHOOL_CLOSURE", "startsOn": d(day), "endsOn": d(day), "reason": "Polling station" } }),
    )
    .await;
    assert!(c.ok()["addClosure"]["closure"]["id"].is_string(), "{}", c.body);
    fx.app.set_policy(t, json!({ "termTimePolicy": "WARN" })).await;
    let half_term = book(
        &fx,
        &t.admin.token,
        booking(
            &t.school_b.id,
            &t.ep.person_id,
            london(fx.half_term() + Duration::days(1), 10, 0),
            60,
        ),
    )
    .await;
    let holiday = booked(&half_term);
    assert!(
        half_term.ok()["createBooking"]["result"]["warnings"]
            .to_string()
            .contains("school holiday"),
        "{}",
        half_term.body
    );
    let listed = conflicts(&fx, fx.week(0), fx.week(12)).await;
    assert_eq!(reasons_of(&listed, &closed), json!(["CLOSURE"]), "{listed:?}");
    assert_eq!(reasons_of(&listed, &holiday), json!(["OUTSIDE_TERM"]), "{listed:?}");
    assert!(reasons_of(&listed, &fine).is_null(), "the other school was open");
}

#[tokio::test]
async fn a_series_skips_a_day_the_school_is_closed_and_says_so() {
    let fx = fixture().await;
    let t = &fx.t;
    let closed = fx.week(4) + Duration::days(1);
    let c = gql(
        &fx,
        &t.admin.token,
        CLOSURE,
        json!({ "i": { "serviceId": t.service_id, "schoolId": t.school_a.id, "kind": "SCHOOL_CLOSURE", "startsOn": d(closed), "endsOn": d(closed) } }),
    )
    .await;
    assert!(c.ok()["addClosure"]["closure"]["id"].is_string(), "{}", c.body);
    let made = gql(
        &fx,
        &t.admin.token,
        SERIES,
        json!({ "i": { "schoolId": t.school_a.id, "epId": t.ep.person_id, "weekday": 2, "startsAt": "09:00", "endsAt": "12:00", "from": d(fx.week(3)), "to": d(fx.week(5) + Duration::days(4)) } }),
    )
    .await;
    let r = &made.ok()["createVisitSeries"]["result"];
    assert_eq!(r["visits"].as_array().map(Vec::len), Some(2), "{}", made.body);
    assert_eq!(
        r["skipped"],
        json!([{ "date": d(closed), "reason": "a day the school is closed" }]),
        "{}",
        made.body
    );
}

// ---- what a SENCO may book ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_kinds_a_school_may_book_restrict_a_sencos_booking() {
    let fx = fixture().await;
    let t = &fx.t;
    let s = gql(
        &fx,
        &t.admin.token,
        "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { schoolBookingKinds schoolsMayBook } userErrors { message } } }",
        json!({ "i": { "serviceId": t.service_id, "schoolsMayBook": true, "schoolBookingKinds": ["PLANNING_MEETING"] } }),
    )
    .await;
    assert_eq!(
        s.ok()["updateTimeSettings"]["timeSettings"]["schoolBookingKinds"],
        json!(["PLANNING_MEETING"])
    );
    let start = london(fx.week(1) + Duration::days(1), 10, 0);
    let consultation = book(
        &fx,
        &t.senco_a.token,
        booking(&t.school_a.id, &t.ep.person_id, start, 60),
    )
    .await;
    assert_eq!(
        user_error(&consultation, "createBooking"),
        (
            "input.kind".to_owned(),
            "NOT_ALLOWED".to_owned(),
            "schools may book: planning meeting".to_owned()
        )
    );
    let mut planning = booking(&t.school_a.id, &t.ep.person_id, start, 60);
    planning["kind"] = json!("PLANNING_MEETING");
    // The same hour: the refused consultation took nothing.
    booked(&book(&fx, &t.senco_a.token, planning).await);
}

#[tokio::test]
async fn a_service_that_has_schools_book_inside_visits_refuses_a_senco_elsewhere() {
    let fx = fixture().await;
    let t = &fx.t;
    fx.app
        .set_policy(t, json!({ "schoolsMayBook": true, "schoolBookingWithinVisits": true }))
        .await;
    let day = fx.week(1) + Duration::days(2);
    let mut visit = booking(&t.school_a.id, &t.ep.person_id, london(day, 9, 0), 180);
    visit["kind"] = json!("VISIT");
    let visit = booked(&book(&fx, &t.admin.token, visit).await);
    let outside = book(
        &fx,
        &t.senco_a.token,
        booking(&t.school_a.id, &t.ep.person_id, london(day, 14, 0), 60),
    )
    .await;
    assert_eq!(
        user_error(&outside, "createBooking"),
        (
            "input.visitId".to_owned(),
            "REQUIRED".to_owned(),
            "schools book free time inside one of the EP's visits to the school".to_owned()
        )
    );
    let mut inside = booking(&t.school_a.id, &t.ep.person_id, london(day, 10, 0), 60);
    inside["visitId"] = json!(visit);
    booked(&book(&fx, &t.senco_a.token, inside).await);
}

#[tokio::test]
async fn a_senco_cannot_book_inside_the_minimum_notice() {
    let fx = fixture().await;
    let t = &fx.t;
    fx.app
        .set_policy(
            t,
            json!({ "schoolsMayBook": true, "minimumNoticeHours": 48, "termTimePolicy": "ALLOW" }),
        )
        .await;
    let now = DateTime::from_timestamp((Utc::now().timestamp() / 60) * 60, 0).unwrap();
    let before = fx.app.count("bookings").await;
    let soon = book(
        &fx,
        &t.senco_a.token,
        booking(&t.school_a.id, &t.ep.person_id, now + Duration::hours(30), 60),
    )
    .await;
    let (field, code, message) = user_error(&soon, "createBooking");
    assert_eq!((field.as_str(), code.as_str()), ("input.startsAt", "OUT_OF_RANGE"));
    assert!(message.contains("minimum notice"), "{message}");
    let mut reason = booking(&t.school_a.id, &t.ep.person_id, now + Duration::hours(30), 60);
    reason["shortNoticeReason"] = json!("We need it this week");
    let (field, code, _) = user_error(&book(&fx, &t.senco_a.token, reason).await, "createBooking");
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("input.shortNoticeReason", "NOT_ALLOWED"),
        "a SENCO cannot give a reason to skip the notice"
    );
    assert_eq!(fx.app.count("bookings").await, before, "nothing was written");
    booked(
        &book(
            &fx,
            &t.senco_a.token,
            booking(&t.school_a.id, &t.ep.person_id, now + Duration::hours(50), 60),
        )
        .await,
    );
}

// ---- a hard stop counts time given back ------------------------------------------------------------------

#[tokio::test]
async fn under_a_hard_stop_time_given_back_by_an_adjustment_can_be_booked() {
    let fx = fixture().await;
    let t = &fx.t;
    fx.app.set_policy(t, json!({ "schoolsMayBook": true })).await;
    let day = fx.week(1) + Duration::days(1);
    // All ten days drawn down: nothing left.
    adjust(&fx, 3900, day, Some(&fx.contract_a)).await;
    assert_eq!(remaining(&fx, &fx.contract_a).await, 0);
    let refused = book(
        &fx,
        &t.senco_a.token,
        booking(&t.school_a.id, &t.ep.person_id, london(day, 10, 0), 60),
    )
    .await;
    let (_, code, message) = user_error(&refused, "createBooking");
    assert_eq!(code, "NOT_ALLOWED");
    assert!(message.contains("has 0 left"), "{message}");
    // Two hours given back without naming the contract: the hard stop counts them.
    let given = adjust(&fx, -120, day, None).await;
    assert_eq!(
        given.ok()["adjustLedger"]["entry"]["contractId"],
        fx.contract_a.as_str()
    );
    assert_eq!(remaining(&fx, &fx.contract_a).await, 120);
    booked(
        &book(
            &fx,
            &t.senco_a.token,
            booking(&t.school_a.id, &t.ep.person_id, london(day, 10, 0), 60),
        )
        .await,
    );
    booked(
        &book(
            &fx,
            &t.admin.token,
            booking(&t.school_a.id, &t.ep.person_id, london(day, 11, 0), 60),
        )
        .await,
    );
    assert_eq!(remaining(&fx, &fx.contract_a).await, 0);
    let third = book(
        &fx,
        &t.admin.token,
        booking(&t.school_a.id, &t.ep.person_id, london(day, 13, 0), 60),
    )
    .await;
    let (_, code, message) = user_error(&third, "createBooking");
    assert_eq!(code, "NOT_ALLOWED", "the given-back time is used up");
    assert!(message.contains("has 0 left"), "{message}");
}

// ---- exports, as the README says ---------------------------------------------------------------------------

#[tokio::test]
async fn a_ledger_export_outside_the_callers_reach_is_a_header_and_another_services_summary_is_404() {
    let fx = fixture().await;
    let t = &fx.t;
    adjust(&fx, 30, fx.week(1), None).await;
    let get = |path: String, token: &str| {
        let r = fx.app.client.get(fx.app.url(&path)).bearer_auth(token);
        async move { r.send().await.unwrap() }
    };
    let ledger = format!(
        "/exports/ledger.csv?schoolId={}&from={}&to={}",
        t.school_a.id,
        d(fx.week(0)),
        d(fx.week(12))
    );
    let header = scps::http::exports::LEDGER_COLUMNS.join(",");
    let mine = get(ledger.clone(), &t.admin.token).await.text().await.unwrap();
    assert_eq!(mine.lines().count(), 2, "the header and the adjustment: {mine}");
    let other = fx.app.tenant().await;
    let theirs = get(ledger, &other.admin.token).await;
    assert_eq!(theirs.status(), 200);
    assert_eq!(theirs.text().await.unwrap().lines().collect::<Vec<_>>(), vec![header]);
    let summary = format!(
        "/exports/time-summary.csv?serviceId={}&academicYearId={}",
        t.service_id, fx.year
    );
    assert_eq!(get(summary, &other.admin.token).await.status(), 404);
}

// ---- one travel buffer between places ---------------------------------------------------------------------

#[tokio::test]
async fn the_travel_buffer_lies_between_schools_and_not_within_one() {
    let fx = fixture().await;
    let t = &fx.t;
    let s = gql(
        &fx,
        &t.admin.token,
        "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { travelBufferMinutes } userErrors { message } } }",
        json!({ "i": { "serviceId": t.service_id, "travelBufferMinutes": 15 } }),
    )
    .await;
    assert_eq!(s.ok()["updateTimeSettings"]["timeSettings"]["travelBufferMinutes"], 15);
    let day = fx.week(1) + Duration::days(1);
    let ep = &t.ep.person_id;
    booked(&book(&fx, &t.admin.token, booking(&t.school_a.id, ep, london(day, 10, 0), 60)).await);
    // The same school straight after: no travel.
    booked(&book(&fx, &t.admin.token, booking(&t.school_a.id, ep, london(day, 11, 0), 60)).await);
    // Another school ten minutes later: refused, and nothing written.
    let before = fx.app.count("bookings").await;
    let close = book(
        &fx,
        &t.admin.token,
        booking(&t.school_b.id, ep, london(day, 12, 10), 50),
    )
    .await;
    assert_eq!(close.code(), Some("CONFLICT"), "{}", close.body);
    let message = close.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("needs 15 minutes to travel"), "{message}");
    assert_eq!(fx.app.count("bookings").await, before);
    // Fifteen minutes later: one buffer, not two.
    booked(
        &book(
            &fx,
            &t.admin.token,
            booking(&t.school_b.id, ep, london(day, 12, 15), 45),
        )
        .await,
    );
    // And before the first booking, fifteen minutes clear at another school.
    booked(&book(&fx, &t.admin.token, booking(&t.school_b.id, ep, london(day, 9, 0), 45)).await);
}
