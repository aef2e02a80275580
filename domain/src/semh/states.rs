//! The lives of a template version and of an audit round, written once: every step, the states
//! it may be taken from and the state it leads to. Operations ask [`check_template`] or
//! [`check_round`] before they change anything; the tests read the same tables.

use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::model::SemhActionStatus;
use crate::model::SemhRoundStatus::{self, *};
use crate::model::SemhTemplateStatus::{self, *};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateStep {
    /// The name, scale, sections or items change.
    Edit,
    Publish,
    /// No new rounds may use it.
    Retire,
    /// A new draft version is made from it.
    Revise,
    /// A school opens a round on it.
    OpenRound,
}

/// One step of a life: the states it may be taken from, and the state it leads to.
pub struct Transition<T: 'static, S: 'static> {
    pub step: T,
    pub from: &'static [S],
    /// `None`: the state does not change.
    pub to: Option<S>,
    pub what: &'static str,
}

pub type TemplateTransition = Transition<TemplateStep, SemhTemplateStatus>;
pub type RoundTransition = Transition<RoundStep, SemhRoundStatus>;

pub const TEMPLATE_STEPS: &[TemplateTransition] = &[
    TemplateTransition {
        step: TemplateStep::Edit,
        from: &[Draft],
        to: None,
        what: "edit it (a published version never changes: revise it instead)",
    },
    TemplateTransition {
        step: TemplateStep::Publish,
        from: &[Draft],
        to: Some(Published),
        what: "publish it",
    },
    TemplateTransition {
        step: TemplateStep::Retire,
        from: &[Published],
        to: Some(Retired),
        what: "retire it",
    },
    TemplateTransition {
        step: TemplateStep::Revise,
        from: &[Published, Retired],
        to: None,
        what: "revise it",
    },
    TemplateTransition {
        step: TemplateStep::OpenRound,
        from: &[Published],
        to: None,
        what: "open a round on it",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoundStep {
    /// Someone (a member of staff, a group, a table) gives or changes responses.
    Respond,
    /// A group or a table of the whole-staff session is added.
    AddGroup,
    /// The lead records the agreed rating of items.
    SetConsensus,
    /// The round is complete: it becomes read-only.
    Submit,
    /// A priority is added to the action plan, or one is updated.
    PlanActions,
}

pub const ROUND_STEPS: &[RoundTransition] = &[
    RoundTransition {
        step: RoundStep::Respond,
        from: &[Open],
        to: None,
        what: "respond to it",
    },
    RoundTransition {
        step: RoundStep::AddGroup,
        from: &[Open],
        to: None,
        what: "add a group or a table to it",
    },
    RoundTransition {
        step: RoundStep::SetConsensus,
        from: &[Open],
        to: None,
        what: "change its consensus",
    },
    RoundTransition {
        step: RoundStep::Submit,
        from: &[Open],
        to: Some(Submitted),
        what: "submit it",
    },
    // The action plan is agreed from the results and followed through the term after them.
    RoundTransition {
        step: RoundStep::PlanActions,
        from: &[Open, Submitted],
        to: None,
        what: "change its action plan",
    },
];

/// Statuses of a priority that may still change; the others are settled.
pub const LIVE_ACTIONS: &[SemhActionStatus] = &[SemhActionStatus::Open, SemhActionStatus::InProgress];

/// Statuses a priority may be set to by its school (carrying forward is done by the next round).
pub const SETTABLE_ACTIONS: &[SemhActionStatus] = &[
    SemhActionStatus::Open,
    SemhActionStatus::InProgress,
    SemhActionStatus::Done,
    SemhActionStatus::Dropped,
];

fn row<T: Copy + PartialEq, S>(table: &'static [Transition<T, S>], step: T) -> &'static Transition<T, S> {
    // Every step has exactly one row: `tests::every_step_has_one_row` checks it.
    table.iter().find(|t| t.step == step).unwrap_or(&table[0])
}

pub fn template_transition(step: TemplateStep) -> &'static TemplateTransition {
    row(TEMPLATE_STEPS, step)
}

pub fn round_transition(step: RoundStep) -> &'static RoundTransition {
    row(ROUND_STEPS, step)
}

/// The state `t` leads from `status` (named `state` in the refusal, as `thing` is).
fn check<T, S: Copy + PartialEq>(
    t: &Transition<T, S>,
    field: &str,
    status: S,
    thing: &str,
    state: &str,
) -> DomainResult<S> {
    if t.from.contains(&status) {
        Ok(t.to.unwrap_or(status))
    } else {
        Err(DomainError::invalid(
            field,
            FieldErrorCode::InvalidState,
            format!("{thing} is {state}: you cannot {} now", t.what),
        ))
    }
}

/// The state `step` leads a template version to, or a refusal naming its state.
pub fn check_template(field: &str, step: TemplateStep, status: SemhTemplateStatus) -> DomainResult<SemhTemplateStatus> {
    check(
        template_transition(step),
        field,
        status,
        "the template version",
        status.as_str(),
    )
}

/// The state `step` leads a round to, or a refusal naming its state.
pub fn check_round(field: &str, step: RoundStep, status: SemhRoundStatus) -> DomainResult<SemhRoundStatus> {
    check(round_transition(step), field, status, "the round", status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_one_row() {
        for t in TEMPLATE_STEPS {
            assert_eq!(TEMPLATE_STEPS.iter().filter(|u| u.step == t.step).count(), 1);
        }
        for t in ROUND_STEPS {
            assert_eq!(ROUND_STEPS.iter().filter(|u| u.step == t.step).count(), 1);
        }
        assert_eq!(TEMPLATE_STEPS.len(), 5);
        assert_eq!(ROUND_STEPS.len(), 5);
    }

    #[test]
    fn only_a_draft_changes_and_a_submitted_round_takes_no_response() {
        assert!(check_template("id", TemplateStep::Edit, Published).is_err());
        assert!(check_template("id", TemplateStep::Edit, Draft).is_ok());
        assert!(check_template("id", TemplateStep::OpenRound, Draft).is_err());
        assert!(check_round("id", RoundStep::Respond, Submitted).is_err());
        assert_eq!(check_round("id", RoundStep::Submit, Open).ok(), Some(Submitted));
    }
}
