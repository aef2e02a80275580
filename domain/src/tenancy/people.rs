//! People and their memberships. A person is one account (one email) that may hold roles in
//! several services and schools; each service sees only the memberships it granted.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::schools;
use crate::access::{Access, Action, Caller, Role};
use crate::audit::{self, Entry, Who};
use crate::db::{self, Db};
use crate::entities::{invitation, membership, person, session};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{InvitationId, MembershipId, PersonId, SchoolId, ServiceId};
use crate::model::PersonStatus;
use crate::page::{self, Page, PageRequest, Position, SortKey};
use crate::parse_all;
use crate::secrets;
use crate::values::{Email, Name, Password};

/// How long an invitation code stays valid.
pub const INVITATION_DAYS: i64 = 14;

/// Active memberships whose holders the caller may see under `access` (for `ViewPeople`):
/// those in reach, and for members of a school also the administrators and EPs of its
/// service, whom they work with.
fn memberships_within(access: &Access) -> Condition {
    let mut any =
        Condition::any().add(access.condition(membership::Column::ServiceId, Some(membership::Column::SchoolId), None));
    let school_services: BTreeSet<ServiceId> = access.schools.values().copied().collect();
    if !school_services.is_empty() {
        any = any.add(
            Condition::all()
                .add(membership::Column::SchoolId.is_null())
                .add(membership::Column::ServiceId.is_in(school_services)),
        );
    }
    Condition::all().add(membership::Column::RevokedAt.is_null()).add(any)
}

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
    let access = caller.principal.static_access(Action::ViewPeople);
    if access.is_empty() {
        return Err(DomainError::Forbidden);
    }
    let mut holds = memberships_within(&access);
    if let Some(s) = filter.service_id {
        holds = holds.add(membership::Column::ServiceId.eq(s));
    }
    if let Some(s) = filter.school_id {
        holds = holds.add(membership::Column::SchoolId.eq(s));
    }
    if let Some(r) = filter.role {
        holds = holds.add(membership::Column::Role.eq(r));
    }
    let subquery = Query::select()
        .column(membership::Column::PersonId)
        .from(membership::Entity)
        .cond_where(holds)
        .to_owned();
    let mut select = person::Entity::find().filter(person::Column::Id.in_subquery(subquery));
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
    if caller.principal.person_id() != Some(id) {
        let access = caller.principal.static_access(Action::ViewPeople);
        let visible = membership::Entity::find()
            .filter(membership::Column::PersonId.eq(id))
            .filter(memberships_within(&access))
            .count(conn)
            .await?;
        if visible == 0 {
            return Err(DomainError::NotFound);
        }
    }
    person::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Several people at once (for the API's batch loading); those out of reach are left out.
pub async fn get_many(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    ids: &[PersonId],
) -> DomainResult<Vec<person::Model>> {
    let access = caller.principal.static_access(Action::ViewPeople);
    let mut visible = Condition::any().add(
        person::Column::Id.in_subquery(
            Query::select()
                .column(membership::Column::PersonId)
                .from(membership::Entity)
                .cond_where(memberships_within(&access))
                .to_owned(),
        ),
    );
    if let Some(me) = caller.principal.person_id() {
        visible = visible.add(person::Column::Id.eq(me));
    }
    Ok(person::Entity::find()
        .filter(person::Column::Id.is_in(ids.iter().copied()))
        .filter(visible)
        .all(conn)
        .await?)
}

/// A person's active memberships, limited to those the caller can see.
pub async fn memberships_of(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: PersonId,
) -> DomainResult<Vec<membership::Model>> {
    let mut select = membership::Entity::find()
        .filter(membership::Column::PersonId.eq(id))
        .filter(membership::Column::RevokedAt.is_null());
    if caller.principal.person_id() != Some(id) {
        select = select.filter(memberships_within(&caller.principal.static_access(Action::ViewPeople)));
    }
    Ok(select.order_by_asc(membership::Column::Id).all(conn).await?)
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
    conn: &impl ConnectionTrait,
    caller: &Caller,
    person: PersonId,
    service: ServiceId,
    school: Option<SchoolId>,
    role: Role,
) -> DomainResult<membership::Model> {
    let existing = membership::Entity::find()
        .filter(membership::Column::PersonId.eq(person))
        .filter(membership::Column::ServiceId.eq(service))
        .filter(match school {
            Some(s) => membership::Column::SchoolId.eq(s),
            None => membership::Column::SchoolId.is_null(),
        })
        .filter(membership::Column::Role.eq(role))
        .filter(membership::Column::RevokedAt.is_null())
        .count(conn)
        .await?;
    if existing > 0 {
        return Err(DomainError::invalid(
            "role",
            FieldErrorCode::Taken,
            "this person already holds this role here",
        ));
    }
    let row = membership::Entity::insert(membership::ActiveModel {
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
    .exec_with_returning(conn)
    .await?;
    audit::log(
        conn,
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
        .require_service_wide(Action::ManagePeople, input.service_id)?;
    parse_all!(
        email = Email::parse("email", &input.email),
        name = Name::parse("displayName", &input.display_name)
    );
    check_place(input.role, input.school_id)?;
    let txn = db::begin_write(db).await?;
    if let Some(school) = input.school_id {
        schools::require_in_service(&txn, input.service_id, school, "schoolId").await?;
    }
    let now = Utc::now();
    let person = match person::Entity::find()
        .filter(person::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?
    {
        Some(p) => p,
        None => {
            let p = person::Entity::insert(person::ActiveModel {
                id: Set(PersonId::new()),
                email: Set(email.into_inner()),
                display_name: Set(name.into_inner()),
                password_hash: Set(None),
                status: Set(PersonStatus::Invited),
                created_at: Set(now),
                updated_at: Set(now),
                disabled_at: Set(None),
                last_sign_in_at: Set(None),
            })
            .exec_with_returning(&txn)
            .await?;
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
    if never_signed_in && elsewhere(&txn, person.id, input.service_id).await? {
        return Err(DomainError::invalid(
            "email",
            FieldErrorCode::NotAllowed,
            "this person has not yet accepted an invitation from another service; invite them once they have signed in",
        ));
    }
    let membership = insert_membership(&txn, caller, person.id, input.service_id, input.school_id, input.role).await?;
    let (code, expires) = if never_signed_in {
        let code = secrets::new_token("inv_");
        let expires = now + Duration::days(INVITATION_DAYS);
        invitation::Entity::insert(invitation::ActiveModel {
            id: Set(InvitationId::new()),
            person_id: Set(person.id),
            service_id: Set(input.service_id),
            token_digest: Set(secrets::token_digest(&code)),
            created_at: Set(now),
            created_by: Set(caller.principal.person_id()),
            expires_at: Set(expires),
            accepted_at: Set(None),
        })
        .exec_without_returning(&txn)
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

/// Whether the person holds (or held) a membership in a service other than this one.
async fn elsewhere(conn: &impl ConnectionTrait, person: PersonId, service: ServiceId) -> DomainResult<bool> {
    Ok(membership::Entity::find()
        .filter(membership::Column::PersonId.eq(person))
        .filter(membership::Column::ServiceId.ne(service))
        .count(conn)
        .await?
        > 0)
}

/// Sets a first password with an invitation code and signs in, in one transaction: the account
/// becomes active and a session starts, or nothing happens.
pub async fn accept_invitation(
    db: &Db,
    code: &str,
    password: &str,
    session_ttl: std::time::Duration,
    request_id: &str,
) -> DomainResult<crate::identity::SignedIn> {
    parse_all!(password = Password::parse("password", password));
    let plain = password.expose().to_owned();
    // argon2 is deliberately slow: keep it off the async workers.
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&plain))
        .await
        .map_err(|e| DomainError::internal("hashing a password", e))?
        .map_err(|e| DomainError::internal("hashing a password", super::services::PasswordHashError(e.to_string())))?;
    let txn = db::begin_write(db).await?;
    let now = Utc::now();
    let invalid = || {
        DomainError::invalid(
            "code",
            FieldErrorCode::Invalid,
            "this invitation code is not valid or has expired",
        )
    };
    let inv = invitation::Entity::find()
        .filter(invitation::Column::TokenDigest.eq(secrets::token_digest(code)))
        .one(&txn)
        .await?
        .filter(|i| i.accepted_at.is_none() && i.expires_at > now)
        .ok_or_else(invalid)?;
    let person = person::Entity::find_by_id(inv.person_id)
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    // A code sets the first password of an account of this service alone, never another's.
    if person.status != PersonStatus::Invited || elsewhere(&txn, person.id, inv.service_id).await? {
        return Err(invalid());
    }
    // Accepted once: a concurrent request with the same code finds it taken.
    let marked = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(inv.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?;
    if marked.rows_affected != 1 {
        return Err(invalid());
    }
    let mut row: person::ActiveModel = person.into();
    row.password_hash = Set(Some(hash));
    row.status = Set(PersonStatus::Active);
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    audit::record(
        &txn,
        Who::Person {
            person: saved.id,
            request_id,
        },
        Entry::new("person.accept_invitation", "Person", saved.id).in_service(inv.service_id),
    )
    .await?;
    let signed_in =
        crate::identity::start_session(&txn, saved, crate::model::SignInMethod::Password, session_ttl).await?;
    txn.commit().await?;
    Ok(signed_in)
}

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
        .require_service_wide(Action::ManagePeople, input.service_id)?;
    check_place(input.role, input.school_id)?;
    let txn = db::begin_write(db).await?;
    // The person must already be known to this service (or the caller could probe accounts).
    let known = membership::Entity::find()
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
        &txn,
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
    crate::entities::service::Entity::find_by_id(service)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let active_admins = Query::select()
        .column(person::Column::Id)
        .from(person::Entity)
        .and_where(person::Column::Status.eq(PersonStatus::Active))
        .to_owned();
    let others = membership::Entity::find()
        .filter(membership::Column::ServiceId.eq(service))
        .filter(membership::Column::Role.eq(Role::ServiceAdmin))
        .filter(membership::Column::RevokedAt.is_null())
        .filter(membership::Column::PersonId.ne(leaving))
        .filter(membership::Column::PersonId.in_subquery(active_admins))
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
    let current = membership::Entity::find_by_id(id)
        .filter(membership::Column::RevokedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if !caller
        .principal
        .static_access(Action::ManagePeople)
        .permits_service_wide(current.service_id)
    {
        return Err(caller.principal.refusal(current.service_id, current.school_id));
    }
    if current.role == Role::ServiceAdmin {
        keeps_an_administrator(&txn, current.service_id, current.person_id, "id").await?;
    }
    let now = Utc::now();
    let mut row: membership::ActiveModel = current.into();
    row.revoked_at = Set(Some(now));
    row.revoked_by = Set(caller.principal.person_id());
    let saved = row.update(&txn).await?;
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
    caller.principal.require_service_wide(Action::ManagePeople, service)?;
    let txn = db::begin_write(db).await?;
    let places: Vec<membership::Model> = membership::Entity::find()
        .filter(membership::Column::PersonId.eq(id))
        .all(&txn)
        .await?;
    if !places.iter().any(|m| m.service_id == service) {
        return Err(DomainError::NotFound);
    }
    if places.iter().any(|m| m.service_id != service && m.revoked_at.is_none()) {
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
    let current = person::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if disabled
        && places
            .iter()
            .any(|m| m.service_id == service && m.role == Role::ServiceAdmin && m.revoked_at.is_none())
    {
        keeps_an_administrator(&txn, service, id, "personId").await?;
    }
    let now = Utc::now();
    let mut row: person::ActiveModel = current.clone().into();
    if disabled {
        row.status = Set(PersonStatus::Disabled);
        row.disabled_at = Set(Some(now));
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .filter(session::Column::PersonId.eq(id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
    } else {
        row.status = Set(if current.password_hash.is_some() {
            PersonStatus::Active
        } else {
            PersonStatus::Invited
        });
        row.disabled_at = Set(None);
    }
    row.updated_at = Set(now);
    let saved = row.update(&txn).await?;
    let action = if disabled { "person.disable" } else { "person.enable" };
    audit::log(&txn, caller, Entry::new(action, "Person", id).in_service(service)).await?;
    txn.commit().await?;
    Ok(saved)
}
