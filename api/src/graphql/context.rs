//! The per-request context: the service's shared parts, the verified caller (if any) and the
//! request id. Built once per request by the HTTP handler.

use domain::access::Caller;
use domain::db::Db;
use domain::ids::SessionId;

use super::errors;
use crate::app::Services;

pub struct Context {
    pub services: Services,
    pub caller: Option<Caller>,
    /// The sign-in session of a person's own token (for sign-out).
    pub session: Option<SessionId>,
    pub request_id: String,
    /// The client's address, for limits on sign-in attempts.
    pub client_ip: Option<String>,
}

impl Context {
    /// The caller, or `UNAUTHENTICATED`.
    pub fn caller(&self) -> async_graphql::Result<&Caller> {
        self.caller.as_ref().ok_or_else(errors::unauthenticated)
    }

    pub fn db(&self) -> &Db {
        &self.services.db
    }
}

/// The request context from a resolver's context.
pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> async_graphql::Result<&'a Context> {
    ctx.data::<Context>().map_err(|_| errors::internal_without_id())
}
