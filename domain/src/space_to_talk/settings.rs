//! The service's Space to Talk settings: the usual slot length, whether slots draw down a
//! school's allocation, and whether notes may be kept (off: the record stays minimal).

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::space_to_talk_settings as settings;
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::ServiceId;

/// The usual length of a slot, unless the service says otherwise.
pub const DEFAULT_SLOT_MINUTES: i32 = 45;
/// Slots last 15 to 60 minutes.
pub const SLOT_MINUTES: std::ops::RangeInclusive<i32> = 15..=60;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub service_id: ServiceId,
    pub slot_minutes: i32,
    pub draws_down_allocation: bool,
    pub notes_enabled: bool,
}

impl Settings {
    fn of(row: Option<settings::Model>, service: ServiceId) -> Self {
        match row {
            Some(r) => Self {
                service_id: service,
                slot_minutes: r.slot_minutes,
                draws_down_allocation: r.draws_down_allocation,
                notes_enabled: r.notes_enabled,
            },
            None => Self {
                service_id: service,
                slot_minutes: DEFAULT_SLOT_MINUTES,
                draws_down_allocation: false,
                notes_enabled: false,
            },
        }
    }
}

/// The settings the service's rules use (defaults where the service set none).
pub async fn of_service(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<Settings> {
    let row = Door::service(conn, service)
        .find::<settings::Entity>()
        .filter(settings::Column::ServiceId.eq(service))
        .one(conn)
        .await?;
    Ok(Settings::of(row, service))
}

/// The settings as someone of the service sees them.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, service: ServiceId) -> DomainResult<Settings> {
    let door = Door::open(conn, caller, Action::ViewSpaceToTalkSlots).await?;
    if !door.access().touches_service(service) {
        return Err(DomainError::NotFound);
    }
    of_service(conn, service).await
}

#[derive(Clone, Debug, Default)]
pub struct Change {
    pub slot_minutes: Option<i32>,
    pub draws_down_allocation: Option<bool>,
    pub notes_enabled: Option<bool>,
}

/// Changes the settings (administrators).
pub async fn update(db: &Db, caller: &Caller, service: ServiceId, change: Change) -> DomainResult<Settings> {
    caller
        .principal
        .require_service_wide(Action::ManageSpaceToTalkSettings, service)?;
    let mut p = Problems::new();
    if let Some(m) = change.slot_minutes
        && !SLOT_MINUTES.contains(&m)
    {
        p.add(
            "slotMinutes",
            FieldErrorCode::OutOfRange,
            "a slot lasts 15 to 60 minutes",
        );
    }
    p.finish()?;
    let txn = db::begin_write(db).await?;
    let current = of_service(&txn, service).await?;
    let door = Door::open(&txn, caller, Action::ManageSpaceToTalkSettings).await?;
    let next = settings::ActiveModel {
        service_id: Set(service),
        slot_minutes: Set(change.slot_minutes.unwrap_or(current.slot_minutes)),
        draws_down_allocation: Set(change.draws_down_allocation.unwrap_or(current.draws_down_allocation)),
        notes_enabled: Set(change.notes_enabled.unwrap_or(current.notes_enabled)),
        updated_at: Set(Utc::now()),
    };
    door.delete_many::<settings::Entity>()
        .filter(settings::Column::ServiceId.eq(service))
        .exec(&txn)
        .await?;
    let row = door.insert(next).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("space_to_talk_settings.update", "Service", service)
            .in_service(service)
            .detail(serde_json::json!({
                "slotMinutes": row.slot_minutes,
                "drawsDownAllocation": row.draws_down_allocation,
                "notesEnabled": row.notes_enabled,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(Settings::of(Some(row), service))
}
