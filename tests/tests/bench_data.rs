//! The benchmark's generated data (scps-bench, issue 18) is data the domain would have made:
//! checked at a small scale against the domain's own rules, through the API where it can be.
#![allow(
    clippy::disallowed_methods,
    reason = "the test reads the generated rows directly, to compare them with what the API says"
)]

use std::collections::HashMap;

use chrono::{Duration, Utc};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};

use domain::entities::{booking, contract, contract_top_up, ledger_entry};
use domain::model::{BookingStatus, LedgerKind};
use scps_bench::generate::{self, Shape};
use scps_tests::{TestApp, TestDatabase};

const SHAPE: Shape = Shape {
    services: 2,
    schools: 14,
    eps: 3,
    years: 2,
};
const SEED: u64 = 7;

fn today() -> chrono::NaiveDate {
    Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive()
}

async fn generated() -> TestApp {
    let app = TestApp::spawn().await;
    generate::generate(&app.services.db, SHAPE, SEED, today())
        .await
        .expect("the generator writes");
    app
}

async fn all_pages(app: &TestApp, token: &str, query: &str, field: &str, vars: Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut v = vars.clone();
        v["a"] = json!(after);
        let a = app.gql(token, query, v).await;
        let page = &a.ok()[field];
        out.extend(page["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()));
        if page["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

#[tokio::test]
async fn generated_bookings_never_overlap_and_block_their_own_span() {
    let app = generated().await;
    let rows = booking::Entity::find()
        .order_by_asc(booking::Column::BlockedFrom)
        .all(&app.services.db)
        .await
        .unwrap();
    assert!(rows.len() > 300, "a small scale still has a history: {}", rows.len());
    let mut by_ep: HashMap<_, Vec<&booking::Model>> = HashMap::new();
    for b in &rows {
        assert_eq!((b.blocked_from, b.blocked_until), (b.starts_at, b.ends_at));
        if b.status != BookingStatus::Cancelled && b.visit_id.is_none() {
            by_ep.entry(b.ep_id).or_default().push(b);
        }
    }
    for list in by_ep.values() {
        for pair in list.windows(2) {
            assert!(
                pair[0].blocked_until <= pair[1].blocked_from,
                "two bookings of one EP overlap: {:?} and {:?}",
                pair[0].id,
                pair[1].id
            );
            let travels = pair[0].mode == domain::model::BookingMode::InPerson
                && pair[1].mode == domain::model::BookingMode::InPerson
                && pair[0].school_id != pair[1].school_id;
            if travels {
                assert!(pair[1].blocked_from - pair[0].blocked_until >= Duration::minutes(15));
            }
        }
    }
    // Every kind and status the domain has appears.
    for kind in [
        "VISIT",
        "CONSULTATION",
        "PLANNING_MEETING",
        "TRAINING",
        "OTHER",
        "SPACE_TO_TALK",
    ] {
        assert!(rows.iter().any(|b| b.kind.as_str() == kind), "no {kind} booking");
    }
    for status in [
        BookingStatus::Confirmed,
        BookingStatus::Delivered,
        BookingStatus::Cancelled,
        BookingStatus::NoShow,
    ] {
        assert!(rows.iter().any(|b| b.status == status), "no {status:?} booking");
    }
}

#[tokio::test]
async fn the_generator_is_deterministic_from_its_seed() {
    let ids = |db: sea_orm::DatabaseConnection| async move {
        let mut rows: Vec<String> = ledger_entry::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|l| format!("{} {} {} {}", l.id.0, l.kind.as_str(), l.minutes, l.applies_on))
            .collect();
        rows.sort();
        rows
    };
    let mut seen = Vec::new();
    for _ in 0..2 {
        let database = TestDatabase::create().await;
        let db = generate::prepare(&database.url, false).await.unwrap();
        generate::generate(&db, SHAPE, SEED, today()).await.unwrap();
        seen.push(ids(db).await);
    }
    assert!(!seen[0].is_empty());
    assert_eq!(seen[0], seen[1]);
}

#[tokio::test]
async fn ledger_sums_equal_the_balances_the_api_reports() {
    let app = generated().await;
    let db = &app.services.db;
    let ledger = ledger_entry::Entity::find().all(db).await.unwrap();
    let contracts = contract::Entity::find().all(db).await.unwrap();
    let top_ups = contract_top_up::Entity::find().all(db).await.unwrap();
    let admin = app.sign_in(&generate::admin_email(0), generate::PASSWORD).await;

    let api = all_pages(
        &app,
        &admin,
        "query($a: String) { contracts(first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { id purchasedMinutes \
         balance { purchasedMinutes bookedMinutes deliveredMinutes lateCancellationMinutes usedMinutes remainingMinutes } } } } }",
        "contracts",
        json!({}),
    )
    .await;
    assert!(api.len() >= SHAPE.schools * SHAPE.years, "{} contracts", api.len());
    for c in &api {
        let (_, uuid) = scps::graphql::ids::decode(c["id"].as_str().unwrap()).unwrap();
        let row = contracts.iter().find(|r| r.id.0 == uuid).unwrap();
        let sum = |kinds: &[LedgerKind]| -> i64 {
            ledger
                .iter()
                .filter(|l| l.contract_id == Some(row.id) && kinds.contains(&l.kind))
                .map(|l| i64::from(l.minutes))
                .sum()
        };
        let purchased = i64::from(row.minutes)
            + top_ups
                .iter()
                .filter(|t| t.contract_id == row.id)
                .map(|t| i64::from(t.minutes))
                .sum::<i64>();
        let b = &c["balance"];
        assert_eq!(b["purchasedMinutes"], purchased);
        assert_eq!(c["purchasedMinutes"], purchased);
        assert_eq!(b["bookedMinutes"], sum(&[LedgerKind::Booked, LedgerKind::Released]));
        assert_eq!(b["deliveredMinutes"], sum(&[LedgerKind::Delivered]));
        assert_eq!(b["lateCancellationMinutes"], sum(&[LedgerKind::LateCancellation]));
        let used = sum(&[
            LedgerKind::Booked,
            LedgerKind::Released,
            LedgerKind::Delivered,
            LedgerKind::LateCancellation,
            LedgerKind::Adjustment,
        ]);
        assert_eq!(b["usedMinutes"], used);
        assert_eq!(b["remainingMinutes"], purchased - used);
    }
    // Booked time is held only by open bookings: released when delivered or cancelled.
    let bookings = booking::Entity::find().all(db).await.unwrap();
    for b in bookings.iter().filter(|b| b.contract_id.is_some()) {
        let held: i64 = ledger
            .iter()
            .filter(|l| l.booking_id == Some(b.id) && matches!(l.kind, LedgerKind::Booked | LedgerKind::Released))
            .map(|l| i64::from(l.minutes))
            .sum();
        let expected = if b.status.is_open() {
            i64::from(b.direct_minutes + b.preparation_minutes)
        } else {
            0
        };
        assert_eq!(held, expected, "booking {:?} ({:?})", b.id, b.status);
    }

    // The time summary counts each school's contracts in its range as the contracts do.
    let service =
        app.gql(&admin, "{ viewer { services { id } } }", json!({})).await.ok()["viewer"]["services"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let summary = app
        .gql(
            &admin,
            "query($s: ID!, $f: Date!, $t: Date!) { timeSummary(input: { serviceId: $s, from: $f, to: $t }) { startsOn endsOn schools { school { id } streams { fundingStream balance { purchasedMinutes usedMinutes } } } } }",
            json!({
                "s": service,
                "f": format!("{}-09-01", generate::year_start(today())),
                "t": format!("{}-08-31", generate::year_start(today()) + 1),
            }),
        )
        .await;
    let s = &summary.ok()["timeSummary"];
    let (from, to): (chrono::NaiveDate, chrono::NaiveDate) = (
        s["startsOn"].as_str().unwrap().parse().unwrap(),
        s["endsOn"].as_str().unwrap().parse().unwrap(),
    );
    let schools = s["schools"].as_array().unwrap();
    assert_eq!(schools.len(), SHAPE.schools);
    for school in schools {
        let (_, school_uuid) = scps::graphql::ids::decode(school["school"]["id"].as_str().unwrap()).unwrap();
        for stream in school["streams"].as_array().unwrap() {
            let in_range: Vec<&contract::Model> = contracts
                .iter()
                .filter(|c| {
                    c.school_id.0 == school_uuid
                        && c.funding_stream.as_str() == stream["fundingStream"].as_str().unwrap()
                        && c.starts_on <= to
                        && from <= c.ends_on
                })
                .collect();
            let api_of = |c: &contract::Model| {
                api.iter()
                    .find(|a| scps::graphql::ids::decode(a["id"].as_str().unwrap()).unwrap().1 == c.id.0)
                    .map(|a| a["balance"].clone())
                    .unwrap()
            };
            let purchased: i64 = in_range
                .iter()
                .map(|c| api_of(c)["purchasedMinutes"].as_i64().unwrap())
                .sum();
            let used: i64 = in_range
                .iter()
                .map(|c| api_of(c)["usedMinutes"].as_i64().unwrap())
                .sum();
            if stream["fundingStream"] != "STATUTORY" {
                assert_eq!(stream["balance"]["purchasedMinutes"], purchased, "school {school_uuid}");
                assert_eq!(stream["balance"]["usedMinutes"], used, "school {school_uuid}");
            }
        }
    }
}

#[tokio::test]
async fn the_api_serves_the_generated_data_and_finds_no_clashes() {
    let app = generated().await;
    let admin = app.sign_in(&generate::admin_email(0), generate::PASSWORD).await;
    let service =
        app.gql(&admin, "{ viewer { services { id } } }", json!({})).await.ok()["viewer"]["services"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    // The domain's own check of open bookings against leave, closures, term and working hours.
    let year = generate::year_start(today());
    for y in year + 1 - SHAPE.years as i32..=year {
        let conflicts = app
            .gql(
                &admin,
                "query($s: ID!, $f: DateTime!, $t: DateTime!) { conflicts(serviceId: $s, from: $f, to: $t) { booking { id kind } reasons } }",
                json!({ "s": service, "f": format!("{y}-09-01T00:00:00Z"), "t": format!("{}-08-31T00:00:00Z", y + 1) }),
            )
            .await;
        assert_eq!(conflicts.ok()["conflicts"], json!([]), "clashes in {y}");
    }

    let list = app
        .gql(
            &admin,
            "{ bookings(first: 100) { edges { node { id startsAt endsAt kind status school { name } ep { displayName } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(list.ok()["bookings"]["edges"].as_array().unwrap().len(), 100);

    // A SENCO sees their own school, its balance and its bookings; nothing of the other service.
    let senco = app.sign_in(&generate::senco_email(0, 0), generate::PASSWORD).await;
    let schools = app
        .gql(&senco, "{ schools(first: 10) { edges { node { id name balance { fundingStream balance { remainingMinutes } } bookings(first: 5) { edges { node { id } } } } } } }", json!({}))
        .await;
    let edges = schools.ok()["schools"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["name"], generate::school_name(0, 0));
    assert!(!edges[0]["node"]["bookings"]["edges"].as_array().unwrap().is_empty());
    let other = app.sign_in(&generate::admin_email(1), generate::PASSWORD).await;
    let theirs = app
        .gql(
            &other,
            "{ bookings(first: 5) { edges { node { school { name } } } } }",
            json!({}),
        )
        .await;
    for e in theirs.ok()["bookings"]["edges"].as_array().unwrap() {
        let name = e["node"]["school"]["name"].as_str().unwrap_or("");
        assert!(!name.contains("(S0)"), "service 1 sees {name}");
    }
    // Availability over four weeks answers for an EP's school.
    let monday = today() - Duration::days(i64::from(chrono::Datelike::weekday(&today()).num_days_from_monday()));
    let slots = app
        .gql(
            &senco,
            "query($s: ID!, $f: DateTime!, $t: DateTime!) { availability(first: 5, input: { schoolId: $s, from: $f, to: $t, durationMinutes: 60 }) { edges { node { startsAt } } } }",
            json!({
                "s": edges[0]["node"]["id"],
                "f": format!("{}T00:00:00Z", monday + Duration::weeks(1)),
                "t": format!("{}T00:00:00Z", monday + Duration::weeks(5)),
            }),
        )
        .await;
    slots.ok();
}

#[tokio::test]
async fn generated_consultations_are_what_the_domain_would_have_written() {
    use domain::entities::{consent, consultation, consultation_action, consultation_record, pupil};
    use domain::model::{ConsultationKind, ConsultationOutcome, ConsultationStatus};
    let app = generated().await;
    let db = &app.services.db;
    let rows = consultation::Entity::find().all(db).await.unwrap();
    let consents = consent::Entity::find().all(db).await.unwrap();
    let pupils = pupil::Entity::find().all(db).await.unwrap();
    let records = consultation_record::Entity::find().all(db).await.unwrap();
    let actions = consultation_action::Entity::find().all(db).await.unwrap();
    let bookings: HashMap<_, _> = booking::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    assert!(rows.len() > 100, "consultations at a small scale: {}", rows.len());
    for status in [
        ConsultationStatus::Requested,
        ConsultationStatus::Accepted,
        ConsultationStatus::Scheduled,
        ConsultationStatus::RecordShared,
        ConsultationStatus::Closed,
    ] {
        assert!(rows.iter().any(|c| c.status == status), "no {status:?} consultation");
    }
    assert!(rows.iter().any(|c| c.cycle > 1), "no review");
    for c in &rows {
        // A formal consultation is about a pupil of its own school, with consent valid on the
        // day of its meeting; a professional one names no child.
        match c.kind {
            ConsultationKind::Formal => {
                let p = pupils.iter().find(|p| Some(p.id) == c.pupil_id).expect("its pupil");
                assert_eq!(p.school_id, c.school_id);
                if let Some(b) = c.booking_id {
                    let on = bookings[&b]
                        .starts_at
                        .with_timezone(&chrono_tz::Europe::London)
                        .date_naive();
                    let mine: Vec<_> = consents.iter().filter(|k| k.pupil_id == p.id).cloned().collect();
                    assert!(
                        domain::consultations::consent::valid_on(&mine, on),
                        "consent for {:?} on {on}",
                        c.id
                    );
                }
            }
            ConsultationKind::Professional => assert!(c.pupil_id.is_none()),
        }
        if let Some(b) = c.booking_id {
            let b = &bookings[&b];
            assert_eq!((b.school_id, Some(b.ep_id)), (Some(c.school_id), c.ep_id));
            assert_eq!(b.kind.as_str(), "CONSULTATION");
        }
        let record = records.iter().find(|r| r.consultation_id == c.id);
        let held = matches!(
            c.status,
            ConsultationStatus::Held | ConsultationStatus::RecordShared | ConsultationStatus::ReviewDue
        ) || c.outcome.is_some();
        assert_eq!(record.is_some(), held, "{:?} {:?}", c.id, c.status);
        if let Some(r) = record {
            let shared = r.shared_at.is_some();
            assert!(
                actions
                    .iter()
                    .filter(|a| a.consultation_id == c.id)
                    .all(|a| a.shared == shared)
            );
            assert_eq!(c.review_on.is_some(), shared);
        }
        if let Some(prev) = c.previous_id {
            let p = rows.iter().find(|r| r.id == prev).unwrap();
            assert_eq!((p.pupil_id, p.cycle + 1), (c.pupil_id, c.cycle));
            assert_eq!(p.outcome, Some(ConsultationOutcome::ContinuedInReview));
        }
    }

    // Through the API: the administrator sees every one of the service's consultations; a
    // SENCO their school's (and only shared actions); the other service none of them.
    let admin = app.sign_in(&generate::admin_email(0), generate::PASSWORD).await;
    let listed = all_pages(
        &app,
        &admin,
        "query($a: String) { consultations(first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { id status school { name } } } } }",
        "consultations",
        json!({}),
    )
    .await;
    let schools = domain::entities::school::Entity::find().all(db).await.unwrap();
    let s0 = schools.iter().find(|s| s.name == generate::school_name(0, 0)).unwrap();
    assert_eq!(
        listed.len(),
        rows.iter().filter(|c| c.service_id == s0.service_id).count()
    );
    for c in &listed {
        assert!(c["school"]["name"].as_str().unwrap().ends_with("(S0)"));
    }
    let senco = app.sign_in(&generate::senco_email(0, 0), generate::PASSWORD).await;
    let mine = app
        .gql(
            &senco,
            "{ consultations(first: 100, filter: { openOnly: true }) { edges { node { school { name } status } } } consultationActions(first: 100) { edges { node { schoolId } } } }",
            json!({}),
        )
        .await;
    let edges = mine.ok()["consultations"]["edges"].as_array().unwrap().clone();
    assert!(!edges.is_empty(), "school 0 has open consultations");
    for e in &edges {
        assert_eq!(e["node"]["school"]["name"], generate::school_name(0, 0));
        assert!(!["CLOSED", "DECLINED", "WITHDRAWN"].contains(&e["node"]["status"].as_str().unwrap()));
    }
    let school0 = s0.id;
    let shared_open = actions
        .iter()
        .filter(|a| a.school_id == school0 && a.shared && a.status == domain::model::ActionStatus::Open)
        .count();
    assert_eq!(
        mine.ok()["consultationActions"]["edges"].as_array().unwrap().len(),
        shared_open.min(100)
    );
    let other = app.sign_in(&generate::admin_email(1), generate::PASSWORD).await;
    let theirs = app
        .gql(
            &other,
            "{ consultations(first: 100) { edges { node { school { name } } } } }",
            json!({}),
        )
        .await;
    for e in theirs.ok()["consultations"]["edges"].as_array().unwrap() {
        assert!(!e["node"]["school"]["name"].as_str().unwrap().contains("(S0)"));
    }
}

#[tokio::test]
async fn generated_reflective_sessions_keep_capacity_order_and_charge_exactly() {
    use domain::entities::{
        reflective_feedback, reflective_registration, reflective_session, reflective_session_school,
    };
    use domain::model::{PlaceStatus, ReflectiveStatus};
    let app = generated().await;
    let db = &app.services.db;
    let sessions = reflective_session::Entity::find().all(db).await.unwrap();
    let places = reflective_registration::Entity::find().all(db).await.unwrap();
    let open_to = reflective_session_school::Entity::find().all(db).await.unwrap();
    let feedback = reflective_feedback::Entity::find().all(db).await.unwrap();
    let ledger = ledger_entry::Entity::find().all(db).await.unwrap();
    let bookings: HashMap<_, _> = booking::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    assert!(sessions.len() >= 20, "sessions at a small scale: {}", sessions.len());
    for status in [
        ReflectiveStatus::Scheduled,
        ReflectiveStatus::Held,
        ReflectiveStatus::Cancelled,
    ] {
        assert!(sessions.iter().any(|s| s.status == status), "no {status:?} session");
    }
    assert!(
        places.iter().any(|p| p.status == PlaceStatus::Waiting),
        "a waiting list"
    );
    for s in &sessions {
        let mine: Vec<_> = places.iter().filter(|p| p.session_id == s.id).collect();
        let registered = mine.iter().filter(|p| p.status == PlaceStatus::Registered).count();
        assert!(registered <= s.capacity as usize, "over capacity: {:?}", s.id);
        let mut waiting: Vec<i32> = mine.iter().filter_map(|p| p.waiting_position).collect();
        waiting.sort_unstable();
        assert_eq!(waiting, (1..=waiting.len() as i32).collect::<Vec<_>>());
        // Every place is someone of one of the session's schools.
        for p in &mine {
            assert!(
                open_to
                    .iter()
                    .any(|o| o.session_id == s.id && o.school_id == p.school_id)
            );
        }
        let b = &bookings[&s.booking_id.unwrap()];
        assert_eq!(
            (b.ep_id, b.starts_at, b.ends_at),
            (s.facilitator_id, s.starts_at, s.ends_at)
        );
        let shares: i64 = ledger
            .iter()
            .filter(|l| l.booking_id == Some(b.id) && l.kind == LedgerKind::Delivered)
            .map(|l| i64::from(l.minutes))
            .sum();
        if s.status == ReflectiveStatus::Held {
            assert_eq!(b.status, BookingStatus::Delivered);
            assert_eq!(
                shares,
                i64::from(b.direct_minutes),
                "the shares are the facilitator's minutes"
            );
            let came = mine.iter().filter(|p| p.attended == Some(true)).count();
            let given = feedback.iter().filter(|f| f.session_id == s.id).count();
            assert!(given <= came);
            assert_eq!(given, mine.iter().filter(|p| p.feedback_given).count());
        } else {
            assert_eq!(shares, 0);
        }
    }
    // Through the API: a SENCO sees the sessions open to their school, with their places.
    let senco = app.sign_in(&generate::senco_email(0, 0), generate::PASSWORD).await;
    let school = app
        .gql(&senco, "{ schools(first: 1) { edges { node { id } } } }", json!({}))
        .await
        .ok()["schools"]["edges"][0]["node"]["id"]
        .clone();
    let up = app
        .gql(
            &senco,
            "query($s: ID!) { upcomingReflectiveSessions(schoolId: $s, withFreePlaces: false, first: 100) { nodes { id schools { name } registrations { status } } } }",
            json!({ "s": school }),
        )
        .await;
    let nodes = up.ok()["upcomingReflectiveSessions"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!nodes.is_empty(), "{}", up.body);
    for n in &nodes {
        assert!(
            n["schools"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["name"] == generate::school_name(0, 0))
        );
    }
    let staff = app.sign_in(&generate::staff_email(0, 0, 0), generate::PASSWORD).await;
    let mine = app
        .gql(
            &staff,
            "{ myReflectiveRegistrations(first: 5) { nodes { status session { id } } } }",
            json!({}),
        )
        .await;
    assert!(
        !mine.ok()["myReflectiveRegistrations"]["nodes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn generated_space_to_talk_slots_are_ep_time_and_stay_within_their_school() {
    use domain::entities::{
        space_to_talk_booking as stt_booking, space_to_talk_link, space_to_talk_run, space_to_talk_run_school,
        space_to_talk_slot,
    };
    use domain::model::{BookingKind, SpaceToTalkBookedVia, SpaceToTalkSlotStatus, SpaceToTalkStatus};
    let app = generated().await;
    let db = &app.services.db;
    let runs = space_to_talk_run::Entity::find().all(db).await.unwrap();
    let open_to = space_to_talk_run_school::Entity::find().all(db).await.unwrap();
    let slots: HashMap<_, _> = space_to_talk_slot::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let parents = stt_booking::Entity::find().all(db).await.unwrap();
    let links = space_to_talk_link::Entity::find().all(db).await.unwrap();
    let bookings: HashMap<_, _> = booking::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    assert!(runs.len() >= 10, "runs at a small scale: {}", runs.len());
    for status in [
        SpaceToTalkStatus::Booked,
        SpaceToTalkStatus::Attended,
        SpaceToTalkStatus::DidNotAttend,
        SpaceToTalkStatus::Cancelled,
        SpaceToTalkStatus::Moved,
    ] {
        assert!(parents.iter().any(|p| p.status == status), "no {status:?} booking");
    }
    assert!(
        runs.iter()
            .any(|r| r.school_id.is_none() && open_to.iter().filter(|o| o.run_id == r.id).count() > 1),
        "no run open to several schools"
    );
    for r in &runs {
        let schools: Vec<_> = open_to
            .iter()
            .filter(|o| o.run_id == r.id)
            .map(|o| o.school_id)
            .collect();
        assert!(!schools.is_empty());
        // A run for one school names it; a run for several names none.
        assert_eq!(r.school_id, (schools.len() == 1).then(|| schools[0]));
    }
    for via in [SpaceToTalkBookedVia::School, SpaceToTalkBookedVia::ParentLink] {
        assert!(parents.iter().any(|p| p.booked_via == via), "none booked via {via:?}");
    }
    // Every slot holds a Space to Talk booking of its EP's time, at its times, at no school
    // (the service's default: no draw-down), never cancelled while the slot is open.
    for s in slots.values() {
        let r = runs.iter().find(|r| r.id == s.run_id).expect("the slot's run");
        assert_eq!((s.service_id, s.ep_id), (r.service_id, r.ep_id));
        assert!(r.starts_at <= s.starts_at && s.ends_at <= r.ends_at);
        let b = &bookings[&s.booking_id.expect("a slot holds EP time")];
        assert_eq!(b.kind, BookingKind::SpaceToTalk);
        assert_eq!((b.ep_id, b.starts_at, b.ends_at), (s.ep_id, s.starts_at, s.ends_at));
        assert_eq!((b.service_id, b.school_id), (s.service_id, None));
        assert!(
            b.status.is_open() || b.status == BookingStatus::Delivered,
            "{:?}",
            b.status
        );
    }
    // Every parent's booking is in a slot of a run open to its school; one live booking per
    // slot, and a booked slot is marked so; a held session's EP time is delivered.
    let mut live = std::collections::HashSet::new();
    for p in &parents {
        let s = &slots[&p.slot_id];
        assert_eq!(
            (p.run_id, p.ep_id, p.starts_at, p.ends_at),
            (s.run_id, s.ep_id, s.starts_at, s.ends_at)
        );
        assert!(
            open_to
                .iter()
                .any(|o| o.run_id == p.run_id && o.school_id == p.school_id && o.service_id == p.service_id)
        );
        let held = &bookings[&s.booking_id.unwrap()];
        // A cancelled or moved booking keeps who and when, and holds its slot no more.
        if matches!(p.status, SpaceToTalkStatus::Cancelled | SpaceToTalkStatus::Moved) {
            assert!(p.cancelled_at.is_some() && p.cancelled_as.is_some());
            assert!(p.attendance_recorded_at.is_none() && p.manage_digest.is_none());
            if p.status == SpaceToTalkStatus::Moved {
                let to = parents
                    .iter()
                    .find(|q| Some(q.id) == p.moved_to_id)
                    .expect("the booking it moved to");
                assert_eq!(to.moved_from_id, Some(p.id));
                assert_eq!(
                    (to.school_id, to.display_name.as_str()),
                    (p.school_id, p.display_name.as_str())
                );
            }
            assert_eq!(p.booked_via == SpaceToTalkBookedVia::ParentLink, p.link_id.is_some());
            assert!(p.display_name.contains("fictional"));
            continue;
        }
        assert!(live.insert(p.slot_id), "two bookings in one slot");
        assert_eq!(s.status, SpaceToTalkSlotStatus::Booked);
        match p.status {
            SpaceToTalkStatus::Attended | SpaceToTalkStatus::DidNotAttend => {
                assert!(p.attendance_recorded_at.is_some());
                assert_eq!(held.status, BookingStatus::Delivered);
            }
            _ => assert!(p.attendance_recorded_at.is_none() && held.status.is_open()),
        }
        assert_eq!(p.booked_via == SpaceToTalkBookedVia::ParentLink, p.link_id.is_some());
        if let Some(l) = p.link_id {
            let link = links.iter().find(|k| k.id == l).expect("the link");
            assert_eq!(link.school_id, p.school_id);
        }
        assert!(p.display_name.contains("fictional"));
    }
    for s in slots.values().filter(|s| s.status == SpaceToTalkSlotStatus::Booked) {
        assert!(live.contains(&s.id), "a booked slot without a booking");
    }

    // Through the API: a SENCO sees their school's upcoming sessions only; another school's
    // SENCO cannot see them, even by id.
    let school_of = |token: String| {
        let app = &app;
        async move {
            let v = app
                .gql(&token, "{ schools(first: 1) { edges { node { id } } } }", json!({}))
                .await;
            (token, v.ok()["schools"]["edges"][0]["node"]["id"].clone())
        }
    };
    let (a, school_a) = school_of(app.sign_in(&generate::senco_email(0, 0), generate::PASSWORD).await).await;
    let (b, school_b) = school_of(app.sign_in(&generate::senco_email(0, 3), generate::PASSWORD).await).await;
    let upcoming = "query($s: ID) { upcomingSpaceToTalkSessions(schoolId: $s) { id schoolId status displayName } }";
    let mine = app.gql(&a, upcoming, json!({ "s": school_a })).await;
    let mine = mine.ok()["upcomingSpaceToTalkSessions"].as_array().unwrap().clone();
    assert!(!mine.is_empty(), "school 0 has sessions to come");
    assert!(
        mine.iter()
            .all(|n| n["schoolId"] == school_a && n["status"] == "BOOKED")
    );
    let theirs = app.gql(&b, upcoming, json!({ "s": null })).await;
    let theirs = theirs.ok()["upcomingSpaceToTalkSessions"].as_array().unwrap().clone();
    assert!(!theirs.is_empty());
    assert!(theirs.iter().all(|n| n["schoolId"] == school_b));
    let peek = app
        .gql(
            &b,
            "query($id: ID!) { spaceToTalkBooking(id: $id) { id } }",
            json!({ "id": mine[0]["id"] }),
        )
        .await;
    assert_eq!(peek.code(), Some("NOT_FOUND"), "{}", peek.body);
    let other = app.gql(&b, upcoming, json!({ "s": school_a })).await;
    let seen = other.data()["upcomingSpaceToTalkSessions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(seen.is_empty(), "another school's sessions: {}", other.body);

    // The generator knows each link's token: it opens the school's booking page.
    let page = app
        .client
        .get(app.url(&format!("/space-to-talk/{}", generate::space_to_talk_link_token(0, 0))))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(&generate::school_name(0, 0)), "{html}");
    let wrong = app
        .client
        .get(app.url(&format!("/space-to-talk/{}", generate::space_to_talk_link_token(0, 1))))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404, "school 1 has no link");
}

#[tokio::test]
async fn generated_semh_rounds_are_what_the_domain_would_have_written() {
    let app = generated().await;
    let senco = app.sign_in(&generate::senco_email(0, 0), generate::PASSWORD).await;
    let school = app
        .gql(&senco, "{ schools(first: 1) { edges { node { id } } } }", json!({}))
        .await
        .ok()["schools"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rounds = app
        .gql(
            &senco,
            "query($s: ID!) { semhRounds(schoolId: $s) { id status template { id starter sections { items { id } } } \
               results { respondents items { responses consensus } } actions { id status carriedFromId } } }",
            json!({ "s": school }),
        )
        .await;
    let list = rounds.ok()["semhRounds"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "two rounds at the first school: {}", rounds.body);
    let (review, first) = (&list[0], &list[1]);
    for r in [review, first] {
        assert_eq!(r["status"], "SUBMITTED");
        // The SENCO, the school's staff and two groups answered every item; each has a consensus.
        let people = generate::STAFF_PER_SCHOOL as i64 + 1 + 2;
        assert_eq!(r["results"]["respondents"], people, "{}", r["results"]);
        for item in r["results"]["items"].as_array().unwrap() {
            assert_eq!(item["responses"], people);
            assert!(item["consensus"].is_string());
        }
    }
    // The unfinished priorities were carried forward, and point at the ones they carry.
    let old: Vec<(&str, &str)> = first["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a["status"].as_str().unwrap()))
        .collect();
    let carried = review["actions"].as_array().unwrap();
    assert_eq!(carried.len(), 2);
    for a in carried {
        let from = a["carriedFromId"].as_str().unwrap();
        assert!(old.contains(&(from, "CARRIED_FORWARD")), "{a} from {old:?}");
    }
    assert_eq!(old.iter().filter(|(_, s)| *s == "DONE").count(), 1);
    // The administrator's picture holds every school's latest round.
    let admin = app.sign_in(&generate::admin_email(0), generate::PASSWORD).await;
    let pic = app
        .gql(
            &admin,
            "query($t: ID!) { semhServicePicture(templateId: $t) { groups { phase shown schools } } }",
            json!({ "t": first["template"]["id"] }),
        )
        .await;
    assert_eq!(
        pic.ok()["semhServicePicture"]["groups"][0]["schools"],
        SHAPE.schools as i64,
        "{}",
        pic.body
    );
}
