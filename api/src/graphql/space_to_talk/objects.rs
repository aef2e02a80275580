//! Runs, slots, bookings, links, settings and figures as their readers may see them.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::entities::{space_to_talk_link as link, space_to_talk_slot as slot};
use domain::space_to_talk::runs::Run;
use domain::space_to_talk::{BookingView, Figures, SlotView, settings};

use super::enums::{
    ContactMethod, SpaceToTalkActor, SpaceToTalkBookedVia, SpaceToTalkRunStatus, SpaceToTalkSlotStatus,
    SpaceToTalkStatus,
};
use crate::graphql::enums::BookingMode;
use crate::graphql::ids;
use crate::graphql::loaders;
use crate::graphql::scalars::Date;
use crate::graphql::tenancy::{Person, School};

/// A run of Space to Talk slots an EP offers at one school, several, or the whole service.
pub struct SpaceToTalkRun(pub Box<Run>);

#[Object]
impl SpaceToTalkRun {
    pub async fn id(&self) -> ID {
        ids::encode("SpaceToTalkRun", self.0.row.id)
    }
    async fn status(&self) -> SpaceToTalkRunStatus {
        self.0.row.status.into()
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.row.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.row.ends_at
    }
    async fn mode(&self) -> BookingMode {
        self.0.row.mode.into()
    }
    async fn location(&self) -> Option<&str> {
        self.0.row.location.as_deref()
    }
    async fn slot_minutes(&self) -> i32 {
        self.0.row.slot_minutes
    }
    async fn gap_minutes(&self) -> i32 {
        self.0.row.gap_minutes
    }
    async fn whole_service(&self) -> bool {
        self.0.row.whole_service
    }
    /// Whether its slots were booked against the school's allocation.
    async fn draws_down_allocation(&self) -> bool {
        self.0.row.draws_down
    }
    async fn ep_id(&self) -> ID {
        ids::encode("Person", self.0.row.ep_id)
    }
    async fn ep(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(loaders::person(ctx, Some(self.0.row.ep_id)).await?.map(Person))
    }
    async fn school_ids(&self) -> Vec<ID> {
        self.0.schools.iter().map(|s| ids::encode("School", *s)).collect()
    }
    async fn schools(&self, ctx: &Context<'_>) -> Result<Vec<School>> {
        let mut out = Vec::new();
        for s in &self.0.schools {
            if let Some(m) = loaders::school(ctx, Some(*s)).await? {
                out.push(School(m));
            }
        }
        Ok(out)
    }
    /// Every slot, in order: free or booked (never by whom).
    async fn slots(&self) -> Vec<SpaceToTalkSlot> {
        self.0
            .slots
            .iter()
            .cloned()
            .map(|row| SpaceToTalkSlot {
                mode: self.0.row.mode,
                location: self.0.row.location.clone(),
                row,
            })
            .collect()
    }
    async fn free_slots(&self) -> i64 {
        self.0
            .slots
            .iter()
            .filter(|s| s.status == domain::model::SpaceToTalkSlotStatus::Free)
            .count() as i64
    }
}

/// One slot of a run.
pub struct SpaceToTalkSlot {
    pub row: slot::Model,
    pub mode: domain::model::BookingMode,
    pub location: Option<String>,
}

impl From<SlotView> for SpaceToTalkSlot {
    fn from(v: SlotView) -> Self {
        Self {
            row: v.row,
            mode: v.mode,
            location: v.location,
        }
    }
}

#[Object]
impl SpaceToTalkSlot {
    async fn id(&self) -> ID {
        ids::encode("SpaceToTalkSlot", self.row.id)
    }
    async fn run_id(&self) -> ID {
        ids::encode("SpaceToTalkRun", self.row.run_id)
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.row.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.row.ends_at
    }
    async fn status(&self) -> SpaceToTalkSlotStatus {
        self.row.status.into()
    }
    async fn mode(&self) -> BookingMode {
        self.mode.into()
    }
    async fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }
    async fn ep_id(&self) -> ID {
        ids::encode("Person", self.row.ep_id)
    }
    /// The EP's booking of time this slot holds.
    async fn booking_id(&self) -> Option<ID> {
        self.row.booking_id.map(|b| ids::encode("Booking", b))
    }
}

/// A parent's Space to Talk booking. The name and contact details are special-care data: each
/// read is in the audit log.
pub struct SpaceToTalkBooking(pub Box<BookingView>);

#[Object]
impl SpaceToTalkBooking {
    pub async fn id(&self) -> ID {
        ids::encode("SpaceToTalkBooking", self.0.row.id)
    }
    async fn status(&self) -> SpaceToTalkStatus {
        self.0.row.status.into()
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.row.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.row.ends_at
    }
    async fn mode(&self) -> BookingMode {
        self.0.mode.into()
    }
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    async fn slot_id(&self) -> ID {
        ids::encode("SpaceToTalkSlot", self.0.row.slot_id)
    }
    async fn run_id(&self) -> ID {
        ids::encode("SpaceToTalkRun", self.0.row.run_id)
    }
    async fn school_id(&self) -> ID {
        ids::encode("School", self.0.row.school_id)
    }
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        Ok(loaders::school(ctx, Some(self.0.row.school_id)).await?.map(School))
    }
    async fn ep_id(&self) -> ID {
        ids::encode("Person", self.0.row.ep_id)
    }
    async fn ep(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(loaders::person(ctx, Some(self.0.row.ep_id)).await?.map(Person))
    }
    /// How the parent or carer wants to be called.
    async fn display_name(&self) -> &str {
        &self.0.row.display_name
    }
    async fn phone(&self) -> Option<&str> {
        self.0.row.phone.as_deref()
    }
    async fn email(&self) -> Option<&str> {
        self.0.row.email.as_deref()
    }
    async fn preferred_contact(&self) -> ContactMethod {
        self.0.row.preferred_contact.into()
    }
    /// A short topic the parent agreed to share.
    async fn topic(&self) -> Option<&str> {
        self.0.row.topic.as_deref()
    }
    async fn booked_via(&self) -> SpaceToTalkBookedVia {
        self.0.row.booked_via.into()
    }
    async fn safeguarding_concern(&self) -> bool {
        self.0.row.safeguarding_concern
    }
    async fn onward_referral(&self) -> bool {
        self.0.row.onward_referral
    }
    /// The EP's note, kept only where the service allows and the parent agreed: for the EP and
    /// administrators.
    async fn notes(&self) -> Option<&str> {
        if self.0.shows_notes {
            self.0.row.notes.as_deref()
        } else {
            None
        }
    }
    async fn moved_from_id(&self) -> Option<ID> {
        self.0.row.moved_from_id.map(|b| ids::encode("SpaceToTalkBooking", b))
    }
    async fn moved_to_id(&self) -> Option<ID> {
        self.0.row.moved_to_id.map(|b| ids::encode("SpaceToTalkBooking", b))
    }
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.0.row.cancelled_at
    }
    /// Who cancelled or moved it, when someone did.
    async fn cancelled_by_id(&self) -> Option<ID> {
        self.0.row.cancelled_by.map(|p| ids::encode("Person", p))
    }
    async fn cancelled_as(&self) -> Option<SpaceToTalkActor> {
        self.0.row.cancelled_as.map(Into::into)
    }
    async fn cancellation_reason(&self) -> Option<&str> {
        self.0.row.cancellation_reason.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
}

/// A school's booking link for parents. Its token is shown once, when it is issued.
pub struct SpaceToTalkLink(pub link::Model);

#[Object]
impl SpaceToTalkLink {
    async fn id(&self) -> ID {
        ids::encode("SpaceToTalkLink", self.0.id)
    }
    async fn school_id(&self) -> ID {
        ids::encode("School", self.0.school_id)
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who issued it (a SENCO of the school, or an administrator).
    async fn created_by_id(&self) -> Option<ID> {
        self.0.created_by.map(|p| ids::encode("Person", p))
    }
}

/// The service's Space to Talk settings.
#[derive(SimpleObject)]
pub struct SpaceToTalkSettings {
    /// The usual slot length (15 to 60; 45 unless the service says otherwise).
    pub slot_minutes: i32,
    /// Whether a single school's slots are booked against its allocation.
    pub draws_down_allocation: bool,
    /// Whether notes may be kept (off: the record stays minimal).
    pub notes_enabled: bool,
}

impl From<settings::Settings> for SpaceToTalkSettings {
    fn from(s: settings::Settings) -> Self {
        Self {
            slot_minutes: s.slot_minutes,
            draws_down_allocation: s.draws_down_allocation,
            notes_enabled: s.notes_enabled,
        }
    }
}

/// Attendance at one school in one term.
pub struct SpaceToTalkFigures(pub Figures);

#[Object]
impl SpaceToTalkFigures {
    async fn school_id(&self) -> ID {
        ids::encode("School", self.0.school_id)
    }
    /// The term's name ("Outside term time" for sessions in no term).
    async fn term(&self) -> &str {
        &self.0.term
    }
    async fn term_starts_on(&self) -> Option<Date> {
        self.0.starts_on.map(Date)
    }
    /// Booked, attendance not yet recorded.
    async fn booked(&self) -> i64 {
        self.0.booked
    }
    async fn attended(&self) -> i64 {
        self.0.attended
    }
    async fn did_not_attend(&self) -> i64 {
        self.0.did_not_attend
    }
    async fn cancelled(&self) -> i64 {
        self.0.cancelled
    }
    async fn safeguarding_concerns(&self) -> i64 {
        self.0.safeguarding_concerns
    }
    async fn onward_referrals(&self) -> i64 {
        self.0.onward_referrals
    }
}
