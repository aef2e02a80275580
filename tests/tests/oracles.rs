//! What a caller may not see must look exactly like what does not exist: the same status, the
//! same body, the same headers and the same number of SQL statements (a request's time follows
//! its statements; counts cannot flake as clocks can). Each test compares a real object out of
//! the caller's reach with a random id of the same type.

use scps::graphql::ids;
use scps_tests::clock::{london, monday_in, rfc};
use scps_tests::oracle::{random, same_as_missing};
use scps_tests::{Answer, Tenant, TestApp};
use serde_json::{Value, json};

const ROTATE: &str = "mutation($i: RotatePartnerClientSecretInput!) { rotatePartnerClientSecret(input: $i) { credentials { clientId } userErrors { message } } }";
const UPDATE_CLIENT: &str = "mutation($i: UpdatePartnerClientInput!) { updatePartnerClient(input: $i) { partnerClient { id } userErrors { message } } }";
const WITHDRAW: &str = "mutation($i: WithdrawCalendarExceptionInput!) { withdrawCalendarException(input: $i) { exception { id } userErrors { message } } }";
const REVOKE: &str =
    "mutation($i: RevokeMembershipInput!) { revokeMembership(input: $i) { membership { id } userErrors { message } } }";
const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";

async fn membership_of(app: &TestApp, token: &str) -> String {
    let a = app.gql(token, "{ viewer { memberships { id } } }", json!({})).await;
    a.ok()["viewer"]["memberships"][0]["id"]
        .as_str()
        .expect("a membership")
        .to_owned()
}

#[tokio::test]
async fn a_partner_client_cannot_tell_whether_another_partner_client_exists() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (probe, _, _) = app.partner(&t, &["SCHOOLS_READ"], None).await;
    let (other, _, _) = app.partner(&t, &["SCHOOLS_READ"], None).await;
    for query in [ROTATE, UPDATE_CLIENT] {
        let input = |id: &str| {
            if query == ROTATE {
                json!({ "i": { "id": id } })
            } else {
                json!({ "i": { "id": id, "name": "Renamed" } })
            }
        };
        same_as_missing(
            &app,
            &probe.token,
            query,
            input(&other.person_id),
            input(&random("PartnerClient")),
            Some("NOT_FOUND"),
        )
        .await;
    }
}

#[tokio::test]
async fn a_partner_clients_public_id_says_nothing_of_its_global_id() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (client, client_id, _) = app.partner(&t, &["SCHOOLS_READ"], None).await;
    let (_, uuid) = ids::decode(&client.person_id).expect("a global id");
    assert!(client_id.starts_with("pc_"), "{client_id}");
    assert!(
        !client_id.contains(&uuid.simple().to_string()),
        "the public client id {client_id} is the row's id"
    );
    assert!(
        !client_id.contains(&uuid.simple().to_string()[..12]),
        "the public client id {client_id} shares the row id's time prefix"
    );
}

#[tokio::test]
async fn a_senco_cannot_tell_an_eps_leave_from_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let ep_id = &t.ep.person_id;
    let day = monday_in(2);
    let a = app
        .gql(
            &t.admin.token,
            "mutation($i: AddCalendarExceptionInput!) { addCalendarException(input: $i) { exception { id } userErrors { message } } }",
            json!({ "i": { "serviceId": t.service_id, "epId": ep_id, "kind": "SICKNESS", "startsAt": rfc(london(day, 0, 0)), "endsAt": rfc(london(day + chrono::Duration::days(1), 0, 0)) } }),
        )
        .await;
    let exception = a.ok()["addCalendarException"]["exception"]["id"]
        .as_str()
        .expect("an exception")
        .to_owned();
    same_as_missing(
        &app,
        &t.senco_a.token,
        WITHDRAW,
        json!({ "i": { "id": exception } }),
        json!({ "i": { "id": random("CalendarException") } }),
        Some("NOT_FOUND"),
    )
    .await;
    same_as_missing(
        &app,
        &t.senco_a.token,
        NODE,
        json!({ "id": exception }),
        json!({ "id": random("CalendarException") }),
        None,
    )
    .await;
}

#[tokio::test]
async fn staff_and_partners_cannot_tell_a_membership_from_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (partner, _, _) = app.partner(&t, &["SCHOOLS_READ"], Some(vec![&t.school_a.id])).await;
    let senco_membership = membership_of(&app, &t.senco_a.token).await;
    for token in [&t.staff_a.token, &partner.token] {
        same_as_missing(
            &app,
            token,
            REVOKE,
            json!({ "i": { "id": senco_membership } }),
            json!({ "i": { "id": random("Membership") } }),
            Some("NOT_FOUND"),
        )
        .await;
    }
}

/// A statutory consultation of the other EP at school B, booked by the administrator: nothing
/// links the first EP to school B.
async fn booking_the_ep_cannot_see(app: &TestApp, t: &Tenant) -> String {
    let day = monday_in(2);
    let a = app
        .gql(
            &t.admin.token,
            "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id } } userErrors { field message } } }",
            json!({ "i": { "schoolId": t.school_b.id, "epId": t.other_ep.person_id, "kind": "CONSULTATION", "fundingStream": "STATUTORY", "startsAt": rfc(london(day, 10, 0)), "endsAt": rfc(london(day, 11, 0)) } }),
        )
        .await;
    a.ok()["createBooking"]["result"]["booking"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("booked: {}", a.body))
        .to_owned()
}

#[tokio::test]
async fn an_ep_asking_for_a_booking_they_cannot_see_costs_what_a_missing_one_costs() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let booking = booking_the_ep_cannot_see(&app, &t).await;
    // The other EP sees it: it is real.
    let seen = app.gql(&t.other_ep.token, NODE, json!({ "id": booking })).await;
    assert_eq!(seen.ok()["node"]["id"], booking.as_str());
    same_as_missing(
        &app,
        &t.ep.token,
        NODE,
        json!({ "id": booking }),
        json!({ "id": random("Booking") }),
        None,
    )
    .await;
    let nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    same_as_missing(
        &app,
        &t.ep.token,
        nodes,
        json!({ "ids": [booking] }),
        json!({ "ids": [random("Booking")] }),
        None,
    )
    .await;
}

/// The mutations that name a school, as a SENCO of school A sends them with `school`.
fn naming_a_school(t: &Tenant, school: &str, person: &str) -> Vec<(&'static str, String, Value)> {
    let day = monday_in(3).format("%Y-%m-%d").to_string();
    vec![
        (
            "addClosure",
            "mutation($i: AddClosureInput!) { addClosure(input: $i) { closure { id } userErrors { message } } }".into(),
            json!({ "i": { "serviceId": t.service_id, "schoolId": school, "kind": "SCHOOL_CLOSURE", "startsOn": day, "endsOn": day } }),
        ),
        (
            "adjustLedger",
            "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { entry { id } userErrors { message } } }".into(),
            json!({ "i": { "schoolId": school, "fundingStream": "TRADED", "minutes": 30, "appliesOn": day, "reason": "A correction" } }),
        ),
        (
            "createPartnerClient",
            "mutation($i: CreatePartnerClientInput!) { createPartnerClient(input: $i) { credentials { clientId } userErrors { message } } }".into(),
            json!({ "i": { "serviceId": t.service_id, "name": "A portal", "scopes": ["SCHOOLS_READ"], "schoolIds": [school] } }),
        ),
        (
            "grantMembership",
            "mutation($i: GrantMembershipInput!) { grantMembership(input: $i) { membership { id } userErrors { message } } }".into(),
            json!({ "i": { "personId": person, "serviceId": t.service_id, "role": "SCHOOL_STAFF", "schoolId": school } }),
        ),
        (
            "invitePerson",
            "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { invitation { code } userErrors { message } } }".into(),
            json!({ "i": { "serviceId": t.service_id, "email": format!("new-{}@test.invalid", t.tag), "displayName": "New person", "role": "SCHOOL_STAFF", "schoolId": school } }),
        ),
    ]
}

#[tokio::test]
async fn another_schools_id_is_not_found_and_ones_own_is_forbidden() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let other_service = app.tenant().await;
    let before = app.count("audit_events").await;
    for (school, expected) in [
        (t.school_b.id.clone(), "NOT_FOUND"),
        (other_service.school_a.id.clone(), "NOT_FOUND"),
        (random("School"), "NOT_FOUND"),
        (t.school_a.id.clone(), "FORBIDDEN"),
    ] {
        for (name, query, input) in naming_a_school(&t, &school, &t.staff_a.person_id) {
            let a = app.gql(&t.senco_a.token, &query, input).await;
            assert_eq!(a.code(), Some(expected), "{name} with {school}: {}", a.body);
        }
    }
    // Disabling names a person: one of another school is not found, one the SENCO works with
    // (their own school's staff) is forbidden.
    let disable = "mutation($i: SetPersonDisabledInput!) { setPersonDisabled(input: $i) { person { id } userErrors { message } } }";
    for (person, expected) in [
        (t.senco_b.person_id.clone(), "NOT_FOUND"),
        (random("Person"), "NOT_FOUND"),
        (t.staff_a.person_id.clone(), "FORBIDDEN"),
    ] {
        let a = app
            .gql(
                &t.senco_a.token,
                disable,
                json!({ "i": { "serviceId": t.service_id, "personId": person, "disabled": true } }),
            )
            .await;
        assert_eq!(a.code(), Some(expected), "setPersonDisabled of {person}: {}", a.body);
    }
    assert_eq!(app.count("audit_events").await, before, "nothing refused was written");
}

#[tokio::test]
async fn a_service_made_with_the_command_line_is_invisible_to_every_role_of_another() {
    let app = TestApp::spawn().await;
    let ours = app.tenant().await;
    let theirs = app
        .tenant_made_with_the_cli(env!("CARGO_BIN_EXE_scps-under-test"))
        .await;
    let listed = app
        .scps(env!("CARGO_BIN_EXE_scps-under-test"), &["service", "list"])
        .await;
    let listing = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert!(
        listing.contains(&ours.service_id) && listing.contains(&theirs.service_id),
        "{listing}"
    );
    assert!(listing.contains("2 schools"), "{listing}");
    let theirs_objects = [
        theirs.service_id.clone(),
        theirs.school_a.id.clone(),
        theirs.school_b.id.clone(),
        theirs.senco_a.person_id.clone(),
        theirs.ep.person_id.clone(),
    ];
    let (partner, _, _) = app.partner(&ours, &["SCHOOLS_READ", "BOOKINGS_READ"], None).await;
    for token in [
        &ours.admin.token,
        &ours.ep.token,
        &ours.senco_a.token,
        &ours.leader_a.token,
        &ours.staff_a.token,
        &partner.token,
    ] {
        for id in &theirs_objects {
            let a = app.gql(token, NODE, json!({ "id": id })).await;
            assert!(a.ok()["node"].is_null(), "{id} is visible: {}", a.body);
        }
        let a = app
            .gql(token, "{ schools(first: 100) { edges { node { id } } } }", json!({}))
            .await;
        let seen = a.body.to_string();
        for id in &theirs_objects {
            assert!(!seen.contains(id.as_str()), "{id} is listed: {seen}");
        }
    }
    // The new service works: its administrator sees its schools and only them.
    let a = app
        .gql(
            &theirs.admin.token,
            "{ schools(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let edges = a.ok()["schools"]["edges"].as_array().expect("edges").len();
    assert_eq!(edges, 2, "{}", a.body);
}

#[tokio::test]
async fn creating_a_service_twice_with_one_name_is_refused_and_bootstrap_wants_an_empty_database() {
    let app = TestApp::spawn().await;
    let ours = app.tenant().await;
    let name = app
        .gql(&ours.admin.token, "{ viewer { services { name } } }", json!({}))
        .await
        .ok()["viewer"]["services"][0]["name"]
        .as_str()
        .expect("a name")
        .to_owned();
    let bin = env!("CARGO_BIN_EXE_scps-under-test");
    let again = app
        .scps(
            bin,
            &[
                "service",
                "create",
                "--name",
                &name,
                "--admin-email",
                "someone@test.invalid",
                "--admin-name",
                "Someone",
            ],
        )
        .await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("another service"));
    let bootstrap = app
        .scps(
            bin,
            &[
                "bootstrap",
                "--name",
                "A second first service",
                "--admin-email",
                "someone@test.invalid",
                "--admin-name",
                "Someone",
            ],
        )
        .await;
    assert!(!bootstrap.status.success());
    assert!(String::from_utf8_lossy(&bootstrap.stderr).contains("scps service create"));
}

/// The statements a request cost, as the server counted them.
fn statements(a: &Answer) -> i64 {
    a.headers["x-sql-statements"]
        .to_str()
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a statement count: {:?}", a.headers))
}

#[tokio::test]
async fn an_eps_reach_is_looked_up_once_per_request_however_many_doors_it_opens() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let day = monday_in(2);
    let mut ids = Vec::new();
    for hour in [9, 11, 14] {
        let a = app
            .gql(
                &t.admin.token,
                "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id } } userErrors { field message } } }",
                json!({ "i": { "schoolId": t.school_b.id, "epId": t.ep.person_id, "kind": "CONSULTATION", "fundingStream": "STATUTORY", "startsAt": rfc(london(day, hour, 0)), "endsAt": rfc(london(day, hour + 1, 0)) } }),
            )
            .await;
        ids.push(
            a.ok()["createBooking"]["result"]["booking"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("booked: {}", a.body))
                .to_owned(),
        );
    }
    let one = "query($a: ID!) { a: node(id: $a) { id } }";
    let three =
        "query($a: ID!, $b: ID!, $c: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } c: node(id: $c) { id } }";
    let vars = json!({ "a": ids[0], "b": ids[1], "c": ids[2] });
    for query in [one, three] {
        let mut cost = Vec::new();
        for account in [&t.admin, &t.ep] {
            app.gql(&account.token, query, vars.clone()).await;
            let a = app.gql(&account.token, query, vars.clone()).await;
            assert_eq!(a.ok()["a"]["id"], ids[0].as_str(), "each sees the booking: {}", a.body);
            cost.push(statements(&a));
        }
        // Each node opens a door; the EP's linked schools (two statements) are looked up once.
        assert_eq!(cost[1] - cost[0], 2, "{query}: admin {} and EP {}", cost[0], cost[1]);
    }
}
