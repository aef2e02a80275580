//! Reflective-team sessions: session types, scheduling for a school or a cluster, places with a
//! waiting list, roles, the hold with its charging, and anonymous feedback.

mod enums;
mod mutations;
mod objects;
mod queries;

use async_graphql::MergedObject;
use uuid::Uuid;

use domain::DomainError;
use domain::ids::ReflectiveSessionId;
use domain::reflective;

pub use objects::ReflectiveSession;

use crate::graphql::context::Context as RequestContext;
use crate::graphql::tenancy::Node;

/// The area's objects by global id, for `node(id:)`.
pub async fn load_node(c: &RequestContext, kind: &str, uuid: Uuid) -> Result<Node, DomainError> {
    let caller = c.caller.as_ref().ok_or(DomainError::Unauthenticated)?;
    match kind {
        "ReflectiveSession" => reflective::get(c.db(), caller, ReflectiveSessionId(uuid))
            .await
            .map(|v| Node::ReflectiveSession(ReflectiveSession(Box::new(v)))),
        _ => Err(DomainError::NotFound),
    }
}

#[derive(MergedObject, Default)]
pub struct ReflectiveQuery(queries::ReflectiveQueries);

#[derive(MergedObject, Default)]
pub struct ReflectiveMutations(mutations::ReflectiveMutation);
