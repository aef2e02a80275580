//! Who may see and change EP time, as a matrix read from `domain::access::RULES`: the service's
//! time settings and units, contracts, EP calendars, bookings (made, confirmed, cancelled and
//! delivered), availability, the ledger and the time summary, asked by every kind of caller.
//!
//! Refusals follow one rule: what the caller cannot see at all (another service's, another
//! school's, an object their role never reads, or for an EP another EP's calendar) is
//! `NOT_FOUND`; what they can see but may not change is `FORBIDDEN`; a list their role can never
//! read is `FORBIDDEN`. A mutation that refers to a school the caller cannot see by id
//! (`createBooking`) says so in `userErrors` with code `NOT_FOUND`.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::access::{Action, PartnerScope, Relation, Role, table_allows};
use scps_tests::clock::{london, monday_in, rfc};
use scps_tests::matrix::{Expect, Seen, can, checked, judge, seen};
use scps_tests::{Account, Answer, Tenant, TestApp};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The callers and the targets of the matrix
// ---------------------------------------------------------------------------------------------

/// Everyone the matrix asks on behalf of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Admin,
    /// The link EP of school A's contract (with a booking at A).
    Ep,
    /// Another EP: link EP of school B's contract, with a booking at B; nothing at A.
    OtherEp,
    SencoA,
    SencoB,
    LeaderA,
    StaffA,
    /// A partner client limited to school A, with every scope.
    PartnerA,
    /// A partner client limited to school A, with AVAILABILITY_READ only.
    PartnerAvailability,
    /// The administrator of another tenant on the same server.
    OtherAdmin,
}

const EVERYONE: &[Who] = &[
    Who::Admin,
    Who::Ep,
    Who::OtherEp,
    Who::SencoA,
    Who::SencoB,
    Who::LeaderA,
    Who::StaffA,
    Who::PartnerA,
    Who::PartnerAvailability,
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

/// One of our two EPs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EpOf {
    /// The link EP of school A.
    Link,
    /// The other EP (link EP of school B).
    Other,
}

/// What an operation is aimed at. Everything but a service is of our tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// A service as a whole (its time settings).
    Service(Svc),
    /// Something of a school: its contract, its availability, its ledger, its summary row.
    School(Sch),
    /// An EP's calendar: working patterns, exceptions, availability, their summary row.
    Calendar(EpOf),
    /// A booking at a school in an EP's calendar.
    Booking(Sch, EpOf),
}

impl Target {
    fn svc(self) -> Svc {
        match self {
            Target::Service(s) => s,
            _ => Svc::Ours,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Target::Service(Svc::Ours) => "the_service",
            Target::Service(Svc::Theirs) => "the_other_tenants_service",
            Target::School(Sch::A) => "school_a",
            Target::School(Sch::B) => "school_b",
            Target::Calendar(EpOf::Link) => "the_link_eps_calendar",
            Target::Calendar(EpOf::Other) => "the_other_eps_calendar",
            Target::Booking(Sch::A, EpOf::Link) => "a_booking_at_school_a_by_the_link_ep",
            Target::Booking(Sch::B, EpOf::Other) => "a_booking_at_school_b_by_the_other_ep",
            Target::Booking(..) => "a_booking",
        }
    }
}

const AVAILABILITY_ONLY: &[PartnerScope] = &[PartnerScope::AvailabilityRead];

impl Who {
    fn label(self) -> &'static str {
        match self {
            Who::Admin => "the_service_admin",
            Who::Ep => "the_link_ep",
            Who::OtherEp => "another_ep",
            Who::SencoA => "school_as_senco",
            Who::SencoB => "school_bs_senco",
            Who::LeaderA => "school_as_leader",
            Who::StaffA => "school_as_staff",
            Who::PartnerA => "a_school_a_partner_with_every_scope",
            Who::PartnerAvailability => "a_school_a_partner_with_availability_read_only",
            Who::OtherAdmin => "another_services_admin",
        }
    }

    fn role(self) -> Role {
        match self {
            Who::Admin | Who::OtherAdmin => Role::ServiceAdmin,
            Who::Ep | Who::OtherEp => Role::Psychologist,
            Who::SencoA | Who::SencoB => Role::Senco,
            Who::LeaderA => Role::SchoolLeader,
            Who::StaffA => Role::SchoolStaff,
            Who::PartnerA | Who::PartnerAvailability => Role::PartnerClient,
        }
    }

    fn scopes(self) -> &'static [PartnerScope] {
        match self {
            Who::PartnerA => PartnerScope::ALL,
            Who::PartnerAvailability => AVAILABILITY_ONLY,
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
            Who::SencoA | Who::LeaderA | Who::StaffA | Who::PartnerA | Who::PartnerAvailability => Some(Sch::A),
            Who::SencoB => Some(Sch::B),
            Who::Admin | Who::Ep | Who::OtherEp | Who::OtherAdmin => None,
        }
    }

    /// The school an EP works with (link EP of its contract, booked there).
    fn linked(self) -> Option<Sch> {
        match self {
            Who::Ep => Some(Sch::A),
            Who::OtherEp => Some(Sch::B),
            _ => None,
        }
    }

    fn is_ep(self) -> bool {
        self.role() == Role::Psychologist
    }

    /// Whether the caller is this EP.
    fn is(self, ep: EpOf) -> bool {
        matches!((self, ep), (Who::Ep, EpOf::Link) | (Who::OtherEp, EpOf::Other))
    }
}

/// How something of a school relates to a caller of our service.
fn school_relation(who: Who, school: Sch) -> Relation {
    match (who.school(), who.linked()) {
        (Some(mine), _) if mine == school => Relation::OwnSchool,
        (Some(_), _) => Relation::OtherSchool,
        (None, Some(linked)) if linked == school => Relation::LinkedSchool,
        (None, Some(_)) => Relation::OtherSchool,
        // The administrator reaches the whole service.
        (None, None) => Relation::OwnSchool,
    }
}

/// How a target relates to a caller, in the table's terms.
fn relation(who: Who, target: Target) -> Relation {
    if who.service() != target.svc() {
        return Relation::OtherService;
    }
    match target {
        Target::Service(_) => Relation::OwnSchool,
        Target::School(school) => school_relation(who, school),
        Target::Calendar(ep) if who.is(ep) => Relation::OwnCalendar,
        Target::Calendar(_) if who == Who::Admin => Relation::OwnSchool,
        // An EP's calendar belongs to no school: nobody else's school reach covers it.
        Target::Calendar(_) => Relation::OtherSchool,
        Target::Booking(_, ep) if who.is(ep) => Relation::OwnCalendar,
        Target::Booking(school, _) => school_relation(who, school),
    }
}

/// What the table says about `who` taking `action` on `target`.
fn allows(who: Who, action: Action, target: Target) -> bool {
    table_allows(who.role(), who.scopes(), action, relation(who, target))
}

/// Whether `who` may take `action` anywhere at all (lists: readable at all, or FORBIDDEN).
fn allowed_somewhere(who: Who, action: Action) -> bool {
    [Relation::OwnSchool, Relation::LinkedSchool, Relation::OwnCalendar]
        .into_iter()
        .any(|r| table_allows(who.role(), who.scopes(), action, r))
}

/// Whether the caller can see a school at all, whatever the action (a member of its service, of
/// the school itself, or a partner client limited to it).
fn sees_school(who: Who, school: Sch) -> bool {
    who.service() == Svc::Ours && who.school().is_none_or(|mine| mine == school)
}

/// A read of one object: what the caller may not read does not exist for them.
fn expect_read(who: Who, action: Action, target: Target) -> Expect {
    if allows(who, action, target) {
        Expect::Allowed
    } else {
        Expect::Refused("NOT_FOUND")
    }
}

/// A list: FORBIDDEN when the caller's role can never read it.
fn expect_list(who: Who, action: Action) -> Expect {
    if allowed_somewhere(who, action) {
        Expect::Allowed
    } else {
        Expect::Refused("FORBIDDEN")
    }
}

/// A change to an existing object: FORBIDDEN where the caller may see it (`view`), NOT_FOUND
/// where they may not.
fn expect_change(who: Who, action: Action, view: Action, target: Target) -> Expect {
    if allows(who, action, target) {
        Expect::Allowed
    } else if allows(who, view, target) {
        Expect::Refused("FORBIDDEN")
    } else {
        Expect::Refused("NOT_FOUND")
    }
}

/// Something of a school, named by the school's id: FORBIDDEN where the caller can see the
/// school, NOT_FOUND where not.
fn expect_at_school(who: Who, action: Action, school: Sch) -> Expect {
    if allows(who, action, Target::School(school)) {
        Expect::Allowed
    } else if sees_school(who, school) {
        Expect::Refused("FORBIDDEN")
    } else {
        Expect::Refused("NOT_FOUND")
    }
}

/// Something of a service as a whole.
fn expect_at_service(who: Who, action: Action, target: Target) -> Expect {
    if allows(who, action, target) {
        Expect::Allowed
    } else if relation(who, target) == Relation::OtherService {
        Expect::Refused("NOT_FOUND")
    } else {
        Expect::Refused("FORBIDDEN")
    }
}

/// An EP's calendar: another service's is not found; within the service, where the EP is a known
/// colleague, a calendar the caller may not use is forbidden.
fn expect_calendar(who: Who, action: Action, target: Target) -> Expect {
    if allows(who, action, target) {
        Expect::Allowed
    } else if relation(who, target) == Relation::OtherService {
        Expect::Refused("NOT_FOUND")
    } else {
        Expect::Refused("FORBIDDEN")
    }
}

/// A new booking at a school in an EP's calendar: a school the caller cannot see is a
/// `userErrors` NOT_FOUND on `schoolId`; the rest is FORBIDDEN.
fn expect_new_booking(who: Who, school: Sch, ep: EpOf) -> Expect {
    if allows(who, Action::ManageBookings, Target::Booking(school, ep)) {
        Expect::Allowed
    } else if !sees_school(who, school) {
        Expect::UserError("NOT_FOUND")
    } else {
        Expect::Refused("FORBIDDEN")
    }
}

/// One cell of the matrix.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    who: Who,
    target: Target,
    expect: Expect,
}

fn cases_for(targets: &[Target], case: impl Fn(Who, Target) -> (String, Expect)) -> Vec<Case> {
    let mut out = Vec::new();
    for &target in targets {
        for &who in EVERYONE {
            let (name, expect) = case(who, target);
            out.push(Case {
                name,
                who,
                target,
                expect,
            });
        }
    }
    out
}

/// Cases named `<who>_<can|cannot>_<verb>_<target>`.
fn named_cases(targets: &[Target], verb: &str, expect: impl Fn(Who, Target) -> Expect) -> Vec<Case> {
    cases_for(targets, |who, target| {
        let e = expect(who, target);
        (format!("{}_{}_{verb}_{}", who.label(), can(e), target.words()), e)
    })
}

const SCHOOLS: &[Target] = &[Target::School(Sch::A), Target::School(Sch::B)];
const CALENDARS: &[Target] = &[Target::Calendar(EpOf::Link), Target::Calendar(EpOf::Other)];
const SERVICES: &[Target] = &[Target::Service(Svc::Ours), Target::Service(Svc::Theirs)];
const BOOKING_A: Target = Target::Booking(Sch::A, EpOf::Link);
const BOOKINGS: &[Target] = &[BOOKING_A, Target::Booking(Sch::B, EpOf::Other)];

// ---------------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------------

/// The `n`th of the hourly weekday starts (09:00 to 16:00, Monday to Friday) counted from the
/// Monday `first_week` weeks away, going forward a week at a time (`step` 1) or back (`step` -1).
fn slot(first_week: i64, step: i64, n: u32) -> DateTime<Utc> {
    let n = i64::from(n);
    let week = first_week + step * (n / 40);
    let day = monday_in(week) + Duration::days((n % 40) / 8);
    london(day, 9 + u32::try_from(n % 8).unwrap(), 0)
}

/// Minutes of every booking the matrix makes.
const BOOKING_MINUTES: i64 = 30;

// ---------------------------------------------------------------------------------------------
// The world the matrix runs in
// ---------------------------------------------------------------------------------------------

/// Our tenant, whose EPs work Monday to Friday, 09:00 to 17:00; school A has a contract with the
/// link EP, school B one with the other EP; each EP has a booking at their school (two weeks
/// ahead). Another tenant, and two partner clients limited to school A.
struct World {
    app: TestApp,
    ours: Tenant,
    theirs: Tenant,
    partner_a: Account,
    partner_availability: Account,
    unit_day: String,
    contract_a: String,
    contract_b: String,
    booking_a: String,
    booking_b: String,
    counter: AtomicU32,
}

const BOOK: &str = "mutation($i: CreateBookingInput!) { createBooking(input: $i) { result { booking { id status schoolId epId } warnings } userErrors { field message code } } }";

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
        for ep in [&ours.ep, &ours.other_ep] {
            let a = app
                .gql(
                    &ours.admin.token,
                    "mutation($i: SetWorkingPatternInput!) { setWorkingPattern(input: $i) { workingPattern { id } userErrors { field message } } }",
                    json!({ "i": { "serviceId": ours.service_id, "epId": ep.person_id, "effectiveFrom": "2020-01-01", "fte": 1.0, "hours": working_week() } }),
                )
                .await;
            assert!(
                a.ok()["setWorkingPattern"]["workingPattern"]["id"].is_string(),
                "{}",
                a.body
            );
        }
        let units = app
            .gql(
                &ours.admin.token,
                "query($id: ID!) { service(id: $id) { units { id name } } }",
                json!({ "id": ours.service_id }),
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
        let today = Utc::now().date_naive();
        let mut contracts = Vec::new();
        for (school, ep) in [(&ours.school_a, &ours.ep), (&ours.school_b, &ours.other_ep)] {
            let a = app
                .gql(
                    &ours.admin.token,
                    "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } userErrors { field message code } } }",
                    json!({ "i": {
                        "schoolId": school.id, "periodKind": "ACADEMIC_YEAR",
                        "startsOn": (today - Duration::days(60)).to_string(), "endsOn": (today + Duration::days(300)).to_string(),
                        "fundingStream": "TRADED", "unitId": unit_day, "quantity": 10, "linkEpId": ep.person_id, "pricePence": 450000
                    } }),
                )
                .await;
            contracts.push(
                a.ok()["createContract"]["contract"]["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("contract: {}", a.body))
                    .to_owned(),
            );
        }
        let mut bookings = Vec::new();
        for (school, ep) in [(&ours.school_a, &ours.ep), (&ours.school_b, &ours.other_ep)] {
            let a = app
                .gql(
                    &ours.admin.token,
                    BOOK,
                    json!({ "i": booking_input(&school.id, &ep.person_id, london(monday_in(2), 10, 0), "CONFIRMED") }),
                )
                .await;
            bookings.push(booked_id(&a));
        }
        let (partner_a, _, _) = app
            .partner(
                &ours,
                &["SCHOOLS_READ", "BOOKINGS_READ", "BOOKINGS_WRITE", "AVAILABILITY_READ"],
                Some(vec![&ours.school_a.id]),
            )
            .await;
        let (partner_availability, _, _) = app
            .partner(&ours, &["AVAILABILITY_READ"], Some(vec![&ours.school_a.id]))
            .await;
        let [contract_a, contract_b] = <[String; 2]>::try_from(contracts).unwrap();
        let [booking_a, booking_b] = <[String; 2]>::try_from(bookings).unwrap();
        Self {
            app,
            ours,
            theirs,
            partner_a,
            partner_availability,
            unit_day,
            contract_a,
            contract_b,
            booking_a,
            booking_b,
            counter: AtomicU32::new(0),
        }
    }

    fn token(&self, who: Who) -> &str {
        match who {
            Who::Admin => &self.ours.admin.token,
            Who::Ep => &self.ours.ep.token,
            Who::OtherEp => &self.ours.other_ep.token,
            Who::SencoA => &self.ours.senco_a.token,
            Who::SencoB => &self.ours.senco_b.token,
            Who::LeaderA => &self.ours.leader_a.token,
            Who::StaffA => &self.ours.staff_a.token,
            Who::PartnerA => &self.partner_a.token,
            Who::PartnerAvailability => &self.partner_availability.token,
            Who::OtherAdmin => &self.theirs.admin.token,
        }
    }

    fn service_id(&self, svc: Svc) -> &str {
        match svc {
            Svc::Ours => &self.ours.service_id,
            Svc::Theirs => &self.theirs.service_id,
        }
    }

    fn school_id(&self, school: Sch) -> &str {
        match school {
            Sch::A => &self.ours.school_a.id,
            Sch::B => &self.ours.school_b.id,
        }
    }

    fn ep_id(&self, ep: EpOf) -> &str {
        match ep {
            EpOf::Link => &self.ours.ep.person_id,
            EpOf::Other => &self.ours.other_ep.person_id,
        }
    }

    fn contract_id(&self, school: Sch) -> &str {
        match school {
            Sch::A => &self.contract_a,
            Sch::B => &self.contract_b,
        }
    }

    /// The fixture booking of a target (at A by the link EP, at B by the other EP).
    fn booking_id(&self, target: Target) -> &str {
        match target {
            Target::Booking(Sch::A, EpOf::Link) => &self.booking_a,
            Target::Booking(Sch::B, EpOf::Other) => &self.booking_b,
            other => panic!("no fixture booking for {other:?}"),
        }
    }

    fn unique(&self) -> u32 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// A free hour start three weeks ahead or later, never used before in this world.
    fn future_slot(&self) -> DateTime<Utc> {
        slot(3, 1, self.unique())
    }

    /// An hour start last week or earlier, never used before in this world.
    fn past_slot(&self) -> DateTime<Utc> {
        slot(-1, -1, self.unique())
    }

    async fn ask(&self, who: Who, query: &str, variables: Value) -> Answer {
        self.app.gql(self.token(who), query, variables).await
    }

    /// A new booking at `target`'s school in its EP's calendar, made by the administrator.
    async fn fresh_booking(&self, target: Target, starts_at: DateTime<Utc>, status: &str) -> String {
        let Target::Booking(school, ep) = target else {
            panic!("not a booking: {target:?}")
        };
        let a = self
            .app
            .gql(
                &self.ours.admin.token,
                BOOK,
                json!({ "i": booking_input(self.school_id(school), self.ep_id(ep), starts_at, status) }),
            )
            .await;
        booked_id(&a)
    }
}

fn working_week() -> Vec<Value> {
    (1..=5)
        .map(|d| json!({ "weekday": d, "startsAt": "09:00", "endsAt": "17:00" }))
        .collect()
}

fn booking_input(school: &str, ep: &str, start: DateTime<Utc>, status: &str) -> Value {
    json!({
        "schoolId": school, "epId": ep, "kind": "CONSULTATION", "status": status,
        "startsAt": rfc(start), "endsAt": rfc(start + Duration::minutes(BOOKING_MINUTES)),
        // Fixtures are booked by administrators, in the past too (with a reason).
        "shortNoticeReason": "A fixture",
    })
}

fn booked_id(a: &Answer) -> String {
    a.ok()["createBooking"]["result"]["booking"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a booking: {}", a.body))
        .to_owned()
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
/// write nothing (no audit event); an allowed mutation must leave an audit event. Returns a line
/// per failing case.
async fn run_cases<P, A>(w: &World, kind: Kind, cases: &[Case], prepare: P, act: A) -> Vec<String>
where
    P: AsyncFn(&World, &Case) -> Value,
    A: AsyncFn(&World, &Case, &Value) -> Seen,
{
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
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

fn assert_no_failures(failures: &[String], total: usize) {
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The generic matrix runner: every case runs, and a failure names each failing case.
async fn run_matrix<P, A>(w: &World, kind: Kind, cases: Vec<Case>, prepare: P, act: A)
where
    P: AsyncFn(&World, &Case) -> Value,
    A: AsyncFn(&World, &Case, &Value) -> Seen,
{
    assert!(!cases.is_empty(), "a matrix has cases");
    let failures = run_cases(w, kind, &cases, prepare, act).await;
    assert_no_failures(&failures, cases.len());
}

async fn nothing(_: &World, _: &Case) -> Value {
    Value::Null
}

fn edges<'a>(connection: &'a Value, field: &str) -> Vec<&'a str> {
    connection["edges"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["node"][field].as_str()).collect())
        .unwrap_or_default()
}

/// Checks that exactly the expected ones of `candidates` (label, id, should be shown) are in
/// `shown`.
fn shows_exactly(shown: &[&str], candidates: &[(&str, &str, bool)]) -> Result<(), String> {
    for (label, id, should) in candidates {
        let is = shown.contains(id);
        if is != *should {
            return Err(format!("{label}: shown {is}, should be {should} (shown: {shown:?})"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 1. The service's time settings and units
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn matrix_time_settings_and_units() {
    let w = World::new().await;
    let settings = named_cases(SERVICES, "see_the_time_settings_of", |who, target| {
        expect_read(who, Action::ViewTimeSettings, target)
    });
    let units = named_cases(SERVICES, "see_the_units_of", |who, target| {
        expect_read(who, Action::ViewTimeSettings, target)
    });
    let mut failures = run_cases(
        &w,
        Kind::Query,
        &settings,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let a = w
                .ask(
                    case.who,
                    "query($id: ID!) { service(id: $id) { timeSettings { cancellationNoticeHours overbookingPolicy } } }",
                    json!({ "id": w.service_id(case.target.svc()) }),
                )
                .await;
            checked(seen(&a, "service"), |v| {
                if v["timeSettings"]["cancellationNoticeHours"] == 48 {
                    Ok(())
                } else {
                    Err(format!("not the default settings: {v}"))
                }
            })
        },
    )
    .await;
    failures.extend(
        run_cases(
            &w,
            Kind::Query,
            &units,
            nothing,
            async |w: &World, case: &Case, _: &Value| {
                let a = w
                    .ask(
                        case.who,
                        "query($id: ID!) { service(id: $id) { units { id name minutes } } }",
                        json!({ "id": w.service_id(case.target.svc()) }),
                    )
                    .await;
                checked(seen(&a, "service"), |v| {
                    let day = v["units"]
                        .as_array()
                        .and_then(|u| u.iter().find(|u| u["name"] == "day"));
                    match day {
                        Some(d) if d["minutes"] == 390 => Ok(()),
                        _ => Err(format!("no 390-minute day among the units: {v}")),
                    }
                })
            },
        )
        .await,
    );
    assert_no_failures(&failures, settings.len() + units.len());
}

#[tokio::test]
async fn matrix_update_time_settings() {
    let w = World::new().await;
    let cases = named_cases(SERVICES, "update_the_time_settings_of", |who, target| {
        expect_at_service(who, Action::ManageTimeSettings, target)
    });
    run_matrix(&w, Kind::Mutation, cases, nothing, async |w: &World, case: &Case, _: &Value| {
        let tolerance = 20 + w.unique() % 50;
        let a = w
            .ask(
                case.who,
                "mutation($i: UpdateTimeSettingsInput!) { updateTimeSettings(input: $i) { timeSettings { underUseTolerancePercent } userErrors { field message code } } }",
                json!({ "i": { "serviceId": w.service_id(case.target.svc()), "underUseTolerancePercent": tolerance } }),
            )
            .await;
        checked(seen(&a, "updateTimeSettings"), |v| {
            if v["timeSettings"]["underUseTolerancePercent"] == tolerance { Ok(()) } else { Err(format!("not changed: {v}")) }
        })
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 2. Contracts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn matrix_the_contracts_list() {
    let w = World::new().await;
    let cases = named_cases(&[Target::Service(Svc::Ours)], "list_contracts_in", |who, _| {
        expect_list(who, Action::ViewContracts)
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
                    "{ contracts(first: 100) { edges { node { id } } } }",
                    json!({}),
                )
                .await;
            checked(seen(&a, "contracts"), |v| {
                let shown = edges(v, "id");
                shows_exactly(
                    &shown,
                    &[
                        (
                            "school A's contract",
                            w.contract_id(Sch::A),
                            allows(case.who, Action::ViewContracts, Target::School(Sch::A)),
                        ),
                        (
                            "school B's contract",
                            w.contract_id(Sch::B),
                            allows(case.who, Action::ViewContracts, Target::School(Sch::B)),
                        ),
                    ],
                )
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_one_contract_by_id() {
    let w = World::new().await;
    let cases = named_cases(SCHOOLS, "see_the_contract_of", |who, target| {
        expect_read(who, Action::ViewContracts, target)
    });
    run_matrix(
        &w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let Target::School(school) = case.target else {
                unreachable!()
            };
            let id = w.contract_id(school);
            let a = w
                .ask(
                    case.who,
                    "query($id: ID!) { contract(id: $id) { id balance { purchasedMinutes } } }",
                    json!({ "id": id }),
                )
                .await;
            checked(seen(&a, "contract"), |v| {
                if v["id"] == id && v["balance"]["purchasedMinutes"] == 3900 {
                    Ok(())
                } else {
                    Err(format!("another contract, or its balance, came back: {v}"))
                }
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_create_update_and_top_up_contracts() {
    let w = World::new().await;
    let create = named_cases(SCHOOLS, "create_a_contract_for", |who, target| {
        let Target::School(school) = target else { unreachable!() };
        expect_at_school(who, Action::ManageContracts, school)
    });
    let update = named_cases(SCHOOLS, "update_the_contract_of", |who, target| {
        expect_change(who, Action::ManageContracts, Action::ViewContracts, target)
    });
    let top_up = named_cases(SCHOOLS, "top_up_the_contract_of", |who, target| {
        expect_change(who, Action::ManageContracts, Action::ViewContracts, target)
    });
    let mut failures = run_cases(&w, Kind::Mutation, &create, nothing, async |w: &World, case: &Case, _: &Value| {
        let Target::School(school) = case.target else { unreachable!() };
        // A financial year of its own, far ahead, so that it never overlaps another contract.
        let year = 2040 + i32::try_from(w.unique()).unwrap();
        let a = w
            .ask(
                case.who,
                "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id school { id } } userErrors { field message code } } }",
                json!({ "i": { "schoolId": w.school_id(school), "periodKind": "FINANCIAL_YEAR", "startsOn": format!("{year}-04-01"), "endsOn": format!("{}-03-31", year + 1), "fundingStream": "TRADED", "unitId": w.unit_day, "quantity": 2 } }),
            )
            .await;
        checked(seen(&a, "createContract"), |v| {
            if v["contract"]["id"].is_string() { Ok(()) } else { Err(format!("no contract: {v}")) }
        })
    })
    .await;
    failures.extend(
        run_cases(&w, Kind::Mutation, &update, nothing, async |w: &World, case: &Case, _: &Value| {
            let Target::School(school) = case.target else { unreachable!() };
            let price = 400_000 + i64::from(w.unique());
            let a = w
                .ask(
                    case.who,
                    "mutation($i: UpdateContractInput!) { updateContract(input: $i) { contract { id pricePence } userErrors { field message code } } }",
                    json!({ "i": { "id": w.contract_id(school), "pricePence": price } }),
                )
                .await;
            checked(seen(&a, "updateContract"), |v| {
                if v["contract"]["pricePence"] == price { Ok(()) } else { Err(format!("not updated: {v}")) }
            })
        })
        .await,
    );
    failures.extend(
        run_cases(&w, Kind::Mutation, &top_up, nothing, async |w: &World, case: &Case, _: &Value| {
            let Target::School(school) = case.target else { unreachable!() };
            let a = w
                .ask(
                    case.who,
                    "mutation($i: TopUpContractInput!) { topUpContract(input: $i) { contract { id topUps { minutes } } userErrors { field message code } } }",
                    json!({ "i": { "contractId": w.contract_id(school), "quantity": 1, "reason": "An extra day agreed" } }),
                )
                .await;
            checked(seen(&a, "topUpContract"), |v| {
                if v["contract"]["topUps"].as_array().is_some_and(|t| !t.is_empty()) { Ok(()) } else { Err(format!("not topped up: {v}")) }
            })
        })
        .await,
    );
    assert_no_failures(&failures, create.len() + update.len() + top_up.len());
}

// ---------------------------------------------------------------------------------------------
// 3. EP calendars
// ---------------------------------------------------------------------------------------------

fn ep_calendar_cases() -> Vec<Case> {
    named_cases(CALENDARS, "see", |who, target| {
        expect_calendar(who, Action::ViewCalendars, target)
    })
}

async fn run_ep_calendar(w: &World, cases: Vec<Case>) {
    run_matrix(
        w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let Target::Calendar(ep) = case.target else { unreachable!() };
            let from = london(monday_in(1), 0, 0);
            let a = w
                .ask(
                    case.who,
                    "query($s: ID!, $e: ID!, $f: DateTime!, $t: DateTime!) { epCalendar(serviceId: $s, epId: $e, from: $f, to: $t) { epId workingPatterns { hours { weekday } } exceptions { id } } }",
                    json!({ "s": w.ours.service_id, "e": w.ep_id(ep), "f": rfc(from), "t": rfc(from + Duration::days(14)) }),
                )
                .await;
            checked(seen(&a, "epCalendar"), |v| {
                let days = v["workingPatterns"][0]["hours"].as_array().map_or(0, Vec::len);
                if v["epId"] == w.ep_id(ep) && days == 5 {
                    Ok(())
                } else {
                    Err(format!("not the EP's working week: {v}"))
                }
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_ep_calendar() {
    let w = World::new().await;
    run_ep_calendar(&w, ep_calendar_cases()).await;
}

fn calendar_change_cases() -> (Vec<Case>, Vec<Case>) {
    let expect = |who, target| expect_calendar(who, Action::ManageCalendars, target);
    (
        named_cases(CALENDARS, "set_the_working_pattern_in", expect),
        named_cases(CALENDARS, "record_leave_in", expect),
    )
}

async fn run_calendar_changes(w: &World, patterns: &[Case], exceptions: &[Case]) {
    let mut failures = run_cases(w, Kind::Mutation, patterns, nothing, async |w: &World, case: &Case, _: &Value| {
        let Target::Calendar(ep) = case.target else { unreachable!() };
        // The same working week again: a change that leaves the calendar as it was.
        let a = w
            .ask(
                case.who,
                "mutation($i: SetWorkingPatternInput!) { setWorkingPattern(input: $i) { workingPattern { id epId hours { weekday } } userErrors { field message code } } }",
                json!({ "i": { "serviceId": w.ours.service_id, "epId": w.ep_id(ep), "effectiveFrom": "2020-01-01", "fte": 1.0, "hours": working_week() } }),
            )
            .await;
        checked(seen(&a, "setWorkingPattern"), |v| {
            if v["workingPattern"]["epId"] == w.ep_id(ep) { Ok(()) } else { Err(format!("no pattern: {v}")) }
        })
    })
    .await;
    failures.extend(
        run_cases(w, Kind::Mutation, exceptions, nothing, async |w: &World, case: &Case, _: &Value| {
            let Target::Calendar(ep) = case.target else { unreachable!() };
            let from = slot(20, 1, w.unique());
            let a = w
                .ask(
                    case.who,
                    "mutation($i: AddCalendarExceptionInput!) { addCalendarException(input: $i) { exception { id epId kind } userErrors { field message code } } }",
                    json!({ "i": { "serviceId": w.ours.service_id, "epId": w.ep_id(ep), "kind": "TRAINING", "startsAt": rfc(from), "endsAt": rfc(from + Duration::hours(1)), "reason": "A course" } }),
                )
                .await;
            checked(seen(&a, "addCalendarException"), |v| {
                if v["exception"]["epId"] == w.ep_id(ep) && v["exception"]["kind"] == "TRAINING" { Ok(()) } else { Err(format!("no exception: {v}")) }
            })
        })
        .await,
    );
    assert_no_failures(&failures, patterns.len() + exceptions.len());
}

#[tokio::test]
async fn matrix_set_working_pattern_and_add_calendar_exception() {
    let w = World::new().await;
    let (patterns, exceptions) = calendar_change_cases();
    run_calendar_changes(&w, &patterns, &exceptions).await;
}

// ---------------------------------------------------------------------------------------------
// 4. Bookings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn matrix_the_bookings_list() {
    let w = World::new().await;
    let cases = named_cases(&[Target::Service(Svc::Ours)], "list_bookings_in", |who, _| {
        expect_list(who, Action::ViewBookings)
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
                    "{ bookings(first: 100) { edges { node { id } } } }",
                    json!({}),
                )
                .await;
            checked(seen(&a, "bookings"), |v| {
                let shown = edges(v, "id");
                let candidates: Vec<(&str, &str, bool)> = BOOKINGS
                    .iter()
                    .map(|&b| (b.words(), w.booking_id(b), allows(case.who, Action::ViewBookings, b)))
                    .collect();
                shows_exactly(&shown, &candidates)
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_one_booking_by_id() {
    let w = World::new().await;
    let cases = named_cases(BOOKINGS, "see", |who, target| {
        expect_read(who, Action::ViewBookings, target)
    });
    run_matrix(
        &w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let id = w.booking_id(case.target);
            let a = w
                .ask(
                    case.who,
                    "query($id: ID!) { booking(id: $id) { id status } }",
                    json!({ "id": id }),
                )
                .await;
            checked(seen(&a, "booking"), |v| {
                if v["id"] == id && v["status"] == "CONFIRMED" {
                    Ok(())
                } else {
                    Err(format!("another booking came back: {v}"))
                }
            })
        },
    )
    .await;
}

fn create_booking_cases() -> Vec<Case> {
    named_cases(&[BOOKING_A], "make", |who, target| {
        let Target::Booking(school, ep) = target else {
            unreachable!()
        };
        expect_new_booking(who, school, ep)
    })
}

async fn run_create_booking(w: &World, cases: Vec<Case>) {
    run_matrix(
        w,
        Kind::Mutation,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let Target::Booking(school, ep) = case.target else {
                unreachable!()
            };
            let a = w
                .ask(
                    case.who,
                    BOOK,
                    json!({ "i": booking_input(w.school_id(school), w.ep_id(ep), w.future_slot(), "CONFIRMED") }),
                )
                .await;
            checked(seen(&a, "createBooking"), |v| {
                let b = &v["result"]["booking"];
                if b["schoolId"] == w.school_id(school) && b["epId"] == w.ep_id(ep) {
                    Ok(())
                } else {
                    Err(format!("not the booking asked for: {v}"))
                }
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_create_booking() {
    let w = World::new().await;
    run_create_booking(&w, create_booking_cases()).await;
}

#[tokio::test]
async fn matrix_cancel_booking() {
    let w = World::new().await;
    let cases = named_cases(&[BOOKING_A], "cancel", |who, target| {
        expect_change(who, Action::CancelBookings, Action::ViewBookings, target)
    });
    run_matrix(
        &w,
        Kind::Mutation,
        cases,
        async |w: &World, case: &Case| json!(w.fresh_booking(case.target, w.future_slot(), "CONFIRMED").await),
        async |w: &World, case: &Case, id: &Value| {
            // Administrators say on whose behalf; EPs offer an alternative, as the default policy
            // asks of them; everyone else cancels as themselves.
            let mut input = json!({ "id": id, "reason": "No longer needed" });
            if case.who.role() == Role::ServiceAdmin {
                input["cancelledFor"] = json!("SCHOOL");
            }
            if case.who.is_ep() {
                input["alternativeBookingId"] = json!(w.booking_a);
            }
            let a = w
                .ask(
                    case.who,
                    "mutation($i: CancelBookingInput!) { cancelBooking(input: $i) { result { booking { id status } } userErrors { field message code } } }",
                    json!({ "i": input }),
                )
                .await;
            checked(seen(&a, "cancelBooking"), |v| {
                let b = &v["result"]["booking"];
                if b["id"] == *id && b["status"] == "CANCELLED" {
                    Ok(())
                } else {
                    Err(format!("not cancelled: {v}"))
                }
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_confirm_booking() {
    let w = World::new().await;
    let cases = named_cases(&[BOOKING_A], "confirm", |who, target| {
        expect_change(who, Action::ManageBookings, Action::ViewBookings, target)
    });
    run_matrix(
        &w,
        Kind::Mutation,
        cases,
        async |w: &World, case: &Case| json!(w.fresh_booking(case.target, w.future_slot(), "TENTATIVE").await),
        async |w: &World, case: &Case, id: &Value| {
            let a = w
                .ask(
                    case.who,
                    "mutation($i: BookingIdInput!) { confirmBooking(input: $i) { booking { id status } userErrors { field message code } } }",
                    json!({ "i": { "id": id } }),
                )
                .await;
            checked(seen(&a, "confirmBooking"), |v| {
                if v["booking"]["id"] == *id && v["booking"]["status"] == "CONFIRMED" {
                    Ok(())
                } else {
                    Err(format!("not confirmed: {v}"))
                }
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_record_delivery() {
    let w = World::new().await;
    let cases = named_cases(&[BOOKING_A], "record_delivery_of", |who, target| {
        expect_change(who, Action::RecordDelivery, Action::ViewBookings, target)
    });
    run_matrix(
        &w,
        Kind::Mutation,
        cases,
        // Administrators may book in the past: a booking that has taken place.
        async |w: &World, case: &Case| json!(w.fresh_booking(case.target, w.past_slot(), "CONFIRMED").await),
        async |w: &World, case: &Case, id: &Value| {
            let a = w
                .ask(
                    case.who,
                    "mutation($i: RecordDeliveryInput!) { recordDelivery(input: $i) { booking { id status } userErrors { field message code } } }",
                    json!({ "i": { "id": id } }),
                )
                .await;
            checked(seen(&a, "recordDelivery"), |v| {
                if v["booking"]["id"] == *id && v["booking"]["status"] == "DELIVERED" {
                    Ok(())
                } else {
                    Err(format!("not delivered: {v}"))
                }
            })
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// 5. Availability
// ---------------------------------------------------------------------------------------------

/// A free day for the search: a Wednesday four weeks ahead (nothing is booked then).
fn search_day() -> NaiveDate {
    monday_in(4) + Duration::days(2)
}

const SEARCH: &str = "query($i: AvailabilityInput!) { availability(input: $i, first: 100) { edges { node { startsAt epId schoolId } } } }";

/// Checks that the search found slots, all in `ep`'s calendar.
fn all_slots_of(v: &Value, ep: &str) -> Result<(), String> {
    let eps = edges(v, "epId");
    if !eps.is_empty() && eps.iter().all(|e| *e == ep) {
        Ok(())
    } else {
        Err(format!("expected free slots of {ep} only: {v}"))
    }
}

#[tokio::test]
async fn matrix_availability_at_a_school() {
    let w = World::new().await;
    let cases = named_cases(SCHOOLS, "search_free_slots_at", |who, target| {
        let Target::School(school) = target else { unreachable!() };
        expect_at_school(who, Action::ViewAvailability, school)
    });
    run_matrix(
        &w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let Target::School(school) = case.target else { unreachable!() };
            let day = search_day();
            let a = w
                .ask(
                    case.who,
                    SEARCH,
                    json!({ "i": { "schoolId": w.school_id(school), "from": rfc(london(day, 0, 0)), "to": rfc(london(day, 23, 0)), "durationMinutes": 60 } }),
                )
                .await;
            // A school's search finds its link EP's time.
            let link = match school {
                Sch::A => w.ep_id(EpOf::Link),
                Sch::B => w.ep_id(EpOf::Other),
            };
            checked(seen(&a, "availability"), |v| all_slots_of(v, link))
        },
    )
    .await;
}

fn availability_of_ep_cases() -> Vec<Case> {
    named_cases(CALENDARS, "search_free_slots_in", |who, target| {
        expect_calendar(who, Action::ViewAvailability, target)
    })
}

async fn run_availability_of_ep(w: &World, cases: Vec<Case>) {
    run_matrix(
        w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let Target::Calendar(ep) = case.target else { unreachable!() };
            let day = search_day();
            let a = w
                .ask(
                    case.who,
                    SEARCH,
                    json!({ "i": { "epId": w.ep_id(ep), "serviceId": w.ours.service_id, "from": rfc(london(day, 0, 0)), "to": rfc(london(day, 23, 0)), "durationMinutes": 60 } }),
                )
                .await;
            checked(seen(&a, "availability"), |v| all_slots_of(v, w.ep_id(ep)))
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_availability_of_an_ep() {
    let w = World::new().await;
    run_availability_of_ep(&w, availability_of_ep_cases()).await;
}

// ---------------------------------------------------------------------------------------------
// 6. The ledger and the summary
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn matrix_the_ledger_entries_list() {
    let w = World::new().await;
    let cases = named_cases(&[Target::Service(Svc::Ours)], "list_ledger_entries_in", |who, _| {
        expect_list(who, Action::ViewLedger)
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
                    "{ ledgerEntries(first: 100) { edges { node { id bookingId } } } }",
                    json!({}),
                )
                .await;
            checked(seen(&a, "ledgerEntries"), |v| {
                let shown = edges(v, "bookingId");
                let candidates: Vec<(&str, &str, bool)> = BOOKINGS
                    .iter()
                    .map(|&b| (b.words(), w.booking_id(b), allows(case.who, Action::ViewLedger, b)))
                    .collect();
                shows_exactly(&shown, &candidates)
            })
        },
    )
    .await;
}

#[tokio::test]
async fn matrix_adjust_ledger() {
    let w = World::new().await;
    let cases = named_cases(SCHOOLS, "adjust_the_ledger_of", |who, target| {
        let Target::School(school) = target else { unreachable!() };
        expect_at_school(who, Action::AdjustLedger, school)
    });
    run_matrix(&w, Kind::Mutation, cases, nothing, async |w: &World, case: &Case, _: &Value| {
        let Target::School(school) = case.target else { unreachable!() };
        let a = w
            .ask(
                case.who,
                "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { entry { kind schoolId minutes } userErrors { field message code } } }",
                json!({ "i": { "schoolId": w.school_id(school), "fundingStream": "TRADED", "minutes": -15, "appliesOn": Utc::now().date_naive().to_string(), "reason": "A meeting overran by our mistake" } }),
            )
            .await;
        checked(seen(&a, "adjustLedger"), |v| {
            if v["entry"]["kind"] == "ADJUSTMENT" && v["entry"]["schoolId"] == w.school_id(school) { Ok(()) } else { Err(format!("no adjustment: {v}")) }
        })
    })
    .await;
}

#[tokio::test]
async fn matrix_the_time_summary() {
    let w = World::new().await;
    let cases = named_cases(
        &[Target::Service(Svc::Ours)],
        "read_the_time_summary_of",
        |who, target| {
            // A summary the caller's role never reads is FORBIDDEN in their own service.
            if relation(who, target) == Relation::OtherService {
                Expect::Refused("NOT_FOUND")
            } else {
                expect_list(who, Action::ViewLedger)
            }
        },
    );
    run_matrix(
        &w,
        Kind::Query,
        cases,
        nothing,
        async |w: &World, case: &Case, _: &Value| {
            let today = Utc::now().date_naive();
            let a = w
                .ask(
                    case.who,
                    "query($i: TimeSummaryInput!) { timeSummary(input: $i) { schools { school { id } } eps { ep { id } } } }",
                    json!({ "i": { "serviceId": w.ours.service_id, "from": (today - Duration::days(30)).to_string(), "to": (today + Duration::days(60)).to_string() } }),
                )
                .await;
            checked(seen(&a, "timeSummary"), |v| {
                let ids = |list: &str, object: &str| -> Vec<String> {
                    v[list]
                        .as_array()
                        .map(|rows| {
                            rows.iter()
                                .filter_map(|r| r[object]["id"].as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let schools = ids("schools", "school");
                let eps = ids("eps", "ep");
                let schools: Vec<&str> = schools.iter().map(String::as_str).collect();
                let eps: Vec<&str> = eps.iter().map(String::as_str).collect();
                let should = |action_target: Target| allows(case.who, Action::ViewLedger, action_target);
                shows_exactly(
                    &schools,
                    &[
                        ("school A's row", w.school_id(Sch::A), should(Target::School(Sch::A))),
                        ("school B's row", w.school_id(Sch::B), should(Target::School(Sch::B))),
                    ],
                )?;
                shows_exactly(
                    &eps,
                    &[
                        ("the link EP's row", w.ep_id(EpOf::Link), should(Target::Calendar(EpOf::Link))),
                        ("the other EP's row", w.ep_id(EpOf::Other), should(Target::Calendar(EpOf::Other))),
                    ],
                )?;
                if schools.len() + eps.len() > 4 {
                    return Err(format!("rows of something else: {v}"));
                }
                Ok(())
            })
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// 7. The matrix's own reading of the table
// ---------------------------------------------------------------------------------------------

/// A few facts stated in words, so that a mistake in the mapping cannot make every test agree
/// with a wrong server.
#[test]
fn the_matrix_reads_the_table_as_the_rules_are_stated() {
    let a = Target::School(Sch::A);
    let b = Target::School(Sch::B);
    let own = Target::Calendar(EpOf::Link);
    let others = Target::Calendar(EpOf::Other);
    // EPs: the contracts of the schools they work with; their own calendar only.
    assert_eq!(relation(Who::Ep, a), Relation::LinkedSchool);
    assert_eq!(relation(Who::Ep, BOOKING_A), Relation::OwnCalendar);
    assert_eq!(relation(Who::OtherEp, BOOKING_A), Relation::OtherSchool);
    assert_eq!(expect_read(Who::Ep, Action::ViewContracts, a), Expect::Allowed);
    assert_eq!(
        expect_read(Who::Ep, Action::ViewContracts, b),
        Expect::Refused("NOT_FOUND")
    );
    assert_eq!(expect_calendar(Who::Ep, Action::ManageCalendars, own), Expect::Allowed);
    // Another EP is a colleague in the same service: their calendar is forbidden, not hidden.
    assert_eq!(
        expect_calendar(Who::Ep, Action::ManageCalendars, others),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(
        expect_calendar(Who::SencoA, Action::ViewCalendars, own),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(
        expect_calendar(Who::Admin, Action::ViewCalendars, others),
        Expect::Allowed
    );
    assert_eq!(
        expect_calendar(Who::OtherAdmin, Action::ViewCalendars, own),
        Expect::Refused("NOT_FOUND")
    );
    // An EP searches free slots in their own calendar, not at a school.
    assert_eq!(
        expect_at_school(Who::Ep, Action::ViewAvailability, Sch::A),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(expect_calendar(Who::Ep, Action::ViewAvailability, own), Expect::Allowed);
    // SENCOs: their school's contracts and bookings; they cancel but do not book.
    assert_eq!(expect_read(Who::SencoA, Action::ViewContracts, a), Expect::Allowed);
    assert_eq!(
        expect_read(Who::SencoB, Action::ViewContracts, a),
        Expect::Refused("NOT_FOUND")
    );
    assert_eq!(
        expect_change(Who::SencoA, Action::CancelBookings, Action::ViewBookings, BOOKING_A),
        Expect::Allowed
    );
    assert_eq!(
        expect_change(Who::SencoA, Action::ManageBookings, Action::ViewBookings, BOOKING_A),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(
        expect_new_booking(Who::SencoA, Sch::A, EpOf::Link),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(
        expect_new_booking(Who::SencoB, Sch::A, EpOf::Link),
        Expect::UserError("NOT_FOUND")
    );
    assert_eq!(expect_new_booking(Who::Ep, Sch::A, EpOf::Link), Expect::Allowed);
    assert_eq!(
        expect_new_booking(Who::OtherEp, Sch::A, EpOf::Link),
        Expect::Refused("FORBIDDEN")
    );
    // School staff see no bookings: a booking of their school does not exist for them.
    assert_eq!(
        expect_change(Who::StaffA, Action::CancelBookings, Action::ViewBookings, BOOKING_A),
        Expect::Refused("NOT_FOUND")
    );
    assert_eq!(
        expect_list(Who::StaffA, Action::ViewBookings),
        Expect::Refused("FORBIDDEN")
    );
    // Partners: what their scopes allow, at their school.
    assert_eq!(expect_new_booking(Who::PartnerA, Sch::A, EpOf::Link), Expect::Allowed);
    assert_eq!(
        expect_new_booking(Who::PartnerAvailability, Sch::A, EpOf::Link),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(
        expect_list(Who::PartnerAvailability, Action::ViewBookings),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(
        expect_at_school(Who::PartnerAvailability, Action::ViewAvailability, Sch::A),
        Expect::Allowed
    );
    assert_eq!(
        expect_at_school(Who::PartnerA, Action::ViewAvailability, Sch::B),
        Expect::Refused("NOT_FOUND")
    );
    assert_eq!(
        expect_list(Who::PartnerA, Action::ViewContracts),
        Expect::Refused("FORBIDDEN")
    );
    // Administrators: everything in their service, nothing in another.
    assert_eq!(
        expect_at_service(Who::Admin, Action::ManageTimeSettings, Target::Service(Svc::Ours)),
        Expect::Allowed
    );
    assert_eq!(
        expect_at_service(Who::Admin, Action::ManageTimeSettings, Target::Service(Svc::Theirs)),
        Expect::Refused("NOT_FOUND")
    );
    assert_eq!(
        expect_at_service(Who::SencoA, Action::ManageTimeSettings, Target::Service(Svc::Ours)),
        Expect::Refused("FORBIDDEN")
    );
    assert_eq!(
        expect_at_school(Who::OtherAdmin, Action::ManageContracts, Sch::A),
        Expect::Refused("NOT_FOUND")
    );
}
