//! Bookings: every kind of EP time in one table, so that one rule keeps an EP in one place at a
//! time. The rule is checked here (to name the clash) and enforced by the database (PostgreSQL:
//! an exclusion constraint; SQLite: a trigger inside a `BEGIN IMMEDIATE` transaction), so a
//! concurrent loser gets a conflict, never a second booking.

mod cancel;
mod change;
mod place;
pub mod series;

pub use cancel::{Cancel, Cancelled, Quote, cancel, is_late, no_show, quote};
pub(crate) use cancel::{cancel_by_id_in, charge_held_use, hold_again};
pub use change::{Delivery, Reschedule, Rescheduled, confirm, deliver, reschedule};
pub(crate) use change::{deliver_in, reschedule_in};
pub use place::{Booked, NewBooking, create, different_places};
pub(crate) use place::{create_in, span_text};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

use crate::access::{Action, Caller};
use crate::door::{self, Door};
use crate::entities::booking;
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{BookingId, PersonId, SchoolId, ServiceId};
use crate::model::{BookingKind, BookingStatus};
use crate::page::{self, Page, PageRequest, Position, SortKey};

/// The longest single booking (a long visit day).
pub const MAX_BOOKING_MINUTES: i64 = 12 * 60;
/// The shortest.
pub const MIN_BOOKING_MINUTES: i64 = 5;

/// A booking the caller can see, or not found.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: BookingId) -> DomainResult<booking::Model> {
    Door::open(conn, caller, Action::ViewBookings)
        .await?
        .get::<booking::Entity>(id)
        .await
}

/// A booking for a change under `action`: not found unless visible, forbidden unless allowed.
/// Locked for the rest of the transaction on PostgreSQL.
async fn for_change(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: BookingId,
    action: Action,
) -> DomainResult<booking::Model> {
    door::for_change::<booking::Entity, _>(conn, caller, id, Action::ViewBookings, action).await
}

/// Whether a caller sees a booking's free text (its location, the reasons for a cancellation
/// or an overbooking). People typed it; partner clients never get it, since it may name a child.
pub fn shows_free_text(caller: &Caller) -> bool {
    caller.principal.partner.is_none()
}

/// Whether a booking draws on a school's time: school bookings outside visits (time inside a
/// visit is the visit's).
pub fn is_chargeable(b: &booking::Model) -> bool {
    b.school_id.is_some() && b.visit_id.is_none()
}

fn require_open(b: &booking::Model) -> DomainResult<()> {
    if b.status.is_open() {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            format!("the booking is {}", b.status.as_str()),
        ))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub service_id: Option<ServiceId>,
    pub school_id: Option<SchoolId>,
    pub ep_id: Option<PersonId>,
    pub visit_id: Option<BookingId>,
    pub series_id: Option<crate::ids::BookingSeriesId>,
    /// Bookings that end after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Bookings that start before this instant.
    pub to: Option<DateTime<Utc>>,
    pub statuses: Option<Vec<BookingStatus>>,
    pub kinds: Option<Vec<BookingKind>>,
}

/// Bookings the caller can see, by start time.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: Filter,
    page: &PageRequest,
) -> DomainResult<Page<booking::Model>> {
    let window = page.window()?;
    let door = Door::open(conn, caller, Action::ViewBookings).await?;
    door.require_any()?;
    let mut select = door.find::<booking::Entity>();
    if let Some(v) = filter.service_id {
        select = select.filter(booking::Column::ServiceId.eq(v));
    }
    if let Some(v) = filter.school_id {
        select = select.filter(booking::Column::SchoolId.eq(v));
    }
    if let Some(v) = filter.ep_id {
        select = select.filter(booking::Column::EpId.eq(v));
    }
    if let Some(v) = filter.visit_id {
        select = select.filter(booking::Column::VisitId.eq(v));
    }
    if let Some(v) = filter.series_id {
        select = select.filter(booking::Column::SeriesId.eq(v));
    }
    if let Some(v) = filter.from {
        select = select.filter(booking::Column::EndsAt.gt(v));
    }
    if let Some(v) = filter.to {
        select = select.filter(booking::Column::StartsAt.lt(v));
    }
    if let Some(v) = filter.statuses.filter(|s| !s.is_empty()) {
        select = select.filter(booking::Column::Status.is_in(v));
    }
    if let Some(v) = filter.kinds.filter(|k| !k.is_empty()) {
        select = select.filter(booking::Column::Kind.is_in(v));
    }
    page::fetch(
        conn,
        select,
        booking::Column::Id,
        SortKey::Time(booking::Column::StartsAt),
        false,
        &window,
        |m: &booking::Model| Position {
            key: Some(m.starts_at.to_rfc3339()),
            id: m.id.0,
        },
    )
    .await
}

/// Active bookings of some EPs that overlap an interval (for availability).
pub async fn holding_time(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    eps: &[PersonId],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DomainResult<Vec<booking::Model>> {
    Ok(Door::service(conn, service)
        .find::<booking::Entity>()
        .filter(booking::Column::EpId.is_in(eps.iter().copied()))
        .filter(booking::Column::Status.ne(BookingStatus::Cancelled))
        .filter(booking::Column::BlockedFrom.lt(to))
        .filter(booking::Column::BlockedUntil.gt(from))
        .order_by_asc(booking::Column::BlockedFrom)
        .all(conn)
        .await?)
}
