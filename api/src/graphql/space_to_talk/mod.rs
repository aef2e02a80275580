//! Space to Talk: runs of slots, bookings for parents by the school, booking links for parents,
//! cancelling and moving, attendance and its flags, and the figures per term and school. The
//! parents' own pages are HTML, served by `crate::http::space_to_talk`.

mod enums;
mod mutations;
mod objects;
mod queries;

use async_graphql::MergedObject;
use uuid::Uuid;

use domain::DomainError;
use domain::ids::{SpaceToTalkBookingId, SpaceToTalkRunId};
use domain::space_to_talk;

pub use objects::{SpaceToTalkBooking, SpaceToTalkRun};

use crate::graphql::context::Context as RequestContext;
use crate::graphql::tenancy::Node;

/// The area's objects by global id, for `node(id:)`.
pub async fn load_node(c: &RequestContext, kind: &str, uuid: Uuid) -> Result<Node, DomainError> {
    let caller = c.caller.as_ref().ok_or(DomainError::Unauthenticated)?;
    match kind {
        "SpaceToTalkRun" => space_to_talk::get_run(c.db(), caller, SpaceToTalkRunId(uuid))
            .await
            .map(|v| Node::SpaceToTalkRun(SpaceToTalkRun(Box::new(v)))),
        "SpaceToTalkBooking" => space_to_talk::get_booking(c.db(), caller, SpaceToTalkBookingId(uuid))
            .await
            .map(|v| Node::SpaceToTalkBooking(SpaceToTalkBooking(Box::new(v)))),
        _ => Err(DomainError::NotFound),
    }
}

#[derive(MergedObject, Default)]
pub struct SpaceToTalkQuery(queries::SpaceToTalkQueries);

#[derive(MergedObject, Default)]
pub struct SpaceToTalkMutations(mutations::SpaceToTalkMutation);
