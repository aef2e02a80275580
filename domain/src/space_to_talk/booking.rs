//! Booking a parent or carer into a slot, cancelling and moving, and recording attendance.
//!
//! Taking a slot is one conditional update (`FREE` to `BOOKED`) of the slot's row, inside a
//! write transaction: on PostgreSQL the second of two racing transactions waits for the first
//! and then finds the slot no longer free; on SQLite writers take turns (`BEGIN IMMEDIATE`).
//! A unique partial index on live bookings per slot backs it up. The loser hears that the slot
//! was just taken, with the slots still free.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use super::states::{self, Step};
use super::views::{BookingView, views_of};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry, Who};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{
    booking as ep_time, space_to_talk_booking as booking, space_to_talk_run as run,
    space_to_talk_run_school as run_school, space_to_talk_slot as slot,
};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{PersonId, SchoolId, ServiceId, SpaceToTalkBookingId, SpaceToTalkLinkId, SpaceToTalkSlotId};
use crate::model::{
    CancelledFor, ContactMethod, SpaceToTalkActor, SpaceToTalkBookedVia, SpaceToTalkRunStatus, SpaceToTalkSlotStatus,
    SpaceToTalkStatus,
};
use crate::time::bookings;
use crate::time::ledger::Author;
use crate::values::{self, Email};

/// What a slot taken a moment ago says (a parent's page shows the remaining slots with it).
pub const JUST_TAKEN: &str = "Sorry, that time has just been booked by someone else. Please choose another time.";

/// The least that works to reach a parent: how to call them, a phone number or an email
/// address, which they prefer, and a short topic they agreed to share.
#[derive(Clone, Debug, Default)]
pub struct Parent {
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub preferred_contact: Option<ContactMethod>,
    pub topic: Option<String>,
}

/// A parent's details, checked.
#[derive(Clone, Debug)]
pub(crate) struct Checked {
    display_name: String,
    phone: Option<String>,
    email: Option<String>,
    preferred_contact: ContactMethod,
    topic: Option<String>,
}

/// A UK-style phone number: digits with spaces, dashes, brackets and a leading `+`; 10 to 15
/// digits. Stored as typed, trimmed.
pub fn parse_phone(field: &str, value: &str) -> Result<String, crate::FieldError> {
    let v = value.trim();
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let allowed = v
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')') || (c == '+' && i == 0));
    if allowed && (10..=15).contains(&digits) {
        Ok(v.to_owned())
    } else {
        Err(crate::FieldError::new(
            field,
            FieldErrorCode::Invalid,
            "is not a phone number (10 to 15 digits, for example 07700 900123)",
        ))
    }
}

pub(crate) fn check_parent(input: &Parent) -> DomainResult<Checked> {
    let mut p = Problems::new();
    let name = p.check(values::required_text("displayName", &input.display_name, 80));
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let phone = blank(&input.phone).and_then(|v| p.check(parse_phone("phone", &v)));
    let email = blank(&input.email).and_then(|v| p.check(Email::parse("email", &v).map(Email::into_inner)));
    let topic = p
        .check(values::optional_text("topic", input.topic.as_deref(), 200))
        .flatten();
    let given_phone = blank(&input.phone).is_some();
    let given_email = blank(&input.email).is_some();
    if !given_phone && !given_email {
        p.add(
            "phone",
            FieldErrorCode::Required,
            "give a phone number or an email address, so the EP can reach you",
        );
    }
    let preferred = match input.preferred_contact {
        Some(m) => m,
        None if given_phone => ContactMethod::Phone,
        None => ContactMethod::Email,
    };
    match preferred {
        ContactMethod::Phone if !given_phone && given_email => p.add(
            "preferredContact",
            FieldErrorCode::Invalid,
            "give a phone number to be reached by phone",
        ),
        ContactMethod::Email if !given_email && given_phone => p.add(
            "preferredContact",
            FieldErrorCode::Invalid,
            "give an email address to be reached by email",
        ),
        _ => {}
    }
    p.finish()?;
    Ok(Checked {
        display_name: name.unwrap_or_default(),
        phone,
        email,
        preferred_contact: preferred,
        topic,
    })
}

/// Who is taking the slot.
pub(crate) struct Taker<'a> {
    pub who: Who<'a>,
    pub via: SpaceToTalkBookedVia,
    pub link_id: Option<SpaceToTalkLinkId>,
    pub manage_digest: Option<String>,
    pub created_by: Option<PersonId>,
    pub moved_from: Option<SpaceToTalkBookingId>,
    /// An administrator recording a session already held may take a slot that has started.
    pub records_past: bool,
}

/// Takes a free slot of a run open to `school` for a parent, through `door` (the caller's, or
/// the service's for a parent's link). The slot must be visible to whoever asks; that is the
/// caller's business before this is called.
pub(crate) async fn take<C: ConnectionTrait>(
    door: &Door<'_, C>,
    service: ServiceId,
    school: SchoolId,
    slot_id: SpaceToTalkSlotId,
    parent: Checked,
    taker: Taker<'_>,
) -> DomainResult<booking::Model> {
    let conn = door.conn();
    let rules = Door::service(conn, service);
    let s = rules.get::<slot::Entity>(slot_id).await.map_err(|e| match e {
        DomainError::NotFound => DomainError::invalid("slotId", FieldErrorCode::NotFound, "no such slot"),
        other => other,
    })?;
    let open_to_school = rules
        .find::<run_school::Entity>()
        .filter(run_school::Column::RunId.eq(s.run_id))
        .filter(run_school::Column::SchoolId.eq(school))
        .one(conn)
        .await?
        .is_some();
    if !open_to_school {
        return Err(DomainError::invalid(
            "slotId",
            FieldErrorCode::NotFound,
            "no such slot for this school",
        ));
    }
    let r = rules.get::<run::Entity>(s.run_id).await?;
    if r.status != SpaceToTalkRunStatus::Open || s.status == SpaceToTalkSlotStatus::Withdrawn {
        return Err(DomainError::invalid(
            "slotId",
            FieldErrorCode::InvalidState,
            "these slots have been withdrawn",
        ));
    }
    let now = Utc::now();
    if s.starts_at <= now && !taker.records_past {
        return Err(DomainError::invalid(
            "slotId",
            FieldErrorCode::OutOfRange,
            "this slot has already started",
        ));
    }
    let taken = rules
        .update_many::<slot::Entity>()
        .col_expr(
            slot::Column::Status,
            Expr::value(SpaceToTalkSlotStatus::Booked.as_str()),
        )
        .col_expr(slot::Column::UpdatedAt, Expr::value(now))
        .filter(slot::Column::Id.eq(slot_id))
        .filter(slot::Column::Status.eq(SpaceToTalkSlotStatus::Free))
        .exec(conn)
        .await?;
    if taken.rows_affected != 1 {
        return Err(DomainError::Conflict(JUST_TAKEN.to_owned()));
    }
    // A slot that draws on the school's time holds it again if a late cancellation released it.
    if r.draws_down
        && let Some(held) = s.booking_id
    {
        let b = rules.get::<ep_time::Entity>(held).await?;
        bookings::hold_again(door, author_of(&taker.who), &b).await?;
    }
    let row = door
        .insert(booking::ActiveModel {
            id: Set(SpaceToTalkBookingId::new()),
            service_id: Set(service),
            school_id: Set(school),
            ep_id: Set(s.ep_id),
            run_id: Set(s.run_id),
            slot_id: Set(slot_id),
            starts_at: Set(s.starts_at),
            ends_at: Set(s.ends_at),
            status: Set(SpaceToTalkStatus::Booked),
            display_name: Set(parent.display_name),
            phone: Set(parent.phone),
            email: Set(parent.email),
            preferred_contact: Set(parent.preferred_contact),
            topic: Set(parent.topic),
            booked_via: Set(taker.via),
            link_id: Set(taker.link_id),
            manage_digest: Set(taker.manage_digest),
            safeguarding_concern: Set(false),
            onward_referral: Set(false),
            notes: Set(None),
            notes_consented: Set(false),
            moved_from_id: Set(taker.moved_from),
            moved_to_id: Set(None),
            cancelled_at: Set(None),
            cancelled_by: Set(None),
            cancelled_as: Set(None),
            cancellation_reason: Set(None),
            attendance_recorded_at: Set(None),
            created_by: Set(taker.created_by),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    audit::record(
        conn,
        taker.who,
        Entry::new("space_to_talk_booking.create", "SpaceToTalkBooking", row.id)
            .in_school(service, Some(school))
            .detail(serde_json::json!({
                "slotId": slot_id,
                "via": taker.via.as_str(),
                "linkId": taker.link_id,
                "movedFromId": taker.moved_from,
            })),
    )
    .await?;
    Ok(row)
}

/// Frees a slot whose booking ended: bookable again at once.
pub(crate) async fn free_slot(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    id: SpaceToTalkSlotId,
) -> DomainResult<()> {
    Door::service(conn, service)
        .update_many::<slot::Entity>()
        .col_expr(slot::Column::Status, Expr::value(SpaceToTalkSlotStatus::Free.as_str()))
        .col_expr(slot::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(slot::Column::Id.eq(id))
        .filter(slot::Column::Status.eq(SpaceToTalkSlotStatus::Booked))
        .exec(conn)
        .await?;
    Ok(())
}

/// Who writes the ledger entries of a step: the signed-in caller, or nobody (a parent's link).
pub(crate) fn author_of(who: &Who<'_>) -> Author {
    match who {
        Who::Caller(c) => Author::from(*c),
        Who::Person { person, .. } => Author {
            person: Some(*person),
            partner: None,
        },
        Who::System { .. } | Who::Anonymous { .. } => Author::default(),
    }
}

/// On whose behalf a cancellation in this role is made, under EP time's cancellation policy: a
/// parent's is the school's (their school arranged the session).
pub fn cancelled_for(as_: SpaceToTalkActor) -> CancelledFor {
    match as_ {
        SpaceToTalkActor::Parent | SpaceToTalkActor::School => CancelledFor::School,
        SpaceToTalkActor::Ep => CancelledFor::Ep,
        SpaceToTalkActor::Service => CancelledFor::Service,
    }
}

/// What the ledger says of a charged cancellation: never the reason typed, which may name the
/// parent or the child.
fn ledger_reason(as_: SpaceToTalkActor) -> &'static str {
    match as_ {
        SpaceToTalkActor::Parent => "Space to Talk session cancelled late by the parent",
        _ => "Space to Talk session cancelled late by the school",
    }
}

/// Where the slot draws on the school's time, a cancellation is charged under EP time's
/// cancellation policy as cancelling the slot's booking of EP time would be (late and for the
/// school: what it holds released, the share charged); the slot stays on offer. Answers the
/// minutes charged.
async fn charge_cancellation<C: ConnectionTrait>(
    door: &Door<'_, C>,
    author: Author,
    row: &booking::Model,
    as_: SpaceToTalkActor,
) -> DomainResult<i64> {
    let rules = Door::service(door.conn(), row.service_id);
    if !rules.get::<run::Entity>(row.run_id).await?.draws_down {
        return Ok(0);
    }
    let Some(held) = rules.get::<slot::Entity>(row.slot_id).await?.booking_id else {
        return Ok(0);
    };
    let b = rules.get::<ep_time::Entity>(held).await?;
    bookings::charge_held_use(door, author, &b, cancelled_for(as_), ledger_reason(as_)).await
}

/// Ends a booking (cancelled or moved), keeping who, in which role, when and why; frees its slot.
/// A cancellation is charged where the policy says (see [`charge_cancellation`]); a move is not
/// (the parent still comes). Answers the booking and the minutes charged.
pub(crate) async fn end<C: ConnectionTrait>(
    door: &Door<'_, C>,
    row: booking::Model,
    status: SpaceToTalkStatus,
    author: Author,
    as_: SpaceToTalkActor,
    reason: Option<String>,
    moved_to: Option<SpaceToTalkBookingId>,
) -> DomainResult<(booking::Model, i64)> {
    let charged = if status == SpaceToTalkStatus::Cancelled {
        charge_cancellation(door, author, &row, as_).await?
    } else {
        0
    };
    let service = row.service_id;
    let slot_id = row.slot_id;
    let now = Utc::now();
    let mut active: booking::ActiveModel = row.into();
    active.status = Set(status);
    active.cancelled_at = Set(Some(now));
    active.cancelled_by = Set(author.person);
    active.cancelled_as = Set(Some(as_));
    active.cancellation_reason = Set(reason);
    active.moved_to_id = Set(moved_to);
    active.updated_at = Set(now);
    let saved = door.update(active).await?;
    free_slot(door.conn(), service, slot_id).await?;
    Ok((saved, charged))
}

/// In which role a signed-in caller changes a booking.
fn actor_of(caller: &Caller, b: &booking::Model) -> SpaceToTalkActor {
    if super::runs::is_admin(caller, b.service_id) {
        SpaceToTalkActor::Service
    } else if caller.principal.person_id() == Some(b.ep_id) {
        SpaceToTalkActor::Ep
    } else {
        SpaceToTalkActor::School
    }
}

/// A SENCO (or an administrator) books a parent into a free slot for their school. `school`
/// may be left out when the slot's run is for one school. An administrator may also record a
/// session already held (a slot that has started), as with any booking of EP time.
pub async fn book(
    db: &Db,
    caller: &Caller,
    slot_id: SpaceToTalkSlotId,
    school: Option<SchoolId>,
    parent: Parent,
) -> DomainResult<BookingView> {
    let checked = check_parent(&parent)?;
    let txn = db::begin_write(db).await?;
    let s = Door::open(&txn, caller, Action::ViewSpaceToTalkSlots)
        .await?
        .get::<slot::Entity>(slot_id)
        .await?;
    let service = s.service_id;
    let school = match school {
        Some(x) => x,
        None => {
            let r = Door::service(&txn, service).get::<run::Entity>(s.run_id).await?;
            r.school_id.ok_or_else(|| {
                DomainError::invalid(
                    "schoolId",
                    FieldErrorCode::Required,
                    "say which school the parent is booked for",
                )
            })?
        }
    };
    let door = Door::open(&txn, caller, Action::BookSpaceToTalk).await?;
    if !door.access().permits_school(service, school) {
        return Err(caller.principal.refusal(Action::BookSpaceToTalk, service, Some(school)));
    }
    let row = take(
        &door,
        service,
        school,
        slot_id,
        checked,
        Taker {
            who: Who::Caller(caller),
            via: SpaceToTalkBookedVia::School,
            link_id: None,
            manage_digest: None,
            created_by: caller.principal.person_id(),
            moved_from: None,
            records_past: super::runs::is_admin(caller, service),
        },
    )
    .await?;
    let view = views_of(&txn, Some(caller), vec![row]).await?;
    txn.commit().await?;
    view.into_iter().next().ok_or(DomainError::NotFound)
}

async fn for_step(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    id: SpaceToTalkBookingId,
    action: Action,
    step: Step,
) -> DomainResult<(booking::Model, SpaceToTalkStatus)> {
    let row = door::for_change::<booking::Entity, _>(txn, caller, id, Action::ViewSpaceToTalkBookings, action).await?;
    let next = states::check(step, row.status)?;
    Ok((row, next))
}

/// Cancels a booking (the school, the EP or the service), with a reason; the slot is free again.
pub async fn cancel(db: &Db, caller: &Caller, id: SpaceToTalkBookingId, reason: &str) -> DomainResult<BookingView> {
    let reason = values::required_text("reason", reason, values::MAX_REASON_LEN)?;
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::ChangeSpaceToTalkBookings, Step::Cancel).await?;
    let door = Door::open(&txn, caller, Action::ChangeSpaceToTalkBookings).await?;
    let as_ = actor_of(caller, &row);
    let (saved, charged) = end(&door, row, next, Author::from(caller), as_, Some(reason), None).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("space_to_talk_booking.cancel", "SpaceToTalkBooking", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "as": as_.as_str(), "chargedMinutes": charged })),
    )
    .await?;
    let view = views_of(&txn, Some(caller), vec![saved]).await?;
    txn.commit().await?;
    view.into_iter().next().ok_or(DomainError::NotFound)
}

/// Moves a booking to another free slot for the same school: the new slot is taken first, then
/// the old booking ends as MOVED and its slot is free again. Answers the new booking.
pub async fn move_to(
    db: &Db,
    caller: &Caller,
    id: SpaceToTalkBookingId,
    slot_id: SpaceToTalkSlotId,
    reason: Option<&str>,
) -> DomainResult<BookingView> {
    let reason = values::optional_text("reason", reason, values::MAX_REASON_LEN)?;
    let txn = db::begin_write(db).await?;
    let (row, next) = for_step(&txn, caller, id, Action::ChangeSpaceToTalkBookings, Step::Move).await?;
    if row.slot_id == slot_id {
        return Err(DomainError::invalid(
            "slotId",
            FieldErrorCode::Invalid,
            "the booking is already in this slot",
        ));
    }
    let door = Door::open(&txn, caller, Action::ChangeSpaceToTalkBookings).await?;
    let new = moved(&door, Who::Caller(caller), caller.principal.person_id(), &row, slot_id).await?;
    let as_ = actor_of(caller, &row);
    end(&door, row, next, Author::from(caller), as_, reason, Some(new.id)).await?;
    let view = views_of(&txn, Some(caller), vec![new]).await?;
    txn.commit().await?;
    view.into_iter().next().ok_or(DomainError::NotFound)
}

/// The new booking of a move: the same parent, the same school, another slot.
pub(crate) async fn moved<C: ConnectionTrait>(
    door: &Door<'_, C>,
    who: Who<'_>,
    by: Option<PersonId>,
    row: &booking::Model,
    slot_id: SpaceToTalkSlotId,
) -> DomainResult<booking::Model> {
    super::links::hand_over_manage_link(door, row).await?;
    take(
        door,
        row.service_id,
        row.school_id,
        slot_id,
        Checked {
            display_name: row.display_name.clone(),
            phone: row.phone.clone(),
            email: row.email.clone(),
            preferred_contact: row.preferred_contact,
            topic: row.topic.clone(),
        },
        Taker {
            who,
            via: row.booked_via,
            link_id: row.link_id,
            // The parent's manage link follows their booking.
            manage_digest: row.manage_digest.clone(),
            created_by: by,
            moved_from: Some(row.id),
            records_past: false,
        },
    )
    .await
}

#[derive(Clone, Debug, Default)]
pub struct Attendance {
    pub attended: bool,
    pub safeguarding_concern: Option<bool>,
    pub onward_referral: Option<bool>,
    /// A short note: refused unless the service keeps notes and the parent agreed to one.
    pub notes: Option<String>,
    pub parent_consented_to_notes: Option<bool>,
}

/// The longest note.
pub const MAX_NOTES_LEN: usize = 1000;

/// The EP (or an administrator) records whether the parent came, and the two flags; the slot's
/// booking of EP time is recorded as delivered.
pub async fn record_attendance(
    db: &Db,
    caller: &Caller,
    id: SpaceToTalkBookingId,
    input: Attendance,
) -> DomainResult<BookingView> {
    let notes = values::optional_text("notes", input.notes.as_deref(), MAX_NOTES_LEN)?;
    let txn = db::begin_write(db).await?;
    let step = if input.attended {
        Step::MarkAttended
    } else {
        Step::MarkDidNotAttend
    };
    let (row, next) = for_step(&txn, caller, id, Action::RecordSpaceToTalkAttendance, step).await?;
    let s = Door::service(&txn, row.service_id)
        .get::<slot::Entity>(row.slot_id)
        .await?;
    if s.starts_at > Utc::now() {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "the session has not started yet",
        ));
    }
    if notes.is_some() {
        if !super::settings::of_service(&txn, row.service_id).await?.notes_enabled {
            return Err(DomainError::invalid(
                "notes",
                FieldErrorCode::NotAllowed,
                "this service keeps no notes of Space to Talk sessions: the record is attended or not, and the two flags",
            ));
        }
        if input.parent_consented_to_notes != Some(true) {
            return Err(DomainError::invalid(
                "parentConsentedToNotes",
                FieldErrorCode::Required,
                "keep a note only when the parent agreed to one",
            ));
        }
    }
    let door = Door::open(&txn, caller, Action::RecordSpaceToTalkAttendance).await?;
    let mut active: booking::ActiveModel = row.clone().into();
    active.status = Set(next);
    if notes.is_some() {
        active.notes = Set(notes.clone());
        active.notes_consented = Set(true);
    }
    if let Some(f) = input.safeguarding_concern {
        active.safeguarding_concern = Set(f);
    }
    if let Some(f) = input.onward_referral {
        active.onward_referral = Set(f);
    }
    active.attendance_recorded_at = Set(Some(Utc::now()));
    active.updated_at = Set(Utc::now());
    let saved = door.update(active).await?;
    // The EP's time was spent either way: its booking is delivered (and, where the slot drew
    // on the school's allocation, the ledger moves from booked to delivered).
    if let Some(ep_time) = s.booking_id {
        let held = bookings::get(&txn, caller, ep_time).await?;
        if held.status.is_open() {
            bookings::deliver_in(
                &txn,
                caller,
                bookings::Delivery {
                    id: ep_time,
                    direct_minutes: None,
                    preparation_minutes: None,
                },
            )
            .await?;
        }
    }
    audit::log(
        &txn,
        caller,
        Entry::new("space_to_talk_booking.attendance", "SpaceToTalkBooking", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({
                "status": saved.status.as_str(),
                "safeguardingConcern": saved.safeguarding_concern,
                "onwardReferral": saved.onward_referral,
                "notes": saved.notes.is_some(),
            })),
    )
    .await?;
    let view = views_of(&txn, Some(caller), vec![saved]).await?;
    txn.commit().await?;
    view.into_iter().next().ok_or(DomainError::NotFound)
}
