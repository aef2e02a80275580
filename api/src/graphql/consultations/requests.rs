//! Asking for involvement, changing and withdrawing the request, triage, pupils, consent and the
//! service's consultation settings.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use domain::consultations::{consent, pupils, requests, settings};
use domain::ids::{ConsentId, PupilId, ServiceId};

use super::consultation_id;
use super::enums::{
    ConcernArea, ConsentGiver, ConsentMethod, ConsultationKind, RetentionRule, TriageDecision, YearGroup,
};
use super::meeting::{SlotInput, slot_of};
use super::objects::{Consent, Consultation, ConsultationSettings, Pupil};
use crate::graphql::context;
use crate::graphql::enums::FundingStream;
use crate::graphql::errors::payload_of;
use crate::graphql::ids;
use crate::graphql::scalars::Date;

/// A pupil record: initials only, never a name.
#[derive(InputObject)]
pub struct PupilInput {
    /// One to four letters.
    pub initials: String,
    pub year_group: YearGroup,
    pub date_of_birth: Date,
    /// The school's own reference (at most 32 characters).
    pub school_reference: Option<String>,
}

impl PupilInput {
    fn into_new(self, school_id: domain::ids::SchoolId) -> pupils::NewPupil {
        pupils::NewPupil {
            school_id,
            initials: self.initials,
            year_group: self.year_group.into(),
            date_of_birth: self.date_of_birth.0,
            school_reference: self.school_reference,
        }
    }
}

#[derive(InputObject)]
pub struct ConsentInput {
    pub given_by: ConsentGiver,
    /// The giver's relationship to the child, in words (e.g. "mother", "foster carer").
    pub relationship: Option<String>,
    pub given_on: Date,
    pub method: ConsentMethod,
    #[graphql(default = true)]
    pub covers_ep_involvement: bool,
    /// Agencies the family agreed information may be shared with.
    #[graphql(default)]
    pub share_with: Vec<String>,
    /// Default: the service's consent period (two years unless set) after `givenOn`.
    pub expires_on: Option<Date>,
}

impl From<ConsentInput> for consent::NewConsent {
    fn from(c: ConsentInput) -> Self {
        Self {
            given_by: c.given_by.into(),
            relationship: c.relationship,
            given_on: c.given_on.0,
            method: c.method.into(),
            covers_ep_involvement: c.covers_ep_involvement,
            share_with: c.share_with,
            expires_on: c.expires_on.map(|d| d.0),
        }
    }
}

/// A request for involvement. Keep answers short and never name a child: formal work names its
/// pupil through the pupil record.
#[derive(InputObject)]
pub struct RequestConsultationInput {
    pub school_id: ID,
    pub kind: ConsultationKind,
    /// A pupil the school holds already (formal only)...
    pub pupil_id: Option<ID>,
    /// ...or a new pupil record.
    pub pupil: Option<PupilInput>,
    pub areas_of_concern: Vec<ConcernArea>,
    pub strengths: Option<String>,
    /// What the school has tried already.
    pub tried: Option<String>,
    pub hoped_outcomes: Option<String>,
    pub preferred_times: Option<String>,
    /// Default TRADED; only administrators mark work as STATUTORY.
    pub funding_stream: Option<FundingStream>,
    /// The EP asked for (default: the school's link EP).
    pub ep_id: Option<ID>,
    /// Consent already given (formal only).
    pub consent: Option<ConsentInput>,
    /// A free slot (from `availability`) to book at once, where the service lets schools book.
    pub slot: Option<SlotInput>,
}

/// A consultation after a change, with anything the caller should know.
#[derive(SimpleObject)]
pub struct ConsultationChanged {
    pub consultation: Consultation,
    /// For example a meeting booked outside term under a warn-only policy.
    pub warnings: Vec<String>,
}

impl ConsultationChanged {
    pub fn of(mut v: domain::consultations::View) -> Self {
        let warnings = std::mem::take(&mut v.warnings);
        Self {
            consultation: Consultation(Box::new(v)),
            warnings,
        }
    }
}

payload!(RequestConsultationPayload {
    result: ConsultationChanged
});

#[derive(InputObject)]
pub struct UpdateConsultationRequestInput {
    pub id: ID,
    pub areas_of_concern: Option<Vec<ConcernArea>>,
    pub strengths: Option<String>,
    pub tried: Option<String>,
    pub hoped_outcomes: Option<String>,
    pub preferred_times: Option<String>,
}

payload!(ConsultationPayload {
    consultation: Consultation
});

#[derive(InputObject)]
pub struct TriageConsultationInput {
    pub id: ID,
    pub decision: TriageDecision,
    /// Required to decline or ask for information; the school sees it.
    pub note: Option<String>,
    /// The EP who takes the work on (default: the EP accepting it, or the one asked for).
    pub ep_id: Option<ID>,
}

#[derive(InputObject)]
pub struct WithdrawConsultationInput {
    pub id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct AddPupilInput {
    pub school_id: ID,
    pub pupil: PupilInput,
}

payload!(PupilPayload { pupil: Pupil });

#[derive(InputObject)]
pub struct UpdatePupilInput {
    pub id: ID,
    pub initials: Option<String>,
    pub year_group: Option<YearGroup>,
    pub date_of_birth: Option<Date>,
    pub school_reference: Option<String>,
}

#[derive(InputObject)]
pub struct RecordConsentInput {
    pub consultation_id: ID,
    pub consent: ConsentInput,
}

#[derive(InputObject)]
pub struct WithdrawConsentInput {
    pub id: ID,
    pub reason: String,
    /// Default today.
    pub on: Option<Date>,
}

#[derive(SimpleObject)]
pub struct ConsentWithdrawn {
    pub consent: Consent,
    /// The consultations about the pupil that were withdrawn.
    pub withdrawn_consultation_ids: Vec<ID>,
    /// Minutes charged to the school for meetings cancelled late.
    pub charged_minutes: i64,
}

payload!(WithdrawConsentPayload {
    result: ConsentWithdrawn
});

#[derive(InputObject)]
pub struct UpdateConsultationSettingsInput {
    pub service_id: ID,
    pub meeting_minutes: Option<i32>,
    pub preparation_minutes: Option<i32>,
    pub write_up_minutes: Option<i32>,
    pub consent_months: Option<i32>,
    pub review_weeks: Option<i32>,
    pub retention_rule: Option<RetentionRule>,
}

payload!(ConsultationSettingsPayload {
    settings: ConsultationSettings
});

#[derive(Default)]
pub struct RequestMutation;

#[Object]
impl RequestMutation {
    /// Asks for EP involvement for a school. With a `slot`, the meeting is booked at once (where
    /// the service lets schools book, within the school's remaining allocation).
    async fn request_consultation(
        &self,
        ctx: &Context<'_>,
        input: RequestConsultationInput,
    ) -> Result<RequestConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let school_id = ids::expect("schoolId", "School", &input.school_id)?;
            let new = requests::NewRequest {
                school_id,
                kind: input.kind.into(),
                pupil_id: ids::expect_opt::<PupilId>("pupilId", "Pupil", input.pupil_id.as_ref())?,
                pupil: input.pupil.map(|p| p.into_new(school_id)),
                areas: input.areas_of_concern.into_iter().map(Into::into).collect(),
                answers: requests::Answers {
                    strengths: input.strengths,
                    tried: input.tried,
                    hoped_outcomes: input.hoped_outcomes,
                    preferred_times: input.preferred_times,
                },
                funding_stream: input.funding_stream.map(Into::into),
                ep_id: ids::expect_opt("epId", "Person", input.ep_id.as_ref())?,
                consent: input.consent.map(Into::into),
                slot: input.slot.map(slot_of).transpose()?,
            };
            requests::request(c.db(), caller, new).await
        }
        .await;
        Ok(payload_of(c, result, ConsultationChanged::of)?.into())
    }

    /// Changes a request before it is accepted (and answers a request for information).
    async fn update_consultation_request(
        &self,
        ctx: &Context<'_>,
        input: UpdateConsultationRequestInput,
    ) -> Result<ConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            requests::update(
                c.db(),
                caller,
                id,
                input.areas_of_concern.map(|a| a.into_iter().map(Into::into).collect()),
                requests::Answers {
                    strengths: input.strengths,
                    tried: input.tried,
                    hoped_outcomes: input.hoped_outcomes,
                    preferred_times: input.preferred_times,
                },
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, |v| Consultation(Box::new(v)))?.into())
    }

    /// Accepts a request, declines it (with a reason the school sees) or asks for more.
    async fn triage_consultation(
        &self,
        ctx: &Context<'_>,
        input: TriageConsultationInput,
    ) -> Result<ConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            let ep = ids::expect_opt("epId", "Person", input.ep_id.as_ref())?;
            requests::triage(c.db(), caller, id, input.decision.into(), input.note.as_deref(), ep).await
        }
        .await;
        Ok(payload_of(c, result, |v| Consultation(Box::new(v)))?.into())
    }

    /// The school withdraws its request; a meeting still to come is cancelled under the policy.
    async fn withdraw_consultation(
        &self,
        ctx: &Context<'_>,
        input: WithdrawConsultationInput,
    ) -> Result<ConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("id", &input.id)?;
            requests::withdraw(c.db(), caller, id, &input.reason).await
        }
        .await;
        Ok(payload_of(c, result, |v| Consultation(Box::new(v)))?.into())
    }

    /// Adds a pupil record to a school.
    async fn add_pupil(&self, ctx: &Context<'_>, input: AddPupilInput) -> Result<PupilPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let school = ids::expect("schoolId", "School", &input.school_id)?;
            pupils::add(c.db(), caller, input.pupil.into_new(school)).await
        }
        .await;
        Ok(payload_of(c, result, Pupil)?.into())
    }

    /// Corrects a pupil record.
    async fn update_pupil(&self, ctx: &Context<'_>, input: UpdatePupilInput) -> Result<PupilPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id: PupilId = ids::expect("id", "Pupil", &input.id).map_err(|_| domain::DomainError::NotFound)?;
            let patch = pupils::PupilPatch {
                initials: input.initials,
                year_group: input.year_group.map(Into::into),
                date_of_birth: input.date_of_birth.map(|d| d.0),
                school_reference: input.school_reference,
            };
            pupils::update(c.db(), caller, id, patch).await
        }
        .await;
        Ok(payload_of(c, result, Pupil)?.into())
    }

    /// Records consent for a formal consultation's pupil.
    async fn record_consent(&self, ctx: &Context<'_>, input: RecordConsentInput) -> Result<ConsultationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = consultation_id("consultationId", &input.consultation_id)?;
            consent::record(c.db(), caller, id, input.consent.into()).await
        }
        .await;
        Ok(payload_of(c, result, |v| Consultation(Box::new(v)))?.into())
    }

    /// Withdraws consent: every open consultation about the pupil stops and its future meeting
    /// is cancelled under the policy.
    async fn withdraw_consent(&self, ctx: &Context<'_>, input: WithdrawConsentInput) -> Result<WithdrawConsentPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id: ConsentId = ids::expect("id", "Consent", &input.id).map_err(|_| domain::DomainError::NotFound)?;
            consent::withdraw(c.db(), caller, id, &input.reason, input.on.map(|d| d.0)).await
        }
        .await;
        Ok(payload_of(c, result, |w| ConsentWithdrawn {
            consent: Consent(w.consent),
            withdrawn_consultation_ids: w
                .withdrawn
                .into_iter()
                .map(|i| ids::encode("Consultation", i))
                .collect(),
            charged_minutes: w.charged_minutes,
        })?
        .into())
    }

    /// Changes how the service runs consultations.
    async fn update_consultation_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateConsultationSettingsInput,
    ) -> Result<ConsultationSettingsPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let service: ServiceId =
                ids::expect("serviceId", "Service", &input.service_id).map_err(|_| domain::DomainError::NotFound)?;
            let patch = settings::Patch {
                meeting_minutes: input.meeting_minutes,
                preparation_minutes: input.preparation_minutes,
                write_up_minutes: input.write_up_minutes,
                consent_months: input.consent_months,
                review_weeks: input.review_weeks,
                retention_rule: input.retention_rule.map(Into::into),
            };
            settings::update(c.db(), caller, service, patch).await
        }
        .await;
        Ok(payload_of(c, result, ConsultationSettings)?.into())
    }
}
