//! The audit log: who did what, to which object, in which school and service, on whose behalf,
//! when, in which request. Written in the same transaction as the change it records, so that a
//! change without its entry (or an entry without its change) cannot exist.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter};

use crate::access::{Action, Actor, Caller};
use crate::door::{self, Door};
use crate::entities::audit_event;
use crate::error::DomainResult;
use crate::ids::{AuditEventId, PersonId, SchoolId, ServiceId};
use crate::model::ActorKind;
use crate::page::{self, Page, PageRequest, Position, SortKey};

/// One thing that happened.
#[derive(Clone, Debug)]
pub struct Entry {
    /// What was done, as `area.verb` (e.g. `school.create`, `booking.cancel`).
    pub action: &'static str,
    /// The kind of object it was done to (the API's type name).
    pub object_type: &'static str,
    pub object_id: Option<uuid::Uuid>,
    pub service_id: Option<ServiceId>,
    pub school_id: Option<SchoolId>,
    /// Extra facts, never personal data (ids, changed field names, counts).
    pub detail: Option<serde_json::Value>,
}

impl Entry {
    pub fn new(action: &'static str, object_type: &'static str, object_id: impl Into<uuid::Uuid>) -> Self {
        Self {
            action,
            object_type,
            object_id: Some(object_id.into()),
            service_id: None,
            school_id: None,
            detail: None,
        }
    }
    pub fn in_service(mut self, service: ServiceId) -> Self {
        self.service_id = Some(service);
        self
    }
    pub fn in_school(mut self, service: ServiceId, school: Option<SchoolId>) -> Self {
        self.service_id = Some(service);
        self.school_id = school;
        self
    }
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Who, for the log: a signed-in caller, the command line, or nobody (a failed sign-in).
#[derive(Clone, Copy, Debug)]
pub enum Who<'a> {
    Caller(&'a Caller),
    /// A person acting before they hold a token (signing in, accepting an invitation).
    Person {
        person: PersonId,
        request_id: &'a str,
    },
    System {
        request_id: &'a str,
    },
    Anonymous {
        request_id: &'a str,
    },
}

/// Appends an entry. Call it with the transaction that makes the change.
pub async fn record(conn: &impl ConnectionTrait, who: Who<'_>, entry: Entry) -> DomainResult<()> {
    door::append_audit(conn, vec![row(who, entry)]).await
}

/// Appends several entries in one statement (the reads of a page of child-related records).
pub async fn log_many(conn: &impl ConnectionTrait, caller: &Caller, entries: Vec<Entry>) -> DomainResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows = entries.into_iter().map(|e| row(Who::Caller(caller), e)).collect();
    door::append_audit(conn, rows).await
}

fn row(who: Who<'_>, entry: Entry) -> audit_event::ActiveModel {
    let (kind, person, partner, request_id) = match who {
        Who::Caller(caller) => match caller.principal.actor {
            Actor::Person(p) => (ActorKind::Person, Some(p), None, caller.request_id.as_str()),
            Actor::PartnerClient(c) => (ActorKind::PartnerClient, None, Some(c), caller.request_id.as_str()),
        },
        Who::Person { person, request_id } => (ActorKind::Person, Some(person), None, request_id),
        Who::System { request_id } => (ActorKind::System, None, None, request_id),
        Who::Anonymous { request_id } => (ActorKind::Anonymous, None, None, request_id),
    };
    audit_event::ActiveModel {
        id: Set(AuditEventId::new()),
        service_id: Set(entry.service_id),
        school_id: Set(entry.school_id),
        actor_kind: Set(kind),
        actor_person_id: Set(person),
        partner_client_id: Set(partner),
        action: Set(entry.action.to_owned()),
        object_type: Set(Some(entry.object_type.to_owned())),
        object_id: Set(entry.object_id),
        request_id: Set(Some(request_id.to_owned()).filter(|r| !r.is_empty())),
        occurred_at: Set(Utc::now()),
        detail: Set(entry.detail.map(|d| d.to_string())),
    }
}

/// Shorthand for [`record`] by a signed-in caller.
pub async fn log(conn: &impl ConnectionTrait, caller: &Caller, entry: Entry) -> DomainResult<()> {
    record(conn, Who::Caller(caller), entry).await
}

/// One entry of a service's log, for its administrators.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: AuditEventId) -> DomainResult<audit_event::Model> {
    Door::open(conn, caller, Action::ViewAuditLog)
        .await?
        .get::<audit_event::Entity>(id)
        .await
}

/// Narrows an audit query.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub action: Option<String>,
    pub object_id: Option<uuid::Uuid>,
    pub actor_person_id: Option<PersonId>,
    pub school_id: Option<SchoolId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The audit log of one service, newest first. Service administrators only.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
    filter: Filter,
    page: &PageRequest,
) -> DomainResult<Page<audit_event::Model>> {
    caller.principal.require_service_wide(Action::ViewAuditLog, service)?;
    let window = page.window()?;
    let mut select = Door::open(conn, caller, Action::ViewAuditLog)
        .await?
        .find::<audit_event::Entity>()
        .filter(audit_event::Column::ServiceId.eq(service));
    if let Some(a) = filter.action {
        select = select.filter(audit_event::Column::Action.eq(a));
    }
    if let Some(o) = filter.object_id {
        select = select.filter(audit_event::Column::ObjectId.eq(o));
    }
    if let Some(p) = filter.actor_person_id {
        select = select.filter(audit_event::Column::ActorPersonId.eq(p));
    }
    if let Some(s) = filter.school_id {
        select = select.filter(audit_event::Column::SchoolId.eq(s));
    }
    if let Some(from) = filter.from {
        select = select.filter(audit_event::Column::OccurredAt.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(audit_event::Column::OccurredAt.lt(to));
    }
    page::fetch(
        conn,
        select,
        audit_event::Column::Id,
        SortKey::Id,
        true,
        &window,
        |m: &audit_event::Model| Position { key: None, id: m.id.0 },
    )
    .await
}
