//! Templates, rounds, results, the action plan, comparisons and the service's picture as their
//! readers may see them.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::entities::{semh_action, semh_respondent, semh_response};
use domain::semh::results::{self, Bands, Counts};
use domain::semh::{RoundView, TemplateView, actions, picture, rounds, tables};

use super::enums::{SemhActionStatus, SemhBand, SemhChange, SemhRespondentKind, SemhRoundStatus, SemhTemplateStatus};
use crate::graphql::context;
use crate::graphql::enums::Phase;
use crate::graphql::errors::OrGraphql;
use crate::graphql::ids;
use crate::graphql::loaders;
use crate::graphql::scalars::Date;
use crate::graphql::tenancy::School;

/// One answer of a rating scale.
#[derive(SimpleObject)]
pub struct SemhScalePoint {
    /// What responses store (`GREEN`, `DOING_WELL`).
    pub key: String,
    pub label: String,
    /// `#rrggbb`.
    pub colour: String,
    pub band: SemhBand,
    pub dont_know: bool,
}

#[derive(SimpleObject)]
pub struct SemhItem {
    pub id: ID,
    pub text: String,
    /// The same for an item and its carried-over versions: comparisons match on it.
    pub lineage_item_id: ID,
    /// The item of the revised version this one carries over.
    pub carries_over_item_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct SemhSection {
    pub id: ID,
    pub title: String,
    pub items: Vec<SemhItem>,
}

/// A version of an audit template: its scale, sections and items.
pub struct SemhTemplate(pub Arc<TemplateView>);

#[Object]
impl SemhTemplate {
    pub async fn id(&self) -> ID {
        ids::encode("SemhTemplate", self.0.row.id)
    }
    async fn name(&self) -> &str {
        &self.0.row.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.row.description.as_deref()
    }
    /// 1 for a first version; each revision adds one.
    async fn version(&self) -> i32 {
        self.0.row.version
    }
    /// Every version of one template shares it (the first version's id).
    async fn lineage_id(&self) -> ID {
        ids::encode("SemhTemplate", self.0.row.lineage_id)
    }
    /// The version this one revises.
    async fn revises_id(&self) -> Option<ID> {
        self.0.row.revises_id.map(|r| ids::encode("SemhTemplate", r))
    }
    async fn status(&self) -> SemhTemplateStatus {
        self.0.row.status.into()
    }
    /// Whether it began as one of the starter templates (`EIGHT_PRINCIPLES`, `FIVE_STEPS`,
    /// `RESILIENCE`).
    async fn starter(&self) -> Option<&str> {
        self.0.row.starter.as_deref()
    }
    /// Whether each item asks for ideas as well as evidence.
    async fn asks_ideas(&self) -> bool {
        self.0.row.asks_ideas
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.row.published_at
    }
    async fn scale(&self) -> Vec<SemhScalePoint> {
        self.0
            .scale
            .iter()
            .map(|p| SemhScalePoint {
                key: p.key.clone(),
                label: p.label.clone(),
                colour: p.colour.clone(),
                band: p.band.into(),
                dont_know: p.is_dont_know(),
            })
            .collect()
    }
    async fn sections(&self) -> Vec<SemhSection> {
        self.0
            .sections
            .iter()
            .map(|s| SemhSection {
                id: ids::encode("SemhSection", s.id),
                title: s.title.clone(),
                items: self
                    .0
                    .items_of(s.id)
                    .map(|i| SemhItem {
                        id: ids::encode("SemhItem", i.id),
                        text: i.text.clone(),
                        lineage_item_id: ids::encode("SemhItem", i.lineage_item_id),
                        carries_over_item_id: i.carried_from_id.map(|c| ids::encode("SemhItem", c)),
                    })
                    .collect(),
            })
            .collect()
    }
}

/// Who gave a set of responses. Individuals are not named to others: the lead sees that a member
/// of staff answered, and what; `mine` marks the reader's own.
pub struct SemhRespondent {
    pub row: semh_respondent::Model,
    pub mine: bool,
}

#[Object]
impl SemhRespondent {
    async fn id(&self) -> ID {
        ids::encode("SemhRespondent", self.row.id)
    }
    async fn kind(&self) -> SemhRespondentKind {
        self.row.kind.into()
    }
    /// A group's or table's name.
    async fn name(&self) -> Option<&str> {
        self.row.label.as_deref()
    }
    async fn mine(&self) -> bool {
        self.mine
    }
    /// When a table's link stops working.
    async fn link_expires_at(&self) -> Option<DateTime<Utc>> {
        self.row.link_expires_at
    }
}

pub struct SemhResponse(pub semh_response::Model);

#[Object]
impl SemhResponse {
    async fn item_id(&self) -> ID {
        ids::encode("SemhItem", self.0.item_id)
    }
    async fn respondent_id(&self) -> ID {
        ids::encode("SemhRespondent", self.0.respondent_id)
    }
    /// A key of the template's scale.
    async fn rating(&self) -> &str {
        &self.0.rating
    }
    async fn evidence(&self) -> Option<&str> {
        self.0.evidence.as_deref()
    }
    async fn ideas(&self) -> Option<&str> {
        self.0.ideas.as_deref()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The lead's agreed rating of an item.
#[derive(SimpleObject)]
pub struct SemhConsensus {
    pub item_id: ID,
    pub rating: String,
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// How many gave one rating.
#[derive(SimpleObject)]
pub struct SemhCount {
    pub key: String,
    pub count: i64,
}

fn counts(c: &Counts) -> Vec<SemhCount> {
    c.iter()
        .map(|(key, count)| SemhCount {
            key: key.clone(),
            count: *count,
        })
        .collect()
}

#[derive(SimpleObject)]
pub struct SemhItemResult {
    pub item_id: ID,
    /// How many respondents gave each rating, in the scale's order.
    pub counts: Vec<SemhCount>,
    pub responses: i64,
    pub consensus: Option<String>,
    /// How far individual views differ (0: they agree; "don't know" left out).
    pub spread: f64,
}

#[derive(SimpleObject)]
pub struct SemhSectionResult {
    pub section_id: ID,
    pub title: String,
    pub counts: Vec<SemhCount>,
    /// How many of the section's items the consensus gave each rating.
    pub consensus: Vec<SemhCount>,
}

/// A round's results: distributions per item, per section and overall, and where views diverge.
#[derive(SimpleObject)]
pub struct SemhResults {
    pub respondents: i64,
    pub overall: Vec<SemhCount>,
    pub overall_consensus: Vec<SemhCount>,
    pub sections: Vec<SemhSectionResult>,
    pub items: Vec<SemhItemResult>,
    /// The items whose individual views differ most, most first (at most five).
    pub most_divergent_item_ids: Vec<ID>,
}

impl From<results::Results> for SemhResults {
    fn from(r: results::Results) -> Self {
        Self {
            respondents: r.respondents,
            overall: counts(&r.overall),
            overall_consensus: counts(&r.overall_consensus),
            sections: r
                .sections
                .iter()
                .map(|s| SemhSectionResult {
                    section_id: ids::encode("SemhSection", s.section_id),
                    title: s.title.clone(),
                    counts: counts(&s.counts),
                    consensus: counts(&s.consensus),
                })
                .collect(),
            items: r
                .items
                .iter()
                .map(|i| SemhItemResult {
                    item_id: ids::encode("SemhItem", i.item_id),
                    counts: counts(&i.counts),
                    responses: i.responses,
                    consensus: i.consensus.clone(),
                    spread: (i.spread * 1000.0).round() / 1000.0,
                })
                .collect(),
            most_divergent_item_ids: r.most_divergent.iter().map(|i| ids::encode("SemhItem", *i)).collect(),
        }
    }
}

#[derive(SimpleObject)]
pub struct SemhProgressNote {
    pub at: DateTime<Utc>,
    pub note: String,
}

/// A priority of a school's action plan.
pub struct SemhAction(pub semh_action::Model);

#[Object]
impl SemhAction {
    async fn id(&self) -> ID {
        ids::encode("SemhAction", self.0.id)
    }
    async fn round_id(&self) -> ID {
        ids::encode("SemhRound", self.0.round_id)
    }
    /// The item it was drawn from (in this round's version), if any.
    async fn item_id(&self) -> Option<ID> {
        self.0.item_id.map(|i| ids::encode("SemhItem", i))
    }
    async fn priority(&self) -> &str {
        &self.0.priority
    }
    async fn owner_role(&self) -> Option<&str> {
        self.0.owner_role.as_deref()
    }
    async fn owner_name(&self) -> Option<&str> {
        self.0.owner_name.as_deref()
    }
    async fn due_on(&self) -> Option<Date> {
        self.0.due_on.map(Date)
    }
    async fn status(&self) -> SemhActionStatus {
        self.0.status.into()
    }
    async fn progress(&self) -> Vec<SemhProgressNote> {
        actions::progress_of(&self.0)
            .into_iter()
            .map(|p| SemhProgressNote { at: p.at, note: p.note })
            .collect()
    }
    /// The priority of the earlier round this one carries forward.
    async fn carried_from_id(&self) -> Option<ID> {
        self.0.carried_from_id.map(|i| ids::encode("SemhAction", i))
    }
}

#[derive(SimpleObject)]
pub struct SemhSession {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// One school's round on one template version. Staff who may respond but not lead see the round
/// and their own responses only (`respondents`, `responses` hold theirs; results, consensus and
/// the plan are empty).
pub struct SemhRound(pub RoundView);

#[Object]
impl SemhRound {
    pub async fn id(&self) -> ID {
        ids::encode("SemhRound", self.0.row.id)
    }
    async fn title(&self) -> &str {
        &self.0.row.title
    }
    async fn status(&self) -> SemhRoundStatus {
        self.0.row.status.into()
    }
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        Ok(loaders::school(ctx, Some(self.0.row.school_id)).await?.map(School))
    }
    async fn template(&self) -> SemhTemplate {
        SemhTemplate(self.0.template.clone())
    }
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.row.opened_at
    }
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.row.submitted_at
    }
    /// The whole-staff session, when the round is run as one.
    async fn session(&self) -> Option<SemhSession> {
        match (self.0.row.session_starts_at, self.0.row.session_ends_at) {
            (Some(starts_at), Some(ends_at)) => Some(SemhSession { starts_at, ends_at }),
            _ => None,
        }
    }
    /// The booking of the link EP's time that supports the round.
    async fn support_booking_id(&self) -> Option<ID> {
        (!self.0.limited)
            .then_some(self.0.row.booking_id)
            .flatten()
            .map(|b| ids::encode("Booking", b))
    }
    /// Whether the reader sees only their own responses.
    async fn limited(&self) -> bool {
        self.0.limited
    }
    async fn respondents(&self, ctx: &Context<'_>) -> Result<Vec<SemhRespondent>> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let me = caller.principal.person_id();
        Ok(rounds::respondents(c.db(), caller, &self.0)
            .await
            .or_gql(c)?
            .into_iter()
            .map(|row| SemhRespondent {
                mine: me.is_some() && row.person_id == me,
                row,
            })
            .collect())
    }
    /// Every response the reader may see, for the side-by-side view.
    async fn responses(&self, ctx: &Context<'_>) -> Result<Vec<SemhResponse>> {
        let c = context::of(ctx)?;
        Ok(rounds::responses(c.db(), c.caller()?, &self.0)
            .await
            .or_gql(c)?
            .into_iter()
            .map(SemhResponse)
            .collect())
    }
    async fn consensus(&self, ctx: &Context<'_>) -> Result<Vec<SemhConsensus>> {
        let c = context::of(ctx)?;
        Ok(rounds::consensus(c.db(), c.caller()?, &self.0)
            .await
            .or_gql(c)?
            .into_iter()
            .map(|r| SemhConsensus {
                item_id: ids::encode("SemhItem", r.item_id),
                rating: r.rating,
                note: r.note,
                updated_at: r.updated_at,
            })
            .collect())
    }
    async fn results(&self, ctx: &Context<'_>) -> Result<Option<SemhResults>> {
        let c = context::of(ctx)?;
        Ok(results::of(c.db(), c.caller()?, &self.0)
            .await
            .or_gql(c)?
            .map(SemhResults::from))
    }
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<SemhAction>> {
        let c = context::of(ctx)?;
        Ok(actions::of(c.db(), c.caller()?, &self.0)
            .await
            .or_gql(c)?
            .into_iter()
            .map(SemhAction)
            .collect())
    }
}

#[derive(SimpleObject)]
pub struct SemhItemChange {
    pub from_item_id: ID,
    pub to_item_id: ID,
    /// The item's wording in the later round.
    pub text: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub change: SemhChange,
}

/// Two rounds of one template lineage, item by item (carried-over items only).
pub struct SemhComparison(pub results::Comparison);

#[Object]
impl SemhComparison {
    async fn from(&self) -> SemhRound {
        SemhRound(self.0.from.clone())
    }
    async fn to(&self) -> SemhRound {
        SemhRound(self.0.to.clone())
    }
    async fn items(&self) -> Vec<SemhItemChange> {
        self.0
            .items
            .iter()
            .map(|i| SemhItemChange {
                from_item_id: ids::encode("SemhItem", i.from_item.id),
                to_item_id: ids::encode("SemhItem", i.to_item.id),
                text: i.to_item.text.clone(),
                from: i.from.clone(),
                to: i.to.clone(),
                change: i.change.into(),
            })
            .collect()
    }
    /// Items of the earlier version not carried into the later one.
    async fn dropped(&self) -> i64 {
        self.0.dropped
    }
    /// Items new in the later version.
    async fn added(&self) -> i64 {
        self.0.added
    }
}

/// How many ratings fell in each band.
#[derive(SimpleObject)]
pub struct SemhBands {
    pub red: i64,
    pub amber: i64,
    pub green: i64,
    pub unknown: i64,
}

impl From<Bands> for SemhBands {
    fn from(b: Bands) -> Self {
        Self {
            red: b.red,
            amber: b.amber,
            green: b.green,
            unknown: b.unknown,
        }
    }
}

#[derive(SimpleObject)]
pub struct SemhSectionBands {
    pub title: String,
    pub bands: SemhBands,
}

/// One submitted round of a school's trend.
pub struct SemhTrendPoint(pub results::TrendPoint);

#[Object]
impl SemhTrendPoint {
    async fn round(&self) -> SemhRound {
        SemhRound(self.0.round.clone())
    }
    async fn overall(&self) -> SemhBands {
        self.0.overall.into()
    }
    async fn sections(&self) -> Vec<SemhSectionBands> {
        self.0
            .sections
            .iter()
            .map(|(title, b)| SemhSectionBands {
                title: title.clone(),
                bands: (*b).into(),
            })
            .collect()
    }
}

#[derive(SimpleObject)]
pub struct SemhItemBands {
    pub item_id: ID,
    /// How many schools' consensus fell in each band.
    pub bands: SemhBands,
}

/// Schools of one phase, or all of them. A group of fewer than five schools, or resting on
/// fewer than five respondents, is not shown: only `shown: false` and the phase.
#[derive(SimpleObject)]
pub struct SemhPictureGroup {
    /// Null for every school in the picture.
    pub phase: Option<Phase>,
    pub shown: bool,
    pub schools: Option<i32>,
    pub respondents: Option<i32>,
    pub items: Vec<SemhItemBands>,
    /// Only where the service's setting names schools (never to partner clients).
    pub school_names: Vec<String>,
}

/// A template version across the service's schools: each school's latest submitted round.
pub struct SemhServicePicture(pub picture::Picture);

#[Object]
impl SemhServicePicture {
    async fn template(&self) -> SemhTemplate {
        SemhTemplate(self.0.template.clone())
    }
    async fn names_schools(&self) -> bool {
        self.0.names_schools
    }
    async fn groups(&self) -> Vec<SemhPictureGroup> {
        self.0
            .groups
            .iter()
            .map(|g| SemhPictureGroup {
                phase: g.phase.map(Into::into),
                shown: g.shown,
                schools: g.schools.map(|n| n as i32),
                respondents: g.respondents.map(|n| n as i32),
                items: g
                    .items
                    .iter()
                    .map(|(id, b)| SemhItemBands {
                        item_id: ids::encode("SemhItem", *id),
                        bands: (*b).into(),
                    })
                    .collect(),
                school_names: g.school_names.clone(),
            })
            .collect()
    }
}

/// What a table's facilitator sees through the table's link.
pub struct SemhTable(pub tables::Opened);

#[Object]
impl SemhTable {
    async fn table_name(&self) -> Option<&str> {
        self.0.table.label.as_deref()
    }
    async fn round_title(&self) -> &str {
        &self.0.round.title
    }
    async fn school_name(&self) -> &str {
        &self.0.school_name
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.table.link_expires_at
    }
    async fn template(&self) -> SemhTemplate {
        SemhTemplate(self.0.template.clone())
    }
    /// The table's answers so far.
    async fn responses(&self) -> Vec<SemhResponse> {
        self.0.responses.iter().cloned().map(SemhResponse).collect()
    }
}
