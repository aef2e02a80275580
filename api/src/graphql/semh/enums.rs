//! The SEMH audit area's closed sets of values, with the domain's names.

use crate::graphql::enums::mirror;

mirror! {
    /// A template version: a draft can change; a published version never does.
    SemhTemplateStatus => domain::model::SemhTemplateStatus {
        Draft = "DRAFT",
        Published = "PUBLISHED",
        /// No new rounds; rounds already on it keep it.
        Retired = "RETIRED",
    }
}

mirror! {
    SemhRoundStatus => domain::model::SemhRoundStatus {
        Open = "OPEN",
        /// Read-only.
        Submitted = "SUBMITTED",
    }
}

mirror! {
    /// Who gave a set of responses.
    SemhRespondentKind => domain::model::SemhRespondentKind {
        /// A member of staff answering for themselves (not named to others).
        Individual = "INDIVIDUAL",
        /// A named group: the group, not its people.
        Group = "GROUP",
        /// A table of a whole-staff session, entered through the table's link.
        Table = "TABLE",
    }
}

mirror! {
    /// Where a rating sits for comparisons and the service's picture.
    SemhBand => domain::model::SemhBand {
        Red = "RED",
        Amber = "AMBER",
        Green = "GREEN",
        /// Don't know.
        Unknown = "UNKNOWN",
    }
}

mirror! {
    /// A priority of the action plan.
    SemhActionStatus => domain::model::SemhActionStatus {
        Open = "OPEN",
        InProgress = "IN_PROGRESS",
        Done = "DONE",
        Dropped = "DROPPED",
        /// Carried into the school's next round of the template (change it there).
        CarriedForward = "CARRIED_FORWARD",
    }
}

mirror! {
    /// How an item's consensus moved between two rounds.
    SemhChange => domain::semh::results::Change {
        Improved = "IMPROVED",
        Declined = "DECLINED",
        Same = "SAME",
        /// One side has no rating, or "don't know".
        NotComparable = "NOT_COMPARABLE",
    }
}
