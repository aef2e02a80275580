//! After the meeting: the record (attendees, strengths, concerns, hypotheses, the EP's private
//! notes), agreed actions with owners and due dates, sharing with the school, the review that
//! opens the next cycle, and the close with an outcome.

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::states::{self, Step};
use super::{View, for_step, save, status_on, today};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{consultation, consultation_action, consultation_record};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{ConsultationActionId, ConsultationId};
use crate::model::{ActionStatus, ConsultationOutcome, ConsultationStatus, RecordFormat};
use crate::values;

/// Longest section of a record.
pub const MAX_SECTION_LEN: usize = 4000;
/// Longest action or progress note.
pub const MAX_ACTION_LEN: usize = 500;
/// At most this many adults listed as present.
pub const MAX_ATTENDEES: usize = 20;

/// An adult present at the meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    pub name: String,
    /// Their role (class teacher, parent, SENCO...).
    pub role: String,
}

/// The adults present, as stored.
pub fn attendees_of(row: &consultation_record::Model) -> Vec<Attendee> {
    serde_json::from_str(&row.attendees).unwrap_or_default()
}

#[derive(Clone, Debug)]
pub struct RecordInput {
    pub attendees: Vec<Attendee>,
    pub strengths: Option<String>,
    pub concerns: Option<String>,
    pub hypotheses: Option<String>,
    pub format: RecordFormat,
    /// Default: the service's review period after the meeting.
    pub review_on: Option<NaiveDate>,
    /// Seen by the EP and administrators only.
    pub private_notes: Option<String>,
}

/// Writes (or rewrites) the record of a held consultation, before it is shared.
pub async fn write(db: &Db, caller: &Caller, id: ConsultationId, input: RecordInput) -> DomainResult<View> {
    let mut p = Problems::new();
    if input.attendees.len() > MAX_ATTENDEES {
        p.add(
            "attendees",
            FieldErrorCode::TooLong,
            format!("list at most {MAX_ATTENDEES} adults"),
        );
    }
    let mut attendees = Vec::new();
    for (i, a) in input.attendees.iter().enumerate() {
        let name = p.check(values::required_text(
            &format!("attendees.{i}.name"),
            &a.name,
            values::MAX_NAME_LEN,
        ));
        let role = p.check(values::required_text(&format!("attendees.{i}.role"), &a.role, 100));
        if let (Some(name), Some(role)) = (name, role) {
            attendees.push(Attendee { name, role });
        }
    }
    let mut section = |field: &str, v: &Option<String>| {
        p.check(values::optional_text(field, v.as_deref(), MAX_SECTION_LEN))
            .flatten()
    };
    let strengths = section("strengths", &input.strengths);
    let concerns = section("concerns", &input.concerns);
    let hypotheses = section("hypotheses", &input.hypotheses);
    let notes = section("privateNotes", &input.private_notes);
    if let Some(r) = input.review_on {
        p.check(crate::time::Day::parse("reviewOn", r));
    }
    p.finish()?;
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::RecordConsultations, Step::WriteRecord).await?;
    // The review is counted from the meeting (a record may be written some days after it).
    let held_on = match row.booking_id {
        Some(b) => {
            let booking = Door::service(&txn, row.service_id)
                .get::<crate::entities::booking::Entity>(b)
                .await?;
            crate::time::local_date(
                crate::time::service_zone(&txn, row.service_id).await?,
                booking.starts_at,
            )
        }
        None => today(),
    };
    let weeks = super::settings::of(&txn, row.service_id).await?.review_weeks;
    let review_on = input
        .review_on
        .unwrap_or_else(|| held_on + Duration::weeks(i64::from(weeks)));
    if review_on <= held_on {
        return Err(DomainError::invalid(
            "reviewOn",
            FieldErrorCode::OutOfRange,
            format!("must be after the meeting on {held_on}"),
        ));
    }
    let door = Door::open(&txn, caller, Action::RecordConsultations).await?;
    let record = consultation_record::ActiveModel {
        consultation_id: Set(row.id),
        service_id: Set(row.service_id),
        school_id: Set(row.school_id),
        ep_id: Set(row.ep_id),
        attendees: Set(serde_json::to_string(&attendees).unwrap_or_else(|_| "[]".to_owned())),
        strengths: Set(strengths),
        concerns: Set(concerns),
        hypotheses: Set(hypotheses),
        format: Set(input.format),
        private_notes: Set(notes),
        written_by: Set(caller.principal.person_id()),
        updated_at: Set(Utc::now()),
        shared_at: Set(None),
    };
    if door.exists::<consultation_record::Entity>(row.id).await? {
        door.update(record).await?;
    } else {
        door.insert(record).await?;
    }
    let saved = save(&txn, caller, Action::RecordConsultations, row, next, |r| {
        r.review_on = Set(Some(review_on));
    })
    .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.record", "Consultation", saved.id).in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    let view = super::view_of(&txn, caller, saved, Vec::new()).await?;
    txn.commit().await?;
    Ok(view)
}

/// Shares the record (and its actions) with the school.
pub async fn share(db: &Db, caller: &Caller, id: ConsultationId) -> DomainResult<View> {
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::RecordConsultations, Step::ShareRecord).await?;
    let door = Door::open(&txn, caller, Action::RecordConsultations).await?;
    let record = door
        .find::<consultation_record::Entity>()
        .filter(consultation_record::Column::ConsultationId.eq(row.id))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            DomainError::invalid("id", FieldErrorCode::InvalidState, "write the record before sharing it")
        })?;
    let mut r: consultation_record::ActiveModel = record.into();
    r.shared_at = Set(Some(Utc::now()));
    door.update(r).await?;
    door.update_many::<consultation_action::Entity>()
        .col_expr(
            consultation_action::Column::Shared,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(consultation_action::Column::ConsultationId.eq(row.id))
        .exec(&txn)
        .await?;
    let saved = save(&txn, caller, Action::RecordConsultations, row, next, |_| {}).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.share", "Consultation", saved.id).in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    let view = super::view_of(&txn, caller, saved, Vec::new()).await?;
    txn.commit().await?;
    Ok(view)
}

#[derive(Clone, Debug)]
pub struct NewAction {
    pub description: String,
    /// A role or a named adult.
    pub owner: String,
    pub due_on: NaiveDate,
}

fn check_due(p: &mut Problems, field: &str, due: NaiveDate) {
    if let Err(e) = crate::time::Day::parse(field, due) {
        p.check::<()>(Err(e));
    } else if due < today() {
        p.add(field, FieldErrorCode::OutOfRange, "must not be in the past");
    }
}

/// Adds an agreed action to a held consultation.
pub async fn add_action(
    db: &Db,
    caller: &Caller,
    id: ConsultationId,
    input: NewAction,
) -> DomainResult<consultation_action::Model> {
    let mut p = Problems::new();
    let description = p.check(values::required_text("description", &input.description, MAX_ACTION_LEN));
    let owner = p.check(values::required_text("owner", &input.owner, values::MAX_NAME_LEN));
    check_due(&mut p, "dueOn", input.due_on);
    p.finish()?;
    let (Some(description), Some(owner)) = (description, owner) else {
        return Err(DomainError::invalid(
            "description",
            FieldErrorCode::Required,
            "must not be empty",
        ));
    };
    let txn = db::begin_write(db).await?;
    let (row, _) = for_step(&txn, caller, id, Action::RecordConsultations, Step::TrackActions).await?;
    let status = status_on(&row, today());
    let now = Utc::now();
    let saved = Door::open(&txn, caller, Action::RecordConsultations)
        .await?
        .insert(consultation_action::ActiveModel {
            id: Set(ConsultationActionId::new()),
            service_id: Set(row.service_id),
            school_id: Set(row.school_id),
            consultation_id: Set(row.id),
            description: Set(description),
            owner: Set(owner),
            due_on: Set(input.due_on),
            status: Set(ActionStatus::Open),
            progress: Set(None),
            shared: Set(status != ConsultationStatus::Held),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation_action.create", "ConsultationAction", saved.id)
            .in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

#[derive(Clone, Debug, Default)]
pub struct ActionPatch {
    pub status: Option<ActionStatus>,
    pub progress: Option<String>,
    pub due_on: Option<NaiveDate>,
}

/// Updates an action's progress. The school updates the actions it has been given.
pub async fn update_action(
    db: &Db,
    caller: &Caller,
    id: ConsultationActionId,
    patch: ActionPatch,
) -> DomainResult<consultation_action::Model> {
    let mut p = Problems::new();
    let progress = p
        .check(values::optional_text(
            "progress",
            patch.progress.as_deref(),
            MAX_ACTION_LEN,
        ))
        .flatten();
    if let Some(d) = patch.due_on {
        check_due(&mut p, "dueOn", d);
    }
    p.finish()?;
    let txn = db::begin_write(db).await?;
    let action = door::for_change::<consultation_action::Entity, _>(
        &txn,
        caller,
        id,
        Action::ViewConsultations,
        Action::UpdateConsultationActions,
    )
    .await?;
    let parent = Door::service(&txn, action.service_id)
        .get::<consultation::Entity>(action.consultation_id)
        .await?;
    // The school sees (and so updates) actions only once the record is shared.
    if !action.shared && !super::is_service_side(caller, &parent) {
        return Err(DomainError::NotFound);
    }
    states::check(Step::TrackActions, status_on(&parent, today()))?;
    let door = Door::open(&txn, caller, Action::UpdateConsultationActions).await?;
    let mut row: consultation_action::ActiveModel = action.into();
    if let Some(s) = patch.status {
        row.status = Set(s);
    }
    if progress.is_some() {
        row.progress = Set(progress);
    }
    if let Some(d) = patch.due_on {
        row.due_on = Set(d);
    }
    row.updated_at = Set(Utc::now());
    let saved = door.update(row).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation_action.update", "ConsultationAction", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "status": saved.status.as_str() })),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Closes a consultation with its outcome.
pub async fn close(db: &Db, caller: &Caller, id: ConsultationId, outcome: ConsultationOutcome) -> DomainResult<View> {
    if outcome == ConsultationOutcome::ContinuedInReview {
        return Err(DomainError::invalid(
            "outcome",
            FieldErrorCode::Invalid,
            "start a review to continue in another cycle",
        ));
    }
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::RecordConsultations, Step::Close).await?;
    let saved = save(&txn, caller, Action::RecordConsultations, row, next, |r| {
        r.outcome = Set(Some(outcome));
    })
    .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.close", "Consultation", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "outcome": outcome.as_str() })),
    )
    .await?;
    let view = super::view_of(&txn, caller, saved, Vec::new()).await?;
    txn.commit().await?;
    Ok(view)
}

/// Starts a review: this cycle closes (continued in review) and the next one opens, accepted,
/// with the same school, EP, pupil and funding; its open actions carry over.
pub async fn start_review(db: &Db, caller: &Caller, id: ConsultationId) -> DomainResult<View> {
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::RecordConsultations, Step::StartReview).await?;
    let now = Utc::now();
    let door = Door::open(&txn, caller, Action::RecordConsultations).await?;
    let review = door
        .insert(consultation::ActiveModel {
            id: Set(ConsultationId::new()),
            service_id: Set(row.service_id),
            school_id: Set(row.school_id),
            ep_id: Set(row.ep_id),
            kind: Set(row.kind),
            status: Set(ConsultationStatus::Accepted),
            pupil_id: Set(row.pupil_id),
            previous_id: Set(Some(row.id)),
            cycle: Set(row.cycle + 1),
            areas: Set(row.areas.clone()),
            strengths: Set(None),
            tried: Set(None),
            hoped_outcomes: Set(row.hoped_outcomes.clone()),
            preferred_times: Set(None),
            funding_stream: Set(row.funding_stream),
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
    door.update_many::<consultation_action::Entity>()
        .col_expr(
            consultation_action::Column::ConsultationId,
            sea_orm::sea_query::Expr::value(review.id),
        )
        .filter(consultation_action::Column::ConsultationId.eq(row.id))
        .filter(consultation_action::Column::Status.eq(ActionStatus::Open))
        .exec(&txn)
        .await?;
    let previous = row.id;
    save(&txn, caller, Action::RecordConsultations, row, next, |r| {
        r.outcome = Set(Some(ConsultationOutcome::ContinuedInReview));
    })
    .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.review", "Consultation", review.id)
            .in_school(review.service_id, Some(review.school_id))
            .detail(serde_json::json!({ "previousId": previous, "cycle": review.cycle })),
    )
    .await?;
    let view = super::view_of(&txn, caller, review, Vec::new()).await?;
    txn.commit().await?;
    Ok(view)
}
