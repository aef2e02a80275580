//! The three templates a service starts with, written in our own words and published: the eight
//! principles of a whole-school approach to emotional health and wellbeing, the five steps, both
//! rated red / amber / green / don't know; and a whole-school resilience audit on the five areas
//! of the Resilience Framework, rated the way a whole-staff session does (already doing well /
//! could be improved / needs improving) with ideas noted per item. A service revises them or
//! writes its own.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::ConnectionTrait;

use super::templates::{Content, ItemInput, PointInput, SectionInput, make};
use crate::door::Door;
use crate::entities::semh_template as template;
use crate::error::DomainResult;
use crate::ids::{PersonId, ServiceId};
use crate::model::{SemhBand, SemhTemplateStatus};

pub const EIGHT_PRINCIPLES: &str = "EIGHT_PRINCIPLES";
pub const FIVE_STEPS: &str = "FIVE_STEPS";
pub const RESILIENCE: &str = "RESILIENCE";

type Sections = &'static [(&'static str, &'static [&'static str])];

const RAG: &[(&str, &str, &str, SemhBand)] = &[
    ("RED", "Not in place yet", "#b3261e", SemhBand::Red),
    ("AMBER", "Partly in place", "#8a5300", SemhBand::Amber),
    ("GREEN", "Well established", "#1e6b34", SemhBand::Green),
    ("DONT_KNOW", "Don't know", "#55595f", SemhBand::Unknown),
];

const THREE_WAY: &[(&str, &str, &str, SemhBand)] = &[
    ("DOING_WELL", "We already do this well", "#1e6b34", SemhBand::Green),
    ("COULD_IMPROVE", "This could be improved", "#8a5300", SemhBand::Amber),
    ("NEEDS_IMPROVING", "This needs improving", "#b3261e", SemhBand::Red),
];

const EIGHT: Sections = &[
    (
        "Leadership and management",
        &[
            "A senior leader leads our work on emotional health and wellbeing, with time to do it.",
            "Governors know what we do for wellbeing and ask how well it works.",
            "Our plans for wellbeing are part of the school's improvement plan, with a budget.",
        ],
    ),
    (
        "Ethos and environment",
        &[
            "Relationships between adults and pupils are warm, respectful and consistent.",
            "Our behaviour policy helps pupils understand and manage their feelings.",
            "There are calm places pupils can go when they need them.",
        ],
    ),
    (
        "Curriculum, teaching and learning",
        &[
            "Pupils are taught about feelings, relationships and looking after their mental health.",
            "Teaching about wellbeing is planned, sequenced and fits pupils' ages.",
            "Staff feel confident to teach it, and talk about mental health without stigma.",
        ],
    ),
    (
        "Pupil voice",
        &[
            "Pupils have a say in decisions about their wellbeing at school.",
            "We ask pupils how they feel about school, and act on what they tell us.",
            "Pupils know who to talk to when they are worried.",
        ],
    ),
    (
        "Staff development, health and wellbeing",
        &[
            "Staff are trained to notice early signs that a pupil is struggling.",
            "Staff wellbeing is taken seriously: workload, supervision and support.",
            "Staff know how to get help for their own mental health.",
        ],
    ),
    (
        "Identifying need and monitoring impact",
        &[
            "We have a clear way to spot pupils whose wellbeing needs attention.",
            "We use simple measures to see whether what we do makes a difference.",
            "Information about need is shared with the right people, safely.",
        ],
    ),
    (
        "Working with parents and carers",
        &[
            "Parents and carers are welcomed as partners in their child's wellbeing.",
            "We offer parents information and support about emotional health.",
            "Parents know how to raise a worry about their child's wellbeing.",
        ],
    ),
    (
        "Targeted support and appropriate referral",
        &[
            "Pupils who need more get timely support in school.",
            "Staff know when and how to refer to outside services.",
            "We work closely with the EP service, health and other partners.",
        ],
    ),
];

const FIVE: Sections = &[
    (
        "Leading change",
        &[
            "There is a shared, written vision for wellbeing across the school.",
            "A named lead has the authority and time to drive the work.",
            "Wellbeing is reviewed at senior leadership meetings.",
        ],
    ),
    (
        "Working together",
        &[
            "Pupils, staff and families help shape our approach.",
            "We work with local services and know who does what.",
            "Partners are clear about how to work with us.",
        ],
    ),
    (
        "Understanding need",
        &[
            "We gather information about our pupils' wellbeing regularly.",
            "We know which groups of pupils are more at risk.",
            "What we learn shapes what we offer.",
        ],
    ),
    (
        "Promoting wellbeing",
        &[
            "The whole school day supports good mental health, not only lessons.",
            "Pupils learn skills for coping, friendship and asking for help.",
            "We celebrate and model wellbeing as adults.",
        ],
    ),
    (
        "Supporting staff",
        &[
            "Staff have regular chances to reflect on difficult situations.",
            "Training in wellbeing is part of every member of staff's development.",
            "Leaders look after staff wellbeing and workload.",
        ],
    ),
];

const RESILIENCE_AREAS: Sections = &[
    (
        "Basics",
        &[
            "Pupils arrive to a safe, warm, fed start to the day.",
            "We help families with the basics when they struggle (uniform, food, transport).",
            "Pupils have enough exercise, fresh air and rest during the day.",
        ],
    ),
    (
        "Belonging",
        &[
            "Every pupil has at least one trusted adult in school.",
            "Pupils feel part of the school, and take part in clubs and activities.",
            "We help pupils make and keep friendships.",
        ],
    ),
    (
        "Learning",
        &[
            "Pupils experience success and know their progress is noticed.",
            "We help pupils organise themselves and plan their work.",
            "Pupils are helped to develop interests and talents.",
        ],
    ),
    (
        "Coping",
        &[
            "Pupils learn ways to calm down and manage strong feelings.",
            "Adults help pupils solve problems rather than solving them for them.",
            "Pupils can have fun and laugh at school.",
        ],
    ),
    (
        "Core self",
        &[
            "Pupils are helped to understand themselves and what they are good at.",
            "Pupils are given responsibility and trusted with it.",
            "We help pupils feel hopeful about the future.",
        ],
    ),
];

fn content(
    name: &str,
    description: &str,
    scale: &[(&str, &str, &str, SemhBand)],
    asks_ideas: bool,
    sections: Sections,
) -> Content {
    Content {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        scale: scale
            .iter()
            .map(|(key, label, colour, band)| PointInput {
                key: (*key).to_owned(),
                label: (*label).to_owned(),
                colour: (*colour).to_owned(),
                band: *band,
            })
            .collect(),
        asks_ideas,
        sections: sections
            .iter()
            .map(|(title, items)| SectionInput {
                title: (*title).to_owned(),
                items: items
                    .iter()
                    .map(|t| ItemInput {
                        text: (*t).to_owned(),
                        carries_over: None,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The starters, by key.
pub fn starters() -> Vec<(&'static str, Content)> {
    vec![
        (
            EIGHT_PRINCIPLES,
            content(
                "Whole-school approach: the eight principles",
                "How well the school's leadership, ethos, teaching, pupil voice, staff support, \
                 monitoring, work with parents and targeted support promote emotional health and \
                 wellbeing.",
                RAG,
                false,
                EIGHT,
            ),
        ),
        (
            FIVE_STEPS,
            content(
                "Five steps to mental health and wellbeing",
                "Leading change, working together, understanding need, promoting wellbeing and \
                 supporting staff.",
                RAG,
                false,
                FIVE,
            ),
        ),
        (
            RESILIENCE,
            content(
                "Whole-school resilience audit",
                "The five areas of the Resilience Framework, for a whole-staff session: what we \
                 already do well, what could be improved, what needs improving, and ideas.",
                THREE_WAY,
                true,
                RESILIENCE_AREAS,
            ),
        ),
    ]
}

/// Makes and publishes the starters for a service (in the caller's transaction).
pub(crate) async fn install(conn: &impl ConnectionTrait, by: Option<PersonId>, service: ServiceId) -> DomainResult<()> {
    let door = Door::service(conn, service);
    let now = Utc::now();
    for (key, content) in starters() {
        let row = make(&door, service, by, content, Some(key)).await?;
        let mut active: template::ActiveModel = row.into();
        active.status = Set(SemhTemplateStatus::Published);
        active.published_at = Set(Some(now));
        door.update(active).await?;
    }
    Ok(())
}
