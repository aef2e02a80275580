//! Settings, publishing and withdrawing runs, booking a parent, cancelling, moving, attendance,
//! and the school's booking links.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::DomainError;
use domain::ids::{SpaceToTalkBookingId, SpaceToTalkLinkId, SpaceToTalkRunId, SpaceToTalkSlotId};
use domain::space_to_talk::{booking, links, runs, settings};

use super::enums::ContactMethod;
use super::objects::{SpaceToTalkBooking, SpaceToTalkLink, SpaceToTalkRun, SpaceToTalkSettings};
use crate::graphql::context;
use crate::graphql::enums::BookingMode;
use crate::graphql::errors::payload_of;
use crate::graphql::ids;

fn booking_id(id: &ID) -> Result<SpaceToTalkBookingId, DomainError> {
    ids::expect("id", "SpaceToTalkBooking", id).map_err(|_| DomainError::NotFound)
}

fn slot_id(id: &ID) -> Result<SpaceToTalkSlotId, DomainError> {
    ids::expect("slotId", "SpaceToTalkSlot", id)
}

#[derive(InputObject)]
pub struct SetSpaceToTalkSettingsInput {
    pub service_id: ID,
    /// 15 to 60.
    pub slot_minutes: Option<i32>,
    pub draws_down_allocation: Option<bool>,
    pub notes_enabled: Option<bool>,
}

payload!(SetSpaceToTalkSettingsPayload {
    settings: SpaceToTalkSettings
});

#[derive(InputObject)]
pub struct PublishSpaceToTalkRunInput {
    /// One school, or several; leave empty with `wholeService`.
    #[graphql(default)]
    pub school_ids: Vec<ID>,
    /// Offer the run to every open school of the service.
    #[graphql(default)]
    pub whole_service: bool,
    /// Needed for a whole-service run when the caller belongs to several services.
    pub service_id: Option<ID>,
    /// Default: the caller.
    pub ep_id: Option<ID>,
    /// When the first slot starts.
    pub starts_at: DateTime<Utc>,
    /// How many slots, 1 to 16.
    pub slots: i32,
    /// Default: the service's slot length (45 unless it says otherwise).
    pub slot_minutes: Option<i32>,
    /// Minutes between one slot and the next.
    #[graphql(default)]
    pub gap_minutes: i32,
    #[graphql(default_with = "BookingMode::InPerson")]
    pub mode: BookingMode,
    /// A room, or how a phone or online session is joined: never a parent's or child's details.
    pub location: Option<String>,
    /// An administrator's reason for publishing inside the notice, or in the past.
    pub short_notice_reason: Option<String>,
}

payload!(SpaceToTalkRunPayload { run: SpaceToTalkRun });

#[derive(InputObject)]
pub struct WithdrawSpaceToTalkRunInput {
    pub id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct BookSpaceToTalkInput {
    pub slot_id: ID,
    /// The parent's school (default: the run's, when it is for one school).
    pub school_id: Option<ID>,
    /// How the parent or carer wants to be called (a first name is enough).
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Default: phone when a phone number is given.
    pub preferred_contact: Option<ContactMethod>,
    /// A short topic the parent agreed to share; nothing that identifies the child.
    pub topic: Option<String>,
}

payload!(SpaceToTalkBookingPayload {
    booking: SpaceToTalkBooking
});

#[derive(InputObject)]
pub struct CancelSpaceToTalkBookingInput {
    pub id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct MoveSpaceToTalkBookingInput {
    pub id: ID,
    /// A free slot for the same school.
    pub slot_id: ID,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct RecordSpaceToTalkAttendanceInput {
    pub id: ID,
    pub attended: bool,
    pub safeguarding_concern: Option<bool>,
    pub onward_referral: Option<bool>,
    /// A short note, where the service keeps notes and the parent agreed; nothing that
    /// identifies the child.
    pub notes: Option<String>,
    pub parent_consented_to_notes: Option<bool>,
}

#[derive(InputObject)]
pub struct IssueSpaceToTalkLinkInput {
    pub school_id: ID,
    /// 1 to 90 (default 14).
    #[graphql(default = 14)]
    pub valid_days: i32,
}

/// A booking link just issued: give `path` (on this server) to parents. The token is shown
/// this once.
#[derive(SimpleObject)]
pub struct SpaceToTalkLinkIssued {
    pub link: SpaceToTalkLink,
    pub token: String,
    /// The page's path, such as `/space-to-talk/stl_...`.
    pub path: String,
}

payload!(IssueSpaceToTalkLinkPayload {
    result: SpaceToTalkLinkIssued
});

#[derive(InputObject)]
pub struct RevokeSpaceToTalkLinkInput {
    pub id: ID,
}

payload!(RevokeSpaceToTalkLinkPayload { link: SpaceToTalkLink });

#[derive(Default)]
pub struct SpaceToTalkMutation;

#[Object]
impl SpaceToTalkMutation {
    /// Sets the slot length, whether slots draw down allocation, and whether notes are kept.
    async fn set_space_to_talk_settings(
        &self,
        ctx: &Context<'_>,
        input: SetSpaceToTalkSettingsInput,
    ) -> Result<SetSpaceToTalkSettingsPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let service = ids::expect("serviceId", "Service", &input.service_id).map_err(|_| DomainError::NotFound)?;
            settings::update(
                c.db(),
                caller,
                service,
                settings::Change {
                    slot_minutes: input.slot_minutes,
                    draws_down_allocation: input.draws_down_allocation,
                    notes_enabled: input.notes_enabled,
                },
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, SpaceToTalkSettings::from)?.into())
    }

    /// Publishes a run of slots; each slot books the EP's time under the EP-time rules, and a
    /// collision refuses the whole run, naming the slot and the time.
    async fn publish_space_to_talk_run(
        &self,
        ctx: &Context<'_>,
        input: PublishSpaceToTalkRunInput,
    ) -> Result<SpaceToTalkRunPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let new = runs::NewRun {
                service_id: ids::expect_opt("serviceId", "Service", input.service_id.as_ref())?,
                school_ids: ids::expect_all("schoolIds", "School", &input.school_ids)?,
                whole_service: input.whole_service,
                ep_id: ids::expect_opt("epId", "Person", input.ep_id.as_ref())?,
                starts_at: input.starts_at,
                slots: input.slots,
                slot_minutes: input.slot_minutes,
                gap_minutes: input.gap_minutes,
                mode: input.mode.into(),
                location: input.location,
                short_notice_reason: input.short_notice_reason,
            };
            runs::publish(c.db(), caller, new).await
        }
        .await;
        Ok(payload_of(c, result, |r| SpaceToTalkRun(Box::new(r)))?.into())
    }

    /// Withdraws a run with no parent booked: its free slots and their EP time are released.
    async fn withdraw_space_to_talk_run(
        &self,
        ctx: &Context<'_>,
        input: WithdrawSpaceToTalkRunInput,
    ) -> Result<SpaceToTalkRunPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id: SpaceToTalkRunId =
                ids::expect("id", "SpaceToTalkRun", &input.id).map_err(|_| DomainError::NotFound)?;
            runs::withdraw(c.db(), caller, id, &input.reason).await
        }
        .await;
        Ok(payload_of(c, result, |r| SpaceToTalkRun(Box::new(r)))?.into())
    }

    /// Books a parent or carer into a free slot for the caller's school, with the least data
    /// that works.
    async fn book_space_to_talk(
        &self,
        ctx: &Context<'_>,
        input: BookSpaceToTalkInput,
    ) -> Result<SpaceToTalkBookingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let slot = ids::expect("slotId", "SpaceToTalkSlot", &input.slot_id).map_err(|_| DomainError::NotFound)?;
            let school = ids::expect_opt("schoolId", "School", input.school_id.as_ref())?;
            booking::book(
                c.db(),
                caller,
                slot,
                school,
                booking::Parent {
                    display_name: input.display_name,
                    phone: input.phone,
                    email: input.email,
                    preferred_contact: input.preferred_contact.map(Into::into),
                    topic: input.topic,
                },
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, |b| SpaceToTalkBooking(Box::new(b)))?.into())
    }

    /// Cancels a booking with a reason (the school, the EP or the service); the slot is free
    /// again at once.
    async fn cancel_space_to_talk_booking(
        &self,
        ctx: &Context<'_>,
        input: CancelSpaceToTalkBookingInput,
    ) -> Result<SpaceToTalkBookingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async { booking::cancel(c.db(), caller, booking_id(&input.id)?, &input.reason).await }.await;
        Ok(payload_of(c, result, |b| SpaceToTalkBooking(Box::new(b)))?.into())
    }

    /// Moves a booking to another free slot for the same school; answers the new booking.
    async fn move_space_to_talk_booking(
        &self,
        ctx: &Context<'_>,
        input: MoveSpaceToTalkBookingInput,
    ) -> Result<SpaceToTalkBookingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            booking::move_to(
                c.db(),
                caller,
                booking_id(&input.id)?,
                slot_id(&input.slot_id)?,
                input.reason.as_deref(),
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, |b| SpaceToTalkBooking(Box::new(b)))?.into())
    }

    /// Records whether the parent attended, with the safeguarding and onward-referral flags.
    async fn record_space_to_talk_attendance(
        &self,
        ctx: &Context<'_>,
        input: RecordSpaceToTalkAttendanceInput,
    ) -> Result<SpaceToTalkBookingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            booking::record_attendance(
                c.db(),
                caller,
                booking_id(&input.id)?,
                booking::Attendance {
                    attended: input.attended,
                    safeguarding_concern: input.safeguarding_concern,
                    onward_referral: input.onward_referral,
                    notes: input.notes,
                    parent_consented_to_notes: input.parent_consented_to_notes,
                },
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, |b| SpaceToTalkBooking(Box::new(b)))?.into())
    }

    /// Issues the school's booking link for parents (shown once).
    async fn issue_space_to_talk_link(
        &self,
        ctx: &Context<'_>,
        input: IssueSpaceToTalkLinkInput,
    ) -> Result<IssueSpaceToTalkLinkPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let school = ids::expect("schoolId", "School", &input.school_id).map_err(|_| DomainError::NotFound)?;
            links::issue(c.db(), caller, school, input.valid_days).await
        }
        .await;
        Ok(payload_of(c, result, |i| SpaceToTalkLinkIssued {
            path: format!("/space-to-talk/{}", i.token),
            token: i.token,
            link: SpaceToTalkLink(i.link),
        })?
        .into())
    }

    /// Revokes a booking link at once.
    async fn revoke_space_to_talk_link(
        &self,
        ctx: &Context<'_>,
        input: RevokeSpaceToTalkLinkInput,
    ) -> Result<RevokeSpaceToTalkLinkPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id: SpaceToTalkLinkId =
                ids::expect("id", "SpaceToTalkLink", &input.id).map_err(|_| DomainError::NotFound)?;
            links::revoke(c.db(), caller, id).await
        }
        .await;
        Ok(payload_of(c, result, SpaceToTalkLink)?.into())
    }
}
