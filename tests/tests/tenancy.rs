//! Tenancy from outside: who may see and change services, schools, people, memberships, partner
//! clients and the audit log (a matrix read from `domain::access::RULES`), global ids across
//! tenants, refused input, memberships over time, and the audit trail of every change.

use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::access::{Action, PartnerScope, Relation, Role, table_allows};
use scps_tests::matrix::{Expect, Seen, can, checked, judge, seen};
use scps_tests::{Account, Answer, SchoolFx, Tenant, TestApp};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The callers and the places of the matrix
// ---------------------------------------------------------------------------------------------

/// Everyone the matrix asks on behalf of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Admin,
    Ep,
    SencoA,
    SencoB,
    LeaderA,
    StaffA,
    /// A partner client limited to school A, with every scope.
    PartnerA,
    /// A partner client of the whole service with every scope but SCHOOLS_READ.
    PartnerNoRead,
    /// The administrator of another tenant on the same server.
    OtherAdmin,
}

const EVERYONE: &[Who] = &[
    Who::Admin,
    Who::Ep,
    Who::SencoA,
    Who::SencoB,
    Who::LeaderA,
    Who::StaffA,
    Who::PartnerA,
    Who::PartnerNoRead,
    Who::OtherAdmin,
];

/// Which tenant something belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Svc {
    Ours,
    Theirs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sch {
    A,
    B,
}

/// Where a target lives: a service, and one of its two fixture schools or none (something of
/// the service as a whole).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Place {
    svc: Svc,
    school: Option<Sch>,
}

impl Place {
    const fn service(svc: Svc) -> Self {
        Self { svc, school: None }
    }
    const fn school(svc: Svc, school: Sch) -> Self {
        Self {
            svc,
            school: Some(school),
        }
    }
}

const NO_READ_SCOPES: &[PartnerScope] = &[
    PartnerScope::BookingsRead,
    PartnerScope::BookingsWrite,
    PartnerScope::AvailabilityRead,
];

impl Who {
    fn label(self) -> &'static str {
        match self {
            Who::Admin => "the_service_admin",
            Who::Ep => "an_ep",
            Who::SencoA => "a_senco",
            Who::SencoB => "the_other_schools_senco",
            Who::LeaderA => "a_school_leader",
            Who::StaffA => "school_staff",
            Who::PartnerA => "a_partner_limited_to_school_a",
            Who::PartnerNoRead => "a_partner_without_schools_read",
            Who::OtherAdmin => "another_services_admin",
        }
    }

    fn role(self) -> Role {
        match self {
            Who::Admin | Who::OtherAdmin => Role::ServiceAdmin,
            Who::Ep => Role::Psychologist,
            Who::SencoA | Who::SencoB => Role::Senco,
            Who::LeaderA => Role::SchoolLeader,
            Who::StaffA => Role::SchoolStaff,
            Who::PartnerA | Who::PartnerNoRead => Role::PartnerClient,
        }
    }

    fn scopes(self) -> &'static [PartnerScope] {
        match self {
            Who::PartnerA => PartnerScope::ALL,
            Who::PartnerNoRead => NO_READ_SCOPES,
            _ => &[],
        }
    }

    fn service(self) -> Svc {
        if self == Who::OtherAdmin {
            Svc::Theirs
        } else {
            Svc::Ours
        }
    }

    /// The one school the caller is held to, if any.
    fn school(self) -> Option<Sch> {
        match self {
            Who::SencoA | Who::LeaderA | Who::StaffA | Who::PartnerA => Some(Sch::A),
            Who::SencoB => Some(Sch::B),
            Who::Admin | Who::Ep | Who::PartnerNoRead | Who::OtherAdmin => None,
        }
    }
}

/// How a place relates to a caller, in the table's terms. Callers of the whole service (the
/// administrator, EPs, an unlimited partner) reach every school of it alike; for the
/// administrator and EPs the tenancy grants are service-wide, so the school does not matter.
fn relation(who: Who, place: Place) -> Relation {
    if who.service() != place.svc {
        return Relation::OtherService;
    }
    match (who.school(), place.school) {
        (Some(mine), Some(school)) if mine != school => Relation::OtherSchool,
        _ => Relation::OwnSchool,
    }
}

/// What the table says about `who` taking `action` on something at `place`.
fn allows(who: Who, action: Action, place: Place) -> bool {
    table_allows(who.role(), who.scopes(), action, relation(who, place))
}

/// Whether `who` may take `action` anywhere at all (lists: readable at all, or FORBIDDEN).
fn allowed_somewhere(who: Who, action: Action) -> bool {
    table_allows(who.role(), who.scopes(), action, Relation::OwnSchool)
}

/// A read of one object: what the caller may not read does not exist for them.
fn expect_read(who: Who, action: Action, place: Place) -> Expect {
    if allows(who, action, place) {
        Expect::Allowed
    } else {
        Expect::Refused("NOT_FOUND")
    }
}

/// A change of an object: FORBIDDEN when the caller can see it (under `view`) but may not change
/// it, NOT_FOUND when they cannot see it at all, exactly as for an id that does not exist.
fn expect_change(who: Who, action: Action, view: Action, place: Place) -> Expect {
    if allows(who, action, place) {
        Expect::Allowed
    } else if allows(who, view, place) {
        Expect::Refused("FORBIDDEN")
    } else {
        Expect::Refused("NOT_FOUND")
    }
}

/// An action on a service (or on something of a school it names): FORBIDDEN for what is in the
/// caller's sight (their service, their school), NOT_FOUND for another school's or another
/// service's.
fn expect_guarded(who: Who, action: Action, place: Place) -> Expect {
    if allows(who, action, place) {
        Expect::Allowed
    } else if relation(who, place) == Relation::OwnSchool {
        Expect::Refused("FORBIDDEN")
    } else {
        Expect::Refused("NOT_FOUND")
    }
}

/// A school target in words, from the caller's point of view.
fn school_words(who: Who, place: Place) -> &'static str {
    if who.service() != place.svc {
        return match place.school {
            Some(Sch::A) => "another_services_school_a",
            Some(Sch::B) => "another_services_school_b",
            None => "another_service",
        };
    }
    match (who.school(), place.school) {
        (Some(mine), Some(s)) if mine == s => "their_own_school",
        (Some(_), Some(_)) => "another_schools_school",
        (None, Some(Sch::A)) => "school_a",
        (None, Some(Sch::B)) => "school_b",
        (_, None) => "their_service",
    }
}

fn service_words(who: Who, place: Place) -> &'static str {
    if who.service() == place.svc {
        "their_service"
    } else {
        "another_service"
    }
}

fn membership_words(who: Who, place: Place) -> String {
    match place.school {
        None if who.service() != place.svc => "a_service_wide_membership_of_another_service".into(),
        None => "a_service_wide_membership".into(),
        Some(_) => format!("a_membership_in_{}", school_words(who, place)),
    }
}

/// One cell of the matrix.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    who: Who,
    place: Place,
    expect: Expect,
}

// ---------------------------------------------------------------------------------------------
// The world the matrix runs in
// ---------------------------------------------------------------------------------------------

struct World {
    app: TestApp,
    ours: Tenant,
    theirs: Tenant,
    partner_a: Account,
    partner_no_read: Account,
    counter: AtomicU32,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        // Two services of one deployment, made as whoever runs it would make them.
        let ours = app
            .tenant_made_with_the_cli(env!("CARGO_BIN_EXE_scps-under-test"))
            .await;
        let theirs = app
            .tenant_made_with_the_cli(env!("CARGO_BIN_EXE_scps-under-test"))
            .await;
        let (partner_a, _, _) = app
            .partner(
                &ours,
                &["SCHOOLS_READ", "BOOKINGS_READ", "BOOKINGS_WRITE", "AVAILABILITY_READ"],
                Some(vec![&ours.school_a.id]),
            )
            .await;
        let (partner_no_read, _, _) = app
            .partner(&ours, &["BOOKINGS_READ", "BOOKINGS_WRITE", "AVAILABILITY_READ"], None)
            .await;
        Self {
            app,
            ours,
            theirs,
            partner_a,
            partner_no_read,
            counter: AtomicU32::new(0),
        }
    }

    fn token(&self, who: Who) -> &str {
        match who {
            Who::Admin => &self.ours.admin.token,
            Who::Ep => &self.ours.ep.token,
            Who::SencoA => &self.ours.senco_a.token,
            Who::SencoB => &self.ours.senco_b.token,
            Who::LeaderA => &self.ours.leader_a.token,
            Who::StaffA => &self.ours.staff_a.token,
            Who::PartnerA => &self.partner_a.token,
            Who::PartnerNoRead => &self.partner_no_read.token,
            Who::OtherAdmin => &self.theirs.admin.token,
        }
    }

    fn tenant(&self, svc: Svc) -> &Tenant {
        match svc {
            Svc::Ours => &self.ours,
            Svc::Theirs => &self.theirs,
        }
    }

    fn fixture_school(&self, svc: Svc, school: Sch) -> &SchoolFx {
        let t = self.tenant(svc);
        match school {
            Sch::A => &t.school_a,
            Sch::B => &t.school_b,
        }
    }

    fn unique(&self) -> u32 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    async fn ask(&self, who: Who, query: &str, variables: Value) -> Answer {
        self.app.gql(self.token(who), query, variables).await
    }

    /// A new school of a tenant, made by its administrator.
    async fn fresh_school(&self, svc: Svc) -> SchoolFx {
        let t = self.tenant(svc);
        let n = self.unique();
        self.app
            .create_school(
                &t.admin.token,
                &t.service_id,
                &format!("Fresh {n} School {}", t.tag),
                &format!("{}", 300_000 + n),
            )
            .await
    }

    /// The school a change at `place` is tried on: the caller's own school when the place is
    /// it, otherwise a new school that stands in the same relation to the caller (so that a
    /// change that succeeds leaves the fixture alone).
    async fn school_for(&self, who: Who, place: Place) -> String {
        let school = place.school.expect("a school place");
        if who.service() == place.svc && who.school() == Some(school) {
            self.fixture_school(place.svc, school).id.clone()
        } else {
            self.fresh_school(place.svc).await.id
        }
    }

    /// Invites a new person to a tenant (by its administrator) and returns the membership id:
    /// school staff at the place's school, or an EP for a service-wide place.
    async fn fresh_membership(&self, place: Place) -> (String, String) {
        let t = self.tenant(place.svc);
        let n = self.unique();
        let (role, school) = match place.school {
            Some(s) => ("SCHOOL_STAFF", Some(self.fixture_school(place.svc, s).id.clone())),
            None => ("PSYCHOLOGIST", None),
        };
        let a = self
            .app
            .gql(
                &t.admin.token,
                "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { invitation { person { id } membership { id } } userErrors { message } } }",
                json!({ "i": { "serviceId": t.service_id, "email": format!("fresh-{n}-{}@test.invalid", t.tag), "displayName": format!("Fresh {n}"), "role": role, "schoolId": school } }),
            )
            .await;
        let inv = &a.ok()["invitePerson"]["invitation"];
        let membership = inv["membership"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("invited: {}", a.body));
        (inv["person"]["id"].as_str().unwrap().to_owned(), membership.to_owned())
    }

    /// A new partner client of a tenant, made by its administrator.
    async fn fresh_partner_client(&self, svc: Svc) -> String {
        let t = self.tenant(svc);
        let a = self
            .app
            .gql(
                &t.admin.token,
                "mutation($i: CreatePartnerClientInput!) { createPartnerClient(input: $i) { credentials { partnerClient { id } } userErrors { message } } }",
                json!({ "i": { "serviceId": t.service_id, "name": format!("Fresh client {}", self.unique()), "scopes": ["SCHOOLS_READ"] } }),
            )
            .await;
        a.ok()["createPartnerClient"]["credentials"]["partnerClient"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("client: {}", a.body))
            .to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------------------------

/// Whether the operation under test writes (a mutation) or only reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Query,
    Mutation,
}

/// Runs every case: `prepare` makes the case's target (its writes are not counted), `act`
/// makes the request as the case's caller. A query must write nothing; a refused mutation must
/// write nothing (no audit event); an allowed mutation must leave an audit event.
async fn run_cases<P, A>(w: &World, kind: Kind, cases: &[Case], prepare: P, act: A) -> Vec<String>
where
    P: AsyncFn(&World, &Case) -> Value,
    A: AsyncFn(&World, &Case, &Value) -> Seen,
{
    let mut failures = Vec::new();
    for case in cases {
        let target = prepare(w, case).await;
        let before = w.app.count("audit_events").await;
        let got = act(w, case, &target).await;
        let after = w.app.count("audit_events").await;
        let verdict = judge(case.expect, &got).and_then(|()| match (kind, case.expect) {
            (Kind::Mutation, Expect::Allowed) if after == before => Err("succeeded without an audit event".to_owned()),
            (Kind::Mutation, Expect::Allowed) => Ok(()),
            _ if after != before => Err(format!(
                "wrote {} audit events though it should write nothing",
                after - before
            )),
            _ => Ok(()),
        });
        if let Err(why) = verdict {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    failures
}

/// The generic matrix runner: every case runs, and a failure names each failing case.
async fn run_matrix<P, A>(w: &World, kind: Kind, cases: Vec<Case>, prepare: P, act: A)
where
    P: AsyncFn(&World, &Case) -> Value,
    A: AsyncFn(&World, &Case, &Value) -> Seen,
{
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    let failures = run_cases(w, kind, &cases, prepare, act).await;
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn edges<'a>(connection: &'a Value, field: &str) -> Vec<&'a str> {
    connection["edges"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["node"][field].as_str()).collect())
        .unwrap_or_default()
}

fn cases_for(places: &[Place], case: impl Fn(Who, Place) -> (String, Expect)) -> Vec<Case> {
    let mut out = Vec::new();
    for &place in places {
        for &who in EVERYONE {
            let (name, expect) = case(who, place);
            out.push(Case {
                name,
                who,
                place,
                expect,
            });
        }
    }
    out
}

async fn nothing(_: &World, _: &Case) -> Value {
    Value::Null
}

/// Schools of the matrix: school A, school B, and a school of another service.
const SCHOOL_PLACES: &[Place] = &[
    Place::school(Svc::Ours, Sch::A),
    Place::school(Svc::Ours, Sch::B),
    Place::school(Svc::Theirs, Sch::A),
];
/// This service as a whole, and another.
const SERVICE_PLACES: &[Place] = &[Place::service(Svc::Ours), Place::service(Svc::Theirs)];

// ---------------------------------------------------------------------------------------------
// 1. The role matrix, one test per family of operations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn matrix_the_schools_list() {
    let w = World::new().await;
    let cases = cases_for(&[Place::service(Svc::Ours)], |who, _| {
        let expect = if allowed_somewhere(who, Action::ViewSchools) {
            Expect::Allowed
        } else {
            Expect::Refused("FORBIDDEN")
        };
        (format!("{}_{}_list_schools", who.label(), can(expect)), expect)
    });
    run_matrix(
        &w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let a = w
                .ask(case.who, "{ schools(first: 100) { edges { node { id } } } }", json!({}))
                .await;
            checked(seen(&a, "schools"), |v| {
                let shown = edges(v, "id");
                for svc in [Svc::Ours, Svc::Theirs] {
                    for sch in [Sch::A, Sch::B] {
                        let should = allows(case.who, Action::ViewSchools, Place::school(svc, sch));
                        let is = shown.contains(&w.fixture_school(svc, sch).id.as_str());
                        if should != is {
                            return Err(format!("school {sch:?} of {svc:?}: shown {is}, should be {should}"));
                        }
                    }
                }
                Ok(())
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_one_school_by_id() {
    let w = World::new().await;
    let cases = cases_for(SCHOOL_PLACES, |who, place| {
        let expect = expect_read(who, Action::ViewSchools, place);
        (
            format!("{}_{}_see_{}", who.label(), can(expect), school_words(who, place)),
            expect,
        )
    });
    run_matrix(
        &w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let id = &w.fixture_school(case.place.svc, case.place.school.unwrap()).id;
            let a = w
                .ask(
                    case.who,
                    "query($id: ID!) { school(id: $id) { id name } }",
                    json!({ "id": id }),
                )
                .await;
            checked(seen(&a, "school"), |v| {
                if v["id"] == *id {
                    Ok(())
                } else {
                    Err(format!("another school came back: {v}"))
                }
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_the_people_list() {
    let w = World::new().await;
    let cases = cases_for(&[Place::service(Svc::Ours)], |who, _| {
        let expect = if allowed_somewhere(who, Action::ViewPeople) {
            Expect::Allowed
        } else {
            Expect::Refused("FORBIDDEN")
        };
        (format!("{}_{}_list_people", who.label(), can(expect)), expect)
    });
    run_matrix(
        &w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let a = w
                .ask(
                    case.who,
                    "{ people(first: 100) { edges { node { email } } } }",
                    json!({}),
                )
                .await;
            checked(seen(&a, "people"), |v| {
                let shown = edges(v, "email");
                for svc in [Svc::Ours, Svc::Theirs] {
                    let t = w.tenant(svc);
                    // Service-wide people (administrators, EPs) work with every school of their
                    // service: members of a school see them as part of their own school's world.
                    let everyone = [
                        (&t.admin, None),
                        (&t.ep, None),
                        (&t.other_ep, None),
                        (&t.senco_a, Some(Sch::A)),
                        (&t.senco_b, Some(Sch::B)),
                        (&t.leader_a, Some(Sch::A)),
                        (&t.staff_a, Some(Sch::A)),
                    ];
                    for (person, school) in everyone {
                        let should = allows(case.who, Action::ViewPeople, Place { svc, school });
                        let is = shown.contains(&person.email.as_str());
                        if should != is {
                            return Err(format!("{} ({svc:?}): shown {is}, should be {should}", person.email));
                        }
                    }
                }
                Ok(())
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_a_service_by_id() {
    let w = World::new().await;
    let cases = cases_for(SERVICE_PLACES, |who, place| {
        let expect = expect_read(who, Action::ViewService, place);
        (
            format!("{}_{}_see_{}", who.label(), can(expect), service_words(who, place)),
            expect,
        )
    });
    run_matrix(
        &w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let id = &w.tenant(case.place.svc).service_id;
            let a = w
                .ask(
                    case.who,
                    "query($id: ID!) { service(id: $id) { id name } }",
                    json!({ "id": id }),
                )
                .await;
            checked(seen(&a, "service"), |v| {
                if v["id"] == *id {
                    Ok(())
                } else {
                    Err(format!("another service came back: {v}"))
                }
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_create_school() {
    let w = World::new().await;
    let cases = cases_for(SERVICE_PLACES, |who, place| {
        let expect = expect_guarded(who, Action::ManageSchools, place);
        (
            format!(
                "{}_{}_create_a_school_in_{}",
                who.label(),
                can(expect),
                service_words(who, place)
            ),
            expect,
        )
    });
    run_matrix(&w, Kind::Mutation, cases, nothing, async |w: &World, case: &Case, _: &Value| {
        let n = w.unique();
        let a = w
            .ask(
                case.who,
                "mutation($i: CreateSchoolInput!) { createSchool(input: $i) { school { id name } userErrors { field message code } } }",
                json!({ "i": { "serviceId": w.tenant(case.place.svc).service_id, "name": format!("Made {n}"), "urn": format!("{}", 400_000 + n), "phase": "SECONDARY" } }),
            )
            .await;
        checked(seen(&a, "createSchool"), |v| if v["school"]["name"] == format!("Made {n}") { Ok(()) } else { Err(format!("no school: {v}")) })
    })
    .await;
}

#[tokio::test]
async fn matrix_update_school() {
    let w = World::new().await;
    let cases = cases_for(SCHOOL_PLACES, |who, place| {
        let expect = expect_change(who, Action::ManageSchools, Action::ViewSchools, place);
        (
            format!("{}_{}_update_{}", who.label(), can(expect), school_words(who, place)),
            expect,
        )
    });
    run_matrix(
        &w,
        Kind::Mutation,
        cases,
        async |w: &World, case: &Case| json!(w.school_for(case.who, case.place).await),
        async |w: &World, case: &Case, id: &Value| {
            let name = format!("Renamed {}", w.unique());
            let a = w
                .ask(
                    case.who,
                    "mutation($i: UpdateSchoolInput!) { updateSchool(input: $i) { school { id name } userErrors { field message code } } }",
                    json!({ "i": { "id": id, "name": name } }),
                )
                .await;
            checked(seen(&a, "updateSchool"), |v| if v["school"]["name"] == name.as_str() { Ok(()) } else { Err(format!("not renamed: {v}")) })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_archive_school() {
    let w = World::new().await;
    let cases = cases_for(SCHOOL_PLACES, |who, place| {
        let expect = expect_change(who, Action::ManageSchools, Action::ViewSchools, place);
        (
            format!("{}_{}_archive_{}", who.label(), can(expect), school_words(who, place)),
            expect,
        )
    });
    run_matrix(
        &w,
        Kind::Mutation,
        cases,
        async |w: &World, case: &Case| json!(w.school_for(case.who, case.place).await),
        async |w: &World, case: &Case, id: &Value| {
            let a = w
                .ask(
                    case.who,
                    "mutation($i: ArchiveSchoolInput!) { archiveSchool(input: $i) { school { id status archivedAt } userErrors { field message code } } }",
                    json!({ "i": { "id": id } }),
                )
                .await;
            checked(seen(&a, "archiveSchool"), |v| {
                if v["school"]["status"] == "ARCHIVED" && v["school"]["archivedAt"].is_string() { Ok(()) } else { Err(format!("not archived: {v}")) }
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_invite_person() {
    let w = World::new().await;
    let cases = cases_for(SERVICE_PLACES, |who, place| {
        let expect = expect_guarded(who, Action::ManagePeople, place);
        (
            format!(
                "{}_{}_invite_someone_to_{}",
                who.label(),
                can(expect),
                service_words(who, place)
            ),
            expect,
        )
    });
    run_matrix(&w, Kind::Mutation, cases, nothing, async |w: &World, case: &Case, _: &Value| {
        let t = w.tenant(case.place.svc);
        let n = w.unique();
        let a = w
            .ask(
                case.who,
                "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { invitation { person { id email } membership { role } } userErrors { field message code } } }",
                json!({ "i": { "serviceId": t.service_id, "email": format!("invitee-{n}-{}@test.invalid", t.tag), "displayName": format!("Invitee {n}"), "role": "PSYCHOLOGIST" } }),
            )
            .await;
        checked(seen(&a, "invitePerson"), |v| {
            if v["invitation"]["membership"]["role"] == "PSYCHOLOGIST" { Ok(()) } else { Err(format!("no invitation: {v}")) }
        })
    })
    .await;
}

#[tokio::test]
async fn matrix_grant_membership() {
    let w = World::new().await;
    // The grant names school B of the service: those who cannot see that school hear "not found".
    let cases = cases_for(SERVICE_PLACES, |who, place| {
        let at_b = Place::school(place.svc, Sch::B);
        let expect = expect_guarded(who, Action::ManagePeople, at_b);
        (
            format!(
                "{}_{}_grant_a_role_at_{}",
                who.label(),
                can(expect),
                school_words(who, at_b)
            ),
            expect,
        )
    });
    run_matrix(
        &w,
        Kind::Mutation,
        cases,
        async |w: &World, case: &Case| json!(w.fresh_membership(case.place).await.0),
        async |w: &World, case: &Case, person: &Value| {
            let t = w.tenant(case.place.svc);
            let a = w
                .ask(
                    case.who,
                    "mutation($i: GrantMembershipInput!) { grantMembership(input: $i) { membership { id role } userErrors { field message code } } }",
                    json!({ "i": { "personId": person, "serviceId": t.service_id, "role": "SCHOOL_STAFF", "schoolId": t.school_b.id } }),
                )
                .await;
            checked(seen(&a, "grantMembership"), |v| if v["membership"]["role"] == "SCHOOL_STAFF" { Ok(()) } else { Err(format!("not granted: {v}")) })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_revoke_membership() {
    let w = World::new().await;
    let places = [
        Place::school(Svc::Ours, Sch::A),
        Place::school(Svc::Ours, Sch::B),
        Place::service(Svc::Ours),
        Place::school(Svc::Theirs, Sch::A),
    ];
    let cases = cases_for(&places, |who, place| {
        let expect = expect_change(who, Action::ManagePeople, Action::ViewPeople, place);
        (
            format!(
                "{}_{}_revoke_{}",
                who.label(),
                can(expect),
                membership_words(who, place)
            ),
            expect,
        )
    });
    run_matrix(
        &w,
        Kind::Mutation,
        cases,
        async |w: &World, case: &Case| json!(w.fresh_membership(case.place).await.1),
        async |w: &World, case: &Case, id: &Value| {
            let a = w
                .ask(
                    case.who,
                    "mutation($i: RevokeMembershipInput!) { revokeMembership(input: $i) { membership { id } userErrors { field message code } } }",
                    json!({ "i": { "id": id } }),
                )
                .await;
            checked(seen(&a, "revokeMembership"), |v| if v["membership"]["id"] == *id { Ok(()) } else { Err(format!("not revoked: {v}")) })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_create_partner_client() {
    let w = World::new().await;
    let cases = cases_for(SERVICE_PLACES, |who, place| {
        let expect = expect_guarded(who, Action::ManagePartnerClients, place);
        (
            format!(
                "{}_{}_create_a_partner_client_in_{}",
                who.label(),
                can(expect),
                service_words(who, place)
            ),
            expect,
        )
    });
    run_matrix(&w, Kind::Mutation, cases, nothing, async |w: &World, case: &Case, _: &Value| {
        let a = w
            .ask(
                case.who,
                "mutation($i: CreatePartnerClientInput!) { createPartnerClient(input: $i) { credentials { clientId clientSecret } userErrors { field message code } } }",
                json!({ "i": { "serviceId": w.tenant(case.place.svc).service_id, "name": format!("Client {}", w.unique()), "scopes": ["SCHOOLS_READ"] } }),
            )
            .await;
        checked(seen(&a, "createPartnerClient"), |v| {
            if v["credentials"]["clientSecret"].as_str().is_some_and(|s| !s.is_empty()) { Ok(()) } else { Err(format!("no secret: {v}")) }
        })
    })
    .await;
}

#[tokio::test]
async fn matrix_rotate_partner_client_secret() {
    let w = World::new().await;
    let cases = cases_for(SERVICE_PLACES, |who, place| {
        let expect = expect_change(who, Action::ManagePartnerClients, Action::ManagePartnerClients, place);
        (
            format!(
                "{}_{}_rotate_a_partner_client_secret_in_{}",
                who.label(),
                can(expect),
                service_words(who, place)
            ),
            expect,
        )
    });
    run_matrix(
        &w,
        Kind::Mutation,
        cases,
        async |w: &World, case: &Case| json!(w.fresh_partner_client(case.place.svc).await),
        async |w: &World, case: &Case, id: &Value| {
            let a = w
                .ask(
                    case.who,
                    "mutation($i: RotatePartnerClientSecretInput!) { rotatePartnerClientSecret(input: $i) { credentials { clientSecret partnerClient { id } } userErrors { field message code } } }",
                    json!({ "i": { "id": id } }),
                )
                .await;
            checked(seen(&a, "rotatePartnerClientSecret"), |v| {
                if v["credentials"]["partnerClient"]["id"] == *id && v["credentials"]["clientSecret"].is_string() { Ok(()) } else { Err(format!("not rotated: {v}")) }
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_the_partner_clients_list() {
    let w = World::new().await;
    let cases = cases_for(SERVICE_PLACES, |who, place| {
        let expect = expect_guarded(who, Action::ManagePartnerClients, place);
        (
            format!(
                "{}_{}_list_the_partner_clients_of_{}",
                who.label(),
                can(expect),
                service_words(who, place)
            ),
            expect,
        )
    });
    run_matrix(
        &w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let a = w
                .ask(
                    case.who,
                    "query($s: ID!) { partnerClients(serviceId: $s, first: 100) { edges { node { id } } } }",
                    json!({ "s": w.tenant(case.place.svc).service_id }),
                )
                .await;
            checked(seen(&a, "partnerClients"), |v| {
                let shown = edges(v, "id");
                let ours = [w.partner_a.person_id.as_str(), w.partner_no_read.person_id.as_str()];
                let should = case.place.svc == Svc::Ours;
                if ours.iter().all(|id| shown.contains(id) == should) {
                    Ok(())
                } else {
                    Err(format!("wrong clients: {v}"))
                }
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_the_audit_log() {
    let w = World::new().await;
    let cases = cases_for(SERVICE_PLACES, |who, place| {
        let expect = expect_guarded(who, Action::ViewAuditLog, place);
        (
            format!(
                "{}_{}_read_the_audit_log_of_{}",
                who.label(),
                can(expect),
                service_words(who, place)
            ),
            expect,
        )
    });
    run_matrix(
        &w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let a = w
                .ask(
                    case.who,
                    "query($s: ID!) { auditEvents(serviceId: $s, first: 100) { edges { node { action } } } }",
                    json!({ "s": w.tenant(case.place.svc).service_id }),
                )
                .await;
            checked(seen(&a, "auditEvents"), |v| {
                if edges(v, "action").contains(&"school.create") {
                    Ok(())
                } else {
                    Err(format!("the log lacks the fixture's schools: {v}"))
                }
            })
        },
    )
    .await;
}

/// The matrix's own reading of the table, checked against a few facts stated in words, so that
/// a mistake in the mapping cannot make every test agree with a wrong server.
#[test]
fn the_matrix_reads_the_table_as_the_rules_are_stated() {
    let a = Place::school(Svc::Ours, Sch::A);
    let b = Place::school(Svc::Ours, Sch::B);
    let theirs = Place::school(Svc::Theirs, Sch::A);
    let service = Place::service(Svc::Ours);
    assert_eq!(expect_read(Who::SencoA, Action::ViewSchools, a), Expect::Allowed);
    assert_eq!(
        expect_read(Who::SencoA, Action::ViewSchools, b),
        Expect::Refused("NOT_FOUND")
    );
    assert_eq!(expect_read(Who::Ep, Action::ViewSchools, b), Expect::Allowed);
    assert_eq!(expect_read(Who::PartnerA, Action::ViewSchools, a), Expect::Allowed);
    assert_eq!(
        expect_read(Who::PartnerA, Action::ViewSchools, b),
        Expect::Refused("NOT_FOUND")
    );
    assert_eq!(
        expect_read(Who::PartnerNoRead, Action::ViewSchools, a),
        Expect::Refused("NOT_FOUND")
    );
    assert!(!allowed_somewhere(Who::PartnerNoRead, Action::ViewSchools));
    assert!(!allowed_somewhere(Who::StaffA, Action::ViewPeople));
    assert!(allowed_somewhere(Who::LeaderA, Action::ViewPeople));
    assert_eq!(
        expect_guarded(Who::SencoA, Action::ManageSchools, a),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(
        expect_guarded(Who::SencoB, Action::ManageSchools, a),
        Expect::Refused("NOT_FOUND")
    );
    assert_eq!(
        expect_guarded(Who::Ep, Action::ManageSchools, a),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(expect_guarded(Who::Admin, Action::ManageSchools, a), Expect::Allowed);
    assert_eq!(
        expect_guarded(Who::Admin, Action::ManageSchools, theirs),
        Expect::Refused("NOT_FOUND")
    );
    assert_eq!(
        expect_guarded(Who::OtherAdmin, Action::ManageSchools, a),
        Expect::Refused("NOT_FOUND")
    );
    assert_eq!(
        expect_guarded(Who::SencoB, Action::ManagePeople, service),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(
        expect_guarded(Who::PartnerA, Action::ManagePartnerClients, service),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(
        expect_read(Who::PartnerNoRead, Action::ViewService, service),
        Expect::Allowed
    );
}

/// No tenancy change is open to partner clients, so a partner client's write (recorded with
/// actorKind PARTNER_CLIENT) cannot be made here; should the table change, this says so.
#[test]
fn no_tenancy_change_is_open_to_partner_clients() {
    for action in [
        Action::ManageSchools,
        Action::ManagePeople,
        Action::ManagePartnerClients,
    ] {
        for relation in [Relation::OwnSchool, Relation::OtherSchool] {
            assert!(
                !table_allows(Role::PartnerClient, PartnerScope::ALL, action, relation),
                "{action:?} is open to partner clients: add a test that its audit event has actorKind PARTNER_CLIENT and partnerClientId"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. node and nodes
// ---------------------------------------------------------------------------------------------

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id ... on School { name } ... on Person { email } ... on Service { name } ... on Membership { role } ... on PartnerClient { name } } }";
const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";

async fn viewer_person_id(app: &TestApp, token: &str) -> String {
    let a = app.gql(token, "{ viewer { person { id } } }", json!({})).await;
    a.ok()["viewer"]["person"]["id"].as_str().expect("a person").to_owned()
}

async fn first_membership(app: &TestApp, token: &str) -> String {
    let a = app.gql(token, "{ viewer { memberships { id } } }", json!({})).await;
    a.ok()["viewer"]["memberships"][0]["id"]
        .as_str()
        .expect("a membership")
        .to_owned()
}

#[tokio::test]
async fn node_and_nodes_give_null_for_another_services_objects() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let other = app.tenant().await;
    let (other_client, _, _) = app.partner(&other, &["SCHOOLS_READ"], None).await;
    let (our_client, _, _) = app.partner(&t, &["SCHOOLS_READ", "BOOKINGS_READ"], None).await;
    let foreign = [
        ("School", other.school_a.id.clone()),
        ("Person", other.senco_a.person_id.clone()),
        ("Service", other.service_id.clone()),
        ("Membership", first_membership(&app, &other.staff_a.token).await),
        ("PartnerClient", other_client.person_id.clone()),
    ];
    // The ids are real: their own administrator sees every one.
    for (kind, id) in &foreign {
        let a = app.gql(&other.admin.token, NODE, json!({ "id": id })).await;
        assert_eq!(a.ok()["node"]["__typename"], *kind, "{}", a.body);
    }
    for token in [&t.admin.token, &t.ep.token, &t.senco_a.token, &our_client.token] {
        for (kind, id) in &foreign {
            let a = app.gql(token, NODE, json!({ "id": id })).await;
            assert!(a.ok()["node"].is_null(), "another service's {kind} is null: {}", a.body);
        }
        let ids: Vec<&str> = foreign.iter().map(|(_, id)| id.as_str()).collect();
        let a = app.gql(token, NODES, json!({ "ids": ids })).await;
        assert_eq!(a.ok()["nodes"], json!([null, null, null, null, null]), "{}", a.body);
    }
}

#[tokio::test]
async fn node_gives_null_for_a_malformed_or_unknown_id() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let uuid = uuid::Uuid::now_v7().simple().to_string();
    let malformed = [
        String::new(),
        "not-an-id".to_owned(),
        "!!!***".to_owned(),
        URL_SAFE_NO_PAD.encode("School"),
        URL_SAFE_NO_PAD.encode("School:not-a-uuid"),
        URL_SAFE_NO_PAD.encode(format!("NoSuchType:{uuid}")),
        URL_SAFE_NO_PAD.encode(format!("School:{uuid}")),
        format!("{}==", t.school_a.id),
    ];
    for id in &malformed {
        let a = app.gql(&t.admin.token, NODE, json!({ "id": id })).await;
        assert!(a.ok()["node"].is_null(), "{id:?}: {}", a.body);
    }
    let a = app.gql(&t.admin.token, NODES, json!({ "ids": malformed })).await;
    assert_eq!(a.ok()["nodes"].as_array().unwrap().len(), malformed.len());
    assert!(
        a.ok()["nodes"].as_array().unwrap().iter().all(Value::is_null),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn node_gives_a_visible_object_with_its_typename() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (client, _, _) = app.partner(&t, &["SCHOOLS_READ"], None).await;
    let membership = first_membership(&app, &t.senco_a.token).await;
    let visible = [
        ("School", t.school_a.id.clone(), "name", json!(t.school_a.name)),
        ("Person", t.ep.person_id.clone(), "email", json!(t.ep.email)),
        (
            "Service",
            t.service_id.clone(),
            "name",
            json!(format!("Test service {}", t.tag)),
        ),
        ("Membership", membership.clone(), "role", json!("SENCO")),
        ("PartnerClient", client.person_id.clone(), "name", Value::Null),
    ];
    for (kind, id, field, value) in &visible {
        let a = app.gql(&t.admin.token, NODE, json!({ "id": id })).await;
        let node = &a.ok()["node"];
        assert_eq!(node["__typename"], *kind, "{}", a.body);
        assert_eq!(node["id"], *id);
        if !value.is_null() {
            assert_eq!(node[*field], *value, "{}", a.body);
        }
    }
    // In the order asked, with null where nothing is visible.
    let a = app
        .gql(
            &t.admin.token,
            NODES,
            json!({ "ids": [t.school_b.id, "junk", t.service_id, membership] }),
        )
        .await;
    let nodes = &a.ok()["nodes"];
    assert_eq!(nodes[0]["__typename"], "School");
    assert_eq!(nodes[0]["id"], t.school_b.id);
    assert!(nodes[1].is_null());
    assert_eq!(nodes[2]["__typename"], "Service");
    assert_eq!(nodes[3]["__typename"], "Membership");
    // A SENCO sees their school, not the other one, and their own membership.
    let a = app
        .gql(
            &t.senco_a.token,
            NODES,
            json!({ "ids": [t.school_a.id, t.school_b.id, membership] }),
        )
        .await;
    let nodes = &a.ok()["nodes"];
    assert_eq!(nodes[0]["__typename"], "School", "{}", a.body);
    assert!(nodes[1].is_null(), "{}", a.body);
    assert_eq!(nodes[2]["__typename"], "Membership", "{}", a.body);
}

// ---------------------------------------------------------------------------------------------
// 3. Bad input: userErrors, and nothing written
// ---------------------------------------------------------------------------------------------

const WATCHED: &[&str] = &["schools", "people", "memberships", "partner_clients", "audit_events"];

async fn counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in WATCHED {
        out.push((*table, app.count(table).await));
    }
    out
}

/// The payload's userErrors as (field path, code), after checking that the mutation gave no
/// object and no GraphQL error.
fn user_errors(a: &Answer, mutation: &str, object: &str) -> Vec<(String, String)> {
    let payload = &a.ok()[mutation];
    assert!(
        payload[object].is_null(),
        "{mutation} gave a {object} despite errors: {}",
        a.body
    );
    let errors = payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("userErrors: {}", a.body));
    assert!(!errors.is_empty(), "{mutation} took bad input: {}", a.body);
    errors
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "a message: {e}");
            let field: Vec<&str> = e["field"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            (field.join("."), e["code"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn one_error(field: &str, code: &str) -> Vec<(String, String)> {
    vec![(field.to_owned(), code.to_owned())]
}

const CREATE_SCHOOL: &str = "mutation($i: CreateSchoolInput!) { createSchool(input: $i) { school { id urn name } userErrors { field message code } } }";
const UPDATE_SCHOOL: &str = "mutation($i: UpdateSchoolInput!) { updateSchool(input: $i) { school { id urn name } userErrors { field message code } } }";
const INVITE: &str = "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { invitation { person { id } membership { id } } userErrors { field message code } } }";
const CREATE_CLIENT: &str = "mutation($i: CreatePartnerClientInput!) { createPartnerClient(input: $i) { credentials { clientId } userErrors { field message code } } }";

#[tokio::test]
async fn create_school_refuses_bad_urns_and_names_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let before = counts(&app).await;
    let long = "n".repeat(201);
    let bad = [
        ("Good name", "12345", one_error("input.urn", "INVALID")),
        ("Good name", "1234567", one_error("input.urn", "INVALID")),
        ("Good name", "12a456", one_error("input.urn", "INVALID")),
        ("Good name", "", one_error("input.urn", "INVALID")),
        ("Good name", "１２３４５６", one_error("input.urn", "INVALID")),
        ("", "123456", one_error("input.name", "REQUIRED")),
        ("   \t ", "123456", one_error("input.name", "REQUIRED")),
        (long.as_str(), "123456", one_error("input.name", "TOO_LONG")),
        ("A \u{7} bell", "123456", one_error("input.name", "INVALID")),
    ];
    for (name, urn, want) in &bad {
        let a = app
            .gql(
                &t.admin.token,
                CREATE_SCHOOL,
                json!({ "i": { "serviceId": t.service_id, "name": name, "urn": urn, "phase": "PRIMARY" } }),
            )
            .await;
        assert_eq!(
            &user_errors(&a, "createSchool", "school"),
            want,
            "name {name:?}, urn {urn:?}"
        );
    }
    // Both problems at once are both reported.
    let a = app
        .gql(
            &t.admin.token,
            CREATE_SCHOOL,
            json!({ "i": { "serviceId": t.service_id, "name": " ", "urn": "1", "phase": "PRIMARY" } }),
        )
        .await;
    let mut both = user_errors(&a, "createSchool", "school");
    both.sort();
    assert_eq!(
        both,
        vec![
            ("input.name".to_owned(), "REQUIRED".to_owned()),
            ("input.urn".to_owned(), "INVALID".to_owned())
        ]
    );
    assert_eq!(counts(&app).await, before, "nothing was written");
    // The longest name, and a URN with spaces round it, are taken (trimmed).
    let a = app.gql(&t.admin.token, CREATE_SCHOOL, json!({ "i": { "serviceId": t.service_id, "name": "n".repeat(200), "urn": " 123456 ", "phase": "PRIMARY" } })).await;
    assert_eq!(a.ok()["createSchool"]["school"]["urn"], "123456", "{}", a.body);
}

#[tokio::test]
async fn a_urn_is_taken_within_a_service_and_free_in_another() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let other = app.tenant().await;
    let before = counts(&app).await;
    // The fixture's school A has URN 100001.
    let a = app
        .gql(
            &t.admin.token,
            CREATE_SCHOOL,
            json!({ "i": { "serviceId": t.service_id, "name": "Copy", "urn": "100001", "phase": "PRIMARY" } }),
        )
        .await;
    assert_eq!(
        user_errors(&a, "createSchool", "school"),
        one_error("input.urn", "TAKEN")
    );
    let a = app
        .gql(
            &t.admin.token,
            UPDATE_SCHOOL,
            json!({ "i": { "id": t.school_b.id, "urn": "100001" } }),
        )
        .await;
    assert_eq!(
        user_errors(&a, "updateSchool", "school"),
        one_error("input.urn", "TAKEN")
    );
    assert_eq!(counts(&app).await, before, "nothing was written");
    // A school keeps its own URN when updated with it.
    let a = app
        .gql(
            &t.admin.token,
            UPDATE_SCHOOL,
            json!({ "i": { "id": t.school_a.id, "urn": "100001" } }),
        )
        .await;
    assert_eq!(a.ok()["updateSchool"]["school"]["urn"], "100001", "{}", a.body);
    // The same URN in another service is fine.
    let made = app
        .gql(
            &t.admin.token,
            CREATE_SCHOOL,
            json!({ "i": { "serviceId": t.service_id, "name": "Hazel", "urn": "345678", "phase": "PRIMARY" } }),
        )
        .await;
    assert!(made.ok()["createSchool"]["school"]["id"].is_string(), "{}", made.body);
    let elsewhere = app
        .gql(
            &other.admin.token,
            CREATE_SCHOOL,
            json!({ "i": { "serviceId": other.service_id, "name": "Hazel", "urn": "345678", "phase": "PRIMARY" } }),
        )
        .await;
    assert!(
        elsewhere.ok()["createSchool"]["school"]["id"].is_string(),
        "{}",
        elsewhere.body
    );
    assert!(
        elsewhere.ok()["createSchool"]["userErrors"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn update_school_refuses_bad_input_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let before = counts(&app).await;
    let bad = [
        (json!({ "urn": "12a456" }), one_error("input.urn", "INVALID")),
        (json!({ "urn": "12345" }), one_error("input.urn", "INVALID")),
        (json!({ "name": "  " }), one_error("input.name", "REQUIRED")),
        (json!({ "name": "x".repeat(201) }), one_error("input.name", "TOO_LONG")),
        (json!({ "status": "ARCHIVED" }), one_error("input.status", "INVALID")),
        (
            json!({ "name": "A good name", "urn": "99" }),
            one_error("input.urn", "INVALID"),
        ),
    ];
    for (patch, want) in &bad {
        let mut input = patch.clone();
        input["id"] = json!(t.school_a.id);
        let a = app.gql(&t.admin.token, UPDATE_SCHOOL, json!({ "i": input })).await;
        assert_eq!(&user_errors(&a, "updateSchool", "school"), want, "{patch}");
    }
    assert_eq!(counts(&app).await, before, "nothing was written");
    let a = app
        .gql(
            &t.admin.token,
            "query($id: ID!) { school(id: $id) { name urn status } }",
            json!({ "id": t.school_a.id }),
        )
        .await;
    assert_eq!(
        a.ok()["school"],
        json!({ "name": t.school_a.name, "urn": "100001", "status": "OPEN" })
    );
}

#[tokio::test]
async fn invite_person_refuses_bad_input_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let other = app.tenant().await;
    let before = counts(&app).await;
    let email = format!("new-{}@test.invalid", t.tag);
    let bad = [
        (
            json!({ "email": "not-an-email", "role": "PSYCHOLOGIST" }),
            one_error("input.email", "INVALID"),
        ),
        (
            json!({ "email": "two@@test.invalid", "role": "PSYCHOLOGIST" }),
            one_error("input.email", "INVALID"),
        ),
        (
            json!({ "email": email, "role": "SENCO" }),
            one_error("input.schoolId", "REQUIRED"),
        ),
        (
            json!({ "email": email, "role": "SCHOOL_STAFF", "schoolId": null }),
            one_error("input.schoolId", "REQUIRED"),
        ),
        (
            json!({ "email": email, "role": "PSYCHOLOGIST", "schoolId": t.school_a.id }),
            one_error("input.schoolId", "INVALID"),
        ),
        (
            json!({ "email": email, "role": "SERVICE_ADMIN", "schoolId": t.school_a.id }),
            one_error("input.schoolId", "INVALID"),
        ),
        (
            json!({ "email": email, "role": "SENCO", "schoolId": other.school_a.id }),
            one_error("input.schoolId", "NOT_FOUND"),
        ),
        (
            json!({ "email": email, "role": "SENCO", "schoolId": t.service_id }),
            one_error("input.schoolId", "INVALID"),
        ),
        (
            json!({ "email": email, "role": "PARTNER_CLIENT" }),
            one_error("input.role", "INVALID"),
        ),
        (
            json!({ "email": email, "role": "PSYCHOLOGIST", "displayName": " " }),
            one_error("input.displayName", "REQUIRED"),
        ),
    ];
    for (fields, want) in &bad {
        let mut input = json!({ "serviceId": t.service_id, "displayName": "New Person" });
        for (k, v) in fields.as_object().unwrap() {
            input[k] = v.clone();
        }
        let a = app.gql(&t.admin.token, INVITE, json!({ "i": input })).await;
        assert_eq!(&user_errors(&a, "invitePerson", "invitation"), want, "{fields}");
    }
    assert_eq!(counts(&app).await, before, "nothing was written");
}

#[tokio::test]
async fn create_partner_client_refuses_bad_input_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let other = app.tenant().await;
    let before = counts(&app).await;
    let bad = [
        (json!({ "scopes": [] }), one_error("input.scopes", "REQUIRED")),
        (
            json!({ "scopes": ["SCHOOLS_READ"], "schoolIds": [] }),
            one_error("input.schoolIds", "REQUIRED"),
        ),
        (
            json!({ "scopes": ["SCHOOLS_READ"], "schoolIds": [other.school_a.id] }),
            one_error("input.schoolIds", "NOT_FOUND"),
        ),
        (
            json!({ "scopes": ["SCHOOLS_READ"], "schoolIds": [t.school_a.id, other.school_a.id] }),
            one_error("input.schoolIds", "NOT_FOUND"),
        ),
        (
            json!({ "scopes": ["SCHOOLS_READ"], "name": "" }),
            one_error("input.name", "REQUIRED"),
        ),
    ];
    for (fields, want) in &bad {
        let mut input = json!({ "serviceId": t.service_id, "name": "A client" });
        for (k, v) in fields.as_object().unwrap() {
            input[k] = v.clone();
        }
        let a = app.gql(&t.admin.token, CREATE_CLIENT, json!({ "i": input })).await;
        assert_eq!(&user_errors(&a, "createPartnerClient", "credentials"), want, "{fields}");
    }
    assert_eq!(counts(&app).await, before, "nothing was written");
    assert_eq!(app.count("partner_client_schools").await, 0);
}

fn refused_by_validation(a: &Answer) {
    assert!(
        a.body["data"].is_null()
            || a.body["data"]
                .as_object()
                .is_some_and(|d| d.values().all(Value::is_null)),
        "{}",
        a.body
    );
    let code = a.code().unwrap_or_else(|| panic!("a coded error: {}", a.body));
    assert!(
        ["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"].contains(&code),
        "{code}: {}",
        a.body
    );
}

#[tokio::test]
async fn unknown_enum_values_are_refused_by_validation_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let before = counts(&app).await;
    let a = app
        .gql(
            &t.admin.token,
            CREATE_SCHOOL,
            json!({ "i": { "serviceId": t.service_id, "name": "Nursery", "urn": "222222", "phase": "NURSERY" } }),
        )
        .await;
    refused_by_validation(&a);
    let inline = format!(
        "mutation {{ createSchool(input: {{ serviceId: \"{}\", name: \"Nursery\", urn: \"222222\", phase: NURSERY }}) {{ school {{ id }} }} }}",
        t.service_id
    );
    refused_by_validation(&app.gql(&t.admin.token, &inline, json!({})).await);
    let a = app
        .gql(
            &t.admin.token,
            CREATE_SCHOOL,
            json!({ "i": { "serviceId": t.service_id, "name": "Lower", "urn": "222222", "phase": "primary" } }),
        )
        .await;
    refused_by_validation(&a);
    let a = app.gql(&t.admin.token, INVITE, json!({ "i": { "serviceId": t.service_id, "email": format!("x-{}@test.invalid", t.tag), "displayName": "X", "role": "OVERLORD" } })).await;
    refused_by_validation(&a);
    let a = app
        .gql(
            &t.admin.token,
            CREATE_CLIENT,
            json!({ "i": { "serviceId": t.service_id, "name": "C", "scopes": ["SCHOOLS_READ", "EVERYTHING"] } }),
        )
        .await;
    refused_by_validation(&a);
    let a = app
        .gql(
            &t.admin.token,
            UPDATE_SCHOOL,
            json!({ "i": { "id": t.school_a.id, "status": "DEMOLISHED" } }),
        )
        .await;
    refused_by_validation(&a);
    let a = app
        .gql(
            &t.admin.token,
            "query($p: [Phase!]) { schools(filter: { phases: $p }) { edges { node { id } } } }",
            json!({ "p": ["NURSERY"] }),
        )
        .await;
    refused_by_validation(&a);
    assert_eq!(counts(&app).await, before, "nothing was written");
}

#[tokio::test]
async fn bad_query_arguments_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let a = app
        .gql(
            &t.admin.token,
            "query($s: ID) { schools(filter: { serviceId: $s }) { edges { node { id } } } }",
            json!({ "s": "junk" }),
        )
        .await;
    assert_eq!(a.code(), Some("BAD_USER_INPUT"), "{}", a.body);
    let a = app
        .gql(
            &t.admin.token,
            "query($s: ID) { schools(filter: { serviceId: $s }) { edges { node { id } } } }",
            json!({ "s": t.school_a.id }),
        )
        .await;
    assert_eq!(
        a.code(),
        Some("BAD_USER_INPUT"),
        "a school id is not a service id: {}",
        a.body
    );
    let a = app
        .gql(
            &t.admin.token,
            "query($s: ID) { people(filter: { schoolId: $s }) { edges { node { id } } } }",
            json!({ "s": "junk" }),
        )
        .await;
    assert_eq!(a.code(), Some("BAD_USER_INPUT"), "{}", a.body);
    // A well-formed id of the wrong type where one object is asked for is simply not found.
    let a = app
        .gql(
            &t.admin.token,
            "query($id: ID!) { school(id: $id) { id } }",
            json!({ "id": t.service_id }),
        )
        .await;
    assert_eq!(a.code(), Some("NOT_FOUND"), "{}", a.body);
}

#[tokio::test]
async fn oversize_strings_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let before = counts(&app).await;
    let huge = "x".repeat(10_000);
    let a = app
        .gql(
            &t.admin.token,
            CREATE_SCHOOL,
            json!({ "i": { "serviceId": t.service_id, "name": huge, "urn": "555555", "phase": "PRIMARY" } }),
        )
        .await;
    assert_eq!(
        user_errors(&a, "createSchool", "school"),
        one_error("input.name", "TOO_LONG")
    );
    let a = app
        .gql(
            &t.admin.token,
            CREATE_SCHOOL,
            json!({ "i": { "serviceId": t.service_id, "name": "Fine", "urn": huge, "phase": "PRIMARY" } }),
        )
        .await;
    assert_eq!(
        user_errors(&a, "createSchool", "school"),
        one_error("input.urn", "INVALID")
    );
    let a = app
        .gql(
            &t.admin.token,
            UPDATE_SCHOOL,
            json!({ "i": { "id": t.school_a.id, "name": huge } }),
        )
        .await;
    assert_eq!(
        user_errors(&a, "updateSchool", "school"),
        one_error("input.name", "TOO_LONG")
    );
    let a = app
        .gql(&t.admin.token, INVITE, json!({ "i": { "serviceId": t.service_id, "email": format!("big-{}@test.invalid", t.tag), "displayName": huge, "role": "PSYCHOLOGIST" } }))
        .await;
    assert_eq!(
        user_errors(&a, "invitePerson", "invitation"),
        one_error("input.displayName", "TOO_LONG")
    );
    let a = app
        .gql(&t.admin.token, INVITE, json!({ "i": { "serviceId": t.service_id, "email": format!("{huge}@test.invalid"), "displayName": "Big", "role": "PSYCHOLOGIST" } }))
        .await;
    assert_eq!(
        user_errors(&a, "invitePerson", "invitation"),
        one_error("input.email", "TOO_LONG")
    );
    let a = app
        .gql(
            &t.admin.token,
            CREATE_CLIENT,
            json!({ "i": { "serviceId": t.service_id, "name": huge, "scopes": ["SCHOOLS_READ"] } }),
        )
        .await;
    assert_eq!(
        user_errors(&a, "createPartnerClient", "credentials"),
        one_error("input.name", "TOO_LONG")
    );
    assert_eq!(counts(&app).await, before, "nothing was written");
}

// ---------------------------------------------------------------------------------------------
// 4. Memberships
// ---------------------------------------------------------------------------------------------

const SCHOOL_NAMES: &str = "{ schools(first: 100) { edges { node { id } } } }";
const GRANT: &str = "mutation($i: GrantMembershipInput!) { grantMembership(input: $i) { membership { id role school { id } } userErrors { field message code } } }";
const REVOKE: &str = "mutation($i: RevokeMembershipInput!) { revokeMembership(input: $i) { membership { id } userErrors { field message code } } }";

async fn school_ids(app: &TestApp, token: &str) -> Vec<String> {
    let a = app.gql(token, SCHOOL_NAMES, json!({})).await;
    let mut ids: Vec<String> = edges(&a.ok()["schools"], "id").into_iter().map(str::to_owned).collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_senco_of_two_schools_sees_both_until_one_is_revoked() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    assert_eq!(school_ids(&app, &t.senco_a.token).await, sorted(&[&t.school_a.id]));
    let a = app
        .gql(&t.admin.token, GRANT, json!({ "i": { "personId": t.senco_a.person_id, "serviceId": t.service_id, "role": "SENCO", "schoolId": t.school_b.id } }))
        .await;
    let granted = &a.ok()["grantMembership"]["membership"];
    assert_eq!(granted["role"], "SENCO", "{}", a.body);
    assert_eq!(granted["school"]["id"], t.school_b.id);
    let membership = granted["id"].as_str().unwrap().to_owned();

    // The same token, the next request: both schools.
    assert_eq!(
        school_ids(&app, &t.senco_a.token).await,
        sorted(&[&t.school_a.id, &t.school_b.id])
    );
    let b = app
        .gql(
            &t.senco_a.token,
            "query($id: ID!) { school(id: $id) { id } }",
            json!({ "id": t.school_b.id }),
        )
        .await;
    assert_eq!(b.ok()["school"]["id"], t.school_b.id);
    let people = app
        .gql(
            &t.senco_a.token,
            "{ people(first: 100) { edges { node { email } } } }",
            json!({}),
        )
        .await;
    assert!(
        edges(&people.ok()["people"], "email").contains(&t.senco_b.email.as_str()),
        "now sees school B's people"
    );
    // Granting the same role again is refused.
    let again = app
        .gql(&t.admin.token, GRANT, json!({ "i": { "personId": t.senco_a.person_id, "serviceId": t.service_id, "role": "SENCO", "schoolId": t.school_b.id } }))
        .await;
    assert_eq!(
        user_errors(&again, "grantMembership", "membership"),
        one_error("input.role", "TAKEN")
    );

    // Revoked: gone on the very next request with the same token.
    let r = app
        .gql(&t.admin.token, REVOKE, json!({ "i": { "id": membership } }))
        .await;
    assert_eq!(
        r.ok()["revokeMembership"]["membership"]["id"],
        membership.as_str(),
        "{}",
        r.body
    );
    assert_eq!(school_ids(&app, &t.senco_a.token).await, sorted(&[&t.school_a.id]));
    let b = app
        .gql(
            &t.senco_a.token,
            "query($id: ID!) { school(id: $id) { id } }",
            json!({ "id": t.school_b.id }),
        )
        .await;
    assert_eq!(b.code(), Some("NOT_FOUND"), "{}", b.body);
    let mine = app
        .gql(
            &t.senco_a.token,
            "{ viewer { memberships { id school { id } } } }",
            json!({}),
        )
        .await;
    let held: Vec<&Value> = mine.ok()["viewer"]["memberships"].as_array().unwrap().iter().collect();
    assert_eq!(held.len(), 1, "{}", mine.body);
    assert_eq!(held[0]["school"]["id"], t.school_a.id);
}

#[tokio::test]
async fn a_person_whose_only_membership_is_revoked_sees_nothing_at_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let membership = first_membership(&app, &t.staff_a.token).await;
    let a = app
        .gql(
            &t.staff_a.token,
            "query($id: ID!) { school(id: $id) { id } }",
            json!({ "id": t.school_a.id }),
        )
        .await;
    assert_eq!(a.ok()["school"]["id"], t.school_a.id);
    let r = app
        .gql(&t.admin.token, REVOKE, json!({ "i": { "id": membership } }))
        .await;
    assert!(r.ok()["revokeMembership"]["membership"]["id"].is_string(), "{}", r.body);
    let a = app
        .gql(
            &t.staff_a.token,
            "query($id: ID!) { school(id: $id) { id } }",
            json!({ "id": t.school_a.id }),
        )
        .await;
    assert_eq!(a.code(), Some("NOT_FOUND"), "{}", a.body);
    let s = app
        .gql(
            &t.staff_a.token,
            "query($id: ID!) { service(id: $id) { id } }",
            json!({ "id": t.service_id }),
        )
        .await;
    assert_eq!(s.code(), Some("NOT_FOUND"), "{}", s.body);
    let list = app.gql(&t.staff_a.token, SCHOOL_NAMES, json!({})).await;
    assert!(
        list.code() == Some("FORBIDDEN") || edges(&list.body["data"]["schools"], "id").is_empty(),
        "{}",
        list.body
    );
}

#[tokio::test]
async fn the_last_service_administrator_cannot_be_revoked() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let admin_membership = first_membership(&app, &t.admin.token).await;
    let before = counts(&app).await;
    let a = app
        .gql(&t.admin.token, REVOKE, json!({ "i": { "id": admin_membership } }))
        .await;
    assert_eq!(
        user_errors(&a, "revokeMembership", "membership"),
        one_error("input.id", "NOT_ALLOWED")
    );
    assert_eq!(counts(&app).await, before, "nothing was written");
    let still = app
        .gql(
            &t.admin.token,
            "query($s: ID!) { partnerClients(serviceId: $s) { edges { node { id } } } }",
            json!({ "s": t.service_id }),
        )
        .await;
    still.ok();

    // With a second administrator, the first can go; then the second is the last.
    let g = app
        .gql(
            &t.admin.token,
            GRANT,
            json!({ "i": { "personId": t.ep.person_id, "serviceId": t.service_id, "role": "SERVICE_ADMIN" } }),
        )
        .await;
    let second = g.ok()["grantMembership"]["membership"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("granted: {}", g.body))
        .to_owned();
    let r = app
        .gql(&t.ep.token, REVOKE, json!({ "i": { "id": admin_membership } }))
        .await;
    assert_eq!(
        r.ok()["revokeMembership"]["membership"]["id"],
        admin_membership.as_str(),
        "{}",
        r.body
    );
    let r = app.gql(&t.ep.token, REVOKE, json!({ "i": { "id": second } })).await;
    assert_eq!(
        user_errors(&r, "revokeMembership", "membership"),
        one_error("input.id", "NOT_ALLOWED")
    );
    // The former administrator no longer belongs to the service at all.
    let n = app
        .gql(
            &t.admin.token,
            CREATE_SCHOOL,
            json!({ "i": { "serviceId": t.service_id, "name": "Late", "urn": "777777", "phase": "PRIMARY" } }),
        )
        .await;
    assert_eq!(n.code(), Some("NOT_FOUND"), "{}", n.body);
}

// ---------------------------------------------------------------------------------------------
// 5. The audit log
// ---------------------------------------------------------------------------------------------

const AUDIT: &str = "query($s: ID!, $f: AuditFilter) { auditEvents(serviceId: $s, filter: $f, first: 100) { edges { node { id action objectType objectId actorKind actorPersonId partnerClientId schoolId requestId occurredAt } } } }";

/// A mutation sent with our own request id.
async fn with_request_id(app: &TestApp, token: &str, request_id: &str, query: &str, variables: Value) -> Answer {
    let a = app
        .send(
            app.client
                .post(app.url("/graphql"))
                .bearer_auth(token)
                .header("x-request-id", request_id)
                .json(&json!({ "query": query, "variables": variables })),
        )
        .await;
    assert_eq!(a.headers["x-request-id"], request_id, "the request id was kept");
    a
}

async fn audit_events(app: &TestApp, token: &str, service: &str, filter: Value) -> Vec<Value> {
    let a = app.gql(token, AUDIT, json!({ "s": service, "f": filter })).await;
    a.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn every_tenancy_change_is_audited_with_who_where_and_which_request() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let admin = viewer_person_id(&app, &t.admin.token).await;
    let rid = |step: &str| format!("audit-{step}-{}", t.tag);

    let a = with_request_id(
        &app,
        &t.admin.token,
        &rid("create"),
        CREATE_SCHOOL,
        json!({ "i": { "serviceId": t.service_id, "name": "Audited", "urn": "654321", "phase": "PRIMARY" } }),
    )
    .await;
    let school = a.ok()["createSchool"]["school"]["id"].as_str().unwrap().to_owned();
    let a = with_request_id(
        &app,
        &t.admin.token,
        &rid("update"),
        UPDATE_SCHOOL,
        json!({ "i": { "id": school, "name": "Audited again" } }),
    )
    .await;
    a.ok();
    let a = with_request_id(
        &app,
        &t.admin.token,
        &rid("archive"),
        "mutation($i: ArchiveSchoolInput!) { archiveSchool(input: $i) { school { id } } }",
        json!({ "i": { "id": school } }),
    )
    .await;
    a.ok();
    let a = with_request_id(
        &app,
        &t.admin.token,
        &rid("invite"),
        INVITE,
        json!({ "i": { "serviceId": t.service_id, "email": format!("audited-{}@test.invalid", t.tag), "displayName": "Audited", "role": "SENCO", "schoolId": t.school_a.id } }),
    )
    .await;
    let person = a.ok()["invitePerson"]["invitation"]["person"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invited_membership = a.ok()["invitePerson"]["invitation"]["membership"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = with_request_id(&app, &t.admin.token, &rid("grant"), GRANT, json!({ "i": { "personId": person, "serviceId": t.service_id, "role": "SCHOOL_LEADER", "schoolId": t.school_b.id } })).await;
    let membership = a.ok()["grantMembership"]["membership"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = with_request_id(
        &app,
        &t.admin.token,
        &rid("revoke"),
        REVOKE,
        json!({ "i": { "id": membership } }),
    )
    .await;
    a.ok();
    let a = with_request_id(
        &app,
        &t.admin.token,
        &rid("client"),
        "mutation($i: CreatePartnerClientInput!) { createPartnerClient(input: $i) { credentials { partnerClient { id } } } }",
        json!({ "i": { "serviceId": t.service_id, "name": "Audited client", "scopes": ["SCHOOLS_READ"] } }),
    )
    .await;
    let client = a.ok()["createPartnerClient"]["credentials"]["partnerClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = with_request_id(
        &app,
        &t.admin.token,
        &rid("rotate"),
        "mutation($i: RotatePartnerClientSecretInput!) { rotatePartnerClientSecret(input: $i) { credentials { clientSecret } } }",
        json!({ "i": { "id": client } }),
    )
    .await;
    a.ok();

    let expected = [
        ("school.create", "create", "School", &school, Some(&school)),
        ("school.update", "update", "School", &school, Some(&school)),
        ("school.archive", "archive", "School", &school, Some(&school)),
        ("person.invite", "invite", "Person", &person, Some(&t.school_a.id)),
        (
            "membership.grant",
            "invite",
            "Membership",
            &invited_membership,
            Some(&t.school_a.id),
        ),
        (
            "membership.grant",
            "grant",
            "Membership",
            &membership,
            Some(&t.school_b.id),
        ),
        (
            "membership.revoke",
            "revoke",
            "Membership",
            &membership,
            Some(&t.school_b.id),
        ),
        ("partner_client.create", "client", "PartnerClient", &client, None),
        ("partner_client.rotate_secret", "rotate", "PartnerClient", &client, None),
    ];
    for (action, step, kind, object, school_id) in expected {
        let events = audit_events(
            &app,
            &t.admin.token,
            &t.service_id,
            json!({ "action": action, "objectId": object }),
        )
        .await;
        assert_eq!(events.len(), 1, "one {action} of {object}: {events:?}");
        let e = &events[0];
        assert_eq!(e["action"], action);
        assert_eq!(e["objectType"], kind, "{e}");
        assert_eq!(e["objectId"], object.as_str(), "{e}");
        assert_eq!(e["actorKind"], "PERSON", "{e}");
        assert_eq!(e["actorPersonId"], admin.as_str(), "{action}: {e}");
        assert!(e["partnerClientId"].is_null(), "{e}");
        assert_eq!(
            e["schoolId"],
            school_id.map_or(Value::Null, |s| json!(s)),
            "{action}: {e}"
        );
        assert_eq!(e["requestId"], rid(step).as_str(), "{action}: {e}");
    }
    // Everything the invitation did carries its request id.
    let mut invited: Vec<String> = audit_events(&app, &t.admin.token, &t.service_id, json!({}))
        .await
        .into_iter()
        .filter(|e| e["requestId"] == rid("invite").as_str())
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    invited.sort();
    assert_eq!(invited, ["membership.grant", "person.create", "person.invite"]);
}

#[tokio::test]
async fn the_audit_log_filters_by_action_and_object_newest_first() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let made = app
        .create_school(&t.admin.token, &t.service_id, "Filtered School", "246810")
        .await;
    let a = app
        .gql(
            &t.admin.token,
            UPDATE_SCHOOL,
            json!({ "i": { "id": made.id, "phase": "SECONDARY" } }),
        )
        .await;
    a.ok();
    let a = app
        .gql(
            &t.admin.token,
            "mutation($i: ArchiveSchoolInput!) { archiveSchool(input: $i) { school { id } } }",
            json!({ "i": { "id": made.id } }),
        )
        .await;
    a.ok();

    let created = audit_events(
        &app,
        &t.admin.token,
        &t.service_id,
        json!({ "action": "school.create" }),
    )
    .await;
    assert_eq!(created.len(), 3, "schools A and B and the new one: {created:?}");
    assert!(created.iter().all(|e| e["action"] == "school.create"));
    let objects: Vec<&str> = created.iter().map(|e| e["objectId"].as_str().unwrap()).collect();
    for id in [&t.school_a.id, &t.school_b.id, &made.id] {
        assert!(objects.contains(&id.as_str()));
    }

    let of_school = audit_events(&app, &t.admin.token, &t.service_id, json!({ "objectId": made.id })).await;
    let actions: Vec<&str> = of_school.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["school.archive", "school.update", "school.create"],
        "newest first"
    );
    assert!(of_school.iter().all(|e| e["objectId"] == made.id.as_str()));

    let both = audit_events(
        &app,
        &t.admin.token,
        &t.service_id,
        json!({ "action": "school.update", "objectId": made.id }),
    )
    .await;
    assert_eq!(both.len(), 1);
    assert!(
        audit_events(
            &app,
            &t.admin.token,
            &t.service_id,
            json!({ "action": "school.update", "objectId": t.school_a.id })
        )
        .await
        .is_empty()
    );
    assert!(
        audit_events(
            &app,
            &t.admin.token,
            &t.service_id,
            json!({ "action": "no.such.action" })
        )
        .await
        .is_empty()
    );
    let for_school_a = audit_events(
        &app,
        &t.admin.token,
        &t.service_id,
        json!({ "schoolId": t.school_a.id }),
    )
    .await;
    assert!(!for_school_a.is_empty() && for_school_a.iter().all(|e| e["schoolId"] == t.school_a.id.as_str()));
}

#[tokio::test]
async fn an_audit_filter_with_an_object_id_that_is_not_an_id_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let a = app
        .gql(
            &t.admin.token,
            AUDIT,
            json!({ "s": t.service_id, "f": { "objectId": "not-an-id" } }),
        )
        .await;
    assert_eq!(a.code(), Some("BAD_USER_INPUT"), "{}", a.body);
    assert!(a.body["data"]["auditEvents"].is_null());
}

#[tokio::test]
async fn only_the_services_administrators_read_its_audit_log() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let other = app.tenant().await;
    let (client, _, _) = app
        .partner(
            &t,
            &["SCHOOLS_READ", "BOOKINGS_READ", "BOOKINGS_WRITE", "AVAILABILITY_READ"],
            None,
        )
        .await;
    let ask = |token: String| {
        let app = &app;
        let s = t.service_id.clone();
        async move { app.gql(&token, AUDIT, json!({ "s": s })).await }
    };
    assert!(
        !ask(t.admin.token.clone()).await.ok()["auditEvents"]["edges"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(ask(other.admin.token.clone()).await.code(), Some("NOT_FOUND"));
    for token in [
        &t.senco_a.token,
        &t.ep.token,
        &t.leader_a.token,
        &t.staff_a.token,
        &client.token,
    ] {
        let a = ask(token.clone()).await;
        assert_eq!(a.code(), Some("FORBIDDEN"), "{}", a.body);
    }
    // Another service's administrator cannot read this log by filtering their own either.
    let own = audit_events(
        &app,
        &other.admin.token,
        &other.service_id,
        json!({ "objectId": t.school_a.id }),
    )
    .await;
    assert!(own.is_empty());
}

const INVITE_WITH_CODE: &str = "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { invitation { code person { id } } userErrors { field code message } } }";

fn fresh_email(tag: &str) -> String {
    format!("{tag}-{}@test.invalid", uuid::Uuid::now_v7().simple())
}

#[tokio::test]
async fn an_invitation_code_is_never_given_for_another_services_account() {
    let app = TestApp::spawn().await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    // A invites someone; before they accept, B cannot invite (or take over) the same account.
    let email = fresh_email("shared");
    let first = app
        .gql(
            &a.admin.token,
            INVITE_WITH_CODE,
            json!({ "i": { "serviceId": a.service_id, "email": email, "displayName": "Shared Person", "role": "PSYCHOLOGIST" } }),
        )
        .await;
    let code = first.ok()["invitePerson"]["invitation"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let memberships = app.count("memberships").await;
    let blocked = app
        .gql(
            &b.admin.token,
            INVITE_WITH_CODE,
            json!({ "i": { "serviceId": b.service_id, "email": email, "displayName": "Taken Over", "role": "SERVICE_ADMIN" } }),
        )
        .await;
    assert_eq!(
        blocked.ok()["invitePerson"]["userErrors"][0]["code"],
        "NOT_ALLOWED",
        "{}",
        blocked.body
    );
    assert!(blocked.ok()["invitePerson"]["invitation"].is_null());
    assert_eq!(app.count("memberships").await, memberships, "nothing written");
    // Once they have signed in, B can add them: no code, they use their own password.
    let accepted = app
        .post(
            None,
            "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { session { accessToken } } }",
            json!({ "i": { "code": code, "password": scps_tests::PASSWORD } }),
        )
        .await;
    assert!(accepted.ok()["acceptInvitation"]["session"]["accessToken"].is_string());
    let added = app
        .gql(
            &b.admin.token,
            INVITE_WITH_CODE,
            json!({ "i": { "serviceId": b.service_id, "email": email, "displayName": "Shared Person", "role": "PSYCHOLOGIST" } }),
        )
        .await;
    let invitation = &added.ok()["invitePerson"]["invitation"];
    assert!(invitation["person"]["id"].is_string());
    assert!(
        invitation["code"].is_null(),
        "no code for an account that can already sign in"
    );
    let token = app.sign_in(&email, scps_tests::PASSWORD).await;
    let services = app.gql(&token, "{ viewer { services { id } } }", json!({})).await;
    assert_eq!(services.ok()["viewer"]["services"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_disabled_administrator_does_not_count_as_the_one_left() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let second = app
        .invite(
            &t.admin.token,
            &t.service_id,
            &fresh_email("admin2"),
            "SERVICE_ADMIN",
            None,
        )
        .await;
    let disable = "mutation($i: SetPersonDisabledInput!) { setPersonDisabled(input: $i) { person { status } userErrors { code message } } }";
    let a = app
        .gql(
            &t.admin.token,
            disable,
            json!({ "i": { "serviceId": t.service_id, "personId": second.person_id, "disabled": true } }),
        )
        .await;
    assert_eq!(a.ok()["setPersonDisabled"]["person"]["status"], "DISABLED");
    // The first administrator may not now give up their own role: the other one is disabled.
    let mine = app
        .gql(&t.admin.token, "{ viewer { memberships { id role } } }", json!({}))
        .await;
    let own = mine.ok()["viewer"]["memberships"][0]["id"].as_str().unwrap().to_owned();
    let revoke = app
        .gql(
            &t.admin.token,
            "mutation($i: RevokeMembershipInput!) { revokeMembership(input: $i) { membership { id } userErrors { code } } }",
            json!({ "i": { "id": own } }),
        )
        .await;
    assert_eq!(
        revoke.ok()["revokeMembership"]["userErrors"][0]["code"],
        "NOT_ALLOWED",
        "{}",
        revoke.body
    );
    // Enabled again, the second administrator may be the one left.
    app.gql(
        &t.admin.token,
        disable,
        json!({ "i": { "serviceId": t.service_id, "personId": second.person_id, "disabled": false } }),
    )
    .await
    .ok();
    let revoke = app
        .gql(
            &t.admin.token,
            "mutation($i: RevokeMembershipInput!) { revokeMembership(input: $i) { membership { id } userErrors { code } } }",
            json!({ "i": { "id": own } }),
        )
        .await;
    assert!(
        revoke.ok()["revokeMembership"]["membership"]["id"].is_string(),
        "{}",
        revoke.body
    );
}
