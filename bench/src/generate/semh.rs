//! SEMH audits for the generated history, as `semh::starters`, `rounds` and `actions` would have
//! written them: the three starter templates, published when the service was made; for every
//! school two submitted rounds on the eight-principles template a term or so apart, each answered
//! by the SENCO and the school's staff for themselves and by two groups, with the consensus on
//! every item; an action plan on the first round whose unfinished priorities were carried into
//! the second; and, for every tenth school, a round on the five steps still open.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use domain::entities::*;
use domain::ids::*;
use domain::model::*;
use domain::semh::ScalePoint;
use domain::semh::starters::{self, EIGHT_PRINCIPLES, FIVE_STEPS};
use domain::semh::templates::scale_json;

use super::Gen;

/// A generated version: its id and its items in order.
struct Version {
    id: SemhTemplateId,
    items: Vec<(SemhItemId, SemhItemId)>,
}

const RAG: [&str; 3] = ["RED", "AMBER", "GREEN"];

/// A rating leaning to `lean` (0 red .. 2 green), varied by `k`.
fn rating(lean: usize, k: usize) -> &'static str {
    match k % 5 {
        0 => RAG[lean.saturating_sub(1)],
        4 => RAG[(lean + 1).min(2)],
        _ => RAG[lean],
    }
}

impl Gen<'_> {
    /// The starters, published at `at`; the versions by starter key.
    fn semh_templates(&mut self, at: DateTime<Utc>) -> HashMap<&'static str, Version> {
        let mut out = HashMap::new();
        for (n, (key, content)) in starters::starters().into_iter().enumerate() {
            let made = at + Duration::milliseconds(n as i64);
            let id = SemhTemplateId(self.ids.at(made));
            let scale: Vec<ScalePoint> = content
                .scale
                .iter()
                .map(|p| ScalePoint {
                    key: p.key.clone(),
                    label: p.label.clone(),
                    colour: p.colour.clone(),
                    band: p.band,
                })
                .collect();
            self.rows.semh_templates.push(semh_template::Model {
                id,
                service_id: self.service,
                lineage_id: id,
                version: 1,
                revises_id: None,
                starter: Some(key.to_owned()),
                name: content.name.clone(),
                description: content.description.clone(),
                scale: scale_json(&scale),
                asks_ideas: content.asks_ideas,
                status: SemhTemplateStatus::Published,
                created_by: Some(self.admin),
                created_at: made,
                published_at: Some(made),
                updated_at: made,
            });
            let mut items = Vec::new();
            for (i, section) in content.sections.iter().enumerate() {
                let section_id = SemhSectionId(self.ids.at(made));
                self.rows.semh_sections.push(semh_section::Model {
                    id: section_id,
                    service_id: self.service,
                    template_id: id,
                    position: i as i32,
                    title: section.title.clone(),
                });
                for (j, item) in section.items.iter().enumerate() {
                    let item_id = SemhItemId(self.ids.at(made));
                    self.rows.semh_items.push(semh_item::Model {
                        id: item_id,
                        service_id: self.service,
                        template_id: id,
                        section_id,
                        position: j as i32,
                        text: item.text.clone(),
                        lineage_item_id: item_id,
                        carried_from_id: None,
                    });
                    items.push((item_id, item_id));
                }
            }
            out.insert(key, Version { id, items });
        }
        out
    }

    /// One round of a school: opened at `opened`, answered by `people` and two groups, and (when
    /// `submitted`) agreed and submitted a fortnight later.
    #[allow(clippy::too_many_arguments, reason = "the round's school, version, people and dates")]
    fn semh_round(
        &mut self,
        school: SchoolId,
        lead: PersonId,
        v: &Version,
        title: &str,
        people: &[PersonId],
        opened: DateTime<Utc>,
        submitted: bool,
        lean: usize,
    ) -> SemhRoundId {
        let id = SemhRoundId(self.ids.at(opened));
        let done = opened + Duration::days(14);
        self.rows.semh_rounds.push(semh_round::Model {
            id,
            service_id: self.service,
            school_id: school,
            template_id: v.id,
            lineage_id: v.id,
            title: title.to_owned(),
            status: if submitted {
                SemhRoundStatus::Submitted
            } else {
                SemhRoundStatus::Open
            },
            session_starts_at: None,
            session_ends_at: None,
            booking_id: None,
            ep_id: None,
            opened_by: Some(lead),
            opened_at: opened,
            submitted_at: submitted.then_some(done),
            submitted_by: submitted.then_some(lead),
            updated_at: if submitted { done } else { opened },
        });
        self.audit(opened, "semh_round.open", "SemhRound", id.0, Some(school), None, false);
        let mut respondents: Vec<(SemhRespondentKind, Option<PersonId>, Option<&str>)> = people
            .iter()
            .map(|p| (SemhRespondentKind::Individual, Some(*p), None))
            .collect();
        respondents.push((SemhRespondentKind::Group, None, Some("Teaching staff")));
        respondents.push((SemhRespondentKind::Group, None, Some("Support staff")));
        for (k, (kind, person, label)) in respondents.into_iter().enumerate() {
            let at = opened + Duration::days(1 + k as i64);
            let rid = SemhRespondentId(self.ids.at(at));
            self.rows.semh_respondents.push(semh_respondent::Model {
                id: rid,
                service_id: self.service,
                school_id: school,
                round_id: id,
                kind,
                person_id: person,
                label: label.map(str::to_owned),
                link_digest: None,
                link_expires_at: None,
                created_by: Some(person.unwrap_or(lead)),
                created_at: at,
            });
            for (i, (item, _)) in v.items.iter().enumerate() {
                self.rows.semh_responses.push(semh_response::Model {
                    id: SemhResponseId(self.ids.at(at)),
                    service_id: self.service,
                    school_id: school,
                    round_id: id,
                    respondent_id: rid,
                    item_id: *item,
                    rating: rating(lean, i * 3 + k).to_owned(),
                    evidence: (i % 4 == 0).then(|| "Seen on learning walks".to_owned()),
                    ideas: None,
                    updated_at: at,
                });
            }
        }
        if submitted {
            for (i, (item, _)) in v.items.iter().enumerate() {
                self.rows.semh_consensus.push(semh_consensus::Model {
                    id: SemhConsensusId(self.ids.at(done)),
                    service_id: self.service,
                    school_id: school,
                    round_id: id,
                    item_id: *item,
                    rating: rating(lean, i).to_owned(),
                    note: None,
                    set_by: Some(lead),
                    updated_at: done,
                });
            }
            self.audit(done, "semh_round.submit", "SemhRound", id.0, Some(school), None, false);
        }
        id
    }

    /// The service's audits: see the module's comment.
    pub(super) fn semh(&mut self, schools: &[SchoolId], people_of: &[Vec<PersonId>], made: DateTime<Utc>) {
        let versions = self.semh_templates(made);
        let (Some(eight), Some(five)) = (versions.get(EIGHT_PRINCIPLES), versions.get(FIVE_STEPS)) else {
            return;
        };
        let cut = self.cut;
        for (i, school) in schools.iter().enumerate() {
            let people = people_of.get(i).cloned().unwrap_or_default();
            let Some(lead) = people.last().copied() else {
                continue;
            };
            let lean = i % 3;
            let autumn = cut - Duration::days(150 + (i % 20) as i64);
            let first = self.semh_round(*school, lead, eight, "Whole-school audit", &people, autumn, true, lean);
            let planned = autumn + Duration::days(15);
            let plan: [(usize, &str, SemhActionStatus); 3] = [
                (0, "Time for the wellbeing lead", SemhActionStatus::Done),
                (
                    9,
                    "Ask pupils termly how they feel about school",
                    SemhActionStatus::InProgress,
                ),
                (18, "A parents' session on anxiety", SemhActionStatus::Open),
            ];
            let mut carried = Vec::new();
            for (k, (item, priority, status)) in plan.into_iter().enumerate() {
                let at = planned + Duration::minutes(k as i64);
                let row = semh_action::Model {
                    id: SemhActionId(self.ids.at(at)),
                    service_id: self.service,
                    school_id: *school,
                    round_id: first,
                    item_id: eight.items.get(item).map(|x| x.0),
                    lineage_item_id: eight.items.get(item).map(|x| x.1),
                    priority: priority.to_owned(),
                    owner_role: Some("SENCO".to_owned()),
                    owner_name: None,
                    due_on: Some((at + Duration::days(90)).date_naive()),
                    status: if status == SemhActionStatus::Done {
                        status
                    } else {
                        SemhActionStatus::CarriedForward
                    },
                    progress: "[]".to_owned(),
                    carried_from_id: None,
                    created_by: Some(lead),
                    created_at: at,
                    updated_at: at,
                };
                if status != SemhActionStatus::Done {
                    carried.push((row.clone(), status));
                }
                self.rows.semh_actions.push(row);
            }
            let spring = cut - Duration::days(30 + (i % 10) as i64);
            let second = self.semh_round(*school, lead, eight, "Review", &people, spring, true, (lean + 1).min(2));
            for (k, (old, status)) in carried.into_iter().enumerate() {
                let at = spring + Duration::milliseconds(k as i64);
                self.rows.semh_actions.push(semh_action::Model {
                    id: SemhActionId(self.ids.at(at)),
                    round_id: second,
                    status,
                    carried_from_id: Some(old.id),
                    created_at: at,
                    updated_at: at,
                    ..old
                });
            }
            if i % 10 == 3 {
                self.semh_round(
                    *school,
                    lead,
                    five,
                    "Five steps audit",
                    &people,
                    cut - Duration::days(3),
                    false,
                    lean,
                );
            }
        }
    }
}
