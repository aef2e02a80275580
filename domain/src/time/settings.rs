//! A service's time settings: the units it sells, its academic calendar (years, terms,
//! half-terms, closures and bank holidays), and its cancellation and overbooking policies.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::DateRange;
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{academic_year, closure, contract, term, time_settings, time_unit};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{AcademicYearId, ClosureId, SchoolId, ServiceId, TermId, TimeUnitId};
use crate::model::{BookingKind, ClosureKind, OverbookingPolicy, SpreadPeriod, TermTimePolicy};
use crate::values::{self, Name};

/// The units a new service starts with; administrators change them to match what they sell.
const DEFAULT_UNITS: &[(&str, i32)] = &[("day", 390), ("half-day", 195), ("session", 180), ("hour", 60)];

/// What schools may book when a service lets them: consultations and planning meetings.
pub const DEFAULT_SCHOOL_KINDS: &[BookingKind] = &[BookingKind::Consultation, BookingKind::PlanningMeeting];

pub fn join_kinds(kinds: &[BookingKind]) -> String {
    let mut names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

/// The kinds schools may book, as the settings row stores them.
pub fn school_kinds(policies: &time_settings::Model) -> Vec<BookingKind> {
    policies
        .school_booking_kinds
        .split_whitespace()
        .filter_map(|k| k.parse().ok())
        .collect()
}

/// Settings and units for a new service.
pub async fn create_defaults(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<()> {
    let now = Utc::now();
    let door = Door::service(conn, service);
    door.insert_quiet(time_settings::ActiveModel {
        service_id: Set(service),
        cancellation_notice_hours: Set(48),
        late_cancellation_charge_percent: Set(100),
        ep_cancellation_requires_alternative: Set(true),
        overbooking_policy: Set(OverbookingPolicy::HardStop),
        travel_buffer_minutes: Set(0),
        minimum_notice_hours: Set(24),
        slot_step_minutes: Set(15),
        even_use_over: Set(SpreadPeriod::Terms),
        under_use_tolerance_percent: Set(15),
        updated_at: Set(now),
        term_time_policy: Set(TermTimePolicy::Refuse),
        schools_may_book: Set(false),
        school_booking_kinds: Set(join_kinds(DEFAULT_SCHOOL_KINDS)),
        school_booking_within_visits: Set(false),
    })
    .await?;
    door.insert_all(
        DEFAULT_UNITS
            .iter()
            .map(|(name, minutes)| time_unit::ActiveModel {
                id: Set(TimeUnitId::new()),
                service_id: Set(service),
                name: Set((*name).to_owned()),
                minutes: Set(*minutes),
                created_at: Set(now),
                archived_at: Set(None),
            })
            .collect(),
    )
    .await
}

/// The settings row, which every service has.
pub async fn policies(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<time_settings::Model> {
    Ok(super::ServiceCalendar::of(conn, service).await?.policies().clone())
}

/// A door for reading a service's settings: not found unless the caller reaches something in it.
async fn viewer<'c, C: ConnectionTrait>(conn: &'c C, caller: &Caller, service: ServiceId) -> DomainResult<Door<'c, C>> {
    let door = Door::open(conn, caller, Action::ViewTimeSettings).await?;
    if door.access().touches_service(service) {
        Ok(door)
    } else {
        Err(DomainError::NotFound)
    }
}

pub async fn get(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
) -> DomainResult<time_settings::Model> {
    viewer(conn, caller, service)
        .await?
        .get::<time_settings::Entity>(service)
        .await
}

#[derive(Clone, Debug, Default)]
pub struct PolicyPatch {
    pub cancellation_notice_hours: Option<i32>,
    pub late_cancellation_charge_percent: Option<i32>,
    pub ep_cancellation_requires_alternative: Option<bool>,
    pub overbooking_policy: Option<OverbookingPolicy>,
    pub travel_buffer_minutes: Option<i32>,
    pub minimum_notice_hours: Option<i32>,
    pub slot_step_minutes: Option<i32>,
    pub even_use_over: Option<SpreadPeriod>,
    pub under_use_tolerance_percent: Option<i32>,
    pub term_time_policy: Option<TermTimePolicy>,
    pub schools_may_book: Option<bool>,
    pub school_booking_kinds: Option<Vec<BookingKind>>,
    pub school_booking_within_visits: Option<bool>,
}

fn bounded(problems: &mut Problems, field: &str, value: Option<i32>, min: i32, max: i32) -> Option<i32> {
    let v = value?;
    if v < min || v > max {
        problems.add(
            field,
            FieldErrorCode::OutOfRange,
            format!("must be between {min} and {max}"),
        );
        return None;
    }
    Some(v)
}

pub async fn update(
    db: &Db,
    caller: &Caller,
    service: ServiceId,
    patch: PolicyPatch,
) -> DomainResult<time_settings::Model> {
    caller
        .principal
        .require_service_wide(Action::ManageTimeSettings, service)?;
    let mut p = Problems::new();
    let notice = bounded(
        &mut p,
        "cancellationNoticeHours",
        patch.cancellation_notice_hours,
        0,
        24 * 28,
    );
    let charge = bounded(
        &mut p,
        "lateCancellationChargePercent",
        patch.late_cancellation_charge_percent,
        0,
        100,
    );
    let buffer = bounded(&mut p, "travelBufferMinutes", patch.travel_buffer_minutes, 0, 240);
    let min_notice = bounded(&mut p, "minimumNoticeHours", patch.minimum_notice_hours, 0, 24 * 60);
    let step = bounded(&mut p, "slotStepMinutes", patch.slot_step_minutes, 5, 120);
    if let Some(s) = step
        && 60 % s != 0
        && s % 60 != 0
    {
        p.add(
            "slotStepMinutes",
            FieldErrorCode::Invalid,
            "must divide an hour (5, 10, 15, 20, 30, 60...)",
        );
    }
    let tolerance = bounded(
        &mut p,
        "underUseTolerancePercent",
        patch.under_use_tolerance_percent,
        0,
        100,
    );
    if let Some(kinds) = &patch.school_booking_kinds {
        if kinds.is_empty() {
            p.add(
                "schoolBookingKinds",
                FieldErrorCode::Required,
                "name at least one kind, or set schoolsMayBook to false",
            );
        }
        if kinds.contains(&BookingKind::Visit) {
            p.add(
                "schoolBookingKinds",
                FieldErrorCode::NotAllowed,
                "visits are planned by the service, not booked by schools",
            );
        }
    }
    p.finish()?;
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManageTimeSettings).await?;
    let mut row: time_settings::ActiveModel = door.get::<time_settings::Entity>(service).await?.into();
    if let Some(v) = patch.term_time_policy {
        row.term_time_policy = Set(v);
    }
    if let Some(v) = patch.schools_may_book {
        row.schools_may_book = Set(v);
    }
    if let Some(v) = &patch.school_booking_kinds {
        row.school_booking_kinds = Set(join_kinds(v));
    }
    if let Some(v) = patch.school_booking_within_visits {
        row.school_booking_within_visits = Set(v);
    }
    if let Some(v) = notice {
        row.cancellation_notice_hours = Set(v);
    }
    if let Some(v) = charge {
        row.late_cancellation_charge_percent = Set(v);
    }
    if let Some(v) = patch.ep_cancellation_requires_alternative {
        row.ep_cancellation_requires_alternative = Set(v);
    }
    if let Some(v) = patch.overbooking_policy {
        row.overbooking_policy = Set(v);
    }
    if let Some(v) = buffer {
        row.travel_buffer_minutes = Set(v);
    }
    if let Some(v) = min_notice {
        row.minimum_notice_hours = Set(v);
    }
    if let Some(v) = step {
        row.slot_step_minutes = Set(v);
    }
    if let Some(v) = patch.even_use_over {
        row.even_use_over = Set(v);
    }
    if let Some(v) = tolerance {
        row.under_use_tolerance_percent = Set(v);
    }
    row.updated_at = Set(Utc::now());
    let saved = door.update(row).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("time_settings.update", "Service", service).in_service(service),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

// ---- units ----

pub async fn units(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
) -> DomainResult<Vec<time_unit::Model>> {
    Ok(viewer(conn, caller, service)
        .await?
        .find::<time_unit::Entity>()
        .filter(time_unit::Column::ServiceId.eq(service))
        .order_by_asc(time_unit::Column::Minutes)
        .all(conn)
        .await?)
}

/// A unit of the service (archived ones included, since old contracts use them).
pub async fn unit(conn: &impl ConnectionTrait, service: ServiceId, id: TimeUnitId) -> DomainResult<time_unit::Model> {
    Door::service(conn, service).get::<time_unit::Entity>(id).await
}

/// A unit, for someone who can see the service's settings.
pub async fn find_unit(conn: &impl ConnectionTrait, caller: &Caller, id: TimeUnitId) -> DomainResult<time_unit::Model> {
    Door::open(conn, caller, Action::ViewTimeSettings)
        .await?
        .get::<time_unit::Entity>(id)
        .await
}

fn unit_minutes(minutes: i32) -> Result<i32, crate::FieldError> {
    values::minutes_in("minutes", minutes.into(), 5, 24 * 60)
}

/// Adds a unit the service sells, such as a 390-minute day.
pub async fn create_unit(
    db: &Db,
    caller: &Caller,
    service: ServiceId,
    name: &str,
    minutes: i32,
) -> DomainResult<time_unit::Model> {
    caller
        .principal
        .require_service_wide(Action::ManageTimeSettings, service)?;
    crate::parse_all!(name = Name::parse("name", name), minutes = unit_minutes(minutes));
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManageTimeSettings).await?;
    let taken = door
        .find::<time_unit::Entity>()
        .filter(time_unit::Column::ServiceId.eq(service))
        .filter(time_unit::Column::Name.eq(name.as_str()))
        .count(&txn)
        .await?;
    if taken > 0 {
        return Err(DomainError::invalid(
            "name",
            FieldErrorCode::Taken,
            "the service already has a unit with this name",
        ));
    }
    let row = door
        .insert(time_unit::ActiveModel {
            id: Set(TimeUnitId::new()),
            service_id: Set(service),
            name: Set(name.into_inner()),
            minutes: Set(minutes),
            created_at: Set(Utc::now()),
            archived_at: Set(None),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("time_unit.create", "TimeUnit", row.id).in_service(service),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Changes a unit's size or archives it. Contracts keep the minutes they were sold with.
pub async fn update_unit(
    db: &Db,
    caller: &Caller,
    id: TimeUnitId,
    minutes: Option<i32>,
    archived: Option<bool>,
) -> DomainResult<time_unit::Model> {
    let minutes = minutes.map(unit_minutes).transpose()?;
    let txn = db::begin_write(db).await?;
    let current = door::for_change::<time_unit::Entity, _>(
        &txn,
        caller,
        id,
        Action::ViewTimeSettings,
        Action::ManageTimeSettings,
    )
    .await?;
    let service = current.service_id;
    let mut row: time_unit::ActiveModel = current.into();
    if let Some(m) = minutes {
        row.minutes = Set(m);
    }
    match archived {
        Some(true) => row.archived_at = Set(Some(Utc::now())),
        Some(false) => row.archived_at = Set(None),
        None => {}
    }
    let saved = Door::open(&txn, caller, Action::ManageTimeSettings)
        .await?
        .update(row)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("time_unit.update", "TimeUnit", id).in_service(service),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

// ---- academic calendar ----

pub struct NewTerm {
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub half_terms: Vec<NewTerm>,
}

pub struct NewAcademicYear {
    pub service_id: ServiceId,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub terms: Vec<NewTerm>,
}

/// A year with its terms, each with its half-terms, in date order.
#[derive(Clone, Debug)]
pub struct AcademicYear {
    pub year: academic_year::Model,
    pub terms: Vec<(term::Model, Vec<term::Model>)>,
}

/// Checks that `parts` lie inside `outer`, in order, without overlapping.
fn check_parts(problems: &mut Problems, field: &str, outer: &DateRange, parts: &[NewTerm]) -> Vec<Option<DateRange>> {
    let mut previous: Option<DateRange> = None;
    let mut ranges = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let here = format!("{field}.{i}");
        if let Err(e) = Name::parse(&format!("{here}.name"), &part.name) {
            problems.add(&e.field.join("."), e.code, e.message);
        }
        let Ok(range) = DateRange::new(&format!("{here}.endsOn"), part.starts_on, part.ends_on) else {
            problems.add(
                &format!("{here}.endsOn"),
                FieldErrorCode::OutOfRange,
                "must not end before it starts",
            );
            ranges.push(None);
            continue;
        };
        if !range.within(outer) {
            problems.add(&here, FieldErrorCode::OutOfRange, "must lie within the dates around it");
        }
        if let Some(prev) = previous
            && range.starts_on <= prev.ends_on
        {
            problems.add(
                &format!("{here}.startsOn"),
                FieldErrorCode::OutOfRange,
                "must start after the one before it ends",
            );
        }
        previous = Some(range);
        ranges.push(Some(range));
    }
    ranges
}

pub async fn create_academic_year(db: &Db, caller: &Caller, input: NewAcademicYear) -> DomainResult<AcademicYear> {
    caller
        .principal
        .require_service_wide(Action::ManageTimeSettings, input.service_id)?;
    crate::parse_all!(
        starts = super::Day::parse("startsOn", input.starts_on),
        ends = super::Day::parse("endsOn", input.ends_on)
    );
    let mut problems = Problems::new();
    let name = problems.check(Name::parse("name", &input.name));
    let year = DateRange::new("endsOn", starts.get(), ends.get())?;
    if year.days() > 400 {
        problems.add(
            "endsOn",
            FieldErrorCode::OutOfRange,
            "an academic year lasts at most 400 days",
        );
    }
    if input.terms.len() > 6 {
        problems.add("terms", FieldErrorCode::OutOfRange, "at most six terms");
    }
    check_parts(&mut problems, "terms", &year, &input.terms);
    for (i, t) in input.terms.iter().enumerate() {
        if let Ok(range) = DateRange::new("", t.starts_on, t.ends_on) {
            check_parts(&mut problems, &format!("terms.{i}.halfTerms"), &range, &t.half_terms);
        }
    }
    problems.finish()?;
    let Some(name) = name else {
        return Err(DomainError::invalid(
            "name",
            FieldErrorCode::Required,
            "must not be empty",
        ));
    };
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManageTimeSettings).await?;
    // The service's row is held, so that years added at the same moment are checked in turn.
    door.find::<crate::entities::service::Entity>()
        .filter(crate::entities::service::Column::Id.eq(input.service_id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let existing = door
        .find::<academic_year::Entity>()
        .filter(academic_year::Column::ServiceId.eq(input.service_id))
        .all(&txn)
        .await?;
    if existing.iter().any(|y| y.name == name.as_str()) {
        return Err(DomainError::invalid(
            "name",
            FieldErrorCode::Taken,
            "the service already has an academic year with this name",
        ));
    }
    if existing.iter().any(|y| {
        DateRange {
            starts_on: y.starts_on,
            ends_on: y.ends_on,
        }
        .overlaps(&year)
    }) {
        return Err(DomainError::invalid(
            "startsOn",
            FieldErrorCode::OutOfRange,
            "overlaps another academic year",
        ));
    }
    let year_row = door
        .insert(academic_year::ActiveModel {
            id: Set(AcademicYearId::new()),
            service_id: Set(input.service_id),
            name: Set(name.into_inner()),
            starts_on: Set(input.starts_on),
            ends_on: Set(input.ends_on),
            created_at: Set(Utc::now()),
        })
        .await?;
    let mut terms = Vec::new();
    for t in input.terms {
        let term_row = insert_term(&door, &year_row, None, &t).await?;
        let mut halves = Vec::new();
        for h in &t.half_terms {
            halves.push(insert_term(&door, &year_row, Some(term_row.id), h).await?);
        }
        terms.push((term_row, halves));
    }
    audit::log(
        &txn,
        caller,
        Entry::new("academic_year.create", "AcademicYear", year_row.id).in_service(input.service_id),
    )
    .await?;
    txn.commit().await?;
    Ok(AcademicYear { year: year_row, terms })
}

async fn insert_term(
    door: &Door<'_, impl ConnectionTrait>,
    year: &academic_year::Model,
    parent: Option<TermId>,
    t: &NewTerm,
) -> DomainResult<term::Model> {
    door.insert(term::ActiveModel {
        id: Set(TermId::new()),
        service_id: Set(year.service_id),
        academic_year_id: Set(year.id),
        parent_term_id: Set(parent),
        name: Set(t.name.trim().to_owned()),
        starts_on: Set(t.starts_on),
        ends_on: Set(t.ends_on),
    })
    .await
}

/// Years with their terms, read through the door the years came through.
async fn assemble(
    door: &Door<'_, impl ConnectionTrait>,
    years: Vec<academic_year::Model>,
) -> DomainResult<Vec<AcademicYear>> {
    let ids: Vec<AcademicYearId> = years.iter().map(|y| y.id).collect();
    let all_terms = door
        .find::<term::Entity>()
        .filter(term::Column::AcademicYearId.is_in(ids))
        .order_by_asc(term::Column::StartsOn)
        .all(door.conn())
        .await?;
    Ok(years
        .into_iter()
        .map(|year| {
            let terms = all_terms
                .iter()
                .filter(|t| t.academic_year_id == year.id && t.parent_term_id.is_none())
                .map(|t| {
                    let halves = all_terms
                        .iter()
                        .filter(|h| h.parent_term_id == Some(t.id))
                        .cloned()
                        .collect();
                    (t.clone(), halves)
                })
                .collect();
            AcademicYear { year, terms }
        })
        .collect())
}

pub async fn academic_years(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
) -> DomainResult<Vec<AcademicYear>> {
    let door = viewer(conn, caller, service).await?;
    let years = door
        .find::<academic_year::Entity>()
        .filter(academic_year::Column::ServiceId.eq(service))
        .order_by_asc(academic_year::Column::StartsOn)
        .all(conn)
        .await?;
    assemble(&door, years).await
}

/// One academic year of the service, with its terms.
pub async fn academic_year(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    id: AcademicYearId,
) -> DomainResult<AcademicYear> {
    let door = Door::service(conn, service);
    let year = door.get::<academic_year::Entity>(id).await?;
    assemble(&door, vec![year]).await?.pop().ok_or(DomainError::NotFound)
}

/// An academic year, for someone who can see the service's settings.
pub async fn find_academic_year(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: AcademicYearId,
) -> DomainResult<AcademicYear> {
    let door = Door::open(conn, caller, Action::ViewTimeSettings).await?;
    let row = door.get::<academic_year::Entity>(id).await?;
    assemble(&door, vec![row]).await?.pop().ok_or(DomainError::NotFound)
}

/// Removes an academic year no contract refers to.
pub async fn delete_academic_year(db: &Db, caller: &Caller, id: AcademicYearId) -> DomainResult<()> {
    let txn = db::begin_write(db).await?;
    let year = door::for_change::<academic_year::Entity, _>(
        &txn,
        caller,
        id,
        Action::ViewTimeSettings,
        Action::ManageTimeSettings,
    )
    .await?;
    let door = Door::open(&txn, caller, Action::ManageTimeSettings).await?;
    let used = Door::service(&txn, year.service_id)
        .find::<contract::Entity>()
        .filter(contract::Column::AcademicYearId.eq(id))
        .count(&txn)
        .await?;
    if used > 0 {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::NotAllowed,
            "contracts refer to this academic year",
        ));
    }
    door.delete_many::<term::Entity>()
        .filter(term::Column::AcademicYearId.eq(id))
        .filter(term::Column::ParentTermId.is_not_null())
        .exec(&txn)
        .await?;
    door.delete_many::<term::Entity>()
        .filter(term::Column::AcademicYearId.eq(id))
        .exec(&txn)
        .await?;
    door.delete_many::<academic_year::Entity>()
        .filter(academic_year::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("academic_year.delete", "AcademicYear", id).in_service(year.service_id),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---- closures ----

pub struct NewClosure {
    pub service_id: ServiceId,
    pub school_id: Option<SchoolId>,
    pub kind: ClosureKind,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub reason: Option<String>,
}

pub async fn add_closure(db: &Db, caller: &Caller, input: NewClosure) -> DomainResult<closure::Model> {
    caller
        .principal
        .require_service_wide_for(Action::ManageTimeSettings, input.service_id, input.school_id)?;
    crate::parse_all!(
        starts = super::Day::parse("startsOn", input.starts_on),
        ends = super::Day::parse("endsOn", input.ends_on)
    );
    let range = DateRange::new("endsOn", starts.get(), ends.get())?;
    if range.days() > 366 {
        return Err(DomainError::invalid(
            "endsOn",
            FieldErrorCode::OutOfRange,
            "a closure lasts at most a year",
        ));
    }
    let reason = values::optional_text("reason", input.reason.as_deref(), values::MAX_REASON_LEN)?;
    match (input.kind, input.school_id) {
        (ClosureKind::SchoolClosure, None) => {
            return Err(DomainError::invalid(
                "schoolId",
                FieldErrorCode::Required,
                "a school closure names its school",
            ));
        }
        (ClosureKind::BankHoliday | ClosureKind::ServiceClosure, Some(_)) => {
            return Err(DomainError::invalid(
                "schoolId",
                FieldErrorCode::Invalid,
                "only a school closure names a school",
            ));
        }
        _ => {}
    }
    let txn = db::begin_write(db).await?;
    if let Some(s) = input.school_id {
        crate::tenancy::schools::require_in_service(&txn, input.service_id, s, "schoolId").await?;
    }
    let row = Door::open(&txn, caller, Action::ManageTimeSettings)
        .await?
        .insert(closure::ActiveModel {
            id: Set(ClosureId::new()),
            service_id: Set(input.service_id),
            school_id: Set(input.school_id),
            kind: Set(input.kind),
            starts_on: Set(input.starts_on),
            ends_on: Set(input.ends_on),
            reason: Set(reason),
            created_at: Set(Utc::now()),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("closure.create", "Closure", row.id).in_school(input.service_id, input.school_id),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A closure, for someone who can see the service's settings (and its school, for a school's).
pub async fn find_closure(conn: &impl ConnectionTrait, caller: &Caller, id: ClosureId) -> DomainResult<closure::Model> {
    Door::open(conn, caller, Action::ViewTimeSettings)
        .await?
        .get::<closure::Entity>(id)
        .await
}

pub async fn remove_closure(db: &Db, caller: &Caller, id: ClosureId) -> DomainResult<()> {
    let txn = db::begin_write(db).await?;
    let row =
        door::for_change::<closure::Entity, _>(&txn, caller, id, Action::ViewTimeSettings, Action::ManageTimeSettings)
            .await?;
    Door::open(&txn, caller, Action::ManageTimeSettings)
        .await?
        .delete_many::<closure::Entity>()
        .filter(closure::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("closure.delete", "Closure", id).in_school(row.service_id, row.school_id),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn closures(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
    range: DateRange,
) -> DomainResult<Vec<closure::Model>> {
    // School closures are only shown to those who can see the school.
    Ok(viewer(conn, caller, service)
        .await?
        .find::<closure::Entity>()
        .filter(closure::Column::ServiceId.eq(service))
        .filter(closure::Column::StartsOn.lte(range.ends_on))
        .filter(closure::Column::EndsOn.gte(range.starts_on))
        .order_by_asc(closure::Column::StartsOn)
        .all(conn)
        .await?)
}
