//! After the meeting: the record, sharing it, agreed actions, the review and the close.

use async_graphql::{Context, ID, InputObject, Object, Result};

use domain::consultations::records;

use super::consultation_id;
use super::enums::{ActionStatus, ConsultationOutcome, RecordFormat};
use super::objects::{Consultation, ConsultationAction};
use super::requests::ConsultationPayload;
use crate::graphql::context;
use crate::graphql::errors::payload_of;
use crate::graphql::ids;
use crate::graphql::scalars::Date;

#[derive(InputObject)]
pub struct AttendeeInput {
    /// An adult present (never the child).
    pub name: String,
    /// Their role: class teacher, parent, SENCO...
    pub role: String,
}

/// The record of the meeting. Keep it short and factual; the child is the pupil record, never a
/// name in the text.
#[derive(InputObject)]
pub struct WriteConsultationRecordInput {
    pub id: ID,
    pub attendees: Vec<AttendeeInput>,
    pub strengths: Option<String>,
    pub concerns: Option<String>,
    pub hypotheses: Option<String>,
    #[graphql(default_with = "RecordFormat::EpReport")]
    pub format: RecordFormat,
    /// Default: the service's review period (six weeks unless set) after the meeting.
    pub review_on: Option<Date>,
    /// Seen by the EP and administrators only.
    pub private_notes: Option<String>,
}

#[derive(InputObject)]
pub struct ConsultationIdInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct AddConsultationActionInput {
    pub consultation_id: ID,
    pub description: String,
    /// A role or a named adult.
    pub owner: String,
    pub due_on: Date,
}

payload!(ConsultationActionPayload {
    action: ConsultationAction
});

#[derive(InputObject)]
pub struct UpdateConsultationActionInput {
    pub id: ID,
    pub status: Option<ActionStatus>,
    pub progress: Option<String>,
    pub due_on: Option<Date>,
}

#[derive(InputObject)]
pub struct CloseConsultationInput {
    pub id: ID,
    pub outcome: ConsultationOutcome,
}

#[derive(Default)]
pub struct RecordMutation;

#[Object]
impl RecordMutation {
    /// Writes (or rewrites) the record of a held consultation, before it is shared.
    async fn write_consultation_record(
        &self,
        ctx: &Context<'_>,
        input: WriteConsultationRecordInput,
    ) -> Result<ConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            let record = records::RecordInput {
                attendees: input
                    .attendees
                    .into_iter()
                    .map(|a| records::Attendee {
                        name: a.name,
                        role: a.role,
                    })
                    .collect(),
                strengths: input.strengths,
                concerns: input.concerns,
                hypotheses: input.hypotheses,
                format: input.format.into(),
                review_on: input.review_on.map(|d| d.0),
                private_notes: input.private_notes,
            };
            records::write(c.db(), caller, id, record).await
        }
        .await;
        Ok(payload_of(c, result, |v| Consultation(Box::new(v)))?.into())
    }

    /// Shares the record and its actions with the school.
    async fn share_consultation_record(
        &self,
        ctx: &Context<'_>,
        input: ConsultationIdInput,
    ) -> Result<ConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            records::share(c.db(), caller, id).await
        }
        .await;
        Ok(payload_of(c, result, |v| Consultation(Box::new(v)))?.into())
    }

    /// Adds an agreed action (shown to the school once the record is shared).
    async fn add_consultation_action(
        &self,
        ctx: &Context<'_>,
        input: AddConsultationActionInput,
    ) -> Result<ConsultationActionPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("consultationId", &input.consultation_id)?;
            let new = records::NewAction {
                description: input.description,
                owner: input.owner,
                due_on: input.due_on.0,
            };
            records::add_action(c.db(), caller, id, new).await
        }
        .await;
        Ok(payload_of(c, result, ConsultationAction)?.into())
    }

    /// Updates an action's status, progress or due date.
    async fn update_consultation_action(
        &self,
        ctx: &Context<'_>,
        input: UpdateConsultationActionInput,
    ) -> Result<ConsultationActionPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = ids::expect("id", "ConsultationAction", &input.id).map_err(|_| domain::DomainError::NotFound)?;
            let patch = records::ActionPatch {
                status: input.status.map(Into::into),
                progress: input.progress,
                due_on: input.due_on.map(|d| d.0),
            };
            records::update_action(c.db(), caller, id, patch).await
        }
        .await;
        Ok(payload_of(c, result, ConsultationAction)?.into())
    }

    /// Starts the review: this cycle closes and the next opens, accepted, linked to it.
    async fn start_consultation_review(
        &self,
        ctx: &Context<'_>,
        input: ConsultationIdInput,
    ) -> Result<ConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            records::start_review(c.db(), caller, id).await
        }
        .await;
        Ok(payload_of(c, result, |v| Consultation(Box::new(v)))?.into())
    }

    /// Closes a consultation with its outcome.
    async fn close_consultation(
        &self,
        ctx: &Context<'_>,
        input: CloseConsultationInput,
    ) -> Result<ConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            records::close(c.db(), caller, id, input.outcome.into()).await
        }
        .await;
        Ok(payload_of(c, result, |v| Consultation(Box::new(v)))?.into())
    }
}
