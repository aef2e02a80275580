//! Tables of SEMH audits: the service's setting, template versions with their sections and
//! items, rounds, respondents, responses, the consensus per item and the action plan.

use super::platform::entity;

entity!(semh_settings, "semh_settings", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: ServiceId,
    /// Whether the service's picture across schools names them.
    pub names_schools: bool,
    pub updated_at: DateTimeUtc,
});

entity!(semh_template, "semh_templates", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SemhTemplateId,
    pub service_id: ServiceId,
    /// The first version's id, shared by every version that revises it.
    pub lineage_id: SemhTemplateId,
    pub version: i32,
    pub revises_id: Option<SemhTemplateId>,
    /// Which starter template this lineage began as, if any.
    pub starter: Option<String>,
    pub name: String,
    pub description: Option<String>,
    /// JSON: the rating scale, in order (see `semh::templates::ScalePoint`).
    pub scale: String,
    /// Whether each item asks for ideas as well as evidence.
    pub asks_ideas: bool,
    pub status: SemhTemplateStatus,
    pub created_by: Option<PersonId>,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
});

entity!(semh_section, "semh_sections", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SemhSectionId,
    pub service_id: ServiceId,
    pub template_id: SemhTemplateId,
    pub position: i32,
    pub title: String,
});

entity!(semh_item, "semh_items", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SemhItemId,
    pub service_id: ServiceId,
    pub template_id: SemhTemplateId,
    pub section_id: SemhSectionId,
    pub position: i32,
    pub text: String,
    /// The same for an item and the items that carry it over in later versions.
    pub lineage_item_id: SemhItemId,
    /// The item of the revised version this one carries over.
    pub carried_from_id: Option<SemhItemId>,
});

entity!(semh_round, "semh_rounds", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SemhRoundId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub template_id: SemhTemplateId,
    pub lineage_id: SemhTemplateId,
    pub title: String,
    pub status: SemhRoundStatus,
    /// A whole-staff session: tables' links expire when it ends.
    pub session_starts_at: Option<DateTimeUtc>,
    pub session_ends_at: Option<DateTimeUtc>,
    /// The link EP's support, as a booking of EP time.
    pub booking_id: Option<BookingId>,
    pub ep_id: Option<PersonId>,
    pub opened_by: Option<PersonId>,
    pub opened_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub submitted_by: Option<PersonId>,
    pub updated_at: DateTimeUtc,
});

entity!(semh_respondent, "semh_respondents", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SemhRespondentId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub round_id: SemhRoundId,
    pub kind: SemhRespondentKind,
    /// An individual's own account; `None` for groups and tables.
    pub person_id: Option<PersonId>,
    /// A group's or table's name; `None` for individuals.
    pub label: Option<String>,
    /// A table's link, as a digest.
    pub link_digest: Option<String>,
    pub link_expires_at: Option<DateTimeUtc>,
    pub created_by: Option<PersonId>,
    pub created_at: DateTimeUtc,
});

entity!(semh_response, "semh_responses", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SemhResponseId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub round_id: SemhRoundId,
    pub respondent_id: SemhRespondentId,
    pub item_id: SemhItemId,
    /// A key of the template's scale.
    pub rating: String,
    pub evidence: Option<String>,
    pub ideas: Option<String>,
    pub updated_at: DateTimeUtc,
});

entity!(semh_consensus, "semh_consensus", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SemhConsensusId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub round_id: SemhRoundId,
    pub item_id: SemhItemId,
    pub rating: String,
    pub note: Option<String>,
    pub set_by: Option<PersonId>,
    pub updated_at: DateTimeUtc,
});

entity!(semh_action, "semh_actions", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SemhActionId,
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub round_id: SemhRoundId,
    pub item_id: Option<SemhItemId>,
    pub lineage_item_id: Option<SemhItemId>,
    pub priority: String,
    /// A role ("SENCO", "Head of Year 7") or a named adult; at least one.
    pub owner_role: Option<String>,
    pub owner_name: Option<String>,
    pub due_on: Option<Date>,
    pub status: SemhActionStatus,
    /// JSON: the progress notes, oldest first (see `semh::actions::Progress`).
    pub progress: String,
    pub carried_from_id: Option<SemhActionId>,
    pub created_by: Option<PersonId>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});
