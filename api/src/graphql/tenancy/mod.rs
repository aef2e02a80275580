//! Services, schools, people, memberships, partner clients, the audit log, and the `Node`
//! interface over every object with a global id.

use async_graphql::{Context, ID, InputObject, Interface, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::access::Actor;
use domain::entities::{audit_event, membership, person, school, service};
use domain::ids::{AuditEventId, MembershipId, PartnerClientId, PersonId, SchoolId, ServiceId};
use domain::tenancy::{partners, people, schools, services};
use domain::{DomainError, audit};

use super::context::{self, Context as RequestContext};
use super::enums::{self, ActorKind, PartnerClientStatus, PartnerScope, PersonStatus, Phase, Role, SchoolStatus};
use super::errors::{OrGraphql, payload_of};
use super::ids;
use super::loaders;
use super::page::{self, Conn};
use super::time::{
    AcademicYear, Booking, CalendarException, Closure, Contract, LedgerEntry, TimeSettings, TimeUnit, WorkingPattern,
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
}

/// A local educational psychology service: the tenant everything else belongs to.
pub struct Service(pub service::Model);

#[Object]
impl Service {
    pub async fn id(&self) -> ID {
        ids::encode("Service", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The IANA time zone the service plans in, e.g. `Europe/London`.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The cancellation and overbooking policies and other time settings.
    async fn time_settings(&self, ctx: &Context<'_>) -> Result<TimeSettings> {
        let c = context::of(ctx)?;
        domain::time::settings::get(c.db(), c.caller()?, self.0.id)
            .await
            .map(TimeSettings)
            .or_gql(c)
    }
    /// The units of time the service sells (a day, a session, an hour...).
    async fn units(&self, ctx: &Context<'_>) -> Result<Vec<TimeUnit>> {
        let c = context::of(ctx)?;
        let rows = domain::time::settings::units(c.db(), c.caller()?, self.0.id)
            .await
            .or_gql(c)?;
        Ok(rows.into_iter().map(TimeUnit).collect())
    }
    /// Academic years with their terms and half-terms.
    async fn academic_years(&self, ctx: &Context<'_>) -> Result<Vec<AcademicYear>> {
        let c = context::of(ctx)?;
        let rows = domain::time::settings::academic_years(c.db(), c.caller()?, self.0.id)
            .await
            .or_gql(c)?;
        Ok(rows.into_iter().map(AcademicYear).collect())
    }
    /// Bank holidays, service closures and school closures overlapping the dates.
    async fn closures(
        &self,
        ctx: &Context<'_>,
        from: super::scalars::Date,
        to: super::scalars::Date,
    ) -> Result<Vec<Closure>> {
        let c = context::of(ctx)?;
        let range = domain::time::DateRange::new("to", from.0, to.0).or_gql(c)?;
        let rows = domain::time::settings::closures(c.db(), c.caller()?, self.0.id, range)
            .await
            .or_gql(c)?;
        Ok(rows.into_iter().map(Closure).collect())
    }
}

/// A school, academy, special school, PRU or setting the service works with.
pub struct School(pub school::Model);

#[Object]
impl School {
    pub async fn id(&self) -> ID {
        ids::encode("School", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The six-digit Unique Reference Number.
    async fn urn(&self) -> &str {
        &self.0.urn
    }
    async fn phase(&self) -> Phase {
        self.0.phase.into()
    }
    async fn status(&self) -> SchoolStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
    async fn service(&self, ctx: &Context<'_>) -> Result<Option<Service>> {
        Ok(loaders::service(ctx, Some(self.0.service_id)).await?.map(Service))
    }
    /// The school's contracts, newest first.
    #[graphql(complexity = "super::page_cost(first, last, child_complexity)")]
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Contract>> {
        let c = context::of(ctx)?;
        let filter = domain::time::contracts::Filter {
            school_id: Some(self.0.id),
            ..Default::default()
        };
        let rows =
            domain::time::contracts::list(c.db(), c.caller()?, filter, &page::request(first, after, last, before))
                .await
                .or_gql(c)?;
        Ok(page::connection(rows, Contract))
    }
}

/// Someone who signs in: an EP, an administrator, a SENCO, a school leader, a member of staff.
pub struct Person(pub person::Model);

#[Object]
impl Person {
    pub async fn id(&self) -> ID {
        ids::encode("Person", self.0.id)
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn status(&self) -> PersonStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_sign_in_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_sign_in_at
    }
    /// Roles this person holds, where the caller can see them.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let c = context::of(ctx)?;
        let rows = people::memberships_of(c.db(), c.caller()?, self.0.id).await.or_gql(c)?;
        Ok(rows.into_iter().map(Membership).collect())
    }
}

/// A role held by a person in a service, or in one school of it.
pub struct Membership(pub membership::Model);

#[Object]
impl Membership {
    pub async fn id(&self) -> ID {
        ids::encode("Membership", self.0.id)
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn service(&self, ctx: &Context<'_>) -> Result<Option<Service>> {
        Ok(loaders::service(ctx, Some(self.0.service_id)).await?.map(Service))
    }
    /// The school, for a school role.
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        Ok(loaders::school(ctx, self.0.school_id).await?.map(School))
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(loaders::person(ctx, Some(self.0.person_id)).await?.map(Person))
    }
}

/// A partner front-end that calls the API with its own credentials.
pub struct PartnerClient(pub partners::PartnerClient);

#[Object]
impl PartnerClient {
    pub async fn id(&self) -> ID {
        ids::encode("PartnerClient", self.0.row.id)
    }
    async fn name(&self) -> &str {
        &self.0.row.name
    }
    /// The client id to use with `/oauth/token`.
    async fn client_id(&self) -> &str {
        &self.0.row.client_id
    }
    async fn scopes(&self) -> Vec<PartnerScope> {
        self.0.scopes().into_iter().map(Into::into).collect()
    }
    /// The schools the client is limited to; null when it may see all of the service's.
    async fn school_ids(&self) -> Option<Vec<ID>> {
        self.0
            .schools
            .as_ref()
            .map(|s| s.iter().map(|id| ids::encode("School", *id)).collect())
    }
    async fn status(&self) -> PartnerClientStatus {
        self.0.row.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
    async fn secret_rotated_at(&self) -> DateTime<Utc> {
        self.0.row.secret_rotated_at
    }
}

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
    /// Further facts as JSON (ids, changed field names; never personal data).
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
}

/// Who is asking.
pub struct Viewer;

#[Object]
impl Viewer {
    /// The signed-in person (null for a partner client).
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        match caller.principal.actor {
            Actor::Person(id) => Ok(Some(Person(people::get(c.db(), caller, id).await.or_gql(c)?))),
            Actor::PartnerClient(_) => Ok(None),
        }
    }
    /// The calling partner client (null for a person).
    async fn partner_client(&self, ctx: &Context<'_>) -> Result<Option<PartnerClient>> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        match caller.principal.actor {
            Actor::PartnerClient(id) => Ok(Some(PartnerClient(partners::get(c.db(), caller, id).await.or_gql(c)?))),
            Actor::Person(_) => Ok(None),
        }
    }
    /// The signed-in person's roles.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        match caller.principal.actor {
            Actor::Person(id) => Ok(people::memberships_of(c.db(), caller, id)
                .await
                .or_gql(c)?
                .into_iter()
                .map(Membership)
                .collect()),
            Actor::PartnerClient(_) => Ok(Vec::new()),
        }
    }
    /// The services the caller belongs to.
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<Service>> {
        let c = context::of(ctx)?;
        Ok(services::mine(c.db(), c.caller()?)
            .await
            .or_gql(c)?
            .into_iter()
            .map(Service)
            .collect())
    }
}

#[derive(InputObject, Default)]
pub struct SchoolFilter {
    pub service_id: Option<ID>,
    pub phases: Option<Vec<Phase>>,
    pub statuses: Option<Vec<SchoolStatus>>,
    /// Part of the name, any case.
    pub name: Option<String>,
}

#[derive(InputObject, Default)]
pub struct PeopleFilter {
    pub service_id: Option<ID>,
    pub school_id: Option<ID>,
    pub role: Option<Role>,
    /// Part of the display name, any case.
    pub name: Option<String>,
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
pub struct TenancyQuery;

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
        other => super::time::load_node(c, other, uuid).await,
    };
    match found {
        Ok(node) => Ok(Some(node)),
        Err(DomainError::NotFound | DomainError::Forbidden | DomainError::Invalid(_)) => Ok(None),
        Err(e) => Err(super::errors::to_graphql(e, &c.request_id)),
    }
}

async fn membership_node(c: &RequestContext, id: MembershipId) -> Result<Node, DomainError> {
    let caller = c.caller.as_ref().ok_or(DomainError::Unauthenticated)?;
    people::membership(c.db(), caller, id)
        .await
        .map(|m| Node::Membership(Membership(m)))
}

#[Object]
impl TenancyQuery {
    /// Who is asking: the person or partner client, their roles and services.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        context::of(ctx)?.caller()?;
        Ok(Viewer)
    }

    /// Any object by its global id; null when it does not exist or is not visible.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        load_node(context::of(ctx)?, &id).await
    }

    /// Several objects by global id (at most 100), in the order asked; null where not found.
    #[graphql(complexity = "ids.len().max(1) * child_complexity")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        let c = context::of(ctx)?;
        if ids.len() > domain::page::MAX_PAGE as usize {
            return Err(super::errors::to_graphql(
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

    /// A service the caller belongs to.
    async fn service(&self, ctx: &Context<'_>, id: ID) -> Result<Service> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "Service", &id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        services::get(c.db(), c.caller()?, id).await.map(Service).or_gql(c)
    }

    /// Schools the caller can see, by name.
    #[graphql(complexity = "super::page_cost(first, last, child_complexity)")]
    async fn schools(
        &self,
        ctx: &Context<'_>,
        filter: Option<SchoolFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<School>> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let f = filter.unwrap_or_default();
        let filter = schools::Filter {
            service_id: ids::expect_opt("filter.serviceId", "Service", f.service_id.as_ref()).or_gql(c)?,
            phases: f.phases.map(|p| enums::all(&p)),
            statuses: f.statuses.map(|s| enums::all(&s)),
            name: f.name,
        };
        let rows = schools::list(c.db(), caller, filter, &page::request(first, after, last, before))
            .await
            .or_gql(c)?;
        Ok(page::connection(rows, School))
    }

    /// One school the caller can see.
    async fn school(&self, ctx: &Context<'_>, id: ID) -> Result<School> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "School", &id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        schools::get(c.db(), c.caller()?, id).await.map(School).or_gql(c)
    }

    /// People the caller can see, by name.
    #[graphql(complexity = "super::page_cost(first, last, child_complexity)")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        filter: Option<PeopleFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Person>> {
        let c = context::of(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = people::Filter {
            service_id: ids::expect_opt("filter.serviceId", "Service", f.service_id.as_ref()).or_gql(c)?,
            school_id: ids::expect_opt("filter.schoolId", "School", f.school_id.as_ref()).or_gql(c)?,
            role: f.role.map(Into::into),
            name: f.name,
        };
        let rows = people::list(c.db(), c.caller()?, filter, &page::request(first, after, last, before))
            .await
            .or_gql(c)?;
        Ok(page::connection(rows, Person))
    }

    /// A service's partner clients (administrators).
    #[graphql(complexity = "super::page_cost(first, last, child_complexity)")]
    async fn partner_clients(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<PartnerClient>> {
        let c = context::of(ctx)?;
        let service = ids::expect("serviceId", "Service", &service_id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let rows = partners::list(c.db(), c.caller()?, service, &page::request(first, after, last, before))
            .await
            .or_gql(c)?;
        Ok(page::connection(rows, PartnerClient))
    }

    /// A service's audit log, newest first (administrators).
    #[graphql(complexity = "super::page_cost(first, last, child_complexity)")]
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
            &page::request(first, after, last, before),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, AuditEvent))
    }
}

// ---- mutations ----

#[derive(InputObject)]
pub struct CreateSchoolInput {
    pub service_id: ID,
    pub name: String,
    /// Six digits.
    pub urn: String,
    pub phase: Phase,
}

#[derive(InputObject)]
pub struct UpdateSchoolInput {
    pub id: ID,
    pub name: Option<String>,
    pub urn: Option<String>,
    pub phase: Option<Phase>,
    /// OPEN or CLOSED (use archiveSchool to archive).
    pub status: Option<SchoolStatus>,
}

#[derive(InputObject)]
pub struct ArchiveSchoolInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct UpdateServiceInput {
    pub id: ID,
    pub name: Option<String>,
    /// An IANA time zone, e.g. `Europe/London`.
    pub time_zone: Option<String>,
}

#[derive(InputObject)]
pub struct InvitePersonInput {
    pub service_id: ID,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Required for school roles (SENCO, SCHOOL_LEADER, SCHOOL_STAFF).
    pub school_id: Option<ID>,
}

#[derive(InputObject)]
pub struct GrantMembershipInput {
    pub person_id: ID,
    pub service_id: ID,
    pub role: Role,
    pub school_id: Option<ID>,
}

#[derive(InputObject)]
pub struct RevokeMembershipInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct SetPersonDisabledInput {
    pub service_id: ID,
    pub person_id: ID,
    /// True disables the account (ending every session); false enables it again.
    pub disabled: bool,
}

#[derive(InputObject)]
pub struct CreatePartnerClientInput {
    pub service_id: ID,
    pub name: String,
    pub scopes: Vec<PartnerScope>,
    /// Limit the client to these schools; leave out for all of the service's.
    pub school_ids: Option<Vec<ID>>,
}

#[derive(InputObject)]
pub struct RotatePartnerClientSecretInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct UpdatePartnerClientInput {
    pub id: ID,
    pub name: Option<String>,
    pub scopes: Option<Vec<PartnerScope>>,
    /// A list limits the client to those schools; null lifts the limit; absent leaves it.
    pub school_ids: MaybeUndefined<Vec<ID>>,
    pub status: Option<PartnerClientStatus>,
}

payload!(CreateSchoolPayload { school: School });
payload!(UpdateSchoolPayload { school: School });
payload!(ArchiveSchoolPayload { school: School });
payload!(UpdateServicePayload { service: Service });
payload!(GrantMembershipPayload { membership: Membership });
payload!(RevokeMembershipPayload { membership: Membership });
payload!(SetPersonDisabledPayload { person: Person });
payload!(UpdatePartnerClientPayload {
    partner_client: PartnerClient
});

/// The result of an invitation.
#[derive(SimpleObject)]
pub struct Invitation {
    pub person: Person,
    pub membership: Membership,
    /// A one-time code for the person to set a password with `acceptInvitation`; shown only
    /// now, and only for someone who has never signed in.
    pub code: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

payload!(InvitePersonPayload { invitation: Invitation });

/// A partner client with its secret, which is shown only now.
#[derive(SimpleObject)]
pub struct PartnerClientCredentials {
    pub partner_client: PartnerClient,
    pub client_id: String,
    /// Store it safely: it cannot be shown again, only rotated.
    pub client_secret: String,
}

payload!(CreatePartnerClientPayload {
    credentials: PartnerClientCredentials
});
payload!(RotatePartnerClientSecretPayload {
    credentials: PartnerClientCredentials
});

fn credentials(issued: partners::Issued) -> PartnerClientCredentials {
    PartnerClientCredentials {
        client_id: issued.client.row.client_id.clone(),
        client_secret: issued.client_secret,
        partner_client: PartnerClient(issued.client),
    }
}

#[derive(Default)]
pub struct TenancyMutation;

#[Object]
impl TenancyMutation {
    async fn create_school(&self, ctx: &Context<'_>, input: CreateSchoolInput) -> Result<CreateSchoolPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = match ids::expect("serviceId", "Service", &input.service_id) {
            Ok(service_id) => {
                schools::create(
                    c.db(),
                    caller,
                    schools::NewSchool {
                        service_id,
                        name: input.name,
                        urn: input.urn,
                        phase: input.phase.into(),
                    },
                )
                .await
            }
            Err(e) => Err(e),
        };
        Ok(payload_of(c, result, School)?.into())
    }

    async fn update_school(&self, ctx: &Context<'_>, input: UpdateSchoolInput) -> Result<UpdateSchoolPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id = ids::expect("id", "School", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let patch = schools::SchoolPatch {
            name: input.name,
            urn: input.urn,
            phase: input.phase.map(Into::into),
            status: input.status.map(Into::into),
        };
        Ok(payload_of(c, schools::update(c.db(), caller, id, patch).await, School)?.into())
    }

    async fn archive_school(&self, ctx: &Context<'_>, input: ArchiveSchoolInput) -> Result<ArchiveSchoolPayload> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "School", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        Ok(payload_of(c, schools::archive(c.db(), c.caller()?, id).await, School)?.into())
    }

    /// Renames the service or changes its time zone (administrators).
    async fn update_service(&self, ctx: &Context<'_>, input: UpdateServiceInput) -> Result<UpdateServicePayload> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "Service", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let patch = services::ServicePatch {
            name: input.name,
            time_zone: input.time_zone,
        };
        Ok(payload_of(c, services::update(c.db(), c.caller()?, id, patch).await, Service)?.into())
    }

    /// Invites someone into the service with a role; new accounts get a one-time code.
    async fn invite_person(&self, ctx: &Context<'_>, input: InvitePersonInput) -> Result<InvitePersonPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let service_id = ids::expect("serviceId", "Service", &input.service_id)?;
            let school_id = ids::expect_opt("schoolId", "School", input.school_id.as_ref())?;
            people::invite(
                c.db(),
                caller,
                people::Invite {
                    service_id,
                    email: input.email,
                    display_name: input.display_name,
                    role: input.role.into(),
                    school_id,
                },
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, |i| Invitation {
            person: Person(i.person),
            membership: Membership(i.membership),
            code: i.invitation_code,
            expires_at: i.invitation_expires_at,
        })?
        .into())
    }

    async fn grant_membership(&self, ctx: &Context<'_>, input: GrantMembershipInput) -> Result<GrantMembershipPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let grant = people::Grant {
                person_id: ids::expect("personId", "Person", &input.person_id)?,
                service_id: ids::expect("serviceId", "Service", &input.service_id)?,
                role: input.role.into(),
                school_id: ids::expect_opt("schoolId", "School", input.school_id.as_ref())?,
            };
            people::grant(c.db(), caller, grant).await
        }
        .await;
        Ok(payload_of(c, result, Membership)?.into())
    }

    async fn revoke_membership(
        &self,
        ctx: &Context<'_>,
        input: RevokeMembershipInput,
    ) -> Result<RevokeMembershipPayload> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "Membership", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        Ok(payload_of(c, people::revoke(c.db(), c.caller()?, id).await, Membership)?.into())
    }

    /// Disables an account (every session ends at once) or enables it again.
    async fn set_person_disabled(
        &self,
        ctx: &Context<'_>,
        input: SetPersonDisabledInput,
    ) -> Result<SetPersonDisabledPayload> {
        let c = context::of(ctx)?;
        let service = ids::expect("serviceId", "Service", &input.service_id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let person = ids::expect("personId", "Person", &input.person_id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        Ok(payload_of(
            c,
            people::set_disabled(c.db(), c.caller()?, service, person, input.disabled).await,
            Person,
        )?
        .into())
    }

    /// Creates a partner client; its secret is in the payload, once.
    async fn create_partner_client(
        &self,
        ctx: &Context<'_>,
        input: CreatePartnerClientInput,
    ) -> Result<CreatePartnerClientPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let client = partners::NewClient {
                service_id: ids::expect("serviceId", "Service", &input.service_id)?,
                name: input.name,
                scopes: enums::all(&input.scopes),
                school_ids: input
                    .school_ids
                    .as_deref()
                    .map(|s| ids::expect_all("schoolIds", "School", s))
                    .transpose()?,
            };
            partners::create(c.db(), caller, client).await
        }
        .await;
        Ok(payload_of(c, result, credentials)?.into())
    }

    /// Issues a new secret; the old one and its tokens stop working at once.
    async fn rotate_partner_client_secret(
        &self,
        ctx: &Context<'_>,
        input: RotatePartnerClientSecretInput,
    ) -> Result<RotatePartnerClientSecretPayload> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "PartnerClient", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        Ok(payload_of(c, partners::rotate_secret(c.db(), c.caller()?, id).await, credentials)?.into())
    }

    async fn update_partner_client(
        &self,
        ctx: &Context<'_>,
        input: UpdatePartnerClientInput,
    ) -> Result<UpdatePartnerClientPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id = ids::expect("id", "PartnerClient", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let result = async {
            let school_ids = match input.school_ids {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(list) => Some(Some(ids::expect_all("schoolIds", "School", &list)?)),
            };
            let patch = partners::ClientPatch {
                name: input.name,
                scopes: input.scopes.map(|s| enums::all(&s)),
                school_ids,
                status: input.status.map(Into::into),
            };
            partners::update(c.db(), caller, id, patch).await
        }
        .await;
        Ok(payload_of(c, result, PartnerClient)?.into())
    }
}
