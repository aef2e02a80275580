//! Booking, moving, cancelling and holding a consultation's meeting.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::consultations::meeting;

use super::consultation_id;
use super::objects::Consultation;
use super::requests::{ConsultationChanged, ConsultationPayload};
use crate::graphql::context;
use crate::graphql::enums::{BookingMode, CancelledFor};
use crate::graphql::errors::payload_of;
use crate::graphql::ids;

/// When and with whom the meeting is: usually a free slot from `availability`.
#[derive(InputObject)]
pub struct SlotInput {
    /// Default: the consultation's EP, or else the school's link EP.
    pub ep_id: Option<ID>,
    pub starts_at: DateTime<Utc>,
    /// Default: the service's usual meeting length.
    pub duration_minutes: Option<i32>,
    #[graphql(default_with = "BookingMode::InPerson")]
    pub mode: BookingMode,
    /// A room or "online": never a child's details.
    pub location: Option<String>,
    /// An administrator's reason for booking inside the minimum notice, or in the past.
    pub short_notice_reason: Option<String>,
    /// A visit the meeting sits inside.
    pub visit_id: Option<ID>,
}

pub fn slot_of(s: SlotInput) -> Result<meeting::Slot, domain::DomainError> {
    Ok(meeting::Slot {
        ep_id: ids::expect_opt("slot.epId", "Person", s.ep_id.as_ref())?,
        starts_at: s.starts_at,
        duration_minutes: s.duration_minutes,
        mode: s.mode.into(),
        location: s.location,
        short_notice_reason: s.short_notice_reason,
        visit_id: ids::expect_opt("slot.visitId", "Booking", s.visit_id.as_ref())?,
    })
}

#[derive(InputObject)]
pub struct ScheduleConsultationInput {
    pub id: ID,
    pub slot: SlotInput,
}

payload!(ScheduleConsultationPayload {
    result: ConsultationChanged
});

#[derive(InputObject)]
pub struct MoveConsultationInput {
    pub id: ID,
    pub starts_at: DateTime<Utc>,
    /// Another EP (default: the same).
    pub ep_id: Option<ID>,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct CancelConsultationMeetingInput {
    pub id: ID,
    pub reason: String,
    /// Administrators say on whose behalf.
    pub cancelled_for: Option<CancelledFor>,
}

#[derive(SimpleObject)]
pub struct ConsultationMeetingCancelled {
    pub consultation: Consultation,
    /// Minutes charged to the school under the cancellation policy.
    pub charged_minutes: i64,
}

payload!(CancelConsultationMeetingPayload {
    result: ConsultationMeetingCancelled
});

#[derive(InputObject)]
pub struct HoldConsultationInput {
    pub id: ID,
    /// Minutes spent with people (default: as booked).
    pub direct_minutes: Option<i32>,
}

#[derive(Default)]
pub struct MeetingMutation;

#[Object]
impl MeetingMutation {
    /// Books the meeting: one booking of EP time under its rules, with the service's
    /// preparation and write-up minutes.
    async fn schedule_consultation(
        &self,
        ctx: &Context<'_>,
        input: ScheduleConsultationInput,
    ) -> Result<ScheduleConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            meeting::schedule(c.db(), caller, id, slot_of(input.slot)?).await
        }
        .await;
        Ok(payload_of(c, result, ConsultationChanged::of)?.into())
    }

    /// Moves the meeting, in the same transaction as its booking.
    async fn move_consultation(
        &self,
        ctx: &Context<'_>,
        input: MoveConsultationInput,
    ) -> Result<ScheduleConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            let ep = ids::expect_opt("epId", "Person", input.ep_id.as_ref())?;
            meeting::move_to(c.db(), caller, id, input.starts_at, ep, input.reason).await
        }
        .await;
        Ok(payload_of(c, result, ConsultationChanged::of)?.into())
    }

    /// Cancels the meeting under the cancellation policy; the consultation waits to be booked
    /// again.
    async fn cancel_consultation_meeting(
        &self,
        ctx: &Context<'_>,
        input: CancelConsultationMeetingInput,
    ) -> Result<CancelConsultationMeetingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            meeting::cancel_meeting(c.db(), caller, id, &input.reason, input.cancelled_for.map(Into::into)).await
        }
        .await;
        Ok(payload_of(c, result, |(v, charged)| ConsultationMeetingCancelled {
            consultation: Consultation(Box::new(v)),
            charged_minutes: charged,
        })?
        .into())
    }

    /// Records that the meeting was held (its booking is delivered).
    async fn hold_consultation(&self, ctx: &Context<'_>, input: HoldConsultationInput) -> Result<ConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            meeting::hold(c.db(), caller, id, input.direct_minutes).await
        }
        .await;
        Ok(payload_of(c, result, |v| Consultation(Box::new(v)))?.into())
    }
}
