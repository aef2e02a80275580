//! The service's picture of one template version across its schools: for each item, how many
//! schools' latest submitted round rates it red, amber or green (by the consensus), for all the
//! schools in reach and for each phase. A group of fewer than [`SMALLEST_GROUP`] schools, or
//! resting on fewer than that many respondents, is not shown; schools are named only where the
//! service's setting allows, and never to partner clients. A constant number of statements,
//! whatever the number of schools.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect};

use super::SMALLEST_GROUP;
use super::results::{Bands, latest_per_school};
use super::templates::{self, TemplateView};
use crate::access::{Action, Caller};
use crate::door::Door;
use crate::entities::{school, semh_consensus as consensus, semh_respondent as respondent};
use crate::error::{DomainError, DomainResult};
use crate::ids::{SemhItemId, SemhRoundId, SemhTemplateId};
use crate::model::Phase;

#[derive(Clone, Debug)]
pub struct Group {
    /// `None`: every school in the picture.
    pub phase: Option<Phase>,
    /// How many schools; `None` when the group is not shown.
    pub schools: Option<usize>,
    /// `false`: too few schools or respondents to show anything but that.
    pub shown: bool,
    pub respondents: Option<usize>,
    /// Per item of the version, in order (empty when not shown).
    pub items: Vec<(SemhItemId, Bands)>,
    /// The schools' names, where the service allows it and the group is shown.
    pub school_names: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Picture {
    pub template: Arc<TemplateView>,
    pub names_schools: bool,
    pub groups: Vec<Group>,
}

/// The picture of a version across the schools the caller may see it for.
pub async fn of(conn: &impl ConnectionTrait, caller: &Caller, template_id: SemhTemplateId) -> DomainResult<Picture> {
    let door = Door::open(conn, caller, Action::ViewSemhServicePicture).await?;
    door.require_any()?;
    let version = Arc::new(templates::view(&door, template_id).await?);
    let service = version.row.service_id;
    if !door.access().touches_service(service) {
        return Err(DomainError::NotFound);
    }
    let latest = latest_per_school(&door, template_id).await?;
    let ids: Vec<SemhRoundId> = latest.iter().map(|r| r.id).collect();
    // Only what is counted: a round's consensus on an item (hundreds of schools' rounds, read
    // by requests that may run side by side).
    let agreed: Vec<(SemhRoundId, SemhItemId, String)> = door
        .find::<consensus::Entity>()
        .select_only()
        .column(consensus::Column::RoundId)
        .column(consensus::Column::ItemId)
        .column(consensus::Column::Rating)
        .filter(consensus::Column::RoundId.is_in(ids.clone()))
        .into_tuple()
        .all(conn)
        .await?;
    let counted: Vec<(SemhRoundId, i64)> = door
        .find::<respondent::Entity>()
        .select_only()
        .column(respondent::Column::RoundId)
        .column_as(respondent::Column::Id.count(), "n")
        .filter(respondent::Column::RoundId.is_in(ids))
        .group_by(respondent::Column::RoundId)
        .into_tuple()
        .all(conn)
        .await?;
    let respondents: HashMap<SemhRoundId, usize> = counted.into_iter().map(|(r, n)| (r, n as usize)).collect();
    // Weighed, not shown: names leave only where the setting allows.
    let schools: HashMap<_, school::Model> = Door::service(conn, service)
        .get_many::<school::Entity, _>(latest.iter().map(|r| r.school_id))
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let names_schools =
        caller.principal.partner_client_id().is_none() && templates::names_schools(conn, service).await?;
    let mut by_round: HashMap<SemhRoundId, Vec<(SemhItemId, &str)>> = HashMap::new();
    for (round, item, rating) in &agreed {
        by_round.entry(*round).or_default().push((*item, rating));
    }
    let mut phases: BTreeMap<Phase, Vec<SemhRoundId>> = BTreeMap::new();
    for r in &latest {
        if let Some(s) = schools.get(&r.school_id) {
            phases.entry(s.phase).or_default().push(r.id);
        }
    }
    let group = |phase: Option<Phase>, rounds: Vec<SemhRoundId>| {
        let people: usize = rounds.iter().map(|r| respondents.get(r).copied().unwrap_or(0)).sum();
        let shown = rounds.len() >= SMALLEST_GROUP && people >= SMALLEST_GROUP;
        let mut items: Vec<(SemhItemId, Bands)> = version.items.iter().map(|i| (i.id, Bands::default())).collect();
        let mut names = Vec::new();
        if shown {
            for r in &rounds {
                for (item, rating) in by_round.get(r).into_iter().flatten() {
                    if let Some(slot) = items.iter_mut().find(|(id, _)| id == item) {
                        slot.1.add(version.band_of(rating));
                    }
                }
            }
            if names_schools {
                names = latest
                    .iter()
                    .filter(|l| rounds.contains(&l.id))
                    .filter_map(|l| schools.get(&l.school_id).map(|s| s.name.clone()))
                    .collect();
                names.sort();
            }
        } else {
            items.clear();
        }
        Group {
            phase,
            schools: shown.then_some(rounds.len()),
            shown,
            respondents: shown.then_some(people),
            items,
            school_names: names,
        }
    };
    let mut groups = vec![group(None, latest.iter().map(|r| r.id).collect())];
    for (phase, rounds) in phases {
        groups.push(group(Some(phase), rounds));
    }
    Ok(Picture {
        template: version,
        names_schools,
        groups,
    })
}
