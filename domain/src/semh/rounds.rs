//! Audit rounds: opening one on a published version (optionally supported by the link EP through
//! a booking of EP time), the groups and tables that respond, responses, the lead's consensus per
//! item, and submission, which locks the round.
//!
//! Who sees what: the lead, school leaders and SENCOs their school's rounds with every response;
//! the link EP the rounds of the schools they work with; administrators their service's; a member
//! of staff their school's rounds with their own responses only ([`RoundView::limited`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

use super::states::{self, RoundStep, TemplateStep};
use super::templates::{self, TemplateView};
use super::{actions, tables};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{
    booking, school, semh_consensus as consensus, semh_respondent as respondent, semh_response as response,
    semh_round as round, semh_template as template,
};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{
    BookingId, SchoolId, SemhConsensusId, SemhItemId, SemhRespondentId, SemhResponseId, SemhRoundId, SemhTemplateId,
};
use crate::model::{BookingStatus, SemhRespondentKind, SemhRoundStatus};
use crate::secrets;
use crate::values;

/// The longest evidence or ideas note.
pub const MAX_NOTE: usize = 500;
/// The longest whole-staff session.
pub const MAX_SESSION_HOURS: i64 = 8;

/// A round as its reader may see it.
#[derive(Clone, Debug)]
pub struct RoundView {
    pub row: round::Model,
    pub template: Arc<TemplateView>,
    /// The reader may respond but not see the round's other responses, results or plan.
    pub limited: bool,
}

impl RoundView {
    fn action(&self) -> Action {
        if self.limited {
            Action::RespondToSemhAudits
        } else {
            Action::ViewSemhRounds
        }
    }
}

/// Views of round rows, their versions read in three statements.
async fn views(conn: &impl ConnectionTrait, rows: Vec<round::Model>, limited: bool) -> DomainResult<Vec<RoundView>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let ids: BTreeSet<SemhTemplateId> = rows.iter().map(|r| r.template_id).collect();
    let found = Door::service(conn, first.service_id)
        .get_many::<template::Entity, _>(ids)
        .await?;
    let versions: Vec<Arc<TemplateView>> = templates::views_of(conn, found)
        .await?
        .into_iter()
        .map(Arc::new)
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let template = versions.iter().find(|t| t.row.id == row.template_id)?.clone();
            Some(RoundView { row, template, limited })
        })
        .collect())
}

/// Who can see a round: in full, or in part as one of its school's respondents (as [`get`]).
const ROUND_SIGHT: door::Sight = door::Sight::AnyOf(&[Action::ViewSemhRounds, Action::RespondToSemhAudits]);

/// A round the caller can see.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: SemhRoundId) -> DomainResult<RoundView> {
    let full = Door::open(conn, caller, Action::ViewSemhRounds).await?;
    let (row, limited) = match full
        .find::<round::Entity>()
        .filter(round::Column::Id.eq(id))
        .one(conn)
        .await?
    {
        Some(row) => (row, false),
        None => (
            Door::open(conn, caller, Action::RespondToSemhAudits)
                .await?
                .get::<round::Entity>(id)
                .await?,
            true,
        ),
    };
    views(conn, vec![row], limited)
        .await?
        .pop()
        .ok_or(DomainError::NotFound)
}

/// A school's rounds, newest first.
pub async fn of_school(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school_id: SchoolId,
) -> DomainResult<Vec<RoundView>> {
    let s = Door::seen(conn, caller).get::<school::Entity>(school_id).await?;
    let full = Door::open(conn, caller, Action::ViewSemhRounds).await?;
    let (door, limited) = if full.access().permits_school(s.service_id, s.id) {
        (full, false)
    } else {
        let own = Door::open(conn, caller, Action::RespondToSemhAudits).await?;
        if !own.access().permits_school(s.service_id, s.id) {
            return Err(caller
                .principal
                .refusal(Action::ViewSemhRounds, s.service_id, Some(s.id)));
        }
        (own, true)
    };
    let rows = door
        .find::<round::Entity>()
        .filter(round::Column::SchoolId.eq(s.id))
        .order_by_desc(round::Column::OpenedAt)
        .order_by_desc(round::Column::Id)
        .all(conn)
        .await?;
    views(conn, rows, limited).await
}

/// Who responded to a round: everyone for a full reader, only the caller for a limited one.
pub async fn respondents(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    view: &RoundView,
) -> DomainResult<Vec<respondent::Model>> {
    let door = Door::open(conn, caller, view.action()).await?;
    let mut q = door
        .find::<respondent::Entity>()
        .filter(respondent::Column::RoundId.eq(view.row.id));
    if view.limited {
        let Some(me) = caller.principal.person_id() else {
            return Ok(Vec::new());
        };
        q = q.filter(respondent::Column::PersonId.eq(me));
    }
    Ok(q.order_by_asc(respondent::Column::CreatedAt)
        .order_by_asc(respondent::Column::Id)
        .all(conn)
        .await?)
}

/// The responses to a round the reader may see (a limited reader: their own).
pub async fn responses(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    view: &RoundView,
) -> DomainResult<Vec<response::Model>> {
    let door = Door::open(conn, caller, view.action()).await?;
    let mut q = door
        .find::<response::Entity>()
        .filter(response::Column::RoundId.eq(view.row.id));
    if view.limited {
        let Some(me) = caller.principal.person_id() else {
            return Ok(Vec::new());
        };
        q = q.filter(
            response::Column::RespondentId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(respondent::Column::Id)
                    .from(respondent::Entity)
                    .and_where(respondent::Column::RoundId.eq(view.row.id))
                    .and_where(respondent::Column::PersonId.eq(me))
                    .to_owned(),
            ),
        );
    }
    Ok(q.all(conn).await?)
}

/// The lead's consensus on a round's items (nothing for a limited reader).
pub async fn consensus(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    view: &RoundView,
) -> DomainResult<Vec<consensus::Model>> {
    if view.limited {
        return Ok(Vec::new());
    }
    Ok(Door::open(conn, caller, Action::ViewSemhRounds)
        .await?
        .find::<consensus::Entity>()
        .filter(consensus::Column::RoundId.eq(view.row.id))
        .all(conn)
        .await?)
}

#[derive(Clone, Debug)]
pub struct NewRound {
    pub school_id: SchoolId,
    pub template_id: SemhTemplateId,
    pub title: String,
    /// A whole-staff session: its tables' links expire when it ends.
    pub session: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The link EP's support: a booking of EP time at the school.
    pub support_booking_id: Option<BookingId>,
}

/// Opens a round for a school on a published version (the school's leaders and SENCOs). The
/// unfinished priorities of the school's last round of the same template are carried into it.
pub async fn open(db: &Db, caller: &Caller, input: NewRound) -> DomainResult<RoundView> {
    let mut p = Problems::new();
    let title = p.check(values::required_text("title", &input.title, 120));
    if let Some((from, to)) = input.session
        && (to <= from || to - from > Duration::hours(MAX_SESSION_HOURS))
    {
        p.add(
            "session.endsAt",
            FieldErrorCode::OutOfRange,
            format!("a session ends after it starts, within {MAX_SESSION_HOURS} hours"),
        );
    }
    p.finish()?;
    let txn = db::begin_write(db).await?;
    let s = Door::seen(&txn, caller).get::<school::Entity>(input.school_id).await?;
    let door = Door::open(&txn, caller, Action::RunSemhAudits).await?;
    if !door.access().permits_school(s.service_id, s.id) {
        return Err(caller
            .principal
            .refusal(Action::RunSemhAudits, s.service_id, Some(s.id)));
    }
    let version = Door::open(&txn, caller, Action::ViewSemhTemplates)
        .await?
        .get::<template::Entity>(input.template_id)
        .await
        .ok()
        .filter(|t| t.service_id == s.service_id)
        .ok_or_else(|| DomainError::invalid("templateId", FieldErrorCode::NotFound, "no such template version"))?;
    states::check_template("templateId", TemplateStep::OpenRound, version.status)?;
    let mut ep = None;
    if let Some(b) = input.support_booking_id {
        let found = Door::open(&txn, caller, Action::ViewBookings)
            .await?
            .get::<booking::Entity>(b)
            .await
            .ok()
            .filter(|b| b.school_id == Some(s.id) && b.status != BookingStatus::Cancelled)
            .ok_or_else(|| {
                DomainError::invalid(
                    "supportBookingId",
                    FieldErrorCode::NotFound,
                    "no such booking of EP time at this school",
                )
            })?;
        ep = Some(found.ep_id);
    }
    let now = Utc::now();
    let row = door
        .insert(round::ActiveModel {
            id: Set(SemhRoundId::new()),
            service_id: Set(s.service_id),
            school_id: Set(s.id),
            template_id: Set(version.id),
            lineage_id: Set(version.lineage_id),
            title: Set(title.unwrap_or_default()),
            status: Set(SemhRoundStatus::Open),
            session_starts_at: Set(input.session.map(|s| s.0)),
            session_ends_at: Set(input.session.map(|s| s.1)),
            booking_id: Set(input.support_booking_id),
            ep_id: Set(ep),
            opened_by: Set(caller.principal.person_id()),
            opened_at: Set(now),
            submitted_at: Set(None),
            submitted_by: Set(None),
            updated_at: Set(now),
        })
        .await?;
    let view = views(&txn, vec![row], false)
        .await?
        .pop()
        .ok_or(DomainError::NotFound)?;
    let carried = actions::carry_forward(&txn, caller, &view).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("semh_round.open", "SemhRound", view.row.id)
            .in_school(s.service_id, Some(s.id))
            .detail(serde_json::json!({ "templateId": version.id, "carriedActions": carried })),
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// A round for a change by its school's lead: locked; not found unless the caller can see it.
pub(crate) async fn for_change(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    id: SemhRoundId,
    action: Action,
) -> DomainResult<RoundView> {
    let row = door::for_change::<round::Entity, _>(txn, caller, id, ROUND_SIGHT, action).await?;
    views(txn, vec![row], false).await?.pop().ok_or(DomainError::NotFound)
}

/// A group or table just added; a table's link token is shown once, here.
pub struct Added {
    pub respondent: respondent::Model,
    pub token: Option<String>,
}

/// Adds a named group to a round, or a table of its whole-staff session with its own link
/// (expiring when the session ends).
pub async fn add_group(
    db: &Db,
    caller: &Caller,
    round_id: SemhRoundId,
    name: &str,
    table: bool,
) -> DomainResult<Added> {
    let label = values::required_text("name", name, 80)?;
    let txn = db::begin_write(db).await?;
    let view = for_change(&txn, caller, round_id, Action::RunSemhAudits).await?;
    states::check_round("roundId", RoundStep::AddGroup, view.row.status)?;
    let door = Door::open(&txn, caller, Action::RunSemhAudits).await?;
    let taken = door
        .find::<respondent::Entity>()
        .filter(respondent::Column::RoundId.eq(round_id))
        .filter(respondent::Column::Label.eq(label.clone()))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(DomainError::invalid(
            "name",
            FieldErrorCode::Taken,
            "the round already has a group or table of this name",
        ));
    }
    let now = Utc::now();
    let (token, expires) = if table {
        let Some(ends) = view.row.session_ends_at.filter(|e| *e > now) else {
            return Err(DomainError::invalid(
                "asTable",
                FieldErrorCode::InvalidState,
                "tables belong to a whole-staff session that has not ended: give the round a session",
            ));
        };
        (Some(secrets::new_token(tables::PREFIX)), Some(ends))
    } else {
        (None, None)
    };
    let row = door
        .insert(respondent::ActiveModel {
            id: Set(SemhRespondentId::new()),
            service_id: Set(view.row.service_id),
            school_id: Set(view.row.school_id),
            round_id: Set(round_id),
            kind: Set(if table {
                SemhRespondentKind::Table
            } else {
                SemhRespondentKind::Group
            }),
            person_id: Set(None),
            label: Set(Some(label)),
            link_digest: Set(token.as_deref().map(secrets::token_digest)),
            link_expires_at: Set(expires),
            created_by: Set(caller.principal.person_id()),
            created_at: Set(now),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("semh_round.add_group", "SemhRound", round_id)
            .in_school(view.row.service_id, Some(view.row.school_id))
            .detail(serde_json::json!({ "respondentId": row.id, "table": table })),
    )
    .await?;
    txn.commit().await?;
    Ok(Added { respondent: row, token })
}

/// One item's answer as given.
#[derive(Clone, Debug)]
pub struct Answer {
    pub item_id: SemhItemId,
    pub rating: String,
    pub evidence: Option<String>,
    pub ideas: Option<String>,
}

/// Answers checked against a round's version: items of it, ratings on its scale, each item once.
pub(crate) fn check_answers(template: &TemplateView, answers: Vec<Answer>, field: &str) -> DomainResult<Vec<Answer>> {
    let mut p = Problems::new();
    if answers.is_empty() || answers.len() > template.items.len() {
        p.add(
            field,
            FieldErrorCode::OutOfRange,
            format!("give 1 to {} answers", template.items.len()),
        );
    }
    let keys: Vec<&str> = template.scale.iter().map(|s| s.key.as_str()).collect();
    let mut seen = BTreeSet::new();
    let mut checked = Vec::new();
    for (i, a) in answers.into_iter().enumerate() {
        let at = format!("{field}.{i}");
        if template.item(a.item_id).is_none() {
            p.add(
                &format!("{at}.itemId"),
                FieldErrorCode::NotFound,
                "not an item of this round's template version",
            );
        } else if !seen.insert(a.item_id) {
            p.add(
                &format!("{at}.itemId"),
                FieldErrorCode::Taken,
                "the item is answered twice",
            );
        }
        if template.point(&a.rating).is_none() {
            p.add(
                &format!("{at}.rating"),
                FieldErrorCode::Invalid,
                format!("not a rating of this template: one of {}", keys.join(", ")),
            );
        }
        let evidence = p
            .check(values::optional_text(
                &format!("{at}.evidence"),
                a.evidence.as_deref(),
                MAX_NOTE,
            ))
            .flatten();
        let ideas = p
            .check(values::optional_text(
                &format!("{at}.ideas"),
                a.ideas.as_deref(),
                MAX_NOTE,
            ))
            .flatten();
        if ideas.is_some() && !template.row.asks_ideas {
            p.add(
                &format!("{at}.ideas"),
                FieldErrorCode::NotAllowed,
                "this template does not ask for ideas",
            );
        }
        checked.push(Answer {
            item_id: a.item_id,
            rating: a.rating,
            evidence,
            ideas,
        });
    }
    p.finish()?;
    Ok(checked)
}

/// Writes a respondent's answers, replacing their earlier answers to the same items.
pub(crate) async fn write_answers<C: ConnectionTrait>(
    door: &Door<'_, C>,
    round: &round::Model,
    respondent: SemhRespondentId,
    answers: Vec<Answer>,
) -> DomainResult<usize> {
    let items: Vec<SemhItemId> = answers.iter().map(|a| a.item_id).collect();
    door.delete_many::<response::Entity>()
        .filter(response::Column::RespondentId.eq(respondent))
        .filter(response::Column::ItemId.is_in(items))
        .exec(door.conn())
        .await?;
    let now = Utc::now();
    let n = answers.len();
    door.insert_all(
        answers
            .into_iter()
            .map(|a| response::ActiveModel {
                id: Set(SemhResponseId::new()),
                service_id: Set(round.service_id),
                school_id: Set(round.school_id),
                round_id: Set(round.id),
                respondent_id: Set(respondent),
                item_id: Set(a.item_id),
                rating: Set(a.rating),
                evidence: Set(a.evidence),
                ideas: Set(a.ideas),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    Ok(n)
}

/// Records answers to an open round: the caller's own (staff of the school), or, with
/// `respondent`, a group's or table's entered by the lead.
pub async fn respond(
    db: &Db,
    caller: &Caller,
    round_id: SemhRoundId,
    respondent_id: Option<SemhRespondentId>,
    answers: Vec<Answer>,
) -> DomainResult<respondent::Model> {
    let action = if respondent_id.is_some() {
        Action::RunSemhAudits
    } else {
        Action::RespondToSemhAudits
    };
    let txn = db::begin_write(db).await?;
    let view = for_change(&txn, caller, round_id, action).await?;
    states::check_round("roundId", RoundStep::Respond, view.row.status)?;
    let answers = check_answers(&view.template, answers, "responses")?;
    let door = Door::open(&txn, caller, action).await?;
    let who = match respondent_id {
        Some(id) => door
            .find::<respondent::Entity>()
            .filter(respondent::Column::Id.eq(id))
            .filter(respondent::Column::RoundId.eq(round_id))
            .filter(respondent::Column::Kind.ne(SemhRespondentKind::Individual))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                DomainError::invalid(
                    "respondentId",
                    FieldErrorCode::NotFound,
                    "not a group or table of this round",
                )
            })?,
        None => {
            let Some(me) = caller.principal.person_id() else {
                return Err(DomainError::Forbidden);
            };
            let mine = door
                .find::<respondent::Entity>()
                .filter(respondent::Column::RoundId.eq(round_id))
                .filter(respondent::Column::PersonId.eq(me))
                .one(&txn)
                .await?;
            match mine {
                Some(r) => r,
                None => {
                    door.insert(respondent::ActiveModel {
                        id: Set(SemhRespondentId::new()),
                        service_id: Set(view.row.service_id),
                        school_id: Set(view.row.school_id),
                        round_id: Set(round_id),
                        kind: Set(SemhRespondentKind::Individual),
                        person_id: Set(Some(me)),
                        label: Set(None),
                        link_digest: Set(None),
                        link_expires_at: Set(None),
                        created_by: Set(Some(me)),
                        created_at: Set(Utc::now()),
                    })
                    .await?
                }
            }
        }
    };
    let n = write_answers(&door, &view.row, who.id, answers).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("semh_round.respond", "SemhRound", round_id)
            .in_school(view.row.service_id, Some(view.row.school_id))
            .detail(serde_json::json!({ "respondentId": who.id, "answers": n })),
    )
    .await?;
    txn.commit().await?;
    Ok(who)
}

/// One item's agreed rating.
#[derive(Clone, Debug)]
pub struct Agreed {
    pub item_id: SemhItemId,
    pub rating: String,
    pub note: Option<String>,
}

/// Records the lead's consensus on items of an open round (replacing earlier ones).
pub async fn set_consensus(
    db: &Db,
    caller: &Caller,
    round_id: SemhRoundId,
    agreed: Vec<Agreed>,
) -> DomainResult<Vec<consensus::Model>> {
    let txn = db::begin_write(db).await?;
    let view = for_change(&txn, caller, round_id, Action::RunSemhAudits).await?;
    states::check_round("roundId", RoundStep::SetConsensus, view.row.status)?;
    // The same checks as answers: items of the version, ratings on its scale, each item once.
    let checked = check_answers(
        &view.template,
        agreed
            .into_iter()
            .map(|a| Answer {
                item_id: a.item_id,
                rating: a.rating,
                evidence: a.note,
                ideas: None,
            })
            .collect(),
        "ratings",
    )
    .map_err(|e| match e {
        DomainError::Invalid(mut errors) => {
            for f in &mut errors {
                if f.field.last().map(String::as_str) == Some("evidence") {
                    f.field.pop();
                    f.field.push("note".to_owned());
                }
            }
            DomainError::Invalid(errors)
        }
        other => other,
    })?;
    let door = Door::open(&txn, caller, Action::RunSemhAudits).await?;
    let items: Vec<SemhItemId> = checked.iter().map(|a| a.item_id).collect();
    door.delete_many::<consensus::Entity>()
        .filter(consensus::Column::RoundId.eq(round_id))
        .filter(consensus::Column::ItemId.is_in(items))
        .exec(&txn)
        .await?;
    let now = Utc::now();
    let n = checked.len();
    door.insert_all(
        checked
            .into_iter()
            .map(|a| consensus::ActiveModel {
                id: Set(SemhConsensusId::new()),
                service_id: Set(view.row.service_id),
                school_id: Set(view.row.school_id),
                round_id: Set(round_id),
                item_id: Set(a.item_id),
                rating: Set(a.rating),
                note: Set(a.evidence),
                set_by: Set(caller.principal.person_id()),
                updated_at: Set(now),
            })
            .collect(),
    )
    .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("semh_round.set_consensus", "SemhRound", round_id)
            .in_school(view.row.service_id, Some(view.row.school_id))
            .detail(serde_json::json!({ "items": n })),
    )
    .await?;
    let all = door
        .find::<consensus::Entity>()
        .filter(consensus::Column::RoundId.eq(round_id))
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(all)
}

/// Submits a round whose every item has a consensus: it becomes read-only, and its tables'
/// links stop working.
pub async fn submit(db: &Db, caller: &Caller, round_id: SemhRoundId) -> DomainResult<RoundView> {
    let txn = db::begin_write(db).await?;
    let view = for_change(&txn, caller, round_id, Action::RunSemhAudits).await?;
    let to = states::check_round("id", RoundStep::Submit, view.row.status)?;
    let door = Door::open(&txn, caller, Action::RunSemhAudits).await?;
    let agreed: BTreeSet<SemhItemId> = door
        .find::<consensus::Entity>()
        .filter(consensus::Column::RoundId.eq(round_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| c.item_id)
        .collect();
    let missing = view.template.items.iter().filter(|i| !agreed.contains(&i.id)).count();
    if missing > 0 {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            format!(
                "{missing} items have no consensus rating yet: rate every item (\"don't know\" counts) before submitting"
            ),
        ));
    }
    let now = Utc::now();
    door.update_many::<respondent::Entity>()
        .col_expr(respondent::Column::LinkExpiresAt, Expr::value(now))
        .filter(respondent::Column::RoundId.eq(round_id))
        .filter(respondent::Column::LinkExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    let mut active: round::ActiveModel = view.row.clone().into();
    active.status = Set(to);
    active.submitted_at = Set(Some(now));
    active.submitted_by = Set(caller.principal.person_id());
    active.updated_at = Set(now);
    let saved = door.update(active).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("semh_round.submit", "SemhRound", round_id).in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    txn.commit().await?;
    Ok(RoundView {
        row: saved,
        template: view.template,
        limited: false,
    })
}
