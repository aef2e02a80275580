//! The consultation's meeting: one booking of EP time under the EP-time rules (no double
//! booking, the school's allocation, notice, the cancellation policy), made, moved, cancelled and
//! held in the same transaction as the consultation's own change.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use super::states::Step;
use super::{View, consent, for_step, is_service_side, save};
use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::{consultation, contract};
use crate::error::{DomainError, DomainResult, FieldError, FieldErrorCode};
use crate::ids::{BookingId, ConsultationId, PersonId};
use crate::model::{BookingKind, BookingMode, BookingStatus, CancelledFor, ConsultationStatus, ContractStatus};
use crate::time::{self, bookings, settings as time_settings};

/// When and with whom the meeting is.
#[derive(Clone, Debug)]
pub struct Slot {
    /// Default: the consultation's EP, or else the school's link EP.
    pub ep_id: Option<PersonId>,
    pub starts_at: DateTime<Utc>,
    /// Default: the service's usual meeting length.
    pub duration_minutes: Option<i32>,
    pub mode: BookingMode,
    /// A room or "online": never a child's details.
    pub location: Option<String>,
    /// An administrator's reason for booking inside the minimum notice or in the past.
    pub short_notice_reason: Option<String>,
    /// A visit the meeting sits inside.
    pub visit_id: Option<BookingId>,
}

/// Errors of the booking, pointed at the input they came from (`slot.startsAt`).
fn under(prefix: &str, e: DomainError) -> DomainError {
    match e {
        DomainError::Invalid(errors) if !prefix.is_empty() => DomainError::Invalid(
            errors
                .into_iter()
                .map(|mut f: FieldError| {
                    let p: Vec<String> = prefix.trim_end_matches('.').split('.').map(str::to_owned).collect();
                    f.field = p.into_iter().chain(f.field).collect();
                    f
                })
                .collect(),
        ),
        other => other,
    }
}

/// The school's link EP on its latest live contract.
async fn link_ep(conn: &impl ConnectionTrait, row: &consultation::Model) -> DomainResult<Option<PersonId>> {
    let contracts = Door::service(conn, row.service_id)
        .find::<contract::Entity>()
        .filter(contract::Column::SchoolId.eq(row.school_id))
        .filter(contract::Column::Status.ne(ContractStatus::Cancelled))
        .filter(contract::Column::LinkEpId.is_not_null())
        .all(conn)
        .await?;
    Ok(contracts
        .into_iter()
        .max_by_key(|c| c.starts_on)
        .and_then(|c| c.link_ep_id))
}

/// Books the meeting for a consultation read for a change, and saves it as `next`.
pub(crate) async fn schedule_in(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    row: consultation::Model,
    next: ConsultationStatus,
    slot: Slot,
    prefix: &str,
) -> DomainResult<(consultation::Model, Vec<String>)> {
    let tz = time::service_zone(txn, row.service_id).await?;
    let on = time::local_date(tz, slot.starts_at);
    consent::require_valid(txn, &row, on, &format!("{prefix}startsAt")).await?;
    let ep = match slot.ep_id.or(row.ep_id) {
        Some(ep) => ep,
        None => link_ep(txn, &row).await?.ok_or_else(|| {
            DomainError::invalid(
                &format!("{prefix}epId"),
                FieldErrorCode::Required,
                "the school has no link EP: name the EP",
            )
        })?,
    };
    let settings = super::settings::of(txn, row.service_id).await?;
    let minutes = slot.duration_minutes.unwrap_or(settings.meeting_minutes);
    if !(15..=240).contains(&minutes) {
        return Err(DomainError::invalid(
            &format!("{prefix}durationMinutes"),
            FieldErrorCode::OutOfRange,
            "must be between 15 and 240 minutes",
        ));
    }
    let booked = bookings::create_in(
        txn,
        caller,
        bookings::NewBooking {
            service_id: Some(row.service_id),
            school_id: Some(row.school_id),
            ep_id: ep,
            kind: BookingKind::Consultation,
            visit_id: slot.visit_id,
            mode: slot.mode,
            location: slot.location,
            starts_at: slot.starts_at,
            ends_at: slot.starts_at + Duration::minutes(i64::from(minutes)),
            preparation_minutes: settings.preparation_minutes + settings.write_up_minutes,
            funding_stream: Some(row.funding_stream),
            status: BookingStatus::Confirmed,
            overbooking_reason: None,
            short_notice_reason: slot.short_notice_reason,
        },
        None,
    )
    .await
    .map_err(|e| under(prefix, e))?;
    let booking = booked.booking.id;
    let saved = save(txn, caller, Action::ScheduleConsultations, row, next, |r| {
        r.booking_id = Set(Some(booking));
        r.ep_id = Set(Some(ep));
    })
    .await?;
    audit::log(
        txn,
        caller,
        Entry::new("consultation.schedule", "Consultation", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "bookingId": booking })),
    )
    .await?;
    Ok((saved, booked.warnings))
}

/// Books the meeting of an accepted (or, by the school at once, a requested) consultation.
pub async fn schedule(db: &Db, caller: &Caller, id: ConsultationId, slot: Slot) -> DomainResult<View> {
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::ScheduleConsultations, Step::Schedule).await?;
    let (saved, warnings) = schedule_in(&txn, caller, row, next, slot, "").await?;
    let view = super::view_of(&txn, caller, saved, warnings).await?;
    txn.commit().await?;
    Ok(view)
}

/// Moves the meeting. The service moves it as a reschedule; a school books the new time and
/// gives the old one back, which it may do only outside the cancellation notice window.
pub async fn move_to(
    db: &Db,
    caller: &Caller,
    id: ConsultationId,
    starts_at: DateTime<Utc>,
    ep_id: Option<PersonId>,
    reason: Option<String>,
) -> DomainResult<View> {
    let txn = db::begin_write(db).await?;
    let (row, _) = for_step(&txn, caller, id, Action::ScheduleConsultations, Step::Move).await?;
    let old_id = row
        .booking_id
        .ok_or_else(|| DomainError::invalid("id", FieldErrorCode::InvalidState, "the consultation has no meeting"))?;
    let old = Door::service(&txn, row.service_id)
        .get::<crate::entities::booking::Entity>(old_id)
        .await?;
    let length = old.ends_at - old.starts_at;
    let tz = time::service_zone(&txn, row.service_id).await?;
    consent::require_valid(&txn, &row, time::local_date(tz, starts_at), "startsAt").await?;
    let (new_id, warnings) = if is_service_side(caller, &row) {
        let moved = bookings::reschedule_in(
            &txn,
            caller,
            bookings::Reschedule {
                id: old_id,
                starts_at,
                ends_at: starts_at + length,
                ep_id,
                reason,
            },
        )
        .await?;
        (moved.new.booking.id, moved.new.warnings)
    } else {
        let policies = time_settings::policies(&txn, row.service_id).await?;
        if bookings::is_late(&policies, old.starts_at, Utc::now()) {
            return Err(DomainError::invalid(
                "id",
                FieldErrorCode::NotAllowed,
                "the meeting is inside the cancellation notice window: cancel it, or ask the service to move it",
            ));
        }
        let booked = bookings::create_in(
            &txn,
            caller,
            bookings::NewBooking {
                service_id: Some(row.service_id),
                school_id: Some(row.school_id),
                ep_id: ep_id.unwrap_or(old.ep_id),
                kind: BookingKind::Consultation,
                visit_id: old.visit_id,
                mode: old.mode,
                location: old.location.clone(),
                starts_at,
                ends_at: starts_at + length,
                preparation_minutes: old.preparation_minutes,
                funding_stream: old.funding_stream,
                status: BookingStatus::Confirmed,
                overbooking_reason: None,
                short_notice_reason: None,
            },
            None,
        )
        .await?;
        bookings::cancel_by_id_in(
            &txn,
            caller,
            old_id,
            Some(CancelledFor::School),
            reason.unwrap_or_else(|| "Moved by the school".to_owned()),
        )
        .await?;
        (booked.booking.id, booked.warnings)
    };
    let new_ep = ep_id.unwrap_or(old.ep_id);
    let saved = save(
        &txn,
        caller,
        Action::ScheduleConsultations,
        row,
        ConsultationStatus::Scheduled,
        |r| {
            r.booking_id = Set(Some(new_id));
            r.ep_id = Set(Some(new_ep));
        },
    )
    .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.move", "Consultation", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "bookingId": new_id })),
    )
    .await?;
    let view = super::view_of(&txn, caller, saved, warnings).await?;
    txn.commit().await?;
    Ok(view)
}

/// Cancels the meeting under the cancellation policy; the consultation waits to be booked again.
/// Returns the consultation and the minutes charged to the school.
pub async fn cancel_meeting(
    db: &Db,
    caller: &Caller,
    id: ConsultationId,
    reason: &str,
    cancelled_for: Option<CancelledFor>,
) -> DomainResult<(View, i64)> {
    let reason = crate::values::required_text("reason", reason, crate::values::MAX_REASON_LEN)?;
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::ScheduleConsultations, Step::CancelMeeting).await?;
    let booking = row
        .booking_id
        .ok_or_else(|| DomainError::invalid("id", FieldErrorCode::InvalidState, "the consultation has no meeting"))?;
    let cancelled = bookings::cancel_by_id_in(&txn, caller, booking, cancelled_for, reason).await?;
    let saved = save(&txn, caller, Action::ScheduleConsultations, row, next, |r| {
        r.booking_id = Set(None);
    })
    .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.cancel_meeting", "Consultation", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "bookingId": booking, "chargedMinutes": cancelled.charged_minutes })),
    )
    .await?;
    let view = super::view_of(&txn, caller, saved, Vec::new()).await?;
    txn.commit().await?;
    Ok((view, cancelled.charged_minutes))
}

/// Records that the meeting was held: its booking is delivered (with the minutes spent, default
/// as booked), and the consultation is ready for its record.
pub async fn hold(db: &Db, caller: &Caller, id: ConsultationId, direct_minutes: Option<i32>) -> DomainResult<View> {
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::RecordConsultations, Step::Hold).await?;
    let booking = row
        .booking_id
        .ok_or_else(|| DomainError::invalid("id", FieldErrorCode::InvalidState, "the consultation has no meeting"))?;
    let b = Door::service(&txn, row.service_id)
        .get::<crate::entities::booking::Entity>(booking)
        .await?;
    let tz = time::service_zone(&txn, row.service_id).await?;
    consent::require_valid(&txn, &row, time::local_date(tz, b.starts_at), "id").await?;
    // Only the EP whose time it is, or an administrator, says a meeting happened.
    let own = caller.principal.person_id() == Some(b.ep_id);
    if !own && !caller.principal.has_role_in_service(Role::ServiceAdmin, row.service_id) {
        return Err(DomainError::Refused(
            "Only the EP who held the meeting, or the service's administrators, may record it as held.".to_owned(),
        ));
    }
    bookings::deliver_in(
        &txn,
        caller,
        bookings::Delivery {
            id: booking,
            direct_minutes,
            preparation_minutes: None,
        },
    )
    .await?;
    let saved = save(&txn, caller, Action::RecordConsultations, row, next, |_| {}).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consultation.hold", "Consultation", saved.id).in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    let view = super::view_of(&txn, caller, saved, Vec::new()).await?;
    txn.commit().await?;
    Ok(view)
}
