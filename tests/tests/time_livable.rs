//! EP time corrected and made livable (issue 17): term time with half-terms, one travel buffer,
//! one balance everywhere, the same term asked two ways, the slot grid and its cursors, checked
//! dates, minimum notice, rounding, statutory work, clash reports, series of visits, a SENCO who
//! books, a quote before cancelling, what the screens need, and the exports for finance.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use scps_tests::clock::{london, rfc};
use scps_tests::fixtures::{Fx, d, fixture, set_pattern, slot_starts};
use scps_tests::{Answer, TestApp};
use serde_json::{Value, json};

const BOOK: &str = "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id startsAt endsAt blockedFrom blockedUntil shortNoticeReason seriesId status } warnings } userErrors { field message code } } }";
const CANCEL: &str = "mutation($i: CancelBookingInput!) { cancelBooking(input: $i) { result { chargedMinutes booking { id status cancellation { cancelledFor charged } } } userErrors { field message code } } }";
const SLOTS: &str = "query($i: AvailabilityInput!, $after: String) { availability(input: $i, first: 100, after: $after) { totalCount edges { cursor node { startsAt endsAt epId visitId ep { id } } } } }";
const BALANCE: &str = "query($id: ID!) { node(id: $id) { ... on Contract { balance { purchasedMinutes usedMinutes remainingMinutes adjustedMinutes lateCancellationMinutes inUnits { purchased unitMinutes } } } } }";
const SUMMARY: &str = "query($i: TimeSummaryInput!) { timeSummary(input: $i) { periods { name startsOn endsOn outsideTerm } schools { school { id } streams { fundingStream balance { purchasedMinutes usedMinutes adjustedMinutes remainingMinutes bookedMinutes } byPeriod { purchasedMinutes usedMinutes adjustedMinutes } } } } }";

async fn gql(app: &TestApp, token: &str, q: &str, v: Value) -> Answer {
    app.gql(token, q, v).await
}

fn codes(a: &Answer, field: &str) -> Vec<String> {
    a.body["data"][field]["userErrors"]
        .as_array()
        .map(|v| v.iter().map(|e| e["code"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}

fn first_message(a: &Answer, field: &str) -> String {
    a.body["data"][field]["userErrors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn booking(school: &str, ep: &str, start: DateTime<Utc>, minutes: i64) -> Value {
    json!({ "schoolId": school, "epId": ep, "kind": "CONSULTATION", "startsAt": rfc(start), "endsAt": rfc(start + Duration::minutes(minutes)) })
}

async fn book(fx: &Fx, token: &str, input: Value) -> Answer {
    gql(&fx.app, token, BOOK, json!({ "i": input })).await
}

fn booked(a: &Answer) -> String {
    a.ok()["createBooking"]["result"]["booking"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a booking: {}", a.body))
        .to_owned()
}

async fn slots(fx: &Fx, token: &str, input: Value, after: Option<&str>) -> Answer {
    gql(&fx.app, token, SLOTS, json!({ "i": input, "after": after })).await
}

fn week_search(school: &str, monday: NaiveDate) -> Value {
    json!({ "schoolId": school, "from": rfc(london(monday, 0, 0)), "to": rfc(london(monday + Duration::days(5), 0, 0)), "durationMinutes": 60 })
}

// ---- term time -------------------------------------------------------------------------------

#[tokio::test]
async fn half_term_is_a_holiday_for_availability_and_for_booking() {
    let fx = fixture().await;
    let t = &fx.t;
    let term_week = slots(&fx, &t.admin.token, week_search(&t.school_a.id, fx.week(1)), None).await;
    assert!(!slot_starts(&term_week).is_empty(), "term time has free slots");
    let half_term = slots(&fx, &t.admin.token, week_search(&t.school_a.id, fx.half_term()), None).await;
    assert!(
        slot_starts(&half_term).is_empty(),
        "half-term week offers nothing: {}",
        half_term.body
    );
    let holiday = slots(&fx, &t.admin.token, week_search(&t.school_a.id, fx.holiday()), None).await;
    assert!(
        slot_starts(&holiday).is_empty(),
        "the week between terms offers nothing"
    );

    // Booking follows the same rule: refused in half-term, with the dates named.
    let before = fx.app.count("bookings").await;
    let refused = book(
        &fx,
        &t.admin.token,
        booking(
            &t.school_a.id,
            &t.ep.person_id,
            london(fx.half_term() + Duration::days(1), 10, 0),
            60,
        ),
    )
    .await;
    assert_eq!(
        codes(&refused, "createBooking"),
        vec!["NOT_ALLOWED"],
        "{}",
        refused.body
    );
    let message = first_message(&refused, "createBooking");
    assert!(
        message.contains("school holiday") && message.contains("Half 1") && message.contains("Half 2"),
        "{message}"
    );
    let visit_after_term = book(
        &fx,
        &t.admin.token,
        json!({ "schoolId": t.school_a.id, "epId": t.ep.person_id, "kind": "VISIT", "startsAt": rfc(london(fx.week(12), 9, 0)), "endsAt": rfc(london(fx.week(12), 12, 0)) }),
    )
    .await;
    assert_eq!(codes(&visit_after_term, "createBooking"), vec!["NOT_ALLOWED"]);
    assert_eq!(fx.app.count("bookings").await, before, "nothing was written");

    // Training is not school work; a warn-only service books school work with a warning.
    let mut training = booking(&t.school_a.id, &t.ep.person_id, london(fx.half_term(), 10, 0), 60);
    training["schoolId"] = Value::Null;
    training["serviceId"] = json!(t.service_id);
    training["kind"] = json!("TRAINING");
    booked(&book(&fx, &t.admin.token, training).await);
    fx.app.set_policy(t, json!({ "termTimePolicy": "WARN" })).await;
    let warned = book(
        &fx,
        &t.admin.token,
        booking(
            &t.school_a.id,
            &t.ep.person_id,
            london(fx.half_term() + Duration::days(2), 10, 0),
            60,
        ),
    )
    .await;
    booked(&warned);
    let warnings = warned.ok()["createBooking"]["result"]["warnings"].to_string();
    assert!(warnings.contains("school holiday"), "{warnings}");
    fx.app.set_policy(t, json!({ "termTimePolicy": "ALLOW" })).await;
    let allowed = slots(&fx, &t.admin.token, week_search(&t.school_a.id, fx.half_term()), None).await;
    assert!(
        !slot_starts(&allowed).is_empty(),
        "a service that allows holidays offers them"
    );
}

// ---- the slot grid and its cursors ------------------------------------------------------------

#[tokio::test]
async fn slots_step_from_the_local_start_of_the_working_day_in_any_zone() {
    let fx = fixture().await;
    let t = &fx.t;
    fx.app.set_policy(t, json!({ "slotStepMinutes": 120 })).await;
    let day = fx.week(1) + Duration::days(1);
    let search = json!({ "epId": t.ep.person_id, "from": rfc(london(day, 0, 0)), "to": rfc(london(day + Duration::days(1), 0, 0)), "durationMinutes": 60 });
    let a = slots(&fx, &t.admin.token, search.clone(), None).await;
    let local: Vec<String> = slot_starts(&a)
        .iter()
        .map(|s| s.with_timezone(&chrono_tz::Europe::London).format("%H:%M").to_string())
        .collect();
    assert_eq!(local, vec!["09:00", "11:00", "13:00", "15:00"], "{}", a.body);

    // In Asia/Kolkata (UTC+05:30) an hourly grid starts at 09:00 local, not 09:30.
    let z = gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: UpdateServiceInput!) { updateService(input: $i) { service { timeZone } userErrors { message } } }",
        json!({ "i": { "id": t.service_id, "timeZone": "Asia/Kolkata" } }),
    )
    .await;
    assert_eq!(z.ok()["updateService"]["service"]["timeZone"], "Asia/Kolkata");
    fx.app.set_policy(t, json!({ "slotStepMinutes": 60 })).await;
    let kolkata = chrono_tz::Asia::Kolkata;
    let from = kolkata
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc);
    let search = json!({ "epId": t.ep.person_id, "from": rfc(from), "to": rfc(from + Duration::days(1)), "durationMinutes": 60 });
    let a = slots(&fx, &t.admin.token, search, None).await;
    let local: Vec<String> = slot_starts(&a)
        .iter()
        .map(|s| s.with_timezone(&kolkata).format("%H:%M").to_string())
        .collect();
    assert_eq!(local.first().map(String::as_str), Some("09:00"), "{local:?}");
    assert!(local.iter().all(|l| l.ends_with(":00")), "{local:?}");
}

#[tokio::test]
async fn a_slot_cursor_is_a_place_in_time_whatever_was_booked_since() {
    let fx = fixture().await;
    let t = &fx.t;
    let day = fx.week(1) + Duration::days(2);
    let search = json!({ "epId": t.ep.person_id, "from": rfc(london(day, 0, 0)), "to": rfc(london(day + Duration::days(1), 0, 0)), "durationMinutes": 60 });
    let page = gql(
        &fx.app,
        &t.admin.token,
        "query($i: AvailabilityInput!) { availability(input: $i, first: 3) { edges { cursor node { startsAt } } } }",
        json!({ "i": search }),
    )
    .await;
    let edges = page.ok()["availability"]["edges"].as_array().unwrap().clone();
    let third: DateTime<Utc> = edges[2]["node"]["startsAt"].as_str().unwrap().parse().unwrap();
    let cursor = edges[2]["cursor"].as_str().unwrap().to_owned();
    // Book the slot the cursor points at; the next page still starts after it.
    booked(&book(&fx, &t.admin.token, booking(&t.school_a.id, &t.ep.person_id, third, 60)).await);
    let next = slots(&fx, &t.admin.token, search, Some(&cursor)).await;
    let starts = slot_starts(&next);
    assert!(!starts.is_empty());
    assert!(starts.iter().all(|s| *s > third), "the next page restarted: {starts:?}");
}

// ---- one balance everywhere ---------------------------------------------------------------------

async fn balance(fx: &Fx, contract: &str) -> Value {
    let a = gql(&fx.app, &fx.t.admin.token, BALANCE, json!({ "id": contract })).await;
    a.ok()["node"]["balance"].clone()
}

const ADJUST: &str = "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { entry { id contractId minutes } userErrors { field message code } } }";

#[tokio::test]
async fn an_adjustment_belongs_to_the_contract_whose_period_holds_it() {
    let fx = fixture().await;
    let t = &fx.t;
    let before = fx.app.count("ledger_entries").await;
    for applies_on in ["1900-01-01", "9999-12-31"] {
        let a = gql(
            &fx.app,
            &t.admin.token,
            ADJUST,
            json!({ "i": { "schoolId": t.school_a.id, "contractId": fx.contract_a, "fundingStream": "TRADED", "minutes": 60, "appliesOn": applies_on, "reason": "A typo" } }),
        )
        .await;
        assert_eq!(codes(&a, "adjustLedger"), vec!["OUT_OF_RANGE"], "{}", a.body);
    }
    // A date inside the plausible years but outside the contract's period.
    let outside = d(fx.base + Duration::days(400));
    let a = gql(
        &fx.app,
        &t.admin.token,
        ADJUST,
        json!({ "i": { "schoolId": t.school_a.id, "contractId": fx.contract_a, "fundingStream": "TRADED", "minutes": 60, "appliesOn": outside, "reason": "Out of period" } }),
    )
    .await;
    assert_eq!(codes(&a, "adjustLedger"), vec!["OUT_OF_RANGE"], "{}", a.body);
    let a = gql(
        &fx.app,
        &t.admin.token,
        ADJUST,
        json!({ "i": { "schoolId": t.school_a.id, "fundingStream": "TRADED", "minutes": 60, "appliesOn": outside, "reason": "No contract then" } }),
    )
    .await;
    assert_eq!(codes(&a, "adjustLedger"), vec!["NOT_FOUND"], "{}", a.body);
    assert_eq!(fx.app.count("ledger_entries").await, before, "nothing was written");

    // Without a contract named, it goes to the one covering its date, and every figure counts
    // it: the contract, the school's balance and the summary.
    let a = gql(
        &fx.app,
        &t.admin.token,
        ADJUST,
        json!({ "i": { "schoolId": t.school_a.id, "fundingStream": "TRADED", "minutes": -120, "appliesOn": d(fx.week(1)), "reason": "Time given back" } }),
    )
    .await;
    assert_eq!(a.ok()["adjustLedger"]["entry"]["contractId"], fx.contract_a.as_str());
    let b = balance(&fx, &fx.contract_a).await;
    assert_eq!(b["adjustedMinutes"], -120);
    let school = gql(
        &fx.app,
        &t.senco_a.token,
        "query($id: ID!, $on: Date) { node(id: $id) { ... on School { balance(on: $on) { fundingStream balance { adjustedMinutes remainingMinutes } contracts { id } } } } }",
        json!({ "id": t.school_a.id, "on": d(fx.week(1)) }),
    )
    .await;
    let streams = school.ok()["node"]["balance"].as_array().unwrap().clone();
    assert_eq!(streams.len(), 1, "{}", school.body);
    assert_eq!(streams[0]["balance"]["remainingMinutes"], b["remainingMinutes"]);
    assert_eq!(streams[0]["balance"]["adjustedMinutes"], -120);
}

#[tokio::test]
async fn one_term_gives_the_same_figures_whichever_way_it_is_asked() {
    let fx = fixture().await;
    let t = &fx.t;
    // Some use in Term 1, some in Term 2, and an adjustment dated in the holiday between them.
    for (school, day) in [
        (&t.school_a.id, fx.week(1)),
        (&t.school_a.id, fx.week(8)),
        (&t.school_b.id, fx.week(3)),
    ] {
        booked(
            &book(
                &fx,
                &t.admin.token,
                booking(school, &t.ep.person_id, london(day, 10, 0), 90),
            )
            .await,
        );
    }
    let adj = gql(
        &fx.app,
        &t.admin.token,
        ADJUST,
        json!({ "i": { "schoolId": t.school_a.id, "fundingStream": "TRADED", "minutes": 45, "appliesOn": d(fx.holiday() + Duration::days(1)), "reason": "Holiday meeting" } }),
    )
    .await;
    assert!(adj.ok()["adjustLedger"]["entry"]["id"].is_string(), "{}", adj.body);

    let year = gql(
        &fx.app,
        &t.admin.token,
        SUMMARY,
        json!({ "i": { "serviceId": t.service_id, "academicYearId": fx.year } }),
    )
    .await;
    let s = &year.ok()["timeSummary"];
    let periods = s["periods"].as_array().unwrap().clone();
    let names: Vec<&str> = periods.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Term 1", "Term 2", "Outside term"]);
    let row = |s: &Value, school: &str| {
        s["schools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["school"]["id"] == school)
            .unwrap()["streams"][0]
            .clone()
    };
    let a_year = row(s, &t.school_a.id);
    // Every minute lands in a period: the shares add up to the whole purchase exactly, and the
    // holiday adjustment counts outside term.
    let shares: i64 = a_year["byPeriod"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["purchasedMinutes"].as_i64().unwrap())
        .sum();
    assert_eq!(shares, a_year["balance"]["purchasedMinutes"].as_i64().unwrap());
    assert_eq!(a_year["byPeriod"][2]["adjustedMinutes"], 45);
    let used: i64 = a_year["byPeriod"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["usedMinutes"].as_i64().unwrap())
        .sum();
    assert_eq!(used, a_year["balance"]["usedMinutes"].as_i64().unwrap());
    // The contract says what the year says.
    let b = balance(&fx, &fx.contract_a).await;
    assert_eq!(b["usedMinutes"], a_year["balance"]["usedMinutes"]);
    assert_eq!(b["remainingMinutes"], a_year["balance"]["remainingMinutes"]);

    // Term 1 asked by dates gives Term 1's figures.
    let term1 = &periods[0];
    let by_dates = gql(
        &fx.app,
        &t.admin.token,
        SUMMARY,
        json!({ "i": { "serviceId": t.service_id, "from": term1["startsOn"], "to": term1["endsOn"] } }),
    )
    .await;
    let a_term = row(&by_dates.ok()["timeSummary"], &t.school_a.id);
    assert_eq!(
        a_term["balance"]["purchasedMinutes"],
        a_year["byPeriod"][0]["purchasedMinutes"]
    );
    assert_eq!(a_term["balance"]["usedMinutes"], a_year["byPeriod"][0]["usedMinutes"]);
}

// ---- checked dates, notice, rounding ---------------------------------------------------------------

#[tokio::test]
async fn absurd_dates_are_refused_everywhere_and_nothing_is_written() {
    let fx = fixture().await;
    let t = &fx.t;
    let before = (
        fx.app.count("closures").await,
        fx.app.count("academic_years").await,
        fx.app.count("contracts").await,
        fx.app.count("calendar_exceptions").await,
        fx.app.count("working_patterns").await,
    );
    let closure = gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: AddClosureInput!) { addClosure(input: $i) { closure { id } userErrors { field code } } }",
        json!({ "i": { "serviceId": t.service_id, "kind": "SERVICE_CLOSURE", "startsOn": "9999-12-31", "endsOn": "9999-12-31" } }),
    )
    .await;
    assert_eq!(
        codes(&closure, "addClosure"),
        vec!["OUT_OF_RANGE", "OUT_OF_RANGE"],
        "{}",
        closure.body
    );
    let year = gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: CreateAcademicYearInput!) { createAcademicYear(input: $i) { academicYear { id } userErrors { field code } } }",
        json!({ "i": { "serviceId": t.service_id, "name": "1900/01", "startsOn": "1900-09-01", "endsOn": "1901-07-31", "terms": [] } }),
    )
    .await;
    assert!(
        codes(&year, "createAcademicYear").contains(&"OUT_OF_RANGE".to_owned()),
        "{}",
        year.body
    );
    let c = gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } userErrors { field code } } }",
        json!({ "i": { "schoolId": t.school_a.id, "periodKind": "FINANCIAL_YEAR", "startsOn": "1900-04-01", "endsOn": "1901-03-31", "fundingStream": "CORE", "unitId": fx.day_unit, "quantity": 1.0 } }),
    )
    .await;
    assert!(
        codes(&c, "createContract").contains(&"OUT_OF_RANGE".to_owned()),
        "{}",
        c.body
    );
    let x = gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: AddCalendarExceptionInput!) { addCalendarException(input: $i) { exception { id } userErrors { field code } } }",
        json!({ "i": { "serviceId": t.service_id, "epId": t.ep.person_id, "kind": "LEAVE", "startsAt": format!("{}T09:00:30Z", d(fx.week(1))), "endsAt": format!("{}T17:00:00Z", d(fx.week(1))) } }),
    )
    .await;
    assert_eq!(codes(&x, "addCalendarException"), vec!["INVALID"], "{}", x.body);
    let p = set_pattern(&fx.app, t, &t.ep.person_id, &[1, 2], "1900-01-01").await;
    assert_eq!(codes(&p, "setWorkingPattern"), vec!["OUT_OF_RANGE"], "{}", p.body);
    let after = (
        fx.app.count("closures").await,
        fx.app.count("academic_years").await,
        fx.app.count("contracts").await,
        fx.app.count("calendar_exceptions").await,
        fx.app.count("working_patterns").await,
    );
    assert_eq!(
        before, after,
        "the EP's patterns were not replaced, nothing was written"
    );
}

#[tokio::test]
async fn minimum_notice_binds_schools_and_partners_and_administrators_give_a_reason() {
    let fx = fixture().await;
    let t = &fx.t;
    fx.app.set_policy(t, json!({ "termTimePolicy": "ALLOW" })).await;
    // Two hours from now, on a whole minute.
    let soon = DateTime::from_timestamp((Utc::now().timestamp() / 60) * 60 + 2 * 3600, 0).unwrap();
    let (partner, _, _) = fx.app.partner(t, &["BOOKINGS_WRITE", "BOOKINGS_READ"], None).await;
    let p = book(&fx, &partner.token, booking(&t.school_a.id, &t.ep.person_id, soon, 30)).await;
    assert_eq!(codes(&p, "createBooking"), vec!["OUT_OF_RANGE"], "{}", p.body);
    assert!(first_message(&p, "createBooking").contains("minimum notice"));
    let admin = book(&fx, &t.admin.token, booking(&t.school_a.id, &t.ep.person_id, soon, 30)).await;
    assert_eq!(codes(&admin, "createBooking"), vec!["REQUIRED"], "{}", admin.body);
    let mut with_reason = booking(&t.school_a.id, &t.ep.person_id, soon, 30);
    with_reason["shortNoticeReason"] = json!("The school rang this morning");
    let made = book(&fx, &t.admin.token, with_reason).await;
    assert_eq!(
        made.ok()["createBooking"]["result"]["booking"]["shortNoticeReason"],
        "The school rang this morning"
    );
    // In the past too, to record work already done.
    let mut past = booking(&t.school_b.id, &t.ep.person_id, soon - Duration::days(2), 30);
    past["shortNoticeReason"] = json!("Recording a meeting held on Monday");
    booked(&book(&fx, &t.admin.token, past).await);
    // The EP books their own time at short notice (not in the past).
    booked(
        &book(
            &fx,
            &t.ep.token,
            booking(&t.school_a.id, &t.ep.person_id, soon + Duration::hours(1), 30),
        )
        .await,
    );
    let ep_past = book(
        &fx,
        &t.ep.token,
        booking(&t.school_a.id, &t.ep.person_id, soon - Duration::days(1), 30),
    )
    .await;
    assert_eq!(codes(&ep_past, "createBooking"), vec!["OUT_OF_RANGE"]);
}

#[tokio::test]
async fn a_late_charge_is_rounded_once_and_statutory_work_charges_no_school() {
    let fx = fixture().await;
    let t = &fx.t;
    fx.app
        .set_policy(t, json!({ "minimumNoticeHours": 0, "termTimePolicy": "ALLOW" }))
        .await;
    gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { lateCancellationChargePercent } } }",
        json!({ "i": { "serviceId": t.service_id, "lateCancellationChargePercent": 50 } }),
    )
    .await
    .ok();
    let start = london(Utc::now().date_naive() + Duration::days(1), 10, 0);
    let mut input = booking(&t.school_a.id, &t.ep.person_id, start, 45);
    input["preparationMinutes"] = json!(15);
    let id = booked(&book(&fx, &t.admin.token, input).await);
    let quote = gql(
        &fx.app,
        &t.senco_a.token,
        "query($id: ID!) { cancellationQuote(bookingId: $id) { late chargePercent chargedMinutes cancelledFor freeUntil } }",
        json!({ "id": id }),
    )
    .await;
    let q = &quote.ok()["cancellationQuote"];
    assert_eq!(q["late"], true);
    assert_eq!(q["chargedMinutes"], 30, "50% of 45 + 15 is 30, not 31");
    assert_eq!(q["cancelledFor"], "SCHOOL");
    let c = gql(
        &fx.app,
        &t.senco_a.token,
        CANCEL,
        json!({ "i": { "id": id, "reason": "Ill" } }),
    )
    .await;
    assert_eq!(
        c.ok()["cancelBooking"]["result"]["chargedMinutes"],
        30,
        "the quote was what it cost"
    );

    // Statutory work booked by the service: the EP may move it; a late cancellation by the
    // school charges nothing.
    let mut statutory = booking(&t.school_a.id, &t.ep.person_id, start + Duration::hours(3), 60);
    statutory["fundingStream"] = json!("STATUTORY");
    let s = booked(&book(&fx, &t.admin.token, statutory).await);
    let moved = gql(
        &fx.app,
        &t.ep.token,
        "mutation($i: RescheduleBookingInput!) { rescheduleBooking(input: $i) { result { booking { id fundingStream } } userErrors { field code message } } }",
        json!({ "i": { "id": s, "startsAt": rfc(start + Duration::hours(5)), "endsAt": rfc(start + Duration::hours(6)) } }),
    )
    .await;
    let new_id = moved.ok()["rescheduleBooking"]["result"]["booking"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("moved: {}", moved.body))
        .to_owned();
    assert_eq!(
        moved.ok()["rescheduleBooking"]["result"]["booking"]["fundingStream"],
        "STATUTORY"
    );
    let c = gql(
        &fx.app,
        &t.senco_a.token,
        CANCEL,
        json!({ "i": { "id": new_id, "reason": "Not needed" } }),
    )
    .await;
    let r = &c.ok()["cancelBooking"]["result"];
    assert_eq!(r["chargedMinutes"], 0);
    assert_eq!(r["booking"]["cancellation"]["charged"], false);
}

#[tokio::test]
async fn a_contract_keeps_the_units_it_was_sold_in() {
    let fx = fixture().await;
    let t = &fx.t;
    let before = balance(&fx, &fx.contract_a).await;
    assert_eq!(before["inUnits"]["purchased"], 10.0);
    let resized = gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: UpdateTimeUnitInput!) { updateTimeUnit(input: $i) { unit { minutes } userErrors { message } } }",
        json!({ "i": { "id": fx.day_unit, "minutes": 360 } }),
    )
    .await;
    assert_eq!(resized.ok()["updateTimeUnit"]["unit"]["minutes"], 360);
    let after = balance(&fx, &fx.contract_a).await;
    assert_eq!(after["inUnits"]["purchased"], 10.0, "still ten days of 390 minutes");
    assert_eq!(after["inUnits"]["unitMinutes"], 390);
}

// ---- a SENCO who books ----------------------------------------------------------------------------

#[tokio::test]
async fn a_senco_books_a_free_slot_of_the_link_ep_within_the_allocation() {
    let fx = fixture().await;
    let t = &fx.t;
    let start = london(fx.week(1) + Duration::days(1), 10, 0);
    let input = booking(&t.school_a.id, &t.ep.person_id, start, 60);
    let closed = book(&fx, &t.senco_a.token, input.clone()).await;
    assert_eq!(closed.code(), Some("FORBIDDEN"), "{}", closed.body);
    assert!(
        closed.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("does not let schools book")
    );

    fx.app.set_policy(t, json!({ "schoolsMayBook": true })).await;
    // The free slots the SENCO sees, with their EP.
    let free = slots(&fx, &t.senco_a.token, week_search(&t.school_a.id, fx.week(1)), None).await;
    let edge = &free.ok()["availability"]["edges"][0]["node"];
    assert_eq!(edge["ep"]["id"], t.ep.person_id.as_str(), "{}", free.body);
    assert!(free.ok()["availability"]["totalCount"].as_i64().unwrap() > 0);
    let id = booked(&book(&fx, &t.senco_a.token, input).await);
    assert!(!id.is_empty());

    // Not another school, not a visit, not an EP who does not work with the school, not beyond
    // the allocation (even though the service only warns administrators).
    let before = fx.app.count("bookings").await;
    let other = book(
        &fx,
        &t.senco_a.token,
        booking(&t.school_b.id, &t.ep.person_id, start + Duration::hours(3), 60),
    )
    .await;
    assert_eq!(
        other
            .code()
            .map(str::to_owned)
            .or(codes(&other, "createBooking").first().cloned()),
        Some("NOT_FOUND".into()),
        "{}",
        other.body
    );
    let mut visit = booking(&t.school_a.id, &t.ep.person_id, start + Duration::days(1), 60);
    visit["kind"] = json!("VISIT");
    assert_eq!(
        codes(&book(&fx, &t.senco_a.token, visit).await, "createBooking"),
        vec!["NOT_ALLOWED"]
    );
    let stranger = book(
        &fx,
        &t.senco_a.token,
        booking(&t.school_a.id, &t.other_ep.person_id, start + Duration::days(1), 60),
    )
    .await;
    assert_eq!(
        codes(&stranger, "createBooking"),
        vec!["NOT_ALLOWED"],
        "{}",
        stranger.body
    );
    fx.app.set_policy(t, json!({ "termTimePolicy": "ALLOW" })).await;
    gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { overbookingPolicy } } }",
        json!({ "i": { "serviceId": t.service_id, "overbookingPolicy": "ALLOW_WITH_WARNING" } }),
    )
    .await
    .ok();
    let huge = gql(
        &fx.app,
        &t.admin.token,
        ADJUST,
        json!({ "i": { "schoolId": t.school_a.id, "fundingStream": "TRADED", "minutes": 3840, "appliesOn": d(fx.week(1)), "reason": "Used up elsewhere" } }),
    )
    .await;
    assert!(huge.ok()["adjustLedger"]["entry"]["id"].is_string(), "{}", huge.body);
    let over = book(
        &fx,
        &t.senco_a.token,
        booking(&t.school_a.id, &t.ep.person_id, start + Duration::days(2), 60),
    )
    .await;
    assert_eq!(codes(&over, "createBooking"), vec!["NOT_ALLOWED"], "{}", over.body);
    assert!(first_message(&over, "createBooking").contains("Over the allocation"));
    assert_eq!(fx.app.count("bookings").await, before, "nothing was written");
}

// ---- clash reports ------------------------------------------------------------------------------------

#[tokio::test]
async fn leave_and_a_new_pattern_report_the_bookings_they_leave_standing() {
    let fx = fixture().await;
    let t = &fx.t;
    let thursday = fx.week(1) + Duration::days(3);
    let booked_thursday = booked(
        &book(
            &fx,
            &t.admin.token,
            booking(&t.school_a.id, &t.ep.person_id, london(thursday, 10, 0), 60),
        )
        .await,
    );
    let monday = booked(
        &book(
            &fx,
            &t.admin.token,
            booking(&t.school_b.id, &t.ep.person_id, london(fx.week(3), 10, 0), 60),
        )
        .await,
    );

    let leave = gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: AddCalendarExceptionInput!) { addCalendarException(input: $i) { exception { id } clashes { booking { id } reasons } userErrors { message } } }",
        json!({ "i": { "serviceId": t.service_id, "epId": t.ep.person_id, "kind": "LEAVE", "startsAt": rfc(london(fx.week(3), 0, 0)), "endsAt": rfc(london(fx.week(3) + Duration::days(1), 0, 0)) } }),
    )
    .await;
    let clashes = leave.ok()["addCalendarException"]["clashes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(clashes.len(), 1, "{}", leave.body);
    assert_eq!(clashes[0]["booking"]["id"], monday.as_str());
    assert_eq!(clashes[0]["reasons"], json!(["EP_UNAVAILABLE"]));

    let pattern = set_pattern(&fx.app, t, &t.ep.person_id, &[1, 2, 3], &d(fx.week(1))).await;
    let clashes = pattern.ok()["setWorkingPattern"]["clashes"].as_array().unwrap().clone();
    assert!(
        clashes.iter().any(|c| c["booking"]["id"] == booked_thursday.as_str() && c["reasons"] == json!(["OUTSIDE_WORKING_HOURS"])),
        "{}",
        pattern.body
    );

    // The administrator lists them to clear them; the EP sees their own; a SENCO may not.
    let q = "query($s: ID!, $f: DateTime!, $t: DateTime!) { conflicts(serviceId: $s, from: $f, to: $t) { booking { id } reasons } }";
    let vars = json!({ "s": t.service_id, "f": rfc(london(fx.week(0), 0, 0)), "t": rfc(london(fx.week(10), 0, 0)) });
    let all = gql(&fx.app, &t.admin.token, q, vars.clone()).await;
    let ids: Vec<&str> = all.ok()["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["booking"]["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&booked_thursday.as_str()) && ids.contains(&monday.as_str()),
        "{ids:?}"
    );
    let mine = gql(&fx.app, &t.ep.token, q, vars.clone()).await;
    assert_eq!(mine.ok()["conflicts"].as_array().unwrap().len(), ids.len());
    let colleague = gql(&fx.app, &t.other_ep.token, q, vars.clone()).await;
    assert!(
        colleague.ok()["conflicts"].as_array().unwrap().is_empty(),
        "an EP does not see a colleague's leave"
    );
    assert_eq!(
        gql(&fx.app, &t.senco_a.token, q, vars.clone()).await.code(),
        Some("FORBIDDEN")
    );
    let other_service = fx.app.tenant().await;
    assert_eq!(
        gql(&fx.app, &other_service.admin.token, q, vars).await.code(),
        Some("NOT_FOUND")
    );
}

// ---- series of visits ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_terms_fortnightly_visits_are_made_in_one_call_and_the_rest_moved_or_cancelled() {
    let fx = fixture().await;
    let t = &fx.t;
    // A bank holiday on the Tuesday of week 4.
    let bank = fx.week(4) + Duration::days(1);
    gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: AddClosureInput!) { addClosure(input: $i) { closure { id } } }",
        json!({ "i": { "serviceId": t.service_id, "kind": "BANK_HOLIDAY", "startsOn": d(bank), "endsOn": d(bank) } }),
    )
    .await
    .ok();
    let q = "mutation($i: CreateVisitSeriesInput!) { createVisitSeries(input: $i) { result { series { id } visits { id startsAt seriesId } skipped { date reason } } userErrors { field message code } } }";
    // Tuesdays, fortnightly, for Term 1: weeks 0, 2 (half-term), 4 (bank holiday).
    let made = gql(
        &fx.app,
        &t.admin.token,
        q,
        json!({ "i": { "schoolId": t.school_a.id, "epId": t.ep.person_id, "weekday": 2, "startsAt": "09:00", "endsAt": "12:00", "everyWeeks": 2, "termId": fx.terms[0] } }),
    )
    .await;
    let r = &made.ok()["createVisitSeries"]["result"];
    let series = r["series"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", made.body))
        .to_owned();
    let visits = r["visits"].as_array().unwrap().clone();
    let skipped = r["skipped"].as_array().unwrap().clone();
    assert_eq!(visits.len(), 1, "{}", made.body);
    assert_eq!(skipped.len(), 2, "{}", made.body);
    assert_eq!(skipped[0]["date"], d(fx.week(2) + Duration::days(1)));
    assert!(skipped[0]["reason"].as_str().unwrap().contains("school holiday"));
    assert_eq!(skipped[1]["reason"], "a bank holiday");
    assert_eq!(visits[0]["seriesId"], series.as_str());

    // Weekly Thursdays for weeks 0 to 5, with one Thursday already taken: the clash is listed.
    let thursday = fx.week(1) + Duration::days(3);
    booked(
        &book(
            &fx,
            &t.admin.token,
            booking(&t.school_b.id, &t.ep.person_id, london(thursday, 10, 0), 60),
        )
        .await,
    );
    let weekly = gql(
        &fx.app,
        &t.admin.token,
        q,
        json!({ "i": { "schoolId": t.school_a.id, "epId": t.ep.person_id, "weekday": 4, "startsAt": "09:00", "endsAt": "12:00", "from": d(fx.week(0)), "to": d(fx.week(5) + Duration::days(4)) } }),
    )
    .await;
    let r = &weekly.ok()["createVisitSeries"]["result"];
    let weekly_id = r["series"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r["visits"].as_array().unwrap().len(), 4, "{}", weekly.body);
    let reasons: Vec<&str> = r["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.iter().any(|r| r.contains("already booked")), "{reasons:?}");

    // Move the rest (from week 3) to the afternoon, then cancel the rest from week 4.
    let moved = gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: MoveVisitSeriesInput!) { moveVisitSeries(input: $i) { result { moved { booking { startsAt } } } userErrors { field message } } }",
        json!({ "i": { "id": weekly_id, "from": d(fx.week(3)), "startsAt": "13:00", "endsAt": "16:00" } }),
    )
    .await;
    let moved = moved.ok()["moveVisitSeries"]["result"]["moved"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(moved.len(), 3, "weeks 3, 4 and 5");
    for m in &moved {
        let at: DateTime<Utc> = m["booking"]["startsAt"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            at.with_timezone(&chrono_tz::Europe::London).format("%H:%M").to_string(),
            "13:00"
        );
    }
    let cancelled = gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: CancelVisitSeriesInput!) { cancelVisitSeries(input: $i) { result { cancelled { booking { status } } } userErrors { field message code } } }",
        json!({ "i": { "id": weekly_id, "from": d(fx.week(4)), "reason": "The school's needs changed", "cancelledFor": "SCHOOL" } }),
    )
    .await;
    let cancelled = cancelled.ok()["cancelVisitSeries"]["result"]["cancelled"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(cancelled.len(), 2, "weeks 4 and 5");
    let visits = gql(
        &fx.app,
        &t.admin.token,
        "query($id: ID!) { node(id: $id) { ... on VisitSeries { visits(first: 20) { totalCount edges { node { status } } } } } }",
        json!({ "id": weekly_id }),
    )
    .await;
    // Four visits, three moved (each move cancels one and books another in the series).
    assert_eq!(visits.ok()["node"]["visits"]["totalCount"], 7, "{}", visits.body);
    // Another service's administrator cannot see or touch it.
    let other = fx.app.tenant().await;
    assert!(
        gql(
            &fx.app,
            &other.admin.token,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": series })
        )
        .await
        .ok()["node"]
            .is_null()
    );
    let theirs = gql(
        &fx.app,
        &other.admin.token,
        "mutation($i: CancelVisitSeriesInput!) { cancelVisitSeries(input: $i) { result { cancelled { booking { id } } } } }",
        json!({ "i": { "id": series, "from": d(fx.week(0)), "reason": "x", "cancelledFor": "SERVICE" } }),
    )
    .await;
    assert_eq!(theirs.code(), Some("NOT_FOUND"));
}

// ---- what the screens need ---------------------------------------------------------------------------

#[tokio::test]
async fn the_screens_get_calendars_with_bookings_school_bookings_and_totals_in_one_query() {
    let fx = fixture().await;
    let t = &fx.t;
    let day = fx.week(1) + Duration::days(1);
    let id = booked(
        &book(
            &fx,
            &t.admin.token,
            booking(&t.school_a.id, &t.ep.person_id, london(day, 10, 0), 60),
        )
        .await,
    );
    let cal = gql(
        &fx.app,
        &t.ep.token,
        "query($s: ID!, $e: ID!, $f: DateTime!, $t: DateTime!) { epCalendar(serviceId: $s, epId: $e, from: $f, to: $t) { bookings { id } workingPatterns { id } } }",
        json!({ "s": t.service_id, "e": t.ep.person_id, "f": rfc(london(day, 0, 0)), "t": rfc(london(day + Duration::days(1), 0, 0)) }),
    )
    .await;
    assert_eq!(cal.ok()["epCalendar"]["bookings"][0]["id"], id.as_str());
    let school = gql(
        &fx.app,
        &t.senco_a.token,
        "query($id: ID!) { node(id: $id) { ... on School { bookings(first: 5) { totalCount edges { node { id } } } contracts { totalCount } balance { fundingStream } } } }",
        json!({ "id": t.school_a.id }),
    )
    .await;
    let node = &school.ok()["node"];
    assert_eq!(node["bookings"]["totalCount"], 1);
    assert_eq!(node["bookings"]["edges"][0]["node"]["id"], id.as_str());
    assert_eq!(node["contracts"]["totalCount"], 1);
    assert_eq!(node["balance"][0]["fundingStream"], "TRADED");
    // Audit details name objects by their global ids.
    let log = gql(
        &fx.app,
        &t.admin.token,
        "query($s: ID!) { auditEvents(serviceId: $s, filter: { action: \"booking.create\" }, first: 1) { edges { node { detail } } } }",
        json!({ "s": t.service_id }),
    )
    .await;
    let detail: Value =
        serde_json::from_str(log.ok()["auditEvents"]["edges"][0]["node"]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["epId"], t.ep.person_id.as_str());
}

// ---- exports for finance ------------------------------------------------------------------------------

#[tokio::test]
async fn the_time_summary_and_a_schools_ledger_export_as_csv_under_the_same_reach() {
    let fx = fixture().await;
    let t = &fx.t;
    let mut input = booking(&t.school_a.id, &t.ep.person_id, london(fx.week(1), 10, 0), 60);
    input["preparationMinutes"] = json!(15);
    booked(&book(&fx, &t.admin.token, input).await);
    let get = |path: String, token: Option<String>| {
        let mut r = fx.app.client.get(fx.app.url(&path));
        if let Some(tok) = token {
            r = r.bearer_auth(tok);
        }
        async move { r.send().await.unwrap() }
    };
    let summary = format!(
        "/exports/time-summary.csv?serviceId={}&academicYearId={}",
        t.service_id, fx.year
    );
    let r = get(summary.clone(), Some(t.admin.token.clone())).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = r.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(lines.next().unwrap(), scps::http::exports::SUMMARY_COLUMNS.join(","));
    assert!(body.contains(&t.school_a.name) && body.contains("Term 1") && body.contains("Outside term"));
    assert_eq!(get(summary.clone(), None).await.status(), 401);
    // A SENCO's export holds their own school only, as their summary does.
    let senco = get(summary, Some(t.senco_a.token.clone())).await.text().await.unwrap();
    assert!(
        senco.contains(&t.school_a.name) && !senco.contains(&t.school_b.name),
        "{senco}"
    );

    let ledger = |school: &str| {
        format!(
            "/exports/ledger.csv?schoolId={school}&from={}&to={}",
            d(fx.week(0)),
            d(fx.week(12))
        )
    };
    let r = get(ledger(&t.school_a.id), Some(t.senco_a.token.clone())).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert_eq!(
        body.lines().next().unwrap(),
        scps::http::exports::LEDGER_COLUMNS.join(",")
    );
    assert_eq!(
        body.lines().count(),
        3,
        "the header and the booking's two entries: {body}"
    );
    assert!(body.contains("BOOKED"));
    let other_school = get(ledger(&t.school_b.id), Some(t.senco_a.token.clone())).await;
    assert_eq!(
        other_school.status(),
        200,
        "a list: what the caller may not see is simply not in it"
    );
    assert_eq!(other_school.text().await.unwrap().lines().count(), 1);
    let other = fx.app.tenant().await;
    let theirs = get(
        format!(
            "/exports/time-summary.csv?serviceId={}&academicYearId={}",
            t.service_id, fx.year
        ),
        Some(other.admin.token.clone()),
    )
    .await;
    assert_eq!(theirs.status(), 404);
}

// ---- one balance everywhere, whatever happens ------------------------------------------------------------

/// A small deterministic generator, so that each seed replays the same sequence.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn contracts_schools_and_the_summary_agree_after_any_sequence_of_changes() {
    let fx = fixture().await;
    let t = &fx.t;
    fx.app
        .set_policy(
            t,
            json!({ "minimumNoticeHours": 0, "termTimePolicy": "ALLOW", "cancellationNoticeHours": 24 * 28 }),
        )
        .await;
    gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { lateCancellationChargePercent } } }",
        json!({ "i": { "serviceId": t.service_id, "lateCancellationChargePercent": 37 } }),
    )
    .await
    .ok();
    for seed in [1u64, 7, 42] {
        let mut rng = Lcg(seed);
        let mut open: Vec<String> = Vec::new();
        for step in 0..14 {
            let school = if rng.next(2) == 0 {
                &t.school_a.id
            } else {
                &t.school_b.id
            };
            match rng.next(4) {
                0 | 1 => {
                    let day = fx.week(rng.next(10) as i64) + Duration::days(rng.next(5) as i64);
                    let hour = 9 + rng.next(7) as u32;
                    let mut input = booking(
                        school,
                        &t.ep.person_id,
                        london(day, hour, 0),
                        30 + 15 * rng.next(4) as i64,
                    );
                    input["preparationMinutes"] = json!(5 * rng.next(7));
                    let a = book(&fx, &t.admin.token, input).await;
                    if let Some(id) = a.body["data"]["createBooking"]["result"]["booking"]["id"].as_str() {
                        open.push(id.to_owned());
                    }
                }
                2 if !open.is_empty() => {
                    let id = open.remove(rng.next(open.len() as u64) as usize);
                    let for_whom = ["SCHOOL", "EP", "SERVICE"][rng.next(3) as usize];
                    gql(
                        &fx.app,
                        &t.admin.token,
                        CANCEL,
                        json!({ "i": { "id": id, "reason": format!("step {step}"), "cancelledFor": for_whom } }),
                    )
                    .await
                    .ok();
                }
                _ => {
                    let minutes = rng.next(90) as i64 - 45;
                    if minutes != 0 {
                        let day = fx.base - Duration::days(7) + Duration::days(rng.next(120) as i64);
                        gql(
                            &fx.app,
                            &t.admin.token,
                            ADJUST,
                            json!({ "i": { "schoolId": school, "fundingStream": "TRADED", "minutes": minutes, "appliesOn": d(day), "reason": format!("step {step}") } }),
                        )
                        .await
                        .ok();
                    }
                }
            }
        }
        let year = gql(
            &fx.app,
            &t.admin.token,
            SUMMARY,
            json!({ "i": { "serviceId": t.service_id, "academicYearId": fx.year } }),
        )
        .await;
        for (school, contract) in [(&t.school_a.id, &fx.contract_a), (&t.school_b.id, &fx.contract_b)] {
            let c = balance(&fx, contract).await;
            let row = year.ok()["timeSummary"]["schools"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["school"]["id"] == school.as_str())
                .unwrap()["streams"][0]["balance"]
                .clone();
            let school_balance = gql(
                &fx.app,
                &t.admin.token,
                &format!("query($id: ID!) {{ node(id: $id) {{ ... on School {{ balance(on: \"{}\") {{ balance {{ usedMinutes remainingMinutes purchasedMinutes }} }} }} }} }}", d(fx.week(1))),
                json!({ "id": school }),
            )
            .await;
            let s = &school_balance.ok()["node"]["balance"][0]["balance"];
            for figure in ["purchasedMinutes", "usedMinutes", "remainingMinutes"] {
                assert_eq!(
                    c[figure], row[figure],
                    "seed {seed}: contract and summary differ on {figure}"
                );
                assert_eq!(
                    c[figure], s[figure],
                    "seed {seed}: contract and school differ on {figure}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_date_time_without_an_offset_says_that_an_offset_is_needed() {
    let fx = fixture().await;
    let t = &fx.t;
    let a = gql(
        &fx.app,
        &t.admin.token,
        BOOK,
        json!({ "i": { "schoolId": t.school_a.id, "epId": t.ep.person_id, "kind": "CONSULTATION", "startsAt": "2027-02-15T09:00:00", "endsAt": "2027-02-15T10:00:00Z" } }),
    )
    .await;
    let message = a.body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("needs an offset"), "{}", a.body);
    assert!(
        message.contains("2027-02-15T09:00:00Z"),
        "the message shows the form: {}",
        a.body
    );
}
