//! The action plan: priorities drawn from a round's items (or the round as a whole), each with an
//! owner (a role or a named adult), a due date, a status and progress notes. Priorities not
//! finished when the school opens its next round of the same template are carried into it: the
//! old one is marked carried forward, and the new one keeps its notes and points at it.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use super::rounds::{self, RoundView};
use super::states::{self, LIVE_ACTIONS, RoundStep, SETTABLE_ACTIONS};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{semh_action as action, semh_item as item, semh_round as round};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{SemhActionId, SemhItemId, SemhRoundId};
use crate::model::SemhActionStatus;
use crate::values;

/// The most progress notes a priority keeps.
pub const MAX_NOTES: usize = 50;

/// One progress note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub at: DateTime<Utc>,
    pub note: String,
}

pub fn progress_of(row: &action::Model) -> Vec<Progress> {
    serde_json::from_str(&row.progress).unwrap_or_default()
}

/// A round's action plan (nothing for a limited reader).
pub async fn of(conn: &impl ConnectionTrait, caller: &Caller, view: &RoundView) -> DomainResult<Vec<action::Model>> {
    if view.limited {
        return Ok(Vec::new());
    }
    Ok(Door::open(conn, caller, Action::ViewSemhRounds)
        .await?
        .find::<action::Entity>()
        .filter(action::Column::RoundId.eq(view.row.id))
        .order_by_asc(action::Column::CreatedAt)
        .order_by_asc(action::Column::Id)
        .all(conn)
        .await?)
}

#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub priority: Option<String>,
    pub owner_role: Option<String>,
    pub owner_name: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: Option<SemhActionStatus>,
    pub progress_note: Option<String>,
}

struct Checked {
    priority: Option<String>,
    owner_role: Option<String>,
    owner_name: Option<String>,
    progress_note: Option<String>,
}

fn check(plan: &Plan) -> DomainResult<Checked> {
    let mut p = Problems::new();
    let priority = match plan.priority.as_deref() {
        Some(t) => p.check(values::required_text("priority", t, 300)),
        None => None,
    };
    let owner_role = p
        .check(values::optional_text("ownerRole", plan.owner_role.as_deref(), 80))
        .flatten();
    let owner_name = p
        .check(values::optional_text("ownerName", plan.owner_name.as_deref(), 80))
        .flatten();
    let progress_note = p
        .check(values::optional_text(
            "progressNote",
            plan.progress_note.as_deref(),
            500,
        ))
        .flatten();
    if let Some(s) = plan.status
        && !SETTABLE_ACTIONS.contains(&s)
    {
        p.add(
            "status",
            FieldErrorCode::Invalid,
            "a priority is carried forward by the next round, not by hand",
        );
    }
    p.finish()?;
    Ok(Checked {
        priority,
        owner_role,
        owner_name,
        progress_note,
    })
}

fn notes_with(mut notes: Vec<Progress>, note: Option<String>) -> DomainResult<String> {
    if let Some(note) = note {
        if notes.len() >= MAX_NOTES {
            return Err(DomainError::invalid(
                "progressNote",
                FieldErrorCode::OutOfRange,
                format!("a priority keeps at most {MAX_NOTES} notes"),
            ));
        }
        notes.push(Progress { at: Utc::now(), note });
    }
    Ok(serde_json::to_string(&notes).unwrap_or_else(|_| "[]".to_owned()))
}

/// Adds a priority to a round's plan, drawn from one of its items or from the round as a whole.
pub async fn add(
    db: &Db,
    caller: &Caller,
    round_id: SemhRoundId,
    item_id: Option<SemhItemId>,
    plan: Plan,
) -> DomainResult<action::Model> {
    let checked = check(&plan)?;
    let mut p = Problems::new();
    if checked.priority.is_none() && plan.priority.is_none() {
        p.add("priority", FieldErrorCode::Required, "say what the priority is");
    }
    if checked.owner_role.is_none() && checked.owner_name.is_none() {
        p.add(
            "ownerRole",
            FieldErrorCode::Required,
            "give the priority an owner: a role, or a named adult",
        );
    }
    p.finish()?;
    let txn = db::begin_write(db).await?;
    let view = rounds::for_change(&txn, caller, round_id, Action::ManageSemhActions).await?;
    states::check_round("roundId", RoundStep::PlanActions, view.row.status)?;
    let lineage_item = match item_id {
        Some(id) => Some(
            view.template
                .item(id)
                .ok_or_else(|| {
                    DomainError::invalid(
                        "itemId",
                        FieldErrorCode::NotFound,
                        "not an item of this round's template version",
                    )
                })?
                .lineage_item_id,
        ),
        None => None,
    };
    let door = Door::open(&txn, caller, Action::ManageSemhActions).await?;
    let now = Utc::now();
    let row = door
        .insert(action::ActiveModel {
            id: Set(SemhActionId::new()),
            service_id: Set(view.row.service_id),
            school_id: Set(view.row.school_id),
            round_id: Set(round_id),
            item_id: Set(item_id),
            lineage_item_id: Set(lineage_item),
            priority: Set(checked.priority.unwrap_or_default()),
            owner_role: Set(checked.owner_role),
            owner_name: Set(checked.owner_name),
            due_on: Set(plan.due_on),
            status: Set(plan.status.unwrap_or(SemhActionStatus::Open)),
            progress: Set(notes_with(Vec::new(), checked.progress_note)?),
            carried_from_id: Set(None),
            created_by: Set(caller.principal.person_id()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("semh_action.add", "SemhAction", row.id).in_school(row.service_id, Some(row.school_id)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Changes a priority: what it is, its owner, due date or status, or adds a progress note.
pub async fn update(db: &Db, caller: &Caller, id: SemhActionId, plan: Plan) -> DomainResult<action::Model> {
    let checked = check(&plan)?;
    let txn = db::begin_write(db).await?;
    let row =
        door::for_change::<action::Entity, _>(&txn, caller, id, Action::ViewSemhRounds, Action::ManageSemhActions)
            .await?;
    if row.status == SemhActionStatus::CarriedForward {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "the priority was carried into a later round: change it there",
        ));
    }
    let door = Door::open(&txn, caller, Action::ManageSemhActions).await?;
    let mut changed = Vec::new();
    let notes = progress_of(&row);
    let mut active: action::ActiveModel = row.into();
    if let Some(t) = checked.priority {
        active.priority = Set(t);
        changed.push("priority");
    }
    if plan.owner_role.is_some() {
        active.owner_role = Set(checked.owner_role);
        changed.push("ownerRole");
    }
    if plan.owner_name.is_some() {
        active.owner_name = Set(checked.owner_name);
        changed.push("ownerName");
    }
    if plan.due_on.is_some() {
        active.due_on = Set(plan.due_on);
        changed.push("dueOn");
    }
    if let Some(s) = plan.status {
        active.status = Set(s);
        changed.push("status");
    }
    if checked.progress_note.is_some() {
        active.progress = Set(notes_with(notes, checked.progress_note)?);
        changed.push("progressNote");
    }
    active.updated_at = Set(Utc::now());
    let saved = door.update(active).await?;
    if saved.owner_role.is_none() && saved.owner_name.is_none() {
        return Err(DomainError::invalid(
            "ownerRole",
            FieldErrorCode::Required,
            "a priority keeps an owner: a role, or a named adult",
        ));
    }
    audit::log(
        &txn,
        caller,
        Entry::new("semh_action.update", "SemhAction", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "changed": changed })),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Carries the unfinished priorities of the school's previous round of the same template into a
/// new round (inside its transaction); returns how many were carried.
pub(crate) async fn carry_forward(txn: &impl ConnectionTrait, caller: &Caller, new: &RoundView) -> DomainResult<usize> {
    let door = Door::open(txn, caller, Action::RunSemhAudits).await?;
    let previous = door
        .find::<round::Entity>()
        .filter(round::Column::SchoolId.eq(new.row.school_id))
        .filter(round::Column::LineageId.eq(new.row.lineage_id))
        .filter(round::Column::Id.ne(new.row.id))
        .order_by_desc(round::Column::OpenedAt)
        .order_by_desc(round::Column::Id)
        .one(txn)
        .await?;
    let Some(previous) = previous else {
        return Ok(0);
    };
    let live = door
        .find::<action::Entity>()
        .filter(action::Column::RoundId.eq(previous.id))
        .filter(action::Column::Status.is_in(LIVE_ACTIONS.iter().copied()))
        .order_by_asc(action::Column::CreatedAt)
        .order_by_asc(action::Column::Id)
        .all(txn)
        .await?;
    if live.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let carried: Vec<action::ActiveModel> = live
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let in_new: Option<&item::Model> = a
                .lineage_item_id
                .and_then(|l| new.template.items.iter().find(|it| it.lineage_item_id == l));
            action::ActiveModel {
                id: Set(SemhActionId::new()),
                service_id: Set(a.service_id),
                school_id: Set(a.school_id),
                round_id: Set(new.row.id),
                item_id: Set(in_new.map(|it| it.id)),
                lineage_item_id: Set(a.lineage_item_id),
                priority: Set(a.priority.clone()),
                owner_role: Set(a.owner_role.clone()),
                owner_name: Set(a.owner_name.clone()),
                due_on: Set(a.due_on),
                status: Set(a.status),
                progress: Set(a.progress.clone()),
                carried_from_id: Set(Some(a.id)),
                created_by: Set(caller.principal.person_id()),
                // Kept in the order they had.
                created_at: Set(now + chrono::Duration::milliseconds(i as i64)),
                updated_at: Set(now),
            }
        })
        .collect();
    let n = carried.len();
    door.update_many::<action::Entity>()
        .col_expr(
            action::Column::Status,
            Expr::value(SemhActionStatus::CarriedForward.as_str()),
        )
        .col_expr(action::Column::UpdatedAt, Expr::value(now))
        .filter(action::Column::Id.is_in(live.iter().map(|a| a.id)))
        .exec(txn)
        .await?;
    door.insert_all(carried).await?;
    Ok(n)
}
