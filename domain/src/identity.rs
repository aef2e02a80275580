//! Signing in: passwords, sessions with rotating refresh tokens, and turning a verified token's
//! subject into a [`Principal`] from the database (so that a disabled account, a revoked
//! membership or a signed-out session takes effect at once).

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::access::{Actor, Caller, Membership, Principal};
use crate::audit::{self, Entry, Who};
use crate::db::{self, Db};
use crate::entities::{membership, person, refresh_token, session};
use crate::error::{DomainError, DomainResult};
use crate::ids::{PersonId, RefreshTokenId, SessionId};
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
    email: &str,
    password: &str,
    session_ttl: std::time::Duration,
    request_id: &str,
) -> DomainResult<SignedIn> {
    let found = match Email::parse("email", email) {
        Ok(email) => {
            person::Entity::find()
                .filter(person::Column::Email.eq(email.as_str()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let active = found.as_ref().filter(|p| p.status == PersonStatus::Active);
    // Every attempt verifies one hash (a dummy when there is no usable account), off the async
    // workers: argon2 is deliberately slow.
    let hash = active.and_then(|p| p.password_hash.clone());
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || match hash {
        Some(h) => secrets::verify_password(&password, &h),
        None => {
            secrets::verify_password_against_nothing(&password);
            false
        }
    })
    .await
    .map_err(|e| DomainError::internal("verifying a password", e))?;
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
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .filter(session::Column::PersonId.eq(person))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
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
    let now = Utc::now();
    let live = session::Entity::find_by_id(session)
        .filter(session::Column::PersonId.eq(person))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?
        .is_some();
    let active = person::Entity::find_by_id(person)
        .filter(person::Column::Status.eq(PersonStatus::Active))
        .one(conn)
        .await?
        .is_some();
    if !(live && active) {
        return Err(DomainError::Unauthenticated);
    }
    principal_of(conn, person).await
}

/// The principal behind an external identity provider's token, found by its email claim.
pub async fn email_principal(conn: &impl ConnectionTrait, email: &str) -> DomainResult<Principal> {
    let email = Email::parse("email", email).map_err(|_| DomainError::Unauthenticated)?;
    let person = person::Entity::find()
        .filter(person::Column::Email.eq(email.as_str()))
        .filter(person::Column::Status.is_in([PersonStatus::Active, PersonStatus::Invited]))
        .one(conn)
        .await?
        .ok_or(DomainError::Unauthenticated)?;
    principal_of(conn, person.id).await
}
