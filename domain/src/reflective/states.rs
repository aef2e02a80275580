//! The life of a reflective session, written once: every step, the states it may be taken from,
//! and the state it leads to. Operations ask [`check`] before they change anything.

use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::model::ReflectiveStatus::{self, *};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// Someone takes a place (or joins the waiting list).
    Register,
    /// A place is given up; the first waiting person moves up.
    CancelPlace,
    /// Roles are assigned, before or at the session.
    AssignRole,
    /// The session took place: attendance, and the facilitator's time charged.
    Hold,
    Cancel,
    /// The time or the place changes (the facilitators' bookings move with it).
    Change,
    /// The presenter's next step is recorded.
    RecordNextStep,
    /// An attendee gives anonymous feedback.
    GiveFeedback,
}

pub struct Transition {
    pub step: Step,
    pub from: &'static [ReflectiveStatus],
    /// `None`: the state does not change.
    pub to: Option<ReflectiveStatus>,
    pub what: &'static str,
}

pub const STEPS: &[Transition] = &[
    Transition {
        step: Step::Register,
        from: &[Scheduled],
        to: None,
        what: "take a place",
    },
    Transition {
        step: Step::CancelPlace,
        from: &[Scheduled],
        to: None,
        what: "give up a place",
    },
    Transition {
        step: Step::AssignRole,
        from: &[Scheduled, Held],
        to: None,
        what: "assign a role",
    },
    Transition {
        step: Step::Hold,
        from: &[Scheduled],
        to: Some(Held),
        what: "record the session as held",
    },
    Transition {
        step: Step::Cancel,
        from: &[Scheduled],
        to: Some(Cancelled),
        what: "cancel the session",
    },
    Transition {
        step: Step::Change,
        from: &[Scheduled],
        to: None,
        what: "change the session's time or place",
    },
    Transition {
        step: Step::RecordNextStep,
        from: &[Held],
        to: None,
        what: "record the presenter's next step",
    },
    Transition {
        step: Step::GiveFeedback,
        from: &[Held],
        to: None,
        what: "give feedback",
    },
];

pub fn transition(step: Step) -> &'static Transition {
    // Every step has exactly one row: `tests::every_step_has_one_row` checks it.
    STEPS.iter().find(|t| t.step == step).unwrap_or(&STEPS[0])
}

/// The state `step` leads to from `status`, or a refusal naming the current state.
pub fn check(step: Step, status: ReflectiveStatus) -> DomainResult<ReflectiveStatus> {
    let t = transition(step);
    if t.from.contains(&status) {
        Ok(t.to.unwrap_or(status))
    } else {
        Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            format!("the session is {}: you cannot {} now", status.as_str(), t.what),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_one_row() {
        for t in STEPS {
            assert_eq!(STEPS.iter().filter(|u| u.step == t.step).count(), 1, "{:?}", t.step);
        }
        assert_eq!(STEPS.len(), 8);
    }

    #[test]
    fn a_cancelled_session_takes_no_step() {
        assert!(STEPS.iter().all(|t| !t.from.contains(&Cancelled)));
        assert!(check(Step::Register, Held).is_err());
    }
}
