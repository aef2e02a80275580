//! Session types as data per service (a service without any gets the usual four the first time
//! it looks), and the service's default way of charging a session.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::{reflective_session_type as session_type, reflective_settings as settings};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{ReflectiveSessionTypeId, ServiceId};
use crate::model::{ReflectiveCharging, ReflectiveFormat};
use crate::values;

/// One timed stage of a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub minutes: i32,
}

/// A type's phases, in order.
pub fn phases_of(row: &session_type::Model) -> Vec<Phase> {
    serde_json::from_str(&row.phases).unwrap_or_default()
}

type Default = (&'static str, ReflectiveFormat, i32, i32, &'static [(&'static str, i32)]);

/// The types a service starts with.
pub const DEFAULTS: &[Default] = &[
    (
        "Reflecting team",
        ReflectiveFormat::ReflectingTeam,
        90,
        8,
        &[
            ("Presentation", 15),
            ("Clarifying questions", 15),
            ("The presenter's question", 5),
            ("The team's reflection", 30),
            ("The presenter's response", 15),
            ("Close", 10),
        ],
    ),
    (
        "Solution circle",
        ReflectiveFormat::SolutionCircle,
        30,
        8,
        &[
            ("The problem", 6),
            ("Brainstorm", 6),
            ("The presenter's reflection", 6),
            ("First steps", 6),
            ("Commitment", 3),
            ("Close", 3),
        ],
    ),
    (
        "ELSA supervision",
        ReflectiveFormat::ElsaSupervision,
        120,
        8,
        &[
            ("Check-in", 15),
            ("Case discussion", 75),
            ("Learning and resources", 20),
            ("Close", 10),
        ],
    ),
    (
        "SENCO supervision",
        ReflectiveFormat::SencoSupervision,
        90,
        10,
        &[("Check-in", 10), ("Case discussion", 60), ("Themes", 15), ("Close", 5)],
    ),
];

async fn rows(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<Vec<session_type::Model>> {
    Ok(Door::service(conn, service)
        .find::<session_type::Entity>()
        .order_by_asc(session_type::Column::CreatedAt)
        .order_by_asc(session_type::Column::Id)
        .all(conn)
        .await?)
}

/// The service's session types, the usual four made the first time a service without any looks.
pub async fn list(db: &Db, caller: &Caller, service: ServiceId) -> DomainResult<Vec<session_type::Model>> {
    let door = Door::open(db, caller, Action::ViewReflectiveSessions).await?;
    if !door.access().touches_service(service) {
        return Err(DomainError::NotFound);
    }
    let found = rows(db, service).await?;
    if !found.is_empty() {
        return Ok(found);
    }
    let txn = db::begin_write(db).await?;
    let made = ensure_defaults(&txn, caller, service).await?;
    txn.commit().await?;
    Ok(made)
}

/// The service's types, making the defaults inside the caller's transaction if it has none.
pub(crate) async fn ensure_defaults(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
) -> DomainResult<Vec<session_type::Model>> {
    let found = rows(txn, service).await?;
    if !found.is_empty() {
        return Ok(found);
    }
    let now = Utc::now();
    let made: Vec<session_type::ActiveModel> = DEFAULTS
        .iter()
        .enumerate()
        .map(|(i, (name, format, minutes, capacity, phases))| {
            let phases: Vec<Phase> = phases
                .iter()
                .map(|(n, m)| Phase {
                    name: (*n).to_owned(),
                    minutes: *m,
                })
                .collect();
            session_type::ActiveModel {
                id: Set(ReflectiveSessionTypeId::new()),
                service_id: Set(service),
                name: Set((*name).to_owned()),
                format: Set(*format),
                default_minutes: Set(*minutes),
                default_capacity: Set(*capacity),
                phases: Set(serde_json::to_string(&phases).unwrap_or_else(|_| "[]".to_owned())),
                // Kept in the order listed.
                created_at: Set(now + chrono::Duration::milliseconds(i as i64)),
            }
        })
        .collect();
    Door::service(txn, service).insert_all(made).await?;
    audit::log(
        txn,
        caller,
        Entry::new("reflective_type.defaults", "Service", service)
            .in_service(service)
            .detail(serde_json::json!({ "types": DEFAULTS.len() })),
    )
    .await?;
    rows(txn, service).await
}

pub struct NewType {
    pub service_id: ServiceId,
    pub name: String,
    pub format: ReflectiveFormat,
    pub default_minutes: i32,
    pub default_capacity: i32,
    pub phases: Vec<Phase>,
}

/// Adds a session type of the service's own.
pub async fn create(db: &Db, caller: &Caller, input: NewType) -> DomainResult<session_type::Model> {
    caller
        .principal
        .require_service_wide(Action::ManageReflectiveSettings, input.service_id)?;
    let mut p = Problems::new();
    let name = p.check(values::required_text("name", &input.name, values::MAX_NAME_LEN));
    if !(15..=240).contains(&input.default_minutes) {
        p.add(
            "defaultMinutes",
            FieldErrorCode::OutOfRange,
            "must be between 15 and 240 minutes",
        );
    }
    if !(6..=12).contains(&input.default_capacity) {
        p.add(
            "defaultCapacity",
            FieldErrorCode::OutOfRange,
            "must be between 6 and 12",
        );
    }
    let mut phases = Vec::new();
    for (i, ph) in input.phases.iter().enumerate() {
        let n = p.check(values::required_text(&format!("phases.{i}.name"), &ph.name, 100));
        if !(1..=240).contains(&ph.minutes) {
            p.add(
                &format!("phases.{i}.minutes"),
                FieldErrorCode::OutOfRange,
                "must be between 1 and 240",
            );
        }
        if let Some(n) = n {
            phases.push(Phase {
                name: n,
                minutes: ph.minutes,
            });
        }
    }
    if input.phases.iter().map(|ph| i64::from(ph.minutes)).sum::<i64>() > i64::from(input.default_minutes) {
        p.add(
            "phases",
            FieldErrorCode::OutOfRange,
            "the phases take longer than the session",
        );
    }
    p.finish()?;
    let txn = db::begin_write(db).await?;
    ensure_defaults(&txn, caller, input.service_id).await?;
    let name = name.unwrap_or_default();
    let taken = Door::service(&txn, input.service_id)
        .find::<session_type::Entity>()
        .filter(session_type::Column::Name.eq(name.clone()))
        .one(&txn)
        .await?
        .is_some();
    if taken {
        return Err(DomainError::invalid(
            "name",
            FieldErrorCode::Taken,
            "the service already has a type of that name",
        ));
    }
    let id = ReflectiveSessionTypeId::new();
    let row = Door::open(&txn, caller, Action::ManageReflectiveSettings)
        .await?
        .insert(session_type::ActiveModel {
            id: Set(id),
            service_id: Set(input.service_id),
            name: Set(name),
            format: Set(input.format),
            default_minutes: Set(input.default_minutes),
            default_capacity: Set(input.default_capacity),
            phases: Set(serde_json::to_string(&phases).map_err(|e| DomainError::internal("phases", e))?),
            created_at: Set(Utc::now()),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_type.create", "ReflectiveSessionType", id).in_service(input.service_id),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The service's default charging (split evenly, for a service that has not said).
pub async fn default_charging(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<ReflectiveCharging> {
    match Door::service(conn, service).get::<settings::Entity>(service).await {
        Ok(row) => Ok(row.default_charging),
        Err(DomainError::NotFound) => Ok(ReflectiveCharging::SplitEvenly),
        Err(e) => Err(e),
    }
}

/// The default charging, for someone who reaches something in the service.
pub async fn charging(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
) -> DomainResult<ReflectiveCharging> {
    let door = Door::open(conn, caller, Action::ViewReflectiveSessions).await?;
    if !door.access().touches_service(service) {
        return Err(DomainError::NotFound);
    }
    default_charging(conn, service).await
}

/// Sets how the service's sessions are charged unless a session says otherwise.
pub async fn set_charging(
    db: &Db,
    caller: &Caller,
    service: ServiceId,
    charging: ReflectiveCharging,
) -> DomainResult<ReflectiveCharging> {
    caller
        .principal
        .require_service_wide(Action::ManageReflectiveSettings, service)?;
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManageReflectiveSettings).await?;
    let row = settings::ActiveModel {
        service_id: Set(service),
        default_charging: Set(charging),
        updated_at: Set(Utc::now()),
    };
    if door.exists::<settings::Entity>(service).await? {
        door.update(row).await?;
    } else {
        door.insert(row).await?;
    }
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_settings.update", "Service", service)
            .in_service(service)
            .detail(serde_json::json!({ "defaultCharging": charging.as_str() })),
    )
    .await?;
    txn.commit().await?;
    Ok(charging)
}
