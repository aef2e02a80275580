//! The life of a Space to Talk booking, written once: every step, the states it may be taken
//! from, and the state it leads to. Operations ask [`check`] before they change anything.

use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::model::SpaceToTalkStatus::{self, *};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// The parent, the school or the EP cancels; the slot is free again at once.
    Cancel,
    /// The booking moves to another free slot: the new one is taken first, then this one ends.
    Move,
    /// The EP records that the parent came (again, to change the flags or the note; or as a
    /// correction of "did not attend").
    MarkAttended,
    /// The EP records that the parent did not come (a correction of "attended" too).
    MarkDidNotAttend,
}

pub struct Transition {
    pub step: Step,
    pub from: &'static [SpaceToTalkStatus],
    pub to: SpaceToTalkStatus,
    pub what: &'static str,
}

pub const STEPS: &[Transition] = &[
    Transition {
        step: Step::Cancel,
        from: &[Booked],
        to: Cancelled,
        what: "cancel the booking",
    },
    Transition {
        step: Step::Move,
        from: &[Booked],
        to: Moved,
        what: "move the booking",
    },
    Transition {
        step: Step::MarkAttended,
        from: &[Booked, Attended, DidNotAttend],
        to: Attended,
        what: "record the parent as attended",
    },
    Transition {
        step: Step::MarkDidNotAttend,
        from: &[Booked, Attended, DidNotAttend],
        to: DidNotAttend,
        what: "record the parent as not attended",
    },
];

pub fn transition(step: Step) -> &'static Transition {
    // Every step has exactly one row: `tests::every_step_has_one_row` checks it.
    STEPS.iter().find(|t| t.step == step).unwrap_or(&STEPS[0])
}

/// The state `step` leads to from `status`, or a refusal naming the current state.
pub fn check(step: Step, status: SpaceToTalkStatus) -> DomainResult<SpaceToTalkStatus> {
    let t = transition(step);
    if t.from.contains(&status) {
        Ok(t.to)
    } else {
        Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            format!("the booking is {}: you cannot {} now", status.as_str(), t.what),
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
        assert_eq!(STEPS.len(), 4);
    }

    #[test]
    fn a_cancelled_or_moved_booking_takes_no_step() {
        assert!(
            STEPS
                .iter()
                .all(|t| !t.from.contains(&Cancelled) && !t.from.contains(&Moved))
        );
        assert!(check(Step::Cancel, Attended).is_err());
    }
}
