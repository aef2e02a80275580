//! The audit log.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use domain::entities::audit_event;
use domain::{DomainError, audit};

use crate::graphql::context;
use crate::graphql::enums::ActorKind;
use crate::graphql::errors::OrGraphql;
use crate::graphql::ids;
use crate::graphql::page::{self, Conn};

/// One entry of the audit log.
pub struct AuditEvent(pub audit_event::Model);

#[Object]
impl AuditEvent {
    pub async fn id(&self) -> ID {
        ids::encode("AuditEvent", self.0.id)
    }
    /// What was done, as `area.verb`, e.g. `school.create`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn object_type(&self) -> Option<&str> {
        self.0.object_type.as_deref()
    }
    /// The global id of the object acted on.
    async fn object_id(&self) -> Option<ID> {
        match (&self.0.object_type, self.0.object_id) {
            (Some(t), Some(id)) => Some(ids::encode(t, id)),
            _ => None,
        }
    }
    async fn actor_kind(&self) -> ActorKind {
        self.0.actor_kind.into()
    }
    async fn actor_person_id(&self) -> Option<ID> {
        self.0.actor_person_id.map(|p| ids::encode("Person", p))
    }
    /// The partner client that acted, or on whose behalf.
    async fn partner_client_id(&self) -> Option<ID> {
        self.0.partner_client_id.map(|p| ids::encode("PartnerClient", p))
    }
    async fn school_id(&self) -> Option<ID> {
        self.0.school_id.map(|s| ids::encode("School", s))
    }
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// Further facts as JSON (global ids, changed field names; never personal data).
    async fn detail(&self) -> Option<String> {
        self.0.detail.as_deref().map(global_ids)
    }
}

/// The type of object an id in an audit entry's detail names, by its key.
fn kind_of_key(key: &str) -> Option<&'static str> {
    match key {
        "epId" | "personId" => Some("Person"),
        "newBookingId" | "bookingId" => Some("Booking"),
        "topUpId" => Some("TopUp"),
        "schoolId" => Some("School"),
        "seriesId" => Some("VisitSeries"),
        _ => None,
    }
}

/// A detail's raw ids as the API's global ids, so that a client can look them up with
/// `node(id:)` (the log keeps what it was written with).
fn global_ids(detail: &str) -> String {
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str::<serde_json::Value>(detail) else {
        return detail.to_owned();
    };
    for (key, value) in map.iter_mut() {
        if let (Some(kind), Some(raw)) = (kind_of_key(key), value.as_str())
            && let Ok(uuid) = raw.parse::<uuid::Uuid>()
        {
            *value = serde_json::Value::String(ids::encode(kind, uuid).0);
        }
    }
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn detail_ids_become_global_ids() {
        let uuid = uuid::Uuid::now_v7();
        let out = super::global_ids(&format!(r#"{{"epId":"{uuid}","minutes":30}}"#));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["epId"], crate::graphql::ids::encode("Person", uuid).0.as_str());
        assert_eq!(v["minutes"], 30);
        assert_eq!(super::global_ids("not json"), "not json");
    }
}

#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// `area.verb`, e.g. `booking.cancel`.
    pub action: Option<String>,
    pub object_id: Option<ID>,
    pub actor_person_id: Option<ID>,
    pub school_id: Option<ID>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// A service's audit log, newest first (administrators).
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // each is a GraphQL argument: the service, a filter and paging
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<AuditEvent>> {
        let c = context::of(ctx)?;
        let service = ids::expect("serviceId", "Service", &service_id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let f = filter.unwrap_or_default();
        let filter = audit::Filter {
            action: f.action,
            object_id: f
                .object_id
                .as_ref()
                .map(|id| ids::any_kind("filter.objectId", id))
                .transpose()
                .or_gql(c)?,
            actor_person_id: ids::expect_opt("filter.actorPersonId", "Person", f.actor_person_id.as_ref()).or_gql(c)?,
            school_id: ids::expect_opt("filter.schoolId", "School", f.school_id.as_ref()).or_gql(c)?,
            from: f.from,
            to: f.to,
        };
        let rows = audit::list(
            c.db(),
            c.caller()?,
            service,
            filter,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, AuditEvent))
    }
}
