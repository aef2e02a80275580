//! Publishing a run of slots: back to back from a start, each of the slot length with a gap
//! after it, at one school, several, or every open school of the service. Every slot is a
//! booking of the EP's time under the EP-time rules, made in the run's own transaction: a slot
//! that collides with anything in the EP's diary refuses the whole run, naming the slot and the
//! time it collides with, and nothing is written. Slots lie inside the EP's working hours.
//! Where the service counts Space to Talk as school time, a single school's slots are booked
//! against its allocation.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::settings::{self, SLOT_MINUTES};
use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{
    school, space_to_talk_booking as stt_booking, space_to_talk_run as run, space_to_talk_run_school as run_school,
    space_to_talk_slot as slot,
};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{PersonId, SchoolId, ServiceId, SpaceToTalkRunId, SpaceToTalkRunSchoolId, SpaceToTalkSlotId};
use crate::model::{
    BookingKind, BookingMode, BookingStatus, CancelledFor, FundingStream, SchoolStatus, SpaceToTalkRunStatus,
    SpaceToTalkSlotStatus, SpaceToTalkStatus,
};
use crate::time::{self, bookings};
use crate::values;

/// The most slots in one run.
pub const MAX_SLOTS: i32 = 16;

#[derive(Clone, Debug)]
pub struct NewRun {
    /// The service, needed for a whole-service run.
    pub service_id: Option<ServiceId>,
    /// One school or several; empty with `whole_service`.
    pub school_ids: Vec<SchoolId>,
    pub whole_service: bool,
    /// Default: the caller (an EP).
    pub ep_id: Option<PersonId>,
    pub starts_at: DateTime<Utc>,
    pub slots: i32,
    /// Default: the service's slot length.
    pub slot_minutes: Option<i32>,
    pub gap_minutes: i32,
    pub mode: BookingMode,
    /// A room, or "phone"/"online" details: never a parent's or child's.
    pub location: Option<String>,
    /// An administrator's reason for publishing inside the notice or in the past.
    pub short_notice_reason: Option<String>,
}

/// A run as published.
#[derive(Clone, Debug)]
pub struct Run {
    pub row: run::Model,
    pub schools: Vec<SchoolId>,
    pub slots: Vec<slot::Model>,
}

/// The slots' times: `count` slots of `minutes`, each followed by `gap`.
pub fn slot_times(starts_at: DateTime<Utc>, count: i32, minutes: i32, gap: i32) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    (0..i64::from(count.max(0)))
        .map(|i| {
            let start = starts_at + Duration::minutes(i * i64::from(minutes + gap));
            (start, start + Duration::minutes(i64::from(minutes)))
        })
        .collect()
}

fn check_shape(input: &NewRun, p: &mut Problems) -> Option<Option<String>> {
    if !(1..=MAX_SLOTS).contains(&input.slots) {
        p.add(
            "slots",
            FieldErrorCode::OutOfRange,
            format!("a run has 1 to {MAX_SLOTS} slots"),
        );
    }
    if let Some(m) = input.slot_minutes
        && !SLOT_MINUTES.contains(&m)
    {
        p.add(
            "slotMinutes",
            FieldErrorCode::OutOfRange,
            "a slot lasts 15 to 60 minutes",
        );
    }
    if !(0..=120).contains(&input.gap_minutes) {
        p.add("gapMinutes", FieldErrorCode::OutOfRange, "a gap lasts 0 to 120 minutes");
    }
    p.check(time::whole_minute("startsAt", input.starts_at));
    let distinct: BTreeSet<SchoolId> = input.school_ids.iter().copied().collect();
    match (input.whole_service, input.school_ids.is_empty()) {
        (true, false) => p.add(
            "schoolIds",
            FieldErrorCode::Invalid,
            "name schools, or offer the run to the whole service, not both",
        ),
        (false, true) => p.add(
            "schoolIds",
            FieldErrorCode::Required,
            "name the school (or schools), or offer the run to the whole service",
        ),
        _ => {}
    }
    if distinct.len() != input.school_ids.len() {
        p.add("schoolIds", FieldErrorCode::Invalid, "a school is named twice");
    }
    if input.school_ids.len() > 50 {
        p.add("schoolIds", FieldErrorCode::OutOfRange, "at most 50 schools");
    }
    p.check(values::optional_text("location", input.location.as_deref(), 200))
}

/// Errors of slot `n`'s booking, pointed at the run's input and naming the slot.
fn slot_error(e: DomainError, n: usize, when: &str) -> DomainError {
    let prefix = format!("slot {n} ({when})");
    match e {
        DomainError::Conflict(message) => {
            DomainError::invalid("startsAt", FieldErrorCode::NotAllowed, format!("{prefix}: {message}"))
        }
        DomainError::Invalid(mut errors) => {
            for f in &mut errors {
                if matches!(f.field.first().map(String::as_str), Some("endsAt" | "startsAt")) {
                    f.field = vec!["startsAt".to_owned()];
                }
                if f.field.first().map(String::as_str) == Some("schoolId") {
                    f.field = vec!["schoolIds".to_owned()];
                }
                f.message = format!("{prefix}: {}", f.message);
            }
            DomainError::Invalid(errors)
        }
        other => other,
    }
}

/// The service of a new run: its schools', or the one named.
async fn service_of(conn: &impl ConnectionTrait, caller: &Caller, input: &NewRun) -> DomainResult<ServiceId> {
    if let Some(first) = input.school_ids.first() {
        return Door::seen(conn, caller)
            .get::<school::Entity>(*first)
            .await
            .map(|s| s.service_id)
            .map_err(|e| match e {
                DomainError::NotFound => {
                    DomainError::invalid("schoolIds.0", FieldErrorCode::NotFound, "no such school")
                }
                other => other,
            });
    }
    match input.service_id {
        Some(s) if caller.principal.services().contains(&s) => Ok(s),
        Some(_) => Err(DomainError::NotFound),
        None => {
            let mine = caller.principal.services();
            match (mine.len(), mine.iter().next()) {
                (1, Some(only)) => Ok(*only),
                _ => Err(DomainError::invalid(
                    "serviceId",
                    FieldErrorCode::Required,
                    "say which service the run is for",
                )),
            }
        }
    }
}

pub async fn publish(db: &Db, caller: &Caller, input: NewRun) -> DomainResult<Run> {
    let mut p = Problems::new();
    let location = check_shape(&input, &mut p).flatten();
    p.finish()?;

    let txn = db::begin_write(db).await?;
    let service = service_of(&txn, caller, &input).await?;
    let ep = match input.ep_id.or(caller.principal.person_id()) {
        Some(e) => e,
        None => return Err(DomainError::invalid("epId", FieldErrorCode::Required, "name the EP")),
    };
    if !caller
        .principal
        .static_access(Action::PublishSpaceToTalkRuns)
        .permits(service, None, Some(ep))
    {
        return Err(caller.principal.refusal(Action::PublishSpaceToTalkRuns, service, None));
    }
    time::require_ep(&txn, service, ep, "epId").await?;
    let rules = settings::of_service(&txn, service).await?;
    let minutes = input.slot_minutes.unwrap_or(rules.slot_minutes);

    // The schools: those named (each one of the service's open schools), or all open ones.
    let schools: Vec<SchoolId> = if input.whole_service {
        Door::service(&txn, service)
            .find::<school::Entity>()
            .filter(school::Column::ServiceId.eq(service))
            .filter(school::Column::Status.eq(SchoolStatus::Open))
            .order_by_asc(school::Column::Name)
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect()
    } else {
        let mut p = Problems::new();
        crate::tenancy::schools::check_open(&txn, service, &input.school_ids, "schoolIds", &mut p).await?;
        p.finish()?;
        input.school_ids.clone()
    };
    if schools.is_empty() {
        return Err(DomainError::invalid(
            "wholeService",
            FieldErrorCode::InvalidState,
            "the service has no open school",
        ));
    }
    let single = (!input.whole_service && schools.len() == 1)
        .then(|| schools.first().copied())
        .flatten();
    let draws_down = rules.draws_down_allocation && single.is_some();

    // Inside the EP's working hours, every slot (the booking rules only warn about this).
    let cal = time::ServiceCalendar::of(&txn, service).await?;
    let tz = cal.tz;
    let times = slot_times(input.starts_at, input.slots, minutes, input.gap_minutes);
    let first_day = time::local_date(tz, input.starts_at);
    let last_day = times.last().map(|(_, e)| time::local_date(tz, *e)).unwrap_or(first_day);
    let patterns = cal.patterns_between(&[ep], first_day, last_day);
    let mut p = Problems::new();
    for (i, (from, to)) in times.iter().enumerate() {
        let day = time::local_date(tz, *from);
        let (a, b) = (from.with_timezone(&tz).time(), to.with_timezone(&tz).time());
        let inside = time::local_date(tz, *to - Duration::minutes(1)) == day
            && patterns
                .iter()
                .any(|pat| pat.hours_on(day).any(|h| h.starts_at <= a && b <= h.ends_at));
        if !inside {
            p.add(
                "startsAt",
                FieldErrorCode::OutOfRange,
                format!(
                    "slot {} ({}) is outside the EP's working hours",
                    i + 1,
                    bookings::span_text(tz, *from, *to)
                ),
            );
            break;
        }
    }
    p.finish()?;

    let run_id = SpaceToTalkRunId::new();
    let mut slot_rows = Vec::new();
    for (i, (from, to)) in times.iter().enumerate() {
        let when = bookings::span_text(tz, *from, *to);
        let booked = bookings::create_in(
            &txn,
            caller,
            bookings::NewBooking {
                service_id: Some(service),
                school_id: single.filter(|_| draws_down),
                ep_id: ep,
                kind: BookingKind::SpaceToTalk,
                visit_id: None,
                mode: input.mode,
                location: location.clone(),
                starts_at: *from,
                ends_at: *to,
                preparation_minutes: 0,
                funding_stream: Some(FundingStream::Traded),
                status: BookingStatus::Confirmed,
                overbooking_reason: None,
                short_notice_reason: input.short_notice_reason.clone(),
            },
            None,
        )
        .await
        .map_err(|e| slot_error(e, i + 1, &when))?;
        slot_rows.push(slot::ActiveModel {
            id: Set(SpaceToTalkSlotId::new()),
            service_id: Set(service),
            run_id: Set(run_id),
            ep_id: Set(ep),
            starts_at: Set(*from),
            ends_at: Set(*to),
            booking_id: Set(Some(booked.booking.id)),
            status: Set(SpaceToTalkSlotStatus::Free),
            updated_at: Set(Utc::now()),
        });
    }
    let now = Utc::now();
    let door = Door::open(&txn, caller, Action::PublishSpaceToTalkRuns).await?;
    let row = door
        .insert(run::ActiveModel {
            id: Set(run_id),
            service_id: Set(service),
            ep_id: Set(ep),
            school_id: Set(single),
            whole_service: Set(input.whole_service),
            mode: Set(input.mode),
            location: Set(location),
            slot_minutes: Set(minutes),
            gap_minutes: Set(input.gap_minutes),
            starts_at: Set(input.starts_at),
            ends_at: Set(times.last().map(|(_, e)| *e).unwrap_or(input.starts_at)),
            draws_down: Set(draws_down),
            status: Set(SpaceToTalkRunStatus::Open),
            created_by: Set(caller.principal.person_id()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    door.insert_all(
        schools
            .iter()
            .map(|s| run_school::ActiveModel {
                id: Set(SpaceToTalkRunSchoolId::new()),
                service_id: Set(service),
                run_id: Set(run_id),
                school_id: Set(*s),
                ep_id: Set(ep),
            })
            .collect(),
    )
    .await?;
    door.insert_all(slot_rows).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("space_to_talk_run.publish", "SpaceToTalkRun", run_id)
            .in_school(service, single)
            .detail(serde_json::json!({
                "epId": ep,
                "slots": input.slots,
                "slotMinutes": minutes,
                "schools": schools.len(),
                "wholeService": input.whole_service,
                "drawsDown": draws_down,
            })),
    )
    .await?;
    let published = load(&txn, row).await?;
    txn.commit().await?;
    Ok(published)
}

/// A run with its schools and slots (read within the run's service).
pub(crate) async fn load(conn: &impl ConnectionTrait, row: run::Model) -> DomainResult<Run> {
    let door = Door::service(conn, row.service_id);
    let schools = door
        .find::<run_school::Entity>()
        .filter(run_school::Column::RunId.eq(row.id))
        .order_by_asc(run_school::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|s| s.school_id)
        .collect();
    let slots = door
        .find::<slot::Entity>()
        .filter(slot::Column::RunId.eq(row.id))
        .order_by_asc(slot::Column::StartsAt)
        .all(conn)
        .await?;
    Ok(Run { row, schools, slots })
}

/// Withdraws a run: its free slots and their EP time are released; booked parents keep their
/// bookings until someone cancels them (the school is told by the booking list).
pub async fn withdraw(db: &Db, caller: &Caller, id: SpaceToTalkRunId, reason: &str) -> DomainResult<Run> {
    let reason = values::required_text("reason", reason, values::MAX_REASON_LEN)?;
    let txn = db::begin_write(db).await?;
    let row = door::for_change::<run::Entity, _>(
        &txn,
        caller,
        id,
        Action::ViewSpaceToTalkSlots,
        Action::PublishSpaceToTalkRuns,
    )
    .await?;
    if row.status != SpaceToTalkRunStatus::Open {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "the run is already withdrawn",
        ));
    }
    let rules = Door::service(&txn, row.service_id);
    let booked = rules
        .find::<stt_booking::Entity>()
        .filter(stt_booking::Column::RunId.eq(row.id))
        .filter(stt_booking::Column::Status.eq(SpaceToTalkStatus::Booked))
        .count(&txn)
        .await?;
    if booked > 0 {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            format!("{booked} parent(s) are booked into this run: cancel or move their bookings first"),
        ));
    }
    let free = rules
        .find::<slot::Entity>()
        .filter(slot::Column::RunId.eq(row.id))
        .filter(slot::Column::Status.eq(SpaceToTalkSlotStatus::Free))
        .all(&txn)
        .await?;
    // Withdrawn by the service, or by the EP (under the service's cancellation policy).
    let on_behalf = if is_admin(caller, row.service_id) {
        CancelledFor::Service
    } else {
        CancelledFor::Ep
    };
    for s in &free {
        if let Some(b) = s.booking_id {
            bookings::cancel_by_id_in(&txn, caller, b, Some(on_behalf), reason.clone()).await?;
        }
    }
    rules
        .update_many::<slot::Entity>()
        .col_expr(
            slot::Column::Status,
            Expr::value(SpaceToTalkSlotStatus::Withdrawn.as_str()),
        )
        .col_expr(slot::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(slot::Column::RunId.eq(row.id))
        .filter(slot::Column::Status.eq(SpaceToTalkSlotStatus::Free))
        .exec(&txn)
        .await?;
    let door = Door::open(&txn, caller, Action::PublishSpaceToTalkRuns).await?;
    let mut active: run::ActiveModel = row.into();
    active.status = Set(SpaceToTalkRunStatus::Cancelled);
    active.updated_at = Set(Utc::now());
    let saved = door.update(active).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("space_to_talk_run.withdraw", "SpaceToTalkRun", saved.id)
            .in_school(saved.service_id, saved.school_id)
            .detail(serde_json::json!({ "slotsReleased": free.len() })),
    )
    .await?;
    let out = load(&txn, saved).await?;
    txn.commit().await?;
    Ok(out)
}

/// Whether the caller is one of the service's administrators (for who cancelled, in which role).
pub(crate) fn is_admin(caller: &Caller, service: ServiceId) -> bool {
    caller.principal.has_role_in_service(Role::ServiceAdmin, service)
}
