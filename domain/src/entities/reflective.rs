//! Tables of reflective-team sessions: the service's default charging, session types, sessions,
//! the schools each is open to, places (with the waiting list and roles) and anonymous feedback.

use super::platform::entity;

entity!(reflective_settings, "reflective_settings", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: ServiceId,
    pub default_charging: ReflectiveCharging,
    pub updated_at: DateTimeUtc,
});

entity!(reflective_session_type, "reflective_session_types", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ReflectiveSessionTypeId,
    pub service_id: ServiceId,
    pub name: String,
    pub format: ReflectiveFormat,
    pub default_minutes: i32,
    pub default_capacity: i32,
    /// JSON: `[{"name": "...", "minutes": 10}]`, in order.
    pub phases: String,
    pub created_at: DateTimeUtc,
});

entity!(reflective_session, "reflective_sessions", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ReflectiveSessionId,
    pub service_id: ServiceId,
    pub type_id: ReflectiveSessionTypeId,
    /// The one school it is for; `None` for a cluster (its schools are in
    /// `reflective_session_schools`, as a single school's is too).
    pub school_id: Option<SchoolId>,
    pub facilitator_id: PersonId,
    pub co_facilitator_id: Option<PersonId>,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub mode: BookingMode,
    pub location: Option<String>,
    pub capacity: i32,
    pub charging: ReflectiveCharging,
    pub charged_school_id: Option<SchoolId>,
    pub booking_id: Option<BookingId>,
    pub status: ReflectiveStatus,
    pub created_by: Option<PersonId>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(reflective_session_school, "reflective_session_schools", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ReflectiveSessionSchoolId,
    pub service_id: ServiceId,
    pub session_id: ReflectiveSessionId,
    pub school_id: SchoolId,
    pub facilitator_id: PersonId,
});

entity!(reflective_registration, "reflective_registrations", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ReflectiveRegistrationId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub session_id: ReflectiveSessionId,
    pub person_id: PersonId,
    /// The session's facilitator, so that their reach includes the session's places.
    pub facilitator_id: PersonId,
    pub status: PlaceStatus,
    /// The order on the waiting list (lower first); `None` unless waiting.
    pub waiting_position: Option<i32>,
    pub role: Option<ReflectiveRole>,
    pub attended: Option<bool>,
    /// The presenter's chosen next step: seen by the presenter and the facilitator only.
    pub next_step: Option<String>,
    pub feedback_given: bool,
    pub registered_by: Option<PersonId>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(reflective_feedback, "reflective_feedback", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ReflectiveFeedbackId,
    pub service_id: ServiceId,
    pub session_id: ReflectiveSessionId,
    pub type_id: ReflectiveSessionTypeId,
    pub facilitator_id: PersonId,
    pub rating: i32,
    pub comment: Option<String>,
    /// A date only: nothing that ties it to who gave it.
    pub given_on: Date,
});
