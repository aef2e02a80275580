//! EP calendars: working patterns (weekdays and hours in the service's local time, FTE) and
//! exceptions (leave, training, sickness, closures) that take time out of them.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, Select};

use super::require_ep;
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{calendar_exception, working_hours, working_pattern};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{CalendarExceptionId, PersonId, ServiceId, WorkingPatternId};
use crate::model::ExceptionKind;
use crate::values;

/// Hours on one weekday (1 = Monday ... 7 = Sunday), local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hours {
    pub weekday: u32,
    pub starts_at: NaiveTime,
    pub ends_at: NaiveTime,
}

/// A pattern with its hours, effective from a date until the next one starts.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub row: working_pattern::Model,
    pub hours: Vec<Hours>,
}

impl Pattern {
    /// The hours worked on a date, if the pattern covers it.
    pub fn hours_on(&self, date: NaiveDate) -> impl Iterator<Item = &Hours> {
        let covers = self.row.effective_from <= date && self.row.effective_until.is_none_or(|u| date <= u);
        let weekday = date.weekday().number_from_monday();
        self.hours.iter().filter(move |h| covers && h.weekday == weekday)
    }
}

/// Refuses unless the caller may act on this EP's calendar (administrators: anyone in the
/// service; EPs: their own).
fn require(caller: &Caller, action: Action, service: ServiceId, ep: PersonId) -> DomainResult<()> {
    if caller.principal.static_access(action).permits_calendar(service, ep) {
        Ok(())
    } else {
        Err(caller.principal.refusal(action, service, None))
    }
}

pub struct NewPattern {
    pub service_id: ServiceId,
    pub ep_id: PersonId,
    pub effective_from: NaiveDate,
    pub fte_hundredths: i32,
    pub hours: Vec<Hours>,
}

fn check_hours(problems: &mut Problems, hours: &[Hours]) {
    if hours.is_empty() {
        problems.add("hours", FieldErrorCode::Required, "give the hours of at least one day");
    }
    for (i, h) in hours.iter().enumerate() {
        if !(1..=7).contains(&h.weekday) {
            problems.add(
                &format!("hours.{i}.weekday"),
                FieldErrorCode::OutOfRange,
                "must be 1 (Monday) to 7 (Sunday)",
            );
        }
        if h.ends_at <= h.starts_at {
            problems.add(
                &format!("hours.{i}.endsAt"),
                FieldErrorCode::OutOfRange,
                "must be after the start",
            );
        }
        let overlaps = hours
            .iter()
            .enumerate()
            .any(|(j, o)| j < i && o.weekday == h.weekday && o.starts_at < h.ends_at && h.starts_at < o.ends_at);
        if overlaps {
            problems.add(
                &format!("hours.{i}"),
                FieldErrorCode::OutOfRange,
                "overlaps other hours on the same day",
            );
        }
    }
}

/// Sets an EP's working pattern from a date. The pattern in force before it ends the day before;
/// any that started later are replaced.
/// A calendar change and the open bookings it leaves outside the EP's time, for the
/// administrator (or the EP) to move or cancel.
#[derive(Clone, Debug)]
pub struct Changed<T> {
    pub value: T,
    pub clashes: Vec<super::conflicts::Conflict>,
}

pub async fn set_pattern(db: &Db, caller: &Caller, input: NewPattern) -> DomainResult<Changed<Pattern>> {
    require(caller, Action::ManageCalendars, input.service_id, input.ep_id)?;
    let mut problems = Problems::new();
    problems.check(super::Day::parse("effectiveFrom", input.effective_from));
    if !(1..=100).contains(&input.fte_hundredths) {
        problems.add("fte", FieldErrorCode::OutOfRange, "must be more than 0 and at most 1");
    }
    check_hours(&mut problems, &input.hours);
    problems.finish()?;
    let txn = db::begin_write(db).await?;
    require_ep(&txn, input.service_id, input.ep_id, "epId").await?;
    let door = Door::open(&txn, caller, Action::ManageCalendars).await?;
    let existing = door
        .find::<working_pattern::Entity>()
        .filter(working_pattern::Column::ServiceId.eq(input.service_id))
        .filter(working_pattern::Column::EpId.eq(input.ep_id))
        .all(&txn)
        .await?;
    for p in existing {
        if p.effective_from >= input.effective_from {
            door.delete_many::<working_hours::Entity>()
                .filter(working_hours::Column::PatternId.eq(p.id))
                .exec(&txn)
                .await?;
            door.delete_many::<working_pattern::Entity>()
                .filter(working_pattern::Column::Id.eq(p.id))
                .exec(&txn)
                .await?;
        } else if p.effective_until.is_none_or(|u| u >= input.effective_from) {
            let mut row: working_pattern::ActiveModel = p.into();
            row.effective_until = Set(input.effective_from.pred_opt());
            door.update(row).await?;
        }
    }
    let row = door
        .insert(working_pattern::ActiveModel {
            id: Set(WorkingPatternId::new()),
            service_id: Set(input.service_id),
            ep_id: Set(input.ep_id),
            effective_from: Set(input.effective_from),
            effective_until: Set(None),
            fte_hundredths: Set(input.fte_hundredths),
            created_at: Set(Utc::now()),
            created_by: Set(caller.principal.person_id()),
        })
        .await?;
    let hours = input
        .hours
        .iter()
        .map(|h| working_hours::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            pattern_id: Set(row.id),
            weekday: Set(h.weekday as i32),
            starts_at: Set(h.starts_at),
            ends_at: Set(h.ends_at),
        })
        .collect();
    door.insert_under::<working_pattern::Entity, _>(&row, working_hours::Column::PatternId, hours)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("working_pattern.set", "WorkingPattern", row.id).in_service(input.service_id),
    )
    .await?;
    let from = super::local_to_utc(
        super::service_zone(&txn, input.service_id).await?,
        input.effective_from,
        NaiveTime::MIN,
    );
    let clashes = super::conflicts::of_ep(&txn, input.service_id, input.ep_id, from.max(Utc::now()), None)
        .await?
        .into_iter()
        .filter(|c| c.reasons.contains(&super::conflicts::Reason::OutsideWorkingHours))
        .collect();
    txn.commit().await?;
    Ok(Changed {
        value: Pattern {
            row,
            hours: input.hours,
        },
        clashes,
    })
}

/// Patterns of `select` (built on `door`) in a service, for some EPs or all, with their hours.
pub(super) async fn with_hours(
    door: &Door<'_, impl ConnectionTrait>,
    mut select: Select<working_pattern::Entity>,
    service: ServiceId,
    eps: Option<&[PersonId]>,
) -> DomainResult<Vec<Pattern>> {
    if let Some(eps) = eps {
        select = select.filter(working_pattern::Column::EpId.is_in(eps.iter().copied()));
    }
    let rows = select
        .filter(working_pattern::Column::ServiceId.eq(service))
        .order_by_asc(working_pattern::Column::EffectiveFrom)
        .all(door.conn())
        .await?;
    let ids: Vec<WorkingPatternId> = rows.iter().map(|r| r.id).collect();
    let hours = door
        .find::<working_hours::Entity>()
        .filter(working_hours::Column::PatternId.is_in(ids))
        .order_by_asc(working_hours::Column::Weekday)
        .order_by_asc(working_hours::Column::StartsAt)
        .all(door.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let hours = hours
                .iter()
                .filter(|h| h.pattern_id == row.id)
                .map(|h| Hours {
                    weekday: h.weekday as u32,
                    starts_at: h.starts_at,
                    ends_at: h.ends_at,
                })
                .collect();
            Pattern { row, hours }
        })
        .collect())
}

/// An EP's patterns, oldest first.
pub async fn patterns(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
    ep: PersonId,
) -> DomainResult<Vec<Pattern>> {
    require(caller, Action::ViewCalendars, service, ep)?;
    let door = Door::open(conn, caller, Action::ViewCalendars).await?;
    let select = door.find::<working_pattern::Entity>();
    with_hours(&door, select, service, Some(&[ep])).await
}

/// One pattern, for whoever may see that EP's calendar.
pub async fn find_pattern(conn: &impl ConnectionTrait, caller: &Caller, id: WorkingPatternId) -> DomainResult<Pattern> {
    let door = Door::open(conn, caller, Action::ViewCalendars).await?;
    let row = door.get::<working_pattern::Entity>(id).await?;
    let select = door
        .find::<working_pattern::Entity>()
        .filter(working_pattern::Column::Id.eq(id));
    with_hours(&door, select, row.service_id, Some(&[row.ep_id]))
        .await?
        .into_iter()
        .find(|p| p.row.id == id)
        .ok_or(DomainError::NotFound)
}

/// One exception, for whoever may see that EP's calendar.
pub async fn find_exception(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: CalendarExceptionId,
) -> DomainResult<calendar_exception::Model> {
    Door::open(conn, caller, Action::ViewCalendars)
        .await?
        .get::<calendar_exception::Entity>(id)
        .await
}

pub struct NewException {
    pub service_id: ServiceId,
    pub ep_id: PersonId,
    pub kind: ExceptionKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Never health details: the kind says enough.
    pub reason: Option<String>,
}

/// Records time an EP is not available (leave, training, sickness...).
pub async fn add_exception(
    db: &Db,
    caller: &Caller,
    input: NewException,
) -> DomainResult<Changed<calendar_exception::Model>> {
    require(caller, Action::ManageCalendars, input.service_id, input.ep_id)?;
    let mut problems = Problems::new();
    problems.check(super::Instant::parse("startsAt", input.starts_at));
    problems.check(super::Instant::parse("endsAt", input.ends_at));
    if input.ends_at <= input.starts_at {
        problems.add("endsAt", FieldErrorCode::OutOfRange, "must be after the start");
    } else if (input.ends_at - input.starts_at).num_days() > 366 {
        problems.add(
            "endsAt",
            FieldErrorCode::OutOfRange,
            "an exception lasts at most a year",
        );
    }
    let reason = problems.check(values::optional_text("reason", input.reason.as_deref(), 200));
    problems.finish()?;
    let txn = db::begin_write(db).await?;
    require_ep(&txn, input.service_id, input.ep_id, "epId").await?;
    let row = Door::open(&txn, caller, Action::ManageCalendars)
        .await?
        .insert(calendar_exception::ActiveModel {
            id: Set(CalendarExceptionId::new()),
            service_id: Set(input.service_id),
            ep_id: Set(input.ep_id),
            kind: Set(input.kind),
            starts_at: Set(input.starts_at),
            ends_at: Set(input.ends_at),
            reason: Set(reason.flatten()),
            created_at: Set(Utc::now()),
            created_by: Set(caller.principal.person_id()),
            withdrawn_at: Set(None),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("calendar_exception.create", "CalendarException", row.id).in_service(input.service_id),
    )
    .await?;
    let clashes = super::conflicts::of_ep(
        &txn,
        input.service_id,
        input.ep_id,
        input.starts_at,
        Some(input.ends_at),
    )
    .await?;
    txn.commit().await?;
    Ok(Changed { value: row, clashes })
}

/// Withdraws an exception (the leave was cancelled); it stays on record.
pub async fn withdraw_exception(
    db: &Db,
    caller: &Caller,
    id: CalendarExceptionId,
) -> DomainResult<calendar_exception::Model> {
    let txn = db::begin_write(db).await?;
    let row = door::for_change::<calendar_exception::Entity, _>(
        &txn,
        caller,
        id,
        Action::ViewCalendars,
        Action::ManageCalendars,
    )
    .await?;
    if row.withdrawn_at.is_some() {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "the exception was already withdrawn",
        ));
    }
    let service = row.service_id;
    let mut change: calendar_exception::ActiveModel = row.into();
    change.withdrawn_at = Set(Some(Utc::now()));
    let saved = Door::open(&txn, caller, Action::ManageCalendars)
        .await?
        .update(change)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("calendar_exception.withdraw", "CalendarException", id).in_service(service),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Exceptions in force that overlap an interval.
pub async fn exceptions_between(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    eps: &[PersonId],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DomainResult<Vec<calendar_exception::Model>> {
    Ok(Door::service(conn, service)
        .find::<calendar_exception::Entity>()
        .filter(calendar_exception::Column::EpId.is_in(eps.iter().copied()))
        .filter(calendar_exception::Column::WithdrawnAt.is_null())
        .filter(calendar_exception::Column::StartsAt.lt(to))
        .filter(calendar_exception::Column::EndsAt.gt(from))
        .order_by_asc(calendar_exception::Column::StartsAt)
        .all(conn)
        .await?)
}

pub async fn exceptions(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
    ep: PersonId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DomainResult<Vec<calendar_exception::Model>> {
    require(caller, Action::ViewCalendars, service, ep)?;
    if to <= from || (to - from).num_days() > 400 {
        return Err(DomainError::invalid(
            "to",
            FieldErrorCode::OutOfRange,
            "must be after from, and at most 400 days later",
        ));
    }
    exceptions_between(conn, service, &[ep], from, to).await
}

/// An EP's bookings (not cancelled) that meet a range, by time, for whoever may see that EP's
/// calendar.
pub async fn bookings(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
    ep: PersonId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DomainResult<Vec<crate::entities::booking::Model>> {
    use crate::entities::booking;
    require(caller, Action::ViewCalendars, service, ep)?;
    if to <= from || (to - from).num_days() > 400 {
        return Err(DomainError::invalid(
            "to",
            FieldErrorCode::OutOfRange,
            "must be after from, and at most 400 days later",
        ));
    }
    Ok(Door::open(conn, caller, Action::ViewCalendars)
        .await?
        .find::<booking::Entity>()
        .filter(booking::Column::ServiceId.eq(service))
        .filter(booking::Column::EpId.eq(ep))
        .filter(booking::Column::Status.ne(crate::model::BookingStatus::Cancelled))
        .filter(booking::Column::EndsAt.gt(from))
        .filter(booking::Column::StartsAt.lt(to))
        .order_by_asc(booking::Column::StartsAt)
        .all(conn)
        .await?)
}
