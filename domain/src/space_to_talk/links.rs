//! A school's booking link for parents, and a parent's manage link for their own booking.
//!
//! A link is a 256-bit random token; only its SHA-256 digest is stored, so the database cannot
//! give it away and a guessed token finds nothing. A booking link opens one school's free
//! slots until it expires or is revoked; booking through it gives the parent a manage link
//! that opens their booking alone, to cancel or move it. A wrong, expired or revoked link is
//! not found, exactly like one that never existed. Neither works for anything else: they are
//! not credentials for the API.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};

use super::booking::{Parent, Taker, check_parent, end, moved, take};
use super::states::{self, Step};
use super::views::{BookingView, SlotView, free_for_school, views_of};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry, Who};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{school, service, space_to_talk_booking as stt_booking, space_to_talk_link as link};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{SchoolId, SpaceToTalkLinkId, SpaceToTalkSlotId};
use crate::model::{SchoolStatus, SpaceToTalkActor, SpaceToTalkBookedVia, SpaceToTalkStatus};
use crate::secrets;
use crate::time;
use crate::time::ledger::Author;

/// The prefix of a school's booking link token.
pub const LINK_PREFIX: &str = "stl_";
/// The prefix of a parent's manage link token.
pub const MANAGE_PREFIX: &str = "stm_";
/// How far ahead a parent sees free slots.
pub const PARENT_WEEKS: i64 = 12;
/// How long after its session a manage link still shows the booking.
pub const MANAGE_AFTER_DAYS: i64 = 30;

/// A link just issued: the token is shown once, here, and never again.
#[derive(Clone, Debug)]
pub struct Issued {
    pub link: link::Model,
    pub token: String,
}

/// Issues a booking link for a school's parents, valid for `valid_days` (SENCOs of the school
/// and administrators).
pub async fn issue(db: &Db, caller: &Caller, school_id: SchoolId, valid_days: i32) -> DomainResult<Issued> {
    if !(1..=90).contains(&valid_days) {
        return Err(DomainError::invalid(
            "validDays",
            FieldErrorCode::OutOfRange,
            "a link lasts 1 to 90 days",
        ));
    }
    let txn = db::begin_write(db).await?;
    let s = Door::seen(&txn, caller).get::<school::Entity>(school_id).await?;
    let door = Door::open(&txn, caller, Action::IssueSpaceToTalkLinks).await?;
    if !door.access().permits_school(s.service_id, s.id) {
        return Err(caller
            .principal
            .refusal(Action::IssueSpaceToTalkLinks, s.service_id, Some(s.id)));
    }
    if s.status != SchoolStatus::Open {
        return Err(DomainError::invalid(
            "schoolId",
            FieldErrorCode::InvalidState,
            "the school is not open",
        ));
    }
    let token = secrets::new_token(LINK_PREFIX);
    let now = Utc::now();
    let row = door
        .insert(link::ActiveModel {
            id: Set(SpaceToTalkLinkId::new()),
            service_id: Set(s.service_id),
            school_id: Set(s.id),
            token_digest: Set(secrets::token_digest(&token)),
            expires_at: Set(now + Duration::days(i64::from(valid_days))),
            revoked_at: Set(None),
            created_by: Set(caller.principal.person_id()),
            created_at: Set(now),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("space_to_talk_link.issue", "SpaceToTalkLink", row.id)
            .in_school(row.service_id, Some(row.school_id))
            .detail(serde_json::json!({ "validDays": valid_days })),
    )
    .await?;
    txn.commit().await?;
    Ok(Issued { link: row, token })
}

/// The most links one list shows (newest first).
pub const MAX_LISTED: u64 = 100;

/// A school's booking links, newest first: when each was issued, by whom, until when, and
/// whether it was revoked (never the token: only its digest is stored, and that stays inside).
/// For those who issue them: the school's SENCOs and the service's administrators.
pub async fn list(conn: &impl ConnectionTrait, caller: &Caller, school_id: SchoolId) -> DomainResult<Vec<link::Model>> {
    let s = Door::seen(conn, caller).get::<school::Entity>(school_id).await?;
    let door = Door::open(conn, caller, Action::IssueSpaceToTalkLinks).await?;
    if !door.access().permits_school(s.service_id, s.id) {
        return Err(caller
            .principal
            .refusal(Action::IssueSpaceToTalkLinks, s.service_id, Some(s.id)));
    }
    Ok(door
        .find::<link::Entity>()
        .filter(link::Column::SchoolId.eq(s.id))
        .order_by_desc(link::Column::CreatedAt)
        .order_by_desc(link::Column::Id)
        .limit(MAX_LISTED)
        .all(conn)
        .await?)
}

/// Revokes a booking link at once (bookings already made through it stay).
pub async fn revoke(db: &Db, caller: &Caller, id: SpaceToTalkLinkId) -> DomainResult<link::Model> {
    let txn = db::begin_write(db).await?;
    let row = door::for_change::<link::Entity, _>(
        &txn,
        caller,
        id,
        Action::IssueSpaceToTalkLinks,
        Action::IssueSpaceToTalkLinks,
    )
    .await?;
    if row.revoked_at.is_some() {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "the link is already revoked",
        ));
    }
    let door = Door::open(&txn, caller, Action::IssueSpaceToTalkLinks).await?;
    let mut active: link::ActiveModel = row.into();
    active.revoked_at = Set(Some(Utc::now()));
    let saved = door.update(active).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("space_to_talk_link.revoke", "SpaceToTalkLink", saved.id)
            .in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// A live booking link, with what its page shows.
#[derive(Clone, Debug)]
pub struct Opened {
    pub link: link::Model,
    pub school_name: String,
    pub service_name: String,
    pub zone: Tz,
}

fn plausible(token: &str, prefix: &str) -> bool {
    token.starts_with(prefix)
        && token.len() <= 100
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

async fn place_of(conn: &impl ConnectionTrait, row: &link::Model) -> DomainResult<(school::Model, String, Tz)> {
    let door = Door::service(conn, row.service_id);
    let s = door.get::<school::Entity>(row.school_id).await?;
    let svc = door.get::<service::Entity>(row.service_id).await?;
    let zone = time::service_zone(conn, row.service_id).await?;
    Ok((s, svc.name, zone))
}

/// The booking link a token opens: not found when wrong, expired, revoked, or for a school that
/// is no longer open.
pub async fn open(conn: &impl ConnectionTrait, token: &str) -> DomainResult<Opened> {
    if !plausible(token, LINK_PREFIX) {
        return Err(DomainError::NotFound);
    }
    let row = door::by_credential::<link::Entity, _>(conn, link::Column::TokenDigest, &secrets::token_digest(token))
        .await?
        .ok_or(DomainError::NotFound)?;
    if row.revoked_at.is_some() || row.expires_at <= Utc::now() {
        return Err(DomainError::NotFound);
    }
    let (s, service_name, zone) = place_of(conn, &row).await?;
    if s.status != SchoolStatus::Open {
        return Err(DomainError::NotFound);
    }
    Ok(Opened {
        school_name: s.name,
        service_name,
        zone,
        link: row,
    })
}

/// The free slots a booking link shows: its school's, for the next weeks.
pub async fn slots(conn: &impl ConnectionTrait, opened: &Opened) -> DomainResult<Vec<SlotView>> {
    free_for_school(
        conn,
        opened.link.service_id,
        opened.link.school_id,
        Utc::now() + Duration::weeks(PARENT_WEEKS),
    )
    .await
}

/// A booking a parent made, with the manage link's token (shown once).
#[derive(Clone, Debug)]
pub struct ParentBooked {
    pub booking: BookingView,
    pub manage_token: String,
}

/// A parent books a free slot through the school's link.
pub async fn book(
    db: &Db,
    token: &str,
    slot_id: SpaceToTalkSlotId,
    parent: Parent,
    request_id: &str,
) -> DomainResult<ParentBooked> {
    let txn = db::begin_write(db).await?;
    let opened = open(&txn, token).await?;
    let checked = check_parent(&parent)?;
    let manage_token = secrets::new_token(MANAGE_PREFIX);
    let service = opened.link.service_id;
    let row = take(
        &Door::service(&txn, service),
        service,
        opened.link.school_id,
        slot_id,
        checked,
        Taker {
            who: Who::Anonymous { request_id },
            via: SpaceToTalkBookedVia::ParentLink,
            link_id: Some(opened.link.id),
            manage_digest: Some(secrets::token_digest(&manage_token)),
            created_by: None,
            moved_from: None,
            records_past: false,
        },
    )
    .await?;
    let view = views_of(&txn, None, vec![row]).await?;
    txn.commit().await?;
    Ok(ParentBooked {
        booking: view.into_iter().next().ok_or(DomainError::NotFound)?,
        manage_token,
    })
}

/// A parent's booking, as their manage link shows it.
#[derive(Clone, Debug)]
pub struct Managed {
    pub booking: BookingView,
    pub school_name: String,
    pub service_name: String,
    pub zone: Tz,
    /// Whether it can still be cancelled or moved.
    pub changeable: bool,
}

async fn managed_row(conn: &impl ConnectionTrait, token: &str) -> DomainResult<stt_booking::Model> {
    if !plausible(token, MANAGE_PREFIX) {
        return Err(DomainError::NotFound);
    }
    let row = door::by_credential::<stt_booking::Entity, _>(
        conn,
        stt_booking::Column::ManageDigest,
        &secrets::token_digest(token),
    )
    .await?
    .ok_or(DomainError::NotFound)?;
    if row.ends_at + Duration::days(MANAGE_AFTER_DAYS) <= Utc::now() {
        return Err(DomainError::NotFound);
    }
    Ok(row)
}

fn changeable(row: &stt_booking::Model, now: DateTime<Utc>) -> bool {
    row.status == SpaceToTalkStatus::Booked && row.starts_at > now
}

/// The booking a manage link opens (its parent's alone), recorded in the audit log as read.
pub async fn manage(conn: &impl ConnectionTrait, token: &str, request_id: &str) -> DomainResult<Managed> {
    let row = managed_row(conn, token).await?;
    let (s, service_name, zone) = place_of(
        conn,
        &link::Model {
            id: SpaceToTalkLinkId::new(),
            service_id: row.service_id,
            school_id: row.school_id,
            token_digest: String::new(),
            expires_at: row.ends_at,
            revoked_at: None,
            created_by: None,
            created_at: row.created_at,
        },
    )
    .await?;
    audit::record(
        conn,
        Who::Anonymous { request_id },
        Entry::new("space_to_talk_booking.read", "SpaceToTalkBooking", row.id)
            .in_school(row.service_id, Some(row.school_id))
            .detail(serde_json::json!({ "via": "manage_link" })),
    )
    .await?;
    let is_changeable = changeable(&row, Utc::now());
    let view = views_of(conn, None, vec![row]).await?;
    Ok(Managed {
        booking: view.into_iter().next().ok_or(DomainError::NotFound)?,
        school_name: s.name,
        service_name,
        zone,
        changeable: is_changeable,
    })
}

/// The free slots a parent may move to: their school's.
pub async fn move_options(conn: &impl ConnectionTrait, managed: &Managed) -> DomainResult<Vec<SlotView>> {
    free_for_school(
        conn,
        managed.booking.row.service_id,
        managed.booking.row.school_id,
        Utc::now() + Duration::weeks(PARENT_WEEKS),
    )
    .await
}

/// A parent cancels their own booking; the slot is free again at once.
pub async fn cancel(db: &Db, token: &str, request_id: &str) -> DomainResult<BookingView> {
    let txn = db::begin_write(db).await?;
    let row = managed_row(&txn, token).await?;
    if !changeable(&row, Utc::now()) {
        states::check(Step::Cancel, row.status)?;
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "the session has already started",
        ));
    }
    let next = states::check(Step::Cancel, row.status)?;
    let door = Door::service(&txn, row.service_id);
    let (saved, charged) = end(
        &door,
        row,
        next,
        Author::default(),
        SpaceToTalkActor::Parent,
        Some("Cancelled by the parent".to_owned()),
        None,
    )
    .await?;
    audit::record(
        &txn,
        Who::Anonymous { request_id },
        Entry::new("space_to_talk_booking.cancel", "SpaceToTalkBooking", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "as": "PARENT", "chargedMinutes": charged })),
    )
    .await?;
    let view = views_of(&txn, None, vec![saved]).await?;
    txn.commit().await?;
    view.into_iter().next().ok_or(DomainError::NotFound)
}

/// A parent moves their booking to another free slot of their school; the manage link follows
/// the booking.
pub async fn move_to(db: &Db, token: &str, slot_id: SpaceToTalkSlotId, request_id: &str) -> DomainResult<BookingView> {
    let txn = db::begin_write(db).await?;
    let row = managed_row(&txn, token).await?;
    let next = states::check(Step::Move, row.status)?;
    if !changeable(&row, Utc::now()) {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "the session has already started",
        ));
    }
    if row.slot_id == slot_id {
        return Err(DomainError::invalid(
            "slotId",
            FieldErrorCode::Invalid,
            "you are already booked into this time",
        ));
    }
    let door = Door::service(&txn, row.service_id);
    let new = moved(&door, Who::Anonymous { request_id }, None, &row, slot_id).await?;
    end(
        &door,
        row,
        next,
        Author::default(),
        SpaceToTalkActor::Parent,
        None,
        Some(new.id),
    )
    .await?;
    let view = views_of(&txn, None, vec![new]).await?;
    txn.commit().await?;
    view.into_iter().next().ok_or(DomainError::NotFound)
}

/// Clears a booking's manage digest (it moves to the booking that replaces it).
pub(crate) async fn hand_over_manage_link<C: ConnectionTrait>(
    door: &Door<'_, C>,
    row: &stt_booking::Model,
) -> DomainResult<()> {
    if row.manage_digest.is_some() {
        door.update_many::<stt_booking::Entity>()
            .col_expr(stt_booking::Column::ManageDigest, Expr::value(Option::<String>::None))
            .filter(stt_booking::Column::Id.eq(row.id))
            .exec(door.conn())
            .await?;
    }
    Ok(())
}
