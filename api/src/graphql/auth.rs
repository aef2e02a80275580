//! Signing in and out: email and password give a short-lived access token and a rotating
//! refresh token; an invitation code sets a first password. Failed attempts are limited per
//! account and per address, in Redis when configured so that every replica counts together;
//! attempts in flight are bounded by the password-hashing gate, not counted (so a burst of right
//! passwords cannot lock an account).

use std::time::Duration;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::identity::{self, SignedIn};
use domain::tenancy::people;
use domain::{DomainError, secrets};

use super::context::{self, Context as RequestContext};
use super::errors::{OrGraphql, payload_of, to_graphql};
use super::tenancy::Person;
use crate::kv::Key;

/// Failed attempts allowed per account, and per address, in a window.
const PER_ACCOUNT: i64 = 10;
const PER_ADDRESS: i64 = 100;
const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Tokens for a signed-in person.
#[derive(SimpleObject)]
pub struct Session {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    /// Exchange with `refreshToken` for new tokens; it works once.
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub person: Person,
}

#[derive(InputObject)]
pub struct SignInInput {
    pub email: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct RefreshTokenInput {
    pub refresh_token: String,
}

#[derive(InputObject)]
pub struct AcceptInvitationInput {
    /// The code from `invitePerson`.
    pub code: String,
    /// At least 12 characters.
    pub password: String,
}

payload!(SignInPayload { session: Session });
payload!(RefreshTokenPayload { session: Session });
payload!(AcceptInvitationPayload { session: Session });

#[derive(InputObject, Default)]
pub struct SignOutInput {
    /// End every session of the signed-in person, not only this one.
    #[graphql(default)]
    pub everywhere: bool,
}

#[derive(SimpleObject)]
pub struct SignOutPayload {
    pub signed_out: bool,
    /// Always empty: kept so that every mutation's payload has the same shape.
    pub user_errors: Vec<super::errors::UserError>,
}

fn session(c: &RequestContext, signed_in: SignedIn) -> Result<Session, DomainError> {
    let access = c
        .services
        .auth
        .issue_for_person(signed_in.person.id, signed_in.session_id, None)?;
    Ok(Session {
        access_token: access.token,
        access_token_expires_at: access.expires_at,
        refresh_token: signed_in.refresh_token,
        refresh_token_expires_at: signed_in.refresh_expires_at,
        person: Person(signed_in.person),
    })
}

/// One limit on sign-ins: the failures counted in the window, the attempts in flight now, and
/// how many failures the window allows.
struct Limit {
    failures: Key,
    in_flight: Key,
    allowed: i64,
}

/// How long an attempt in flight may hold its place if its process dies mid-way.
const IN_FLIGHT_WINDOW: Duration = Duration::from_secs(60);

/// Takes a place for an attempt against each limit, refusing when the failures already counted
/// reach it (for the rest of the window), or when the failures and the attempts in flight
/// together would pass it (for a second: attempts sent together cannot all slip under the
/// limit, but a burst of right passwords leaves nothing behind). Only failures stay counted.
async fn begin_attempt(c: &RequestContext, limits: &[Limit]) -> Result<(), DomainError> {
    let mut refused: Option<u64> = None;
    for l in limits {
        let (in_flight, _) = c.services.kv.bump(&l.in_flight, IN_FLIGHT_WINDOW).await;
        let (failures, wait) = c.services.kv.peek(&l.failures).await;
        if failures >= l.allowed {
            refused = Some(refused.unwrap_or(0).max(wait.as_secs().max(1)));
        } else if failures + in_flight > l.allowed {
            refused = Some(refused.unwrap_or(1));
        }
    }
    match refused {
        Some(retry_after_seconds) => {
            end_attempt(c, limits, false).await;
            Err(DomainError::RateLimited { retry_after_seconds })
        }
        None => Ok(()),
    }
}

/// Gives back an attempt's places, counting it as a failure if it was one.
async fn end_attempt(c: &RequestContext, limits: &[Limit], failed: bool) {
    for l in limits {
        c.services.kv.unbump(&l.in_flight).await;
        if failed {
            c.services.kv.bump(&l.failures, WINDOW).await;
        }
    }
}

fn limits(c: &RequestContext, email: &str) -> Vec<Limit> {
    let limit = |area: &str, inflight: &str, part: &str, allowed| Limit {
        failures: Key::new(area, part),
        in_flight: Key::new(inflight, part),
        allowed,
    };
    let account = secrets::token_digest(&email.trim().to_lowercase());
    let mut limits = vec![limit("signin-account", "signin-account-now", &account, PER_ACCOUNT)];
    if let Some(ip) = &c.client_ip {
        let address = secrets::token_digest(ip);
        limits.push(limit("signin-address", "signin-address-now", &address, PER_ADDRESS));
    }
    limits
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Signs in with email and password. A wrong email or password is `UNAUTHENTICATED`
    /// (which one is not said); too many failures is `RATE_LIMITED`.
    async fn sign_in(&self, ctx: &Context<'_>, input: SignInInput) -> Result<SignInPayload> {
        let c = context::of(ctx)?;
        let limits = limits(c, &input.email);
        begin_attempt(c, &limits).await.or_gql(c)?;
        let ttl = c.services.config.auth.session_ttl;
        let gate = &c.services.hash_gate;
        let result = identity::sign_in(c.db(), gate, &input.email, &input.password, ttl, &c.request_id).await;
        // Only failures count against the limits (not "busy", nor an internal error).
        end_attempt(c, &limits, matches!(result, Err(DomainError::Unauthenticated))).await;
        let signed_in = result.or_gql(c)?;
        Ok(SignInPayload {
            session: Some(session(c, signed_in).or_gql(c)?),
            user_errors: Vec::new(),
        })
    }

    /// Exchanges a refresh token for new tokens. A refresh token works once; presenting a used
    /// one ends its session (it was copied).
    async fn refresh_token(&self, ctx: &Context<'_>, input: RefreshTokenInput) -> Result<RefreshTokenPayload> {
        let c = context::of(ctx)?;
        let signed_in = identity::refresh(c.db(), &input.refresh_token, &c.request_id)
            .await
            .or_gql(c)?;
        let s = session(c, signed_in).or_gql(c)?;
        Ok(RefreshTokenPayload {
            session: Some(s),
            user_errors: Vec::new(),
        })
    }

    /// Ends the caller's session, or every session of theirs: the access and refresh tokens stop
    /// working at once.
    async fn sign_out(&self, ctx: &Context<'_>, input: Option<SignOutInput>) -> Result<SignOutPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let Some(session) = c.session else {
            return Err(to_graphql(DomainError::Forbidden, &c.request_id));
        };
        let everywhere = input.is_some_and(|i| i.everywhere);
        identity::sign_out(c.db(), caller, session, everywhere)
            .await
            .or_gql(c)?;
        Ok(SignOutPayload {
            signed_out: true,
            user_errors: Vec::new(),
        })
    }

    /// Sets a first password with an invitation code, and signs in.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptInvitationInput,
    ) -> Result<AcceptInvitationPayload> {
        let c = context::of(ctx)?;
        let ttl = c.services.config.auth.session_ttl;
        let result = people::accept_invitation(
            c.db(),
            &c.services.hash_gate,
            &input.code,
            &input.password,
            ttl,
            &c.request_id,
        )
        .await
        .and_then(|signed_in| session(c, signed_in));
        Ok(payload_of(c, result, |s| s)?.into())
    }
}
