//! What each role reads: SENCOs their school's bookings, EPs their own sessions, administrators
//! all of their service's, partner clients with the availability scope counts of free slots
//! only, and a parent their own booking (through their link, see [`super::links`]). Every read
//! of a booking (a parent's name and contact details) by a person is in the audit log.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::runs::{self, Run};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::door::Door;
use crate::entities::{
    school, space_to_talk_booking as booking, space_to_talk_run as run, space_to_talk_run_school as run_school,
    space_to_talk_slot as slot,
};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{PersonId, SchoolId, ServiceId, SpaceToTalkBookingId, SpaceToTalkRunId};
use crate::model::{BookingMode, SpaceToTalkRunStatus, SpaceToTalkSlotStatus, SpaceToTalkStatus, SpreadPeriod};
use crate::time::{self, DateRange, terms::TermCalendar};

/// A booking with where it happens.
#[derive(Clone, Debug)]
pub struct BookingView {
    pub row: booking::Model,
    /// Whether the reader sees the EP's note (the booking's EP and administrators).
    pub shows_notes: bool,
    pub mode: BookingMode,
    pub location: Option<String>,
}

/// A free slot, for a school's list or a parent's page.
#[derive(Clone, Debug)]
pub struct SlotView {
    pub row: slot::Model,
    pub mode: BookingMode,
    pub location: Option<String>,
}

/// Views of bookings: their runs, a statement per service.
pub(crate) async fn views_of(
    conn: &impl ConnectionTrait,
    caller: Option<&Caller>,
    rows: Vec<booking::Model>,
) -> DomainResult<Vec<BookingView>> {
    let services: BTreeSet<ServiceId> = rows.iter().map(|r| r.service_id).collect();
    let mut runs = Vec::new();
    for service in services {
        let ids: BTreeSet<SpaceToTalkRunId> = rows
            .iter()
            .filter(|r| r.service_id == service)
            .map(|r| r.run_id)
            .collect();
        runs.extend(Door::service(conn, service).get_many::<run::Entity, _>(ids).await?);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let r = runs.iter().find(|r| r.id == row.run_id);
            let shows_notes = caller.is_some_and(|c| {
                c.principal.person_id() == Some(row.ep_id) || super::runs::is_admin(c, row.service_id)
            });
            BookingView {
                shows_notes,
                mode: r.map(|r| r.mode).unwrap_or(BookingMode::InPerson),
                location: r.and_then(|r| r.location.clone()),
                row,
            }
        })
        .collect())
}

/// Records that the caller read these bookings (their parents' details).
async fn audit_reads(conn: &impl ConnectionTrait, caller: &Caller, views: &[BookingView]) -> DomainResult<()> {
    audit::log_many(
        conn,
        caller,
        views
            .iter()
            .map(|v| {
                Entry::new("space_to_talk_booking.read", "SpaceToTalkBooking", v.row.id)
                    .in_school(v.row.service_id, Some(v.row.school_id))
            })
            .collect(),
    )
    .await
}

/// One booking the caller can see.
pub async fn get_booking(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: SpaceToTalkBookingId,
) -> DomainResult<BookingView> {
    let row = Door::open(conn, caller, Action::ViewSpaceToTalkBookings)
        .await?
        .get::<booking::Entity>(id)
        .await?;
    let views = views_of(conn, Some(caller), vec![row]).await?;
    audit_reads(conn, caller, &views).await?;
    views.into_iter().next().ok_or(DomainError::NotFound)
}

/// Partner clients see counts of free slots only.
fn refuse_partner(caller: &Caller) -> DomainResult<()> {
    if caller.principal.partner.is_some() {
        Err(DomainError::Refused(
            "Partner clients see only counts of free Space to Talk slots (spaceToTalkFreeSlotCount).".to_owned(),
        ))
    } else {
        Ok(())
    }
}

/// One run the caller can see, with its schools and slots (whether each is free, never who
/// booked it).
pub async fn get_run(conn: &impl ConnectionTrait, caller: &Caller, id: SpaceToTalkRunId) -> DomainResult<Run> {
    let row = Door::open(conn, caller, Action::ViewSpaceToTalkSlots)
        .await?
        .get::<run::Entity>(id)
        .await?;
    refuse_partner(caller)?;
    runs::load(conn, row).await
}

/// The school, if the caller can see it at all: another school's or service's is not found.
async fn seen_school(conn: &impl ConnectionTrait, caller: &Caller, id: SchoolId) -> DomainResult<school::Model> {
    Door::seen(conn, caller).get::<school::Entity>(id).await
}

/// The free slots of runs open to a school, from now until `until`, soonest first (read within
/// the school's service: the caller's right to see them is the caller's business).
pub(crate) async fn free_for_school(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    school: SchoolId,
    until: DateTime<Utc>,
) -> DomainResult<Vec<SlotView>> {
    let door = Door::service(conn, service);
    let open: Vec<SpaceToTalkRunId> = door
        .find::<run_school::Entity>()
        .filter(run_school::Column::SchoolId.eq(school))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let runs: Vec<run::Model> = door
        .find::<run::Entity>()
        .filter(run::Column::Id.is_in(open))
        .filter(run::Column::Status.eq(SpaceToTalkRunStatus::Open))
        .filter(run::Column::EndsAt.gt(Utc::now()))
        .all(conn)
        .await?;
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let slots = door
        .find::<slot::Entity>()
        .filter(slot::Column::RunId.is_in(runs.iter().map(|r| r.id)))
        .filter(slot::Column::Status.eq(SpaceToTalkSlotStatus::Free))
        .filter(slot::Column::StartsAt.gt(Utc::now()))
        .filter(slot::Column::StartsAt.lt(until))
        .order_by_asc(slot::Column::StartsAt)
        .order_by_asc(slot::Column::Id)
        .all(conn)
        .await?;
    Ok(slots
        .into_iter()
        .map(|row| {
            let r = runs.iter().find(|r| r.id == row.run_id);
            SlotView {
                mode: r.map(|r| r.mode).unwrap_or(BookingMode::InPerson),
                location: r.and_then(|r| r.location.clone()),
                row,
            }
        })
        .collect())
}

fn until(weeks: i32) -> DomainResult<DateTime<Utc>> {
    if !(1..=26).contains(&weeks) {
        return Err(DomainError::invalid(
            "weeks",
            FieldErrorCode::OutOfRange,
            "must be between 1 and 26",
        ));
    }
    Ok(Utc::now() + Duration::weeks(i64::from(weeks)))
}

/// A school's free slots for the next `weeks` (SENCOs, leaders, EPs and administrators).
pub async fn free_slots(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school: SchoolId,
    weeks: i32,
) -> DomainResult<Vec<SlotView>> {
    let until = until(weeks)?;
    let s = seen_school(conn, caller, school).await?;
    let door = Door::open(conn, caller, Action::ViewSpaceToTalkSlots).await?;
    door.require_any()?;
    refuse_partner(caller)?;
    let all = free_for_school(conn, s.service_id, school, until).await?;
    if door.access().permits_school(s.service_id, school) {
        return Ok(all);
    }
    // An EP sees their own slots at the school.
    Ok(all
        .into_iter()
        .filter(|v| door.access().permits_calendar(v.row.service_id, v.row.ep_id))
        .collect())
}

/// How many slots are free at a school for the next `weeks` (partner clients too).
pub async fn free_slot_count(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school: SchoolId,
    weeks: i32,
) -> DomainResult<i64> {
    let until = until(weeks)?;
    let s = seen_school(conn, caller, school).await?;
    let door = Door::open(conn, caller, Action::ViewSpaceToTalkSlots).await?;
    door.require_any()?;
    let all = free_for_school(conn, s.service_id, school, until).await?;
    let access = door.access();
    Ok(all
        .iter()
        .filter(|v| {
            access.permits_school(s.service_id, school) || access.permits_calendar(v.row.service_id, v.row.ep_id)
        })
        .count() as i64)
}

/// Booked sessions still to come that the caller can see, soonest first: of one school, of one
/// EP, or all in reach.
pub async fn upcoming(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school: Option<SchoolId>,
    ep: Option<PersonId>,
) -> DomainResult<Vec<BookingView>> {
    if let Some(s) = school {
        seen_school(conn, caller, s).await?;
    }
    let door = Door::open(conn, caller, Action::ViewSpaceToTalkBookings).await?;
    door.require_any()?;
    let mut q = door
        .find::<booking::Entity>()
        .filter(booking::Column::Status.eq(SpaceToTalkStatus::Booked))
        .filter(booking::Column::EndsAt.gt(Utc::now()));
    if let Some(s) = school {
        q = q.filter(booking::Column::SchoolId.eq(s));
    }
    if let Some(e) = ep {
        q = q.filter(booking::Column::EpId.eq(e));
    }
    let rows = q
        .order_by_asc(booking::Column::StartsAt)
        .order_by_asc(booking::Column::Id)
        .all(conn)
        .await?;
    let views = views_of(conn, Some(caller), rows).await?;
    audit_reads(conn, caller, &views).await?;
    Ok(views)
}

/// Attendance at one school in one term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figures {
    pub school_id: SchoolId,
    /// The term's name ("Outside term time" for sessions in no term).
    pub term: String,
    pub starts_on: Option<chrono::NaiveDate>,
    /// Booked and not yet recorded.
    pub booked: i64,
    pub attended: i64,
    pub did_not_attend: i64,
    pub cancelled: i64,
    pub safeguarding_concerns: i64,
    pub onward_referrals: i64,
}

/// Attendance per term per school, for the service's reports (counts only).
pub async fn attendance_figures(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
    school: Option<SchoolId>,
) -> DomainResult<Vec<Figures>> {
    if let Some(s) = school {
        let seen = seen_school(conn, caller, s).await?;
        if seen.service_id != service {
            return Err(DomainError::NotFound);
        }
    }
    let door = Door::open(conn, caller, Action::ViewSpaceToTalkFigures).await?;
    if !door.access().touches_service(service) {
        return Err(caller
            .principal
            .refusal(Action::ViewSpaceToTalkFigures, service, school));
    }
    let mut q = door
        .find::<booking::Entity>()
        .filter(booking::Column::ServiceId.eq(service))
        .filter(booking::Column::Status.ne(SpaceToTalkStatus::Moved));
    if let Some(s) = school {
        q = q.filter(booking::Column::SchoolId.eq(s));
    }
    // A bounded report: counts over at most a few thousand rows a service.
    let total = q.clone().count(conn).await?;
    if total > 50_000 {
        return Err(DomainError::invalid(
            "schoolId",
            FieldErrorCode::OutOfRange,
            "too many bookings: ask for one school",
        ));
    }
    let rows = q.all(conn).await?;
    let tz = time::service_zone(conn, service).await?;
    let terms = TermCalendar::load(conn, service).await?;
    let mut out: BTreeMap<(SchoolId, Option<chrono::NaiveDate>, String), Figures> = BTreeMap::new();
    for r in rows {
        let day = time::local_date(tz, r.starts_at);
        let span = terms
            .periods(
                SpreadPeriod::Terms,
                DateRange {
                    starts_on: day,
                    ends_on: day,
                },
            )
            .into_iter()
            .next();
        let (name, starts_on) = match span {
            Some(s) => (s.name, Some(s.range.starts_on)),
            None => ("Outside term time".to_owned(), None),
        };
        let f = out
            .entry((r.school_id, starts_on, name.clone()))
            .or_insert_with(|| Figures {
                school_id: r.school_id,
                term: name,
                starts_on,
                booked: 0,
                attended: 0,
                did_not_attend: 0,
                cancelled: 0,
                safeguarding_concerns: 0,
                onward_referrals: 0,
            });
        match r.status {
            SpaceToTalkStatus::Booked => f.booked += 1,
            SpaceToTalkStatus::Attended => f.attended += 1,
            SpaceToTalkStatus::DidNotAttend => f.did_not_attend += 1,
            SpaceToTalkStatus::Cancelled => f.cancelled += 1,
            SpaceToTalkStatus::Moved => {}
        }
        f.safeguarding_concerns += i64::from(r.safeguarding_concern);
        f.onward_referrals += i64::from(r.onward_referral);
    }
    Ok(out.into_values().collect())
}
