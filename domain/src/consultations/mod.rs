//! Consultations: a school's request for involvement, consent for formal work, the booked
//! meeting (one booking of EP time under its rules), the record with agreed actions, reviews in
//! cycles, and the retention of children's records.
//!
//! Everything is read and written through the door. A formal consultation is about one child:
//! its pupil record, consent and record are special-category data, so every read and write of
//! them is in the audit log, and no child detail goes into bookings, logs or messages.

pub mod consent;
pub mod meeting;
pub mod pupils;
pub mod records;
pub mod requests;
pub mod retention;
pub mod settings;
pub mod states;
mod views;

pub use views::{Filter, RecordView, View, actions_due, get, list};

use chrono::{NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::ConnectionTrait;

use crate::access::{Action, Caller, Role};
use crate::door::{self, Door};
use crate::entities::consultation;
use crate::error::DomainResult;
use crate::ids::ConsultationId;
use crate::model::ConsultationStatus;
use states::Step;

/// A consultation's state as of `today`: a shared record whose review date has come is due for
/// review (the calendar takes that step, not a person).
pub fn status_on(row: &consultation::Model, today: NaiveDate) -> ConsultationStatus {
    match (row.status, row.review_on) {
        (ConsultationStatus::RecordShared, Some(review)) if review <= today => ConsultationStatus::ReviewDue,
        (status, _) => status,
    }
}

/// Today in UTC (dates of consent and reviews are calendar dates; a day either way is immaterial
/// next to a two-year consent).
pub(crate) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A consultation for `step` under `action`, locked for the transaction: not found unless the
/// caller sees it, refused unless they may take the action, and refused (naming the current
/// state) unless the table allows the step. Returns the row and the state the step leads to.
pub(crate) async fn for_step(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    id: ConsultationId,
    action: Action,
    step: Step,
) -> DomainResult<(consultation::Model, ConsultationStatus)> {
    let row = door::for_change::<consultation::Entity, _>(txn, caller, id, Action::ViewConsultations, action).await?;
    let next = states::check(step, status_on(&row, today()))?;
    Ok((row, next))
}

/// Saves a consultation's new state (and whatever else `change` sets).
pub(crate) async fn save(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    action: Action,
    row: consultation::Model,
    status: ConsultationStatus,
    change: impl FnOnce(&mut consultation::ActiveModel),
) -> DomainResult<consultation::Model> {
    let door = Door::open(txn, caller, action).await?;
    let mut active: consultation::ActiveModel = row.into();
    active.status = Set(status);
    active.updated_at = Set(Utc::now());
    if !states::is_open(status) {
        active.closed_at = Set(Some(Utc::now()));
    }
    change(&mut active);
    door.update(active).await
}

/// One consultation as the caller may see it (after a change, inside its transaction), with
/// the warnings the change gave.
pub(crate) async fn view_of(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    row: consultation::Model,
    warnings: Vec<String>,
) -> DomainResult<View> {
    let mut view = views::assemble(conn, caller, vec![row])
        .await?
        .pop()
        .ok_or(crate::DomainError::NotFound)?;
    view.warnings = warnings;
    Ok(view)
}

/// Whether the caller works for the service (an administrator or an EP) rather than a school.
pub(crate) fn is_service_side(caller: &Caller, row: &consultation::Model) -> bool {
    caller.principal.has_role_in_service(Role::ServiceAdmin, row.service_id)
        || caller.principal.has_role_in_service(Role::Psychologist, row.service_id)
}

/// Whether the caller sees the EP's private working notes: that EP, and administrators.
pub(crate) fn sees_private_notes(caller: &Caller, row: &consultation::Model) -> bool {
    caller.principal.has_role_in_service(Role::ServiceAdmin, row.service_id)
        || (caller.principal.person_id().is_some() && caller.principal.person_id() == row.ep_id)
}
