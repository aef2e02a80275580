//! Making a booking: who is booking decides the rules that apply (an administrator books
//! anything; an EP their own time at the schools they work with; a partner client for its
//! schools; a school, where the service lets it, a free slot of an EP who works with it, within
//! its allocation), and every booking meets the same rules of time: one place at a time, one
//! travel buffer between two places, working hours, term time, notice, closures and leave.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};

use super::super::ledger::{self, account_of};
use super::super::{DateRange, Instant, ServiceCalendar, calendar, contracts, local_date, settings};
use super::{MAX_BOOKING_MINUTES, MIN_BOOKING_MINUTES};
use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::{booking, contract, membership, school, time_settings};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{BookingId, BookingSeriesId, ContractId, PersonId, SchoolId, ServiceId};
use crate::model::{
    BookingKind, BookingMode, BookingStatus, ClosureKind, ContractStatus, FundingStream, LedgerKind, OverbookingPolicy,
    SchoolStatus, TermTimePolicy, TimeCategory,
};
use crate::values;

#[derive(Clone, Debug)]
pub struct NewBooking {
    /// Needed only when neither a school nor a visit says which service.
    pub service_id: Option<ServiceId>,
    pub school_id: Option<SchoolId>,
    pub ep_id: PersonId,
    pub kind: BookingKind,
    /// A visit this booking sits inside.
    pub visit_id: Option<BookingId>,
    pub mode: BookingMode,
    /// Where, in words (a room, "online"): never a child's or parent's details.
    pub location: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub preparation_minutes: i32,
    /// Default: traded.
    pub funding_stream: Option<FundingStream>,
    pub status: BookingStatus,
    /// An administrator's reason for booking beyond the school's allocation.
    pub overbooking_reason: Option<String>,
    /// An administrator's reason for booking inside the minimum notice, or in the past (to
    /// record work already done).
    pub short_notice_reason: Option<String>,
}

/// A booking made, with anything the caller should know (beyond working hours, in a holiday
/// under a warn-only policy, over the allocation under a warn-only policy).
#[derive(Clone, Debug)]
pub struct Booked {
    pub booking: booking::Model,
    pub warnings: Vec<String>,
}

/// Who is booking: it decides which rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Booker {
    /// The service's administrators book anything, inside the notice with a reason.
    Admin,
    /// An EP books their own time at the schools they work with.
    Ep,
    /// A partner client books for its schools, with notice.
    Partner,
    /// A school books a free slot, as the service allows, with notice and within its
    /// allocation.
    School,
}

/// Everything about a booking to be placed, once the input is resolved.
pub(super) struct Plan {
    pub service_id: ServiceId,
    pub school_id: Option<SchoolId>,
    pub ep_id: PersonId,
    pub kind: BookingKind,
    pub visit_id: Option<BookingId>,
    pub mode: BookingMode,
    pub location: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub preparation_minutes: i32,
    pub funding_stream: FundingStream,
    pub status: BookingStatus,
    pub overbooking_reason: Option<String>,
    pub short_notice_reason: Option<String>,
    pub rescheduled_from: Option<BookingId>,
    pub series_id: Option<BookingSeriesId>,
    pub booker: Booker,
    /// The service's calendar, read once for the checks and the booking.
    pub calendar: ServiceCalendar,
}

/// The free text of a new booking, checked.
struct Texts {
    location: Option<String>,
    overbooking_reason: Option<String>,
    short_notice_reason: Option<String>,
}

fn shape(input: &NewBooking) -> DomainResult<Texts> {
    let mut p = Problems::new();
    p.check(Instant::parse("startsAt", input.starts_at));
    p.check(Instant::parse("endsAt", input.ends_at));
    let minutes = super::super::minutes_between(input.starts_at, input.ends_at);
    if input.ends_at <= input.starts_at {
        p.add("endsAt", FieldErrorCode::OutOfRange, "must be after the start");
    } else if !(MIN_BOOKING_MINUTES..=MAX_BOOKING_MINUTES).contains(&minutes) {
        p.add(
            "endsAt",
            FieldErrorCode::OutOfRange,
            format!(
                "a booking lasts {MIN_BOOKING_MINUTES} minutes to {} hours",
                MAX_BOOKING_MINUTES / 60
            ),
        );
    }
    if !(0..=600).contains(&input.preparation_minutes) {
        p.add(
            "preparationMinutes",
            FieldErrorCode::OutOfRange,
            "must be between 0 and 600 minutes",
        );
    }
    if !matches!(input.status, BookingStatus::Tentative | BookingStatus::Confirmed) {
        p.add(
            "status",
            FieldErrorCode::Invalid,
            "a new booking is TENTATIVE or CONFIRMED",
        );
    }
    if input.kind == BookingKind::Visit && input.visit_id.is_some() {
        p.add(
            "visitId",
            FieldErrorCode::Invalid,
            "a visit cannot sit inside another visit",
        );
    }
    let location = p
        .check(values::optional_text("location", input.location.as_deref(), 200))
        .flatten();
    let overbooking_reason = p
        .check(values::optional_text(
            "overbookingReason",
            input.overbooking_reason.as_deref(),
            values::MAX_REASON_LEN,
        ))
        .flatten();
    let short_notice_reason = p
        .check(values::optional_text(
            "shortNoticeReason",
            input.short_notice_reason.as_deref(),
            values::MAX_REASON_LEN,
        ))
        .flatten();
    p.finish()?;
    Ok(Texts {
        location,
        overbooking_reason,
        short_notice_reason,
    })
}

/// The service a new booking belongs to.
fn service_of(
    caller: &Caller,
    input: &NewBooking,
    school: Option<&school::Model>,
    visit: Option<&booking::Model>,
) -> DomainResult<ServiceId> {
    if let Some(s) = school {
        return Ok(s.service_id);
    }
    if let Some(v) = visit {
        return Ok(v.service_id);
    }
    if let Some(s) = input.service_id {
        return Ok(s);
    }
    let mine = caller.principal.services();
    match (mine.len(), mine.iter().next()) {
        (1, Some(only)) => Ok(*only),
        _ => Err(DomainError::invalid(
            "serviceId",
            FieldErrorCode::Required,
            "say which service (or school) the booking is for",
        )),
    }
}

/// Human wording of a local time span, for messages (no personal data). A span of whole days
/// reads as days.
pub(crate) fn span_text(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let a = from.with_timezone(&tz);
    let b = to.with_timezone(&tz);
    let midnight = chrono::NaiveTime::MIN;
    if a.time() == midnight && b.time() == midnight {
        let last = (b - Duration::days(1)).date_naive();
        if last == a.date_naive() {
            return format!("all day on {}", a.format("%a %-d %b %Y"));
        }
        return format!("from {} to {}", a.format("%a %-d %b %Y"), last.format("%a %-d %b %Y"));
    }
    if a.date_naive() == b.date_naive() {
        format!("{} to {}", a.format("%a %-d %b %Y %H:%M"), b.format("%H:%M"))
    } else {
        format!(
            "{} to {}",
            a.format("%a %-d %b %Y %H:%M"),
            b.format("%a %-d %b %Y %H:%M")
        )
    }
}

/// Whether an EP works with a school: its link EP on a live contract, or visiting it.
async fn works_with(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    school: SchoolId,
    ep: PersonId,
) -> DomainResult<bool> {
    let door = Door::service(conn, service);
    let linked = door
        .find::<contract::Entity>()
        .filter(contract::Column::SchoolId.eq(school))
        .filter(contract::Column::LinkEpId.eq(ep))
        .filter(contract::Column::Status.eq(ContractStatus::Active))
        .select_only()
        .column(contract::Column::Id)
        .into_tuple::<ContractId>()
        .one(conn)
        .await?
        .is_some();
    if linked {
        return Ok(true);
    }
    Ok(door
        .find::<booking::Entity>()
        .filter(booking::Column::SchoolId.eq(school))
        .filter(booking::Column::EpId.eq(ep))
        .filter(booking::Column::Kind.eq(BookingKind::Visit))
        .filter(booking::Column::Status.is_in([BookingStatus::Tentative, BookingStatus::Confirmed]))
        .select_only()
        .column(booking::Column::Id)
        .into_tuple::<BookingId>()
        .one(conn)
        .await?
        .is_some())
}

/// Loads what a new booking refers to and checks the caller may make it. `moving` is the
/// booking a reschedule replaces (its funding stream stays).
pub(super) async fn resolve(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    input: NewBooking,
    moving: Option<&booking::Model>,
) -> DomainResult<Plan> {
    let texts = shape(&input)?;
    let school = match input.school_id {
        Some(id) => Some(
            Door::seen(conn, caller)
                .get::<school::Entity>(id)
                .await
                .map_err(|e| match e {
                    DomainError::NotFound => {
                        DomainError::invalid("schoolId", FieldErrorCode::NotFound, "no such school")
                    }
                    other => other,
                })?,
        ),
        None => None,
    };
    // The visit is locked, so that it cannot be cancelled or moved while a booking goes in.
    let no_visit = || DomainError::invalid("visitId", FieldErrorCode::NotFound, "no such visit");
    let visit = match input.visit_id {
        Some(id) => {
            let v = Door::open(conn, caller, Action::ViewBookings)
                .await?
                .find::<booking::Entity>()
                .filter(booking::Column::Id.eq(id))
                .filter(booking::Column::Kind.eq(BookingKind::Visit))
                .lock_exclusive()
                .one(conn)
                .await?
                .ok_or_else(no_visit)?;
            let same_place = school
                .as_ref()
                .is_none_or(|s| Some(s.id) == v.school_id && s.service_id == v.service_id);
            if !same_place {
                return Err(no_visit());
            }
            Some(v)
        }
        None => None,
    };
    let service = service_of(caller, &input, school.as_ref(), visit.as_ref())?;
    let school_id = school
        .as_ref()
        .map(|s| s.id)
        .or(visit.as_ref().and_then(|v| v.school_id));
    let manages = Door::open(conn, caller, Action::ManageBookings)
        .await?
        .access()
        .permits(service, school_id, Some(input.ep_id));
    let booker = if caller.principal.has_role_in_service(Role::ServiceAdmin, service) {
        Booker::Admin
    } else if manages && caller.principal.partner.is_some() {
        Booker::Partner
    } else if manages {
        Booker::Ep
    } else if let Some(s) = school_id
        && Door::open(conn, caller, Action::BookFreeSlots)
            .await?
            .access()
            .permits_school(service, s)
    {
        Booker::School
    } else {
        return Err(caller.principal.refusal(Action::ManageBookings, service, school_id));
    };
    let calendar = ServiceCalendar::of(conn, service).await?;
    let policies = calendar.policies();
    // An EP books their own time at the schools they work with (where they are the link EP, or
    // someone else booked them), not anywhere they like.
    if booker == Booker::Ep
        && let Some(s) = school_id
        && !Door::open(conn, caller, Action::ViewContracts)
            .await?
            .access()
            .permits_school(service, s)
    {
        return Err(DomainError::Refused(
            "An EP books their own time at the schools they work with (as link EP, or booked there by the service)."
                .into(),
        ));
    }
    let stream = input.funding_stream.unwrap_or(FundingStream::Traded);
    // Statutory work draws on no school's allocation: the service decides what it is (a
    // booking that already is statutory may still be moved by those who may move it).
    let keeps_statutory = moving.is_some_and(|m| m.funding_stream == Some(FundingStream::Statutory));
    if stream == FundingStream::Statutory && booker != Booker::Admin && !keeps_statutory {
        return Err(DomainError::invalid(
            "fundingStream",
            FieldErrorCode::NotAllowed,
            "only the service's administrators book statutory work",
        ));
    }
    if booker == Booker::School {
        school_may_book(conn, policies, &input, service, school_id, visit.is_some()).await?;
    }
    if let Some(s) = &school
        && s.status != SchoolStatus::Open
    {
        return Err(DomainError::invalid(
            "schoolId",
            FieldErrorCode::InvalidState,
            "the school is not open for bookings",
        ));
    }
    if let Some(v) = &visit {
        let mut p = Problems::new();
        if v.ep_id != input.ep_id {
            p.add("visitId", FieldErrorCode::Invalid, "the visit belongs to another EP");
        }
        if !v.status.is_open() {
            p.add("visitId", FieldErrorCode::InvalidState, "the visit is no longer open");
        }
        if input.starts_at < v.starts_at || input.ends_at > v.ends_at {
            p.add("startsAt", FieldErrorCode::OutOfRange, "must lie within the visit");
        }
        p.finish()?;
    }
    Ok(Plan {
        service_id: service,
        school_id,
        ep_id: input.ep_id,
        kind: input.kind,
        visit_id: input.visit_id,
        mode: input.mode,
        location: texts.location,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        preparation_minutes: input.preparation_minutes,
        funding_stream: stream,
        status: input.status,
        overbooking_reason: texts.overbooking_reason,
        short_notice_reason: texts.short_notice_reason,
        rescheduled_from: None,
        series_id: None,
        booker,
        calendar,
    })
}

/// What a school may book, as its service allows: the kinds it names, inside a visit where it
/// says so, only of an EP who works with the school, and never statutory work.
async fn school_may_book(
    conn: &impl ConnectionTrait,
    policies: &time_settings::Model,
    input: &NewBooking,
    service: ServiceId,
    school: Option<SchoolId>,
    in_visit: bool,
) -> DomainResult<()> {
    if !policies.schools_may_book {
        return Err(DomainError::Refused(
            "This service does not let schools book EP time themselves: ask your link EP or the service to book it."
                .into(),
        ));
    }
    let kinds = settings::school_kinds(policies);
    let mut p = Problems::new();
    if !kinds.contains(&input.kind) {
        let names: Vec<String> = kinds
            .iter()
            .map(|k| k.as_str().to_lowercase().replace('_', " "))
            .collect();
        p.add(
            "kind",
            FieldErrorCode::NotAllowed,
            format!("schools may book: {}", names.join(", ")),
        );
    }
    if policies.school_booking_within_visits && !in_visit {
        p.add(
            "visitId",
            FieldErrorCode::Required,
            "schools book free time inside one of the EP's visits to the school",
        );
    }
    if input.overbooking_reason.is_some() {
        p.add(
            "overbookingReason",
            FieldErrorCode::NotAllowed,
            "only the service's administrators book beyond a school's allocation",
        );
    }
    if input.short_notice_reason.is_some() {
        p.add(
            "shortNoticeReason",
            FieldErrorCode::NotAllowed,
            "only the service's administrators book inside the minimum notice",
        );
    }
    p.finish()?;
    if let Some(s) = school
        && !works_with(conn, service, s, input.ep_id).await?
    {
        return Err(DomainError::invalid(
            "epId",
            FieldErrorCode::NotAllowed,
            "this EP does not work with your school: choose your link EP, or an EP visiting your school",
        ));
    }
    Ok(())
}

/// Takes the EP's diary for the rest of the transaction (the row of their EP membership, on
/// PostgreSQL; SQLite has one writer at a time), so that two bookings of one EP made at the same
/// moment are checked one after the other, travel included. Not found unless an EP of the service.
pub(super) async fn hold_diary(conn: &impl ConnectionTrait, service: ServiceId, ep: PersonId) -> DomainResult<()> {
    Door::service(conn, service)
        .find::<membership::Entity>()
        .filter(membership::Column::PersonId.eq(ep))
        .filter(membership::Column::Role.eq(Role::Psychologist))
        .filter(membership::Column::RevokedAt.is_null())
        .lock_exclusive()
        .one(conn)
        .await?
        .map(|_| ())
        .ok_or_else(|| DomainError::invalid("epId", FieldErrorCode::NotFound, "no such EP in this service"))
}

/// Whether two bookings are at different places, so that an EP must travel between them.
pub fn different_places(a_school: Option<SchoolId>, b_school: Option<SchoolId>) -> bool {
    a_school != b_school
}

/// Checks a plan against the calendar, the other bookings and the school's allocation, then
/// writes the booking and its ledger entries through `door` (the caller's, for booking), inside
/// the caller's write transaction.
pub(super) async fn place(door: &Door<'_, impl ConnectionTrait>, caller: &Caller, plan: Plan) -> DomainResult<Booked> {
    let conn = door.conn();
    let cal = &plan.calendar;
    let (tz, policies) = (cal.tz, cal.policies());
    let sees_calendar = caller
        .principal
        .static_access(Action::ViewCalendars)
        .permits_calendar(plan.service_id, plan.ep_id);
    let now = Utc::now();
    let mut warnings = Vec::new();
    hold_diary(conn, plan.service_id, plan.ep_id).await?;

    // Notice: schools and partners book ahead; administrators may book inside it (or in the past,
    // to record work done) with a reason; EPs book their own time as they need, but not in the past.
    let notice = Duration::hours(i64::from(policies.minimum_notice_hours));
    if plan.starts_at < now + notice {
        match plan.booker {
            Booker::School | Booker::Partner => {
                return Err(DomainError::invalid(
                    "startsAt",
                    FieldErrorCode::OutOfRange,
                    format!(
                        "must be at least {} hours ahead (the service's minimum notice)",
                        policies.minimum_notice_hours
                    ),
                ));
            }
            Booker::Admin if plan.short_notice_reason.is_none() && plan.rescheduled_from.is_none() => {
                return Err(DomainError::invalid(
                    "shortNoticeReason",
                    FieldErrorCode::Required,
                    format!(
                        "this is inside the service's minimum notice of {} hours{}: say why",
                        policies.minimum_notice_hours,
                        if plan.starts_at < now {
                            " (it is in the past)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
            Booker::Ep if plan.starts_at < now => {
                return Err(DomainError::invalid(
                    "startsAt",
                    FieldErrorCode::OutOfRange,
                    "must be in the future",
                ));
            }
            _ => {}
        }
    }

    let day = local_date(tz, plan.starts_at);
    let last_day = local_date(tz, plan.ends_at - Duration::minutes(1));
    let days = DateRange::new("startsAt", day, last_day)?;

    // Term time: school work happens in term, half-terms being holidays.
    if (plan.school_id.is_some() || plan.kind.is_school_work())
        && policies.term_time_policy != TermTimePolicy::Allow
        && let Some(holiday) = [days.starts_on, days.ends_on]
            .into_iter()
            .find_map(|d| cal.terms().holiday(d))
    {
        let text = holiday.describe();
        if policies.term_time_policy == TermTimePolicy::Refuse {
            return Err(DomainError::invalid(
                "startsAt",
                FieldErrorCode::NotAllowed,
                format!("{text}: this service books school work in term time only"),
            ));
        }
        warnings.push(format!("{text}."));
    }

    // The service's and the school's closures, and the EP's own exceptions.
    let schools: Vec<SchoolId> = plan.school_id.into_iter().collect();
    if let Some(c) = cal.closures_between(days, Some(&schools)).first() {
        let what = match c.kind {
            ClosureKind::BankHoliday => "a bank holiday",
            ClosureKind::ServiceClosure => "a service closure day",
            ClosureKind::SchoolClosure => "a day the school is closed",
        };
        return Err(DomainError::invalid(
            "startsAt",
            FieldErrorCode::NotAllowed,
            format!("{} is {what}", c.starts_on.max(day)),
        ));
    }
    if let Some(x) = calendar::exceptions_between(conn, plan.service_id, &[plan.ep_id], plan.starts_at, plan.ends_at)
        .await?
        .first()
    {
        // Why and when an EP is away is theirs and the service's to know (sickness is health
        // data): others hear only that the time is not available.
        let message = if sees_calendar {
            format!(
                "the EP is not available then ({}, {})",
                x.kind.as_str().to_lowercase(),
                span_text(tz, x.starts_at, x.ends_at)
            )
        } else {
            "the EP is not available then".to_owned()
        };
        return Err(DomainError::invalid("startsAt", FieldErrorCode::NotAllowed, message));
    }
    let patterns = cal.patterns_between(&[plan.ep_id], day, last_day);
    let local_start = plan.starts_at.with_timezone(&tz).time();
    let local_end = plan.ends_at.with_timezone(&tz).time();
    let in_hours = day == last_day
        && patterns.iter().any(|p| {
            p.hours_on(day)
                .any(|h| h.starts_at <= local_start && local_end <= h.ends_at)
        });
    if !in_hours {
        warnings.push("This is outside the EP's working hours.".to_owned());
    }

    // One place at a time, and one travel buffer between in-person bookings at different places
    // (none at the same school, none inside a visit).
    let buffer = if plan.mode == BookingMode::InPerson && plan.visit_id.is_none() {
        Duration::minutes(i64::from(policies.travel_buffer_minutes))
    } else {
        Duration::zero()
    };
    let mut near = Door::service(conn, plan.service_id)
        .find::<booking::Entity>()
        .filter(booking::Column::Status.ne(BookingStatus::Cancelled))
        .filter(booking::Column::BlockedFrom.lt(plan.ends_at + buffer))
        .filter(booking::Column::BlockedUntil.gt(plan.starts_at - buffer));
    near = match plan.visit_id {
        Some(v) => near.filter(booking::Column::VisitId.eq(v)),
        None => near
            .filter(booking::Column::EpId.eq(plan.ep_id))
            .filter(booking::Column::VisitId.is_null()),
    };
    if let Some(old) = plan.rescheduled_from {
        near = near.filter(booking::Column::Id.ne(old));
    }
    for other in near.order_by_asc(booking::Column::BlockedFrom).all(conn).await? {
        let overlaps = other.blocked_from < plan.ends_at && plan.starts_at < other.blocked_until;
        let travels = other.mode == BookingMode::InPerson && different_places(other.school_id, plan.school_id);
        if overlaps {
            return Err(DomainError::Conflict(if sees_calendar {
                format!(
                    "That time is not available: the EP is already booked {}.",
                    span_text(tz, other.blocked_from, other.blocked_until)
                )
            } else {
                "That time is not available: the EP is already booked then.".to_owned()
            }));
        }
        if travels && buffer > Duration::zero() {
            return Err(DomainError::Conflict(if sees_calendar {
                format!(
                    "That time is not available: the EP is booked elsewhere {}, and needs {} minutes to travel.",
                    span_text(tz, other.blocked_from, other.blocked_until),
                    policies.travel_buffer_minutes
                )
            } else {
                format!(
                    "That time is not available: the EP needs {} minutes to travel from another booking.",
                    policies.travel_buffer_minutes
                )
            }));
        }
    }

    // Which contract pays, and whether it can.
    let chargeable = plan.school_id.is_some() && plan.visit_id.is_none();
    let direct = super::super::minutes_between(plan.starts_at, plan.ends_at);
    let mut contract_id: Option<ContractId> = None;
    let mut overbooking_reason = None;
    if let (true, Some(school)) = (chargeable, plan.school_id) {
        let contract = contracts::covering(conn, plan.service_id, school, plan.funding_stream, day).await?;
        match (&contract, plan.funding_stream) {
            (None, FundingStream::Statutory) => {}
            (None, stream) => {
                return Err(DomainError::invalid(
                    "fundingStream",
                    FieldErrorCode::NotAllowed,
                    format!(
                        "no active {} contract of this school covers {day}",
                        stream.as_str().to_lowercase()
                    ),
                ));
            }
            (Some(c), stream) => {
                contract_id = Some(c.row.id);
                let needed = direct + i64::from(plan.preparation_minutes);
                let balance = ledger::contract_balance(conn, plan.service_id, c.row.id, c.purchased_minutes()).await?;
                let remaining = balance.remaining();
                if stream != FundingStream::Statutory && needed > remaining {
                    let message = if remaining >= 0 {
                        format!("this needs {needed} minutes and the school has {remaining} left on this contract")
                    } else {
                        format!(
                            "this needs {needed} minutes and the school is already {} minutes over its allocation on this contract",
                            -remaining
                        )
                    };
                    // Schools never book beyond their allocation, whatever the policy.
                    let policy = if plan.booker == Booker::School {
                        OverbookingPolicy::HardStop
                    } else {
                        policies.overbooking_policy
                    };
                    match policy {
                        OverbookingPolicy::HardStop => {
                            return Err(DomainError::invalid(
                                "startsAt",
                                FieldErrorCode::NotAllowed,
                                format!("Over the allocation: {message}."),
                            ));
                        }
                        OverbookingPolicy::AllowWithWarning => {
                            warnings.push(format!("Over the allocation: {message}."))
                        }
                        OverbookingPolicy::AdminOverride => {
                            match (&plan.overbooking_reason, plan.booker == Booker::Admin) {
                                (Some(reason), true) => overbooking_reason = Some(reason.clone()),
                                _ => {
                                    return Err(DomainError::invalid(
                                        "overbookingReason",
                                        FieldErrorCode::NotAllowed,
                                        format!(
                                            "Over the allocation: {message}; only an administrator can override, with a reason."
                                        ),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    let short_notice_reason = plan
        .short_notice_reason
        .filter(|_| plan.starts_at < now + notice && plan.booker == Booker::Admin);
    let row = door
        .insert(booking::ActiveModel {
            id: Set(BookingId::new()),
            service_id: Set(plan.service_id),
            school_id: Set(plan.school_id),
            ep_id: Set(plan.ep_id),
            kind: Set(plan.kind),
            visit_id: Set(plan.visit_id),
            mode: Set(plan.mode),
            location: Set(plan.location),
            starts_at: Set(plan.starts_at),
            ends_at: Set(plan.ends_at),
            // The booking's own span: travel between places is checked between neighbours.
            blocked_from: Set(plan.starts_at),
            blocked_until: Set(plan.ends_at),
            status: Set(plan.status),
            funding_stream: Set(plan.school_id.map(|_| plan.funding_stream)),
            contract_id: Set(contract_id),
            direct_minutes: Set(direct as i32),
            preparation_minutes: Set(plan.preparation_minutes),
            overbooking_reason: Set(overbooking_reason),
            created_at: Set(now),
            created_by: Set(caller.principal.person_id()),
            created_by_partner: Set(caller.principal.partner_client_id()),
            updated_at: Set(now),
            confirmed_at: Set((plan.status == BookingStatus::Confirmed).then_some(now)),
            delivered_at: Set(None),
            cancelled_at: Set(None),
            cancelled_by: Set(None),
            cancelled_by_partner: Set(None),
            cancelled_for: Set(None),
            cancellation_reason: Set(None),
            cancellation_charged: Set(None),
            rescheduled_from_id: Set(plan.rescheduled_from),
            rescheduled_to_id: Set(None),
            alternative_id: Set(None),
            short_notice_reason: Set(short_notice_reason),
            series_id: Set(plan.series_id),
        })
        .await?;
    if chargeable {
        let account = account_of(&row, day);
        for (category, minutes) in [
            (TimeCategory::Direct, direct),
            (TimeCategory::Preparation, i64::from(plan.preparation_minutes)),
        ] {
            ledger::post(door, caller, account, LedgerKind::Booked, category, minutes, None).await?;
        }
    }
    Ok(Booked { booking: row, warnings })
}

/// Books EP time.
pub async fn create(db: &Db, caller: &Caller, input: NewBooking) -> DomainResult<Booked> {
    let txn = db::begin_write(db).await?;
    let booked = create_in(&txn, caller, input, None).await?;
    txn.commit().await?;
    Ok(booked)
}

/// Books EP time inside the caller's transaction (a series books many in one), with the audit
/// entry.
pub(crate) async fn create_in(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    input: NewBooking,
    series: Option<BookingSeriesId>,
) -> DomainResult<Booked> {
    let mut plan = resolve(txn, caller, input, None).await?;
    plan.series_id = series;
    let action = if plan.booker == Booker::School {
        Action::BookFreeSlots
    } else {
        Action::ManageBookings
    };
    let door = Door::open(txn, caller, action).await?;
    let booked = place(&door, caller, plan).await?;
    let b = &booked.booking;
    audit::log(
        txn,
        caller,
        Entry::new("booking.create", "Booking", b.id)
            .in_school(b.service_id, b.school_id)
            .detail(serde_json::json!({ "kind": b.kind.as_str(), "epId": b.ep_id })),
    )
    .await?;
    Ok(booked)
}
