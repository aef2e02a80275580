//! Bookings that no longer fit their EP's time: outside the working pattern, in leave or other
//! exceptions, on a closure day, or outside term. Adding leave or changing a pattern reports the
//! bookings it leaves standing in the way; administrators list every one to clear them.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

use super::terms::TermCalendar;
use super::{DateRange, ServiceCalendar, calendar, local_date};
use crate::access::{Action, Caller};
use crate::door::Door;
use crate::entities::booking;
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{PersonId, ServiceId};
use crate::model::{BookingStatus, ClosureKind, TermTimePolicy};

/// Why a booking does not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Outside the EP's working hours on that day.
    OutsideWorkingHours,
    /// In the EP's leave, training, sickness or another exception (which one is the EP's and
    /// the service's to know).
    EpUnavailable,
    /// On a bank holiday, a service closure day, or a day the school is closed.
    Closure,
    /// School work in a school holiday.
    OutsideTerm,
}

/// An open booking that does not fit, with every reason.
#[derive(Clone, Debug)]
pub struct Conflict {
    pub booking: booking::Model,
    pub reasons: Vec<Reason>,
}

/// The conflicts among open, top-level bookings of one service, in a constant number of
/// statements whatever their number.
pub async fn of_bookings(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    rows: Vec<booking::Model>,
) -> DomainResult<Vec<Conflict>> {
    let rows: Vec<booking::Model> = rows
        .into_iter()
        .filter(|b| b.status.is_open() && b.visit_id.is_none() && b.service_id == service)
        .collect();
    let (Some(first), Some(last)) = (
        rows.iter().map(|b| b.starts_at).min(),
        rows.iter().map(|b| b.ends_at).max(),
    ) else {
        return Ok(Vec::new());
    };
    let cal = ServiceCalendar::of(conn, service).await?;
    let tz = cal.tz;
    let eps: Vec<PersonId> = rows
        .iter()
        .map(|b| b.ep_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let days = DateRange::new("from", local_date(tz, first), local_date(tz, last))?;
    let patterns = cal.patterns_between(&eps, days.starts_on, days.ends_on);
    let exceptions = calendar::exceptions_between(conn, service, &eps, first, last).await?;
    let closures = cal.closures_between(days, None);
    let every_day = TermCalendar::default();
    let terms = if cal.policies().term_time_policy == TermTimePolicy::Allow {
        &every_day
    } else {
        cal.terms()
    };
    let mut out = Vec::new();
    for b in rows {
        let day = local_date(tz, b.starts_at);
        let last_day = local_date(tz, b.ends_at - Duration::minutes(1));
        let (start, end) = (
            b.starts_at.with_timezone(&tz).time(),
            b.ends_at.with_timezone(&tz).time(),
        );
        let mut reasons = Vec::new();
        let in_hours = day == last_day
            && patterns
                .iter()
                .filter(|p| p.row.ep_id == b.ep_id)
                .any(|p| p.hours_on(day).any(|h| h.starts_at <= start && end <= h.ends_at));
        if !in_hours {
            reasons.push(Reason::OutsideWorkingHours);
        }
        if exceptions
            .iter()
            .any(|x| x.ep_id == b.ep_id && x.starts_at < b.ends_at && b.starts_at < x.ends_at)
        {
            reasons.push(Reason::EpUnavailable);
        }
        let span = DateRange {
            starts_on: day,
            ends_on: last_day,
        };
        if closures.iter().any(|c| {
            (c.kind != ClosureKind::SchoolClosure || c.school_id == b.school_id)
                && DateRange {
                    starts_on: c.starts_on,
                    ends_on: c.ends_on,
                }
                .overlaps(&span)
        }) {
            reasons.push(Reason::Closure);
        }
        if (b.school_id.is_some() || b.kind.is_school_work())
            && !(terms.is_term_time(day) && terms.is_term_time(last_day))
        {
            reasons.push(Reason::OutsideTerm);
        }
        if !reasons.is_empty() {
            out.push(Conflict { booking: b, reasons });
        }
    }
    Ok(out)
}

/// The open bookings of one EP in a span that do not fit their time any more.
pub async fn of_ep(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    ep: PersonId,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> DomainResult<Vec<Conflict>> {
    let mut q = Door::service(conn, service)
        .find::<booking::Entity>()
        .filter(booking::Column::EpId.eq(ep))
        .filter(booking::Column::VisitId.is_null())
        .filter(booking::Column::Status.is_in([BookingStatus::Tentative, BookingStatus::Confirmed]))
        .filter(booking::Column::EndsAt.gt(from));
    if let Some(to) = to {
        q = q.filter(booking::Column::StartsAt.lt(to));
    }
    let rows = q.order_by_asc(booking::Column::StartsAt).all(conn).await?;
    of_bookings(conn, service, rows).await
}

/// The longest span one conflicts query covers.
pub const MAX_RANGE_DAYS: i64 = 400;

/// Every open booking, in a span of a service, that does not fit its EP's time, for those who may
/// see the EP's calendar (administrators: every EP's; an EP: their own).
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DomainResult<Vec<Conflict>> {
    let mut p = crate::error::Problems::new();
    p.check(super::plausible("from", from));
    p.check(super::plausible("to", to));
    p.finish()?;
    if to <= from || (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(DomainError::invalid(
            "to",
            FieldErrorCode::OutOfRange,
            format!("must be after from, and at most {MAX_RANGE_DAYS} days later"),
        ));
    }
    let door = Door::open(conn, caller, Action::ViewCalendars).await?;
    if !door.access().touches_service(service) {
        return Err(caller.principal.refusal(Action::ViewCalendars, service, None));
    }
    // Whether an EP is away is for those who may see the EP's calendar: the service's
    // administrators, and the EP.
    let rows = door
        .find::<booking::Entity>()
        .filter(booking::Column::ServiceId.eq(service))
        .filter(booking::Column::VisitId.is_null())
        .filter(booking::Column::Status.is_in([BookingStatus::Tentative, BookingStatus::Confirmed]))
        .filter(booking::Column::EndsAt.gt(from))
        .filter(booking::Column::StartsAt.lt(to))
        .order_by_asc(booking::Column::StartsAt)
        .all(conn)
        .await?;
    of_bookings(conn, service, rows).await
}
