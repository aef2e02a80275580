//! Services: the tenants. Whoever runs the deployment creates them (`scps bootstrap` for the
//! first, `scps service create` for the others); their members see them.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry, Who};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::{membership, person, service};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::identity;
use crate::ids::{MembershipId, ServiceId};
use crate::model::PersonStatus;
use crate::parse_all;
use crate::values::{Email, Name, Password, TimeZone};

pub use crate::identity::PasswordHashError;

/// A service the caller belongs to, or not found.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: ServiceId) -> DomainResult<service::Model> {
    Door::open(conn, caller, Action::ViewService)
        .await?
        .get::<service::Entity>(id)
        .await
}

/// Every service the caller belongs to, by name.
pub async fn mine(conn: &impl ConnectionTrait, caller: &Caller) -> DomainResult<Vec<service::Model>> {
    Ok(Door::open(conn, caller, Action::ViewService)
        .await?
        .find::<service::Entity>()
        .order_by_asc(service::Column::Name)
        .all(conn)
        .await?)
}

pub struct ServicePatch {
    pub name: Option<String>,
    pub time_zone: Option<String>,
}

/// Renames a service or changes its time zone (administrators).
pub async fn update(db: &Db, caller: &Caller, id: ServiceId, patch: ServicePatch) -> DomainResult<service::Model> {
    caller.principal.require_service_wide(Action::ManageTimeSettings, id)?;
    let name = patch.name.as_deref().map(|n| Name::parse("name", n)).transpose();
    let zone = patch
        .time_zone
        .as_deref()
        .map(|z| TimeZone::parse("timeZone", z))
        .transpose();
    parse_all!(name = name, zone = zone);
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManageTimeSettings).await?;
    let current = door.get::<service::Entity>(id).await?;
    let mut row: service::ActiveModel = current.into();
    if let Some(name) = name {
        row.name = Set(name.into_inner());
    }
    if let Some(zone) = zone {
        row.time_zone = Set(zone.name().to_owned());
    }
    row.updated_at = Set(Utc::now());
    let saved = door.update(row).await?;
    audit::log(&txn, caller, Entry::new("service.update", "Service", id).in_service(id)).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A new service and its first administrator.
pub struct NewService {
    pub service_name: String,
    pub time_zone: Option<String>,
    pub admin_email: String,
    pub admin_name: String,
    pub admin_password: String,
}

/// A service just made, its administrator, and whether the administrator's account is new
/// (an existing account keeps its own password).
#[derive(Clone, Debug)]
pub struct Created {
    pub service: service::Model,
    pub admin: person::Model,
    pub new_account: bool,
}

/// Creates a service with its first administrator, for whoever runs the deployment (the
/// command line, never the API). `first` refuses when any service exists already (the first
/// `scps bootstrap` of a deployment). An administrator whose email already has an account keeps
/// it (and its password) and gains the role.
pub async fn create(db: &Db, input: NewService, first: bool, request_id: &str) -> DomainResult<Created> {
    parse_all!(
        name = Name::parse("serviceName", &input.service_name),
        zone = TimeZone::parse("timeZone", input.time_zone.as_deref().unwrap_or(TimeZone::DEFAULT)),
        email = Email::parse("adminEmail", &input.admin_email),
        admin_name = Name::parse("adminName", &input.admin_name),
        password = Password::parse("adminPassword", &input.admin_password),
    );
    let plain = password.expose().to_owned();
    let hash = tokio::task::spawn_blocking(move || crate::secrets::hash_password(&plain))
        .await
        .map_err(|e| DomainError::internal("hashing a password", e))?
        .map_err(|e| DomainError::internal("hashing a password", PasswordHashError(e.to_string())))?;
    let txn = db::begin_write(db).await?;
    let existing = identity::all_services(&txn).await?;
    if first && !existing.is_empty() {
        return Err(DomainError::invalid(
            "",
            FieldErrorCode::InvalidState,
            "this database already has a service; bootstrap only sets up an empty one (use `scps service create` for another)",
        ));
    }
    if existing.iter().any(|s| s.name.eq_ignore_ascii_case(name.as_str())) {
        return Err(DomainError::invalid(
            "serviceName",
            FieldErrorCode::Taken,
            "another service of this deployment has this name",
        ));
    }
    let now = Utc::now();
    let id = ServiceId::new();
    let door = Door::service(&txn, id);
    let service = door
        .insert(service::ActiveModel {
            id: Set(id),
            name: Set(name.into_inner()),
            time_zone: Set(zone.name().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            // The database stamps it when the service's settings are written below.
            calendar_stamp: Set(0),
        })
        .await?;
    let (admin, new_account) = match identity::person_by_email(&txn, &email).await? {
        Some(existing) if existing.status == PersonStatus::Disabled => {
            return Err(DomainError::invalid(
                "adminEmail",
                FieldErrorCode::InvalidState,
                "this account is disabled",
            ));
        }
        Some(existing) => (existing, false),
        None => (
            identity::create_person(&txn, email, admin_name, Some(hash)).await?,
            true,
        ),
    };
    door.insert_quiet(membership::ActiveModel {
        id: Set(MembershipId::new()),
        person_id: Set(admin.id),
        service_id: Set(service.id),
        school_id: Set(None),
        role: Set(Role::ServiceAdmin),
        created_at: Set(now),
        created_by: Set(None),
        revoked_at: Set(None),
        revoked_by: Set(None),
    })
    .await?;
    crate::time::settings::create_defaults(&txn, service.id).await?;
    audit::record(
        &txn,
        Who::System { request_id },
        Entry::new("service.create", "Service", service.id).in_service(service.id),
    )
    .await?;
    txn.commit().await?;
    Ok(Created {
        service,
        admin,
        new_account,
    })
}

/// One service of the deployment with how many schools and people it has, for its operator.
#[derive(Clone, Debug)]
pub struct Listed {
    pub service: service::Model,
    pub schools: u64,
    pub administrators: u64,
}

/// Every service of the deployment (`scps service list`).
pub async fn list_all(conn: &impl ConnectionTrait) -> DomainResult<Vec<Listed>> {
    use sea_orm::PaginatorTrait;
    let mut out = Vec::new();
    for service in identity::all_services(conn).await? {
        let door = Door::service(conn, service.id);
        let schools = door.find::<crate::entities::school::Entity>().count(conn).await?;
        let administrators = door
            .find::<membership::Entity>()
            .filter(membership::Column::Role.eq(Role::ServiceAdmin))
            .filter(membership::Column::RevokedAt.is_null())
            .count(conn)
            .await?;
        out.push(Listed {
            service,
            schools,
            administrators,
        });
    }
    Ok(out)
}
