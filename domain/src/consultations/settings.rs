//! The service's consultation settings: the meeting's usual length, preparation and write-up
//! minutes, how long consent lasts, when the review falls, and how long a child's record is kept.
//! A service without a row has the defaults.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::ConnectionTrait;

use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::consultation_settings as settings;
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::ServiceId;
use crate::model::RetentionRule;

/// The settings a service starts with.
pub fn defaults(service: ServiceId) -> settings::Model {
    settings::Model {
        service_id: service,
        meeting_minutes: 60,
        preparation_minutes: 30,
        write_up_minutes: 60,
        consent_months: 24,
        review_weeks: 6,
        retention_rule: RetentionRule::Age25,
        updated_at: Utc::now(),
    }
}

/// The settings the service's rules use.
pub async fn of(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<settings::Model> {
    match Door::service(conn, service).get::<settings::Entity>(service).await {
        Ok(row) => Ok(row),
        Err(DomainError::NotFound) => Ok(defaults(service)),
        Err(e) => Err(e),
    }
}

/// The settings, for someone who reaches something in the service.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, service: ServiceId) -> DomainResult<settings::Model> {
    let door = Door::open(conn, caller, Action::ViewConsultationSettings).await?;
    if !door.access().touches_service(service) {
        return Err(DomainError::NotFound);
    }
    of(conn, service).await
}

#[derive(Clone, Debug, Default)]
pub struct Patch {
    pub meeting_minutes: Option<i32>,
    pub preparation_minutes: Option<i32>,
    pub write_up_minutes: Option<i32>,
    pub consent_months: Option<i32>,
    pub review_weeks: Option<i32>,
    pub retention_rule: Option<RetentionRule>,
}

fn within(p: &mut Problems, field: &str, v: Option<i32>, min: i32, max: i32) -> Option<i32> {
    let v = v?;
    if (min..=max).contains(&v) {
        Some(v)
    } else {
        p.add(
            field,
            FieldErrorCode::OutOfRange,
            format!("must be between {min} and {max}"),
        );
        None
    }
}

pub async fn update(db: &Db, caller: &Caller, service: ServiceId, patch: Patch) -> DomainResult<settings::Model> {
    caller
        .principal
        .require_service_wide(Action::ManageConsultationSettings, service)?;
    let mut p = Problems::new();
    let meeting = within(&mut p, "meetingMinutes", patch.meeting_minutes, 15, 240);
    let prep = within(&mut p, "preparationMinutes", patch.preparation_minutes, 0, 480);
    let write_up = within(&mut p, "writeUpMinutes", patch.write_up_minutes, 0, 480);
    let consent = within(&mut p, "consentMonths", patch.consent_months, 1, 60);
    let review = within(&mut p, "reviewWeeks", patch.review_weeks, 1, 52);
    p.finish()?;
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManageConsultationSettings).await?;
    let current = of(&txn, service).await?;
    let exists = door.exists::<settings::Entity>(service).await?;
    let mut row = settings::ActiveModel {
        service_id: Set(service),
        meeting_minutes: Set(meeting.unwrap_or(current.meeting_minutes)),
        preparation_minutes: Set(prep.unwrap_or(current.preparation_minutes)),
        write_up_minutes: Set(write_up.unwrap_or(current.write_up_minutes)),
        consent_months: Set(consent.unwrap_or(current.consent_months)),
        review_weeks: Set(review.unwrap_or(current.review_weeks)),
        retention_rule: Set(patch.retention_rule.unwrap_or(current.retention_rule)),
        updated_at: Set(Utc::now()),
    };
    let saved = if exists {
        door.update(row).await?
    } else {
        row.service_id = Set(service);
        door.insert(row).await?
    };
    audit::log(
        &txn,
        caller,
        Entry::new("consultation_settings.update", "Service", service).in_service(service),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}
