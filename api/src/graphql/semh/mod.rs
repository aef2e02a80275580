//! SEMH audits: versioned templates, a school's rounds with individual, group and table
//! responses, the consensus and submission, results, the action plan, comparisons, a school's
//! trend and the service's picture.

mod enums;
mod mutations;
mod objects;
mod queries;

use async_graphql::MergedObject;
use uuid::Uuid;

use domain::DomainError;
use domain::ids::{SemhRoundId, SemhTemplateId};
use domain::semh::{rounds, templates};

pub use objects::{SemhRound, SemhTemplate};

use crate::graphql::context::Context as RequestContext;
use crate::graphql::tenancy::Node;

/// The area's objects by global id, for `node(id:)`.
pub async fn load_node(c: &RequestContext, kind: &str, uuid: Uuid) -> Result<Node, DomainError> {
    let caller = c.caller.as_ref().ok_or(DomainError::Unauthenticated)?;
    match kind {
        "SemhRound" => rounds::get(c.db(), caller, SemhRoundId(uuid))
            .await
            .map(|v| Node::SemhRound(SemhRound(v))),
        "SemhTemplate" => templates::get(c.db(), caller, SemhTemplateId(uuid))
            .await
            .map(|v| Node::SemhTemplate(SemhTemplate(v.into()))),
        _ => Err(DomainError::NotFound),
    }
}

#[derive(MergedObject, Default)]
pub struct SemhQuery(queries::SemhQueries);

#[derive(MergedObject, Default)]
pub struct SemhMutations(mutations::SemhMutation);
