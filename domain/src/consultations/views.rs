//! Reading consultations: each with its pupil, consent, record, actions and booking, loaded for
//! a whole page in a fixed number of statements, shaped field by field for the caller, and with
//! every read of a formal consultation in the audit log.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder};

use super::{is_service_side, sees_private_notes, status_on, today};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::door::Door;
use crate::entities::{booking, consent, consultation, consultation_action, consultation_record, pupil};
use crate::error::DomainResult;
use crate::ids::{ConsultationId, PersonId, SchoolId, ServiceId};
use crate::model::{ActionStatus, ConsultationKind, ConsultationStatus};
use crate::page::{self, Page, PageRequest, Position, SortKey};

/// A consultation as the caller may see it.
#[derive(Clone, Debug)]
pub struct View {
    pub row: consultation::Model,
    /// The state today (a shared record past its review date is due for review).
    pub status: ConsultationStatus,
    pub pupil: Option<pupil::Model>,
    /// Consent records for the consultation's pupil, the latest first.
    pub consents: Vec<consent::Model>,
    /// The record, when the caller may see it (the school: once shared).
    pub record: Option<RecordView>,
    /// Agreed actions the caller may see (the school: once shared).
    pub actions: Vec<consultation_action::Model>,
    pub booking: Option<booking::Model>,
    /// What the caller should know about a change just made (a booking outside term under a
    /// warn-only policy, say).
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct RecordView {
    pub row: consultation_record::Model,
    /// Whether `row.private_notes` may be shown (cleared otherwise).
    pub with_private_notes: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub school_id: Option<SchoolId>,
    pub ep_id: Option<PersonId>,
    pub kind: Option<ConsultationKind>,
    pub statuses: Option<Vec<ConsultationStatus>>,
    /// Only those still open (not closed, declined or withdrawn).
    pub open_only: bool,
    /// Reviews that fall on or before this date.
    pub review_by: Option<NaiveDate>,
}

/// A consultation the caller can see, or not found.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: ConsultationId) -> DomainResult<View> {
    let row = Door::open(conn, caller, Action::ViewConsultations)
        .await?
        .get::<consultation::Entity>(id)
        .await?;
    let mut views = assemble(conn, caller, vec![row]).await?;
    views.pop().ok_or(crate::DomainError::NotFound)
}

/// The caller's consultations, newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: Filter,
    page: &PageRequest,
) -> DomainResult<Page<View>> {
    let window = page.window()?;
    let door = Door::open(conn, caller, Action::ViewConsultations).await?;
    door.require_any()?;
    let mut select = door.find::<consultation::Entity>();
    if let Some(v) = filter.school_id {
        select = select.filter(consultation::Column::SchoolId.eq(v));
    }
    if let Some(v) = filter.ep_id {
        select = select.filter(consultation::Column::EpId.eq(v));
    }
    if let Some(v) = filter.kind {
        select = select.filter(consultation::Column::Kind.eq(v));
    }
    if filter.open_only {
        select = select.filter(consultation::Column::Status.is_not_in([
            ConsultationStatus::Closed,
            ConsultationStatus::Declined,
            ConsultationStatus::Withdrawn,
        ]));
    }
    if let Some(statuses) = filter.statuses.filter(|s| !s.is_empty()) {
        select = select.filter(status_condition(&statuses, today()));
    }
    if let Some(by) = filter.review_by {
        select = select
            .filter(consultation::Column::ReviewOn.lte(by))
            .filter(consultation::Column::Status.eq(ConsultationStatus::RecordShared));
    }
    let found = page::fetch(
        conn,
        select,
        consultation::Column::Id,
        SortKey::Time(consultation::Column::CreatedAt),
        true,
        &window,
        |m: &consultation::Model| Position {
            key: Some(m.created_at.to_rfc3339()),
            id: m.id.0,
        },
    )
    .await?;
    let (cursors, rows): (Vec<String>, Vec<consultation::Model>) = found.items.into_iter().unzip();
    let views = assemble(conn, caller, rows).await?;
    Ok(Page {
        items: cursors.into_iter().zip(views).collect(),
        has_next_page: found.has_next_page,
        has_previous_page: found.has_previous_page,
        total: found.total,
    })
}

/// The stored states that read as `statuses` today (REVIEW_DUE is a shared record past its date).
fn status_condition(statuses: &[ConsultationStatus], today: NaiveDate) -> Condition {
    let mut any = Condition::any();
    for s in statuses {
        any = any.add(match s {
            ConsultationStatus::ReviewDue => Condition::any()
                .add(consultation::Column::Status.eq(ConsultationStatus::ReviewDue))
                .add(
                    Condition::all()
                        .add(consultation::Column::Status.eq(ConsultationStatus::RecordShared))
                        .add(consultation::Column::ReviewOn.lte(today)),
                ),
            ConsultationStatus::RecordShared => Condition::all()
                .add(consultation::Column::Status.eq(ConsultationStatus::RecordShared))
                .add(
                    Condition::any()
                        .add(consultation::Column::ReviewOn.is_null())
                        .add(consultation::Column::ReviewOn.gt(today)),
                ),
            other => Condition::all().add(consultation::Column::Status.eq(*other)),
        });
    }
    any
}

/// Open agreed actions the caller may see, due on or before `due_by`, soonest first.
pub async fn actions_due(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school: Option<SchoolId>,
    due_by: Option<NaiveDate>,
    page: &PageRequest,
) -> DomainResult<Page<consultation_action::Model>> {
    let window = page.window()?;
    let door = Door::open(conn, caller, Action::ViewConsultations).await?;
    door.require_any()?;
    let mut select = door
        .find::<consultation_action::Entity>()
        .filter(consultation_action::Column::Status.eq(ActionStatus::Open));
    if let Some(s) = school {
        select = select.filter(consultation_action::Column::SchoolId.eq(s));
    }
    if let Some(d) = due_by {
        select = select.filter(consultation_action::Column::DueOn.lte(d));
    }
    // The school sees actions once the record is shared; the service sees them all.
    let service_wide: Vec<ServiceId> = caller
        .principal
        .services()
        .into_iter()
        .filter(|s| {
            caller
                .principal
                .has_role_in_service(crate::access::Role::ServiceAdmin, *s)
                || caller
                    .principal
                    .has_role_in_service(crate::access::Role::Psychologist, *s)
        })
        .collect();
    select = select.filter(
        Condition::any()
            .add(consultation_action::Column::Shared.eq(true))
            .add(consultation_action::Column::ServiceId.is_in(service_wide)),
    );
    page::fetch(
        conn,
        select,
        consultation_action::Column::Id,
        SortKey::Text(consultation_action::Column::DueOn),
        false,
        &window,
        |m: &consultation_action::Model| Position {
            key: Some(m.due_on.to_string()),
            id: m.id.0,
        },
    )
    .await
}

/// Joins each consultation to what belongs to it (one statement per kind of thing, whatever the
/// number of consultations), shapes it for the caller, and audits the reads of formal ones.
pub(crate) async fn assemble(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    rows: Vec<consultation::Model>,
) -> DomainResult<Vec<View>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // The rows are in the caller's reach; what belongs to them is read in their services.
    let services: BTreeSet<ServiceId> = rows.iter().map(|r| r.service_id).collect();
    let ids: Vec<ConsultationId> = rows.iter().map(|r| r.id).collect();
    let pupil_ids: Vec<_> = rows.iter().filter_map(|r| r.pupil_id).collect();
    let booking_ids: Vec<_> = rows.iter().filter_map(|r| r.booking_id).collect();
    let mut pupils = BTreeMap::new();
    let mut consents: BTreeMap<crate::ids::PupilId, Vec<consent::Model>> = BTreeMap::new();
    let mut records = BTreeMap::new();
    let mut actions: BTreeMap<ConsultationId, Vec<consultation_action::Model>> = BTreeMap::new();
    let mut bookings = BTreeMap::new();
    for service in services {
        let door = Door::service(conn, service);
        if !pupil_ids.is_empty() {
            for p in door.get_many::<pupil::Entity, _>(pupil_ids.iter().copied()).await? {
                pupils.insert(p.id, p);
            }
        }
        if !pupil_ids.is_empty() {
            for c in door
                .find::<consent::Entity>()
                .filter(consent::Column::PupilId.is_in(pupil_ids.iter().copied()))
                .order_by_desc(consent::Column::RecordedAt)
                .all(conn)
                .await?
            {
                consents.entry(c.pupil_id).or_default().push(c);
            }
        }
        for r in door
            .get_many::<consultation_record::Entity, _>(ids.iter().copied())
            .await?
        {
            records.insert(r.consultation_id, r);
        }
        for a in door
            .find::<consultation_action::Entity>()
            .filter(consultation_action::Column::ConsultationId.is_in(ids.iter().copied()))
            .order_by_asc(consultation_action::Column::DueOn)
            .order_by_asc(Expr::col(consultation_action::Column::Id))
            .all(conn)
            .await?
        {
            actions.entry(a.consultation_id).or_default().push(a);
        }
        if !booking_ids.is_empty() {
            for b in door.get_many::<booking::Entity, _>(booking_ids.iter().copied()).await? {
                bookings.insert(b.id, b);
            }
        }
    }
    let today = today();
    let mut audited = Vec::new();
    let views: Vec<View> = rows
        .into_iter()
        .map(|row| {
            let service_side = is_service_side(caller, &row);
            let record = records.remove(&row.id).and_then(|mut r| {
                if !service_side && r.shared_at.is_none() {
                    return None;
                }
                let with_private_notes = sees_private_notes(caller, &row);
                if !with_private_notes {
                    r.private_notes = None;
                }
                Some(RecordView {
                    row: r,
                    with_private_notes,
                })
            });
            let actions = actions
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .filter(|a| service_side || a.shared)
                .collect();
            if row.kind == ConsultationKind::Formal {
                audited.push(
                    Entry::new("consultation.read", "Consultation", row.id)
                        .in_school(row.service_id, Some(row.school_id)),
                );
            }
            View {
                status: status_on(&row, today),
                pupil: row.pupil_id.and_then(|p| pupils.get(&p).cloned()),
                consents: row.pupil_id.and_then(|p| consents.get(&p).cloned()).unwrap_or_default(),
                record,
                actions,
                booking: row.booking_id.and_then(|b| bookings.get(&b).cloned()),
                warnings: Vec::new(),
                row,
            }
        })
        .collect();
    audit::log_many(conn, caller, audited).await?;
    Ok(views)
}
