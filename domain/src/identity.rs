//! Who is who across the deployment: accounts, signing in (passwords, sessions with rotating
//! refresh tokens), invitations, partner credentials, and turning a verified token's subject
//! into a [`Principal`] from the database (so that a disabled account, a revoked membership or a
//! signed-out session takes effect at once).
//!
//! This is the named exception to the door ([`crate::door`]): the rows a principal is built
//! from cannot be reached through a principal. Nothing here returns another tenant's data to a
//! caller; each function answers one question about one account, credential or session.
#![allow(
    clippy::disallowed_methods,
    reason = "the rows a principal is built from are read before there is a principal to scope them by"
)]

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use crate::access::{Actor, Caller, Membership, Principal};
use crate::audit::{self, Entry, Who};
use crate::db::{self, Db};
use crate::entities::{invitation, membership, partner_client, partner_client_school, person, refresh_token, session};
use crate::error::{DomainError, DomainResult};
use crate::ids::{InvitationId, PersonId, RefreshTokenId, SessionId};
use crate::model::{PersonStatus, SignInMethod};
use crate::secrets;
use crate::values::Email;

/// A new or refreshed sign-in: whose, which session, and the refresh token (shown once).
#[derive(Debug)]
pub struct SignedIn {
    pub person: person::Model,
    pub session_id: SessionId,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

async fn issue_refresh_token(
    conn: &impl ConnectionTrait,
    session: SessionId,
    expires_at: DateTime<Utc>,
) -> DomainResult<String> {
    let token = secrets::new_token("rt_");
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(RefreshTokenId::new()),
        session_id: Set(session),
        token_digest: Set(secrets::token_digest(&token)),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        used_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(token)
}

/// Signs in with email and password. Every failure is the same `Unauthenticated`, and takes
/// about as long, whether or not the account exists.
pub async fn sign_in(
    db: &Db,
    gate: &secrets::HashGate,
    email: &str,
    password: &str,
    session_ttl: std::time::Duration,
    request_id: &str,
) -> DomainResult<SignedIn> {
    let found = match Email::parse("email", email) {
        Ok(email) => person_by_email(db, &email).await?,
        Err(_) => None,
    };
    let active = found.as_ref().filter(|p| p.status == PersonStatus::Active);
    // Every attempt verifies one hash (a dummy when there is no usable account), off the async
    // workers and through the gate: argon2 is deliberately slow and takes memory.
    let hash = active.and_then(|p| p.password_hash.clone());
    let password = password.to_owned();
    let matches = gate
        .run(move |memory| match hash {
            Some(h) => secrets::verify_password_in(memory, &password, &h),
            None => {
                secrets::verify_password_against_nothing(memory, &password);
                false
            }
        })
        .await?;
    let (Some(person), true) = (active.cloned(), matches) else {
        if let Some(p) = &found {
            let action = if p.status == PersonStatus::Active {
                "person.sign_in_failed"
            } else {
                "person.sign_in_refused"
            };
            let txn = db::begin_write(db).await?;
            audit::record(&txn, Who::Anonymous { request_id }, Entry::new(action, "Person", p.id)).await?;
            txn.commit().await?;
        }
        return Err(DomainError::Unauthenticated);
    };
    let txn = db::begin_write(db).await?;
    let signed_in = start_session(&txn, person, SignInMethod::Password, session_ttl).await?;
    let who = Who::Person {
        person: signed_in.person.id,
        request_id,
    };
    audit::record(&txn, who, Entry::new("person.sign_in", "Person", signed_in.person.id)).await?;
    txn.commit().await?;
    Ok(signed_in)
}

pub(crate) async fn start_session(
    conn: &impl ConnectionTrait,
    person: person::Model,
    method: SignInMethod,
    ttl: std::time::Duration,
) -> DomainResult<SignedIn> {
    let now = Utc::now();
    let expires = now + Duration::from_std(ttl).unwrap_or(Duration::days(30));
    let session_id = SessionId::new();
    session::Entity::insert(session::ActiveModel {
        id: Set(session_id),
        person_id: Set(person.id),
        method: Set(method),
        created_at: Set(now),
        expires_at: Set(expires),
        revoked_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    let refresh = issue_refresh_token(conn, session_id, expires).await?;
    let mut row: person::ActiveModel = person.into();
    row.last_sign_in_at = Set(Some(now));
    let person = row.update(conn).await?;
    Ok(SignedIn {
        person,
        session_id,
        refresh_token: refresh,
        refresh_expires_at: expires,
    })
}

/// Exchanges a refresh token for a new one in the same session. A refresh token works once: if
/// a used one comes back, someone copied it, so the whole session is revoked.
pub async fn refresh(db: &Db, token: &str, request_id: &str) -> DomainResult<SignedIn> {
    let txn = db::begin_write(db).await?;
    let now = Utc::now();
    let Some(stored) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenDigest.eq(secrets::token_digest(token)))
        .one(&txn)
        .await?
    else {
        return Err(DomainError::Unauthenticated);
    };
    let session = session::Entity::find_by_id(stored.session_id)
        .one(&txn)
        .await?
        .ok_or(DomainError::Unauthenticated)?;
    if stored.used_at.is_some() {
        if session.revoked_at.is_none() {
            revoke_session(&txn, session.id, now).await?;
            audit::record(
                &txn,
                Who::Anonymous { request_id },
                Entry::new("session.refresh_token_reused", "Session", session.id),
            )
            .await?;
            txn.commit().await?;
        }
        return Err(DomainError::Unauthenticated);
    }
    if stored.expires_at <= now || session.revoked_at.is_some() || session.expires_at <= now {
        return Err(DomainError::Unauthenticated);
    }
    let person = person::Entity::find_by_id(session.person_id)
        .one(&txn)
        .await?
        .filter(|p| p.status == PersonStatus::Active)
        .ok_or(DomainError::Unauthenticated)?;
    // Used once: only the request that marks it used may go on. A concurrent request with the
    // same token finds it used, which is reuse, and ends the session.
    let marked = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(stored.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if marked.rows_affected != 1 {
        revoke_session(&txn, session.id, now).await?;
        audit::record(
            &txn,
            Who::Anonymous { request_id },
            Entry::new("session.refresh_token_reused", "Session", session.id),
        )
        .await?;
        txn.commit().await?;
        return Err(DomainError::Unauthenticated);
    }
    let next = issue_refresh_token(&txn, session.id, session.expires_at).await?;
    let who = Who::Person {
        person: person.id,
        request_id,
    };
    audit::record(&txn, who, Entry::new("session.refresh", "Session", session.id)).await?;
    txn.commit().await?;
    Ok(SignedIn {
        person,
        session_id: session.id,
        refresh_token: next,
        refresh_expires_at: session.expires_at,
    })
}

async fn revoke_session(conn: &impl ConnectionTrait, id: SessionId, now: DateTime<Utc>) -> DomainResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends the caller's session (or, `everywhere`, every session of theirs): the access and
/// refresh tokens stop working at once.
pub async fn sign_out(db: &Db, caller: &Caller, session: SessionId, everywhere: bool) -> DomainResult<()> {
    let person = caller.principal.person_id().ok_or(DomainError::Forbidden)?;
    let txn = db::begin_write(db).await?;
    let owned = session::Entity::find_by_id(session)
        .filter(session::Column::PersonId.eq(person))
        .one(&txn)
        .await?;
    if owned.is_none() {
        return Err(DomainError::NotFound);
    }
    let now = Utc::now();
    if everywhere {
        end_sessions(&txn, person, now).await?;
    } else {
        revoke_session(&txn, session, now).await?;
    }
    let entry =
        Entry::new("person.sign_out", "Session", session).detail(serde_json::json!({ "everywhere": everywhere }));
    audit::log(&txn, caller, entry).await?;
    txn.commit().await?;
    Ok(())
}

/// The memberships that make a person's principal.
async fn principal_of(conn: &impl ConnectionTrait, person: PersonId) -> DomainResult<Principal> {
    let memberships = membership::Entity::find()
        .filter(membership::Column::PersonId.eq(person))
        .filter(membership::Column::RevokedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|m| Membership {
            service_id: m.service_id,
            school_id: m.school_id,
            role: m.role,
        })
        .collect();
    Ok(Principal {
        actor: Actor::Person(person),
        memberships,
        partner: None,
    })
}

/// The principal behind an access token of scps's own: the person must be active and the
/// session neither revoked nor expired.
pub async fn session_principal(
    conn: &impl ConnectionTrait,
    person: PersonId,
    session: SessionId,
) -> DomainResult<Principal> {
    use sea_orm::FromQueryResult;
    use sea_orm::sea_query::{ExprTrait, JoinType, Query};

    /// A live session's active person, with each of their memberships (none: one row of nulls).
    #[derive(Debug, FromQueryResult)]
    struct Row {
        service_id: Option<crate::ids::ServiceId>,
        school_id: Option<crate::ids::SchoolId>,
        role: Option<crate::access::Role>,
    }
    // One statement for every request a person makes: the session must be live and the person
    // active (no row otherwise), and the memberships come with them.
    let mut q = Query::select();
    q.column((membership::Entity, membership::Column::ServiceId))
        .column((membership::Entity, membership::Column::SchoolId))
        .column((membership::Entity, membership::Column::Role))
        .from(session::Entity)
        .inner_join(
            person::Entity,
            Expr::col((person::Entity, person::Column::Id)).equals((session::Entity, session::Column::PersonId)),
        )
        .join(
            JoinType::LeftJoin,
            membership::Entity,
            Expr::col((membership::Entity, membership::Column::PersonId))
                .equals((person::Entity, person::Column::Id))
                .and(Expr::col((membership::Entity, membership::Column::RevokedAt)).is_null()),
        )
        .and_where(Expr::col((session::Entity, session::Column::Id)).eq(session))
        .and_where(Expr::col((session::Entity, session::Column::PersonId)).eq(person))
        .and_where(Expr::col((session::Entity, session::Column::RevokedAt)).is_null())
        .and_where(Expr::col((session::Entity, session::Column::ExpiresAt)).gt(Utc::now()))
        .and_where(Expr::col((person::Entity, person::Column::Status)).eq(PersonStatus::Active));
    let statement = conn.get_database_backend().build(&q);
    let rows = Row::find_by_statement(statement).all(conn).await?;
    if rows.is_empty() {
        return Err(DomainError::Unauthenticated);
    }
    let memberships = rows
        .into_iter()
        .filter_map(|r| match (r.service_id, r.role) {
            (Some(service_id), Some(role)) => Some(Membership {
                service_id,
                school_id: r.school_id,
                role,
            }),
            _ => None,
        })
        .collect();
    Ok(Principal {
        actor: Actor::Person(person),
        memberships,
        partner: None,
    })
}

/// The principal behind an external identity provider's token, found by its email claim.
pub async fn email_principal(conn: &impl ConnectionTrait, email: &str) -> DomainResult<Principal> {
    let email = Email::parse("email", email).map_err(|_| DomainError::Unauthenticated)?;
    let person = person_by_email(conn, &email)
        .await?
        .filter(|p| matches!(p.status, PersonStatus::Active | PersonStatus::Invited))
        .ok_or(DomainError::Unauthenticated)?;
    principal_of(conn, person.id).await
}

/// The account with this email, if there is one.
pub(crate) async fn person_by_email(conn: &impl ConnectionTrait, email: &Email) -> DomainResult<Option<person::Model>> {
    Ok(person::Entity::find()
        .filter(person::Column::Email.eq(email.as_str()))
        .one(conn)
        .await?)
}

/// A new account. `password_hash` makes it active at once (a service's first administrator);
/// without one it waits for its invitation to be accepted.
pub(crate) async fn create_person(
    conn: &impl ConnectionTrait,
    email: Email,
    name: crate::values::Name,
    password_hash: Option<String>,
) -> DomainResult<person::Model> {
    let now = Utc::now();
    let status = if password_hash.is_some() {
        PersonStatus::Active
    } else {
        PersonStatus::Invited
    };
    Ok(person::Entity::insert(person::ActiveModel {
        id: Set(PersonId::new()),
        email: Set(email.into_inner()),
        display_name: Set(name.into_inner()),
        password_hash: Set(password_hash),
        status: Set(status),
        created_at: Set(now),
        updated_at: Set(now),
        disabled_at: Set(None),
        last_sign_in_at: Set(None),
    })
    .exec_with_returning(conn)
    .await?)
}

/// Whether the account holds (or held) a membership in a service other than this one: such an
/// account is not this service's alone to set up or switch off.
pub(crate) async fn belongs_elsewhere(
    conn: &impl ConnectionTrait,
    person: PersonId,
    service: crate::ids::ServiceId,
    active_only: bool,
) -> DomainResult<bool> {
    let mut q = membership::Entity::find()
        .filter(membership::Column::PersonId.eq(person))
        .filter(membership::Column::ServiceId.ne(service));
    if active_only {
        q = q.filter(membership::Column::RevokedAt.is_null());
    }
    Ok(q.count(conn).await? > 0)
}

/// Ends every session of an account at once (signing out everywhere, disabling).
pub(crate) async fn end_sessions(
    conn: &impl ConnectionTrait,
    person: PersonId,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::PersonId.eq(person))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// A one-time code that sets an invited account's first password; only its digest is kept.
pub(crate) async fn issue_invitation(
    conn: &impl ConnectionTrait,
    person: PersonId,
    service: crate::ids::ServiceId,
    created_by: Option<PersonId>,
    expires_at: DateTime<Utc>,
) -> DomainResult<String> {
    let code = secrets::new_token("inv_");
    invitation::Entity::insert(invitation::ActiveModel {
        id: Set(InvitationId::new()),
        person_id: Set(person),
        service_id: Set(service),
        token_digest: Set(secrets::token_digest(&code)),
        created_at: Set(Utc::now()),
        created_by: Set(created_by),
        expires_at: Set(expires_at),
        accepted_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(code)
}

/// Sets a first password with an invitation code and signs in, in one transaction: the account
/// becomes active and a session starts, or nothing happens.
pub async fn accept_invitation(
    db: &Db,
    gate: &secrets::HashGate,
    code: &str,
    password: &str,
    session_ttl: std::time::Duration,
    request_id: &str,
) -> DomainResult<SignedIn> {
    crate::parse_all!(password = crate::values::Password::parse("password", password));
    let plain = password.expose().to_owned();
    // argon2 is deliberately slow and takes memory: off the async workers, through the gate.
    let hash = gate
        .run(move |memory| secrets::hash_password_in(memory, &plain))
        .await?
        .map_err(|e| DomainError::internal("hashing a password", PasswordHashError(e.to_string())))?;
    let txn = db::begin_write(db).await?;
    let now = Utc::now();
    let invalid = || {
        DomainError::invalid(
            "code",
            crate::FieldErrorCode::Invalid,
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
    if person.status != PersonStatus::Invited || belongs_elsewhere(&txn, person.id, inv.service_id, false).await? {
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
    let signed_in = start_session(&txn, saved, SignInMethod::Password, session_ttl).await?;
    txn.commit().await?;
    Ok(signed_in)
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PasswordHashError(pub String);

/// A partner client by its credentials' id, with the schools it is limited to.
pub(crate) async fn partner_by_client_id(
    conn: &impl ConnectionTrait,
    client_id: &str,
) -> DomainResult<Option<(partner_client::Model, Option<Vec<crate::ids::SchoolId>>)>> {
    let Some(row) = partner_client::Entity::find()
        .filter(partner_client::Column::ClientId.eq(client_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let schools = partner_schools(conn, &row).await?;
    Ok(Some((row, schools)))
}

/// A partner client by its row id (the subject of its tokens), with its schools.
pub(crate) async fn partner_by_id(
    conn: &impl ConnectionTrait,
    id: crate::ids::PartnerClientId,
) -> DomainResult<Option<(partner_client::Model, Option<Vec<crate::ids::SchoolId>>)>> {
    let Some(row) = partner_client::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    let schools = partner_schools(conn, &row).await?;
    Ok(Some((row, schools)))
}

async fn partner_schools(
    conn: &impl ConnectionTrait,
    row: &partner_client::Model,
) -> DomainResult<Option<Vec<crate::ids::SchoolId>>> {
    if !row.limited_to_schools {
        return Ok(None);
    }
    let links = partner_client_school::Entity::find()
        .filter(partner_client_school::Column::PartnerClientId.eq(row.id))
        .all(conn)
        .await?;
    Ok(Some(links.into_iter().map(|l| l.school_id).collect()))
}

/// Every service of the deployment, for whoever runs it (`scps service list`), by name.
pub async fn all_services(conn: &impl ConnectionTrait) -> DomainResult<Vec<crate::entities::service::Model>> {
    Ok(crate::entities::service::Entity::find()
        .order_by_asc(crate::entities::service::Column::Name)
        .all(conn)
        .await?)
}
