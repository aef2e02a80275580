//! Bookings: every kind of EP time in one table, so that one rule keeps an EP in one place at a
//! time. The rule is checked here (to name the clash) and enforced by the database (PostgreSQL:
//! an exclusion constraint; SQLite: a trigger inside a `BEGIN IMMEDIATE` transaction), so a
//! concurrent loser gets a conflict, never a second booking.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};

use super::ledger::{self, account_of};
use super::{DateRange, calendar, contracts, local_date, service_zone, settings};
use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{booking, school, time_settings};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{BookingId, ContractId, PersonId, SchoolId, ServiceId};
use crate::model::{
    BookingKind, BookingMode, BookingStatus, CancelledFor, ClosureKind, FundingStream, LedgerKind, OverbookingPolicy,
    SchoolStatus, TimeCategory,
};
use crate::page::{self, Page, PageRequest, Position, SortKey};
use crate::values;

/// The longest single booking (a long visit day).
pub const MAX_BOOKING_MINUTES: i64 = 12 * 60;
/// The shortest.
pub const MIN_BOOKING_MINUTES: i64 = 5;

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
}

/// A booking made, with anything the caller should know (beyond working hours, over the
/// allocation under a warn-only policy).
#[derive(Clone, Debug)]
pub struct Booked {
    pub booking: booking::Model,
    pub warnings: Vec<String>,
}

fn shape(input: &NewBooking) -> DomainResult<(Option<String>, Option<String>)> {
    let mut p = Problems::new();
    p.check(super::plausible("startsAt", input.starts_at).and_then(|t| super::whole_minute("startsAt", t)));
    p.check(super::plausible("endsAt", input.ends_at).and_then(|t| super::whole_minute("endsAt", t)));
    let minutes = super::minutes_between(input.starts_at, input.ends_at);
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
    let reason = p
        .check(values::optional_text(
            "overbookingReason",
            input.overbooking_reason.as_deref(),
            values::MAX_REASON_LEN,
        ))
        .flatten();
    p.finish()?;
    Ok((location, reason))
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

/// Human wording of a local time span, for messages (no personal data).
fn span_text(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let a = from.with_timezone(&tz);
    let b = to.with_timezone(&tz);
    format!("{} to {}", a.format("%a %-d %b %Y %H:%M"), b.format("%H:%M"))
}

/// Everything about a booking to be placed, once the input is resolved.
struct Plan {
    service_id: ServiceId,
    school_id: Option<SchoolId>,
    ep_id: PersonId,
    kind: BookingKind,
    visit_id: Option<BookingId>,
    mode: BookingMode,
    location: Option<String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    preparation_minutes: i32,
    funding_stream: FundingStream,
    status: BookingStatus,
    overbooking_reason: Option<String>,
    rescheduled_from: Option<BookingId>,
}

/// Checks a plan against the calendar, the other bookings and the school's allocation, then
/// writes the booking and its ledger entries through `door` (the caller's, for booking), inside
/// the caller's write transaction.
async fn place(door: &Door<'_, impl ConnectionTrait>, caller: &Caller, plan: Plan) -> DomainResult<Booked> {
    let conn = door.conn();
    let tz = service_zone(conn, plan.service_id).await?;
    let policies = settings::policies(conn, plan.service_id).await?;
    let is_admin = caller
        .principal
        .has_role_in_service(Role::ServiceAdmin, plan.service_id);
    let sees_calendar = caller
        .principal
        .static_access(Action::ViewCalendars)
        .permits_calendar(plan.service_id, plan.ep_id);
    let now = Utc::now();
    let mut warnings = Vec::new();

    if !super::is_ep(conn, plan.service_id, plan.ep_id).await? {
        return Err(DomainError::invalid(
            "epId",
            FieldErrorCode::NotFound,
            "no such EP in this service",
        ));
    }
    if plan.starts_at < now && !is_admin {
        return Err(DomainError::invalid(
            "startsAt",
            FieldErrorCode::OutOfRange,
            "must be in the future",
        ));
    }

    // The service's and the school's closures, and the EP's own exceptions.
    let day = local_date(tz, plan.starts_at);
    let last_day = local_date(tz, plan.ends_at - Duration::minutes(1));
    let days = DateRange::new("startsAt", day, last_day)?;
    let schools: Vec<SchoolId> = plan.school_id.into_iter().collect();
    if let Some(c) = settings::closures_between(conn, plan.service_id, days, Some(&schools))
        .await?
        .first()
    {
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
    let patterns = calendar::patterns_between(conn, plan.service_id, &[plan.ep_id], day, last_day).await?;
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

    // One place at a time: buffers (travel) are part of the blocked range.
    let buffer = if plan.mode == BookingMode::InPerson && plan.visit_id.is_none() && plan.school_id.is_some() {
        Duration::minutes(i64::from(policies.travel_buffer_minutes))
    } else {
        Duration::zero()
    };
    let blocked_from = plan.starts_at - buffer;
    let blocked_until = plan.ends_at + buffer;
    // The EP's whole diary, not only what the caller may see: the answer names a clash only to
    // those who may see the EP's calendar.
    let mut clash = Door::service(conn, plan.service_id)
        .find::<booking::Entity>()
        .filter(booking::Column::Status.ne(BookingStatus::Cancelled))
        .filter(booking::Column::BlockedFrom.lt(blocked_until))
        .filter(booking::Column::BlockedUntil.gt(blocked_from));
    clash = match plan.visit_id {
        Some(v) => clash.filter(booking::Column::VisitId.eq(v)),
        None => clash
            .filter(booking::Column::EpId.eq(plan.ep_id))
            .filter(booking::Column::VisitId.is_null()),
    };
    if let Some(old) = plan.rescheduled_from {
        clash = clash.filter(booking::Column::Id.ne(old));
    }
    if let Some(other) = clash.order_by_asc(booking::Column::BlockedFrom).one(conn).await? {
        return Err(DomainError::Conflict(if sees_calendar {
            format!(
                "That time is not available: the EP is already booked {}.",
                span_text(tz, other.blocked_from, other.blocked_until)
            )
        } else {
            "That time is not available: the EP is already booked then.".to_owned()
        }));
    }

    // Which contract pays, and whether it can.
    let chargeable = plan.school_id.is_some() && plan.visit_id.is_none();
    let direct = super::minutes_between(plan.starts_at, plan.ends_at);
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
                if stream != FundingStream::Statutory && needed > balance.remaining() {
                    let message = format!(
                        "this needs {needed} minutes and the school has {} left on this contract",
                        balance.remaining().max(0)
                    );
                    match policies.overbooking_policy {
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
                        OverbookingPolicy::AdminOverride => match (&plan.overbooking_reason, is_admin) {
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
                        },
                    }
                }
            }
        }
    }

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
            blocked_from: Set(blocked_from),
            blocked_until: Set(blocked_until),
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
        })
        .await?;
    if chargeable {
        let account = account_of(&row, day);
        ledger::post(
            door,
            caller,
            account,
            LedgerKind::Booked,
            TimeCategory::Direct,
            direct,
            None,
        )
        .await?;
        ledger::post(
            door,
            caller,
            account,
            LedgerKind::Booked,
            TimeCategory::Preparation,
            i64::from(plan.preparation_minutes),
            None,
        )
        .await?;
    }
    Ok(Booked { booking: row, warnings })
}

/// Loads what a new booking refers to and checks the caller may make it.
async fn resolve(conn: &impl ConnectionTrait, caller: &Caller, input: NewBooking) -> DomainResult<Plan> {
    let (location, overbooking_reason) = shape(&input)?;
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
    let access = caller.principal.static_access(Action::ManageBookings);
    if !access.permits(service, school_id, Some(input.ep_id)) {
        return Err(caller.principal.refusal(service, school_id));
    }
    let is_admin = caller.principal.has_role_in_service(Role::ServiceAdmin, service);
    // An EP books their own time at the schools they work with (where they are the link EP, or
    // someone else booked them), not anywhere they like.
    if !is_admin
        && caller.principal.partner.is_none()
        && let Some(s) = school_id
        && !Door::open(conn, caller, Action::ViewContracts)
            .await?
            .access()
            .permits_school(service, s)
    {
        return Err(DomainError::Forbidden);
    }
    // Statutory work draws on no school's allocation: the service decides what it is.
    if input.funding_stream == Some(FundingStream::Statutory) && !is_admin {
        return Err(DomainError::invalid(
            "fundingStream",
            FieldErrorCode::NotAllowed,
            "only the service's administrators book statutory work",
        ));
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
        location,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        preparation_minutes: input.preparation_minutes,
        funding_stream: input.funding_stream.unwrap_or(FundingStream::Traded),
        status: input.status,
        overbooking_reason,
        rescheduled_from: None,
    })
}

/// Books EP time.
pub async fn create(db: &Db, caller: &Caller, input: NewBooking) -> DomainResult<Booked> {
    let txn = db::begin_write(db).await?;
    let plan = resolve(&txn, caller, input).await?;
    let door = Door::open(&txn, caller, Action::ManageBookings).await?;
    let booked = place(&door, caller, plan).await?;
    let b = &booked.booking;
    audit::log(
        &txn,
        caller,
        Entry::new("booking.create", "Booking", b.id)
            .in_school(b.service_id, b.school_id)
            .detail(serde_json::json!({ "kind": b.kind.as_str(), "epId": b.ep_id })),
    )
    .await?;
    txn.commit().await?;
    Ok(booked)
}

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

pub struct Cancel {
    pub id: BookingId,
    pub reason: String,
    /// Administrators say on whose behalf; others cancel as themselves (a school's staff for
    /// the school, an EP for the EP).
    pub cancelled_for: Option<CancelledFor>,
    /// The alternative offered when an EP cancels (required when the policy says so).
    pub alternative_booking_id: Option<BookingId>,
}

/// The outcome of a cancellation: the booking and whether the school was charged.
#[derive(Clone, Debug)]
pub struct Cancelled {
    pub booking: booking::Model,
    pub charged_minutes: i64,
}

/// On whose behalf the caller may cancel this booking.
fn cancelled_for(caller: &Caller, b: &booking::Model, asked: Option<CancelledFor>) -> DomainResult<CancelledFor> {
    // Only the service's administrators cancel on someone else's behalf; partner clients act for
    // the school.
    let admin = caller.principal.has_role_in_service(Role::ServiceAdmin, b.service_id);
    let own_calendar = caller.principal.person_id() == Some(b.ep_id)
        && caller.principal.has_role_in_service(Role::Psychologist, b.service_id);
    let natural = if admin {
        CancelledFor::Service
    } else if own_calendar {
        CancelledFor::Ep
    } else {
        CancelledFor::School
    };
    match asked {
        None => Ok(natural),
        Some(a) if admin || a == natural => Ok(a),
        Some(_) => Err(DomainError::invalid(
            "cancelledFor",
            FieldErrorCode::NotAllowed,
            format!("you can cancel only on behalf of {}", natural.as_str()),
        )),
    }
}

/// How a booking is being cancelled.
struct Cancelling {
    for_whom: CancelledFor,
    reason: String,
    /// The share of the booked time the school is charged, in percent.
    charge_percent: i64,
    alternative: Option<BookingId>,
}

/// Cancels one booking: releases its time, charges the school the given share, and records who,
/// when, why and for whom.
async fn cancel_row(
    door: &Door<'_, impl ConnectionTrait>,
    caller: &Caller,
    b: booking::Model,
    how: Cancelling,
) -> DomainResult<(booking::Model, i64)> {
    let conn = door.conn();
    let Cancelling {
        for_whom,
        reason,
        charge_percent,
        alternative,
    } = how;
    let now = Utc::now();
    let tz = service_zone(conn, b.service_id).await?;
    let mut charged = 0;
    if is_chargeable(&b) {
        let account = account_of(&b, local_date(tz, b.starts_at));
        let held = ledger::release(door, caller, account, Some(reason.clone())).await?;
        if charge_percent > 0 {
            let direct = (held.direct * charge_percent + 50) / 100;
            let prep = (held.preparation * charge_percent + 50) / 100;
            ledger::post(
                door,
                caller,
                account,
                LedgerKind::LateCancellation,
                TimeCategory::Direct,
                direct,
                Some(reason.clone()),
            )
            .await?;
            ledger::post(
                door,
                caller,
                account,
                LedgerKind::LateCancellation,
                TimeCategory::Preparation,
                prep,
                Some(reason.clone()),
            )
            .await?;
            charged = direct + prep;
        }
    }
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
    require_open(&b)?;
    let for_whom = cancelled_for(caller, &b, input.cancelled_for)?;
    let policies = settings::policies(&txn, b.service_id).await?;
    let now = Utc::now();

    let mut alternative = None;
    if let Some(alt_id) = input.alternative_booking_id {
        let alt = Door::service(&txn, b.service_id)
            .find::<booking::Entity>()
            .filter(booking::Column::Id.eq(alt_id))
            .one(&txn)
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

    close_visit(&door, caller, &b, for_whom, &reason).await?;

    let charge = if for_whom == CancelledFor::School && is_late(&policies, b.starts_at, now) {
        i64::from(policies.late_cancellation_charge_percent)
    } else {
        0
    };
    let how = Cancelling {
        for_whom,
        reason,
        charge_percent: charge,
        alternative,
    };
    let (saved, charged) = cancel_row(&door, caller, b, how).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("booking.cancel", "Booking", saved.id)
            .in_school(saved.service_id, saved.school_id)
            .detail(serde_json::json!({ "for": for_whom.as_str(), "chargedMinutes": charged })),
    )
    .await?;
    txn.commit().await?;
    Ok(Cancelled {
        booking: saved,
        charged_minutes: charged,
    })
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
    let reason = values::optional_text("reason", input.reason.as_deref(), values::MAX_REASON_LEN)?
        .unwrap_or_else(|| "Rescheduled".to_owned());
    let txn = db::begin_write(db).await?;
    let old = for_change(&txn, caller, input.id, Action::ManageBookings).await?;
    let door = Door::open(&txn, caller, Action::ManageBookings).await?;
    require_open(&old)?;
    // Moving is not a way round the cancellation policy: only the service's administrators, or
    // the EP whose time it is, move a booking that has started or is inside the notice window.
    let is_admin = caller.principal.has_role_in_service(Role::ServiceAdmin, old.service_id);
    let own = caller.principal.person_id() == Some(old.ep_id);
    if !is_admin && !own {
        let policies = settings::policies(&txn, old.service_id).await?;
        if is_late(&policies, old.starts_at, Utc::now()) {
            return Err(DomainError::invalid(
                "id",
                FieldErrorCode::NotAllowed,
                "this booking is inside the cancellation notice window: cancel it, or ask the service to move it",
            ));
        }
    }
    if old.kind == BookingKind::Visit {
        let inside = Door::service(&txn, old.service_id)
            .find::<booking::Entity>()
            .filter(booking::Column::VisitId.eq(old.id))
            .filter(booking::Column::Status.is_in([BookingStatus::Tentative, BookingStatus::Confirmed]))
            .one(&txn)
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
    db::defer_overlap_checks(&txn).await?;
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
    };
    let mut plan = resolve(&txn, caller, request).await?;
    plan.rescheduled_from = Some(old.id);
    // The old booking's time is given back before the new one is weighed against the allocation.
    let tz = service_zone(&txn, old.service_id).await?;
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
        &txn,
        caller,
        Entry::new("booking.reschedule", "Booking", old.id)
            .in_school(old.service_id, old.school_id)
            .detail(serde_json::json!({ "newBookingId": new.booking.id })),
    )
    .await?;
    txn.commit().await?;
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
    let b = for_change(&txn, caller, input.id, Action::RecordDelivery).await?;
    let door = Door::open(&txn, caller, Action::RecordDelivery).await?;
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
        let tz = service_zone(&txn, b.service_id).await?;
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
        &txn,
        caller,
        Entry::new("booking.deliver", "Booking", saved.id)
            .in_school(saved.service_id, saved.school_id)
            .detail(serde_json::json!({ "directMinutes": direct, "preparationMinutes": prep })),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
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

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub service_id: Option<ServiceId>,
    pub school_id: Option<SchoolId>,
    pub ep_id: Option<PersonId>,
    pub visit_id: Option<BookingId>,
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
