//! People and their memberships. A person is one account (one email) that may hold roles in
//! several services and schools; each service sees only the memberships it granted.

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::schools;
use crate::access::{Action, Caller, Role};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{membership, person};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::identity;
use crate::ids::{MembershipId, PersonId, SchoolId, ServiceId};
use crate::model::PersonStatus;
use crate::page::{self, Page, PageRequest, Position, SortKey};
use crate::parse_all;
use crate::values::{Email, Name};

/// How long an invitation code stays valid.
pub const INVITATION_DAYS: i64 = 14;

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub service_id: Option<ServiceId>,
    pub school_id: Option<SchoolId>,
    pub role: Option<Role>,
    pub name: Option<String>,
}

/// People who hold a membership the caller can see, by name.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: Filter,
    page: &PageRequest,
) -> DomainResult<Page<person::Model>> {
    let window = page.window()?;
    let door = Door::open(conn, caller, Action::ViewPeople).await?;
    door.require_any()?;
    let mut holds = door
        .find::<membership::Entity>()
        .filter(membership::Column::RevokedAt.is_null());
    if let Some(s) = filter.service_id {
        holds = holds.filter(membership::Column::ServiceId.eq(s));
    }
    if let Some(s) = filter.school_id {
        holds = holds.filter(membership::Column::SchoolId.eq(s));
    }
    if let Some(r) = filter.role {
        holds = holds.filter(membership::Column::Role.eq(r));
    }
    let holders = holds.select_only().column(membership::Column::PersonId).into_query();
    let mut select = door
        .find::<person::Entity>()
        .filter(person::Column::Id.in_subquery(holders));
    if let Some(name) = filter.name.map(|n| n.trim().to_lowercase()).filter(|n| !n.is_empty()) {
        let pattern = format!(
            "%{}%",
            name.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
        );
        select = select.filter(
            Expr::expr(Func::lower(Expr::col(person::Column::DisplayName)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
        );
    }
    page::fetch(
        conn,
        select,
        person::Column::Id,
        SortKey::Text(person::Column::DisplayName),
        false,
        &window,
        |m: &person::Model| Position {
            key: Some(m.display_name.clone()),
            id: m.id.0,
        },
    )
    .await
}

/// One person the caller can see (themselves, or someone holding a membership in reach).
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: PersonId) -> DomainResult<person::Model> {
    Door::open(conn, caller, Action::ViewPeople)
        .await?
        .get::<person::Entity>(id)
        .await
}

/// Several people at once (for the API's batch loading); those out of reach are left out.
pub async fn get_many(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    ids: &[PersonId],
) -> DomainResult<Vec<person::Model>> {
    Door::open(conn, caller, Action::ViewPeople)
        .await?
        .get_many::<person::Entity, _>(ids.iter().copied())
        .await
}

/// A person's active memberships, limited to those the caller can see (all of their own).
pub async fn memberships_of(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: PersonId,
) -> DomainResult<Vec<membership::Model>> {
    Ok(Door::open(conn, caller, Action::ViewPeople)
        .await?
        .find::<membership::Entity>()
        .filter(membership::Column::PersonId.eq(id))
        .filter(membership::Column::RevokedAt.is_null())
        .order_by_asc(membership::Column::Id)
        .all(conn)
        .await?)
}

/// One active membership the caller can see.
pub async fn membership(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: MembershipId,
) -> DomainResult<membership::Model> {
    Door::open(conn, caller, Action::ViewPeople)
        .await?
        .find::<membership::Entity>()
        .filter(membership::Column::Id.eq(id))
        .filter(membership::Column::RevokedAt.is_null())
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Where a membership is held: a whole service (administrator, EP) or one school.
fn check_place(role: Role, school: Option<SchoolId>) -> DomainResult<()> {
    match (role, school) {
        (r, None) if r.is_service_role() => Ok(()),
        (r, Some(_)) if r.is_school_role() => Ok(()),
        (Role::PartnerClient, _) => Err(DomainError::invalid(
            "role",
            FieldErrorCode::Invalid,
            "partner clients are not people",
        )),
        (_, None) => Err(DomainError::invalid(
            "schoolId",
            FieldErrorCode::Required,
            "a school role needs a school",
        )),
        (_, Some(_)) => Err(DomainError::invalid(
            "schoolId",
            FieldErrorCode::Invalid,
            "a service role is held in the whole service, not a school",
        )),
    }
}

async fn insert_membership(
    door: &Door<'_, impl ConnectionTrait>,
    caller: &Caller,
    person: PersonId,
    service: ServiceId,
    school: Option<SchoolId>,
    role: Role,
) -> DomainResult<membership::Model> {
    let existing = door
        .find::<membership::Entity>()
        .filter(membership::Column::PersonId.eq(person))
        .filter(membership::Column::ServiceId.eq(service))
        .filter(match school {
            Some(s) => membership::Column::SchoolId.eq(s),
            None => membership::Column::SchoolId.is_null(),
        })
        .filter(membership::Column::Role.eq(role))
        .filter(membership::Column::RevokedAt.is_null())
        .count(door.conn())
        .await?;
    if existing > 0 {
        return Err(DomainError::invalid(
            "role",
            FieldErrorCode::Taken,
            "this person already holds this role here",
        ));
    }
    let row = door
        .insert(membership::ActiveModel {
            id: Set(MembershipId::new()),
            person_id: Set(person),
            service_id: Set(service),
            school_id: Set(school),
            role: Set(role),
            created_at: Set(Utc::now()),
            created_by: Set(caller.principal.person_id()),
            revoked_at: Set(None),
            revoked_by: Set(None),
        })
        .await?;
    audit::log(
        door.conn(),
        caller,
        Entry::new("membership.grant", "Membership", row.id)
            .in_school(service, school)
            .detail(serde_json::json!({ "personId": person, "role": role.as_str() })),
    )
    .await?;
    Ok(row)
}

pub struct Invite {
    pub service_id: ServiceId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub school_id: Option<SchoolId>,
}

/// The outcome of an invitation: the person, their new membership, and, for someone who has
/// never signed in, a one-time code to set a password (shown once; only its digest is kept).
pub struct Invited {
    pub person: person::Model,
    pub membership: membership::Model,
    pub invitation_code: Option<String>,
    pub invitation_expires_at: Option<chrono::DateTime<Utc>>,
}

/// Invites someone into a service (administrators): creates the account if the email is new,
/// grants the role, and issues an invitation code unless the person can already sign in.
pub async fn invite(db: &Db, caller: &Caller, input: Invite) -> DomainResult<Invited> {
    caller
        .principal
        .require_service_wide_for(Action::ManagePeople, input.service_id, input.school_id)?;
    parse_all!(
        email = Email::parse("email", &input.email),
        name = Name::parse("displayName", &input.display_name)
    );
    check_place(input.role, input.school_id)?;
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManagePeople).await?;
    if let Some(school) = input.school_id {
        schools::require_in_service(&txn, input.service_id, school, "schoolId").await?;
    }
    let now = Utc::now();
    let person = match identity::person_by_email(&txn, &email).await? {
        Some(p) => p,
        None => {
            let p = identity::create_person(&txn, email, name, None).await?;
            audit::log(
                &txn,
                caller,
                Entry::new("person.create", "Person", p.id).in_service(input.service_id),
            )
            .await?;
            p
        }
    };
    // Whoever holds an invitation code sets the account's password. So a code is only ever
    // given for an account that belongs to this service alone, and an account another service
    // has invited but that has not yet signed in cannot be invited here until it has.
    let never_signed_in = person.password_hash.is_none() && person.status == PersonStatus::Invited;
    if never_signed_in && identity::belongs_elsewhere(&txn, person.id, input.service_id, false).await? {
        return Err(DomainError::invalid(
            "email",
            FieldErrorCode::NotAllowed,
            "this person has not yet accepted an invitation from another service; invite them once they have signed in",
        ));
    }
    let membership = insert_membership(&door, caller, person.id, input.service_id, input.school_id, input.role).await?;
    let (code, expires) = if never_signed_in {
        let expires = now + Duration::days(INVITATION_DAYS);
        let code = identity::issue_invitation(&txn, person.id, input.service_id, caller.principal.person_id(), expires)
            .await?;
        (Some(code), Some(expires))
    } else {
        (None, None)
    };
    audit::log(
        &txn,
        caller,
        Entry::new("person.invite", "Person", person.id).in_school(input.service_id, input.school_id),
    )
    .await?;
    txn.commit().await?;
    Ok(Invited {
        person,
        membership,
        invitation_code: code,
        invitation_expires_at: expires,
    })
}

/// Sets a first password with an invitation code and signs in (see
/// [`identity::accept_invitation`]).
pub use identity::accept_invitation;

pub struct Grant {
    pub person_id: PersonId,
    pub service_id: ServiceId,
    pub role: Role,
    pub school_id: Option<SchoolId>,
}

/// Grants a role to someone already in the service (administrators).
pub async fn grant(db: &Db, caller: &Caller, input: Grant) -> DomainResult<membership::Model> {
    caller
        .principal
        .require_service_wide_for(Action::ManagePeople, input.service_id, input.school_id)?;
    check_place(input.role, input.school_id)?;
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManagePeople).await?;
    // The person must already be known to this service (or the caller could probe accounts).
    let known = door
        .find::<membership::Entity>()
        .filter(membership::Column::PersonId.eq(input.person_id))
        .filter(membership::Column::ServiceId.eq(input.service_id))
        .count(&txn)
        .await?;
    if known == 0 {
        return Err(DomainError::invalid(
            "personId",
            FieldErrorCode::NotFound,
            "no such person in this service; invite them instead",
        ));
    }
    if let Some(school) = input.school_id {
        schools::require_in_service(&txn, input.service_id, school, "schoolId").await?;
    }
    let row = insert_membership(
        &door,
        caller,
        input.person_id,
        input.service_id,
        input.school_id,
        input.role,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Refuses a change that would leave the service without an active administrator other than
/// `leaving`. Takes the service's row lock first (on PostgreSQL), so that two administrators
/// removing each other at the same moment are decided one after the other.
async fn keeps_an_administrator(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    leaving: PersonId,
    field: &str,
) -> DomainResult<()> {
    let door = Door::service(conn, service);
    door.find::<crate::entities::service::Entity>()
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let active = door
        .find::<person::Entity>()
        .filter(person::Column::Status.eq(PersonStatus::Active))
        .select_only()
        .column(person::Column::Id)
        .into_query();
    let others = door
        .find::<membership::Entity>()
        .filter(membership::Column::Role.eq(Role::ServiceAdmin))
        .filter(membership::Column::RevokedAt.is_null())
        .filter(membership::Column::PersonId.ne(leaving))
        .filter(membership::Column::PersonId.in_subquery(active))
        .count(conn)
        .await?;
    if others == 0 {
        return Err(DomainError::invalid(
            field,
            FieldErrorCode::NotAllowed,
            "a service must keep at least one active administrator",
        ));
    }
    Ok(())
}

/// Ends a membership (administrators). A service keeps at least one administrator.
pub async fn revoke(db: &Db, caller: &Caller, id: MembershipId) -> DomainResult<membership::Model> {
    let txn = db::begin_write(db).await?;
    let current =
        door::for_change::<membership::Entity, _>(&txn, caller, id, Action::ViewPeople, Action::ManagePeople).await?;
    if current.revoked_at.is_some() {
        return Err(DomainError::NotFound);
    }
    if current.role == Role::ServiceAdmin {
        keeps_an_administrator(&txn, current.service_id, current.person_id, "id").await?;
    }
    let now = Utc::now();
    let mut row: membership::ActiveModel = current.into();
    row.revoked_at = Set(Some(now));
    row.revoked_by = Set(caller.principal.person_id());
    let saved = Door::open(&txn, caller, Action::ManagePeople)
        .await?
        .update(row)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("membership.revoke", "Membership", id).in_school(saved.service_id, saved.school_id),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Disables or re-enables an account (administrators). Disabling ends every session at once.
/// An account that also belongs to another service is managed there too, so only its
/// memberships here can be revoked.
pub async fn set_disabled(
    db: &Db,
    caller: &Caller,
    service: ServiceId,
    id: PersonId,
    disabled: bool,
) -> DomainResult<person::Model> {
    let txn = db::begin_write(db).await?;
    if !caller
        .principal
        .static_access(Action::ManagePeople)
        .permits_service_wide(service)
    {
        // Someone the caller cannot see is not found, as a service they are not in would be.
        let sees = caller.principal.visibility().touches_service(service)
            && Door::open(&txn, caller, Action::ViewPeople)
                .await?
                .exists::<person::Entity>(id)
                .await?;
        return Err(if sees {
            DomainError::Refused(crate::access::refusal_text(Action::ManagePeople))
        } else {
            DomainError::NotFound
        });
    }
    let door = Door::open(&txn, caller, Action::ManagePeople).await?;
    let here: Vec<membership::Model> = Door::service(&txn, service)
        .find::<membership::Entity>()
        .filter(membership::Column::PersonId.eq(id))
        .all(&txn)
        .await?;
    if here.is_empty() {
        return Err(DomainError::NotFound);
    }
    if identity::belongs_elsewhere(&txn, id, service, true).await? {
        return Err(DomainError::invalid(
            "personId",
            FieldErrorCode::NotAllowed,
            "this account is also used elsewhere; revoke its memberships in your service instead",
        ));
    }
    if disabled && caller.principal.person_id() == Some(id) {
        return Err(DomainError::invalid(
            "personId",
            FieldErrorCode::NotAllowed,
            "you cannot disable your own account",
        ));
    }
    let current = door.get::<person::Entity>(id).await?;
    if disabled
        && here
            .iter()
            .any(|m| m.role == Role::ServiceAdmin && m.revoked_at.is_none())
    {
        keeps_an_administrator(&txn, service, id, "personId").await?;
    }
    let now = Utc::now();
    let mut row: person::ActiveModel = current.clone().into();
    if disabled {
        row.status = Set(PersonStatus::Disabled);
        row.disabled_at = Set(Some(now));
        identity::end_sessions(&txn, id, now).await?;
    } else {
        row.status = Set(if current.password_hash.is_some() {
            PersonStatus::Active
        } else {
            PersonStatus::Invited
        });
        row.disabled_at = Set(None);
    }
    row.updated_at = Set(now);
    let saved = door.update(row).await?;
    let action = if disabled { "person.disable" } else { "person.enable" };
    audit::log(&txn, caller, Entry::new(action, "Person", id).in_service(service)).await?;
    txn.commit().await?;
    Ok(saved)
}
