//! The demo's SEMH audits (issue 22), made through the domain as people would make them:
//! Ashgrove's leader runs a round on the eight-principles template with staff answering for
//! themselves and two teams answering as groups, agrees the consensus, submits and sets an action
//! plan; a term later a second round carries the unfinished priorities forward and shows what
//! moved. Seven more schools complete a round, so the administrator's picture across the service
//! shows every school together while each phase, with fewer than five schools, is not shown.

use domain::access::{Caller, Role};
use domain::db::Db;
use domain::ids::{SchoolId, ServiceId};
use domain::model::SemhActionStatus;
use domain::semh::rounds::{self, Agreed, Answer, NewRound};
use domain::semh::{TemplateView, actions, starters, templates};

use super::{caller_for, fail, person};

/// The schools (by index in the demo's list) and their leads, beyond Ashgrove.
const LEADS: &[(usize, &str, &str)] = &[
    (1, "Avery Cole", "avery.cole@birchfield.demo.invalid"),
    (2, "Jordan Pike", "jordan.pike@cedarlane.demo.invalid"),
    (4, "Casey Dunn", "casey.dunn@elmstead.demo.invalid"),
    (5, "Rowan Hart", "rowan.hart@foxhollow.demo.invalid"),
    (9, "Quinn Adler", "quinn.adler@juniper.demo.invalid"),
    (10, "Harper Lowe", "harper.lowe@kestrel.demo.invalid"),
    (11, "Sasha Reid", "sasha.reid@larkspur.demo.invalid"),
];

/// Ashgrove's staff who answer for themselves (made by the reflective sessions' seed).
const ASHGROVE_STAFF: &[&str] = &[
    "riley.shaw@ashgrove.demo.invalid",
    "alex.rowe@ashgrove.demo.invalid",
    "priya.shah@ashgrove.demo.invalid",
    "tom.hale@ashgrove.demo.invalid",
];

const RAG: [&str; 3] = ["RED", "AMBER", "GREEN"];

/// A rating for item `i` by respondent `who`, leaning to `lean` (0 red .. 2 green).
fn rating(i: usize, who: usize, lean: usize) -> String {
    let wobble = (i * 7 + who * 3) % 5;
    let at = match wobble {
        0 => lean.saturating_sub(1),
        4 => (lean + 1).min(2),
        _ => lean,
    };
    RAG[at].to_owned()
}

fn answers(t: &TemplateView, who: usize, lean: usize) -> Vec<Answer> {
    t.items
        .iter()
        .enumerate()
        .map(|(i, item)| Answer {
            item_id: item.id,
            rating: rating(i, who, lean),
            evidence: (i % 3 == 0).then(|| "Seen in staff meetings and on learning walks".to_owned()),
            ideas: None,
        })
        .collect()
}

fn agreed(t: &TemplateView, lean: usize, improved: bool) -> Vec<Agreed> {
    t.items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let base = rating(i, 0, lean);
            let rating = if improved && i % 2 == 0 && base != "GREEN" {
                if base == "RED" { "AMBER" } else { "GREEN" }.to_owned()
            } else {
                base
            };
            Agreed {
                item_id: item.id,
                rating,
                note: None,
            }
        })
        .collect()
}

/// A round opened, answered and agreed (not yet submitted); returns its id.
#[allow(
    clippy::too_many_arguments,
    reason = "a round's school, version, people and how it leans"
)]
async fn complete(
    db: &Db,
    lead: &Caller,
    school: SchoolId,
    t: &TemplateView,
    title: &str,
    people: &[Caller],
    lean: usize,
    improved: bool,
) -> anyhow::Result<domain::ids::SemhRoundId> {
    let round = rounds::open(
        db,
        lead,
        NewRound {
            school_id: school,
            template_id: t.row.id,
            title: title.to_owned(),
            session: None,
            support_booking_id: None,
        },
    )
    .await
    .map_err(fail)?;
    let id = round.row.id;
    rounds::respond(db, lead, id, None, answers(t, 0, lean))
        .await
        .map_err(fail)?;
    for (k, p) in people.iter().enumerate() {
        rounds::respond(db, p, id, None, answers(t, k + 1, lean))
            .await
            .map_err(fail)?;
    }
    rounds::set_consensus(db, lead, id, agreed(t, lean, improved))
        .await
        .map_err(fail)?;
    Ok(id)
}

pub(super) async fn seed(db: &Db, admin: &Caller, service: ServiceId, school_ids: &[SchoolId]) -> anyhow::Result<()> {
    if school_ids.len() < 12 {
        return Ok(());
    }
    let all = templates::list(db, admin, service).await.map_err(fail)?;
    let Some(eight) = all
        .iter()
        .find(|t| t.row.starter.as_deref() == Some(starters::EIGHT_PRINCIPLES))
    else {
        return Ok(());
    };
    let lead = caller_for(db, "morgan.ellis@ashgrove.demo.invalid").await?;
    let mut staff = Vec::new();
    for email in ASHGROVE_STAFF {
        staff.push(caller_for(db, email).await?);
    }

    // Autumn: individual and group responses, consensus, submission and an action plan.
    let autumn = complete(
        db,
        &lead,
        school_ids[0],
        eight,
        "Autumn term whole-school audit",
        &staff,
        1,
        false,
    )
    .await?;
    for (k, team) in ["Early years team", "Key stage 2 team"].into_iter().enumerate() {
        let group = rounds::add_group(db, &lead, autumn, team, false).await.map_err(fail)?;
        rounds::respond(db, &lead, autumn, Some(group.respondent.id), answers(eight, 10 + k, 1))
            .await
            .map_err(fail)?;
    }
    rounds::submit(db, &lead, autumn).await.map_err(fail)?;
    let plan = [
        (
            0,
            "Give the wellbeing lead an afternoon a fortnight",
            "Headteacher",
            None,
        ),
        (
            9,
            "Ask pupils termly how they feel about school, and report back",
            "School council lead",
            None,
        ),
        (
            18,
            "Run a parents' coffee morning on anxiety",
            "SENCO",
            Some("Sam Patel"),
        ),
    ];
    let mut first_priority = None;
    for (item, priority, role, name) in plan {
        let a = actions::add(
            db,
            &lead,
            autumn,
            eight.items.get(item).map(|i| i.id),
            actions::Plan {
                priority: Some(priority.to_owned()),
                owner_role: Some(role.to_owned()),
                owner_name: name.map(str::to_owned),
                progress_note: Some("Agreed at the governors' wellbeing meeting".to_owned()),
                ..actions::Plan::default()
            },
        )
        .await
        .map_err(fail)?;
        first_priority.get_or_insert(a.id);
    }
    if let Some(id) = first_priority {
        actions::update(
            db,
            &lead,
            id,
            actions::Plan {
                status: Some(SemhActionStatus::Done),
                progress_note: Some("Timetabled from the second half-term".to_owned()),
                ..actions::Plan::default()
            },
        )
        .await
        .map_err(fail)?;
    }

    // A term later: the two unfinished priorities are carried in, and half the items moved up.
    let spring = complete(db, &lead, school_ids[0], eight, "Spring term review", &staff, 1, true).await?;
    rounds::submit(db, &lead, spring).await.map_err(fail)?;

    // Seven more schools, for the service's picture.
    for (k, (index, name, email)) in LEADS.iter().enumerate() {
        let school = school_ids[*index];
        person(db, admin, service, name, email, Role::SchoolLeader, Some(school)).await?;
        let their_lead = caller_for(db, email).await?;
        let round = complete(db, &their_lead, school, eight, "Whole-school audit", &[], k % 3, false).await?;
        rounds::submit(db, &their_lead, round).await.map_err(fail)?;
    }
    Ok(())
}
