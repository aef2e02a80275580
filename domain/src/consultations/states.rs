//! The life of a consultation, written once: every step, the states it may be taken from, and
//! the state it leads to. Operations ask [`check`] before they change anything; the test suite
//! reads [`STEPS`] to try every step from every state.

use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::model::ConsultationStatus::{self, *};

/// Something that can happen to a consultation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// The EP or an administrator asks the school for more information.
    AskForInformation,
    /// The school changes its request (and answers a request for information).
    UpdateRequest,
    Accept,
    Decline,
    /// The meeting is booked (by the school at once, or by the EP or an administrator).
    Schedule,
    /// The meeting moves to another time (or EP).
    Move,
    /// The meeting is cancelled; the consultation waits to be booked again.
    CancelMeeting,
    /// The meeting took place.
    Hold,
    /// The EP writes or corrects the record (before it is shared).
    WriteRecord,
    /// Agreed actions are added or their progress updated.
    TrackActions,
    ShareRecord,
    /// The review date arrives: by the calendar, not by anyone's hand.
    ReviewFallsDue,
    /// A review begins: this cycle closes and the next one is opened, linked to it.
    StartReview,
    Close,
    /// The school withdraws its request before the meeting.
    Withdraw,
    /// Consent for a formal consultation is withdrawn: all further work stops.
    ConsentWithdrawn,
    /// Consent is recorded for a formal consultation.
    RecordConsent,
}

/// One row of the table.
pub struct Transition {
    pub step: Step,
    pub from: &'static [ConsultationStatus],
    /// `None`: the state does not change.
    pub to: Option<ConsultationStatus>,
    pub what: &'static str,
}

const OPEN: &[ConsultationStatus] = &[
    Requested,
    NeedsInformation,
    Accepted,
    Scheduled,
    Held,
    RecordShared,
    ReviewDue,
];

/// The table.
pub const STEPS: &[Transition] = &[
    Transition {
        step: Step::AskForInformation,
        from: &[Requested],
        to: Some(NeedsInformation),
        what: "ask the school for more information",
    },
    Transition {
        step: Step::UpdateRequest,
        from: &[Requested, NeedsInformation],
        to: Some(Requested),
        what: "change the request",
    },
    Transition {
        step: Step::Accept,
        from: &[Requested, NeedsInformation],
        to: Some(Accepted),
        what: "accept the request",
    },
    Transition {
        step: Step::Decline,
        from: &[Requested, NeedsInformation, Accepted],
        to: Some(Declined),
        what: "decline the request",
    },
    Transition {
        step: Step::Schedule,
        from: &[Requested, Accepted],
        to: Some(Scheduled),
        what: "book the meeting",
    },
    Transition {
        step: Step::Move,
        from: &[Scheduled],
        to: None,
        what: "move the meeting",
    },
    Transition {
        step: Step::CancelMeeting,
        from: &[Scheduled],
        to: Some(Accepted),
        what: "cancel the meeting",
    },
    Transition {
        step: Step::Hold,
        from: &[Scheduled],
        to: Some(Held),
        what: "record the meeting as held",
    },
    Transition {
        step: Step::WriteRecord,
        from: &[Held],
        to: None,
        what: "write the record",
    },
    Transition {
        step: Step::TrackActions,
        from: &[Held, RecordShared, ReviewDue],
        to: None,
        what: "add or update agreed actions",
    },
    Transition {
        step: Step::ShareRecord,
        from: &[Held],
        to: Some(RecordShared),
        what: "share the record with the school",
    },
    Transition {
        step: Step::ReviewFallsDue,
        from: &[RecordShared],
        to: Some(ReviewDue),
        what: "come due for review",
    },
    Transition {
        step: Step::StartReview,
        from: &[RecordShared, ReviewDue],
        to: Some(Closed),
        what: "start a review",
    },
    Transition {
        step: Step::Close,
        from: &[Held, RecordShared, ReviewDue],
        to: Some(Closed),
        what: "close the consultation",
    },
    Transition {
        step: Step::Withdraw,
        from: &[Requested, NeedsInformation, Accepted, Scheduled],
        to: Some(Withdrawn),
        what: "withdraw the request",
    },
    Transition {
        step: Step::ConsentWithdrawn,
        from: OPEN,
        to: Some(Withdrawn),
        what: "withdraw consent",
    },
    Transition {
        step: Step::RecordConsent,
        from: &[Requested, NeedsInformation, Accepted, Scheduled],
        to: None,
        what: "record consent",
    },
];

/// The row of a step.
pub fn transition(step: Step) -> &'static Transition {
    // Every step has exactly one row: `tests::every_step_has_one_row` checks it.
    STEPS.iter().find(|t| t.step == step).unwrap_or(&STEPS[0])
}

/// Whether `step` may be taken from `status`.
pub fn allows(step: Step, status: ConsultationStatus) -> bool {
    transition(step).from.contains(&status)
}

/// The state `step` leads to from `status`, or a refusal naming the current state.
pub fn check(step: Step, status: ConsultationStatus) -> DomainResult<ConsultationStatus> {
    let t = transition(step);
    if t.from.contains(&status) {
        Ok(t.to.unwrap_or(status))
    } else {
        Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            format!("the consultation is {}: you cannot {} now", status.as_str(), t.what),
        ))
    }
}

/// Whether a consultation still has work ahead of it.
pub fn is_open(status: ConsultationStatus) -> bool {
    OPEN.contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_one_row() {
        for t in STEPS {
            assert_eq!(STEPS.iter().filter(|u| u.step == t.step).count(), 1, "{:?}", t.step);
        }
        assert_eq!(STEPS.len(), 17);
    }

    #[test]
    fn finished_consultations_take_no_step() {
        for status in [Closed, Declined, Withdrawn] {
            assert!(STEPS.iter().all(|t| !t.from.contains(&status)), "{status:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_current_state() {
        let err = check(Step::Hold, Requested).unwrap_err();
        assert!(format!("{err:?}").contains("REQUESTED"));
    }
}
