//! The `Node` interface over every object with a global id, and `node(id:)`/`nodes(ids:)`.

use async_graphql::{Context, ID, Interface, Object, Result};

use domain::ids::{AuditEventId, MembershipId, PartnerClientId, PersonId, SchoolId, ServiceId};
use domain::tenancy::{partners, people, schools, services};
use domain::{DomainError, audit};

use super::{AuditEvent, Membership, PartnerClient, Person, School, Service};
use crate::graphql::consultations::{Consultation, Pupil};
use crate::graphql::context::{self, Context as RequestContext};
use crate::graphql::ids;
use crate::graphql::reflective::ReflectiveSession;
use crate::graphql::semh::{SemhRound, SemhTemplate};
use crate::graphql::space_to_talk::{SpaceToTalkBooking, SpaceToTalkRun};
use crate::graphql::time::{
    AcademicYear, Booking, CalendarException, Closure, Contract, LedgerEntry, TimeUnit, VisitSeries, WorkingPattern,
};

/// Any object with a global id, fetched with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Service(Service),
    School(School),
    Person(Person),
    Membership(Membership),
    PartnerClient(PartnerClient),
    AuditEvent(AuditEvent),
    TimeUnit(TimeUnit),
    AcademicYear(AcademicYear),
    Closure(Closure),
    Contract(Contract),
    WorkingPattern(WorkingPattern),
    CalendarException(CalendarException),
    Booking(Booking),
    LedgerEntry(LedgerEntry),
    VisitSeries(VisitSeries),
    Consultation(Consultation),
    Pupil(Pupil),
    ReflectiveSession(ReflectiveSession),
    SpaceToTalkRun(SpaceToTalkRun),
    SpaceToTalkBooking(SpaceToTalkBooking),
    SemhTemplate(SemhTemplate),
    SemhRound(SemhRound),
}

/// Loads any object by global id; not found (or not visible) is `None`.
pub async fn load_node(c: &RequestContext, id: &ID) -> Result<Option<Node>> {
    let Some((kind, uuid)) = ids::decode(id) else {
        return Ok(None);
    };
    let caller = c.caller()?;
    let db = c.db();
    let found: Result<Node, DomainError> = match kind.as_str() {
        "Service" => services::get(db, caller, ServiceId(uuid))
            .await
            .map(|m| Node::Service(Service(m))),
        "School" => schools::get(db, caller, SchoolId(uuid))
            .await
            .map(|m| Node::School(School(m))),
        "Person" => people::get(db, caller, PersonId(uuid))
            .await
            .map(|m| Node::Person(Person(m))),
        "Membership" => membership_node(c, MembershipId(uuid)).await,
        "AuditEvent" => audit::get(db, caller, AuditEventId(uuid))
            .await
            .map(|m| Node::AuditEvent(AuditEvent(m))),
        "PartnerClient" => partners::get(db, caller, PartnerClientId(uuid))
            .await
            .map(|m| Node::PartnerClient(PartnerClient(m))),
        "Consultation" | "Pupil" => crate::graphql::consultations::load_node(c, &kind, uuid).await,
        "ReflectiveSession" => crate::graphql::reflective::load_node(c, &kind, uuid).await,
        "SemhTemplate" | "SemhRound" => crate::graphql::semh::load_node(c, &kind, uuid).await,
        "SpaceToTalkRun" | "SpaceToTalkBooking" => crate::graphql::space_to_talk::load_node(c, &kind, uuid).await,
        other => crate::graphql::time::load_node(c, other, uuid).await,
    };
    match found {
        Ok(node) => Ok(Some(node)),
        Err(DomainError::NotFound | DomainError::Forbidden | DomainError::Invalid(_)) => Ok(None),
        Err(e) => Err(crate::graphql::errors::to_graphql(e, &c.request_id)),
    }
}

async fn membership_node(c: &RequestContext, id: MembershipId) -> Result<Node, DomainError> {
    let caller = c.caller.as_ref().ok_or(DomainError::Unauthenticated)?;
    people::membership(c.db(), caller, id)
        .await
        .map(|m| Node::Membership(Membership(m)))
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; null when it does not exist or is not visible.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        load_node(context::of(ctx)?, &id).await
    }

    /// Several objects by global id (at most 100), in the order asked; null where not found.
    #[graphql(complexity = "ids.len().max(1) * child_complexity")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        let c = context::of(ctx)?;
        if ids.len() > domain::page::MAX_PAGE as usize {
            return Err(crate::graphql::errors::to_graphql(
                DomainError::invalid("ids", domain::FieldErrorCode::OutOfRange, "at most 100 ids at once"),
                &c.request_id,
            ));
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(load_node(c, id).await?);
        }
        Ok(out)
    }
}
