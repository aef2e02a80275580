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
