//! Sessions, their types, places and feedback as their readers may see them.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::entities::reflective_session_type as session_type;
use domain::reflective::{self, RegistrationView, SessionView, feedback, history, types};

use super::enums::{PlaceStatus, ReflectiveCharging, ReflectiveFormat, ReflectiveRole, ReflectiveStatus};
use crate::graphql::context;
use crate::graphql::enums::BookingMode;
use crate::graphql::errors::OrGraphql;
use crate::graphql::ids;
use crate::graphql::loaders;
use crate::graphql::scalars::Date;
use crate::graphql::tenancy::{Person, School};

/// One timed stage of a session.
#[derive(SimpleObject)]
pub struct ReflectivePhase {
    pub name: String,
    pub minutes: i32,
}

/// A kind of session the service runs, with its usual length, places and phases.
pub struct ReflectiveSessionType(pub session_type::Model);

#[Object]
impl ReflectiveSessionType {
    async fn id(&self) -> ID {
        ids::encode("ReflectiveSessionType", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn format(&self) -> ReflectiveFormat {
        self.0.format.into()
    }
    async fn default_minutes(&self) -> i32 {
        self.0.default_minutes
    }
    async fn default_capacity(&self) -> i32 {
        self.0.default_capacity
    }
    async fn phases(&self) -> Vec<ReflectivePhase> {
        types::phases_of(&self.0)
            .into_iter()
            .map(|p| ReflectivePhase {
                name: p.name,
                minutes: p.minutes,
            })
            .collect()
    }
}

/// A reflective session. Staff of its schools see it and their own place; SENCOs and leaders
/// their school's places; the facilitating EP and administrators all of it; partner clients with
/// `bookings:read` its times and free places only (other fields are null).
pub struct ReflectiveSession(pub Box<SessionView>);

impl ReflectiveSession {
    fn full<T>(&self, v: T) -> Option<T> {
        (!self.0.limited).then_some(v)
    }
}

#[Object]
impl ReflectiveSession {
    pub async fn id(&self) -> ID {
        ids::encode("ReflectiveSession", self.0.row.id)
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.row.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.row.ends_at
    }
    async fn capacity(&self) -> i32 {
        self.0.row.capacity
    }
    async fn free_places(&self) -> i64 {
        self.0.free_places()
    }
    async fn status(&self) -> ReflectiveStatus {
        self.0.row.status.into()
    }
    async fn registered_count(&self) -> Option<i64> {
        self.full(self.0.registered)
    }
    async fn waiting_count(&self) -> Option<i64> {
        self.full(self.0.waiting)
    }
    async fn session_type(&self) -> Option<ReflectiveSessionType> {
        self.full(())
            .and(self.0.session_type.clone())
            .map(ReflectiveSessionType)
    }
    async fn mode(&self) -> Option<BookingMode> {
        self.full(self.0.row.mode.into())
    }
    async fn location(&self) -> Option<&str> {
        self.full(()).and(self.0.row.location.as_deref())
    }
    /// Whether it is for a cluster of schools rather than one.
    async fn cluster(&self) -> Option<bool> {
        self.full(self.0.row.school_id.is_none())
    }
    async fn school_ids(&self) -> Vec<ID> {
        if self.0.limited {
            return Vec::new();
        }
        self.0.schools.iter().map(|s| ids::encode("School", *s)).collect()
    }
    /// The schools it is open to (asked for together: one batch for a whole page of sessions,
    /// however many schools each has).
    async fn schools(&self, ctx: &Context<'_>) -> Result<Vec<School>> {
        if self.0.limited {
            return Ok(Vec::new());
        }
        let found =
            futures_util::future::try_join_all(self.0.schools.iter().map(|s| loaders::school(ctx, Some(*s)))).await?;
        Ok(found.into_iter().flatten().map(School).collect())
    }
    async fn facilitator(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        if self.0.limited {
            return Ok(None);
        }
        Ok(loaders::person(ctx, Some(self.0.row.facilitator_id)).await?.map(Person))
    }
    async fn co_facilitator(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        if self.0.limited {
            return Ok(None);
        }
        Ok(loaders::person(ctx, self.0.row.co_facilitator_id).await?.map(Person))
    }
    async fn charging(&self) -> Option<ReflectiveCharging> {
        self.full(self.0.row.charging.into())
    }
    async fn charged_school_id(&self) -> Option<ID> {
        self.full(())
            .and(self.0.row.charged_school_id)
            .map(|s| ids::encode("School", s))
    }
    /// The facilitator's booking of EP time.
    async fn booking_id(&self) -> Option<ID> {
        self.full(())
            .and(self.0.row.booking_id)
            .map(|b| ids::encode("Booking", b))
    }
    /// The places the reader may see, in the order they were taken.
    async fn registrations(&self) -> Vec<ReflectiveRegistration> {
        self.0
            .registrations
            .iter()
            .cloned()
            .map(ReflectiveRegistration::of)
            .collect()
    }
}

/// A place on a session (or on its waiting list), with the participant's role.
pub struct ReflectiveRegistration(pub RegistrationView, pub Option<Box<SessionView>>);

impl ReflectiveRegistration {
    /// A place whose session is read when asked for.
    pub fn of(v: RegistrationView) -> Self {
        Self(v, None)
    }
}

#[Object]
impl ReflectiveRegistration {
    async fn id(&self) -> ID {
        ids::encode("ReflectiveRegistration", self.0.row.id)
    }
    async fn session_id(&self) -> ID {
        ids::encode("ReflectiveSession", self.0.row.session_id)
    }
    /// The session (read with the whole page's, in a list of places).
    async fn session(&self, ctx: &Context<'_>) -> Result<Option<ReflectiveSession>> {
        if let Some(s) = &self.1 {
            return Ok(Some(ReflectiveSession(s.clone())));
        }
        let c = context::of(ctx)?;
        match reflective::get(c.db(), c.caller()?, self.0.row.session_id).await {
            Ok(v) => Ok(Some(ReflectiveSession(Box::new(v)))),
            Err(domain::DomainError::NotFound) => Ok(None),
            Err(e) => Err(e).or_gql(c),
        }
    }
    async fn school_id(&self) -> ID {
        ids::encode("School", self.0.row.school_id)
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(loaders::person(ctx, Some(self.0.row.person_id)).await?.map(Person))
    }
    async fn person_id(&self) -> ID {
        ids::encode("Person", self.0.row.person_id)
    }
    async fn status(&self) -> PlaceStatus {
        self.0.row.status.into()
    }
    /// The order on the waiting list (1 first), while waiting.
    async fn waiting_position(&self) -> Option<i32> {
        self.0.row.waiting_position
    }
    async fn role(&self) -> Option<ReflectiveRole> {
        self.0.row.role.map(Into::into)
    }
    /// Whether they attended, once the session is held.
    async fn attended(&self) -> Option<bool> {
        self.0.row.attended
    }
    /// The presenter's next step: for the presenter and the facilitator only.
    async fn next_step(&self) -> Option<&str> {
        if self.0.shows_next_step {
            self.0.row.next_step.as_deref()
        } else {
            None
        }
    }
    async fn feedback_given(&self) -> bool {
        self.0.row.feedback_given
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
}

/// Anonymous feedback on one session type.
pub struct ReflectiveFeedbackSummary(pub feedback::TypeSummary);

#[Object]
impl ReflectiveFeedbackSummary {
    async fn session_type(&self) -> ReflectiveSessionType {
        ReflectiveSessionType(self.0.session_type.clone())
    }
    async fn responses(&self) -> i64 {
        self.0.responses
    }
    async fn average_rating(&self) -> Option<f64> {
        self.0.average
    }
    /// How many gave each rating, from 1 to 5.
    async fn ratings(&self) -> Vec<i64> {
        self.0.ratings.to_vec()
    }
    async fn comments(&self) -> &[String] {
        &self.0.comments
    }
}

/// How often someone took a role.
#[derive(SimpleObject)]
pub struct ReflectiveRoleCount {
    pub role: ReflectiveRole,
    pub count: i64,
}

/// One person's part in a school's held sessions (for rotating roles fairly).
pub struct ReflectivePersonRoles(pub history::PersonRoles);

#[Object]
impl ReflectivePersonRoles {
    async fn person_id(&self) -> ID {
        ids::encode("Person", self.0.person_id)
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(loaders::person(ctx, Some(self.0.person_id)).await?.map(Person))
    }
    /// Held sessions they had a place on.
    async fn sessions(&self) -> i64 {
        self.0.sessions
    }
    async fn attended(&self) -> i64 {
        self.0.attended
    }
    async fn presented(&self) -> i64 {
        self.0.presented
    }
    async fn last_presented_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_presented_at
    }
    async fn roles(&self) -> Vec<ReflectiveRoleCount> {
        self.0
            .roles
            .iter()
            .map(|(r, n)| ReflectiveRoleCount {
                role: (*r).into(),
                count: *n,
            })
            .collect()
    }
}

/// A school's participation in reflective sessions in one term.
pub struct ReflectiveSchoolTerm(pub history::SchoolTerm);

#[Object]
impl ReflectiveSchoolTerm {
    async fn school_id(&self) -> ID {
        ids::encode("School", self.0.school_id)
    }
    async fn term(&self) -> &str {
        &self.0.term.name
    }
    async fn starts_on(&self) -> Date {
        Date(self.0.term.range.starts_on)
    }
    async fn ends_on(&self) -> Date {
        Date(self.0.term.range.ends_on)
    }
    /// Sessions open to the school in the term (cancelled ones aside).
    async fn sessions(&self) -> i64 {
        self.0.sessions
    }
    async fn held(&self) -> i64 {
        self.0.held
    }
    /// Places the school's people took.
    async fn places(&self) -> i64 {
        self.0.places
    }
    async fn waiting(&self) -> i64 {
        self.0.waiting
    }
    async fn attended(&self) -> i64 {
        self.0.attended
    }
    /// People of the school who presented.
    async fn presenters(&self) -> i64 {
        self.0.presenters
    }
}
