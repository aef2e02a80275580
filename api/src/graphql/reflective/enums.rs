//! The reflective-session area's closed sets of values, with the domain's names.

use crate::graphql::enums::mirror;

mirror! {
    /// The shape of a session type.
    ReflectiveFormat => domain::model::ReflectiveFormat {
        ReflectingTeam = "REFLECTING_TEAM",
        SolutionCircle = "SOLUTION_CIRCLE",
        ElsaSupervision = "ELSA_SUPERVISION",
        SencoSupervision = "SENCO_SUPERVISION",
        /// A format of the service's own.
        Other = "OTHER",
    }
}

mirror! {
    /// How a session's facilitator time is charged to the schools taking part.
    ReflectiveCharging => domain::model::ReflectiveCharging {
        /// All to one school (for a cluster, the school named as charged).
        OneSchool = "ONE_SCHOOL",
        /// Split evenly across the session's schools.
        SplitEvenly = "SPLIT_EVENLY",
        /// Split by how many of each school's staff attended.
        ByAttendance = "BY_ATTENDANCE",
        NotCharged = "NOT_CHARGED",
    }
}

mirror! {
    ReflectiveStatus => domain::model::ReflectiveStatus {
        Scheduled = "SCHEDULED",
        Held = "HELD",
        Cancelled = "CANCELLED",
    }
}

mirror! {
    /// A place on a session.
    PlaceStatus => domain::model::PlaceStatus {
        Registered = "REGISTERED",
        /// On the waiting list, in order.
        Waiting = "WAITING",
        Cancelled = "CANCELLED",
    }
}

mirror! {
    /// A participant's role in a session.
    ReflectiveRole => domain::model::ReflectiveRole {
        /// Brings the situation, and leaves with a next step.
        Presenter = "PRESENTER",
        Facilitator = "FACILITATOR",
        Reflector = "REFLECTOR",
        Timekeeper = "TIMEKEEPER",
        Recorder = "RECORDER",
        Observer = "OBSERVER",
    }
}

/// How often a series of sessions meets.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReflectiveCadence {
    /// One in each half-term (a term without halves counts as one).
    HalfTermly,
    Termly,
}

impl From<ReflectiveCadence> for domain::reflective::series::Cadence {
    fn from(c: ReflectiveCadence) -> Self {
        match c {
            ReflectiveCadence::HalfTermly => Self::HalfTermly,
            ReflectiveCadence::Termly => Self::Termly,
        }
    }
}
