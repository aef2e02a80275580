//! Consultations: requests for involvement, pupils, consent, the meeting, the record with its
//! actions, reviews, and the service's consultation settings.

mod enums;
mod meeting;
mod objects;
mod queries;
mod records;
mod requests;

use async_graphql::MergedObject;
use uuid::Uuid;

use domain::DomainError;
use domain::consultations::{self, pupils};
use domain::ids::{ConsultationId, PupilId};

pub use objects::{Consultation, ConsultationAction, Pupil};

use crate::graphql::context::Context as RequestContext;
use crate::graphql::tenancy::Node;

/// A consultation's id from input: a malformed id is as "not found" as a missing one.
fn consultation_id(field: &str, id: &async_graphql::ID) -> Result<ConsultationId, DomainError> {
    crate::graphql::ids::expect(field, "Consultation", id).map_err(|_| DomainError::NotFound)
}

/// The area's objects by global id, for `node(id:)`.
pub async fn load_node(c: &RequestContext, kind: &str, uuid: Uuid) -> Result<Node, DomainError> {
    let caller = c.caller.as_ref().ok_or(DomainError::Unauthenticated)?;
    let db = c.db();
    match kind {
        "Consultation" => consultations::get(db, caller, ConsultationId(uuid))
            .await
            .map(|v| Node::Consultation(Consultation(Box::new(v)))),
        "Pupil" => pupils::get(db, caller, PupilId(uuid))
            .await
            .map(|p| Node::Pupil(Pupil(p))),
        _ => Err(DomainError::NotFound),
    }
}

#[derive(MergedObject, Default)]
pub struct ConsultationsQuery(queries::ConsultationQueries);

#[derive(MergedObject, Default)]
pub struct ConsultationsMutation(
    requests::RequestMutation,
    meeting::MeetingMutation,
    records::RecordMutation,
);
