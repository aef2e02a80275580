//! Reflective-team sessions (issue 21): twenty people racing for the last three places, the
//! first waiter promoted by a cancellation, a cluster's charging split exactly across its
//! schools, roles, the presenter's next step, anonymous feedback once per attendee, what each
//! role sees (another school and another service: not found), and bad inputs answered with
//! userErrors and nothing written.

use chrono::Duration;
use domain::access::{Action, PartnerScope, Relation, Role, table_allows};
use futures_util::future::join_all;
use scps_tests::clock::{london, rfc};
use scps_tests::fixtures::{Fx, fixture_starting};
use scps_tests::{Account, Answer};
use serde_json::{Value, json};

const SESSION: &str = "id status capacity freePlaces registeredCount waitingCount cluster schoolIds charging sessionType { name } registrations { id personId status waitingPosition role attended nextStep }";

fn mutation(name: &str, input: &str, result: &str) -> String {
    format!("mutation($i: {input}!) {{ {name}(input: $i) {{ {result} userErrors {{ field message code }} }} }}")
}

async fn gql(fx: &Fx, token: &str, q: &str, v: Value) -> Answer {
    fx.app.gql(token, q, v).await
}

fn codes(a: &Answer, field: &str) -> Vec<String> {
    a.body["data"][field]["userErrors"]
        .as_array()
        .map(|v| v.iter().filter_map(|e| e["code"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn type_id(fx: &Fx, name: &str) -> String {
    let a = gql(
        fx,
        &fx.t.admin.token,
        "query($s: ID!) { reflectiveSessionTypes(serviceId: $s) { id name defaultMinutes defaultCapacity phases { name minutes } } }",
        json!({ "s": fx.t.service_id }),
    )
    .await;
    let types = a.ok()["reflectiveSessionTypes"].as_array().unwrap().clone();
    assert_eq!(types.len(), 4, "the usual four: {}", a.body);
    let rt = types
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name}: {}", a.body));
    let phase_minutes: i64 = rt["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["minutes"].as_i64().unwrap())
        .sum();
    assert_eq!(phase_minutes, rt["defaultMinutes"].as_i64().unwrap());
    rt["id"].as_str().unwrap().to_owned()
}

async fn schedule(fx: &Fx, token: &str, input: Value) -> Answer {
    gql(
        fx,
        token,
        &mutation(
            "scheduleReflectiveSession",
            "ScheduleReflectiveSessionInput",
            &format!("result {{ session {{ {SESSION} }} warnings }}"),
        ),
        json!({ "i": input }),
    )
    .await
}

fn scheduled(a: &Answer) -> Value {
    let s = &a.ok()["scheduleReflectiveSession"]["result"]["session"];
    assert!(s.is_object(), "scheduled: {}", a.body);
    s.clone()
}

async fn register(fx: &Fx, token: &str, session: &str, person: Option<&str>) -> Answer {
    gql(
        fx,
        token,
        &mutation(
            "registerForReflectiveSession",
            "RegisterForReflectiveSessionInput",
            "result { registration { id status waitingPosition personId } }",
        ),
        json!({ "i": { "sessionId": session, "personId": person } }),
    )
    .await
}

fn registration(a: &Answer) -> Value {
    let r = &a.ok()["registerForReflectiveSession"]["result"]["registration"];
    assert!(r.is_object(), "registered: {}", a.body);
    r.clone()
}

async fn session(fx: &Fx, token: &str, id: &str) -> Answer {
    gql(
        fx,
        token,
        &format!("query($id: ID!) {{ reflectiveSession(id: $id) {{ {SESSION} }} }}"),
        json!({ "id": id }),
    )
    .await
}

/// Tuesday of `week` at `hour`, London time.
fn at(fx: &Fx, week: i64, hour: u32) -> String {
    rfc(london(fx.week(week) + Duration::days(1), hour, 0))
}

async fn staff(fx: &Fx, n: usize) -> Vec<Account> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(
            fx.app
                .invite(
                    &fx.t.admin.token,
                    &fx.t.service_id,
                    &format!("refl-{i}-{}@test.invalid", fx.t.tag),
                    "SCHOOL_STAFF",
                    Some(&fx.t.school_a.id),
                )
                .await,
        );
    }
    out
}

#[tokio::test]
async fn twenty_race_for_the_last_three_places_and_a_cancellation_promotes_the_first_waiter() {
    let fx = fixture_starting(-4).await;
    let t = &fx.t;
    let rt = type_id(&fx, "Reflecting team").await;
    let s = scheduled(
        &schedule(
            &fx,
            &t.ep.token,
            json!({ "typeId": rt, "schoolIds": [t.school_a.id], "startsAt": at(&fx, 5, 10), "capacity": 5, "mode": "ONLINE" }),
        )
        .await,
    );
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(s["charging"], "ONE_SCHOOL", "one school's session is that school's");
    // Two places go first: the SENCO's own, and one she takes for a member of staff.
    assert_eq!(
        registration(&register(&fx, &t.senco_a.token, &id, None).await)["status"],
        "REGISTERED"
    );
    assert_eq!(
        registration(&register(&fx, &t.senco_a.token, &id, Some(&t.staff_a.person_id)).await)["status"],
        "REGISTERED"
    );
    let people = staff(&fx, 20).await;
    let answers = join_all(people.iter().map(|p| register(&fx, &p.token, &id, None))).await;
    let mut registered = 0;
    let mut positions = Vec::new();
    for a in &answers {
        let r = registration(a);
        match r["status"].as_str() {
            Some("REGISTERED") => registered += 1,
            Some("WAITING") => positions.push(r["waitingPosition"].as_i64().unwrap()),
            other => panic!("{other:?}: {}", a.body),
        }
    }
    assert_eq!(registered, 3, "exactly three get the last three places");
    positions.sort();
    assert_eq!(positions, (1..=17).collect::<Vec<i64>>(), "the rest wait, in order");
    let view = session(&fx, &t.ep.token, &id).await;
    let v = &view.ok()["reflectiveSession"];
    assert_eq!(v["registeredCount"], 5);
    assert_eq!(v["waitingCount"], 17);
    assert_eq!(v["freePlaces"], 0);
    // Full: not offered as a session with free places.
    let up = gql(
        &fx,
        &t.staff_a.token,
        "query($s: ID) { upcomingReflectiveSessions(schoolId: $s) { nodes { id } } }",
        json!({ "s": t.school_a.id }),
    )
    .await;
    assert!(
        up.ok()["upcomingReflectiveSessions"]["nodes"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        up.body
    );

    // A registered member of staff gives up their place: the first waiter gets it at once.
    let first_waiter = answers
        .iter()
        .map(registration)
        .find(|r| r["waitingPosition"] == 1)
        .unwrap();
    let leaver = answers
        .iter()
        .map(registration)
        .find(|r| r["status"] == "REGISTERED")
        .unwrap();
    let leaver_token = &people
        .iter()
        .find(|p| p.person_id == leaver["personId"].as_str().unwrap())
        .unwrap()
        .token;
    let c = gql(
        &fx,
        leaver_token,
        &mutation(
            "cancelReflectivePlace",
            "CancelReflectivePlaceInput",
            "result { registration { status } promoted { id status waitingPosition } session { freePlaces } }",
        ),
        json!({ "i": { "id": leaver["id"] } }),
    )
    .await;
    let res = &c.ok()["cancelReflectivePlace"]["result"];
    assert_eq!(res["registration"]["status"], "CANCELLED", "{}", c.body);
    assert_eq!(res["promoted"]["id"], first_waiter["id"]);
    assert_eq!(res["promoted"]["status"], "REGISTERED");
    assert_eq!(res["session"]["freePlaces"], 0);
    // Another member of staff (neither the leaver nor the promoted waiter) may not
    // cancel someone else's place.
    let stranger = &people
        .iter()
        .find(|p| {
            p.person_id != leaver["personId"].as_str().unwrap()
                && p.person_id != first_waiter["personId"].as_str().unwrap()
        })
        .unwrap()
        .token;
    let denied = gql(
        &fx,
        stranger,
        &mutation(
            "cancelReflectivePlace",
            "CancelReflectivePlaceInput",
            "result { registration { status } }",
        ),
        json!({ "i": { "id": first_waiter["id"] } }),
    )
    .await;
    assert_eq!(denied.code(), Some("FORBIDDEN"), "{}", denied.body);
    // My places: the promoted member of staff sees theirs, registered.
    let promoted_token = &people
        .iter()
        .find(|p| p.person_id == first_waiter["personId"].as_str().unwrap())
        .unwrap()
        .token;
    let mine = gql(
        &fx,
        promoted_token,
        "{ myReflectiveRegistrations { nodes { status session { id } } } }",
        json!({}),
    )
    .await;
    let mine = mine.ok()["myReflectiveRegistrations"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["status"], "REGISTERED");
    assert_eq!(mine[0]["session"]["id"], id.as_str());
}

/// DELIVERED minutes of a booking per school, read straight from the ledger.
#[allow(
    clippy::disallowed_methods,
    reason = "the test reads the ledger itself, to check what the API charged"
)]
async fn minutes_by_school(fx: &Fx, booking: &str) -> Vec<(String, i64)> {
    let (_, booking) = scps::graphql::ids::decode(booking).unwrap();
    let db = &fx.app.services.db;
    let rows = sea_orm::ConnectionTrait::query_all_raw(
        db,
        sea_orm::Statement::from_string(
            sea_orm::ConnectionTrait::get_database_backend(db),
            "SELECT booking_id, school_id, minutes FROM ledger_entries WHERE kind = 'DELIVERED'".to_owned(),
        ),
    )
    .await
    .unwrap();
    let mut out: Vec<(String, i64)> = Vec::new();
    for r in &rows {
        let b: Option<uuid::Uuid> = r.try_get("", "booking_id").unwrap();
        if b != Some(booking) {
            continue;
        }
        let school: Option<uuid::Uuid> = r.try_get("", "school_id").unwrap();
        let minutes: i32 = r.try_get("", "minutes").unwrap();
        let key = school.map(|u| u.to_string()).unwrap_or_default();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, m)) => *m += i64::from(minutes),
            None => out.push((key, i64::from(minutes))),
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_cluster_session_is_held_charged_split_exactly_with_roles_next_step_and_feedback() {
    let fx = fixture_starting(-4).await;
    let t = &fx.t;
    let school_c = fx
        .app
        .create_school(&t.admin.token, &t.service_id, "Third school", "123789")
        .await;
    let rt = type_id(&fx, "Reflecting team").await;
    let s = scheduled(
        &schedule(
            &fx,
            &t.admin.token,
            json!({ "typeId": rt, "schoolIds": [t.school_a.id, t.school_b.id, school_c.id], "startsAt": at(&fx, 3, 13),
                    "durationMinutes": 100, "facilitatorId": t.ep.person_id, "charging": "SPLIT_EVENLY",
                    "shortNoticeReason": "Recorded after the session", "mode": "IN_PERSON" }),
        )
        .await,
    );
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(s["cluster"], true);
    let presenter = registration(&register(&fx, &t.staff_a.token, &id, None).await);
    let other = registration(&register(&fx, &t.senco_b.token, &id, None).await);
    let role = gql(
        &fx,
        &t.ep.token,
        &mutation(
            "assignReflectiveRole",
            "AssignReflectiveRoleInput",
            "registration { role }",
        ),
        json!({ "i": { "id": presenter["id"], "role": "PRESENTER" } }),
    )
    .await;
    assert_eq!(
        role.ok()["assignReflectiveRole"]["registration"]["role"],
        "PRESENTER",
        "{}",
        role.body
    );
    // One presenter a session.
    let second = gql(
        &fx,
        &t.ep.token,
        &mutation(
            "assignReflectiveRole",
            "AssignReflectiveRoleInput",
            "registration { role }",
        ),
        json!({ "i": { "id": other["id"], "role": "PRESENTER" } }),
    )
    .await;
    assert_eq!(codes(&second, "assignReflectiveRole"), vec!["TAKEN"]);
    // Staff may not assign roles.
    let staff_role = gql(
        &fx,
        &t.staff_a.token,
        &mutation(
            "assignReflectiveRole",
            "AssignReflectiveRoleInput",
            "registration { role }",
        ),
        json!({ "i": { "id": other["id"], "role": "TIMEKEEPER" } }),
    )
    .await;
    assert!(
        matches!(staff_role.code(), Some("FORBIDDEN" | "NOT_FOUND")),
        "{}",
        staff_role.body
    );

    let hold = gql(
        &fx,
        &t.ep.token,
        &mutation(
            "holdReflectiveSession",
            "HoldReflectiveSessionInput",
            &format!("session {{ {SESSION} }}"),
        ),
        json!({ "i": { "id": id, "attended": [presenter["id"]] } }),
    )
    .await;
    let held = &hold.ok()["holdReflectiveSession"]["session"];
    assert_eq!(held["status"], "HELD", "{}", hold.body);
    let booking = s["id"].as_str().map(|_| ()).and(
        session(&fx, &t.admin.token, &id).await.ok()["reflectiveSession"]["id"]
            .as_str()
            .map(str::to_owned),
    );
    assert!(booking.is_some());
    let b = gql(
        &fx,
        &t.admin.token,
        "query($id: ID!) { reflectiveSession(id: $id) { bookingId } }",
        json!({ "id": id }),
    )
    .await;
    let booking_id = b.ok()["reflectiveSession"]["bookingId"].as_str().unwrap().to_owned();
    let shares = minutes_by_school(&fx, &booking_id).await;
    let mut expected = vec![
        (t.school_a.uuid.to_string(), 34),
        (t.school_b.uuid.to_string(), 33),
        (school_c.uuid.to_string(), 33),
    ];
    expected.sort();
    assert_eq!(shares, expected, "split evenly, largest remainder first");
    assert_eq!(
        shares.iter().map(|(_, m)| m).sum::<i64>(),
        100,
        "the shares are the facilitator's minutes"
    );

    // The presenter's next step: the presenter and facilitator see it; the SENCO and admin do not.
    let step = gql(
        &fx,
        &t.staff_a.token,
        &mutation(
            "recordReflectiveNextStep",
            "RecordReflectiveNextStepInput",
            "registration { nextStep }",
        ),
        json!({ "i": { "id": presenter["id"], "nextStep": "Try a visual timetable with the class" } }),
    )
    .await;
    assert_eq!(
        step.ok()["recordReflectiveNextStep"]["registration"]["nextStep"],
        "Try a visual timetable with the class"
    );
    for (who, sees) in [
        (&t.staff_a, true),
        (&t.ep, true),
        (&t.senco_a, false),
        (&t.admin, false),
    ] {
        let v = session(&fx, &who.token, &id).await;
        let regs = v.ok()["reflectiveSession"]["registrations"].as_array().unwrap().clone();
        let p = regs
            .iter()
            .find(|r| r["id"] == presenter["id"])
            .unwrap_or_else(|| panic!("{}", v.body));
        assert_eq!(p["nextStep"].is_string(), sees, "{}: {}", who.email, v.body);
    }

    // Feedback: once per attendee, stored without the person.
    let feedback = |token: String, rating: i64| {
        let fx = &fx;
        let id = id.clone();
        async move {
            gql(
                fx,
                &token,
                &mutation("giveReflectiveFeedback", "GiveReflectiveFeedbackInput", "given"),
                json!({ "i": { "sessionId": id, "rating": rating, "comment": "Useful" } }),
            )
            .await
        }
    };
    let bad = feedback(t.staff_a.token.clone(), 6).await;
    assert_eq!(codes(&bad, "giveReflectiveFeedback"), vec!["OUT_OF_RANGE"]);
    assert_eq!(fx.app.count("reflective_feedback").await, 0, "nothing written");
    let ok = feedback(t.staff_a.token.clone(), 4).await;
    assert_eq!(ok.ok()["giveReflectiveFeedback"]["given"], true, "{}", ok.body);
    let again = feedback(t.staff_a.token.clone(), 5).await;
    assert_eq!(codes(&again, "giveReflectiveFeedback"), vec!["INVALID_STATE"]);
    let absent = feedback(t.senco_b.token.clone(), 5).await;
    assert_eq!(codes(&absent, "giveReflectiveFeedback"), vec!["NOT_ALLOWED"]);
    assert_eq!(fx.app.count("reflective_feedback").await, 1);
    let columns = fx.app.texts("SELECT * FROM reflective_feedback").await;
    assert!(!columns.iter().any(|c| c.contains(&t.staff_a.person_id)));
    let summary = gql(
        &fx,
        &t.admin.token,
        "query($s: ID!) { reflectiveFeedbackSummary(serviceId: $s) { sessionType { name } responses averageRating ratings comments } }",
        json!({ "s": t.service_id }),
    )
    .await;
    let rows = summary.ok()["reflectiveFeedbackSummary"].as_array().unwrap().clone();
    let team = rows
        .iter()
        .find(|r| r["sessionType"]["name"] == "Reflecting team")
        .unwrap();
    assert_eq!(team["responses"], 1);
    assert_eq!(team["averageRating"], 4.0);
    assert_eq!(team["ratings"], json!([0, 0, 0, 1, 0]));
    let staff_summary = gql(
        &fx,
        &t.staff_a.token,
        "query($s: ID!) { reflectiveFeedbackSummary(serviceId: $s) { responses } }",
        json!({ "s": t.service_id }),
    )
    .await;
    assert_eq!(staff_summary.code(), Some("FORBIDDEN"), "{}", staff_summary.body);
}

#[tokio::test]
async fn each_role_sees_what_the_table_says_and_others_are_not_found() {
    let fx = fixture_starting(-4).await;
    let t = &fx.t;
    let rt = type_id(&fx, "Solution circle").await;
    let s = scheduled(
        &schedule(
            &fx,
            &t.ep.token,
            json!({ "typeId": rt, "schoolIds": [t.school_a.id], "startsAt": at(&fx, 5, 14) }),
        )
        .await,
    );
    let id = s["id"].as_str().unwrap().to_owned();
    registration(&register(&fx, &t.senco_a.token, &id, None).await);
    registration(&register(&fx, &t.staff_a.token, &id, None).await);
    let other = fx.app.tenant().await;
    let (partner, _, _) = fx.app.partner(t, &["BOOKINGS_READ"], None).await;
    let cases: Vec<(&str, &Account, Role, Relation, usize)> = vec![
        ("facilitator", &t.ep, Role::Psychologist, Relation::OwnCalendar, 2),
        ("admin", &t.admin, Role::ServiceAdmin, Relation::OwnSchool, 2),
        ("senco", &t.senco_a, Role::Senco, Relation::OwnSchool, 2),
        ("leader", &t.leader_a, Role::SchoolLeader, Relation::OwnSchool, 2),
        ("staff", &t.staff_a, Role::SchoolStaff, Relation::OwnSchool, 1),
        (
            "other school's senco",
            &t.senco_b,
            Role::Senco,
            Relation::OtherSchool,
            0,
        ),
        ("another EP", &t.other_ep, Role::Psychologist, Relation::OtherSchool, 0),
        (
            "another service",
            &other.admin,
            Role::ServiceAdmin,
            Relation::OtherService,
            0,
        ),
    ];
    for (name, who, role, relation, places) in cases {
        let sees = table_allows(role, &[], Action::ViewReflectiveSessions, relation);
        let a = session(&fx, &who.token, &id).await;
        if sees {
            let v = &a.ok()["reflectiveSession"];
            assert_eq!(v["freePlaces"], 6, "{name}: {}", a.body);
            assert_eq!(
                v["registrations"].as_array().unwrap().len(),
                places,
                "{name}: {}",
                a.body
            );
        } else {
            assert_eq!(a.code(), Some("NOT_FOUND"), "{name}: {}", a.body);
        }
    }
    // A partner client with bookings:read: times and free places only.
    assert!(table_allows(
        Role::PartnerClient,
        &[PartnerScope::BookingsRead],
        Action::ViewReflectiveSessions,
        Relation::OwnSchool
    ));
    let p = session(&fx, &partner.token, &id).await;
    let v = &p.ok()["reflectiveSession"];
    assert_eq!(v["freePlaces"], 6);
    assert!(v["startsAt"].is_null() || v["sessionType"].is_null());
    assert!(
        v["sessionType"].is_null() && v["registeredCount"].is_null(),
        "{}",
        p.body
    );
    assert_eq!(v["registrations"], json!([]));
    // Upcoming with free places for the school.
    let up = gql(
        &fx,
        &t.staff_a.token,
        "query($s: ID) { upcomingReflectiveSessions(schoolId: $s) { nodes { id freePlaces } } }",
        json!({ "s": t.school_a.id }),
    )
    .await;
    assert_eq!(up.ok()["upcomingReflectiveSessions"]["nodes"][0]["id"], id.as_str());
    let up_b = gql(
        &fx,
        &t.senco_b.token,
        "{ upcomingReflectiveSessions { nodes { id } } }",
        json!({}),
    )
    .await;
    assert!(
        up_b.ok()["upcomingReflectiveSessions"]["nodes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Another school's SENCO cannot take a place: not found.
    let r = register(&fx, &t.senco_b.token, &id, None).await;
    assert_eq!(r.code(), Some("NOT_FOUND"), "{}", r.body);
    // Nor can one SENCO register another school's staff.
    let r = register(&fx, &t.senco_b.token, &id, Some(&t.leader_a.person_id)).await;
    assert_eq!(r.code(), Some("NOT_FOUND"), "{}", r.body);
}

#[tokio::test]
async fn bad_inputs_are_user_errors_and_nothing_is_written() {
    let fx = fixture_starting(-4).await;
    let t = &fx.t;
    let rt = type_id(&fx, "ELSA supervision").await;
    let other = fx.app.tenant().await;
    let sessions = fx.app.count("reflective_sessions").await;
    let bookings = fx.app.count("bookings").await;
    let base = json!({ "typeId": rt, "schoolIds": [t.school_a.id], "startsAt": at(&fx, 5, 9) });
    for (change, code) in [
        (json!({ "capacity": 0 }), "OUT_OF_RANGE"),
        (json!({ "capacity": 31 }), "OUT_OF_RANGE"),
        (json!({ "schoolIds": [t.school_a.id, other.school_a.id] }), "NOT_FOUND"),
        (json!({ "schoolIds": [] }), "REQUIRED"),
        (
            json!({ "charging": "ONE_SCHOOL", "chargedSchoolId": t.school_b.id }),
            "INVALID",
        ),
    ] {
        let mut input = base.clone();
        for (k, v) in change.as_object().unwrap() {
            input[k] = v.clone();
        }
        let a = schedule(&fx, &t.ep.token, input).await;
        assert_eq!(
            codes(&a, "scheduleReflectiveSession"),
            vec![code],
            "{change}: {}",
            a.body
        );
    }
    assert_eq!(
        fx.app.count("reflective_sessions").await,
        sessions,
        "no session written"
    );
    assert_eq!(fx.app.count("bookings").await, bookings, "no booking written");
    let ty = gql(
        &fx,
        &t.admin.token,
        &mutation(
            "createReflectiveSessionType",
            "CreateReflectiveSessionTypeInput",
            "sessionType { id }",
        ),
        json!({ "i": { "serviceId": t.service_id, "name": "Network", "defaultMinutes": 60, "defaultCapacity": 40 } }),
    )
    .await;
    assert_eq!(codes(&ty, "createReflectiveSessionType"), vec!["OUT_OF_RANGE"]);
    let ok = gql(
        &fx,
        &t.admin.token,
        &mutation("createReflectiveSessionType", "CreateReflectiveSessionTypeInput", "sessionType { id name phases { minutes } }"),
        json!({ "i": { "serviceId": t.service_id, "name": "Network", "defaultMinutes": 60, "defaultCapacity": 10, "phases": [{ "name": "Round", "minutes": 60 }] } }),
    )
    .await;
    assert_eq!(
        ok.ok()["createReflectiveSessionType"]["sessionType"]["name"],
        "Network",
        "{}",
        ok.body
    );
    assert_eq!(
        fx.app.count("reflective_session_types").await,
        5,
        "the usual four and its own"
    );
}

/// The statuses of the reflective bookings (each test has a database of its own), sorted.
async fn reflective_bookings(fx: &Fx) -> Vec<String> {
    let mut v = fx
        .app
        .texts("SELECT status FROM bookings WHERE kind = 'REFLECTIVE_SESSION'")
        .await;
    v.sort();
    v
}

fn not_found_or_user_error(a: &Answer, field: &str) -> bool {
    a.code() == Some("NOT_FOUND") || codes(a, field).iter().any(|c| c == "NOT_FOUND")
}

const SERIES: &str = "mutation($i: ScheduleReflectiveSeriesInput!) { scheduleReflectiveSeries(input: $i) { result { sessions { id startsAt bookingId } skipped { date reason } warnings } userErrors { field message code } } }";

#[tokio::test]
async fn a_half_termly_series_is_made_in_one_go_skipping_closures_each_session_its_own_booking() {
    let fx = fixture_starting(2).await;
    let t = &fx.t;
    let rt = type_id(&fx, "ELSA supervision").await;
    // A closure on the day the second half-term's session would fall: it moves on a week.
    let closed = fx.week(3) + Duration::days(1);
    let c = gql(
        &fx,
        &t.admin.token,
        "mutation($i: AddClosureInput!) { addClosure(input: $i) { userErrors { field message } } }",
        json!({ "i": { "serviceId": t.service_id, "kind": "SCHOOL_CLOSURE", "schoolId": t.school_a.id,
                        "startsOn": scps_tests::fixtures::d(closed), "endsOn": scps_tests::fixtures::d(closed), "reason": "INSET day" } }),
    )
    .await;
    assert_eq!(c.ok()["addClosure"]["userErrors"], json!([]), "{}", c.body);
    let bookings = fx.app.count("bookings").await;
    let until = scps_tests::fixtures::d(fx.week(11) + Duration::days(4));
    let first = json!({ "typeId": rt, "schoolIds": [t.school_a.id, t.school_b.id], "startsAt": at(&fx, 0, 10), "mode": "ONLINE" });
    // Another service's administrator, and a SENCO, may not.
    let other = fx.app.tenant().await;
    for who in [&other.admin, &t.senco_b] {
        let a = gql(
            &fx,
            &who.token,
            SERIES,
            json!({ "i": { "first": first, "cadence": "HALF_TERMLY", "until": until } }),
        )
        .await;
        assert!(
            not_found_or_user_error(&a, "scheduleReflectiveSeries") || a.code() == Some("FORBIDDEN"),
            "{}: {}",
            who.email,
            a.body
        );
    }
    assert_eq!(fx.app.count("bookings").await, bookings, "nothing written");
    let a = gql(
        &fx,
        &t.ep.token,
        SERIES,
        json!({ "i": { "first": first, "cadence": "HALF_TERMLY", "until": until } }),
    )
    .await;
    let made = &a.ok()["scheduleReflectiveSeries"]["result"];
    let sessions = made["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", a.body))
        .clone();
    // Half 1, Half 2 (a week late, after the closure) and Term 2 (a term without halves).
    let instant = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    let starts: Vec<_> = sessions
        .iter()
        .map(|s| instant(s["startsAt"].as_str().unwrap()))
        .collect();
    assert_eq!(
        starts,
        vec![
            instant(&at(&fx, 0, 10)),
            instant(&at(&fx, 4, 10)),
            instant(&at(&fx, 7, 10))
        ],
        "{}",
        a.body
    );
    let skipped = made["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{}", a.body);
    assert_eq!(skipped[0]["date"], scps_tests::fixtures::d(closed));
    assert!(skipped[0]["reason"].as_str().unwrap().contains("closed"));
    let mut booking_ids: Vec<&str> = sessions.iter().map(|s| s["bookingId"].as_str().unwrap()).collect();
    booking_ids.dedup();
    assert_eq!(booking_ids.len(), 3, "each session its own booking");
    assert_eq!(fx.app.count("bookings").await, bookings + 3);
    // A first session in the half-term holiday is no start.
    let bad = gql(
        &fx,
        &t.ep.token,
        SERIES,
        json!({ "i": { "first": { "typeId": rt, "schoolIds": [t.school_a.id], "startsAt": at(&fx, 2, 10) }, "cadence": "HALF_TERMLY", "until": until } }),
    )
    .await;
    assert_eq!(
        codes(&bad, "scheduleReflectiveSeries"),
        vec!["INVALID_STATE"],
        "{}",
        bad.body
    );
    assert_eq!(fx.app.count("bookings").await, bookings + 3, "nothing more written");
}

const CHANGE: &str = "mutation($i: ChangeReflectiveSessionInput!) { changeReflectiveSession(input: $i) { result { session { id startsAt endsAt location bookingId } warnings } userErrors { field message code } } }";

#[tokio::test]
async fn a_second_facilitators_time_is_a_booking_and_both_move_when_the_session_changes() {
    let fx = fixture_starting(2).await;
    let t = &fx.t;
    let rt = type_id(&fx, "Reflecting team").await;
    let s = scheduled(
        &schedule(
            &fx,
            &t.admin.token,
            json!({ "typeId": rt, "schoolIds": [t.school_a.id], "startsAt": at(&fx, 4, 10), "mode": "IN_PERSON",
                    "location": "Staff room", "facilitatorId": t.ep.person_id, "coFacilitatorId": t.other_ep.person_id }),
        )
        .await,
    );
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(reflective_bookings(&fx).await, vec!["CONFIRMED", "CONFIRMED"]);
    // The second facilitator sees the whole session, places included, but may not change it.
    registration(&register(&fx, &t.staff_a.token, &id, None).await);
    let co = session(&fx, &t.other_ep.token, &id).await;
    assert_eq!(
        co.ok()["reflectiveSession"]["registrations"].as_array().map(Vec::len),
        Some(1),
        "{}",
        co.body
    );
    let co_moves = gql(
        &fx,
        &t.other_ep.token,
        CHANGE,
        json!({ "i": { "id": id, "startsAt": at(&fx, 4, 14) } }),
    )
    .await;
    assert!(
        co_moves.code().is_some() || !codes(&co_moves, "changeReflectiveSession").is_empty(),
        "{}",
        co_moves.body
    );
    assert_eq!(reflective_bookings(&fx).await, vec!["CONFIRMED", "CONFIRMED"]);
    // The second facilitator is now busy then: another session of theirs at that time is refused.
    let clash = schedule(
        &fx,
        &t.admin.token,
        json!({ "typeId": rt, "schoolIds": [t.school_b.id], "startsAt": at(&fx, 4, 11), "mode": "ONLINE", "facilitatorId": t.other_ep.person_id }),
    )
    .await;
    assert!(
        !codes(&clash, "scheduleReflectiveSession").is_empty() || clash.code() == Some("CONFLICT"),
        "{}",
        clash.body
    );
    let clash = schedule(
        &fx,
        &t.admin.token,
        json!({ "typeId": rt, "schoolIds": [t.school_b.id], "startsAt": at(&fx, 4, 11), "mode": "ONLINE",
                "facilitatorId": t.ep.person_id, "coFacilitatorId": t.other_ep.person_id }),
    )
    .await;
    assert!(
        !codes(&clash, "scheduleReflectiveSession").is_empty() || clash.code() == Some("CONFLICT"),
        "{}",
        clash.body
    );
    assert_eq!(reflective_bookings(&fx).await.len(), 2, "nothing written");

    // Out of reach: not found.
    let other = fx.app.tenant().await;
    for who in [&other.admin, &t.senco_b] {
        let a = gql(
            &fx,
            &who.token,
            CHANGE,
            json!({ "i": { "id": id, "startsAt": at(&fx, 4, 14) } }),
        )
        .await;
        assert_eq!(a.code(), Some("NOT_FOUND"), "{}: {}", who.email, a.body);
    }
    let staff = gql(
        &fx,
        &t.staff_a.token,
        CHANGE,
        json!({ "i": { "id": id, "startsAt": at(&fx, 4, 14) } }),
    )
    .await;
    assert!(
        matches!(staff.code(), Some("FORBIDDEN" | "NOT_FOUND")),
        "{}",
        staff.body
    );

    // A move onto the facilitator's other booking is refused, and nothing changes.
    let busy = gql(
        &fx,
        &t.admin.token,
        "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id } } userErrors { message } } }",
        json!({ "i": { "serviceId": t.service_id, "epId": t.ep.person_id, "kind": "TRAINING", "mode": "ONLINE",
                        "startsAt": at(&fx, 4, 14), "endsAt": at(&fx, 4, 15) } }),
    )
    .await;
    assert!(
        busy.ok()["createBooking"]["result"]["booking"]["id"].is_string(),
        "{}",
        busy.body
    );
    let refused = gql(
        &fx,
        &t.admin.token,
        CHANGE,
        json!({ "i": { "id": id, "startsAt": at(&fx, 4, 14) } }),
    )
    .await;
    assert!(
        !codes(&refused, "changeReflectiveSession").is_empty() || refused.code() == Some("CONFLICT"),
        "{}",
        refused.body
    );
    let same = session(&fx, &t.admin.token, &id).await;
    assert_eq!(reflective_bookings(&fx).await, vec!["CONFIRMED", "CONFIRMED"]);
    assert!(same.ok()["reflectiveSession"].is_object());

    // The administrator moves it: both bookings move, the old ones given up, in one go.
    let moved = gql(
        &fx,
        &t.admin.token,
        CHANGE,
        json!({ "i": { "id": id, "startsAt": at(&fx, 5, 13), "location": "Library" } }),
    )
    .await;
    let v = &moved.ok()["changeReflectiveSession"]["result"]["session"];
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(v["startsAt"].as_str().unwrap_or_else(|| panic!("{}", moved.body)))
            .unwrap(),
        chrono::DateTime::parse_from_rfc3339(&at(&fx, 5, 13)).unwrap()
    );
    assert_eq!(v["location"], "Library");
    assert_ne!(v["bookingId"], s["bookingId"]);
    let mut expected = vec!["CANCELLED", "CANCELLED", "CONFIRMED", "CONFIRMED"];
    expected.sort();
    assert_eq!(reflective_bookings(&fx).await, expected);
    // Cancelling the session gives up both facilitators' time.
    let c = gql(
        &fx,
        &t.admin.token,
        &mutation(
            "cancelReflectiveSession",
            "CancelReflectiveSessionInput",
            "session { status }",
        ),
        json!({ "i": { "id": id, "reason": "The schools asked to postpone" } }),
    )
    .await;
    assert_eq!(
        c.ok()["cancelReflectiveSession"]["session"]["status"],
        "CANCELLED",
        "{}",
        c.body
    );
    assert_eq!(reflective_bookings(&fx).await, vec!["CANCELLED"; 4]);
}

#[tokio::test]
async fn a_schools_presenter_history_and_participation_per_term_rotate_roles_fairly() {
    let fx = fixture_starting(-4).await;
    let t = &fx.t;
    let rt = type_id(&fx, "Reflecting team").await;
    let mut held = Vec::new();
    for (week, presenter) in [(0, &t.staff_a), (3, &t.staff_a)] {
        let s = scheduled(
            &schedule(
                &fx,
                &t.admin.token,
                json!({ "typeId": rt, "schoolIds": [t.school_a.id, t.school_b.id], "startsAt": at(&fx, week, 10), "facilitatorId": t.ep.person_id,
                        "shortNoticeReason": "Recorded after the session", "mode": "ONLINE" }),
            )
            .await,
        );
        let id = s["id"].as_str().unwrap().to_owned();
        let p = registration(&register(&fx, &presenter.token, &id, None).await);
        let r = registration(&register(&fx, &t.senco_a.token, &id, None).await);
        let b = registration(&register(&fx, &t.senco_b.token, &id, None).await);
        for (place, role) in [(&p, "PRESENTER"), (&r, "REFLECTOR"), (&b, "TIMEKEEPER")] {
            let a = gql(
                &fx,
                &t.admin.token,
                &mutation(
                    "assignReflectiveRole",
                    "AssignReflectiveRoleInput",
                    "registration { role }",
                ),
                json!({ "i": { "id": place["id"], "role": role } }),
            )
            .await;
            assert_eq!(
                a.ok()["assignReflectiveRole"]["registration"]["role"],
                role,
                "{}",
                a.body
            );
        }
        let h = gql(
            &fx,
            &t.admin.token,
            &mutation(
                "holdReflectiveSession",
                "HoldReflectiveSessionInput",
                "session { status }",
            ),
            json!({ "i": { "id": id, "attended": [p["id"], r["id"], b["id"]] } }),
        )
        .await;
        assert_eq!(
            h.ok()["holdReflectiveSession"]["session"]["status"],
            "HELD",
            "{}",
            h.body
        );
        held.push(id);
    }
    // A session still to come, with a place, counts as offered but not held.
    let later = scheduled(
        &schedule(
            &fx,
            &t.ep.token,
            json!({ "typeId": rt, "schoolIds": [t.school_a.id], "startsAt": at(&fx, 8, 10), "mode": "ONLINE" }),
        )
        .await,
    );
    registration(&register(&fx, &t.staff_a.token, later["id"].as_str().unwrap(), None).await);

    const ROLES: &str = "query($s: ID!) { reflectiveRoles(schoolId: $s) { personId sessions attended presented lastPresentedAt roles { role count } } }";
    let a = gql(&fx, &t.senco_a.token, ROLES, json!({ "s": t.school_a.id })).await;
    let rows = a.ok()["reflectiveRoles"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", a.body))
        .clone();
    // Only school A's people; the one who has presented least comes first.
    assert_eq!(rows.len(), 2, "{}", a.body);
    assert_eq!(rows[0]["personId"], t.senco_a.person_id.as_str());
    assert_eq!(rows[0]["presented"], 0);
    assert_eq!(rows[0]["roles"], json!([{ "role": "REFLECTOR", "count": 2 }]));
    assert_eq!(rows[1]["personId"], t.staff_a.person_id.as_str());
    assert_eq!(
        (rows[1]["presented"].as_i64(), rows[1]["attended"].as_i64()),
        (Some(2), Some(2))
    );
    assert!(rows[1]["lastPresentedAt"].is_string());

    const PART: &str = "query($s: ID!, $f: Date!, $t: Date!) { reflectiveParticipation(schoolId: $s, from: $f, to: $t) { term sessions held places waiting attended presenters } }";
    let range = json!({ "s": t.school_a.id, "f": scps_tests::fixtures::d(fx.week(0)), "t": scps_tests::fixtures::d(fx.week(11)) });
    let p = gql(&fx, &t.leader_a.token, PART, range.clone()).await;
    let terms = p.ok()["reflectiveParticipation"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", p.body))
        .clone();
    assert_eq!(terms.len(), 2, "{}", p.body);
    assert_eq!(
        terms[0],
        json!({ "term": "Term 1", "sessions": 2, "held": 2, "places": 4, "waiting": 0, "attended": 4, "presenters": 1 })
    );
    assert_eq!(
        terms[1],
        json!({ "term": "Term 2", "sessions": 1, "held": 0, "places": 1, "waiting": 0, "attended": 0, "presenters": 0 })
    );
    // Other school's SENCO and another service: not found; staff: forbidden.
    let other = fx.app.tenant().await;
    for who in [&t.senco_b, &other.admin] {
        let a = gql(&fx, &who.token, ROLES, json!({ "s": t.school_a.id })).await;
        assert_eq!(a.code(), Some("NOT_FOUND"), "{}: {}", who.email, a.body);
        let p = gql(&fx, &who.token, PART, range.clone()).await;
        assert_eq!(p.code(), Some("NOT_FOUND"), "{}: {}", who.email, p.body);
    }
    let staff = gql(&fx, &t.staff_a.token, ROLES, json!({ "s": t.school_a.id })).await;
    assert!(
        matches!(staff.code(), Some("FORBIDDEN" | "NOT_FOUND")),
        "{}",
        staff.body
    );
    // A person's places: their school's SENCO sees them (not the presenter's next step); another
    // school's SENCO and another service see none; staff may not look at others'.
    const PLACES: &str = "query($p: ID!) { reflectiveRegistrations(personId: $p, first: 10) { nodes { status role nextStep session { id status } } } }";
    let seen = gql(&fx, &t.senco_a.token, PLACES, json!({ "p": t.staff_a.person_id })).await;
    let nodes = seen.ok()["reflectiveRegistrations"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", seen.body))
        .clone();
    assert_eq!(nodes.len(), 3, "{}", seen.body);
    assert!(
        nodes
            .iter()
            .all(|n| n["session"]["id"].is_string() && n["nextStep"].is_null())
    );
    assert_eq!(nodes.iter().filter(|n| n["role"] == "PRESENTER").count(), 2);
    for who in [&t.senco_b, &other.admin] {
        let none = gql(&fx, &who.token, PLACES, json!({ "p": t.staff_a.person_id })).await;
        assert_eq!(
            none.ok()["reflectiveRegistrations"]["nodes"],
            json!([]),
            "{}: {}",
            who.email,
            none.body
        );
    }
    let staff_look = gql(&fx, &t.staff_a.token, PLACES, json!({ "p": t.senco_a.person_id })).await;
    assert_eq!(staff_look.code(), Some("FORBIDDEN"), "{}", staff_look.body);
    // School B's SENCO sees their own presenter history (their timekeeping).
    let b = gql(&fx, &t.senco_b.token, ROLES, json!({ "s": t.school_b.id })).await;
    assert_eq!(
        b.ok()["reflectiveRoles"][0]["roles"],
        json!([{ "role": "TIMEKEEPER", "count": 2 }])
    );
}

#[tokio::test]
async fn in_the_demo_a_cluster_session_fills_a_waiter_is_promoted_and_it_is_held_and_shared_out() {
    let app = scps_tests::TestApp::spawn().await;
    scps::demo::seed_into(&app.services).await.expect("the demo seeds");
    let admin = app
        .sign_in("dana.admin@eps.demo.invalid", scps::demo::DEMO_PASSWORD)
        .await;
    let held = app
        .texts("SELECT status FROM reflective_sessions WHERE status = 'HELD'")
        .await;
    assert_eq!(held.len(), 1, "one session held");
    let promoted = app
        .texts("SELECT action FROM audit_events WHERE action = 'reflective_place.promote'")
        .await;
    assert_eq!(promoted.len(), 1, "a cancellation promoted the first waiter");
    let waiting = app
        .texts("SELECT status FROM reflective_registrations WHERE status = 'WAITING'")
        .await;
    assert_eq!(waiting.len(), 1, "one still waits");
    let shares = app
        .texts("SELECT reason FROM ledger_entries WHERE reason = 'Share of a reflective session'")
        .await;
    assert_eq!(shares.len(), 3, "each of the three schools has its share");
    let service =
        app.gql(&admin, "{ viewer { services { id } } }", json!({})).await.ok()["viewer"]["services"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let summary = app
        .gql(
            &admin,
            "query($s: ID!) { reflectiveFeedbackSummary(serviceId: $s) { sessionType { name } responses } }",
            json!({ "s": service }),
        )
        .await;
    let team = summary.ok()["reflectiveFeedbackSummary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sessionType"]["name"] == "Reflecting team")
        .cloned()
        .unwrap();
    assert_eq!(team["responses"], 3, "{}", summary.body);
    let scheduled = app
        .texts("SELECT status FROM reflective_sessions WHERE status = 'SCHEDULED'")
        .await;
    assert!(scheduled.len() >= 2, "an ELSA series follows: {scheduled:?}");
}
