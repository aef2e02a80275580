//! Services: the tenants. Created by `scps bootstrap` (the first) and seen by their members.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry, Who};
use crate::db::{self, Db};
use crate::entities::{membership, person, service};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{MembershipId, PersonId, ServiceId};
use crate::model::PersonStatus;
use crate::parse_all;
use crate::values::{Email, Name, Password, TimeZone};

/// A service the caller belongs to, or not found.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: ServiceId) -> DomainResult<service::Model> {
    if !caller.principal.static_access(Action::ViewService).touches_service(id) {
        return Err(DomainError::NotFound);
    }
    service::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Every service the caller belongs to, by name.
pub async fn mine(conn: &impl ConnectionTrait, caller: &Caller) -> DomainResult<Vec<service::Model>> {
    let ids = caller.principal.static_access(Action::ViewService).all_services();
    Ok(service::Entity::find()
        .filter(service::Column::Id.is_in(ids))
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
    let current = service::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let mut row: service::ActiveModel = current.into();
    if let Some(name) = name {
        row.name = Set(name.into_inner());
    }
    if let Some(zone) = zone {
        row.time_zone = Set(zone.name().to_owned());
    }
    row.updated_at = Set(Utc::now());
    let saved = row.update(&txn).await?;
    audit::log(&txn, caller, Entry::new("service.update", "Service", id).in_service(id)).await?;
    txn.commit().await?;
    Ok(saved)
}

/// The first service and its administrator.
pub struct Bootstrap {
    pub service_name: String,
    pub time_zone: Option<String>,
    pub admin_email: String,
    pub admin_name: String,
    pub admin_password: String,
}

/// Creates a service with its first administrator. `require_empty` refuses when any service
/// exists already (the first bootstrap of a deployment).
pub async fn bootstrap(
    db: &Db,
    input: Bootstrap,
    require_empty: bool,
    request_id: &str,
) -> DomainResult<(service::Model, person::Model)> {
    parse_all!(
        name = Name::parse("serviceName", &input.service_name),
        zone = TimeZone::parse("timeZone", input.time_zone.as_deref().unwrap_or(TimeZone::DEFAULT)),
        email = Email::parse("adminEmail", &input.admin_email),
        admin_name = Name::parse("adminName", &input.admin_name),
        password = Password::parse("adminPassword", &input.admin_password),
    );
    let hash = crate::secrets::hash_password(password.expose())
        .map_err(|e| DomainError::internal("hashing a password", PasswordHashError(e.to_string())))?;
    let txn = db::begin_write(db).await?;
    if require_empty && service::Entity::find().count(&txn).await? > 0 {
        return Err(DomainError::invalid(
            "",
            FieldErrorCode::InvalidState,
            "this database already has a service; bootstrap only sets up an empty one",
        ));
    }
    let now = Utc::now();
    let service = service::Entity::insert(service::ActiveModel {
        id: Set(ServiceId::new()),
        name: Set(name.into_inner()),
        time_zone: Set(zone.name().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(&txn)
    .await?;
    let admin = match person::Entity::find()
        .filter(person::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?
    {
        Some(existing) => existing,
        None => {
            person::Entity::insert(person::ActiveModel {
                id: Set(PersonId::new()),
                email: Set(email.into_inner()),
                display_name: Set(admin_name.into_inner()),
                password_hash: Set(Some(hash)),
                status: Set(PersonStatus::Active),
                created_at: Set(now),
                updated_at: Set(now),
                disabled_at: Set(None),
                last_sign_in_at: Set(None),
            })
            .exec_with_returning(&txn)
            .await?
        }
    };
    membership::Entity::insert(membership::ActiveModel {
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
    .exec_without_returning(&txn)
    .await?;
    crate::time::settings::create_defaults(&txn, service.id).await?;
    audit::record(
        &txn,
        Who::System { request_id },
        Entry::new("service.bootstrap", "Service", service.id).in_service(service.id),
    )
    .await?;
    txn.commit().await?;
    Ok((service, admin))
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PasswordHashError(pub String);
