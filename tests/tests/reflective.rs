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
        "query($s: ID) { upcomingReflectiveSessions(schoolId: $s) { id } }",
        json!({ "s": t.school_a.id }),
    )
    .await;
    assert!(
        up.ok()["upcomingReflectiveSessions"].as_array().unwrap().is_empty(),
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
        "{ myReflectiveRegistrations { status session { id } } }",
        json!({}),
    )
    .await;
    let mine = mine.ok()["myReflectiveRegistrations"].as_array().unwrap().clone();
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
        "query($s: ID) { upcomingReflectiveSessions(schoolId: $s) { id freePlaces } }",
        json!({ "s": t.school_a.id }),
    )
    .await;
    assert_eq!(up.ok()["upcomingReflectiveSessions"][0]["id"], id.as_str());
    let up_b = gql(
        &fx,
        &t.senco_b.token,
        "{ upcomingReflectiveSessions { id } }",
        json!({}),
    )
    .await;
    assert!(up_b.ok()["upcomingReflectiveSessions"].as_array().unwrap().is_empty());
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
