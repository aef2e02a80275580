//! Requests for involvement: a SENCO (or an administrator for a school) asks, the link EP or an
//! administrator accepts, declines or asks for more, and the school may change or withdraw its
//! request before the meeting.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use super::consent::{self, NewConsent};
use super::meeting::{self, Slot};
use super::pupils::{self, NewPupil};
use super::states::Step;
use super::{View, for_step, save};
use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{consultation, membership, pupil, school};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{ConsultationId, PersonId, PupilId, SchoolId, ServiceId};
use crate::model::{CancelledFor, ConcernArea, ConsultationKind, ConsultationStatus, FundingStream};
use crate::time::bookings;
use crate::values;

/// Longest answer to one question of the request. Short on purpose: the form asks for what the
/// EP needs to plan, not a case history, and never a child's name.
pub const MAX_ANSWER_LEN: usize = 2000;

/// The request's questions, answered in words.
#[derive(Clone, Debug, Default)]
pub struct Answers {
    pub strengths: Option<String>,
    pub tried: Option<String>,
    pub hoped_outcomes: Option<String>,
    pub preferred_times: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewRequest {
    pub school_id: SchoolId,
    pub kind: ConsultationKind,
    /// A pupil the school already holds, or...
    pub pupil_id: Option<PupilId>,
    /// ...a new one (formal consultations only).
    pub pupil: Option<NewPupil>,
    pub areas: Vec<ConcernArea>,
    pub answers: Answers,
    /// Default TRADED; STATUTORY only by an administrator.
    pub funding_stream: Option<FundingStream>,
    /// The EP asked for (default: the link EP, chosen when the meeting is booked).
    pub ep_id: Option<PersonId>,
    /// Consent given already (formal consultations).
    pub consent: Option<NewConsent>,
    /// A free slot to book at once, where the service lets schools book.
    pub slot: Option<Slot>,
}

/// Checked answers: trimmed, bounded, without control characters.
fn answers(p: &mut Problems, a: &Answers) -> Answers {
    let mut one = |field: &str, v: &Option<String>| {
        p.check(values::optional_text(field, v.as_deref(), MAX_ANSWER_LEN))
            .flatten()
    };
    Answers {
        strengths: one("strengths", &a.strengths),
        tried: one("tried", &a.tried),
        hoped_outcomes: one("hopedOutcomes", &a.hoped_outcomes),
        preferred_times: one("preferredTimes", &a.preferred_times),
    }
}

fn areas_text(p: &mut Problems, areas: &[ConcernArea]) -> String {
    if areas.is_empty() {
        p.add(
            "areasOfConcern",
            FieldErrorCode::Required,
            "name at least one area of concern",
        );
    }
    let mut names: Vec<&str> = areas.iter().map(|a| a.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

/// The areas of concern stored as text.
pub fn areas_of(row: &consultation::Model) -> Vec<ConcernArea> {
    row.areas.split_whitespace().filter_map(|a| a.parse().ok()).collect()
}

/// An EP of the service (for a request naming one).
async fn require_ep(conn: &impl ConnectionTrait, service: ServiceId, ep: PersonId, field: &str) -> DomainResult<()> {
    let found = Door::service(conn, service)
        .find::<membership::Entity>()
        .filter(membership::Column::PersonId.eq(ep))
        .filter(membership::Column::Role.eq(Role::Psychologist))
        .filter(membership::Column::RevokedAt.is_null())
        .one(conn)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| DomainError::invalid(field, FieldErrorCode::NotFound, "is not an EP of this service"))
}

/// Asks for involvement. With a slot, the meeting is booked at once in the same transaction;
/// with consent, it is recorded with the request.
pub async fn request(db: &Db, caller: &Caller, input: NewRequest) -> DomainResult<View> {
    let mut p = Problems::new();
    let areas = areas_text(&mut p, &input.areas);
    let checked = answers(&mut p, &input.answers);
    match input.kind {
        ConsultationKind::Formal if input.pupil_id.is_none() && input.pupil.is_none() => p.add(
            "pupilId",
            FieldErrorCode::Required,
            "a formal consultation is about one pupil: name them or add them",
        ),
        ConsultationKind::Formal if input.pupil_id.is_some() && input.pupil.is_some() => {
            p.add("pupil", FieldErrorCode::Invalid, "give pupilId or pupil, not both")
        }
        ConsultationKind::Professional
            if input.pupil_id.is_some() || input.pupil.is_some() || input.consent.is_some() =>
        {
            p.add(
                "kind",
                FieldErrorCode::Invalid,
                "a professional consultation stores nothing that identifies a child: make it FORMAL to name a pupil",
            )
        }
        _ => {}
    }
    p.finish()?;

    let txn = db::begin_write(db).await?;
    let school = door::for_reading::<school::Entity, _>(
        &txn,
        caller,
        input.school_id,
        door::Sight::Any,
        Action::RequestConsultations,
    )
    .await
    .map_err(|e| match e {
        DomainError::NotFound => DomainError::invalid("schoolId", FieldErrorCode::NotFound, "no such school"),
        other => other,
    })?;
    let stream = input.funding_stream.unwrap_or(FundingStream::Traded);
    if stream == FundingStream::Statutory
        && !caller
            .principal
            .has_role_in_service(Role::ServiceAdmin, school.service_id)
    {
        return Err(DomainError::invalid(
            "fundingStream",
            FieldErrorCode::NotAllowed,
            "only the service's administrators mark work as statutory",
        ));
    }
    if let Some(ep) = input.ep_id {
        require_ep(&txn, school.service_id, ep, "epId").await?;
    }
    let pupil_id = match (input.pupil_id, input.pupil) {
        (Some(id), _) => {
            let found = Door::open(&txn, caller, Action::ViewPupils)
                .await?
                .find::<pupil::Entity>()
                .filter(pupil::Column::Id.eq(id))
                .filter(pupil::Column::SchoolId.eq(school.id))
                .one(&txn)
                .await?;
            let found = found.ok_or_else(|| {
                DomainError::invalid("pupilId", FieldErrorCode::NotFound, "no such pupil at this school")
            })?;
            pupils::audit_reads(&txn, caller, &[&found]).await?;
            Some(found.id)
        }
        (None, Some(mut new)) => {
            new.school_id = school.id;
            Some(pupils::add_in(&txn, caller, "pupil.", new).await?.id)
        }
        (None, None) => None,
    };
    let now = Utc::now();
    let door = Door::open(&txn, caller, Action::RequestConsultations).await?;
    let mut row = door
        .insert(consultation::ActiveModel {
            id: Set(ConsultationId::new()),
            service_id: Set(school.service_id),
            school_id: Set(school.id),
            ep_id: Set(input.ep_id),
            kind: Set(input.kind),
            status: Set(ConsultationStatus::Requested),
            pupil_id: Set(pupil_id),
            previous_id: Set(None),
            cycle: Set(1),
            areas: Set(areas),
            strengths: Set(checked.strengths),
            tried: Set(checked.tried),
            hoped_outcomes: Set(checked.hoped_outcomes),
            preferred_times: Set(checked.preferred_times),
            funding_stream: Set(stream),
            booking_id: Set(None),
            triage_note: Set(None),
            outcome: Set(None),
            review_on: Set(None),
            requested_by: Set(caller.principal.person_id()),
            created_at: Set(now),
            updated_at: Set(now),
            closed_at: Set(None),
            content_destroyed_at: Set(None),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.request", "Consultation", row.id)
            .in_school(row.service_id, Some(row.school_id))
            .detail(serde_json::json!({ "kind": row.kind.as_str() })),
    )
    .await?;
    if let Some(c) = input.consent {
        consent::record_in(&txn, caller, &row, "consent.", c).await?;
    }
    let mut warnings = Vec::new();
    if let Some(slot) = input.slot {
        let (booked, w) = meeting::schedule_in(&txn, caller, row, ConsultationStatus::Scheduled, slot, "slot.").await?;
        row = booked;
        warnings = w;
    }
    let view = super::view_of(&txn, caller, row, warnings).await?;
    txn.commit().await?;
    Ok(view)
}

/// Changes a request (answering a request for information puts it back to the EP).
pub async fn update(
    db: &Db,
    caller: &Caller,
    id: ConsultationId,
    areas: Option<Vec<ConcernArea>>,
    changed: Answers,
) -> DomainResult<View> {
    let mut p = Problems::new();
    let areas = areas.map(|a| areas_text(&mut p, &a));
    let checked = answers(&mut p, &changed);
    p.finish()?;
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::RequestConsultations, Step::UpdateRequest).await?;
    let saved = save(&txn, caller, Action::RequestConsultations, row, next, |r| {
        if let Some(a) = areas {
            r.areas = Set(a);
        }
        if changed.strengths.is_some() {
            r.strengths = Set(checked.strengths);
        }
        if changed.tried.is_some() {
            r.tried = Set(checked.tried);
        }
        if changed.hoped_outcomes.is_some() {
            r.hoped_outcomes = Set(checked.hoped_outcomes);
        }
        if changed.preferred_times.is_some() {
            r.preferred_times = Set(checked.preferred_times);
        }
    })
    .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.update", "Consultation", saved.id).in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    let view = super::view_of(&txn, caller, saved, Vec::new()).await?;
    txn.commit().await?;
    Ok(view)
}

/// What the EP or administrator decides about a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Decline,
    AskForInformation,
}

/// Triage: accept (optionally naming the EP), decline with a reason the school sees, or ask the
/// school for more information.
pub async fn triage(
    db: &Db,
    caller: &Caller,
    id: ConsultationId,
    decision: Decision,
    note: Option<&str>,
    ep: Option<PersonId>,
) -> DomainResult<View> {
    let note = values::optional_text("note", note, values::MAX_REASON_LEN)?;
    if note.is_none() && decision != Decision::Accept {
        return Err(DomainError::invalid(
            "note",
            FieldErrorCode::Required,
            "say why (the school sees it)",
        ));
    }
    let step = match decision {
        Decision::Accept => Step::Accept,
        Decision::Decline => Step::Decline,
        Decision::AskForInformation => Step::AskForInformation,
    };
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::TriageConsultations, step).await?;
    if let Some(ep) = ep {
        require_ep(&txn, row.service_id, ep, "epId").await?;
    }
    // An EP who accepts takes the work on, unless they name someone else.
    let ep = ep.or(row.ep_id).or_else(|| {
        caller
            .principal
            .has_role_in_service(Role::Psychologist, row.service_id)
            .then(|| caller.principal.person_id())
            .flatten()
    });
    let saved = save(&txn, caller, Action::TriageConsultations, row, next, |r| {
        r.triage_note = Set(note);
        if decision == Decision::Accept {
            r.ep_id = Set(ep);
        }
    })
    .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.triage", "Consultation", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "status": saved.status.as_str() })),
    )
    .await?;
    let view = super::view_of(&txn, caller, saved, Vec::new()).await?;
    txn.commit().await?;
    Ok(view)
}

/// The school withdraws its request; a meeting still to come is cancelled under the policy.
pub async fn withdraw(db: &Db, caller: &Caller, id: ConsultationId, reason: &str) -> DomainResult<View> {
    let reason = values::required_text("reason", reason, values::MAX_REASON_LEN)?;
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::RequestConsultations, Step::Withdraw).await?;
    if row.status == ConsultationStatus::Scheduled
        && let Some(b) = row.booking_id
    {
        bookings::cancel_by_id_in(&txn, caller, b, Some(CancelledFor::School), reason.clone()).await?;
    }
    let saved = save(&txn, caller, Action::RequestConsultations, row, next, |r| {
        r.triage_note = Set(Some(reason));
    })
    .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.withdraw", "Consultation", saved.id)
            .in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    let view = super::view_of(&txn, caller, saved, Vec::new()).await?;
    txn.commit().await?;
    Ok(view)
}
