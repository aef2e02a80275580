//! One balance everywhere, as a property (issue 17): on the demo's data, after any generated
//! sequence of bookings (by the administrator and by SENCOs), cancellations (on behalf of the
//! school, the service or the EP, some late), reschedules and ledger adjustments (either sign,
//! with and without a named contract), every demo contract's `balance`, its school's `balance`
//! and the academic year's `timeSummary` (the year's row and its periods summed) agree.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use scps_tests::clock::{london, monday_in, rfc};
use scps_tests::{Answer, TestApp};
use serde_json::{Value, json};

const PASSWORD: &str = scps::demo::DEMO_PASSWORD;
const BOOK: &str = "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id } } userErrors { field message code } } }";
const CANCEL: &str = "mutation($i: CancelBookingInput!) { cancelBooking(input: $i) { result { chargedMinutes } userErrors { field message code } } }";
const RESCHEDULE: &str = "mutation($i: RescheduleBookingInput!) { rescheduleBooking(input: $i) { result { booking { id } } userErrors { field message code } } }";
const ADJUST: &str =
    "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { entry { id } userErrors { field message code } } }";
const FIGURES: [&str; 4] = ["purchasedMinutes", "usedMinutes", "adjustedMinutes", "remainingMinutes"];
const BALANCE_FIELDS: &str = "purchasedMinutes usedMinutes adjustedMinutes remainingMinutes";

/// One change a person could make, with indices resolved against the demo at run time.
#[derive(Debug, Clone)]
enum Action {
    AdminBook {
        school: usize,
        week: i64,
        weekday: i64,
        half_hour: u32,
        minutes: i64,
        preparation: i64,
    },
    SencoBook {
        senco: usize,
        week: i64,
        weekday: i64,
        half_hour: u32,
    },
    /// `whom`: 0 to 2 an administrator for the school, the service or the EP; 3 the SENCO.
    Cancel { pick: usize, whom: usize },
    Reschedule {
        pick: usize,
        week: i64,
        weekday: i64,
        half_hour: u32,
    },
    Adjust {
        school: usize,
        minutes: i64,
        named: bool,
        core: bool,
        day: i64,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0usize..12, 1i64..8, 0i64..5, 0u32..14, 1i64..5, 0i64..4).prop_map(
            |(school, week, weekday, half_hour, q, p)| Action::AdminBook {
                school, week, weekday, half_hour, minutes: 15 * q, preparation: 10 * p
            }
        ),
        2 => (0usize..3, 1i64..8, 0i64..5, 0u32..14).prop_map(|(senco, week, weekday, half_hour)| {
            Action::SencoBook { senco, week, weekday, half_hour }
        }),
        3 => (any::<usize>(), 0usize..4).prop_map(|(pick, whom)| Action::Cancel { pick, whom }),
        1 => (any::<usize>(), 1i64..8, 0i64..5, 0u32..14).prop_map(|(pick, week, weekday, half_hour)| {
            Action::Reschedule { pick, week, weekday, half_hour }
        }),
        2 => (0usize..12, -90i64..90, any::<bool>(), any::<bool>(), 0i64..360).prop_map(
            |(school, minutes, named, core, day)| Action::Adjust {
                school, minutes: if minutes == 0 { 30 } else { minutes }, named, core, day
            }
        ),
    ]
}

/// A demo school as the administrator sees it.
#[derive(Debug, Clone)]
struct School {
    id: String,
    /// (contract id, funding stream, link EP id)
    contracts: Vec<(String, String, String)>,
}

impl School {
    fn contract(&self, stream: &str) -> Option<&(String, String, String)> {
        self.contracts.iter().find(|c| c.1 == stream)
    }
}

struct Demo {
    app: TestApp,
    admin: String,
    service: String,
    year: String,
    year_starts: NaiveDate,
    schools: Vec<School>,
    /// (token, school index) for each SENCO membership: Sam at Ashgrove, Jo at two schools.
    sencos: Vec<(String, usize)>,
}

async fn demo() -> Demo {
    let app = TestApp::spawn().await;
    scps::demo::seed_into(&app.services).await.expect("the demo seeds");
    let admin = app.sign_in("dana.admin@eps.demo.invalid", PASSWORD).await;
    let service =
        app.gql(&admin, "{ viewer { services { id } } }", json!({})).await.ok()["viewer"]["services"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let years = app
        .gql(
            &admin,
            "query($id: ID!) { service(id: $id) { academicYears { id startsOn } } }",
            json!({ "id": service }),
        )
        .await;
    let year = years.ok()["service"]["academicYears"][0].clone();
    let list = app
        .gql(
            &admin,
            "{ schools(first: 50) { edges { node { id name contracts(first: 10) { nodes { id fundingStream linkEpId } } } } } }",
            json!({}),
        )
        .await;
    let mut schools: Vec<(String, School)> = list.ok()["schools"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            let contracts = n["contracts"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap().to_owned(),
                        c["fundingStream"].as_str().unwrap().to_owned(),
                        c["linkEpId"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            (
                n["name"].as_str().unwrap().to_owned(),
                School {
                    id: n["id"].as_str().unwrap().to_owned(),
                    contracts,
                },
            )
        })
        .collect();
    schools.sort_by(|a, b| a.0.cmp(&b.0));
    let schools: Vec<School> = schools.into_iter().map(|(_, s)| s).collect();
    assert_eq!(schools.len(), 12, "the demo's twelve schools");
    let sam = app.sign_in("sam.patel@ashgrove.demo.invalid", PASSWORD).await;
    let jo = app.sign_in("jo.brennan@schools.demo.invalid", PASSWORD).await;
    // Schools sort by name as the demo lists them: Ashgrove, Birchfield, ..., Foxhollow (sixth).
    let sencos = vec![(sam, 0), (jo.clone(), 1), (jo, 5)];
    // Cancelling within four weeks (the longest notice allowed) is late: about half the
    // generated cancellations are.
    let settings = app
        .gql(
            &admin,
            "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { cancellationNoticeHours } userErrors { message } } }",
            json!({ "i": { "serviceId": service, "cancellationNoticeHours": 24 * 28, "lateCancellationChargePercent": 50, "termTimePolicy": "ALLOW" } }),
        )
        .await;
    assert_eq!(
        settings.ok()["updateTimeSettings"]["timeSettings"]["cancellationNoticeHours"],
        24 * 28,
        "{}",
        settings.body
    );
    Demo {
        app,
        admin,
        service,
        year: year["id"].as_str().unwrap().to_owned(),
        year_starts: year["startsOn"].as_str().unwrap().parse().unwrap(),
        schools,
        sencos,
    }
}

/// What a successful mutation returned at `path` (under `data.<field>`), if it succeeded.
fn made<'a>(a: &'a Answer, field: &str, path: &[&str]) -> Option<&'a Value> {
    if a.body.get("errors").is_some() {
        return None;
    }
    let mut v = &a.body["data"][field];
    for p in path {
        v = &v[*p];
    }
    (!v.is_null()).then_some(v)
}

#[derive(Default)]
struct Tally {
    tried: AtomicUsize,
    succeeded: AtomicUsize,
    admin_booked: AtomicUsize,
    senco_booked: AtomicUsize,
    cancelled: AtomicUsize,
    late_charged: AtomicUsize,
    rescheduled: AtomicUsize,
    adjusted: AtomicUsize,
    adjusted_without_contract: AtomicUsize,
    cases_that_moved_balances: AtomicUsize,
}

fn count(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn at(week: i64, weekday: i64, half_hour: u32) -> chrono::DateTime<chrono::Utc> {
    london(
        monday_in(week) + Duration::days(weekday),
        9 + half_hour / 2,
        30 * (half_hour % 2),
    )
}

/// Applies one action; whether it was accepted.
async fn apply(demo: &Demo, open: &mut Vec<(String, Option<usize>)>, action: &Action, tally: &Tally) -> bool {
    let app = &demo.app;
    match action {
        Action::AdminBook {
            school,
            week,
            weekday,
            half_hour,
            minutes,
            preparation,
        } => {
            let s = &demo.schools[*school];
            let Some((_, _, ep)) = s.contract("TRADED") else {
                return false;
            };
            let start = at(*week, *weekday, *half_hour);
            let a = app
                .gql(
                    &demo.admin,
                    BOOK,
                    json!({ "i": { "schoolId": s.id, "epId": ep, "kind": "CONSULTATION", "startsAt": rfc(start), "endsAt": rfc(start + Duration::minutes(*minutes)), "preparationMinutes": preparation } }),
                )
                .await;
            let Some(id) = made(&a, "createBooking", &["result", "booking", "id"]) else {
                return false;
            };
            open.push((id.as_str().unwrap().to_owned(), None));
            count(&tally.admin_booked);
            true
        }
        Action::SencoBook {
            senco,
            week,
            weekday,
            half_hour,
        } => {
            let (token, school) = &demo.sencos[*senco];
            let s = &demo.schools[*school];
            let Some((_, _, ep)) = s.contract("TRADED") else {
                return false;
            };
            let start = at(*week, *weekday, *half_hour);
            let a = app
                .gql(
                    token,
                    BOOK,
                    json!({ "i": { "schoolId": s.id, "epId": ep, "kind": "CONSULTATION", "startsAt": rfc(start), "endsAt": rfc(start + Duration::minutes(60)) } }),
                )
                .await;
            let Some(id) = made(&a, "createBooking", &["result", "booking", "id"]) else {
                return false;
            };
            open.push((id.as_str().unwrap().to_owned(), Some(*senco)));
            count(&tally.senco_booked);
            true
        }
        Action::Cancel { pick, whom } => {
            if open.is_empty() {
                return false;
            }
            let (id, senco) = open[pick % open.len()].clone();
            let (token, input) = match (whom, senco) {
                (3, Some(s)) => (
                    demo.sencos[s].0.clone(),
                    json!({ "id": id, "reason": "Not needed now" }),
                ),
                _ => {
                    let for_whom = ["SCHOOL", "SERVICE", "EP", "SCHOOL"][*whom];
                    (
                        demo.admin.clone(),
                        json!({ "id": id, "reason": "Generated", "cancelledFor": for_whom }),
                    )
                }
            };
            let a = app.gql(&token, CANCEL, json!({ "i": input })).await;
            let Some(result) = made(&a, "cancelBooking", &["result"]) else {
                return false;
            };
            if result["chargedMinutes"].as_i64().unwrap_or(0) > 0 {
                count(&tally.late_charged);
            }
            open.retain(|(o, _)| *o != id);
            count(&tally.cancelled);
            true
        }
        Action::Reschedule {
            pick,
            week,
            weekday,
            half_hour,
        } => {
            if open.is_empty() {
                return false;
            }
            let index = pick % open.len();
            let start = at(*week, *weekday, *half_hour);
            let a = app
                .gql(
                    &demo.admin,
                    RESCHEDULE,
                    json!({ "i": { "id": open[index].0, "startsAt": rfc(start), "endsAt": rfc(start + Duration::minutes(45)), "reason": "Moved" } }),
                )
                .await;
            let Some(id) = made(&a, "rescheduleBooking", &["result", "booking", "id"]) else {
                return false;
            };
            open[index].0 = id.as_str().unwrap().to_owned();
            count(&tally.rescheduled);
            true
        }
        Action::Adjust {
            school,
            minutes,
            named,
            core,
            day,
        } => {
            let s = &demo.schools[*school];
            let stream = if *core && s.contract("CORE").is_some() {
                "CORE"
            } else {
                "TRADED"
            };
            let mut input = json!({ "schoolId": s.id, "fundingStream": stream, "minutes": minutes, "appliesOn": (demo.year_starts + Duration::days(*day)).to_string(), "reason": "Generated correction" });
            if *named && let Some((contract, _, _)) = s.contract(stream) {
                input["contractId"] = json!(contract);
            }
            let a = app.gql(&demo.admin, ADJUST, json!({ "i": input })).await;
            if made(&a, "adjustLedger", &["entry", "id"]).is_none() {
                return false;
            }
            count(&tally.adjusted);
            if !*named {
                count(&tally.adjusted_without_contract);
            }
            true
        }
    }
}

/// The same four figures wherever a contract's balance is shown. Returns how many contracts were
/// checked and what they have left in all.
async fn check_one_balance_everywhere(demo: &Demo) -> Result<(usize, i64), TestCaseError> {
    let app = &demo.app;
    let summary = app
        .gql(
            &demo.admin,
            &format!("query($i: TimeSummaryInput!) {{ timeSummary(input: $i) {{ schools {{ school {{ id }} streams {{ fundingStream balance {{ {BALANCE_FIELDS} }} byPeriod {{ {BALANCE_FIELDS} }} }} }} }} }}"),
            json!({ "i": { "serviceId": demo.service, "academicYearId": demo.year } }),
        )
        .await;
    let rows = summary.ok()["timeSummary"]["schools"].as_array().unwrap().clone();
    let (mut checked, mut left) = (0, 0);
    for school in &demo.schools {
        let node = app
            .gql(
                &demo.admin,
                &format!("query($id: ID!) {{ node(id: $id) {{ ... on School {{ balance {{ fundingStream contracts {{ id }} balance {{ {BALANCE_FIELDS} }} }} contracts(first: 10) {{ nodes {{ id fundingStream balance {{ {BALANCE_FIELDS} }} }} }} }} }} }}"),
                json!({ "id": school.id }),
            )
            .await;
        let node = node.ok()["node"].clone();
        let row = rows
            .iter()
            .find(|r| r["school"]["id"] == school.id.as_str())
            .ok_or_else(|| TestCaseError::fail(format!("no summary row for {}", school.id)))?;
        for contract in node["contracts"]["nodes"].as_array().unwrap() {
            let stream = contract["fundingStream"].as_str().unwrap();
            let c = &contract["balance"];
            let mine = node["balance"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["fundingStream"] == stream)
                .ok_or_else(|| TestCaseError::fail(format!("no school balance for {stream}: {node}")))?;
            prop_assert_eq!(
                &mine["contracts"],
                &json!([{ "id": contract["id"] }]),
                "one contract per stream in the demo"
            );
            let streams = row["streams"].as_array().unwrap();
            let summed = streams
                .iter()
                .find(|s| s["fundingStream"] == stream)
                .ok_or_else(|| TestCaseError::fail(format!("no summary stream {stream}: {row}")))?;
            for figure in FIGURES {
                prop_assert_eq!(&c[figure], &mine["balance"][figure], "contract and school: {}", figure);
                prop_assert_eq!(
                    &c[figure],
                    &summed["balance"][figure],
                    "contract and summary: {}",
                    figure
                );
                let by_period: i64 = summed["byPeriod"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p[figure].as_i64().unwrap())
                    .sum();
                prop_assert_eq!(
                    c[figure].as_i64(),
                    Some(by_period),
                    "contract and the periods: {}",
                    figure
                );
            }
            checked += 1;
            left += c["remainingMinutes"].as_i64().unwrap_or_default();
        }
    }
    Ok((checked, left))
}

#[test]
fn every_demo_contract_agrees_with_its_school_and_the_summary_after_any_sequence_of_changes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tally = Tally::default();
    let config = ProptestConfig {
        cases: 6,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(&prop::collection::vec(action(), 8..18), |actions| {
            rt.block_on(async {
                // A fresh demo for each case, so that no case sees another's changes.
                let demo = demo().await;
                let (checked, before) = check_one_balance_everywhere(&demo).await?;
                prop_assert_eq!(checked, 16, "twelve traded contracts and four core ones");
                let mut open = Vec::new();
                for a in &actions {
                    count(&tally.tried);
                    if apply(&demo, &mut open, a, &tally).await {
                        count(&tally.succeeded);
                    }
                }
                let (checked, after) = check_one_balance_everywhere(&demo).await?;
                prop_assert_eq!(checked, 16);
                if after != before {
                    // The figures agree because they moved together, not because none moved.
                    count(&tally.cases_that_moved_balances);
                }
                Ok(())
            })
        })
        .unwrap();
    let get = |c: &AtomicUsize| c.load(Ordering::Relaxed);
    let (tried, succeeded) = (get(&tally.tried), get(&tally.succeeded));
    eprintln!(
        "{succeeded} of {tried} actions succeeded: {} admin bookings, {} SENCO bookings, {} cancellations ({} charged), {} reschedules, {} adjustments ({} without a contract)",
        get(&tally.admin_booked),
        get(&tally.senco_booked),
        get(&tally.cancelled),
        get(&tally.late_charged),
        get(&tally.rescheduled),
        get(&tally.adjusted),
        get(&tally.adjusted_without_contract),
    );
    assert!(
        succeeded * 2 >= tried,
        "most generated actions should be accepted: {succeeded} of {tried}"
    );
    for (what, counter) in [
        ("admin booking", &tally.admin_booked),
        ("SENCO booking", &tally.senco_booked),
        ("cancellation", &tally.cancelled),
        ("charged late cancellation", &tally.late_charged),
        ("reschedule", &tally.rescheduled),
        ("adjustment", &tally.adjusted),
        ("adjustment without a contract", &tally.adjusted_without_contract),
        (
            "case that changed what schools have left",
            &tally.cases_that_moved_balances,
        ),
    ] {
        assert!(get(counter) > 0, "no {what} was accepted");
    }
}
