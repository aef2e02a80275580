//! Partner clients: front-ends built by others that call the API with their own credentials,
//! a narrow set of scopes, and optionally only some of the service's schools.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter};

use crate::access::{Action, Actor, Caller, PartnerGrant, PartnerScope, Principal};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{partner_client, partner_client_school, school};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::identity;
use crate::ids::{PartnerClientId, SchoolId, ServiceId};
use crate::model::PartnerClientStatus;
use crate::page::{self, Page, PageRequest, Position, SortKey};
use crate::parse_all;
use crate::secrets;
use crate::values::Name;

/// A client with the schools it is limited to (`None`: all of its service's).
#[derive(Clone, Debug)]
pub struct PartnerClient {
    pub row: partner_client::Model,
    pub schools: Option<Vec<SchoolId>>,
}

impl PartnerClient {
    pub fn scopes(&self) -> Vec<PartnerScope> {
        parse_scopes(&self.row.scopes)
    }
}

fn parse_scopes(stored: &str) -> Vec<PartnerScope> {
    stored.split_whitespace().filter_map(|s| s.parse().ok()).collect()
}

fn join_scopes(scopes: &BTreeSet<PartnerScope>) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// A client read through a door, with the schools it is limited to.
async fn with_schools(
    door: &Door<'_, impl ConnectionTrait>,
    row: partner_client::Model,
) -> DomainResult<PartnerClient> {
    let schools = if row.limited_to_schools {
        let links = door
            .find::<partner_client_school::Entity>()
            .filter(partner_client_school::Column::PartnerClientId.eq(row.id))
            .all(door.conn())
            .await?;
        Some(links.into_iter().map(|l| l.school_id).collect())
    } else {
        None
    };
    Ok(PartnerClient { row, schools })
}

pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
    page: &PageRequest,
) -> DomainResult<Page<PartnerClient>> {
    caller
        .principal
        .require_service_wide(Action::ManagePartnerClients, service)?;
    let window = page.window()?;
    let door = Door::open(conn, caller, Action::ManagePartnerClients).await?;
    let select = door
        .find::<partner_client::Entity>()
        .filter(partner_client::Column::ServiceId.eq(service));
    let rows = page::fetch(
        conn,
        select,
        partner_client::Column::Id,
        SortKey::Text(partner_client::Column::Name),
        false,
        &window,
        |m: &partner_client::Model| Position {
            key: Some(m.name.clone()),
            id: m.id.0,
        },
    )
    .await?;
    let mut items = Vec::with_capacity(rows.items.len());
    for (cursor, row) in rows.items {
        items.push((cursor, with_schools(&door, row).await?));
    }
    Ok(Page {
        items,
        has_next_page: rows.has_next_page,
        has_previous_page: rows.has_previous_page,
        total: rows.total,
    })
}

/// A client the caller manages, or the calling client itself.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: PartnerClientId) -> DomainResult<PartnerClient> {
    if caller.principal.partner_client_id() == Some(id) {
        let (row, schools) = identity::partner_by_id(conn, id).await?.ok_or(DomainError::NotFound)?;
        return Ok(PartnerClient { row, schools });
    }
    let door = Door::open(conn, caller, Action::ManagePartnerClients).await?;
    let row = door.get::<partner_client::Entity>(id).await?;
    with_schools(&door, row).await
}

pub struct NewClient {
    pub service_id: ServiceId,
    pub name: String,
    pub scopes: Vec<PartnerScope>,
    /// `None`: every school of the service.
    pub school_ids: Option<Vec<SchoolId>>,
}

/// A client and its secret, which is shown this once.
pub struct Issued {
    pub client: PartnerClient,
    pub client_secret: String,
}

async fn check_schools(conn: &impl ConnectionTrait, service: ServiceId, ids: &[SchoolId]) -> DomainResult<()> {
    if ids.is_empty() {
        return Err(DomainError::invalid(
            "schoolIds",
            FieldErrorCode::Required,
            "give at least one school, or leave schoolIds out for all",
        ));
    }
    let unique: BTreeSet<SchoolId> = ids.iter().copied().collect();
    let found = Door::service(conn, service)
        .find::<school::Entity>()
        .filter(school::Column::Id.is_in(unique.iter().copied()))
        .count(conn)
        .await?;
    if found as usize != unique.len() {
        return Err(DomainError::invalid(
            "schoolIds",
            FieldErrorCode::NotFound,
            "every school must belong to this service",
        ));
    }
    Ok(())
}

async fn link_schools(
    door: &Door<'_, impl ConnectionTrait>,
    service: ServiceId,
    client: PartnerClientId,
    ids: &[SchoolId],
) -> DomainResult<()> {
    let unique: BTreeSet<SchoolId> = ids.iter().copied().collect();
    door.insert_all(
        unique
            .into_iter()
            .map(|school_id| partner_client_school::ActiveModel {
                partner_client_id: Set(client),
                service_id: Set(service),
                school_id: Set(school_id),
            })
            .collect(),
    )
    .await
}

pub async fn create(db: &Db, caller: &Caller, input: NewClient) -> DomainResult<Issued> {
    let first_school = input.school_ids.as_ref().and_then(|ids| ids.first().copied());
    caller
        .principal
        .require_service_wide_for(Action::ManagePartnerClients, input.service_id, first_school)?;
    parse_all!(name = Name::parse("name", &input.name));
    if input.scopes.is_empty() {
        return Err(DomainError::invalid(
            "scopes",
            FieldErrorCode::Required,
            "give the client at least one scope",
        ));
    }
    let scopes: BTreeSet<PartnerScope> = input.scopes.into_iter().collect();
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManagePartnerClients).await?;
    if let Some(ids) = &input.school_ids {
        check_schools(&txn, input.service_id, ids).await?;
    }
    let now = Utc::now();
    let secret = secrets::new_token("pcs_");
    let id = PartnerClientId::new();
    let row = door
        .insert(partner_client::ActiveModel {
            id: Set(id),
            service_id: Set(input.service_id),
            name: Set(name.into_inner()),
            // Random, not derived from the row's id: a client's public id says nothing about any
            // other object, and cannot be turned into a global id.
            client_id: Set(new_client_id()),
            secret_digest: Set(secrets::token_digest(&secret)),
            secret_version: Set(1),
            scopes: Set(join_scopes(&scopes)),
            limited_to_schools: Set(input.school_ids.is_some()),
            status: Set(PartnerClientStatus::Active),
            created_at: Set(now),
            created_by: Set(caller.principal.person_id()),
            updated_at: Set(now),
            secret_rotated_at: Set(now),
        })
        .await?;
    if let Some(ids) = &input.school_ids {
        link_schools(&door, input.service_id, id, ids).await?;
    }
    audit::log(
        &txn,
        caller,
        Entry::new("partner_client.create", "PartnerClient", id).in_service(input.service_id),
    )
    .await?;
    let client = with_schools(&door, row).await?;
    txn.commit().await?;
    Ok(Issued {
        client,
        client_secret: secret,
    })
}

/// A public client id: `pc_` and 16 random bytes in hex.
fn new_client_id() -> String {
    let hex: String = secrets::random_bytes(16).iter().map(|b| format!("{b:02x}")).collect();
    format!("pc_{hex}")
}

/// A client for a change: only its service's administrators see or change one, so to anyone
/// else every client is not found.
async fn for_change(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: PartnerClientId,
) -> DomainResult<partner_client::Model> {
    door::for_change::<partner_client::Entity, _>(
        conn,
        caller,
        id,
        Action::ManagePartnerClients,
        Action::ManagePartnerClients,
    )
    .await
}

/// Issues a new secret; the old one, and every token issued with it, stop working at once.
pub async fn rotate_secret(db: &Db, caller: &Caller, id: PartnerClientId) -> DomainResult<Issued> {
    let txn = db::begin_write(db).await?;
    let current = for_change(&txn, caller, id).await?;
    let door = Door::open(&txn, caller, Action::ManagePartnerClients).await?;
    let secret = secrets::new_token("pcs_");
    let now = Utc::now();
    let version = current.secret_version + 1;
    let mut row: partner_client::ActiveModel = current.into();
    row.secret_digest = Set(secrets::token_digest(&secret));
    row.secret_version = Set(version);
    row.secret_rotated_at = Set(now);
    row.updated_at = Set(now);
    let saved = door.update(row).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("partner_client.rotate_secret", "PartnerClient", id).in_service(saved.service_id),
    )
    .await?;
    let client = with_schools(&door, saved).await?;
    txn.commit().await?;
    Ok(Issued {
        client,
        client_secret: secret,
    })
}

#[derive(Default)]
pub struct ClientPatch {
    pub name: Option<String>,
    pub scopes: Option<Vec<PartnerScope>>,
    /// `Some(None)`: every school; `Some(Some(ids))`: only these.
    pub school_ids: Option<Option<Vec<SchoolId>>>,
    pub status: Option<PartnerClientStatus>,
}

pub async fn update(db: &Db, caller: &Caller, id: PartnerClientId, patch: ClientPatch) -> DomainResult<PartnerClient> {
    let name = patch.name.as_deref().map(|n| Name::parse("name", n)).transpose();
    let txn = db::begin_write(db).await?;
    let current = for_change(&txn, caller, id).await?;
    let door = Door::open(&txn, caller, Action::ManagePartnerClients).await?;
    parse_all!(name = name);
    let service = current.service_id;
    let mut row: partner_client::ActiveModel = current.into();
    if let Some(name) = name {
        row.name = Set(name.into_inner());
    }
    if let Some(scopes) = patch.scopes {
        if scopes.is_empty() {
            return Err(DomainError::invalid(
                "scopes",
                FieldErrorCode::Required,
                "give the client at least one scope",
            ));
        }
        row.scopes = Set(join_scopes(&scopes.into_iter().collect()));
    }
    if let Some(status) = patch.status {
        row.status = Set(status);
    }
    if let Some(limit) = patch.school_ids {
        door.delete_many::<partner_client_school::Entity>()
            .filter(partner_client_school::Column::PartnerClientId.eq(id))
            .exec(&txn)
            .await?;
        row.limited_to_schools = Set(limit.is_some());
        if let Some(ids) = limit {
            check_schools(&txn, service, &ids).await?;
            link_schools(&door, service, id, &ids).await?;
        }
    }
    row.updated_at = Set(Utc::now());
    let saved = door.update(row).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("partner_client.update", "PartnerClient", id).in_service(service),
    )
    .await?;
    let client = with_schools(&door, saved).await?;
    txn.commit().await?;
    Ok(client)
}

/// Checks a client id and secret (the OAuth client-credentials exchange). Any failure is the
/// same `Unauthenticated`, so that ids cannot be probed.
pub async fn authenticate(conn: &impl ConnectionTrait, client_id: &str, secret: &str) -> DomainResult<PartnerClient> {
    let (row, schools) = identity::partner_by_client_id(conn, client_id)
        .await?
        .filter(|(r, _)| r.status == PartnerClientStatus::Active)
        .ok_or(DomainError::Unauthenticated)?;
    let given = secrets::token_digest(secret);
    if !constant_time_eq(given.as_bytes(), row.secret_digest.as_bytes()) {
        return Err(DomainError::Unauthenticated);
    }
    Ok(PartnerClient { row, schools })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The principal for a client token: refused once the client is disabled or its secret
/// rotated since the token was issued.
pub async fn principal(
    conn: &impl ConnectionTrait,
    id: PartnerClientId,
    secret_version: i32,
) -> DomainResult<Principal> {
    let (row, schools) = identity::partner_by_id(conn, id)
        .await?
        .filter(|(r, _)| r.status == PartnerClientStatus::Active && r.secret_version == secret_version)
        .ok_or(DomainError::Unauthenticated)?;
    let client = PartnerClient { row, schools };
    Ok(Principal {
        actor: Actor::PartnerClient(id),
        memberships: Vec::new(),
        partner: Some(PartnerGrant {
            service_id: client.row.service_id,
            schools: client.schools.clone().map(|s| s.into_iter().collect()),
            scopes: client.scopes().into_iter().collect(),
        }),
    })
}
