//! Consultations (issue 19): the table of steps walked legal and illegal, a SENCO who books a
//! free slot within the allocation, consent before formal work and its withdrawal, moving and
//! cancelling the meeting with its booking, what each role sees field by field, the audit of
//! reads, retention and its disposal log, bad inputs, and statement counts that do not grow.

use chrono::{Duration, NaiveDate, Utc};
use domain::access::{Action, PartnerScope, Relation, Role, table_allows};
use domain::consultations::states::{STEPS, Step};
use domain::model::ConsultationStatus;
use scps_tests::clock::{london, rfc};
use scps_tests::fixtures::{Fx, d, fixture_starting};
use scps_tests::{Account, Answer, TestApp};
use serde_json::{Value, json};

const FIELDS: &str = "id kind status cycle previousId reviewOn triageNote strengths pupil { id initials } consents { id validToday } consentValidToday booking { id status startsAt preparationMinutes } record { concerns privateNotes sharedAt } actions { id description }";

fn mutation(name: &str, input: &str, result: &str) -> String {
    format!("mutation($i: {input}!) {{ {name}(input: $i) {{ {result} userErrors {{ field message code }} }} }}")
}

fn changed(name: &str, input: &str) -> String {
    mutation(
        name,
        input,
        &format!("result {{ consultation {{ {FIELDS} }} warnings }}"),
    )
}

fn plain(name: &str, input: &str) -> String {
    mutation(name, input, &format!("consultation {{ {FIELDS} }}"))
}

/// The calendar with Term 1 four weeks ago: week 0 is in the past, week 5 is next week.
async fn setup() -> Fx {
    fixture_starting(-4).await
}

async fn gql(app: &TestApp, token: &str, q: &str, v: Value) -> Answer {
    app.gql(token, q, v).await
}

fn errors_of(a: &Answer, field: &str) -> Vec<(String, String)> {
    a.body["data"][field]["userErrors"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|e| {
                    (
                        e["code"].as_str().unwrap_or("").to_owned(),
                        e["field"]
                            .as_array()
                            .map(|f| {
                                // Paths start at the mutation's `input`.
                                f.iter().filter_map(Value::as_str).skip(1).collect::<Vec<_>>().join(".")
                            })
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn codes(a: &Answer, field: &str) -> Vec<String> {
    errors_of(a, field).into_iter().map(|(c, _)| c).collect()
}

/// The consultation a payload returned.
fn consultation<'a>(a: &'a Answer, field: &str) -> &'a Value {
    let data = &a.ok()[field];
    let c = if data["result"].is_object() {
        &data["result"]["consultation"]
    } else {
        &data["consultation"]
    };
    assert!(c.is_object(), "{field}: {}", a.body);
    c
}

fn pupil_input() -> Value {
    json!({ "initials": "AB", "yearGroup": "YEAR_5", "dateOfBirth": "2016-05-04", "schoolReference": "REF-17" })
}

fn consent_input(given: NaiveDate) -> Value {
    json!({ "givenBy": "PARENT", "relationship": "Father", "givenOn": d(given), "method": "WRITTEN", "shareWith": ["School nurse"] })
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Asks for a formal consultation at school A (with a new pupil and, if asked, consent).
async fn ask_formal(fx: &Fx, token: &str, with_consent: bool) -> Value {
    let t = &fx.t;
    let mut input = json!({ "schoolId": t.school_a.id, "kind": "FORMAL", "pupil": pupil_input(), "areasOfConcern": ["SEMH"], "strengths": "Curious", "hopedOutcomes": "Calmer mornings" });
    if with_consent {
        input["consent"] = consent_input(today() - Duration::days(40));
    }
    let a = gql(
        &fx.app,
        token,
        &changed("requestConsultation", "RequestConsultationInput"),
        json!({ "i": input }),
    )
    .await;
    consultation(&a, "requestConsultation").clone()
}

/// A slot for the link EP: `week` of the calendar, Tuesday at `hour`.
fn slot(fx: &Fx, week: i64, hour: u32) -> Value {
    let start = london(fx.week(week) + Duration::days(1), hour, 0);
    json!({ "epId": fx.t.ep.person_id, "startsAt": rfc(start), "mode": "ONLINE", "shortNoticeReason": "Recorded after the meeting" })
}

async fn schedule(fx: &Fx, token: &str, id: &str, slot: Value) -> Answer {
    gql(
        &fx.app,
        token,
        &changed("scheduleConsultation", "ScheduleConsultationInput"),
        json!({ "i": { "id": id, "slot": slot } }),
    )
    .await
}

async fn status_of(fx: &Fx, id: &str) -> String {
    let a = gql(
        &fx.app,
        &fx.t.admin.token,
        "query($id: ID!) { node(id: $id) { ... on Consultation { status } } }",
        json!({ "id": id }),
    )
    .await;
    a.ok()["node"]["status"].as_str().unwrap_or_default().to_owned()
}

// ---- the table of steps ------------------------------------------------------------------------

/// Takes `step` on consultation `id` as the administrator, with valid input; returns the field
/// the payload is under and the answer. `None` for steps nobody takes by hand.
async fn take(fx: &Fx, step: Step, id: &str) -> Option<(&'static str, Answer)> {
    let t = &fx.t;
    let token = &t.admin.token;
    let later = rfc(london(fx.week(5) + Duration::days(3), 11, 0));
    let due = d(today() + Duration::days(10));
    let (field, q, input) = match step {
        Step::AskForInformation => (
            "triageConsultation",
            plain("triageConsultation", "TriageConsultationInput"),
            json!({ "id": id, "decision": "ASK_FOR_INFORMATION", "note": "Which lessons?" }),
        ),
        Step::Accept => (
            "triageConsultation",
            plain("triageConsultation", "TriageConsultationInput"),
            json!({ "id": id, "decision": "ACCEPT", "epId": t.ep.person_id }),
        ),
        Step::Decline => (
            "triageConsultation",
            plain("triageConsultation", "TriageConsultationInput"),
            json!({ "id": id, "decision": "DECLINE", "note": "Not for EP involvement" }),
        ),
        Step::UpdateRequest => (
            "updateConsultationRequest",
            plain("updateConsultationRequest", "UpdateConsultationRequestInput"),
            json!({ "id": id, "tried": "A reward chart" }),
        ),
        Step::Schedule => (
            "scheduleConsultation",
            changed("scheduleConsultation", "ScheduleConsultationInput"),
            json!({ "id": id, "slot": slot(fx, 0, 10) }),
        ),
        Step::Move => (
            "moveConsultation",
            changed("moveConsultation", "MoveConsultationInput"),
            json!({ "id": id, "startsAt": later }),
        ),
        Step::CancelMeeting => (
            "cancelConsultationMeeting",
            mutation(
                "cancelConsultationMeeting",
                "CancelConsultationMeetingInput",
                &format!("result {{ chargedMinutes consultation {{ {FIELDS} }} }}"),
            ),
            json!({ "id": id, "reason": "Staff illness", "cancelledFor": "SERVICE" }),
        ),
        Step::Hold => (
            "holdConsultation",
            plain("holdConsultation", "HoldConsultationInput"),
            json!({ "id": id }),
        ),
        Step::WriteRecord => (
            "writeConsultationRecord",
            plain("writeConsultationRecord", "WriteConsultationRecordInput"),
            json!({ "id": id, "attendees": [{ "name": "A. Teacher", "role": "Class teacher" }], "concerns": "Mornings", "privateNotes": "Check hearing" }),
        ),
        Step::TrackActions => (
            "addConsultationAction",
            mutation("addConsultationAction", "AddConsultationActionInput", "action { id }"),
            json!({ "consultationId": id, "description": "Visual timetable", "owner": "Class teacher", "dueOn": due }),
        ),
        Step::ShareRecord => (
            "shareConsultationRecord",
            plain("shareConsultationRecord", "ConsultationIdInput"),
            json!({ "id": id }),
        ),
        Step::StartReview => (
            "startConsultationReview",
            plain("startConsultationReview", "ConsultationIdInput"),
            json!({ "id": id }),
        ),
        Step::Close => (
            "closeConsultation",
            plain("closeConsultation", "CloseConsultationInput"),
            json!({ "id": id, "outcome": "RESOLVED" }),
        ),
        Step::Withdraw => (
            "withdrawConsultation",
            plain("withdrawConsultation", "WithdrawConsultationInput"),
            json!({ "id": id, "reason": "The family moved away" }),
        ),
        Step::RecordConsent => (
            "recordConsent",
            plain("recordConsent", "RecordConsentInput"),
            json!({ "consultationId": id, "consent": consent_input(today() - Duration::days(40)) }),
        ),
        // The calendar takes this step; a withdrawal of consent acts on a pupil's consultations.
        Step::ReviewFallsDue | Step::ConsentWithdrawn => return None,
    };
    Some((field, gql(&fx.app, token, &q, json!({ "i": input })).await))
}

/// Tries every step the table forbids from the consultation's current state: each is refused
/// with INVALID_STATE naming the state, and the state does not move.
async fn every_forbidden_step_is_refused(fx: &Fx, id: &str) {
    let status: ConsultationStatus = status_of(fx, id).await.parse().expect("a status");
    for t in STEPS {
        if t.from.contains(&status) {
            continue;
        }
        let Some((field, a)) = take(fx, t.step, id).await else {
            continue;
        };
        let errors = &a.body["data"][field]["userErrors"];
        assert_eq!(
            errors[0]["code"], "INVALID_STATE",
            "{:?} from {status:?}: {}",
            t.step, a.body
        );
        assert!(
            errors[0]["message"].as_str().unwrap_or("").contains(status.as_str()),
            "the refusal names the state: {}",
            a.body
        );
        assert_eq!(status_of(fx, id).await, status.as_str(), "{:?} moved it", t.step);
    }
}

async fn step_to(fx: &Fx, step: Step, id: &str, expect: &str) -> Answer {
    let (field, a) = take(fx, step, id).await.expect("a step taken by hand");
    assert!(errors_of(&a, field).is_empty(), "{step:?}: {}", a.body);
    assert_eq!(status_of(fx, id).await, expect, "{step:?}");
    a
}

#[tokio::test]
async fn the_life_of_a_consultation_follows_the_table_of_steps() {
    let fx = setup().await;
    let c = ask_formal(&fx, &fx.t.senco_a.token, false).await;
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["status"], "REQUESTED");
    every_forbidden_step_is_refused(&fx, &id).await;
    step_to(&fx, Step::AskForInformation, &id, "NEEDS_INFORMATION").await;
    every_forbidden_step_is_refused(&fx, &id).await;
    step_to(&fx, Step::UpdateRequest, &id, "REQUESTED").await;
    step_to(&fx, Step::Accept, &id, "ACCEPTED").await;
    every_forbidden_step_is_refused(&fx, &id).await;
    step_to(&fx, Step::RecordConsent, &id, "ACCEPTED").await;
    let scheduled = step_to(&fx, Step::Schedule, &id, "SCHEDULED").await;
    let booking = &consultation(&scheduled, "scheduleConsultation")["booking"];
    assert_eq!(booking["status"], "CONFIRMED");
    assert_eq!(
        booking["preparationMinutes"], 90,
        "preparation and write-up per the settings"
    );
    every_forbidden_step_is_refused(&fx, &id).await;
    let held = step_to(&fx, Step::Hold, &id, "HELD").await;
    assert_eq!(
        consultation(&held, "holdConsultation")["booking"]["status"],
        "DELIVERED"
    );
    every_forbidden_step_is_refused(&fx, &id).await;
    step_to(&fx, Step::WriteRecord, &id, "HELD").await;
    step_to(&fx, Step::TrackActions, &id, "HELD").await;
    step_to(&fx, Step::ShareRecord, &id, "RECORD_SHARED").await;
    every_forbidden_step_is_refused(&fx, &id).await;
    let review = step_to(&fx, Step::StartReview, &id, "CLOSED").await;
    let next = consultation(&review, "startConsultationReview");
    assert_eq!(next["status"], "ACCEPTED");
    assert_eq!(next["cycle"], 2);
    assert_eq!(next["previousId"], id.as_str());
    assert_eq!(
        next["consentValidToday"], true,
        "consent follows the pupil into the review"
    );
    assert_eq!(next["actions"].as_array().unwrap().len(), 1, "open actions carry over");
    every_forbidden_step_is_refused(&fx, &id).await;
}

#[tokio::test]
async fn a_shared_record_comes_due_for_review_on_its_date_and_then_closes() {
    let fx = setup().await;
    let c = ask_formal(&fx, &fx.t.senco_a.token, true).await;
    let id = c["id"].as_str().unwrap();
    step_to(&fx, Step::Schedule, id, "SCHEDULED").await;
    step_to(&fx, Step::Hold, id, "HELD").await;
    // A review date between the meeting (four weeks ago) and today.
    let review_on = d(fx.week(0) + Duration::days(10));
    let a = gql(
        &fx.app,
        &fx.t.ep.token,
        &plain("writeConsultationRecord", "WriteConsultationRecordInput"),
        json!({ "i": { "id": id, "attendees": [], "reviewOn": review_on } }),
    )
    .await;
    assert_eq!(
        consultation(&a, "writeConsultationRecord")["reviewOn"],
        review_on.as_str()
    );
    step_to(&fx, Step::ShareRecord, id, "REVIEW_DUE").await;
    let due = gql(
        &fx.app,
        &fx.t.senco_a.token,
        "query($s: ID!, $by: Date!) { due: consultations(filter: { schoolId: $s, statuses: [REVIEW_DUE] }) { edges { node { id } } } by: consultations(filter: { reviewBy: $by }) { edges { node { id } } } }",
        json!({ "s": fx.t.school_a.id, "by": d(today()) }),
    )
    .await;
    assert_eq!(due.ok()["due"]["edges"][0]["node"]["id"], id);
    assert_eq!(due.ok()["by"]["edges"][0]["node"]["id"], id);
    every_forbidden_step_is_refused(&fx, id).await;
    step_to(&fx, Step::Close, id, "CLOSED").await;
    every_forbidden_step_is_refused(&fx, id).await;
}

// ---- booking -------------------------------------------------------------------------------------

async fn remaining(fx: &Fx) -> i64 {
    let a = gql(
        &fx.app,
        &fx.t.admin.token,
        "query($id: ID!) { node(id: $id) { ... on Contract { balance { remainingMinutes } } } }",
        json!({ "id": fx.contract_a }),
    )
    .await;
    a.ok()["node"]["balance"]["remainingMinutes"].as_i64().unwrap()
}

#[tokio::test]
async fn a_senco_books_a_free_slot_at_once_within_the_allocation_and_not_beyond() {
    let fx = setup().await;
    let t = &fx.t;
    let q = changed("requestConsultation", "RequestConsultationInput");
    let mut free_slot = slot(&fx, 5, 14);
    free_slot.as_object_mut().unwrap().remove("shortNoticeReason");
    let input = json!({ "schoolId": t.school_a.id, "kind": "PROFESSIONAL", "areasOfConcern": ["COGNITION_AND_LEARNING"], "slot": free_slot });

    // Where the service does not let schools book, nothing is written.
    let before = fx.app.count("consultations").await;
    let closed = gql(&fx.app, &t.senco_a.token, &q, json!({ "i": input })).await;
    assert_eq!(closed.code(), Some("FORBIDDEN"), "{}", closed.body);
    assert_eq!(fx.app.count("consultations").await, before);

    fx.app.set_policy(t, json!({ "schoolsMayBook": true })).await;
    let start = remaining(&fx).await;
    let a = gql(&fx.app, &t.senco_a.token, &q, json!({ "i": input })).await;
    let c = consultation(&a, "requestConsultation");
    assert_eq!(c["status"], "SCHEDULED", "{}", a.body);
    assert_eq!(c["booking"]["status"], "CONFIRMED");
    assert_eq!(
        start - remaining(&fx).await,
        60 + 90,
        "the meeting with its preparation and write-up"
    );

    // Beyond the allocation: refused, pointing at the slot, and nothing written.
    gql(
        &fx.app,
        &t.admin.token,
        "mutation($i: AdjustLedgerInput!) { adjustLedger(input: $i) { entry { id } userErrors { message } } }",
        json!({ "i": { "schoolId": t.school_a.id, "fundingStream": "TRADED", "minutes": remaining(&fx).await - 30, "appliesOn": d(fx.week(4)), "reason": "Used elsewhere" } }),
    )
    .await
    .ok();
    let before = (fx.app.count("consultations").await, fx.app.count("bookings").await);
    let mut later = input.clone();
    later["slot"]["startsAt"] = json!(rfc(london(fx.week(5) + Duration::days(2), 14, 0)));
    let over = gql(&fx.app, &t.senco_a.token, &q, json!({ "i": later })).await;
    assert_eq!(
        errors_of(&over, "requestConsultation"),
        vec![("NOT_ALLOWED".to_owned(), "slot.startsAt".to_owned())],
        "{}",
        over.body
    );
    assert_eq!(
        (fx.app.count("consultations").await, fx.app.count("bookings").await),
        before
    );
}

#[tokio::test]
async fn a_formal_consultation_is_not_booked_or_held_without_valid_consent() {
    let fx = setup().await;
    let c = ask_formal(&fx, &fx.t.senco_a.token, false).await;
    let id = c["id"].as_str().unwrap();
    let bookings = fx.app.count("bookings").await;
    let refused = schedule(&fx, &fx.t.admin.token, id, slot(&fx, 0, 10)).await;
    assert_eq!(
        errors_of(&refused, "scheduleConsultation"),
        vec![("NOT_ALLOWED".to_owned(), "startsAt".to_owned())],
        "{}",
        refused.body
    );
    // Expired consent does not count.
    let expired = gql(
        &fx.app,
        &fx.t.senco_a.token,
        &plain("recordConsent", "RecordConsentInput"),
        json!({ "i": { "consultationId": id, "consent": { "givenBy": "CARER", "givenOn": "2021-01-04", "expiresOn": "2023-01-04", "method": "VERBAL" } } }),
    )
    .await;
    assert_eq!(consultation(&expired, "recordConsent")["consentValidToday"], false);
    let still = schedule(&fx, &fx.t.admin.token, id, slot(&fx, 0, 10)).await;
    assert_eq!(codes(&still, "scheduleConsultation"), vec!["NOT_ALLOWED"]);
    assert_eq!(fx.app.count("bookings").await, bookings, "nothing was booked");
    // With valid consent it books.
    let given = gql(
        &fx.app,
        &fx.t.senco_a.token,
        &plain("recordConsent", "RecordConsentInput"),
        json!({ "i": { "consultationId": id, "consent": consent_input(today() - Duration::days(40)) } }),
    )
    .await;
    assert_eq!(consultation(&given, "recordConsent")["consentValidToday"], true);
    let booked = schedule(&fx, &fx.t.admin.token, id, slot(&fx, 0, 10)).await;
    assert_eq!(consultation(&booked, "scheduleConsultation")["status"], "SCHEDULED");
}

#[tokio::test]
async fn withdrawing_consent_stops_the_work_and_cancels_the_meeting_to_come() {
    let fx = setup().await;
    let t = &fx.t;
    let c = ask_formal(&fx, &t.senco_a.token, true).await;
    let id = c["id"].as_str().unwrap();
    let consent = c["consents"][0]["id"].as_str().unwrap().to_owned();
    let booked = schedule(&fx, &t.admin.token, id, slot(&fx, 5, 10)).await;
    let booking = consultation(&booked, "scheduleConsultation")["booking"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = gql(
        &fx.app,
        &t.senco_a.token,
        &mutation(
            "withdrawConsent",
            "WithdrawConsentInput",
            "result { withdrawnConsultationIds consent { withdrawnOn validToday } }",
        ),
        json!({ "i": { "id": consent, "reason": "The family asked to stop" } }),
    )
    .await;
    let r = &a.ok()["withdrawConsent"]["result"];
    assert_eq!(r["withdrawnConsultationIds"], json!([id]), "{}", a.body);
    assert_eq!(r["consent"]["validToday"], false);
    assert_eq!(status_of(&fx, id).await, "WITHDRAWN");
    let b = gql(
        &fx.app,
        &t.admin.token,
        "query($id: ID!) { node(id: $id) { ... on Booking { status } } }",
        json!({ "id": booking }),
    )
    .await;
    assert_eq!(b.ok()["node"]["status"], "CANCELLED");
    every_forbidden_step_is_refused(&fx, id).await;
}

#[tokio::test]
async fn moving_and_cancelling_the_meeting_moves_and_cancels_its_booking() {
    let fx = setup().await;
    let t = &fx.t;
    fx.app.set_policy(t, json!({ "schoolsMayBook": true })).await;
    let asked = gql(
        &fx.app,
        &t.senco_a.token,
        &changed("requestConsultation", "RequestConsultationInput"),
        json!({ "i": { "schoolId": t.school_a.id, "kind": "PROFESSIONAL", "areasOfConcern": ["OTHER"] } }),
    )
    .await;
    let id = consultation(&asked, "requestConsultation")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut free = slot(&fx, 5, 10);
    free.as_object_mut().unwrap().remove("shortNoticeReason");
    let first = schedule(&fx, &t.senco_a.token, &id, free).await;
    let old = consultation(&first, "scheduleConsultation")["booking"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let to = london(fx.week(5) + Duration::days(3), 14, 0);
    let moved = gql(
        &fx.app,
        &t.senco_a.token,
        &changed("moveConsultation", "MoveConsultationInput"),
        json!({ "i": { "id": id, "startsAt": rfc(to) } }),
    )
    .await;
    let now = consultation(&moved, "moveConsultation");
    assert_eq!(now["status"], "SCHEDULED", "{}", moved.body);
    assert_ne!(now["booking"]["id"], old.as_str());
    assert_eq!(
        now["booking"]["startsAt"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<Utc>>()
            .unwrap(),
        to
    );
    let old_status = gql(
        &fx.app,
        &t.admin.token,
        "query($id: ID!) { node(id: $id) { ... on Booking { status } } }",
        json!({ "id": old }),
    )
    .await;
    assert_eq!(old_status.ok()["node"]["status"], "CANCELLED");
    let cancelled = gql(
        &fx.app,
        &t.senco_a.token,
        &mutation(
            "cancelConsultationMeeting",
            "CancelConsultationMeetingInput",
            &format!("result {{ chargedMinutes consultation {{ {FIELDS} }} }}"),
        ),
        json!({ "i": { "id": id, "reason": "Class trip that day" } }),
    )
    .await;
    let r = &cancelled.ok()["cancelConsultationMeeting"]["result"];
    assert_eq!(r["chargedMinutes"], 0, "cancelled well ahead: nothing charged");
    assert_eq!(r["consultation"]["status"], "ACCEPTED");
    assert!(r["consultation"]["booking"].is_null());
}

// ---- who sees what ----------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Admin,
    Ep,
    OtherEp,
    SencoA,
    SencoB,
    LeaderA,
    StaffA,
    Partner,
    OtherAdmin,
}

impl Who {
    fn role(self) -> Role {
        match self {
            Who::Admin | Who::OtherAdmin => Role::ServiceAdmin,
            Who::Ep | Who::OtherEp => Role::Psychologist,
            Who::SencoA | Who::SencoB => Role::Senco,
            Who::LeaderA => Role::SchoolLeader,
            Who::StaffA => Role::SchoolStaff,
            Who::Partner => Role::PartnerClient,
        }
    }
    /// How school A's consultation relates to them (the EP is school A's link EP; the other EP
    /// works with neither school).
    fn relation(self) -> Relation {
        match self {
            Who::Admin | Who::SencoA | Who::LeaderA | Who::StaffA | Who::Partner => Relation::OwnSchool,
            Who::Ep => Relation::LinkedSchool,
            Who::OtherEp | Who::SencoB => Relation::OtherSchool,
            Who::OtherAdmin => Relation::OtherService,
        }
    }
    fn sees(self) -> bool {
        let scopes = [
            PartnerScope::SchoolsRead,
            PartnerScope::BookingsRead,
            PartnerScope::BookingsWrite,
            PartnerScope::AvailabilityRead,
        ];
        table_allows(self.role(), &scopes, Action::ViewConsultations, self.relation())
    }
}

const EVERYONE: &[Who] = &[
    Who::Admin,
    Who::Ep,
    Who::OtherEp,
    Who::SencoA,
    Who::SencoB,
    Who::LeaderA,
    Who::StaffA,
    Who::Partner,
    Who::OtherAdmin,
];

#[tokio::test]
async fn who_sees_what_of_a_consultation_field_by_field() {
    let fx = setup().await;
    let t = &fx.t;
    let other = fx.app.tenant().await;
    let (partner, _, _) = fx
        .app
        .partner(
            t,
            &["SCHOOLS_READ", "BOOKINGS_READ", "BOOKINGS_WRITE", "AVAILABILITY_READ"],
            Some(vec![&t.school_a.id]),
        )
        .await;
    let token = |w: Who| -> &Account {
        match w {
            Who::Admin => &t.admin,
            Who::Ep => &t.ep,
            Who::OtherEp => &t.other_ep,
            Who::SencoA => &t.senco_a,
            Who::SencoB => &t.senco_b,
            Who::LeaderA => &t.leader_a,
            Who::StaffA => &t.staff_a,
            Who::Partner => &partner,
            Who::OtherAdmin => &other.admin,
        }
    };
    let c = ask_formal(&fx, &t.senco_a.token, true).await;
    let id = c["id"].as_str().unwrap().to_owned();
    step_to(&fx, Step::Schedule, &id, "SCHEDULED").await;
    let held = gql(
        &fx.app,
        &t.ep.token,
        &plain("holdConsultation", "HoldConsultationInput"),
        json!({ "i": { "id": id } }),
    )
    .await;
    assert_eq!(consultation(&held, "holdConsultation")["status"], "HELD");
    step_to(&fx, Step::WriteRecord, &id, "HELD").await;
    step_to(&fx, Step::TrackActions, &id, "HELD").await;

    let read = "query($id: ID!) { node(id: $id) { ... on Consultation { id pupil { initials } consents { givenBy } record { concerns privateNotes } actions { id } } } }";
    for shared in [false, true] {
        for &who in EVERYONE {
            let a = gql(&fx.app, &token(who).token, read, json!({ "id": id })).await;
            let node = &a.ok()["node"];
            assert_eq!(node.is_object(), who.sees(), "{who:?} node: {}", a.body);
            if !who.sees() {
                continue;
            }
            assert_eq!(node["pupil"]["initials"], "AB", "{who:?}");
            assert_eq!(node["consents"][0]["givenBy"], "PARENT", "{who:?}");
            let service_side = matches!(who, Who::Admin | Who::Ep);
            assert_eq!(
                node["record"].is_object(),
                service_side || shared,
                "{who:?} record, shared {shared}"
            );
            assert_eq!(
                node["actions"].as_array().unwrap().len(),
                usize::from(service_side || shared),
                "{who:?} actions, shared {shared}"
            );
            if node["record"].is_object() {
                let notes_visible = matches!(who, Who::Admin | Who::Ep);
                assert_eq!(
                    node["record"]["privateNotes"].is_string(),
                    notes_visible,
                    "{who:?} private notes"
                );
            }
        }
        if !shared {
            step_to(&fx, Step::ShareRecord, &id, "RECORD_SHARED").await;
        }
    }

    // Lists: those who may never read consultations are refused; the rest see only theirs.
    let list = "query { consultations { edges { node { id } } } consultationActions { edges { node { id } } } }";
    for &who in EVERYONE {
        let a = gql(&fx.app, &token(who).token, list, json!({})).await;
        let role_reads = table_allows(who.role(), &[], Action::ViewConsultations, Relation::OwnSchool)
            || who.role() == Role::Psychologist;
        if !role_reads {
            assert_eq!(a.code(), Some("FORBIDDEN"), "{who:?}: {}", a.body);
            continue;
        }
        let ids: Vec<&str> = a.ok()["consultations"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["node"]["id"].as_str())
            .collect();
        assert_eq!(ids.contains(&id.as_str()), who.sees(), "{who:?} list: {}", a.body);
    }

    // Changes by those who cannot see it are "not found", exactly as for an id that does not exist.
    let missing = scps::graphql::ids::encode("Consultation", uuid::Uuid::now_v7()).0;
    for &who in &[Who::SencoB, Who::OtherEp, Who::OtherAdmin] {
        for target in [id.as_str(), missing.as_str()] {
            let a = gql(
                &fx.app,
                &token(who).token,
                &plain("closeConsultation", "CloseConsultationInput"),
                json!({ "i": { "id": target, "outcome": "RESOLVED" } }),
            )
            .await;
            assert_eq!(a.code(), Some("NOT_FOUND"), "{who:?} on {target}: {}", a.body);
        }
    }
    // A partner sees that a consultation slot is booked, and nothing of the child.
    let p = gql(
        &fx.app,
        &partner.token,
        "query { bookings(first: 50) { edges { node { kind location } } } }",
        json!({}),
    )
    .await;
    let kinds: Vec<&Value> = p.ok()["bookings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    assert!(
        kinds
            .iter()
            .any(|n| n["kind"] == "CONSULTATION" && n["location"].is_null()),
        "{}",
        p.body
    );
    assert!(
        !p.body.to_string().contains("AB\""),
        "no pupil detail reaches a partner"
    );
}

// ---- audit, retention, bad input, statements -----------------------------------------------------

async fn audited(app: &TestApp, action: &str) -> i64 {
    app.count(&format!("audit_events WHERE action = '{action}'")).await
}

#[tokio::test]
async fn every_read_of_a_formal_consultation_and_its_pupil_is_in_the_audit_log() {
    let fx = setup().await;
    let t = &fx.t;
    let c = ask_formal(&fx, &t.senco_a.token, true).await;
    let id = c["id"].as_str().unwrap();
    let before = audited(&fx.app, "consultation.read").await;
    gql(
        &fx.app,
        &t.senco_a.token,
        "query($id: ID!) { node(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await
    .ok();
    gql(
        &fx.app,
        &t.ep.token,
        "query { consultations { edges { node { id } } } }",
        json!({}),
    )
    .await
    .ok();
    assert_eq!(audited(&fx.app, "consultation.read").await, before + 2);
    let pupil_reads = audited(&fx.app, "pupil.read").await;
    let p = gql(
        &fx.app,
        &t.senco_a.token,
        "query($s: ID!) { pupils(schoolId: $s) { edges { node { initials } } } }",
        json!({ "s": t.school_a.id }),
    )
    .await;
    assert_eq!(p.ok()["pupils"]["edges"][0]["node"]["initials"], "AB");
    assert_eq!(audited(&fx.app, "pupil.read").await, pupil_reads + 1);
    assert_eq!(audited(&fx.app, "consent.record").await, 1);
    assert_eq!(audited(&fx.app, "pupil.create").await, 1);
    // The log holds ids, never the child's details.
    let details = fx
        .app
        .count("audit_events WHERE detail LIKE '%REF-17%' OR detail LIKE '%Curious%' OR detail LIKE '%Father%'")
        .await;
    assert_eq!(details, 0);
}

#[tokio::test]
async fn retention_destroys_what_is_due_and_its_log_keeps_no_personal_data() {
    let fx = setup().await;
    let t = &fx.t;
    let c = ask_formal(&fx, &t.senco_a.token, true).await;
    let id = c["id"].as_str().unwrap();
    ask_professional_for(&fx).await;
    let scps = env!("CARGO_BIN_EXE_scps-under-test");
    // Born 2016-05-04: due after the 25th birthday under the default rule.
    let dry = fx.app.scps(scps, &["retention", "--on", "2041-05-05"]).await;
    let out = String::from_utf8_lossy(&dry.stdout).to_string();
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert!(out.contains("1 pupil records, 1 consultations due"), "{out}");
    assert_eq!(fx.app.count("pupils").await, 1, "a dry run destroys nothing");
    let early = fx.app.scps(scps, &["retention", "--on", "2041-05-03", "--apply"]).await;
    assert!(String::from_utf8_lossy(&early.stdout).contains("Nothing is due"));
    assert_eq!(fx.app.count("pupils").await, 1);

    let run = fx.app.scps(scps, &["retention", "--on", "2041-05-05", "--apply"]).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(fx.app.count("pupils").await, 0);
    assert_eq!(fx.app.count("consents").await, 0);
    assert_eq!(fx.app.count("consultation_records").await, 0);
    assert_eq!(
        fx.app.count("disposals WHERE pupils = 1 AND consultations = 1").await,
        1
    );
    let a = gql(
        &fx.app,
        &t.admin.token,
        "query($id: ID!) { node(id: $id) { ... on Consultation { contentDestroyed pupil { id } strengths hopedOutcomes status } } }",
        json!({ "id": id }),
    )
    .await;
    let node = &a.ok()["node"];
    assert_eq!(node["contentDestroyed"], true);
    assert!(node["pupil"].is_null() && node["strengths"].is_null() && node["hopedOutcomes"].is_null());
    assert_eq!(
        fx.app.count("consultations").await,
        2,
        "the professional one is untouched"
    );
    // Nothing personal in the disposal log or its audit entry.
    let text = fx
        .app
        .texts("SELECT d.rule AS rule, a.detail AS detail FROM disposals d, audit_events a WHERE a.action = 'retention.dispose'")
        .await
        .join(" ");
    assert!(text.contains("AGE_25"), "{text}");
    for personal in ["AB", "REF-17", "2016", "Curious", "Father"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
}

async fn ask_professional_for(fx: &Fx) -> Value {
    let a = gql(
        &fx.app,
        &fx.t.senco_a.token,
        &changed("requestConsultation", "RequestConsultationInput"),
        json!({ "i": { "schoolId": fx.t.school_a.id, "kind": "PROFESSIONAL", "areasOfConcern": ["OTHER"], "strengths": "Whole-class question" } }),
    )
    .await;
    consultation(&a, "requestConsultation").clone()
}

#[tokio::test]
async fn bad_inputs_get_user_errors_and_write_nothing() {
    let fx = setup().await;
    let t = &fx.t;
    let q = changed("requestConsultation", "RequestConsultationInput");
    // A pupil of school B, for use at school A.
    let theirs = gql(
        &fx.app,
        &t.senco_b.token,
        &mutation("addPupil", "AddPupilInput", "pupil { id }"),
        json!({ "i": { "schoolId": t.school_b.id, "pupil": pupil_input() } }),
    )
    .await;
    let their_pupil = theirs.ok()["addPupil"]["pupil"]["id"].as_str().unwrap().to_owned();
    let tables = [
        "consultations",
        "pupils",
        "consents",
        "bookings",
        "consultation_actions",
    ];
    let mut before = Vec::new();
    for table in tables {
        before.push(fx.app.count(table).await);
    }
    let base =
        json!({ "schoolId": t.school_a.id, "kind": "FORMAL", "areasOfConcern": ["SEMH"], "pupil": pupil_input() });
    let with = |key: &str, value: Value| {
        let mut v = base.clone();
        v[key] = value;
        v
    };
    let mut without_pupil = base.clone();
    without_pupil.as_object_mut().unwrap().remove("pupil");
    let mut their = without_pupil.clone();
    their["pupilId"] = json!(their_pupil);
    let mut unknown = without_pupil.clone();
    unknown["pupilId"] = json!(scps::graphql::ids::encode("Pupil", uuid::Uuid::now_v7()).0);
    let mut professional_child = base.clone();
    professional_child["kind"] = json!("PROFESSIONAL");
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("a pupil of another school", their, "NOT_FOUND", "pupilId"),
        ("an unknown pupil", unknown, "NOT_FOUND", "pupilId"),
        ("no pupil for formal work", without_pupil, "REQUIRED", "pupilId"),
        (
            "a name for initials",
            with(
                "pupil",
                json!({ "initials": "Jonathan", "yearGroup": "YEAR_5", "dateOfBirth": "2016-05-04" }),
            ),
            "INVALID",
            "pupil.initials",
        ),
        (
            "a birth date in the future",
            with(
                "pupil",
                json!({ "initials": "JT", "yearGroup": "YEAR_5", "dateOfBirth": d(today() + Duration::days(30)) }),
            ),
            "OUT_OF_RANGE",
            "pupil.dateOfBirth",
        ),
        (
            "an oversized answer",
            with("strengths", json!("x".repeat(2001))),
            "TOO_LONG",
            "strengths",
        ),
        (
            "no area of concern",
            with("areasOfConcern", json!([])),
            "REQUIRED",
            "areasOfConcern",
        ),
        ("a child in professional work", professional_child, "INVALID", "kind"),
        (
            "statutory work asked by a school",
            with("fundingStream", json!("STATUTORY")),
            "NOT_ALLOWED",
            "fundingStream",
        ),
        (
            "consent given in the future",
            with("consent", consent_input(today() + Duration::days(2))),
            "OUT_OF_RANGE",
            "consent.givenOn",
        ),
    ];
    for (what, input, code, field) in cases {
        let a = gql(&fx.app, &t.senco_a.token, &q, json!({ "i": input })).await;
        assert_eq!(
            errors_of(&a, "requestConsultation"),
            vec![(code.to_owned(), field.to_owned())],
            "{what}: {}",
            a.body
        );
    }
    // An action due in the past.
    let c = ask_formal(&fx, &t.senco_a.token, true).await;
    let id = c["id"].as_str().unwrap();
    step_to(&fx, Step::Schedule, id, "SCHEDULED").await;
    step_to(&fx, Step::Hold, id, "HELD").await;
    let past = gql(
        &fx.app,
        &t.ep.token,
        &mutation("addConsultationAction", "AddConsultationActionInput", "action { id }"),
        json!({ "i": { "consultationId": id, "description": "Late", "owner": "SENCO", "dueOn": d(today() - Duration::days(1)) } }),
    )
    .await;
    assert_eq!(codes(&past, "addConsultationAction"), vec!["OUT_OF_RANGE"]);
    // Everything but the one good request and its meeting is as it was.
    let after = [
        fx.app.count("consultations").await - 1,
        fx.app.count("pupils").await - 1,
        fx.app.count("consents").await - 1,
        fx.app.count("bookings").await - 1,
        fx.app.count("consultation_actions").await,
    ];
    assert_eq!(after.to_vec(), before);
}

#[tokio::test]
async fn the_senco_home_costs_the_same_statements_for_two_or_ten_consultations() {
    let fx = setup().await;
    let t = &fx.t;
    let home = "query($s: ID!) { consultations(filter: { schoolId: $s, openOnly: true }, first: 50) { edges { node { id status ep { displayName } school { name } pupil { initials } consents { validToday } record { concerns } actions { dueOn } booking { startsAt } } } } consultationActions(schoolId: $s) { edges { node { id dueOn } } } }";
    let statements = |a: &Answer| a.headers["x-sql-statements"].to_str().unwrap().parse::<u64>().unwrap();
    for _ in 0..2 {
        ask_formal(&fx, &t.senco_a.token, true).await;
    }
    let two = gql(&fx.app, &t.senco_a.token, home, json!({ "s": t.school_a.id })).await;
    assert_eq!(two.ok()["consultations"]["edges"].as_array().unwrap().len(), 2);
    for _ in 0..8 {
        ask_formal(&fx, &t.senco_a.token, true).await;
    }
    let ten = gql(&fx.app, &t.senco_a.token, home, json!({ "s": t.school_a.id })).await;
    assert_eq!(ten.ok()["consultations"]["edges"].as_array().unwrap().len(), 10);
    assert_eq!(
        statements(&two),
        statements(&ten),
        "statements do not grow with the list"
    );
}

#[tokio::test]
async fn every_role_gets_the_table_s_answer_for_every_kind_of_change() {
    let fx = setup().await;
    let t = &fx.t;
    let other = fx.app.tenant().await;
    let (partner, _, _) = fx
        .app
        .partner(
            t,
            &["SCHOOLS_READ", "BOOKINGS_READ", "BOOKINGS_WRITE", "AVAILABILITY_READ"],
            Some(vec![&t.school_a.id]),
        )
        .await;
    let c = ask_formal(&fx, &t.senco_a.token, false).await;
    let id = c["id"].as_str().unwrap().to_owned();
    let changes: Vec<(Action, String, Value)> = vec![
        (
            Action::TriageConsultations,
            plain("triageConsultation", "TriageConsultationInput"),
            json!({ "id": id, "decision": "ASK_FOR_INFORMATION", "note": "Which lessons?" }),
        ),
        (
            Action::RequestConsultations,
            plain("updateConsultationRequest", "UpdateConsultationRequestInput"),
            json!({ "id": id, "tried": "Seating plan" }),
        ),
        (
            Action::ScheduleConsultations,
            plain("cancelConsultationMeeting", "CancelConsultationMeetingInput")
                .replace(&format!("consultation {{ {FIELDS} }}"), "result { chargedMinutes }"),
            json!({ "id": id, "reason": "Test", "cancelledFor": "SCHOOL" }),
        ),
        (
            Action::RecordConsultations,
            plain("holdConsultation", "HoldConsultationInput"),
            json!({ "id": id }),
        ),
        (
            Action::ManageConsent,
            plain("recordConsent", "RecordConsentInput"),
            json!({ "consultationId": id, "consent": consent_input(today() - Duration::days(5)) }),
        ),
    ];
    for &who in EVERYONE {
        let account = match who {
            Who::Admin => &t.admin,
            Who::Ep => &t.ep,
            Who::OtherEp => &t.other_ep,
            Who::SencoA => &t.senco_a,
            Who::SencoB => &t.senco_b,
            Who::LeaderA => &t.leader_a,
            Who::StaffA => &t.staff_a,
            Who::Partner => &partner,
            Who::OtherAdmin => &other.admin,
        };
        for (action, q, input) in &changes {
            let a = gql(&fx.app, &account.token, q, json!({ "i": input })).await;
            let allowed = table_allows(
                who.role(),
                &[
                    PartnerScope::SchoolsRead,
                    PartnerScope::BookingsRead,
                    PartnerScope::BookingsWrite,
                    PartnerScope::AvailabilityRead,
                ],
                *action,
                who.relation(),
            );
            let expected = if !who.sees() {
                Some("NOT_FOUND")
            } else if !allowed {
                Some("FORBIDDEN")
            } else {
                None
            };
            assert_eq!(a.code(), expected, "{who:?} {action:?}: {}", a.body);
        }
    }
}
