//! Session types, the default charging, scheduling, places, roles, the hold and feedback.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::DomainError;
use domain::ids::{ReflectiveRegistrationId, ReflectiveSessionId};
use domain::reflective::{feedback, moves, places, series, sessions, types};

use super::enums::{ReflectiveCadence, ReflectiveCharging, ReflectiveFormat, ReflectiveRole};
use super::objects::{ReflectiveRegistration, ReflectiveSession, ReflectiveSessionType};
use crate::graphql::context;
use crate::graphql::enums::BookingMode;
use crate::graphql::errors::payload_of;
use crate::graphql::ids;
use crate::graphql::scalars::Date;
use crate::graphql::time::SkippedDate;

fn session_id(field: &str, id: &ID) -> Result<ReflectiveSessionId, DomainError> {
    ids::expect(field, "ReflectiveSession", id).map_err(|_| DomainError::NotFound)
}

fn registration_id(id: &ID) -> Result<ReflectiveRegistrationId, DomainError> {
    ids::expect("id", "ReflectiveRegistration", id).map_err(|_| DomainError::NotFound)
}

#[derive(InputObject)]
pub struct PhaseInput {
    pub name: String,
    pub minutes: i32,
}

#[derive(InputObject)]
pub struct CreateReflectiveSessionTypeInput {
    pub service_id: ID,
    pub name: String,
    #[graphql(default_with = "ReflectiveFormat::Other")]
    pub format: ReflectiveFormat,
    pub default_minutes: i32,
    /// 6 to 12.
    pub default_capacity: i32,
    #[graphql(default)]
    pub phases: Vec<PhaseInput>,
}

payload!(CreateReflectiveSessionTypePayload {
    session_type: ReflectiveSessionType
});

#[derive(InputObject)]
pub struct SetReflectiveDefaultChargingInput {
    pub service_id: ID,
    pub charging: ReflectiveCharging,
}

payload!(SetReflectiveDefaultChargingPayload {
    charging: ReflectiveCharging
});

#[derive(InputObject)]
pub struct ScheduleReflectiveSessionInput {
    pub type_id: ID,
    /// One school, or the schools of a cluster.
    pub school_ids: Vec<ID>,
    pub starts_at: DateTime<Utc>,
    /// Default: the type's length.
    pub duration_minutes: Option<i32>,
    #[graphql(default_with = "BookingMode::InPerson")]
    pub mode: BookingMode,
    /// A room or "online": never a child's details.
    pub location: Option<String>,
    /// Default: the caller.
    pub facilitator_id: Option<ID>,
    pub co_facilitator_id: Option<ID>,
    /// 1 to 30 (default: the type's).
    pub capacity: Option<i32>,
    /// Default: the service's.
    pub charging: Option<ReflectiveCharging>,
    /// For ONE_SCHOOL across a cluster (default: the first school).
    pub charged_school_id: Option<ID>,
    /// An administrator's reason for booking inside the minimum notice, or in the past.
    pub short_notice_reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct ReflectiveSessionScheduled {
    pub session: ReflectiveSession,
    /// What the booking of the facilitator's time warned of.
    pub warnings: Vec<String>,
}

payload!(ScheduleReflectiveSessionPayload {
    result: ReflectiveSessionScheduled
});

#[derive(InputObject)]
pub struct ScheduleReflectiveSeriesInput {
    /// The first session; the others follow it in the same week of each half-term (or term), on
    /// the same weekday and at the same time.
    pub first: ScheduleReflectiveSessionInput,
    pub cadence: ReflectiveCadence,
    /// The last day a session may fall on (at most 400 days after the first).
    pub until: Date,
}

#[derive(SimpleObject)]
pub struct ReflectiveSeriesScheduled {
    pub sessions: Vec<ReflectiveSession>,
    /// Closures, holidays and dates the facilitator was not free (the session moved on a week).
    pub skipped: Vec<SkippedDate>,
    pub warnings: Vec<String>,
}

payload!(ScheduleReflectiveSeriesPayload {
    result: ReflectiveSeriesScheduled
});

#[derive(InputObject)]
pub struct ChangeReflectiveSessionInput {
    pub id: ID,
    /// A new start: the facilitators' bookings move with it.
    pub starts_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
    /// A new room, or "online": never a child's details.
    pub location: Option<String>,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct CancelReflectiveSessionInput {
    pub id: ID,
    pub reason: String,
}

payload!(ReflectiveSessionPayload {
    session: ReflectiveSession
});

#[derive(InputObject)]
pub struct RegisterForReflectiveSessionInput {
    pub session_id: ID,
    /// A member of staff a SENCO registers (default: the caller).
    pub person_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct ReflectivePlaceChanged {
    pub registration: ReflectiveRegistration,
    /// The waiting person who got the place given up.
    pub promoted: Option<ReflectiveRegistration>,
    pub session: ReflectiveSession,
}

impl ReflectivePlaceChanged {
    fn of(p: places::PlaceChanged) -> Self {
        Self {
            registration: ReflectiveRegistration::of(p.registration),
            promoted: p.promoted.map(ReflectiveRegistration::of),
            session: ReflectiveSession(Box::new(p.session)),
        }
    }
}

payload!(ReflectivePlacePayload {
    result: ReflectivePlaceChanged
});

#[derive(InputObject)]
pub struct CancelReflectivePlaceInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct AssignReflectiveRoleInput {
    pub id: ID,
    /// None clears the role.
    pub role: Option<ReflectiveRole>,
}

payload!(ReflectiveRegistrationPayload {
    registration: ReflectiveRegistration
});

#[derive(InputObject)]
pub struct HoldReflectiveSessionInput {
    pub id: ID,
    /// The places whose holders attended; the other registered places did not.
    pub attended: Vec<ID>,
    /// Minutes the facilitator spent (default: as booked).
    pub direct_minutes: Option<i32>,
}

#[derive(InputObject)]
pub struct RecordReflectiveNextStepInput {
    pub id: ID,
    /// Short, and nothing that identifies a pupil.
    pub next_step: String,
}

#[derive(InputObject)]
pub struct GiveReflectiveFeedbackInput {
    pub session_id: ID,
    /// 1 to 5.
    pub rating: i32,
    /// Short and optional; nothing that identifies a pupil.
    pub comment: Option<String>,
}

payload!(GiveReflectiveFeedbackPayload { given: bool });

fn new_session(input: ScheduleReflectiveSessionInput) -> Result<sessions::NewSession, DomainError> {
    Ok(sessions::NewSession {
        type_id: ids::expect("typeId", "ReflectiveSessionType", &input.type_id)?,
        school_ids: ids::expect_all("schoolIds", "School", &input.school_ids)?,
        starts_at: input.starts_at,
        duration_minutes: input.duration_minutes,
        mode: input.mode.into(),
        location: input.location,
        facilitator_id: ids::expect_opt("facilitatorId", "Person", input.facilitator_id.as_ref())?,
        co_facilitator_id: ids::expect_opt("coFacilitatorId", "Person", input.co_facilitator_id.as_ref())?,
        capacity: input.capacity,
        charging: input.charging.map(Into::into),
        charged_school_id: ids::expect_opt("chargedSchoolId", "School", input.charged_school_id.as_ref())?,
        short_notice_reason: input.short_notice_reason,
    })
}

#[derive(Default)]
pub struct ReflectiveMutation;

#[Object]
impl ReflectiveMutation {
    /// Adds a session type of the service's own (administrators).
    async fn create_reflective_session_type(
        &self,
        ctx: &Context<'_>,
        input: CreateReflectiveSessionTypeInput,
    ) -> Result<CreateReflectiveSessionTypePayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let service = ids::expect("serviceId", "Service", &input.service_id)?;
            types::create(
                c.db(),
                caller,
                types::NewType {
                    service_id: service,
                    name: input.name,
                    format: input.format.into(),
                    default_minutes: input.default_minutes,
                    default_capacity: input.default_capacity,
                    phases: input
                        .phases
                        .into_iter()
                        .map(|p| types::Phase {
                            name: p.name,
                            minutes: p.minutes,
                        })
                        .collect(),
                },
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, ReflectiveSessionType)?.into())
    }

    /// Sets how the service's sessions are charged unless a session says otherwise.
    async fn set_reflective_default_charging(
        &self,
        ctx: &Context<'_>,
        input: SetReflectiveDefaultChargingInput,
    ) -> Result<SetReflectiveDefaultChargingPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let service = ids::expect("serviceId", "Service", &input.service_id)?;
            types::set_charging(c.db(), caller, service, input.charging.into()).await
        }
        .await;
        Ok(payload_of(c, result, ReflectiveCharging::from)?.into())
    }

    /// Schedules a session for one school or a cluster: the facilitator's time is one booking
    /// of EP time under its rules.
    async fn schedule_reflective_session(
        &self,
        ctx: &Context<'_>,
        input: ScheduleReflectiveSessionInput,
    ) -> Result<ScheduleReflectiveSessionPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async { sessions::schedule(c.db(), caller, new_session(input)?).await }.await;
        Ok(payload_of(c, result, |s| ReflectiveSessionScheduled {
            session: ReflectiveSession(Box::new(s.session)),
            warnings: s.warnings,
        })?
        .into())
    }

    /// Schedules a half-termly or termly series in one go: each session its own booking,
    /// closures and holidays skipped.
    async fn schedule_reflective_series(
        &self,
        ctx: &Context<'_>,
        input: ScheduleReflectiveSeriesInput,
    ) -> Result<ScheduleReflectiveSeriesPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let first = new_session(input.first)?;
            series::schedule_series(
                c.db(),
                caller,
                series::NewSeries {
                    first,
                    cadence: input.cadence.into(),
                    until: input.until.0,
                },
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, |m| ReflectiveSeriesScheduled {
            sessions: m.sessions.into_iter().map(|v| ReflectiveSession(Box::new(v))).collect(),
            skipped: m
                .skipped
                .into_iter()
                .map(|s| SkippedDate {
                    date: Date(s.date),
                    reason: s.reason,
                })
                .collect(),
            warnings: m.warnings,
        })?
        .into())
    }

    /// Changes a scheduled session's time or place; the facilitators' bookings move with it in
    /// the same transaction.
    async fn change_reflective_session(
        &self,
        ctx: &Context<'_>,
        input: ChangeReflectiveSessionInput,
    ) -> Result<ScheduleReflectiveSessionPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = session_id("id", &input.id)?;
            moves::change(
                c.db(),
                caller,
                id,
                moves::SessionChange {
                    starts_at: input.starts_at,
                    duration_minutes: input.duration_minutes,
                    location: input.location.map(Some),
                    reason: input.reason,
                },
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, |s| ReflectiveSessionScheduled {
            session: ReflectiveSession(Box::new(s.session)),
            warnings: s.warnings,
        })?
        .into())
    }

    /// Cancels a session and the facilitator's booking.
    async fn cancel_reflective_session(
        &self,
        ctx: &Context<'_>,
        input: CancelReflectiveSessionInput,
    ) -> Result<ReflectiveSessionPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = session_id("id", &input.id)?;
            sessions::cancel(c.db(), caller, id, &input.reason).await
        }
        .await;
        Ok(payload_of(c, result, |v| ReflectiveSession(Box::new(v)))?.into())
    }

    /// Takes a place (or joins the waiting list) for the caller, or for a member of staff.
    async fn register_for_reflective_session(
        &self,
        ctx: &Context<'_>,
        input: RegisterForReflectiveSessionInput,
    ) -> Result<ReflectivePlacePayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = session_id("sessionId", &input.session_id)?;
            let person = ids::expect_opt("personId", "Person", input.person_id.as_ref())?;
            places::register(c.db(), caller, id, person).await
        }
        .await;
        Ok(payload_of(c, result, ReflectivePlaceChanged::of)?.into())
    }

    /// Gives up a place: the first waiting person gets it at once.
    async fn cancel_reflective_place(
        &self,
        ctx: &Context<'_>,
        input: CancelReflectivePlaceInput,
    ) -> Result<ReflectivePlacePayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async { places::cancel(c.db(), caller, registration_id(&input.id)?).await }.await;
        Ok(payload_of(c, result, ReflectivePlaceChanged::of)?.into())
    }

    /// Assigns a participant's role (the facilitator or an administrator).
    async fn assign_reflective_role(
        &self,
        ctx: &Context<'_>,
        input: AssignReflectiveRoleInput,
    ) -> Result<ReflectiveRegistrationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            places::assign_role(c.db(), caller, registration_id(&input.id)?, input.role.map(Into::into)).await
        }
        .await;
        Ok(payload_of(c, result, ReflectiveRegistration::of)?.into())
    }

    /// Records the session as held: attendance, the booking delivered, the time charged.
    async fn hold_reflective_session(
        &self,
        ctx: &Context<'_>,
        input: HoldReflectiveSessionInput,
    ) -> Result<ReflectiveSessionPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = session_id("id", &input.id)?;
            let attended = ids::expect_all("attended", "ReflectiveRegistration", &input.attended)?;
            sessions::hold(c.db(), caller, id, attended, input.direct_minutes).await
        }
        .await;
        Ok(payload_of(c, result, |v| ReflectiveSession(Box::new(v)))?.into())
    }

    /// Records the presenter's next step (the presenter or the facilitator).
    async fn record_reflective_next_step(
        &self,
        ctx: &Context<'_>,
        input: RecordReflectiveNextStepInput,
    ) -> Result<ReflectiveRegistrationPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result =
            async { places::record_next_step(c.db(), caller, registration_id(&input.id)?, &input.next_step).await }
                .await;
        Ok(payload_of(c, result, ReflectiveRegistration::of)?.into())
    }

    /// Gives anonymous feedback on a session one attended, once.
    async fn give_reflective_feedback(
        &self,
        ctx: &Context<'_>,
        input: GiveReflectiveFeedbackInput,
    ) -> Result<GiveReflectiveFeedbackPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let id = session_id("sessionId", &input.session_id)?;
            feedback::give(c.db(), caller, id, input.rating, input.comment.as_deref()).await
        }
        .await;
        Ok(payload_of(c, result, |b| b)?.into())
    }
}
