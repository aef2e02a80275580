//! What staff, SENCOs, EPs and administrators read: the service's session types, a session,
//! upcoming sessions with free places, one's own places, and the feedback summary.

use std::collections::{BTreeSet, HashMap};

use async_graphql::{Context, ID, Object, Result};

use domain::ids::{PersonId, ReflectiveSessionId, SchoolId, ServiceId};
use domain::reflective::{self, SessionView, feedback, history, types};

use super::enums::ReflectiveCharging;
use super::objects::{
    ReflectiveFeedbackSummary, ReflectivePersonRoles, ReflectiveRegistration, ReflectiveSchoolTerm, ReflectiveSession,
    ReflectiveSessionType,
};
use crate::graphql::context;
use crate::graphql::errors::OrGraphql;
use crate::graphql::ids;
use crate::graphql::page::{self, Conn};
use crate::graphql::scalars::Date;

#[derive(Default)]
pub struct ReflectiveQueries;

#[Object]
impl ReflectiveQueries {
    /// The service's session types (a service without any starts with the usual four).
    async fn reflective_session_types(&self, ctx: &Context<'_>, service_id: ID) -> Result<Vec<ReflectiveSessionType>> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id).or_gql(c)?;
        Ok(types::list(c.db(), c.caller()?, service)
            .await
            .or_gql(c)?
            .into_iter()
            .map(ReflectiveSessionType)
            .collect())
    }

    /// How the service charges a session unless the session says otherwise.
    async fn reflective_default_charging(&self, ctx: &Context<'_>, service_id: ID) -> Result<ReflectiveCharging> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id).or_gql(c)?;
        Ok(types::charging(c.db(), c.caller()?, service).await.or_gql(c)?.into())
    }

    async fn reflective_session(&self, ctx: &Context<'_>, id: ID) -> Result<ReflectiveSession> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "ReflectiveSession", &id)
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        reflective::get(c.db(), c.caller()?, id)
            .await
            .map(|v| ReflectiveSession(Box::new(v)))
            .or_gql(c)
    }

    /// Scheduled sessions still to come that the caller can see, soonest first: those open to
    /// `schoolId` if given, and only those with free places unless `withFreePlaces` is false.
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments, reason = "a connection's arguments and the list's own")]
    async fn upcoming_reflective_sessions(
        &self,
        ctx: &Context<'_>,
        school_id: Option<ID>,
        #[graphql(default = true)] with_free_places: bool,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<ReflectiveSession>> {
        let c = context::of(ctx)?;
        let school: Option<SchoolId> = ids::expect_opt("schoolId", "School", school_id.as_ref()).or_gql(c)?;
        let rows = reflective::upcoming(
            c.db(),
            c.caller()?,
            school,
            with_free_places,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, |v| ReflectiveSession(Box::new(v))))
    }

    /// The caller's own places, newest first, cancelled ones included (each with its session,
    /// read for the whole page at once).
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    async fn my_reflective_registrations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<ReflectiveRegistration>> {
        let c = context::of(ctx)?;
        let rows = reflective::my_registrations(c.db(), c.caller()?, &page::request(ctx, first, after, last, before))
            .await
            .or_gql(c)?;
        with_sessions(ctx, rows).await
    }

    /// A person's places as the caller may see them: a SENCO or leader those at their school,
    /// the facilitating EP those on their sessions, administrators all (none out of reach).
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    async fn reflective_registrations(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<ReflectiveRegistration>> {
        let c = context::of(ctx)?;
        let person: PersonId = ids::expect("personId", "Person", &person_id).or_gql(c)?;
        let rows = reflective::registrations_of(
            c.db(),
            c.caller()?,
            person,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        with_sessions(ctx, rows).await
    }

    /// Who from a school has taken part in its held sessions and in which roles, those who have
    /// presented least (and longest ago) first, so roles can rotate fairly. For the school's
    /// SENCO and leaders, the facilitating EPs and administrators.
    async fn reflective_roles(
        &self,
        ctx: &Context<'_>,
        school_id: ID,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<Vec<ReflectivePersonRoles>> {
        let c = context::of(ctx)?;
        let school: SchoolId = ids::expect("schoolId", "School", &school_id)
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        Ok(
            history::roles(c.db(), c.caller()?, school, from.map(|d| d.0), to.map(|d| d.0))
                .await
                .or_gql(c)?
                .into_iter()
                .map(ReflectivePersonRoles)
                .collect(),
        )
    }

    /// A school's participation per term of the service's calendar between two dates.
    async fn reflective_participation(
        &self,
        ctx: &Context<'_>,
        school_id: ID,
        from: Date,
        to: Date,
    ) -> Result<Vec<ReflectiveSchoolTerm>> {
        let c = context::of(ctx)?;
        let school: SchoolId = ids::expect("schoolId", "School", &school_id)
            .map_err(|_| domain::DomainError::NotFound)
            .or_gql(c)?;
        Ok(history::participation(c.db(), c.caller()?, school, from.0, to.0)
            .await
            .or_gql(c)?
            .into_iter()
            .map(ReflectiveSchoolTerm)
            .collect())
    }

    /// Anonymous feedback per session type: administrators see all; an EP their own sessions'.
    async fn reflective_feedback_summary(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
    ) -> Result<Vec<ReflectiveFeedbackSummary>> {
        let c = context::of(ctx)?;
        let service: ServiceId = ids::expect("serviceId", "Service", &service_id).or_gql(c)?;
        Ok(feedback::summary(c.db(), c.caller()?, service)
            .await
            .or_gql(c)?
            .into_iter()
            .map(ReflectiveFeedbackSummary)
            .collect())
    }
}

/// A page of places as a connection, each with its session when the query asks for it (the
/// whole page's sessions read at once).
async fn with_sessions(
    ctx: &Context<'_>,
    rows: domain::page::Page<reflective::RegistrationView>,
) -> Result<Conn<ReflectiveRegistration>> {
    let c = context::of(ctx)?;
    let look = ctx.look_ahead();
    let wants_session =
        look.field("edges").field("node").field("session").exists() || look.field("nodes").field("session").exists();
    let mut sessions: HashMap<ReflectiveSessionId, Box<SessionView>> = HashMap::new();
    if wants_session {
        let ids: BTreeSet<ReflectiveSessionId> = rows.items.iter().map(|(_, r)| r.row.session_id).collect();
        for v in reflective::sessions_of(c.db(), c.caller()?, ids.into_iter().collect())
            .await
            .or_gql(c)?
        {
            sessions.insert(v.row.id, Box::new(v));
        }
    }
    Ok(page::connection(rows, |r| {
        let s = sessions.get(&r.row.session_id).cloned();
        ReflectiveRegistration(r, s)
    }))
}
