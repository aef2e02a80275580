//! Scheduling, cancelling and holding a session. The facilitator's time is one booking of kind
//! REFLECTIVE_SESSION under the EP-time rules, made in the session's own transaction (for one
//! school, at that school; for a cluster, at no school). At the hold the booking is delivered and
//! the time is charged as the session says: to one school, split evenly, split by attendance, or
//! not at all; the shares are DELIVERED ledger entries that add up exactly to the facilitator's
//! minutes.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use super::states::{self, Step};
use super::views::{SessionView, assemble};
use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{
    reflective_registration as registration, reflective_session as session,
    reflective_session_school as session_school, reflective_session_type as session_type,
};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{
    BookingId, PersonId, ReflectiveRegistrationId, ReflectiveSessionId, ReflectiveSessionSchoolId,
    ReflectiveSessionTypeId, SchoolId,
};
use crate::model::{
    BookingKind, BookingMode, BookingStatus, CancelledFor, FundingStream, LedgerKind, PlaceStatus, ReflectiveCharging,
    ReflectiveStatus, TimeCategory,
};
use crate::time::{self, bookings, contracts, ledger, terms};
use crate::values;

/// The most places a session may have.
pub const MAX_CAPACITY: i32 = 30;

#[derive(Clone, Debug)]
pub struct NewSession {
    pub type_id: ReflectiveSessionTypeId,
    /// One school, or a cluster of the service's schools.
    pub school_ids: Vec<SchoolId>,
    pub starts_at: DateTime<Utc>,
    /// Default: the type's length.
    pub duration_minutes: Option<i32>,
    pub mode: BookingMode,
    pub location: Option<String>,
    /// Default: the caller (an EP).
    pub facilitator_id: Option<PersonId>,
    pub co_facilitator_id: Option<PersonId>,
    /// Default: the type's capacity.
    pub capacity: Option<i32>,
    /// Default: the service's.
    pub charging: Option<ReflectiveCharging>,
    /// For ONE_SCHOOL across a cluster: the school that pays (default: the first).
    pub charged_school_id: Option<SchoolId>,
    pub short_notice_reason: Option<String>,
}

/// A session made, with anything the caller should know from the booking.
pub struct Scheduled {
    pub session: SessionView,
    pub warnings: Vec<String>,
}

/// Errors of the booking, pointed at the session's input.
fn booking_error(e: DomainError) -> DomainError {
    match e {
        DomainError::Invalid(mut errors) => {
            for f in &mut errors {
                if f.field.first().map(String::as_str) == Some("endsAt") {
                    f.field = vec!["durationMinutes".to_owned()];
                }
                if f.field.first().map(String::as_str) == Some("schoolId") {
                    f.field = vec!["schoolIds".to_owned()];
                }
            }
            DomainError::Invalid(errors)
        }
        other => other,
    }
}

/// Errors of the second facilitator's booking, pointed at them.
fn co_booking_error(e: DomainError) -> DomainError {
    match e {
        DomainError::Invalid(mut errors) => {
            for f in &mut errors {
                f.field = vec!["coFacilitatorId".to_owned()];
                f.message = format!("the second facilitator: {}", f.message);
            }
            DomainError::Invalid(errors)
        }
        other => other,
    }
}

pub async fn schedule(db: &Db, caller: &Caller, input: NewSession) -> DomainResult<Scheduled> {
    let txn = db::begin_write(db).await?;
    let made = schedule_in(&txn, caller, input).await?;
    txn.commit().await?;
    Ok(made)
}

/// Schedules a session inside the caller's transaction: its checks, the facilitator's booking
/// (and the second facilitator's), the session and the schools it is open to.
pub(crate) async fn schedule_in(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    input: NewSession,
) -> DomainResult<Scheduled> {
    let mut p = Problems::new();
    let location = p
        .check(values::optional_text("location", input.location.as_deref(), 200))
        .flatten();
    if let Some(c) = input.capacity
        && !(1..=MAX_CAPACITY).contains(&c)
    {
        p.add(
            "capacity",
            FieldErrorCode::OutOfRange,
            format!("must be between 1 and {MAX_CAPACITY}"),
        );
    }
    if let Some(m) = input.duration_minutes
        && !(15..=240).contains(&m)
    {
        p.add(
            "durationMinutes",
            FieldErrorCode::OutOfRange,
            "must be between 15 and 240 minutes",
        );
    }
    let distinct: BTreeSet<SchoolId> = input.school_ids.iter().copied().collect();
    if input.school_ids.is_empty() {
        p.add(
            "schoolIds",
            FieldErrorCode::Required,
            "name the school, or the schools of the cluster",
        );
    } else if distinct.len() != input.school_ids.len() {
        p.add("schoolIds", FieldErrorCode::Invalid, "a school is named twice");
    } else if input.school_ids.len() > 20 {
        p.add(
            "schoolIds",
            FieldErrorCode::OutOfRange,
            "a cluster has at most 20 schools",
        );
    }
    p.finish()?;

    let ty = Door::open(txn, caller, Action::ScheduleReflectiveSessions)
        .await?
        .get::<session_type::Entity>(input.type_id)
        .await
        .map_err(|e| match e {
            DomainError::NotFound => DomainError::invalid("typeId", FieldErrorCode::NotFound, "no such session type"),
            other => other,
        })?;
    let service = ty.service_id;
    let facilitator = match input.facilitator_id.or(caller.principal.person_id()) {
        Some(f) => f,
        None => {
            return Err(DomainError::invalid(
                "facilitatorId",
                FieldErrorCode::Required,
                "name the facilitating EP",
            ));
        }
    };
    if !caller
        .principal
        .static_access(Action::ScheduleReflectiveSessions)
        .permits(service, None, Some(facilitator))
    {
        return Err(caller
            .principal
            .refusal(Action::ScheduleReflectiveSessions, service, None));
    }
    time::require_ep(txn, service, facilitator, "facilitatorId").await?;
    if let Some(co) = input.co_facilitator_id {
        if co == facilitator {
            return Err(DomainError::invalid(
                "coFacilitatorId",
                FieldErrorCode::Invalid,
                "the second facilitator is another EP",
            ));
        }
        time::require_ep(txn, service, co, "coFacilitatorId").await?;
    }
    // Every school must be one of the service's open schools.
    let mut p = Problems::new();
    crate::tenancy::schools::check_open(txn, service, &input.school_ids, "schoolIds", &mut p).await?;
    let cluster = input.school_ids.len() > 1;
    let mut charging = match input.charging {
        Some(c) => c,
        None => super::types::default_charging(txn, service).await?,
    };
    let charged_school = match (charging, input.charged_school_id) {
        (ReflectiveCharging::OneSchool, Some(s)) if !distinct.contains(&s) => {
            p.add(
                "chargedSchoolId",
                FieldErrorCode::Invalid,
                "must be one of the session's schools",
            );
            None
        }
        (ReflectiveCharging::OneSchool, Some(s)) => Some(s),
        (ReflectiveCharging::OneSchool, None) => input.school_ids.first().copied(),
        (_, Some(_)) => {
            p.add(
                "chargedSchoolId",
                FieldErrorCode::Invalid,
                "only a session charged to one school names it",
            );
            None
        }
        (_, None) => None,
    };
    p.finish()?;
    // For one school, any split is that school's whole time.
    if !cluster && charging != ReflectiveCharging::NotCharged {
        charging = ReflectiveCharging::OneSchool;
    }
    let charged_school = if !cluster && charging == ReflectiveCharging::OneSchool {
        input.school_ids.first().copied()
    } else {
        charged_school
    };
    let minutes = input.duration_minutes.unwrap_or(ty.default_minutes);
    let capacity = input.capacity.unwrap_or(ty.default_capacity);
    let single = if cluster {
        None
    } else {
        input.school_ids.first().copied()
    };
    let ends_at = input.starts_at + Duration::minutes(i64::from(minutes));
    let booked = bookings::create_in(
        txn,
        caller,
        bookings::NewBooking {
            service_id: Some(service),
            // A single school's session is its booking; a cluster's (or one not charged) is at
            // no school, and its shares are charged at the hold.
            school_id: single.filter(|_| charging != ReflectiveCharging::NotCharged),
            ep_id: facilitator,
            kind: BookingKind::ReflectiveSession,
            visit_id: None,
            mode: input.mode,
            location: location.clone(),
            starts_at: input.starts_at,
            ends_at,
            preparation_minutes: 0,
            funding_stream: Some(FundingStream::Traded),
            status: BookingStatus::Confirmed,
            overbooking_reason: None,
            short_notice_reason: input.short_notice_reason.clone(),
        },
        None,
    )
    .await
    .map_err(booking_error)?;
    let mut warnings = booked.warnings;
    // The second facilitator's time is a booking too: at no school, never charged (the session's
    // time is the lead facilitator's), held, moved and cancelled with the session.
    if let Some(co) = input.co_facilitator_id {
        let co_booked = bookings::create_in(
            txn,
            caller,
            bookings::NewBooking {
                service_id: Some(service),
                school_id: None,
                ep_id: co,
                kind: BookingKind::ReflectiveSession,
                visit_id: None,
                mode: input.mode,
                location: location.clone(),
                starts_at: input.starts_at,
                ends_at,
                preparation_minutes: 0,
                funding_stream: None,
                status: BookingStatus::Confirmed,
                overbooking_reason: None,
                short_notice_reason: input.short_notice_reason.clone(),
            },
            None,
        )
        .await
        .map_err(co_booking_error)?;
        warnings.extend(co_booked.warnings);
    }
    let now = Utc::now();
    let id = ReflectiveSessionId::new();
    let door = Door::open(txn, caller, Action::ScheduleReflectiveSessions).await?;
    let row = door
        .insert(session::ActiveModel {
            id: Set(id),
            service_id: Set(service),
            type_id: Set(ty.id),
            school_id: Set(single),
            facilitator_id: Set(facilitator),
            co_facilitator_id: Set(input.co_facilitator_id),
            starts_at: Set(input.starts_at),
            ends_at: Set(ends_at),
            mode: Set(input.mode),
            location: Set(location),
            capacity: Set(capacity),
            charging: Set(charging),
            charged_school_id: Set(charged_school),
            booking_id: Set(Some(booked.booking.id)),
            status: Set(ReflectiveStatus::Scheduled),
            created_by: Set(caller.principal.person_id()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    door.insert_all(
        input
            .school_ids
            .iter()
            .map(|s| session_school::ActiveModel {
                id: Set(ReflectiveSessionSchoolId::new()),
                service_id: Set(service),
                session_id: Set(id),
                school_id: Set(*s),
                facilitator_id: Set(facilitator),
            })
            .collect(),
    )
    .await?;
    audit::log(
        txn,
        caller,
        Entry::new("reflective_session.schedule", "ReflectiveSession", id)
            .in_school(service, single)
            .detail(serde_json::json!({
                "bookingId": booked.booking.id,
                "schools": input.school_ids.len(),
                "capacity": capacity,
                "charging": charging.as_str(),
            })),
    )
    .await?;
    let view = assemble(txn, caller, vec![row]).await?;
    Ok(Scheduled {
        session: view.into_iter().next().ok_or(DomainError::NotFound)?,
        warnings,
    })
}

/// A session for a step, locked for the transaction: not found unless the caller sees it,
/// refused unless they may take `action`, refused (naming its state) unless the table allows it.
pub(crate) async fn for_step(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    id: ReflectiveSessionId,
    action: Action,
    step: Step,
) -> DomainResult<(session::Model, ReflectiveStatus)> {
    let row = door::for_change::<session::Entity, _>(txn, caller, id, Action::ViewReflectiveSessions, action).await?;
    let next = states::check(step, row.status)?;
    Ok((row, next))
}

/// The second facilitator's open booking for the session: theirs at exactly its time (an EP is
/// never in two places at once, so there is at most one).
pub(crate) async fn co_booking(
    txn: &impl ConnectionTrait,
    row: &session::Model,
) -> DomainResult<Option<crate::entities::booking::Model>> {
    use crate::entities::booking;
    let Some(co) = row.co_facilitator_id else {
        return Ok(None);
    };
    Ok(Door::service(txn, row.service_id)
        .find::<booking::Entity>()
        .filter(booking::Column::EpId.eq(co))
        .filter(booking::Column::Kind.eq(BookingKind::ReflectiveSession))
        .filter(booking::Column::StartsAt.eq(row.starts_at))
        .filter(booking::Column::EndsAt.eq(row.ends_at))
        .filter(booking::Column::Status.is_in([BookingStatus::Tentative, BookingStatus::Confirmed]))
        .one(txn)
        .await?)
}

async fn save(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    row: session::Model,
    status: ReflectiveStatus,
) -> DomainResult<session::Model> {
    let door = Door::open(txn, caller, Action::ScheduleReflectiveSessions).await?;
    let mut active: session::ActiveModel = row.into();
    active.status = Set(status);
    active.updated_at = Set(Utc::now());
    door.update(active).await
}

/// Cancels a session and its booking (under the cancellation policy; a cluster's booking is at
/// no school, so nothing is charged).
pub async fn cancel(db: &Db, caller: &Caller, id: ReflectiveSessionId, reason: &str) -> DomainResult<SessionView> {
    let reason = values::required_text("reason", reason, values::MAX_REASON_LEN)?;
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::ScheduleReflectiveSessions, Step::Cancel).await?;
    if let Some(b) = row.booking_id {
        bookings::cancel_by_id_in(&txn, caller, b, Some(CancelledFor::Service), reason.clone()).await?;
    }
    if let Some(co) = co_booking(&txn, &row).await? {
        bookings::cancel_by_id_in(&txn, caller, co.id, Some(CancelledFor::Service), reason).await?;
    }
    let saved = save(&txn, caller, row, next).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_session.cancel", "ReflectiveSession", saved.id)
            .in_school(saved.service_id, saved.school_id),
    )
    .await?;
    let view = assemble(&txn, caller, vec![saved]).await?;
    txn.commit().await?;
    view.into_iter().next().ok_or(DomainError::NotFound)
}

/// How many minutes each school is charged: shares that add up exactly to `minutes`.
pub fn shares(
    charging: ReflectiveCharging,
    schools: &[SchoolId],
    charged: Option<SchoolId>,
    attended: &[SchoolId],
    minutes: i64,
) -> Vec<(SchoolId, i64)> {
    let weights: Vec<i64> = match charging {
        ReflectiveCharging::NotCharged => return Vec::new(),
        ReflectiveCharging::OneSchool => schools.iter().map(|s| i64::from(Some(*s) == charged)).collect(),
        ReflectiveCharging::SplitEvenly => vec![1; schools.len()],
        ReflectiveCharging::ByAttendance => {
            let w: Vec<i64> = schools
                .iter()
                .map(|s| attended.iter().filter(|a| *a == s).count() as i64)
                .collect();
            // Nobody attended: the time is still the facilitator's, split evenly.
            if w.iter().sum::<i64>() == 0 {
                vec![1; schools.len()]
            } else {
                w
            }
        }
    };
    schools
        .iter()
        .copied()
        .zip(terms::apportion(minutes, &weights))
        .filter(|(_, m)| *m != 0)
        .collect()
}

/// Records that a session was held: who attended (the places named; the other places did not),
/// the booking delivered (with the minutes spent, default as booked), and the time charged.
pub async fn hold(
    db: &Db,
    caller: &Caller,
    id: ReflectiveSessionId,
    attended: Vec<ReflectiveRegistrationId>,
    direct_minutes: Option<i32>,
) -> DomainResult<SessionView> {
    if let Some(m) = direct_minutes
        && !(0..=24 * 60).contains(&m)
    {
        return Err(DomainError::invalid(
            "directMinutes",
            FieldErrorCode::OutOfRange,
            "must be between 0 and 1440 minutes",
        ));
    }
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::ScheduleReflectiveSessions, Step::Hold).await?;
    let own = caller.principal.person_id() == Some(row.facilitator_id);
    if !own && !caller.principal.has_role_in_service(Role::ServiceAdmin, row.service_id) {
        return Err(DomainError::Refused(
            "Only the facilitating EP, or the service's administrators, may record a session as held.".to_owned(),
        ));
    }
    let rules = Door::service(&txn, row.service_id);
    let places = rules
        .find::<registration::Entity>()
        .filter(registration::Column::SessionId.eq(row.id))
        .filter(registration::Column::Status.eq(PlaceStatus::Registered))
        .all(&txn)
        .await?;
    let mut p = Problems::new();
    for (i, a) in attended.iter().enumerate() {
        if !places.iter().any(|r| r.id == *a) {
            p.add(
                &format!("attended.{i}"),
                FieldErrorCode::NotFound,
                "no such place on this session",
            );
        }
    }
    p.finish()?;
    let door = Door::open(&txn, caller, Action::ScheduleReflectiveSessions).await?;
    for place in &places {
        let mut active: registration::ActiveModel = place.clone().into();
        active.attended = Set(Some(attended.contains(&place.id)));
        active.updated_at = Set(Utc::now());
        door.update(active).await?;
    }
    let booking_id: BookingId = row
        .booking_id
        .ok_or_else(|| DomainError::invalid("id", FieldErrorCode::InvalidState, "the session has no booking"))?;
    let delivered = bookings::deliver_in(
        &txn,
        caller,
        bookings::Delivery {
            id: booking_id,
            direct_minutes,
            preparation_minutes: None,
        },
    )
    .await?;
    if let Some(co) = co_booking(&txn, &row).await? {
        bookings::deliver_in(
            &txn,
            caller,
            bookings::Delivery {
                id: co.id,
                direct_minutes,
                preparation_minutes: None,
            },
        )
        .await?;
    }
    let mut charged = Vec::new();
    // A single school's booking was charged as any booking is; a cluster's shares go here.
    if !bookings::is_chargeable(&delivered) {
        let schools: Vec<SchoolId> = rules
            .find::<session_school::Entity>()
            .filter(session_school::Column::SessionId.eq(row.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| s.school_id)
            .collect();
        let came: Vec<SchoolId> = places
            .iter()
            .filter(|r| attended.contains(&r.id))
            .map(|r| r.school_id)
            .collect();
        charged = shares(
            row.charging,
            &schools,
            row.charged_school_id,
            &came,
            i64::from(delivered.direct_minutes),
        );
        let tz = time::service_zone(&txn, row.service_id).await?;
        let day = time::local_date(tz, delivered.starts_at);
        let ledger_door = Door::open(&txn, caller, Action::RecordDelivery).await?;
        for (school, minutes) in &charged {
            let contract = contracts::covering(&txn, row.service_id, *school, FundingStream::Traded, day).await?;
            ledger::post(
                &ledger_door,
                caller,
                ledger::Account {
                    service_id: row.service_id,
                    school_id: Some(*school),
                    ep_id: Some(row.facilitator_id),
                    contract_id: contract.map(|c| c.row.id),
                    booking_id: Some(booking_id),
                    funding_stream: FundingStream::Traded,
                    applies_on: day,
                },
                LedgerKind::Delivered,
                TimeCategory::Direct,
                *minutes,
                Some("Share of a reflective session".to_owned()),
            )
            .await?;
        }
    }
    let saved = save(&txn, caller, row, next).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_session.hold", "ReflectiveSession", saved.id)
            .in_school(saved.service_id, saved.school_id)
            .detail(serde_json::json!({
                "attended": attended.len(),
                "directMinutes": delivered.direct_minutes,
                "shares": charged.iter().map(|(s, m)| serde_json::json!({ "schoolId": s, "minutes": m })).collect::<Vec<_>>(),
            })),
    )
    .await?;
    let view = assemble(&txn, caller, vec![saved]).await?;
    txn.commit().await?;
    view.into_iter().next().ok_or(DomainError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_minutes() {
        let s: Vec<SchoolId> = (0..3).map(|_| SchoolId::new()).collect();
        let even = shares(ReflectiveCharging::SplitEvenly, &s, None, &[], 100);
        assert_eq!(even.iter().map(|(_, m)| m).sum::<i64>(), 100);
        assert_eq!(even[0].1, 34);
        let by = shares(ReflectiveCharging::ByAttendance, &s, None, &[s[0], s[0], s[1]], 90);
        assert_eq!(by, vec![(s[0], 60), (s[1], 30)]);
        let one = shares(ReflectiveCharging::OneSchool, &s, Some(s[2]), &[], 90);
        assert_eq!(one, vec![(s[2], 90)]);
        assert!(shares(ReflectiveCharging::NotCharged, &s, None, &[], 90).is_empty());
    }
}
