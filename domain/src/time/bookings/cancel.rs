//! Cancelling: on whose behalf, what the policy charges (and a quote of it beforehand), the
//! bookings inside a cancelled visit, and no-shows.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect};

use super::super::ledger::{self, Author, account_of};
use super::super::{local_date, service_zone, settings};
use super::{for_change, is_chargeable, require_open};
use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::{booking, time_settings};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::BookingId;
use crate::model::{BookingKind, BookingStatus, CancelledFor, FundingStream, LedgerKind, TimeCategory};
use crate::values;

pub struct Cancel {
    pub id: BookingId,
    pub reason: String,
    /// Administrators say on whose behalf; others cancel as themselves (a school's staff for
    /// the school, an EP for the EP).
    pub cancelled_for: Option<CancelledFor>,
    /// The alternative offered when an EP cancels (required when the policy says so).
    pub alternative_booking_id: Option<BookingId>,
}

/// The outcome of a cancellation: the booking and the minutes charged to the school.
#[derive(Clone, Debug)]
pub struct Cancelled {
    pub booking: booking::Model,
    pub charged_minutes: i64,
}

/// On whose behalf the caller may cancel this booking. Administrators must say: a forgotten
/// field must not give a school its late-cancelled time back.
fn cancelled_for(caller: &Caller, b: &booking::Model, asked: Option<CancelledFor>) -> DomainResult<CancelledFor> {
    // Only the service's administrators cancel on someone else's behalf; partner clients act for
    // the school.
    let admin = caller.principal.has_role_in_service(Role::ServiceAdmin, b.service_id);
    let own_calendar = caller.principal.person_id() == Some(b.ep_id)
        && caller.principal.has_role_in_service(Role::Psychologist, b.service_id);
    let natural = if own_calendar {
        CancelledFor::Ep
    } else {
        CancelledFor::School
    };
    match asked {
        None if admin => Err(DomainError::invalid(
            "cancelledFor",
            FieldErrorCode::Required,
            "say on whose behalf you cancel: SCHOOL (charged under the policy when late), EP or SERVICE",
        )),
        None => Ok(natural),
        Some(a) if admin || a == natural => Ok(a),
        Some(_) => Err(DomainError::invalid(
            "cancelledFor",
            FieldErrorCode::NotAllowed,
            format!("you can cancel only on behalf of {}", natural.as_str()),
        )),
    }
}

/// What cancelling a booking now would charge, and to whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub booking_id: BookingId,
    pub cancelled_for: CancelledFor,
    /// Inside the policy's notice window.
    pub late: bool,
    /// The share charged, in percent (zero unless a school cancels late).
    pub charge_percent: i64,
    /// Minutes the school's allocation would lose.
    pub charged_minutes: i64,
    /// Until when a cancellation is free (the start less the notice).
    pub free_until: DateTime<Utc>,
}

/// The charge of a late cancellation: one rounding of the whole, shared between direct and
/// preparation time so that the two add up to it. Statutory work never touches school time.
fn charge(b: &booking::Model, held: ledger::Held, percent: i64) -> (i64, i64) {
    if percent <= 0 || b.funding_stream == Some(FundingStream::Statutory) {
        return (0, 0);
    }
    let total = held.direct + held.preparation;
    let charged = (total * percent + 50) / 100;
    let direct = if total > 0 { charged * held.direct / total } else { 0 };
    (direct, charged - direct)
}

fn percent_for(policies: &time_settings::Model, b: &booking::Model, for_whom: CancelledFor, now: DateTime<Utc>) -> i64 {
    if for_whom == CancelledFor::School && is_late(policies, b.starts_at, now) {
        i64::from(policies.late_cancellation_charge_percent)
    } else {
        0
    }
}

/// What a cancellation now would charge, for whom the caller would cancel (`cancelledFor`, or
/// as themselves), without cancelling anything.
pub async fn quote(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: BookingId,
    asked: Option<CancelledFor>,
) -> DomainResult<Quote> {
    let b =
        crate::door::for_reading::<booking::Entity, _>(conn, caller, id, Action::ViewBookings, Action::CancelBookings)
            .await?;
    require_open(&b)?;
    let for_whom = match (
        asked,
        caller.principal.has_role_in_service(Role::ServiceAdmin, b.service_id),
    ) {
        // An administrator asking without saying sees what the school would be charged.
        (None, true) => CancelledFor::School,
        (asked, _) => cancelled_for(caller, &b, asked)?,
    };
    let policies = settings::policies(conn, b.service_id).await?;
    let now = Utc::now();
    let percent = percent_for(&policies, &b, for_whom, now);
    let held = if is_chargeable(&b) {
        ledger::held_by(conn, b.service_id, b.id).await?
    } else {
        ledger::Held::default()
    };
    let (direct, prep) = charge(&b, held, percent);
    Ok(Quote {
        booking_id: b.id,
        cancelled_for: for_whom,
        late: is_late(&policies, b.starts_at, now),
        charge_percent: if direct + prep > 0 { percent } else { 0 },
        charged_minutes: direct + prep,
        free_until: b.starts_at - Duration::hours(i64::from(policies.cancellation_notice_hours)),
    })
}

/// How a booking is being cancelled.
pub(super) struct Cancelling {
    pub for_whom: CancelledFor,
    pub reason: String,
    /// The share of the booked time the school is charged, in percent.
    pub charge_percent: i64,
    pub alternative: Option<BookingId>,
}

/// Cancels one booking: releases its time, charges the school the given share, and records who,
/// when, why and for whom.
pub(super) async fn cancel_row(
    door: &Door<'_, impl ConnectionTrait>,
    caller: &Caller,
    b: booking::Model,
    how: Cancelling,
) -> DomainResult<(booking::Model, i64)> {
    let Cancelling {
        for_whom,
        reason,
        charge_percent,
        alternative,
    } = how;
    let now = Utc::now();
    let charged = if is_chargeable(&b) {
        settle(door, Author::from(caller), &b, charge_percent, &reason).await?
    } else {
        0
    };
    let mut row: booking::ActiveModel = b.into();
    row.status = Set(BookingStatus::Cancelled);
    row.cancelled_at = Set(Some(now));
    row.cancelled_by = Set(caller.principal.person_id());
    row.cancelled_by_partner = Set(caller.principal.partner_client_id());
    row.cancelled_for = Set(Some(for_whom));
    row.cancellation_reason = Set(Some(reason));
    row.cancellation_charged = Set(Some(charged > 0));
    row.alternative_id = Set(alternative);
    row.updated_at = Set(now);
    Ok((door.update(row).await?, charged))
}

/// Releases what a chargeable booking holds and charges the school `percent` of it as a late
/// cancellation, with the reason on each entry; answers the minutes charged.
async fn settle(
    door: &Door<'_, impl ConnectionTrait>,
    author: Author,
    b: &booking::Model,
    percent: i64,
    reason: &str,
) -> DomainResult<i64> {
    let tz = service_zone(door.conn(), b.service_id).await?;
    let account = account_of(b, local_date(tz, b.starts_at));
    let held = ledger::release_by(door, author, account, Some(reason.to_owned())).await?;
    let (direct, prep) = charge(b, held, percent);
    for (category, minutes) in [(TimeCategory::Direct, direct), (TimeCategory::Preparation, prep)] {
        ledger::post_by(
            door,
            author,
            account,
            LedgerKind::LateCancellation,
            category,
            minutes,
            Some(reason.to_owned()),
        )
        .await?;
    }
    Ok(direct + prep)
}

/// Something held inside an open booking was cancelled, while the booking itself stays open: a
/// parent's Space to Talk session in a slot that draws on the school's time (the slot stays on
/// offer). The cancellation policy applies exactly as if the booking were cancelled for
/// `for_whom` now: when it charges, what the booking holds is released and the charge posted;
/// otherwise nothing is written. Answers the minutes charged.
pub(crate) async fn charge_held_use(
    door: &Door<'_, impl ConnectionTrait>,
    author: Author,
    b: &booking::Model,
    for_whom: CancelledFor,
    reason: &str,
) -> DomainResult<i64> {
    if !is_chargeable(b) || !b.status.is_open() {
        return Ok(0);
    }
    let policies = settings::policies(door.conn(), b.service_id).await?;
    let percent = percent_for(&policies, b, for_whom, Utc::now());
    if percent <= 0 {
        return Ok(0);
    }
    settle(door, author, b, percent, reason).await
}

/// Books an open booking's time again once it is used again after [`charge_held_use`] released
/// it (the next parent takes the slot); nothing when it still holds its time.
pub(crate) async fn hold_again(
    door: &Door<'_, impl ConnectionTrait>,
    author: Author,
    b: &booking::Model,
) -> DomainResult<()> {
    if !is_chargeable(b) || !b.status.is_open() {
        return Ok(());
    }
    if ledger::held_by(door.conn(), b.service_id, b.id).await? != ledger::Held::default() {
        return Ok(());
    }
    let tz = service_zone(door.conn(), b.service_id).await?;
    let account = account_of(b, local_date(tz, b.starts_at));
    for (category, minutes) in [
        (TimeCategory::Direct, b.direct_minutes),
        (TimeCategory::Preparation, b.preparation_minutes),
    ] {
        ledger::post_by(
            door,
            author,
            account,
            LedgerKind::Booked,
            category,
            i64::from(minutes),
            None,
        )
        .await?;
    }
    Ok(())
}

/// Closes what sits inside a visit that is cancelled or missed: the open bookings go with it,
/// uncharged (the visit carries the charge). A visit in which something was already delivered
/// cannot be cancelled: record it as delivered, with the minutes it took.
async fn close_visit(
    door: &Door<'_, impl ConnectionTrait>,
    caller: &Caller,
    visit: &booking::Model,
    for_whom: CancelledFor,
    reason: &str,
) -> DomainResult<()> {
    if visit.kind != BookingKind::Visit {
        return Ok(());
    }
    let inside = door
        .find::<booking::Entity>()
        .filter(booking::Column::VisitId.eq(visit.id))
        .filter(booking::Column::Status.ne(BookingStatus::Cancelled))
        .lock_exclusive()
        .all(door.conn())
        .await?;
    if inside.iter().any(|b| b.status == BookingStatus::Delivered) {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "part of this visit was delivered: record the visit as delivered instead",
        ));
    }
    for child in inside.into_iter().filter(|b| b.status.is_open()) {
        let how = Cancelling {
            for_whom,
            reason: reason.to_owned(),
            charge_percent: 0,
            alternative: None,
        };
        cancel_row(door, caller, child, how).await?;
    }
    Ok(())
}

/// Whether a cancellation now falls inside the policy's notice window.
pub fn is_late(policies: &time_settings::Model, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    starts_at - now < Duration::hours(i64::from(policies.cancellation_notice_hours))
}

/// Cancels a booking, keeping who, when, why and on whose behalf, and applying the
/// cancellation policy: a school's late cancellation draws down its time.
pub async fn cancel(db: &Db, caller: &Caller, input: Cancel) -> DomainResult<Cancelled> {
    let reason = values::required_text("reason", &input.reason, values::MAX_REASON_LEN)?;
    let txn = db::begin_write(db).await?;
    let b = for_change(&txn, caller, input.id, Action::CancelBookings).await?;
    let door = Door::open(&txn, caller, Action::CancelBookings).await?;
    let cancelled = cancel_in(
        &door,
        caller,
        b,
        input.cancelled_for,
        input.alternative_booking_id,
        reason,
    )
    .await?;
    txn.commit().await?;
    Ok(cancelled)
}

/// Cancels a booking by id inside the caller's transaction (a consultation cancels its meeting).
pub(crate) async fn cancel_by_id_in(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    id: BookingId,
    cancelled_for: Option<CancelledFor>,
    reason: String,
) -> DomainResult<Cancelled> {
    let b = for_change(txn, caller, id, Action::CancelBookings).await?;
    let door = Door::open(txn, caller, Action::CancelBookings).await?;
    cancel_in(&door, caller, b, cancelled_for, None, reason).await
}

/// Cancels a booking read for a change, inside the caller's transaction, with its audit entry.
pub(super) async fn cancel_in(
    door: &Door<'_, impl ConnectionTrait>,
    caller: &Caller,
    b: booking::Model,
    asked: Option<CancelledFor>,
    alternative_booking_id: Option<BookingId>,
    reason: String,
) -> DomainResult<Cancelled> {
    let txn = door.conn();
    require_open(&b)?;
    let for_whom = cancelled_for(caller, &b, asked)?;
    let policies = settings::policies(txn, b.service_id).await?;
    let now = Utc::now();

    let mut alternative = None;
    if let Some(alt_id) = alternative_booking_id {
        let alt = Door::service(txn, b.service_id)
            .find::<booking::Entity>()
            .filter(booking::Column::Id.eq(alt_id))
            .one(txn)
            .await?
            .filter(|a| {
                a.id != b.id
                    && a.service_id == b.service_id
                    && a.school_id == b.school_id
                    && a.status.is_open()
                    && a.starts_at > now
            })
            .ok_or_else(|| {
                DomainError::invalid(
                    "alternativeBookingId",
                    FieldErrorCode::Invalid,
                    "must be an open, future booking at the same school",
                )
            })?;
        alternative = Some(alt.id);
    } else if for_whom == CancelledFor::Ep
        && policies.ep_cancellation_requires_alternative
        && b.school_id.is_some()
        && b.starts_at > now
    {
        return Err(DomainError::invalid(
            "alternativeBookingId",
            FieldErrorCode::Required,
            "the service's policy asks an EP who cancels to offer the school an alternative booking",
        ));
    }

    close_visit(door, caller, &b, for_whom, &reason).await?;
    let how = Cancelling {
        for_whom,
        reason,
        charge_percent: percent_for(&policies, &b, for_whom, now),
        alternative,
    };
    let (saved, charged) = cancel_row(door, caller, b, how).await?;
    audit::log(
        txn,
        caller,
        Entry::new("booking.cancel", "Booking", saved.id)
            .in_school(saved.service_id, saved.school_id)
            .detail(serde_json::json!({ "for": for_whom.as_str(), "chargedMinutes": charged })),
    )
    .await?;
    Ok(Cancelled {
        booking: saved,
        charged_minutes: charged,
    })
}

/// Records that the school did not attend: charged as a late cancellation under the policy.
pub async fn no_show(db: &Db, caller: &Caller, id: BookingId, reason: &str) -> DomainResult<Cancelled> {
    let reason = values::required_text("reason", reason, values::MAX_REASON_LEN)?;
    let txn = db::begin_write(db).await?;
    let b = for_change(&txn, caller, id, Action::RecordDelivery).await?;
    let door = Door::open(&txn, caller, Action::RecordDelivery).await?;
    require_open(&b)?;
    if b.starts_at > Utc::now() {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "a no-show can be recorded once the booking has started",
        ));
    }
    let policies = settings::policies(&txn, b.service_id).await?;
    close_visit(&door, caller, &b, CancelledFor::School, &reason).await?;
    let how = Cancelling {
        for_whom: CancelledFor::School,
        reason,
        charge_percent: i64::from(policies.late_cancellation_charge_percent),
        alternative: None,
    };
    let (row, charged) = cancel_row(&door, caller, b, how).await?;
    // A no-show is not a cancellation: it keeps its own status.
    let mut row: booking::ActiveModel = row.into();
    row.status = Set(BookingStatus::NoShow);
    let saved = door.update(row).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("booking.no_show", "Booking", saved.id)
            .in_school(saved.service_id, saved.school_id)
            .detail(serde_json::json!({ "chargedMinutes": charged })),
    )
    .await?;
    txn.commit().await?;
    Ok(Cancelled {
        booking: saved,
        charged_minutes: charged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn booking(stream: FundingStream) -> booking::Model {
        let now = Utc::now();
        booking::Model {
            id: BookingId::new(),
            service_id: crate::ids::ServiceId::new(),
            school_id: Some(crate::ids::SchoolId::new()),
            ep_id: crate::ids::PersonId::new(),
            kind: BookingKind::Consultation,
            visit_id: None,
            mode: crate::model::BookingMode::InPerson,
            location: None,
            starts_at: now,
            ends_at: now,
            blocked_from: now,
            blocked_until: now,
            status: BookingStatus::Confirmed,
            funding_stream: Some(stream),
            contract_id: None,
            direct_minutes: 45,
            preparation_minutes: 15,
            overbooking_reason: None,
            created_at: now,
            created_by: None,
            created_by_partner: None,
            updated_at: now,
            confirmed_at: None,
            delivered_at: None,
            cancelled_at: None,
            cancelled_by: None,
            cancelled_by_partner: None,
            cancelled_for: None,
            cancellation_reason: None,
            cancellation_charged: None,
            rescheduled_from_id: None,
            rescheduled_to_id: None,
            alternative_id: None,
            short_notice_reason: None,
            series_id: None,
        }
    }

    #[test]
    fn a_charge_is_rounded_once_and_shared_out_exactly() {
        let held = ledger::Held {
            direct: 45,
            preparation: 15,
        };
        let (direct, prep) = charge(&booking(FundingStream::Traded), held, 50);
        assert_eq!(direct + prep, 30, "50% of 60 minutes");
        assert_eq!((direct, prep), (22, 8));
        assert_eq!(charge(&booking(FundingStream::Traded), held, 100), (45, 15));
        assert_eq!(charge(&booking(FundingStream::Traded), held, 0), (0, 0));
    }

    #[test]
    fn statutory_work_is_never_charged_to_a_school() {
        let held = ledger::Held {
            direct: 45,
            preparation: 15,
        };
        assert_eq!(charge(&booking(FundingStream::Statutory), held, 100), (0, 0));
    }
}
