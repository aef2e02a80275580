//! Tables of Space to Talk: the service's settings, runs of slots, the schools each run is open
//! to, slots (each holding a booking of EP time), parents' bookings and the schools' links.

use super::platform::entity;

entity!(space_to_talk_settings, "space_to_talk_settings", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: ServiceId,
    pub slot_minutes: i32,
    pub draws_down_allocation: bool,
    pub notes_enabled: bool,
    pub updated_at: DateTimeUtc,
});

entity!(space_to_talk_run, "space_to_talk_runs", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SpaceToTalkRunId,
    pub service_id: ServiceId,
    pub ep_id: PersonId,
    /// The one school it is for; `None` for several schools or the whole service (its schools
    /// are in `space_to_talk_run_schools`, as a single school's is too).
    pub school_id: Option<SchoolId>,
    pub whole_service: bool,
    pub mode: BookingMode,
    pub location: Option<String>,
    pub slot_minutes: i32,
    pub gap_minutes: i32,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// Whether its slots were booked against the school's allocation.
    pub draws_down: bool,
    pub status: SpaceToTalkRunStatus,
    pub created_by: Option<PersonId>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(space_to_talk_run_school, "space_to_talk_run_schools", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SpaceToTalkRunSchoolId,
    pub service_id: ServiceId,
    pub run_id: SpaceToTalkRunId,
    pub school_id: SchoolId,
    pub ep_id: PersonId,
});

entity!(space_to_talk_slot, "space_to_talk_slots", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SpaceToTalkSlotId,
    pub service_id: ServiceId,
    pub run_id: SpaceToTalkRunId,
    pub ep_id: PersonId,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// The EP's time this slot holds.
    pub booking_id: Option<BookingId>,
    pub status: SpaceToTalkSlotStatus,
    pub updated_at: DateTimeUtc,
});

entity!(space_to_talk_link, "space_to_talk_links", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SpaceToTalkLinkId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    /// SHA-256 of the token: the token itself is only ever in the link.
    pub token_digest: String,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_by: Option<PersonId>,
    pub created_at: DateTimeUtc,
});

entity!(space_to_talk_booking, "space_to_talk_bookings", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SpaceToTalkBookingId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub ep_id: PersonId,
    pub run_id: SpaceToTalkRunId,
    pub slot_id: SpaceToTalkSlotId,
    /// The slot's times, kept with the booking (a moved booking is a new row).
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub status: SpaceToTalkStatus,
    /// How the parent wants to be called: special-care data, with the contact details.
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub preferred_contact: ContactMethod,
    /// A short topic the parent agreed to share.
    pub topic: Option<String>,
    pub booked_via: SpaceToTalkBookedVia,
    pub link_id: Option<SpaceToTalkLinkId>,
    /// SHA-256 of the parent's manage token (bookings made through a link).
    pub manage_digest: Option<String>,
    pub safeguarding_concern: bool,
    pub onward_referral: bool,
    /// The EP's note, only where the service keeps notes and the parent agreed to one.
    pub notes: Option<String>,
    pub notes_consented: bool,
    pub moved_from_id: Option<SpaceToTalkBookingId>,
    pub moved_to_id: Option<SpaceToTalkBookingId>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancelled_by: Option<PersonId>,
    pub cancelled_as: Option<SpaceToTalkActor>,
    pub cancellation_reason: Option<String>,
    pub attendance_recorded_at: Option<DateTimeUtc>,
    pub created_by: Option<PersonId>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});
