//! Writing and publishing templates, running a round (groups, tables, responses, consensus,
//! submission), the action plan, and the service's naming setting.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::DomainError;
use domain::ids::{BookingId, SemhActionId, SemhItemId, SemhRespondentId};
use domain::semh::states::TemplateStep;
use domain::semh::{actions, rounds, tables, templates};

use super::enums::{SemhActionStatus, SemhBand};
use super::objects::{SemhAction, SemhConsensus, SemhRespondent, SemhRound, SemhTable, SemhTemplate};
use super::queries::{round_id, template_id};
use crate::graphql::context;
use crate::graphql::errors::payload_of;
use crate::graphql::ids;
use crate::graphql::scalars::Date;

#[derive(InputObject)]
pub struct SemhScalePointInput {
    /// 1 to 30 capital letters, digits or underscores; responses store it.
    pub key: String,
    pub label: String,
    /// `#rrggbb`.
    pub colour: String,
    /// `UNKNOWN` marks "don't know" (at most one point).
    pub band: SemhBand,
}

#[derive(InputObject)]
pub struct SemhItemInput {
    pub text: String,
    /// In a revision: the item of the revised version this one carries over (comparisons match
    /// them). Leave it out for a new item.
    pub carries_over_item_id: Option<ID>,
}

#[derive(InputObject)]
pub struct SemhSectionInput {
    pub title: String,
    pub items: Vec<SemhItemInput>,
}

/// What a template version holds (written out in full when created or changed).
#[derive(InputObject)]
pub struct SemhTemplateContent {
    pub name: String,
    pub description: Option<String>,
    /// 2 to 7 points, in order.
    pub scale: Vec<SemhScalePointInput>,
    /// Whether each item asks for ideas as well as evidence.
    #[graphql(default)]
    pub asks_ideas: bool,
    pub sections: Vec<SemhSectionInput>,
}

#[derive(InputObject)]
pub struct CreateSemhTemplateInput {
    pub service_id: ID,
    #[graphql(flatten)]
    pub content: SemhTemplateContent,
}

/// A draft's whole content, replacing what it held.
#[derive(InputObject)]
pub struct UpdateSemhTemplateInput {
    pub id: ID,
    #[graphql(flatten)]
    pub content: SemhTemplateContent,
}

#[derive(InputObject)]
pub struct SemhTemplateIdInput {
    pub id: ID,
}

payload!(SemhTemplatePayload { template: SemhTemplate });

#[derive(InputObject)]
pub struct SetSemhNamesSchoolsInput {
    pub service_id: ID,
    pub names_schools: bool,
}

payload!(SetSemhNamesSchoolsPayload { names_schools: bool });

#[derive(InputObject)]
pub struct SemhSessionInput {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(InputObject)]
pub struct OpenSemhRoundInput {
    pub school_id: ID,
    /// A published template version.
    pub template_id: ID,
    /// "Autumn 2026 whole-staff audit".
    pub title: String,
    /// Run as a whole-staff session: tables' links expire when it ends.
    pub session: Option<SemhSessionInput>,
    /// The link EP's support: a booking of EP time at the school.
    pub support_booking_id: Option<ID>,
}

payload!(SemhRoundPayload { round: SemhRound });

#[derive(InputObject)]
pub struct AddSemhGroupInput {
    pub round_id: ID,
    /// "Year 3 team", "Table 4": never a person's name.
    pub name: String,
    /// A table of the round's whole-staff session, with its own link for the facilitator.
    #[graphql(default)]
    pub as_table: bool,
}

#[derive(SimpleObject)]
pub struct SemhGroupAdded {
    pub respondent: SemhRespondent,
    /// A table's link token, shown once: the facilitator opens it without an account.
    pub table_token: Option<String>,
}

payload!(AddSemhGroupPayload { result: SemhGroupAdded });

#[derive(InputObject)]
pub struct SemhAnswerInput {
    pub item_id: ID,
    /// A key of the template's scale.
    pub rating: String,
    /// A short evidence note (at most 500 characters): never a pupil's details.
    pub evidence: Option<String>,
    /// Ideas, where the template asks for them.
    pub ideas: Option<String>,
}

#[derive(InputObject)]
pub struct RecordSemhResponsesInput {
    pub round_id: ID,
    /// A group or table of the round (its lead enters them); leave out for one's own answers.
    pub respondent_id: Option<ID>,
    pub responses: Vec<SemhAnswerInput>,
}

payload!(RecordSemhResponsesPayload {
    respondent: SemhRespondent
});

#[derive(InputObject)]
pub struct RecordSemhTableResponsesInput {
    /// The table's link token.
    pub token: String,
    pub responses: Vec<SemhAnswerInput>,
}

payload!(RecordSemhTableResponsesPayload { table: SemhTable });

#[derive(InputObject)]
pub struct SemhAgreedInput {
    pub item_id: ID,
    pub rating: String,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct SetSemhConsensusInput {
    pub round_id: ID,
    pub ratings: Vec<SemhAgreedInput>,
}

payload!(SetSemhConsensusPayload {
    consensus: Vec<SemhConsensus>
});

#[derive(InputObject)]
pub struct SubmitSemhRoundInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct AddSemhActionInput {
    pub round_id: ID,
    /// The item it is drawn from; leave out for the round as a whole.
    pub item_id: Option<ID>,
    pub priority: String,
    /// A role ("SENCO", "Head of Year 7"), or a named adult, or both.
    pub owner_role: Option<String>,
    pub owner_name: Option<String>,
    pub due_on: Option<Date>,
    pub status: Option<SemhActionStatus>,
    pub progress_note: Option<String>,
}

/// Only what is given changes; a progress note is added to the priority's notes.
#[derive(InputObject)]
pub struct UpdateSemhActionInput {
    pub id: ID,
    pub priority: Option<String>,
    pub owner_role: Option<String>,
    pub owner_name: Option<String>,
    pub due_on: Option<Date>,
    pub status: Option<SemhActionStatus>,
    pub progress_note: Option<String>,
}

payload!(SemhActionPayload { action: SemhAction });

fn content(given: SemhTemplateContent) -> Result<templates::Content, DomainError> {
    let SemhTemplateContent {
        name,
        description,
        scale,
        asks_ideas,
        sections,
    } = given;
    let mut out = Vec::new();
    for (i, s) in sections.into_iter().enumerate() {
        let mut items = Vec::new();
        for (j, it) in s.items.into_iter().enumerate() {
            items.push(templates::ItemInput {
                text: it.text,
                carries_over: ids::expect_opt::<SemhItemId>(
                    &format!("sections.{i}.items.{j}.carriesOverItemId"),
                    "SemhItem",
                    it.carries_over_item_id.as_ref(),
                )?,
            });
        }
        out.push(templates::SectionInput { title: s.title, items });
    }
    Ok(templates::Content {
        name,
        description,
        scale: scale
            .into_iter()
            .map(|p| templates::PointInput {
                key: p.key,
                label: p.label,
                colour: p.colour,
                band: p.band.into(),
            })
            .collect(),
        asks_ideas,
        sections: out,
    })
}

fn answers(field: &str, given: Vec<SemhAnswerInput>) -> Result<Vec<rounds::Answer>, DomainError> {
    given
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            Ok(rounds::Answer {
                item_id: ids::expect(&format!("{field}.{i}.itemId"), "SemhItem", &a.item_id)?,
                rating: a.rating,
                evidence: a.evidence,
                ideas: a.ideas,
            })
        })
        .collect()
}

fn action_id(id: &ID) -> Result<SemhActionId, DomainError> {
    ids::expect("id", "SemhAction", id).map_err(|_| DomainError::NotFound)
}

#[derive(Default)]
pub struct SemhMutation;

#[Object]
impl SemhMutation {
    /// Writes a template of the service's own, as a draft version 1 (administrators).
    async fn create_semh_template(
        &self,
        ctx: &Context<'_>,
        input: CreateSemhTemplateInput,
    ) -> Result<SemhTemplatePayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let service = ids::expect("serviceId", "Service", &input.service_id)?;
            let content = content(input.content)?;
            templates::create(c.db(), caller, service, content).await
        }
        .await;
        Ok(payload_of(c, result, |t| SemhTemplate(t.into()))?.into())
    }

    /// Replaces a draft's content; a published version is refused (revise it instead).
    async fn update_semh_template(
        &self,
        ctx: &Context<'_>,
        input: UpdateSemhTemplateInput,
    ) -> Result<SemhTemplatePayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = template_id("id", &input.id).map_err(|_| DomainError::NotFound)?;
            let content = content(input.content)?;
            templates::update(c.db(), caller, id, content).await
        }
        .await;
        Ok(payload_of(c, result, |t| SemhTemplate(t.into()))?.into())
    }

    /// Makes the next version of a published template as a draft, every item carried over.
    async fn revise_semh_template(&self, ctx: &Context<'_>, input: SemhTemplateIdInput) -> Result<SemhTemplatePayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = template_id("id", &input.id).map_err(|_| DomainError::NotFound)?;
            templates::revise(c.db(), caller, id).await
        }
        .await;
        Ok(payload_of(c, result, |t| SemhTemplate(t.into()))?.into())
    }

    /// Publishes a draft: it never changes again, and schools can open rounds on it.
    async fn publish_semh_template(
        &self,
        ctx: &Context<'_>,
        input: SemhTemplateIdInput,
    ) -> Result<SemhTemplatePayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = template_id("id", &input.id).map_err(|_| DomainError::NotFound)?;
            templates::set_status(c.db(), caller, id, TemplateStep::Publish).await
        }
        .await;
        Ok(payload_of(c, result, |t| SemhTemplate(t.into()))?.into())
    }

    /// Retires a published version: no new rounds; rounds on it keep it.
    async fn retire_semh_template(&self, ctx: &Context<'_>, input: SemhTemplateIdInput) -> Result<SemhTemplatePayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = template_id("id", &input.id).map_err(|_| DomainError::NotFound)?;
            templates::set_status(c.db(), caller, id, TemplateStep::Retire).await
        }
        .await;
        Ok(payload_of(c, result, |t| SemhTemplate(t.into()))?.into())
    }

    /// Whether the service's picture names its schools (administrators; default: no).
    async fn set_semh_names_schools(
        &self,
        ctx: &Context<'_>,
        input: SetSemhNamesSchoolsInput,
    ) -> Result<SetSemhNamesSchoolsPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let service = ids::expect("serviceId", "Service", &input.service_id)?;
            templates::set_names_schools(c.db(), caller, service, input.names_schools).await
        }
        .await;
        Ok(payload_of(c, result, |b| b)?.into())
    }

    /// Opens a round for a school on a published version (its leaders and SENCOs); unfinished
    /// priorities of its last round of the same template are carried into it.
    async fn open_semh_round(&self, ctx: &Context<'_>, input: OpenSemhRoundInput) -> Result<SemhRoundPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let school_id = ids::expect("schoolId", "School", &input.school_id)?;
            let template_id = template_id("templateId", &input.template_id)?;
            let support_booking_id =
                ids::expect_opt::<BookingId>("supportBookingId", "Booking", input.support_booking_id.as_ref())?;
            rounds::open(
                c.db(),
                caller,
                rounds::NewRound {
                    school_id,
                    template_id,
                    title: input.title,
                    session: input.session.map(|s| (s.starts_at, s.ends_at)),
                    support_booking_id,
                },
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, SemhRound)?.into())
    }

    /// Adds a named group, or a table of the whole-staff session with its own link.
    async fn add_semh_group(&self, ctx: &Context<'_>, input: AddSemhGroupInput) -> Result<AddSemhGroupPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let round = round_id("roundId", &input.round_id)?;
            rounds::add_group(c.db(), caller, round, &input.name, input.as_table).await
        }
        .await;
        Ok(payload_of(c, result, |a| SemhGroupAdded {
            respondent: SemhRespondent {
                row: a.respondent,
                mine: false,
            },
            table_token: a.token,
        })?
        .into())
    }

    /// Records answers to an open round: one's own, or a group's or table's (the lead).
    async fn record_semh_responses(
        &self,
        ctx: &Context<'_>,
        input: RecordSemhResponsesInput,
    ) -> Result<RecordSemhResponsesPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let own = input.respondent_id.is_none();
        let result = async {
            let round = round_id("roundId", &input.round_id)?;
            let respondent =
                ids::expect_opt::<SemhRespondentId>("respondentId", "SemhRespondent", input.respondent_id.as_ref())?;
            let given = answers("responses", input.responses)?;
            rounds::respond(c.db(), caller, round, respondent, given).await
        }
        .await;
        Ok(payload_of(c, result, |row| SemhRespondent { row, mine: own })?.into())
    }

    /// Records a table's answers through its link (no sign-in).
    async fn record_semh_table_responses(
        &self,
        ctx: &Context<'_>,
        input: RecordSemhTableResponsesInput,
    ) -> Result<RecordSemhTableResponsesPayload> {
        let c = context::of(ctx)?;
        let result = async {
            let given = answers("responses", input.responses)?;
            tables::respond(c.db(), &input.token, given, &c.request_id).await
        }
        .await;
        Ok(payload_of(c, result, SemhTable)?.into())
    }

    /// Records the agreed rating of items (the lead), replacing earlier ones.
    async fn set_semh_consensus(
        &self,
        ctx: &Context<'_>,
        input: SetSemhConsensusInput,
    ) -> Result<SetSemhConsensusPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let round = round_id("roundId", &input.round_id)?;
            let agreed = input
                .ratings
                .into_iter()
                .enumerate()
                .map(|(i, a)| {
                    Ok(rounds::Agreed {
                        item_id: ids::expect(&format!("ratings.{i}.itemId"), "SemhItem", &a.item_id)?,
                        rating: a.rating,
                        note: a.note,
                    })
                })
                .collect::<Result<Vec<_>, DomainError>>()?;
            rounds::set_consensus(c.db(), caller, round, agreed).await
        }
        .await;
        Ok(payload_of(c, result, |rows| {
            rows.into_iter()
                .map(|r| SemhConsensus {
                    item_id: ids::encode("SemhItem", r.item_id),
                    rating: r.rating,
                    note: r.note,
                    updated_at: r.updated_at,
                })
                .collect()
        })?
        .into())
    }

    /// Submits a round whose every item has a consensus: it becomes read-only.
    async fn submit_semh_round(&self, ctx: &Context<'_>, input: SubmitSemhRoundInput) -> Result<SemhRoundPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = round_id("id", &input.id)?;
            rounds::submit(c.db(), caller, id).await
        }
        .await;
        Ok(payload_of(c, result, SemhRound)?.into())
    }

    /// Adds a priority to a round's action plan.
    async fn add_semh_action(&self, ctx: &Context<'_>, input: AddSemhActionInput) -> Result<SemhActionPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let round = round_id("roundId", &input.round_id)?;
            let item = ids::expect_opt::<SemhItemId>("itemId", "SemhItem", input.item_id.as_ref())?;
            let plan = actions::Plan {
                priority: Some(input.priority),
                owner_role: input.owner_role,
                owner_name: input.owner_name,
                due_on: input.due_on.map(|d| d.0),
                status: input.status.map(Into::into),
                progress_note: input.progress_note,
            };
            actions::add(c.db(), caller, round, item, plan).await
        }
        .await;
        Ok(payload_of(c, result, SemhAction)?.into())
    }

    /// Changes a priority, or adds a progress note to it.
    async fn update_semh_action(&self, ctx: &Context<'_>, input: UpdateSemhActionInput) -> Result<SemhActionPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = action_id(&input.id)?;
            let plan = actions::Plan {
                priority: input.priority,
                owner_role: input.owner_role,
                owner_name: input.owner_name,
                due_on: input.due_on.map(|d| d.0),
                status: input.status.map(Into::into),
                progress_note: input.progress_note,
            };
            actions::update(c.db(), caller, id, plan).await
        }
        .await;
        Ok(payload_of(c, result, SemhAction)?.into())
    }
}
