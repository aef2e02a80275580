//! EP calendars: working patterns and exceptions (leave, training, sickness...).

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::entities::calendar_exception;
use domain::ids::{CalendarExceptionId, PersonId, ServiceId};
use domain::time::{calendar, conflicts};

use super::{Booking, hundredths, not_found_if_bad};
use crate::graphql::context;
use crate::graphql::enums::{ConflictReason, ExceptionKind};
use crate::graphql::errors::{OrGraphql, Outcome, UserError, outcome, payload_of};
use crate::graphql::ids;
use crate::graphql::scalars::{Date, LocalTime};

/// Hours worked on one weekday.
#[derive(SimpleObject, Clone, Copy)]
pub struct WorkingHours {
    /// 1 is Monday, 7 is Sunday.
    pub weekday: i32,
    pub starts_at: LocalTime,
    pub ends_at: LocalTime,
}

/// An EP's working pattern from a date.
pub struct WorkingPattern(pub calendar::Pattern);

#[Object]
impl WorkingPattern {
    pub async fn id(&self) -> ID {
        ids::encode("WorkingPattern", self.0.row.id)
    }
    async fn ep_id(&self) -> ID {
        ids::encode("Person", self.0.row.ep_id)
    }
    async fn effective_from(&self) -> Date {
        Date(self.0.row.effective_from)
    }
    async fn effective_until(&self) -> Option<Date> {
        self.0.row.effective_until.map(Date)
    }
    /// Full-time equivalent, e.g. 0.6.
    async fn fte(&self) -> f64 {
        f64::from(self.0.row.fte_hundredths) / 100.0
    }
    async fn hours(&self) -> Vec<WorkingHours> {
        self.0
            .hours
            .iter()
            .map(|h| WorkingHours {
                weekday: h.weekday as i32,
                starts_at: LocalTime(h.starts_at),
                ends_at: LocalTime(h.ends_at),
            })
            .collect()
    }
}

/// Time an EP is not available.
pub struct CalendarException(pub calendar_exception::Model);

#[Object]
impl CalendarException {
    pub async fn id(&self) -> ID {
        ids::encode("CalendarException", self.0.id)
    }
    async fn ep_id(&self) -> ID {
        ids::encode("Person", self.0.ep_id)
    }
    async fn kind(&self) -> ExceptionKind {
        self.0.kind.into()
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn withdrawn_at(&self) -> Option<DateTime<Utc>> {
        self.0.withdrawn_at
    }
}

/// An EP's calendar over a range: patterns, exceptions and bookings.
#[derive(SimpleObject)]
pub struct EpCalendar {
    pub ep_id: ID,
    pub working_patterns: Vec<WorkingPattern>,
    pub exceptions: Vec<CalendarException>,
    /// The EP's bookings (not cancelled) that meet the range, by time.
    pub bookings: Vec<Booking>,
}

/// A booking that no longer fits its EP's time, with every reason.
#[derive(SimpleObject)]
pub struct BookingConflict {
    pub booking: Booking,
    pub reasons: Vec<ConflictReason>,
}

impl From<conflicts::Conflict> for BookingConflict {
    fn from(c: conflicts::Conflict) -> Self {
        Self {
            booking: Booking(c.booking),
            reasons: c.reasons.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(InputObject)]
pub struct WorkingHoursInput {
    /// 1 is Monday, 7 is Sunday.
    pub weekday: i32,
    pub starts_at: LocalTime,
    pub ends_at: LocalTime,
}

#[derive(InputObject)]
pub struct SetWorkingPatternInput {
    pub service_id: ID,
    pub ep_id: ID,
    pub effective_from: Date,
    /// Full-time equivalent, more than 0 and at most 1.
    pub fte: f64,
    pub hours: Vec<WorkingHoursInput>,
}

#[derive(InputObject)]
pub struct AddCalendarExceptionInput {
    pub service_id: ID,
    pub ep_id: ID,
    pub kind: ExceptionKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// A short note; never health details.
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct WithdrawCalendarExceptionInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct SetWorkingPatternPayload {
    pub working_pattern: Option<WorkingPattern>,
    /// Open bookings from the pattern's first day that now fall outside the EP's working hours:
    /// move or cancel them.
    pub clashes: Vec<BookingConflict>,
    /// What was wrong with the input; empty when the mutation succeeded.
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct AddCalendarExceptionPayload {
    pub exception: Option<CalendarException>,
    /// Open bookings of the EP in the exception's time: move or cancel them.
    pub clashes: Vec<BookingConflict>,
    /// What was wrong with the input; empty when the mutation succeeded.
    pub user_errors: Vec<UserError>,
}

payload!(CalendarExceptionPayload {
    exception: CalendarException
});

/// A calendar change's payload from its outcome.
fn changed<T, G>(
    o: Outcome<calendar::Changed<T>>,
    f: impl FnOnce(T) -> G,
) -> (Option<G>, Vec<BookingConflict>, Vec<UserError>) {
    match o.value {
        Some(v) => (
            Some(f(v.value)),
            v.clashes.into_iter().map(Into::into).collect(),
            o.user_errors,
        ),
        None => (None, Vec::new(), o.user_errors),
    }
}

#[derive(Default)]
pub struct CalendarQuery;

#[Object]
impl CalendarQuery {
    /// An EP's working patterns and exceptions over a range (administrators; EPs their own).
    async fn ep_calendar(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        ep_id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<EpCalendar> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let service: ServiceId = not_found_if_bad(ids::expect("serviceId", "Service", &service_id)).or_gql(c)?;
        let ep: PersonId = not_found_if_bad(ids::expect("epId", "Person", &ep_id)).or_gql(c)?;
        let patterns = calendar::patterns(c.db(), caller, service, ep).await.or_gql(c)?;
        let exceptions = calendar::exceptions(c.db(), caller, service, ep, from, to)
            .await
            .or_gql(c)?;
        let booked = calendar::bookings(c.db(), caller, service, ep, from, to)
            .await
            .or_gql(c)?;
        Ok(EpCalendar {
            ep_id,
            working_patterns: patterns.into_iter().map(WorkingPattern).collect(),
            exceptions: exceptions.into_iter().map(CalendarException).collect(),
            bookings: booked.into_iter().map(Booking).collect(),
        })
    }

    /// Open bookings of a service in a range that no longer fit their EP's time (outside
    /// working hours, in leave, on a closure day, outside term), for those who may see the EP's
    /// calendar: administrators every EP's, an EP their own.
    async fn conflicts(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<BookingConflict>> {
        let c = context::of(ctx)?;
        let service: ServiceId = not_found_if_bad(ids::expect("serviceId", "Service", &service_id)).or_gql(c)?;
        let found = conflicts::list(c.db(), c.caller()?, service, from, to)
            .await
            .or_gql(c)?;
        Ok(found.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct CalendarMutation;

#[Object]
impl CalendarMutation {
    /// Sets an EP's working pattern from a date.
    async fn set_working_pattern(
        &self,
        ctx: &Context<'_>,
        input: SetWorkingPatternInput,
    ) -> Result<SetWorkingPatternPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let pattern = calendar::NewPattern {
                service_id: ids::expect("serviceId", "Service", &input.service_id)?,
                ep_id: ids::expect("epId", "Person", &input.ep_id)?,
                effective_from: input.effective_from.0,
                // Out-of-range numbers become values the domain refuses with its own message.
                fte_hundredths: i32::try_from(hundredths("fte", input.fte)?).unwrap_or(i32::MAX),
                hours: input
                    .hours
                    .iter()
                    .map(|h| calendar::Hours {
                        weekday: u32::try_from(h.weekday).unwrap_or(0),
                        starts_at: h.starts_at.0,
                        ends_at: h.ends_at.0,
                    })
                    .collect(),
            };
            calendar::set_pattern(c.db(), caller, pattern).await
        }
        .await;
        let (working_pattern, clashes, user_errors) = changed(outcome(result, &c.request_id)?, WorkingPattern);
        Ok(SetWorkingPatternPayload {
            working_pattern,
            clashes,
            user_errors,
        })
    }

    /// Records leave, training, sickness or another absence.
    async fn add_calendar_exception(
        &self,
        ctx: &Context<'_>,
        input: AddCalendarExceptionInput,
    ) -> Result<AddCalendarExceptionPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let exception = calendar::NewException {
                service_id: ids::expect("serviceId", "Service", &input.service_id)?,
                ep_id: ids::expect("epId", "Person", &input.ep_id)?,
                kind: input.kind.into(),
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                reason: input.reason,
            };
            calendar::add_exception(c.db(), caller, exception).await
        }
        .await;
        let (exception, clashes, user_errors) = changed(outcome(result, &c.request_id)?, CalendarException);
        Ok(AddCalendarExceptionPayload {
            exception,
            clashes,
            user_errors,
        })
    }

    async fn withdraw_calendar_exception(
        &self,
        ctx: &Context<'_>,
        input: WithdrawCalendarExceptionInput,
    ) -> Result<CalendarExceptionPayload> {
        let c = context::of(ctx)?;
        let id: CalendarExceptionId = not_found_if_bad(ids::expect("id", "CalendarException", &input.id)).or_gql(c)?;
        Ok(payload_of(
            c,
            calendar::withdraw_exception(c.db(), c.caller()?, id).await,
            CalendarException,
        )?
        .into())
    }
}
