//! Schools: each belongs to exactly one service. Administrators manage them; everyone else sees
//! the schools they belong to (EPs see all of their service's).

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter};

use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::school;
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{SchoolId, ServiceId};
use crate::model::{Phase, SchoolStatus};
use crate::page::{self, Page, PageRequest, Position, SortKey};
use crate::parse_all;
use crate::values::{Name, Urn};

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub service_id: Option<ServiceId>,
    pub phases: Option<Vec<Phase>>,
    pub statuses: Option<Vec<SchoolStatus>>,
    /// Part of the name, any case.
    pub name: Option<String>,
}

fn position(m: &school::Model) -> Position {
    Position {
        key: Some(m.name.clone()),
        id: m.id.0,
    }
}

/// The schools the caller can see, by name.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: Filter,
    page: &PageRequest,
) -> DomainResult<Page<school::Model>> {
    let window = page.window()?;
    let door = Door::open(conn, caller, Action::ViewSchools).await?;
    door.require_any()?;
    let mut select = door.find::<school::Entity>();
    if let Some(service) = filter.service_id {
        select = select.filter(school::Column::ServiceId.eq(service));
    }
    if let Some(phases) = filter.phases.filter(|p| !p.is_empty()) {
        select = select.filter(school::Column::Phase.is_in(phases));
    }
    if let Some(statuses) = filter.statuses.filter(|s| !s.is_empty()) {
        select = select.filter(school::Column::Status.is_in(statuses));
    }
    if let Some(name) = filter.name.map(|n| n.trim().to_lowercase()).filter(|n| !n.is_empty()) {
        let pattern = format!(
            "%{}%",
            name.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
        );
        select = select.filter(
            Expr::expr(Func::lower(Expr::col(school::Column::Name)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
        );
    }
    page::fetch(
        conn,
        select,
        school::Column::Id,
        SortKey::Text(school::Column::Name),
        false,
        &window,
        position,
    )
    .await
}

/// One school the caller can see, or not found.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: SchoolId) -> DomainResult<school::Model> {
    Door::open(conn, caller, Action::ViewSchools)
        .await?
        .get::<school::Entity>(id)
        .await
}

/// Several schools at once (for the API's batch loading); those out of reach are left out.
pub async fn get_many(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    ids: &[SchoolId],
) -> DomainResult<Vec<school::Model>> {
    Door::open(conn, caller, Action::ViewSchools)
        .await?
        .get_many::<school::Entity, _>(ids.iter().copied())
        .await
}

/// A school by id for a change: not found unless the caller can see it, forbidden unless the
/// caller may manage it.
async fn for_change(conn: &impl ConnectionTrait, caller: &Caller, id: SchoolId) -> DomainResult<school::Model> {
    door::for_change::<school::Entity, _>(conn, caller, id, Action::ViewSchools, Action::ManageSchools).await
}

/// Refuses, as a problem with `field`, a school that is not in the service.
pub async fn require_in_service(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    school: SchoolId,
    field: &str,
) -> DomainResult<()> {
    if Door::service(conn, service).exists::<school::Entity>(school).await? {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            FieldErrorCode::NotFound,
            "no such school in this service",
        ))
    }
}

pub struct NewSchool {
    pub service_id: ServiceId,
    pub name: String,
    pub urn: String,
    pub phase: Phase,
}

async fn ensure_urn_free(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    urn: &Urn,
    except: Option<SchoolId>,
) -> DomainResult<()> {
    let mut q = Door::service(conn, service)
        .find::<school::Entity>()
        .filter(school::Column::Urn.eq(urn.as_str()));
    if let Some(id) = except {
        q = q.filter(school::Column::Id.ne(id));
    }
    if q.count(conn).await? > 0 {
        return Err(DomainError::invalid(
            "urn",
            FieldErrorCode::Taken,
            "another school in this service has this URN",
        ));
    }
    Ok(())
}

pub async fn create(db: &Db, caller: &Caller, input: NewSchool) -> DomainResult<school::Model> {
    caller
        .principal
        .require_service_wide(Action::ManageSchools, input.service_id)?;
    parse_all!(
        name = Name::parse("name", &input.name),
        urn = Urn::parse("urn", &input.urn)
    );
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManageSchools).await?;
    ensure_urn_free(&txn, input.service_id, &urn, None).await?;
    let now = Utc::now();
    let row = door
        .insert(school::ActiveModel {
            id: Set(SchoolId::new()),
            service_id: Set(input.service_id),
            name: Set(name.into_inner()),
            urn: Set(urn.into_inner()),
            phase: Set(input.phase),
            status: Set(SchoolStatus::Open),
            created_at: Set(now),
            updated_at: Set(now),
            archived_at: Set(None),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("school.create", "School", row.id).in_school(row.service_id, Some(row.id)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

#[derive(Default)]
pub struct SchoolPatch {
    pub name: Option<String>,
    pub urn: Option<String>,
    pub phase: Option<Phase>,
    pub status: Option<SchoolStatus>,
}

pub async fn update(db: &Db, caller: &Caller, id: SchoolId, patch: SchoolPatch) -> DomainResult<school::Model> {
    let name = patch.name.as_deref().map(|n| Name::parse("name", n)).transpose();
    let urn = patch.urn.as_deref().map(|u| Urn::parse("urn", u)).transpose();
    let txn = db::begin_write(db).await?;
    let current = for_change(&txn, caller, id).await?;
    parse_all!(name = name, urn = urn);
    if patch.status == Some(SchoolStatus::Archived) {
        return Err(DomainError::invalid(
            "status",
            FieldErrorCode::Invalid,
            "use archiveSchool to archive a school",
        ));
    }
    let mut changed = Vec::new();
    let mut row: school::ActiveModel = current.clone().into();
    if let Some(name) = name {
        changed.push("name");
        row.name = Set(name.into_inner());
    }
    if let Some(urn) = urn {
        ensure_urn_free(&txn, current.service_id, &urn, Some(id)).await?;
        changed.push("urn");
        row.urn = Set(urn.into_inner());
    }
    if let Some(phase) = patch.phase {
        changed.push("phase");
        row.phase = Set(phase);
    }
    if let Some(status) = patch.status {
        changed.push("status");
        row.status = Set(status);
        row.archived_at = Set(None);
    }
    row.updated_at = Set(Utc::now());
    let saved = Door::open(&txn, caller, Action::ManageSchools)
        .await?
        .update(row)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("school.update", "School", id)
            .in_school(saved.service_id, Some(id))
            .detail(serde_json::json!({ "changed": changed })),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Archives a school: it stays, with its history, but is no longer open for work.
pub async fn archive(db: &Db, caller: &Caller, id: SchoolId) -> DomainResult<school::Model> {
    let txn = db::begin_write(db).await?;
    let current = for_change(&txn, caller, id).await?;
    if current.status == SchoolStatus::Archived {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "the school is already archived",
        ));
    }
    let now = Utc::now();
    let mut row: school::ActiveModel = current.into();
    row.status = Set(SchoolStatus::Archived);
    row.archived_at = Set(Some(now));
    row.updated_at = Set(now);
    let saved = Door::open(&txn, caller, Action::ManageSchools)
        .await?
        .update(row)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("school.archive", "School", id).in_school(saved.service_id, Some(id)),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Adds a problem (at `field.N`) for each of `ids` that is not an open school of `service`: one
/// statement for all of them.
pub async fn check_open(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    ids: &[SchoolId],
    field: &str,
    p: &mut Problems,
) -> DomainResult<()> {
    let found = Door::service(conn, service)
        .get_many::<school::Entity, _>(ids.to_vec())
        .await?;
    for (i, s) in ids.iter().enumerate() {
        match found.iter().find(|f| f.id == *s) {
            None => p.add(
                &format!("{field}.{i}"),
                FieldErrorCode::NotFound,
                "no such school in this service",
            ),
            Some(f) if f.status != SchoolStatus::Open => p.add(
                &format!("{field}.{i}"),
                FieldErrorCode::InvalidState,
                "the school is not open",
            ),
            Some(_) => {}
        }
    }
    Ok(())
}
