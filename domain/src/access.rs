//! Who may do what, written down once.
//!
//! [`RULES`] is the table of every action and the roles that may take it, with how far each
//! role reaches (the whole service, the schools it belongs to, the schools an EP works with, an
//! EP's own calendar, a partner client's schools). The server turns it into an [`Access`] for
//! each call; the test suite reads the same table to decide what every role should see.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::ids::{PartnerClientId, PersonId, SchoolId, ServiceId};
use crate::text_enum;

text_enum! {
    /// A role held through a membership (or, for partner clients, by being one).
    pub enum Role {
        ServiceAdmin = "SERVICE_ADMIN",
        Psychologist = "PSYCHOLOGIST",
        Senco = "SENCO",
        SchoolLeader = "SCHOOL_LEADER",
        SchoolStaff = "SCHOOL_STAFF",
        PartnerClient = "PARTNER_CLIENT",
    }
}

impl Role {
    /// Roles held in a service as a whole.
    pub fn is_service_role(self) -> bool {
        matches!(self, Role::ServiceAdmin | Role::Psychologist)
    }
    /// Roles held in one school.
    pub fn is_school_role(self) -> bool {
        matches!(self, Role::Senco | Role::SchoolLeader | Role::SchoolStaff)
    }
}

text_enum! {
    /// What a partner client may do, granted per client.
    pub enum PartnerScope {
        SchoolsRead = "schools:read",
        BookingsRead = "bookings:read",
        BookingsWrite = "bookings:write",
        AvailabilityRead = "availability:read",
        /// SEMH audit figures across the service's schools (aggregates only).
        AuditsRead = "audits:read",
    }
}

/// How far a role reaches when it may take an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Everything in the service the membership is in.
    Service,
    /// The school the membership is in.
    OwnSchool,
    /// An EP's own calendar, and the schools the EP works with (link EP on a contract, or a
    /// booking there).
    LinkedSchools,
    /// An EP's own calendar only.
    OwnCalendar,
    /// A partner client's schools: all of its service's, unless it is limited to some.
    PartnerSchools,
}

/// Every action the API offers, grouped by area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    // tenancy
    ViewService,
    ViewSchools,
    ManageSchools,
    ViewPeople,
    ManagePeople,
    ManagePartnerClients,
    ViewAuditLog,
    // EP time
    ViewTimeSettings,
    ManageTimeSettings,
    ViewContracts,
    ManageContracts,
    ViewCalendars,
    ManageCalendars,
    ViewBookings,
    ManageBookings,
    BookFreeSlots,
    CancelBookings,
    RecordDelivery,
    ViewAvailability,
    ViewLedger,
    AdjustLedger,
    // consultations
    ViewConsultationSettings,
    ManageConsultationSettings,
    ViewConsultations,
    RequestConsultations,
    TriageConsultations,
    ScheduleConsultations,
    RecordConsultations,
    ManageConsent,
    UpdateConsultationActions,
    ViewPupils,
    ManagePupils,
    // reflective-team sessions
    ViewReflectiveSessions,
    ManageReflectiveSettings,
    ScheduleReflectiveSessions,
    RegisterForReflectiveSessions,
    RegisterOthersForReflectiveSessions,
    ViewReflectiveParticipation,
    GiveReflectiveFeedback,
    ViewReflectiveFeedback,
    // Space to Talk
    ManageSpaceToTalkSettings,
    PublishSpaceToTalkRuns,
    ViewSpaceToTalkSlots,
    BookSpaceToTalk,
    ViewSpaceToTalkBookings,
    ChangeSpaceToTalkBookings,
    RecordSpaceToTalkAttendance,
    IssueSpaceToTalkLinks,
    ViewSpaceToTalkFigures,
    // SEMH audits
    ViewSemhTemplates,
    ManageSemhTemplates,
    ManageSemhSettings,
    RunSemhAudits,
    ViewSemhRounds,
    RespondToSemhAudits,
    ManageSemhActions,
    ViewSemhServicePicture,
}

/// One role's permission to take an action.
#[derive(Clone, Copy, Debug)]
pub struct Grant {
    pub role: Role,
    pub reach: Reach,
    /// For partner clients: the scope the client must hold.
    pub scope: Option<PartnerScope>,
}

pub struct Rule {
    pub action: Action,
    pub what: &'static str,
    pub grants: &'static [Grant],
}

const fn g(role: Role, reach: Reach) -> Grant {
    Grant {
        role,
        reach,
        scope: None,
    }
}

const fn partner(scope: PartnerScope) -> Grant {
    Grant {
        role: Role::PartnerClient,
        reach: Reach::PartnerSchools,
        scope: Some(scope),
    }
}

/// A partner client needs no particular scope (it can always see its own service).
const ANY_PARTNER: Grant = Grant {
    role: Role::PartnerClient,
    reach: Reach::PartnerSchools,
    scope: None,
};

use Reach::*;
use Role::*;

const ADMIN: Grant = g(ServiceAdmin, Service);

/// The table. Anything not granted here is refused.
pub const RULES: &[Rule] = &[
    Rule {
        action: Action::ViewService,
        what: "see a service: its name, time zone and settings",
        grants: &[
            ADMIN,
            g(Psychologist, Service),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            g(SchoolStaff, OwnSchool),
            ANY_PARTNER,
        ],
    },
    Rule {
        action: Action::ViewSchools,
        what: "see schools: name, URN, phase, status",
        grants: &[
            ADMIN,
            g(Psychologist, Service),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            g(SchoolStaff, OwnSchool),
            partner(PartnerScope::SchoolsRead),
        ],
    },
    Rule {
        action: Action::ManageSchools,
        what: "create, update and archive schools",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::ViewPeople,
        what: "see people and their memberships",
        grants: &[
            ADMIN,
            g(Psychologist, Service),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
        ],
    },
    Rule {
        action: Action::ManagePeople,
        what: "invite people, grant and revoke memberships, disable accounts",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::ManagePartnerClients,
        what: "see, create and rotate partner clients",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::ViewAuditLog,
        what: "read the audit log",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::ViewTimeSettings,
        what: "see units of time, the academic calendar and the time policies",
        grants: &[
            ADMIN,
            g(Psychologist, Service),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            g(SchoolStaff, OwnSchool),
            ANY_PARTNER,
        ],
    },
    Rule {
        action: Action::ManageTimeSettings,
        what: "change units, the academic calendar and the time policies",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::ViewContracts,
        what: "see a school's contracts and top-ups",
        grants: &[
            ADMIN,
            g(Psychologist, LinkedSchools),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
        ],
    },
    Rule {
        action: Action::ManageContracts,
        what: "create, change and top up contracts",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::ViewCalendars,
        what: "see an EP's working pattern and exceptions",
        grants: &[ADMIN, g(Psychologist, OwnCalendar)],
    },
    Rule {
        action: Action::ManageCalendars,
        what: "set an EP's working pattern and record leave, training and sickness",
        grants: &[ADMIN, g(Psychologist, OwnCalendar)],
    },
    Rule {
        action: Action::ViewBookings,
        what: "see bookings of EP time",
        grants: &[
            ADMIN,
            g(Psychologist, LinkedSchools),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            partner(PartnerScope::BookingsRead),
        ],
    },
    Rule {
        action: Action::ManageBookings,
        what: "book, confirm and reschedule EP time",
        grants: &[
            ADMIN,
            g(Psychologist, OwnCalendar),
            partner(PartnerScope::BookingsWrite),
        ],
    },
    Rule {
        action: Action::BookFreeSlots,
        what: "book a free slot of an EP who works with one's school, for that school, where the service lets schools book",
        grants: &[g(Senco, OwnSchool), g(SchoolLeader, OwnSchool)],
    },
    Rule {
        action: Action::CancelBookings,
        what: "cancel a booking",
        grants: &[
            ADMIN,
            g(Psychologist, OwnCalendar),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            partner(PartnerScope::BookingsWrite),
        ],
    },
    Rule {
        action: Action::RecordDelivery,
        what: "record a booking as delivered or as a no-show",
        grants: &[ADMIN, g(Psychologist, OwnCalendar)],
    },
    Rule {
        action: Action::ViewAvailability,
        what: "see free slots in EPs' calendars",
        grants: &[
            ADMIN,
            g(Psychologist, OwnCalendar),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            partner(PartnerScope::AvailabilityRead),
        ],
    },
    Rule {
        action: Action::ViewLedger,
        what: "see time ledger entries, balances and the time summary",
        grants: &[
            ADMIN,
            g(Psychologist, LinkedSchools),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
        ],
    },
    Rule {
        action: Action::AdjustLedger,
        what: "post a correcting adjustment to the time ledger",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::ViewConsultationSettings,
        what: "see the service's consultation settings",
        grants: &[
            ADMIN,
            g(Psychologist, Service),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
        ],
    },
    Rule {
        action: Action::ManageConsultationSettings,
        what: "change the service's consultation settings",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::ViewConsultations,
        what: "see consultations, their pupils, consent and shared records",
        grants: &[
            ADMIN,
            g(Psychologist, LinkedSchools),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
        ],
    },
    Rule {
        action: Action::RequestConsultations,
        what: "request a consultation for a school, change the request or withdraw it",
        grants: &[ADMIN, g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::TriageConsultations,
        what: "accept or decline a request for involvement, or ask for more information",
        grants: &[ADMIN, g(Psychologist, LinkedSchools)],
    },
    Rule {
        action: Action::ScheduleConsultations,
        what: "book, move or cancel a consultation's meeting",
        grants: &[ADMIN, g(Psychologist, LinkedSchools), g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::RecordConsultations,
        what: "hold a consultation, write and share its record, start a review and close it",
        grants: &[ADMIN, g(Psychologist, LinkedSchools)],
    },
    Rule {
        action: Action::ManageConsent,
        what: "record or withdraw consent for a formal consultation",
        grants: &[ADMIN, g(Psychologist, LinkedSchools), g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::UpdateConsultationActions,
        what: "update the progress of a consultation's agreed actions",
        grants: &[ADMIN, g(Psychologist, LinkedSchools), g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::ViewPupils,
        what: "see a school's pseudonymous pupil records",
        grants: &[
            ADMIN,
            g(Psychologist, LinkedSchools),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
        ],
    },
    Rule {
        action: Action::ManagePupils,
        what: "add and correct a school's pupil records",
        grants: &[ADMIN, g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::ViewReflectiveSessions,
        what: "see reflective sessions open to a school, their types and free places",
        grants: &[
            ADMIN,
            g(Psychologist, OwnCalendar),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            g(SchoolStaff, OwnSchool),
            partner(PartnerScope::BookingsRead),
        ],
    },
    Rule {
        action: Action::ManageReflectiveSettings,
        what: "add reflective session types and set how sessions are charged by default",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::ScheduleReflectiveSessions,
        what: "schedule, cancel and hold reflective sessions, and assign their roles",
        grants: &[ADMIN, g(Psychologist, OwnCalendar)],
    },
    Rule {
        action: Action::RegisterForReflectiveSessions,
        what: "take or give up a place on a reflective session open to one's school",
        grants: &[
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            g(SchoolStaff, OwnSchool),
        ],
    },
    Rule {
        action: Action::RegisterOthersForReflectiveSessions,
        what: "register a school's staff for reflective sessions, or cancel their places",
        grants: &[ADMIN, g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::ViewReflectiveParticipation,
        what: "see who from a school takes part in reflective sessions, and their roles",
        grants: &[
            ADMIN,
            g(Psychologist, OwnCalendar),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
        ],
    },
    Rule {
        action: Action::GiveReflectiveFeedback,
        what: "give anonymous feedback on a reflective session one attended",
        grants: &[
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            g(SchoolStaff, OwnSchool),
        ],
    },
    Rule {
        action: Action::ViewReflectiveFeedback,
        what: "read the feedback on reflective sessions",
        grants: &[ADMIN, g(Psychologist, OwnCalendar)],
    },
    Rule {
        action: Action::ManageSpaceToTalkSettings,
        what: "set Space to Talk's slot length, whether it draws down allocation, and whether notes are kept",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::PublishSpaceToTalkRuns,
        what: "publish or withdraw a run of Space to Talk slots",
        grants: &[ADMIN, g(Psychologist, OwnCalendar)],
    },
    Rule {
        action: Action::ViewSpaceToTalkSlots,
        what: "see Space to Talk runs and free slots (partner clients: counts of free slots only)",
        grants: &[
            ADMIN,
            g(Psychologist, OwnCalendar),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            partner(PartnerScope::AvailabilityRead),
        ],
    },
    Rule {
        action: Action::BookSpaceToTalk,
        what: "book a parent or carer into a Space to Talk slot for a school",
        grants: &[ADMIN, g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::ViewSpaceToTalkBookings,
        what: "see Space to Talk bookings and the parents' contact details",
        grants: &[ADMIN, g(Psychologist, OwnCalendar), g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::ChangeSpaceToTalkBookings,
        what: "cancel or move a Space to Talk booking",
        grants: &[ADMIN, g(Psychologist, OwnCalendar), g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::RecordSpaceToTalkAttendance,
        what: "record whether a parent attended Space to Talk, and its safeguarding and referral flags",
        grants: &[ADMIN, g(Psychologist, OwnCalendar)],
    },
    Rule {
        action: Action::IssueSpaceToTalkLinks,
        what: "issue or revoke a school's Space to Talk booking link for parents",
        grants: &[ADMIN, g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::ViewSpaceToTalkFigures,
        what: "see Space to Talk attendance figures per term and school",
        grants: &[ADMIN, g(Senco, OwnSchool), g(SchoolLeader, OwnSchool)],
    },
    Rule {
        action: Action::ViewSemhTemplates,
        what: "see the service's SEMH audit templates: sections, items and rating scales",
        grants: &[
            ADMIN,
            g(Psychologist, Service),
            g(Senco, OwnSchool),
            g(SchoolLeader, OwnSchool),
            g(SchoolStaff, OwnSchool),
        ],
    },
    Rule {
        action: Action::ManageSemhTemplates,
        what: "write, revise, publish and retire SEMH audit templates",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::ManageSemhSettings,
        what: "set whether the service's picture of SEMH audits names its schools",
        grants: &[ADMIN],
    },
    Rule {
        action: Action::RunSemhAudits,
        what: "open and run a school's SEMH audit round: groups, tables' links, consensus, submission",
        grants: &[g(SchoolLeader, OwnSchool), g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::ViewSemhRounds,
        what: "see a school's SEMH audit rounds: every response, the results, comparisons and the action plan",
        grants: &[
            ADMIN,
            g(Psychologist, LinkedSchools),
            g(SchoolLeader, OwnSchool),
            g(Senco, OwnSchool),
        ],
    },
    Rule {
        action: Action::RespondToSemhAudits,
        what: "give one's own responses to an open SEMH audit round of one's school, and see them",
        grants: &[
            g(SchoolStaff, OwnSchool),
            g(SchoolLeader, OwnSchool),
            g(Senco, OwnSchool),
        ],
    },
    Rule {
        action: Action::ManageSemhActions,
        what: "set and update a school's SEMH action plan",
        grants: &[g(SchoolLeader, OwnSchool), g(Senco, OwnSchool)],
    },
    Rule {
        action: Action::ViewSemhServicePicture,
        what: "see SEMH audit figures across the service's schools (small groups suppressed)",
        grants: &[ADMIN, g(Psychologist, Service), partner(PartnerScope::AuditsRead)],
    },
];

/// The rule for an action.
pub fn rule(action: Action) -> &'static Rule {
    // Every action has exactly one rule: `tests::every_action_has_one_rule` checks it.
    RULES.iter().find(|r| r.action == action).unwrap_or(&RULES[0])
}

/// Who may take an action, in words, for a refusal: "Only the service's administrators may
/// create, update and archive schools."
pub fn refusal_text(action: Action) -> String {
    let rule = rule(action);
    let mut who: Vec<String> = Vec::new();
    for grant in rule.grants {
        let name = match (grant.role, grant.reach) {
            (ServiceAdmin, _) => "the service's administrators".to_owned(),
            (Psychologist, Service) => "EPs".to_owned(),
            (Psychologist, LinkedSchools) => "EPs (their own time, and the schools they work with)".to_owned(),
            (Psychologist, _) => "EPs (their own time)".to_owned(),
            (Senco, _) => "SENCOs (of their own school)".to_owned(),
            (SchoolLeader, _) => "school leaders (of their own school)".to_owned(),
            (SchoolStaff, _) => "school staff (of their own school)".to_owned(),
            (PartnerClient, _) => match grant.scope {
                Some(scope) => format!("partner clients with the {} scope", scope.as_str()),
                None => "partner clients".to_owned(),
            },
        };
        if !who.contains(&name) {
            who.push(name);
        }
    }
    match who.as_slice() {
        [] => format!("Nobody may {}.", rule.what),
        [one] => format!("Only {one} may {}.", rule.what),
        [init @ .., last] => format!("Only {} and {last} may {}.", init.join(", "), rule.what),
    }
}

/// How a target relates to the caller, for reading the table without a database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// Something of the caller's own school (or, for a partner, one of its schools).
    OwnSchool,
    /// A school the caller EP works with.
    LinkedSchool,
    /// The caller EP's own calendar (a booking where they are the EP).
    OwnCalendar,
    /// Another school of the same service.
    OtherSchool,
    /// Something of another service altogether.
    OtherService,
}

/// What the table says about `role` taking `action` on a target related as `relation`.
/// `scopes` are the partner client's scopes (ignored for people).
pub fn table_allows(role: Role, scopes: &[PartnerScope], action: Action, relation: Relation) -> bool {
    if relation == Relation::OtherService {
        return false;
    }
    rule(action).grants.iter().any(|grant| {
        grant.role == role
            && grant.scope.is_none_or(|s| scopes.contains(&s))
            && match grant.reach {
                Service => true,
                OwnSchool | PartnerSchools => relation == Relation::OwnSchool,
                LinkedSchools => matches!(relation, Relation::LinkedSchool | Relation::OwnCalendar),
                OwnCalendar => relation == Relation::OwnCalendar,
            }
    })
}

/// The one who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Person(PersonId),
    PartnerClient(PartnerClientId),
}

/// A role held in a service, or in one school of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Membership {
    pub service_id: ServiceId,
    pub school_id: Option<SchoolId>,
    pub role: Role,
}

/// What a partner client was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerGrant {
    pub service_id: ServiceId,
    /// `None`: every school of the service.
    pub schools: Option<BTreeSet<SchoolId>>,
    pub scopes: BTreeSet<PartnerScope>,
}

/// One call into the domain: the verified principal and the request it came in, with what the
/// principal reaches once it has been looked up (at most once per request; clones share it).
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: String,
    linked: Arc<OnceCell<crate::door::Linked>>,
}

impl Caller {
    pub fn new(principal: Principal, request_id: impl Into<String>) -> Self {
        Self {
            principal,
            request_id: request_id.into(),
            linked: Arc::default(),
        }
    }

    /// The schools the caller's EP memberships work with, looked up by `load` the first time.
    pub(crate) async fn linked<F, Fut>(&self, load: F) -> crate::DomainResult<&crate::door::Linked>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = crate::DomainResult<crate::door::Linked>>,
    {
        self.linked.get_or_try_init(load).await
    }
}

/// A verified caller: built once per request from its credentials and the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub actor: Actor,
    pub memberships: Vec<Membership>,
    pub partner: Option<PartnerGrant>,
}

impl Principal {
    pub fn person_id(&self) -> Option<PersonId> {
        match self.actor {
            Actor::Person(id) => Some(id),
            Actor::PartnerClient(_) => None,
        }
    }

    pub fn partner_client_id(&self) -> Option<PartnerClientId> {
        match self.actor {
            Actor::PartnerClient(id) => Some(id),
            Actor::Person(_) => None,
        }
    }

    /// Every service the caller belongs to in any role.
    pub fn services(&self) -> BTreeSet<ServiceId> {
        self.memberships
            .iter()
            .map(|m| m.service_id)
            .chain(self.partner.iter().map(|p| p.service_id))
            .collect()
    }

    /// The (service, person) of each EP membership of a person.
    pub fn ep_memberships(&self) -> Vec<(ServiceId, PersonId)> {
        let Some(me) = self.person_id() else {
            return Vec::new();
        };
        self.memberships
            .iter()
            .filter(|m| m.role == Role::Psychologist)
            .map(|m| (m.service_id, me))
            .collect()
    }

    pub fn has_role_in_service(&self, role: Role, service: ServiceId) -> bool {
        self.memberships
            .iter()
            .any(|m| m.role == role && m.service_id == service)
    }

    /// Everything the caller can see at all, whatever the action: the services it is a
    /// service-level member of, its schools, and a partner client's schools.
    pub fn visibility(&self) -> Access {
        let mut access = Access::default();
        for m in &self.memberships {
            match m.school_id {
                Some(school) if m.role.is_school_role() => {
                    access.schools.insert(school, m.service_id);
                }
                _ => {
                    access.services.insert(m.service_id);
                }
            }
        }
        if let Some(p) = &self.partner {
            match &p.schools {
                None => {
                    access.services.insert(p.service_id);
                }
                Some(schools) => {
                    access.partner_services.insert(p.service_id);
                    access.schools.extend(schools.iter().map(|s| (*s, p.service_id)));
                }
            }
        }
        access
    }

    /// The error for `action` refused on something of `service` (and `school`): forbidden, with
    /// who may take it, when the caller can see it; not found when it cannot (existence is
    /// itself information).
    pub fn refusal(&self, action: Action, service: ServiceId, school: Option<SchoolId>) -> crate::DomainError {
        let seen = self.visibility();
        let sees = match school {
            Some(school) => seen.permits_school(service, school),
            None => seen.touches_service(service),
        };
        if sees {
            crate::DomainError::Refused(refusal_text(action))
        } else {
            crate::DomainError::NotFound
        }
    }

    /// Refuses unless the caller may take `action` on the whole of `service`.
    pub fn require_service_wide(&self, action: Action, service: ServiceId) -> crate::DomainResult<()> {
        self.require_service_wide_for(action, service, None)
    }

    /// Like [`Self::require_service_wide`] for an action on something of `school`: a school out
    /// of the caller's sight is not found, as its service would be.
    pub fn require_service_wide_for(
        &self,
        action: Action,
        service: ServiceId,
        school: Option<SchoolId>,
    ) -> crate::DomainResult<()> {
        if self.static_access(action).permits_service_wide(service) {
            Ok(())
        } else {
            Err(self.refusal(action, service, school))
        }
    }

    /// What this caller may reach for `action`, before schools an EP works with are looked up
    /// (see [`crate::tenancy::access_for`]).
    pub fn static_access(&self, action: Action) -> Access {
        let mut access = Access {
            person: self.person_id(),
            ..Access::default()
        };
        let rule = rule(action);
        for m in &self.memberships {
            for grant in rule.grants.iter().filter(|g| g.role == m.role) {
                match (grant.reach, m.school_id, self.person_id()) {
                    (Service, _, _) => {
                        access.services.insert(m.service_id);
                    }
                    (OwnSchool, Some(school), _) => {
                        access.schools.insert(school, m.service_id);
                    }
                    (LinkedSchools, _, Some(person)) => {
                        access.calendars.insert((m.service_id, person));
                        access.linked_pending.insert((m.service_id, person));
                    }
                    (OwnCalendar, _, Some(person)) => {
                        access.calendars.insert((m.service_id, person));
                    }
                    _ => {}
                }
            }
        }
        if let Some(p) = &self.partner {
            let granted = rule
                .grants
                .iter()
                .any(|g| g.role == Role::PartnerClient && g.scope.is_none_or(|s| p.scopes.contains(&s)));
            if granted {
                match &p.schools {
                    None => {
                        access.services.insert(p.service_id);
                    }
                    Some(schools) => {
                        access.partner_services.insert(p.service_id);
                        for s in schools {
                            access.schools.insert(*s, p.service_id);
                        }
                    }
                }
            }
        }
        access
    }
}

/// Where a caller may take one action. Queries filter through it (see
/// [`Access::condition`]); single objects are checked with the `permits_*` methods.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Whole services.
    pub services: BTreeSet<ServiceId>,
    /// Single schools, each with its service.
    pub schools: BTreeMap<SchoolId, ServiceId>,
    /// EPs' own calendars: rows whose EP is this person, in this service.
    pub calendars: BTreeSet<(ServiceId, PersonId)>,
    /// Services a school-limited partner client belongs to (it may see the service itself).
    pub partner_services: BTreeSet<ServiceId>,
    /// EPs whose linked schools are still to be looked up.
    pub linked_pending: BTreeSet<(ServiceId, PersonId)>,
    /// The caller, when a person: always in their own reach as a person.
    pub person: Option<PersonId>,
}

impl Access {
    /// Everything `other` reaches, added to this reach.
    pub fn absorb(&mut self, other: Access) {
        self.services.extend(other.services);
        self.schools.extend(other.schools);
        self.calendars.extend(other.calendars);
        self.partner_services.extend(other.partner_services);
        self.linked_pending.extend(other.linked_pending);
        self.person = self.person.or(other.person);
    }

    /// Whether the action is allowed anywhere at all.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && self.schools.is_empty() && self.calendars.is_empty()
    }

    /// The whole service.
    pub fn permits_service_wide(&self, service: ServiceId) -> bool {
        self.services.contains(&service)
    }

    /// Anything in the service at all: the whole of it, a school in it, or a calendar in it.
    pub fn touches_service(&self, service: ServiceId) -> bool {
        self.services.contains(&service)
            || self.schools.values().any(|s| *s == service)
            || self.calendars.iter().any(|(s, _)| *s == service)
            || self.partner_services.contains(&service)
    }

    /// A school (or something belonging to it).
    pub fn permits_school(&self, service: ServiceId, school: SchoolId) -> bool {
        self.services.contains(&service) || self.schools.get(&school) == Some(&service)
    }

    /// An EP's own calendar.
    pub fn permits_calendar(&self, service: ServiceId, ep: PersonId) -> bool {
        self.services.contains(&service) || self.calendars.contains(&(service, ep))
    }

    /// A row that belongs to a service, optionally to a school, optionally to an EP: allowed if
    /// any of them is in reach.
    pub fn permits(&self, service: ServiceId, school: Option<SchoolId>, ep: Option<PersonId>) -> bool {
        self.services.contains(&service)
            || school.is_some_and(|s| self.schools.get(&s) == Some(&service))
            || ep.is_some_and(|e| self.calendars.contains(&(service, e)))
    }

    /// A filter for rows that carry a service, maybe a school and maybe an EP: true where any of
    /// them is in reach, and false everywhere when nothing is.
    pub fn condition<C: sea_orm::ColumnTrait>(
        &self,
        service: C,
        school: Option<C>,
        ep: Option<C>,
    ) -> sea_orm::Condition {
        use sea_orm::sea_query::{Expr, ExprTrait};
        let mut any = sea_orm::Condition::any();
        if !self.services.is_empty() {
            any = any.add(service.is_in(self.services.iter().copied()));
        }
        if let Some(school) = school
            && !self.schools.is_empty()
        {
            any = any.add(school.is_in(self.schools.keys().copied()));
        }
        if let Some(ep) = ep {
            for (s, p) in &self.calendars {
                any = any.add(sea_orm::Condition::all().add(service.eq(*s)).add(ep.eq(*p)));
            }
        }
        if any.is_empty() {
            // Nothing in reach: match no rows (an empty `any` would match every row).
            sea_orm::Condition::all().add(Expr::val(1).eq(0))
        } else {
            any
        }
    }

    /// The services of every school and calendar in reach (for queries that must stay inside
    /// them).
    pub fn all_services(&self) -> BTreeSet<ServiceId> {
        self.services
            .iter()
            .copied()
            .chain(self.schools.values().copied())
            .chain(self.calendars.iter().map(|(s, _)| *s))
            .chain(self.partner_services.iter().copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_ACTIONS: &[Action] = &[
        Action::ViewService,
        Action::ViewSchools,
        Action::ManageSchools,
        Action::ViewPeople,
        Action::ManagePeople,
        Action::ManagePartnerClients,
        Action::ViewAuditLog,
        Action::ViewTimeSettings,
        Action::ManageTimeSettings,
        Action::ViewContracts,
        Action::ManageContracts,
        Action::ViewCalendars,
        Action::ManageCalendars,
        Action::ViewBookings,
        Action::ManageBookings,
        Action::BookFreeSlots,
        Action::CancelBookings,
        Action::RecordDelivery,
        Action::ViewAvailability,
        Action::ViewLedger,
        Action::AdjustLedger,
        Action::ViewConsultationSettings,
        Action::ManageConsultationSettings,
        Action::ViewConsultations,
        Action::RequestConsultations,
        Action::TriageConsultations,
        Action::ScheduleConsultations,
        Action::RecordConsultations,
        Action::ManageConsent,
        Action::UpdateConsultationActions,
        Action::ViewPupils,
        Action::ManagePupils,
        Action::ViewReflectiveSessions,
        Action::ManageReflectiveSettings,
        Action::ScheduleReflectiveSessions,
        Action::RegisterForReflectiveSessions,
        Action::RegisterOthersForReflectiveSessions,
        Action::ViewReflectiveParticipation,
        Action::GiveReflectiveFeedback,
        Action::ViewReflectiveFeedback,
        Action::ManageSpaceToTalkSettings,
        Action::PublishSpaceToTalkRuns,
        Action::ViewSpaceToTalkSlots,
        Action::BookSpaceToTalk,
        Action::ViewSpaceToTalkBookings,
        Action::ChangeSpaceToTalkBookings,
        Action::RecordSpaceToTalkAttendance,
        Action::IssueSpaceToTalkLinks,
        Action::ViewSpaceToTalkFigures,
        Action::ViewSemhTemplates,
        Action::ManageSemhTemplates,
        Action::ManageSemhSettings,
        Action::RunSemhAudits,
        Action::ViewSemhRounds,
        Action::RespondToSemhAudits,
        Action::ManageSemhActions,
        Action::ViewSemhServicePicture,
    ];

    #[test]
    fn every_action_has_one_rule() {
        for action in ALL_ACTIONS {
            assert_eq!(RULES.iter().filter(|r| r.action == *action).count(), 1, "{action:?}");
        }
        assert_eq!(RULES.len(), ALL_ACTIONS.len());
    }

    #[test]
    fn reaches_fit_their_roles() {
        for rule in RULES {
            for grant in rule.grants {
                let fits = match grant.reach {
                    Service => grant.role.is_service_role(),
                    LinkedSchools | OwnCalendar => grant.role == Psychologist,
                    OwnSchool => grant.role.is_school_role(),
                    PartnerSchools => grant.role == PartnerClient,
                };
                assert!(
                    fits,
                    "{:?}: {:?} cannot reach {:?}",
                    rule.action, grant.role, grant.reach
                );
                assert!(grant.scope.is_none() || grant.role == PartnerClient);
            }
        }
    }

    #[test]
    fn nobody_reaches_another_service() {
        for action in ALL_ACTIONS {
            for role in Role::ALL {
                assert!(!table_allows(*role, PartnerScope::ALL, *action, Relation::OtherService));
            }
        }
    }

    #[test]
    fn a_senco_sees_their_school_and_nothing_else() {
        let service = ServiceId::new();
        let own = SchoolId::new();
        let other = SchoolId::new();
        let senco = Principal {
            actor: Actor::Person(PersonId::new()),
            memberships: vec![Membership {
                service_id: service,
                school_id: Some(own),
                role: Senco,
            }],
            partner: None,
        };
        let access = senco.static_access(Action::ViewSchools);
        assert!(access.permits_school(service, own));
        assert!(!access.permits_school(service, other));
        assert!(!access.permits_service_wide(service));
        assert!(senco.static_access(Action::ManageSchools).is_empty());
    }

    #[test]
    fn a_partner_needs_the_scope_and_stays_in_its_schools() {
        let service = ServiceId::new();
        let allowed = SchoolId::new();
        let mut client = Principal {
            actor: Actor::PartnerClient(PartnerClientId::new()),
            memberships: vec![],
            partner: Some(PartnerGrant {
                service_id: service,
                schools: Some([allowed].into()),
                scopes: [PartnerScope::BookingsRead].into(),
            }),
        };
        assert!(client.static_access(Action::ViewSchools).is_empty());
        let bookings = client.static_access(Action::ViewBookings);
        assert!(bookings.permits_school(service, allowed));
        assert!(!bookings.permits_school(service, SchoolId::new()));
        if let Some(p) = client.partner.as_mut() {
            p.schools = None;
        }
        assert!(client.static_access(Action::ViewBookings).permits_service_wide(service));
    }
}
