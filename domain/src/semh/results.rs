//! A round's results in one pass over its responses: per item, per section and overall, the
//! distribution of ratings and of the consensus, and where individual views diverge most; the
//! comparison of two rounds of one template lineage item by item; and a school's trend.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

use super::rounds::{self, RoundView};
use super::templates::TemplateView;
use crate::access::{Action, Caller};
use crate::door::Door;
use crate::entities::{
    school, semh_consensus as consensus, semh_item as item, semh_response as response, semh_round as round,
};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{SchoolId, SemhItemId, SemhRespondentId, SemhSectionId, SemhTemplateId};
use crate::model::{SemhBand, SemhRoundStatus};

/// How many of something gave each rating of the scale, in the scale's order.
pub type Counts = Vec<(String, i64)>;

fn empty_counts(t: &TemplateView) -> Counts {
    t.scale.iter().map(|p| (p.key.clone(), 0)).collect()
}

fn bump(counts: &mut Counts, key: &str) {
    if let Some(c) = counts.iter_mut().find(|(k, _)| k == key) {
        c.1 += 1;
    }
}

/// A band's place for comparison: red below amber below green; don't know has none.
pub fn rank(band: SemhBand) -> Option<i32> {
    match band {
        SemhBand::Red => Some(0),
        SemhBand::Amber => Some(1),
        SemhBand::Green => Some(2),
        SemhBand::Unknown => None,
    }
}

#[derive(Clone, Debug)]
pub struct ItemResult {
    pub item_id: SemhItemId,
    pub section_id: SemhSectionId,
    pub counts: Counts,
    pub responses: i64,
    pub consensus: Option<String>,
    /// How far individual views differ: the standard deviation of their bands (red 0, amber 1,
    /// green 2), "don't know" left out; 0 when they agree.
    pub spread: f64,
}

#[derive(Clone, Debug)]
pub struct SectionResult {
    pub section_id: SemhSectionId,
    pub title: String,
    pub counts: Counts,
    pub consensus: Counts,
}

#[derive(Clone, Debug)]
pub struct Results {
    pub respondents: i64,
    pub items: Vec<ItemResult>,
    pub sections: Vec<SectionResult>,
    pub overall: Counts,
    pub overall_consensus: Counts,
    /// The items whose views diverge most, most first (at most five, only where views differ).
    pub most_divergent: Vec<SemhItemId>,
}

/// The results of responses and consensus on one version, in one pass.
pub fn compute(t: &TemplateView, responses: &[response::Model], agreed: &[consensus::Model]) -> Results {
    let mut per_item: HashMap<SemhItemId, (Counts, Vec<i32>, i64)> = HashMap::new();
    let mut respondents: Vec<SemhRespondentId> = Vec::new();
    for r in responses {
        let Some(it) = t.item(r.item_id) else { continue };
        let entry = per_item
            .entry(it.id)
            .or_insert_with(|| (empty_counts(t), Vec::new(), 0));
        bump(&mut entry.0, &r.rating);
        entry.2 += 1;
        if let Some(score) = rank(t.band_of(&r.rating)) {
            entry.1.push(score);
        }
        respondents.push(r.respondent_id);
    }
    respondents.sort();
    respondents.dedup();
    let agreed: HashMap<SemhItemId, &str> = agreed.iter().map(|c| (c.item_id, c.rating.as_str())).collect();
    let mut overall = empty_counts(t);
    let mut overall_consensus = empty_counts(t);
    let mut sections: Vec<SectionResult> = t
        .sections
        .iter()
        .map(|s| SectionResult {
            section_id: s.id,
            title: s.title.clone(),
            counts: empty_counts(t),
            consensus: empty_counts(t),
        })
        .collect();
    let mut items = Vec::new();
    for it in &t.items {
        let (counts, scores, n) = per_item
            .remove(&it.id)
            .unwrap_or_else(|| (empty_counts(t), Vec::new(), 0));
        let spread = if scores.len() < 2 {
            0.0
        } else {
            let mean = scores.iter().sum::<i32>() as f64 / scores.len() as f64;
            (scores.iter().map(|s| (*s as f64 - mean).powi(2)).sum::<f64>() / scores.len() as f64).sqrt()
        };
        let consensus = agreed.get(&it.id).map(|k| (*k).to_owned());
        if let Some(sec) = sections.iter_mut().find(|s| s.section_id == it.section_id) {
            for ((_, total), (_, c)) in sec.counts.iter_mut().zip(&counts) {
                *total += c;
            }
            if let Some(k) = &consensus {
                bump(&mut sec.consensus, k);
            }
        }
        for ((_, total), (_, c)) in overall.iter_mut().zip(&counts) {
            *total += c;
        }
        if let Some(k) = &consensus {
            bump(&mut overall_consensus, k);
        }
        items.push(ItemResult {
            item_id: it.id,
            section_id: it.section_id,
            counts,
            responses: n,
            consensus,
            spread,
        });
    }
    let mut divergent: Vec<&ItemResult> = items.iter().filter(|i| i.spread > 0.0).collect();
    divergent.sort_by(|a, b| b.spread.total_cmp(&a.spread));
    let most_divergent = divergent.iter().take(5).map(|i| i.item_id).collect();
    Results {
        respondents: respondents.len() as i64,
        items,
        sections,
        overall,
        overall_consensus,
        most_divergent,
    }
}

/// A round's results (a limited reader sees none).
pub async fn of(conn: &impl ConnectionTrait, caller: &Caller, view: &RoundView) -> DomainResult<Option<Results>> {
    if view.limited {
        return Ok(None);
    }
    let responses = rounds::responses(conn, caller, view).await?;
    let agreed = rounds::consensus(conn, caller, view).await?;
    Ok(Some(compute(&view.template, &responses, &agreed)))
}

/// How an item's consensus moved between two rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Improved,
    Declined,
    Same,
    /// One side has no rating, or "don't know".
    NotComparable,
}

#[derive(Clone, Debug)]
pub struct ItemChange {
    pub from_item: item::Model,
    pub to_item: item::Model,
    pub from: Option<String>,
    pub to: Option<String>,
    pub change: Change,
}

#[derive(Clone, Debug)]
pub struct Comparison {
    pub from: RoundView,
    pub to: RoundView,
    /// The items carried over between the two versions, in the later round's order.
    pub items: Vec<ItemChange>,
    /// Items of the earlier version not carried into the later one, and items new in it.
    pub dropped: i64,
    pub added: i64,
}

/// Compares two rounds of the same template lineage, item by item (carried-over items only).
pub async fn compare(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    from: crate::ids::SemhRoundId,
    to: crate::ids::SemhRoundId,
) -> DomainResult<Comparison> {
    let from = rounds::get(conn, caller, from).await?;
    let to = rounds::get(conn, caller, to).await?;
    if from.limited || to.limited {
        return Err(caller
            .principal
            .refusal(Action::ViewSemhRounds, to.row.service_id, Some(to.row.school_id)));
    }
    if from.row.lineage_id != to.row.lineage_id {
        return Err(DomainError::invalid(
            "toRoundId",
            FieldErrorCode::Invalid,
            "the rounds are on different templates: rounds compare only within one template and its revisions",
        ));
    }
    let door = Door::open(conn, caller, Action::ViewSemhRounds).await?;
    let agreed = door
        .find::<consensus::Entity>()
        .filter(consensus::Column::RoundId.is_in([from.row.id, to.row.id]))
        .all(conn)
        .await?;
    let rating = |round: &RoundView, item: SemhItemId| {
        agreed
            .iter()
            .find(|c| c.round_id == round.row.id && c.item_id == item)
            .map(|c| c.rating.clone())
    };
    let mut items = Vec::new();
    for to_item in &to.template.items {
        let Some(from_item) = from
            .template
            .items
            .iter()
            .find(|i| i.lineage_item_id == to_item.lineage_item_id)
        else {
            continue;
        };
        let a = rating(&from, from_item.id);
        let b = rating(&to, to_item.id);
        let ra = a.as_deref().and_then(|k| rank(from.template.band_of(k)));
        let rb = b.as_deref().and_then(|k| rank(to.template.band_of(k)));
        let change = match (ra, rb) {
            (Some(x), Some(y)) if y > x => Change::Improved,
            (Some(x), Some(y)) if y < x => Change::Declined,
            (Some(_), Some(_)) => Change::Same,
            _ => Change::NotComparable,
        };
        items.push(ItemChange {
            from_item: from_item.clone(),
            to_item: to_item.clone(),
            from: a,
            to: b,
            change,
        });
    }
    let dropped = (from.template.items.len() - items.len()) as i64;
    let added = (to.template.items.len() - items.len()) as i64;
    Ok(Comparison {
        from,
        to,
        items,
        dropped,
        added,
    })
}

/// How many consensus ratings fell in each band.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bands {
    pub red: i64,
    pub amber: i64,
    pub green: i64,
    pub unknown: i64,
}

impl Bands {
    pub fn add(&mut self, band: SemhBand) {
        match band {
            SemhBand::Red => self.red += 1,
            SemhBand::Amber => self.amber += 1,
            SemhBand::Green => self.green += 1,
            SemhBand::Unknown => self.unknown += 1,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TrendPoint {
    pub round: RoundView,
    pub overall: Bands,
    /// Per section of the round's version, in order.
    pub sections: Vec<(String, Bands)>,
}

/// A school's submitted rounds of one template lineage (named by any of its versions), oldest
/// first, each with its consensus by band overall and per section.
pub async fn trend(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school_id: SchoolId,
    template_id: SemhTemplateId,
) -> DomainResult<Vec<TrendPoint>> {
    let s = Door::seen(conn, caller).get::<school::Entity>(school_id).await?;
    let door = Door::open(conn, caller, Action::ViewSemhRounds).await?;
    if !door.access().permits_school(s.service_id, s.id) {
        return Err(caller
            .principal
            .refusal(Action::ViewSemhRounds, s.service_id, Some(s.id)));
    }
    let version = super::templates::get(conn, caller, template_id)
        .await
        .map_err(|_| DomainError::invalid("templateId", FieldErrorCode::NotFound, "no such template version"))?;
    let mut all = rounds::of_school(conn, caller, s.id).await?;
    all.retain(|r| r.row.lineage_id == version.row.lineage_id && r.row.status == SemhRoundStatus::Submitted);
    all.sort_by_key(|r| (r.row.submitted_at, r.row.id));
    let ids: Vec<_> = all.iter().map(|r| r.row.id).collect();
    let agreed = door
        .find::<consensus::Entity>()
        .filter(consensus::Column::RoundId.is_in(ids))
        .order_by_asc(consensus::Column::Id)
        .all(conn)
        .await?;
    let mut by_round: BTreeMap<_, Vec<&consensus::Model>> = BTreeMap::new();
    for c in &agreed {
        by_round.entry(c.round_id).or_default().push(c);
    }
    Ok(all
        .into_iter()
        .map(|r| {
            let mut overall = Bands::default();
            let mut sections: Vec<(String, Bands)> = r
                .template
                .sections
                .iter()
                .map(|s| (s.title.clone(), Bands::default()))
                .collect();
            for c in by_round.get(&r.row.id).into_iter().flatten() {
                let band = r.template.band_of(&c.rating);
                overall.add(band);
                if let Some(it) = r.template.item(c.item_id)
                    && let Some(pos) = r.template.sections.iter().position(|s| s.id == it.section_id)
                {
                    sections[pos].1.add(band);
                }
            }
            TrendPoint {
                round: r,
                overall,
                sections,
            }
        })
        .collect())
}

/// The rounds of a version submitted by schools in reach of `door`, latest per school.
pub(crate) async fn latest_per_school<C: ConnectionTrait>(
    door: &Door<'_, C>,
    template_id: SemhTemplateId,
) -> DomainResult<Vec<round::Model>> {
    let rows = door
        .find::<round::Entity>()
        .filter(round::Column::TemplateId.eq(template_id))
        .filter(round::Column::Status.eq(SemhRoundStatus::Submitted))
        .order_by_desc(round::Column::SubmittedAt)
        .order_by_desc(round::Column::Id)
        .all(door.conn())
        .await?;
    let mut seen = std::collections::BTreeSet::new();
    Ok(rows.into_iter().filter(|r| seen.insert(r.school_id)).collect())
}
