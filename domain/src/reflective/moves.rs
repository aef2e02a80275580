//! Changing a scheduled session's time or place. A new time moves the facilitator's booking
//! (and the second facilitator's) as any booking moves, the new time booked before the old is
//! given up, in the session's own transaction: if either booking cannot move, nothing changes.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;

use super::sessions::{Scheduled, co_booking, for_step};
use super::states::Step;
use super::views::assemble;
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::{booking, reflective_session as session};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::ReflectiveSessionId;
use crate::time::bookings;
use crate::values;

#[derive(Clone, Debug, Default)]
pub struct SessionChange {
    pub starts_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
    /// A new room (or "online"); `Some(None)` clears it.
    pub location: Option<Option<String>>,
    pub reason: Option<String>,
}

/// Errors of moving a booking, pointed at the change asked for.
fn move_error(field: &str, e: DomainError) -> DomainError {
    match e {
        DomainError::Invalid(mut errors) => {
            for f in &mut errors {
                if field == "coFacilitatorId" {
                    f.message = format!("the second facilitator: {}", f.message);
                }
                f.field = vec![field.to_owned()];
            }
            DomainError::Invalid(errors)
        }
        other => other,
    }
}

pub async fn change(
    db: &Db,
    caller: &Caller,
    id: ReflectiveSessionId,
    input: SessionChange,
) -> DomainResult<Scheduled> {
    let mut p = Problems::new();
    if let Some(m) = input.duration_minutes
        && !(15..=240).contains(&m)
    {
        p.add(
            "durationMinutes",
            FieldErrorCode::OutOfRange,
            "must be between 15 and 240 minutes",
        );
    }
    let location = input
        .location
        .as_ref()
        .map(|l| p.check(values::optional_text("location", l.as_deref(), 200)).flatten());
    let reason = p
        .check(values::optional_text(
            "reason",
            input.reason.as_deref(),
            values::MAX_REASON_LEN,
        ))
        .flatten()
        .unwrap_or_else(|| "The session moved".to_owned());
    p.finish()?;
    if input.starts_at.is_none() && input.duration_minutes.is_none() && location.is_none() {
        return Err(DomainError::invalid(
            "startsAt",
            FieldErrorCode::Required,
            "give a new time, length or place",
        ));
    }
    let txn = db::begin_write(db).await?;
    let (row, _) = for_step(&txn, caller, id, Action::ScheduleReflectiveSessions, Step::Change).await?;
    let starts_at = input.starts_at.unwrap_or(row.starts_at);
    let length = input
        .duration_minutes
        .map(|m| Duration::minutes(i64::from(m)))
        .unwrap_or(row.ends_at - row.starts_at);
    let ends_at = starts_at + length;
    let moves = starts_at != row.starts_at || ends_at != row.ends_at;
    let co = co_booking(&txn, &row).await?;
    let mut warnings = Vec::new();
    let mut booking_id = row.booking_id;
    let mut moved: Vec<booking::Model> = Vec::new();
    if moves {
        if let Some(b) = row.booking_id {
            let m = bookings::reschedule_in(
                &txn,
                caller,
                bookings::Reschedule {
                    id: b,
                    starts_at,
                    ends_at,
                    ep_id: None,
                    reason: Some(reason.clone()),
                },
            )
            .await
            .map_err(|e| move_error("startsAt", e))?;
            warnings.extend(m.new.warnings);
            booking_id = Some(m.new.booking.id);
            moved.push(m.new.booking);
        }
        if let Some(c) = &co {
            let m = bookings::reschedule_in(
                &txn,
                caller,
                bookings::Reschedule {
                    id: c.id,
                    starts_at,
                    ends_at,
                    ep_id: None,
                    reason: Some(reason.clone()),
                },
            )
            .await
            .map_err(|e| move_error("coFacilitatorId", e))?;
            warnings.extend(m.new.warnings);
            moved.push(m.new.booking);
        }
    }
    // A new place is the bookings' place too (a room is free text: no rule of time depends on it).
    if let Some(l) = &location {
        let door = Door::open(&txn, caller, Action::ManageBookings).await?;
        let mut current: Vec<booking::Model> = moved;
        if !moves {
            for b in row.booking_id.into_iter().chain(co.as_ref().map(|c| c.id)) {
                current.push(Door::service(&txn, row.service_id).get::<booking::Entity>(b).await?);
            }
        }
        for b in current {
            let mut active: booking::ActiveModel = b.into();
            active.location = Set(l.clone());
            active.updated_at = Set(Utc::now());
            door.update(active).await?;
        }
    }
    let before = (row.starts_at, row.ends_at, row.location.clone());
    let mut active: session::ActiveModel = row.into();
    active.starts_at = Set(starts_at);
    active.ends_at = Set(ends_at);
    active.booking_id = Set(booking_id);
    if let Some(l) = &location {
        active.location = Set(l.clone());
    }
    active.updated_at = Set(Utc::now());
    let saved = Door::open(&txn, caller, Action::ScheduleReflectiveSessions)
        .await?
        .update(active)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_session.change", "ReflectiveSession", saved.id)
            .in_school(saved.service_id, saved.school_id)
            .detail(serde_json::json!({
                "from": before.0,
                "to": saved.starts_at,
                "minutes": (saved.ends_at - saved.starts_at).num_minutes(),
                "placeChanged": before.2 != saved.location,
                "bookingId": saved.booking_id,
            })),
    )
    .await?;
    let view = assemble(&txn, caller, vec![saved]).await?;
    txn.commit().await?;
    Ok(Scheduled {
        session: view.into_iter().next().ok_or(DomainError::NotFound)?,
        warnings,
    })
}
