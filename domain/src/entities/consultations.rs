//! Tables of consultations: the service's settings, pupils, consultations, consents, records,
//! agreed actions and the disposal log.

use super::platform::entity;

entity!(consultation_settings, "consultation_settings", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: ServiceId,
    pub meeting_minutes: i32,
    pub preparation_minutes: i32,
    pub write_up_minutes: i32,
    pub consent_months: i32,
    pub review_weeks: i32,
    pub retention_rule: RetentionRule,
    pub updated_at: DateTimeUtc,
});

entity!(pupil, "pupils", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PupilId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub initials: String,
    pub year_group: YearGroup,
    pub date_of_birth: Date,
    pub school_reference: Option<String>,
    pub destroy_after: Date,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
});

entity!(consultation, "consultations", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ConsultationId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub ep_id: Option<PersonId>,
    pub kind: ConsultationKind,
    pub status: ConsultationStatus,
    pub pupil_id: Option<PupilId>,
    pub previous_id: Option<ConsultationId>,
    pub cycle: i32,
    /// Space-separated areas of concern.
    pub areas: String,
    pub strengths: Option<String>,
    pub tried: Option<String>,
    pub hoped_outcomes: Option<String>,
    pub preferred_times: Option<String>,
    pub funding_stream: FundingStream,
    pub booking_id: Option<BookingId>,
    pub triage_note: Option<String>,
    pub outcome: Option<ConsultationOutcome>,
    pub review_on: Option<Date>,
    pub requested_by: Option<PersonId>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub content_destroyed_at: Option<DateTimeUtc>,
});

entity!(consent, "consents", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ConsentId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    /// The consultation it was recorded with.
    pub consultation_id: ConsultationId,
    /// The child it is about: consent covers EP involvement with the child, across consultations.
    pub pupil_id: PupilId,
    pub given_by: ConsentGiver,
    pub relationship: Option<String>,
    pub given_on: Date,
    pub method: ConsentMethod,
    pub covers_ep_involvement: bool,
    /// Agencies the consent allows sharing with, one per line.
    pub share_with: Option<String>,
    pub expires_on: Date,
    pub withdrawn_on: Option<Date>,
    pub withdrawal_reason: Option<String>,
    pub recorded_by: Option<PersonId>,
    pub recorded_at: DateTimeUtc,
});

entity!(consultation_record, "consultation_records", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub consultation_id: ConsultationId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub ep_id: Option<PersonId>,
    /// JSON: `[{"name": "...", "role": "..."}]`, adults present only.
    pub attendees: String,
    pub strengths: Option<String>,
    pub concerns: Option<String>,
    pub hypotheses: Option<String>,
    pub format: RecordFormat,
    pub private_notes: Option<String>,
    pub written_by: Option<PersonId>,
    pub updated_at: DateTimeUtc,
    pub shared_at: Option<DateTimeUtc>,
});

entity!(consultation_action, "consultation_actions", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ConsultationActionId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub consultation_id: ConsultationId,
    pub description: String,
    pub owner: String,
    pub due_on: Date,
    pub status: ActionStatus,
    pub progress: Option<String>,
    /// Whether the school sees it: once the record is shared.
    pub shared: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(disposal, "disposals", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: DisposalId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub disposed_at: DateTimeUtc,
    pub rule: RetentionRule,
    pub pupils: i32,
    pub consultations: i32,
});
