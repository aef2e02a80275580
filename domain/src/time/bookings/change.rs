//! Changing a booking: confirming it, moving it (the new time is booked first, then the old one
//! cancelled, in one transaction) and recording that it happened.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};

use super::super::ledger::{self, account_of};
use super::super::{local_date, service_zone, settings};
use super::cancel::is_late;
use super::place::{Booked, NewBooking, place, resolve};
use super::{for_change, is_chargeable, require_open};
use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::booking;
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{BookingId, PersonId};
use crate::model::{BookingKind, BookingStatus, LedgerKind, TimeCategory};
use crate::values;

/// Confirms a tentative booking.
pub async fn confirm(db: &Db, caller: &Caller, id: BookingId) -> DomainResult<booking::Model> {
    let txn = db::begin_write(db).await?;
    let b = for_change(&txn, caller, id, Action::ManageBookings).await?;
    let door = Door::open(&txn, caller, Action::ManageBookings).await?;
    if b.status != BookingStatus::Tentative {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            format!("the booking is {}", b.status.as_str()),
        ));
    }
    let now = Utc::now();
    let mut row: booking::ActiveModel = b.into();
    row.status = Set(BookingStatus::Confirmed);
    row.confirmed_at = Set(Some(now));
    row.updated_at = Set(now);
    let saved = door.update(row).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("booking.confirm", "Booking", id).in_school(saved.service_id, saved.school_id),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

pub struct Reschedule {
    pub id: BookingId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Another EP, if the booking moves to them.
    pub ep_id: Option<PersonId>,
    pub reason: Option<String>,
}

/// The old booking (now cancelled) and the new one, linked both ways.
pub struct Rescheduled {
    pub old: booking::Model,
    pub new: Booked,
}

/// Moves a booking: books the new time first, then cancels the old one (uncharged), both in one
/// transaction, so that nobody is left without a slot and nothing is half done.
pub async fn reschedule(db: &Db, caller: &Caller, input: Reschedule) -> DomainResult<Rescheduled> {
    let txn = db::begin_write(db).await?;
    let moved = reschedule_in(&txn, caller, input).await?;
    txn.commit().await?;
    Ok(moved)
}

/// Moves a booking inside the caller's transaction, with its audit entry.
pub(crate) async fn reschedule_in(
    txn: &impl sea_orm::ConnectionTrait,
    caller: &Caller,
    input: Reschedule,
) -> DomainResult<Rescheduled> {
    let reason = values::optional_text("reason", input.reason.as_deref(), values::MAX_REASON_LEN)?
        .unwrap_or_else(|| "Rescheduled".to_owned());
    let old = for_change(txn, caller, input.id, Action::ManageBookings).await?;
    let door = Door::open(txn, caller, Action::ManageBookings).await?;
    require_open(&old)?;
    // Moving is not a way round the cancellation policy: only the service's administrators, or
    // the EP whose time it is, move a booking that has started or is inside the notice window.
    let is_admin = caller.principal.has_role_in_service(Role::ServiceAdmin, old.service_id);
    let own = caller.principal.person_id() == Some(old.ep_id);
    if !is_admin && !own {
        let policies = settings::policies(txn, old.service_id).await?;
        if is_late(&policies, old.starts_at, Utc::now()) {
            return Err(DomainError::invalid(
                "id",
                FieldErrorCode::NotAllowed,
                "this booking is inside the cancellation notice window: cancel it, or ask the service to move it",
            ));
        }
    }
    if old.kind == BookingKind::Visit {
        let inside = Door::service(txn, old.service_id)
            .find::<booking::Entity>()
            .filter(booking::Column::VisitId.eq(old.id))
            .filter(booking::Column::Status.is_in([BookingStatus::Tentative, BookingStatus::Confirmed]))
            .one(txn)
            .await?;
        if inside.is_some() {
            return Err(DomainError::invalid(
                "id",
                FieldErrorCode::InvalidState,
                "move or cancel the bookings inside this visit first",
            ));
        }
    }
    // The new time may overlap the old until the old is cancelled, later in this transaction.
    db::defer_overlap_checks(txn).await?;
    let request = NewBooking {
        service_id: Some(old.service_id),
        school_id: old.school_id,
        ep_id: input.ep_id.unwrap_or(old.ep_id),
        kind: old.kind,
        visit_id: old.visit_id,
        mode: old.mode,
        location: old.location.clone(),
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        preparation_minutes: old.preparation_minutes,
        funding_stream: old.funding_stream,
        status: old.status,
        overbooking_reason: old.overbooking_reason.clone(),
        short_notice_reason: None,
    };
    let mut plan = resolve(txn, caller, request, Some(&old)).await?;
    plan.rescheduled_from = Some(old.id);
    plan.series_id = old.series_id;
    // The old booking's time is given back before the new one is weighed against the allocation.
    let tz = service_zone(txn, old.service_id).await?;
    if is_chargeable(&old) {
        ledger::release(
            &door,
            caller,
            account_of(&old, local_date(tz, old.starts_at)),
            Some(reason.clone()),
        )
        .await?;
    }
    let new = place(&door, caller, plan).await?;
    let now = Utc::now();
    let mut row: booking::ActiveModel = old.into();
    row.status = Set(BookingStatus::Cancelled);
    row.cancelled_at = Set(Some(now));
    row.cancelled_by = Set(caller.principal.person_id());
    row.cancelled_by_partner = Set(caller.principal.partner_client_id());
    row.cancellation_reason = Set(Some(reason));
    row.cancellation_charged = Set(Some(false));
    row.rescheduled_to_id = Set(Some(new.booking.id));
    row.updated_at = Set(now);
    let old = door.update(row).await?;
    audit::log(
        txn,
        caller,
        Entry::new("booking.reschedule", "Booking", old.id)
            .in_school(old.service_id, old.school_id)
            .detail(serde_json::json!({ "newBookingId": new.booking.id })),
    )
    .await?;
    Ok(Rescheduled { old, new })
}

pub struct Delivery {
    pub id: BookingId,
    /// Default: as booked.
    pub direct_minutes: Option<i32>,
    pub preparation_minutes: Option<i32>,
}

/// Records that a booking happened, with the minutes actually spent.
pub async fn deliver(db: &Db, caller: &Caller, input: Delivery) -> DomainResult<booking::Model> {
    let mut p = Problems::new();
    for (field, v) in [
        ("directMinutes", input.direct_minutes),
        ("preparationMinutes", input.preparation_minutes),
    ] {
        if let Some(m) = v
            && !(0..=24 * 60).contains(&m)
        {
            p.add(field, FieldErrorCode::OutOfRange, "must be between 0 and 1440 minutes");
        }
    }
    p.finish()?;
    let txn = db::begin_write(db).await?;
    let saved = deliver_in(&txn, caller, input).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Records a delivery inside the caller's transaction, with its audit entry.
pub(crate) async fn deliver_in(
    txn: &impl sea_orm::ConnectionTrait,
    caller: &Caller,
    input: Delivery,
) -> DomainResult<booking::Model> {
    let b = for_change(txn, caller, input.id, Action::RecordDelivery).await?;
    let door = Door::open(txn, caller, Action::RecordDelivery).await?;
    require_open(&b)?;
    let now = Utc::now();
    if b.starts_at > now {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "a booking can be recorded as delivered once it has started",
        ));
    }
    let direct = input.direct_minutes.unwrap_or(b.direct_minutes);
    let prep = input.preparation_minutes.unwrap_or(b.preparation_minutes);
    if is_chargeable(&b) {
        let tz = service_zone(txn, b.service_id).await?;
        let account = account_of(&b, local_date(tz, b.starts_at));
        ledger::release(&door, caller, account, None).await?;
        ledger::post(
            &door,
            caller,
            account,
            LedgerKind::Delivered,
            TimeCategory::Direct,
            i64::from(direct),
            None,
        )
        .await?;
        ledger::post(
            &door,
            caller,
            account,
            LedgerKind::Delivered,
            TimeCategory::Preparation,
            i64::from(prep),
            None,
        )
        .await?;
    }
    let mut row: booking::ActiveModel = b.into();
    row.status = Set(BookingStatus::Delivered);
    row.delivered_at = Set(Some(now));
    row.direct_minutes = Set(direct);
    row.preparation_minutes = Set(prep);
    row.updated_at = Set(now);
    let saved = door.update(row).await?;
    audit::log(
        txn,
        caller,
        Entry::new("booking.deliver", "Booking", saved.id)
            .in_school(saved.service_id, saved.school_id)
            .detail(serde_json::json!({ "directMinutes": direct, "preparationMinutes": prep })),
    )
    .await?;
    Ok(saved)
}
