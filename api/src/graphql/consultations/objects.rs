//! A consultation as its reader may see it, with its pupil, consent, record and actions.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::consultations::{self, consent, records, requests};
use domain::entities::{consent as consent_row, consultation_action, consultation_settings, pupil};

use super::enums::{
    ActionStatus, ConcernArea, ConsentGiver, ConsentMethod, ConsultationKind, ConsultationOutcome, ConsultationStatus,
    RecordFormat, RetentionRule, YearGroup,
};
use crate::graphql::enums::FundingStream;
use crate::graphql::ids;
use crate::graphql::loaders;
use crate::graphql::scalars::Date;
use crate::graphql::tenancy::{Person, School};
use crate::graphql::time::Booking;

/// A request for EP involvement and everything that follows from it: consent, the meeting, the
/// record, agreed actions and the review. Seen by the school's SENCO and leaders (the record
/// once shared), the EPs who work with the school and the service's administrators.
pub struct Consultation(pub Box<consultations::View>);

#[Object]
impl Consultation {
    pub async fn id(&self) -> ID {
        ids::encode("Consultation", self.0.row.id)
    }
    async fn kind(&self) -> ConsultationKind {
        self.0.row.kind.into()
    }
    /// The state today: a shared record whose review date has come reads REVIEW_DUE.
    async fn status(&self) -> ConsultationStatus {
        self.0.status.into()
    }
    /// 1 for the first assess-plan-do-review cycle, 2 for its review, and so on.
    async fn cycle(&self) -> i32 {
        self.0.row.cycle
    }
    /// The consultation this one reviews.
    async fn previous_id(&self) -> Option<ID> {
        self.0.row.previous_id.map(|p| ids::encode("Consultation", p))
    }
    async fn school_id(&self) -> ID {
        ids::encode("School", self.0.row.school_id)
    }
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        Ok(loaders::school(ctx, Some(self.0.row.school_id)).await?.map(School))
    }
    /// The EP taking the work on.
    async fn ep(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(loaders::person(ctx, self.0.row.ep_id).await?.map(Person))
    }
    async fn areas_of_concern(&self) -> Vec<ConcernArea> {
        requests::areas_of(&self.0.row).into_iter().map(Into::into).collect()
    }
    async fn strengths(&self) -> Option<&str> {
        self.0.row.strengths.as_deref()
    }
    /// What the school has tried already.
    async fn tried(&self) -> Option<&str> {
        self.0.row.tried.as_deref()
    }
    async fn hoped_outcomes(&self) -> Option<&str> {
        self.0.row.hoped_outcomes.as_deref()
    }
    async fn preferred_times(&self) -> Option<&str> {
        self.0.row.preferred_times.as_deref()
    }
    async fn funding_stream(&self) -> FundingStream {
        self.0.row.funding_stream.into()
    }
    /// Why it was declined or withdrawn, or what information was asked for.
    async fn triage_note(&self) -> Option<&str> {
        self.0.row.triage_note.as_deref()
    }
    async fn outcome(&self) -> Option<ConsultationOutcome> {
        self.0.row.outcome.map(Into::into)
    }
    async fn review_on(&self) -> Option<Date> {
        self.0.row.review_on.map(Date)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.row.updated_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.row.closed_at
    }
    /// Whether retention has destroyed the personal content (the pupil, consent, record and
    /// answers); what remains is that the consultation took place.
    async fn content_destroyed(&self) -> bool {
        self.0.row.content_destroyed_at.is_some()
    }
    /// The meeting.
    async fn booking(&self) -> Option<Booking> {
        self.0.booking.clone().map(Booking)
    }
    /// The child, for formal consultations.
    async fn pupil(&self) -> Option<Pupil> {
        self.0.pupil.clone().map(Pupil)
    }
    /// Consent recorded for the pupil, the latest first.
    async fn consents(&self) -> Vec<Consent> {
        self.0.consents.iter().cloned().map(Consent).collect()
    }
    /// Whether a formal consultation has valid consent for EP involvement today (always true
    /// for a professional one, which needs none).
    async fn consent_valid_today(&self) -> bool {
        self.0.row.kind == domain::model::ConsultationKind::Professional
            || consent::valid_on(&self.0.consents, Utc::now().date_naive())
    }
    /// The record of the meeting: for the school, once the EP shares it.
    async fn record(&self) -> Option<ConsultationRecord> {
        self.0.record.clone().map(ConsultationRecord)
    }
    /// Agreed actions (for the school, once the record is shared), soonest due first.
    async fn actions(&self) -> Vec<ConsultationAction> {
        self.0.actions.iter().cloned().map(ConsultationAction).collect()
    }
}

/// A pseudonymous pupil record held by a school: initials, year group, date of birth and the
/// school's own reference; never a name. Every read is in the audit log.
pub struct Pupil(pub pupil::Model);

#[Object]
impl Pupil {
    pub async fn id(&self) -> ID {
        ids::encode("Pupil", self.0.id)
    }
    async fn school_id(&self) -> ID {
        ids::encode("School", self.0.school_id)
    }
    async fn initials(&self) -> &str {
        &self.0.initials
    }
    async fn year_group(&self) -> YearGroup {
        self.0.year_group.into()
    }
    async fn date_of_birth(&self) -> Date {
        Date(self.0.date_of_birth)
    }
    /// The school's own reference for the pupil.
    async fn school_reference(&self) -> Option<&str> {
        self.0.school_reference.as_deref()
    }
    /// When the service's retention rule destroys this record.
    async fn destroy_after(&self) -> Date {
        Date(self.0.destroy_after)
    }
}

/// Consent for EP involvement with a pupil.
pub struct Consent(pub consent_row::Model);

#[Object]
impl Consent {
    pub async fn id(&self) -> ID {
        ids::encode("Consent", self.0.id)
    }
    async fn given_by(&self) -> ConsentGiver {
        self.0.given_by.into()
    }
    /// The giver's relationship to the child, in words.
    async fn relationship(&self) -> Option<&str> {
        self.0.relationship.as_deref()
    }
    async fn given_on(&self) -> Date {
        Date(self.0.given_on)
    }
    async fn method(&self) -> ConsentMethod {
        self.0.method.into()
    }
    async fn covers_ep_involvement(&self) -> bool {
        self.0.covers_ep_involvement
    }
    /// Agencies the consent allows sharing with.
    async fn share_with(&self) -> Vec<&str> {
        self.0
            .share_with
            .as_deref()
            .map(|s| s.lines().collect())
            .unwrap_or_default()
    }
    async fn expires_on(&self) -> Date {
        Date(self.0.expires_on)
    }
    async fn withdrawn_on(&self) -> Option<Date> {
        self.0.withdrawn_on.map(Date)
    }
    async fn withdrawal_reason(&self) -> Option<&str> {
        self.0.withdrawal_reason.as_deref()
    }
    async fn valid_today(&self) -> bool {
        consent::valid_on(std::slice::from_ref(&self.0), Utc::now().date_naive())
    }
}

/// An adult present at the meeting.
#[derive(SimpleObject)]
pub struct Attendee {
    pub name: String,
    pub role: String,
}

/// The record of a consultation meeting.
pub struct ConsultationRecord(pub consultations::RecordView);

#[Object]
impl ConsultationRecord {
    /// The adults present (never the child's name).
    async fn attendees(&self) -> Vec<Attendee> {
        records::attendees_of(&self.0.row)
            .into_iter()
            .map(|a| Attendee {
                name: a.name,
                role: a.role,
            })
            .collect()
    }
    async fn strengths(&self) -> Option<&str> {
        self.0.row.strengths.as_deref()
    }
    async fn concerns(&self) -> Option<&str> {
        self.0.row.concerns.as_deref()
    }
    async fn hypotheses(&self) -> Option<&str> {
        self.0.row.hypotheses.as_deref()
    }
    async fn format(&self) -> RecordFormat {
        self.0.row.format.into()
    }
    /// The EP's working notes: for that EP and the service's administrators only (null for
    /// everyone else).
    async fn private_notes(&self) -> Option<&str> {
        self.0
            .with_private_notes
            .then_some(self.0.row.private_notes.as_deref())
            .flatten()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.row.updated_at
    }
    /// When the school was given it.
    async fn shared_at(&self) -> Option<DateTime<Utc>> {
        self.0.row.shared_at
    }
}

/// An action agreed at a consultation.
pub struct ConsultationAction(pub consultation_action::Model);

#[Object]
impl ConsultationAction {
    pub async fn id(&self) -> ID {
        ids::encode("ConsultationAction", self.0.id)
    }
    async fn consultation_id(&self) -> ID {
        ids::encode("Consultation", self.0.consultation_id)
    }
    async fn school_id(&self) -> ID {
        ids::encode("School", self.0.school_id)
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// A role or a named adult.
    async fn owner(&self) -> &str {
        &self.0.owner
    }
    async fn due_on(&self) -> Date {
        Date(self.0.due_on)
    }
    async fn status(&self) -> ActionStatus {
        self.0.status.into()
    }
    async fn progress(&self) -> Option<&str> {
        self.0.progress.as_deref()
    }
}

/// How a service runs consultations.
pub struct ConsultationSettings(pub consultation_settings::Model);

#[Object]
impl ConsultationSettings {
    /// The usual length of the meeting.
    async fn meeting_minutes(&self) -> i32 {
        self.0.meeting_minutes
    }
    /// Preparation minutes booked with each meeting.
    async fn preparation_minutes(&self) -> i32 {
        self.0.preparation_minutes
    }
    /// Write-up minutes booked with each meeting.
    async fn write_up_minutes(&self) -> i32 {
        self.0.write_up_minutes
    }
    /// How long consent lasts unless it says otherwise.
    async fn consent_months(&self) -> i32 {
        self.0.consent_months
    }
    /// When the review falls after the meeting, unless the record says otherwise.
    async fn review_weeks(&self) -> i32 {
        self.0.review_weeks
    }
    async fn retention_rule(&self) -> RetentionRule {
        self.0.retention_rule.into()
    }
}

/// One step of a consultation's life: the states it may be taken from and where it leads.
#[derive(SimpleObject)]
pub struct ConsultationStep {
    pub name: String,
    pub what: String,
    pub from: Vec<ConsultationStatus>,
    /// Null: the state does not change.
    pub to: Option<ConsultationStatus>,
}
