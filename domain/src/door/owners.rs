//! Where each tenant-owned row belongs, declared once per entity: the columns that carry its
//! service, its school and its EP. The door derives from this both the condition it adds to
//! queries and the check it makes on rows it inserts; nothing else writes either by hand.

use sea_orm::sea_query::Query;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait};

use super::{nothing, uuid_in};
use crate::access::Access;
use crate::entities::*;
use crate::ids::{PersonId, SchoolId, ServiceId};

/// Whether a row is seen by everyone who reaches anything in its service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shared {
    /// Only by those whose reach includes its school or EP (or the whole service).
    No,
    /// By anyone in the service: settings and the calendar; with a school column, the rows
    /// without a school (a service-wide closure, an administrator's membership).
    InService,
}

/// The columns that say where a row belongs.
#[derive(Clone, Copy, Debug)]
pub struct Owner<C> {
    pub service: C,
    pub school: Option<C>,
    pub ep: Option<C>,
    pub shared: Shared,
}

impl<C: ColumnTrait + Copy> Owner<C> {
    /// Rows in reach: those seen (`seen`), or those that may be changed (sharing widens what is
    /// seen, never what is written).
    pub fn condition(&self, access: &Access, seen: bool) -> Condition {
        let mut any = Condition::any().add(access.condition(self.service, self.school, self.ep));
        if seen && self.shared == Shared::InService {
            let services = access.all_services();
            if !services.is_empty() {
                let in_service = self.service.is_in(services);
                any = any.add(match self.school {
                    None => Condition::all().add(in_service),
                    Some(school) => Condition::all().add(school.is_null()).add(in_service),
                });
            }
        }
        any
    }

    /// Whether a row whose columns have these values may be written: the whole service, or its
    /// school, or its EP's calendar is in reach.
    pub fn admits(&self, access: &Access, value: impl Fn(C) -> Option<uuid::Uuid>) -> bool {
        let Some(service) = value(self.service).map(ServiceId) else {
            return false;
        };
        let school = self.school.and_then(&value).map(SchoolId);
        let ep = self.ep.and_then(&value).map(PersonId);
        access.permits(service, school, ep)
    }
}

/// A tenant-owned entity: where its rows belong, and so which of them a reach includes.
pub trait Tenanted: EntityTrait {
    /// Its owner columns; `None` for rows reached through another table.
    const OWNER: Option<Owner<Self::Column>>;

    /// The rows in reach to be seen.
    fn within(access: &Access) -> Condition {
        match Self::OWNER {
            Some(owner) => owner.condition(access, true),
            None => nothing(),
        }
    }

    /// The rows in reach to be changed or deleted.
    fn writable(access: &Access) -> Condition {
        match Self::OWNER {
            Some(owner) => owner.condition(access, false),
            None => nothing(),
        }
    }

    /// Whether a row being written lies in reach. Rows reached through another table are
    /// written under their parent ([`super::Door::insert_under`]).
    fn admits<A: ActiveModelTrait<Entity = Self>>(access: &Access, row: &A) -> bool {
        Self::OWNER.is_some_and(|owner| owner.admits(access, |c| uuid_in(row.get(c).into_value())))
    }
}

/// Rows whose `parent` column names a row of `P` (by its `id` column) that meets `condition`.
fn through<P: Tenanted>(parent: impl ColumnTrait, id: P::Column, condition: Condition) -> Condition {
    let ids = Query::select()
        .column(id)
        .from(P::default())
        .cond_where(condition)
        .to_owned();
    Condition::all().add(parent.in_subquery(ids))
}

/// Declares entities' owner columns.
macro_rules! owned {
    ($($entity:ident { service: $service:ident $(, school: $school:ident)? $(, ep: $ep:ident)?, shared: $shared:ident })+) => {$(
        impl Tenanted for $entity::Entity {
            const OWNER: Option<Owner<$entity::Column>> = Some(Owner {
                service: $entity::Column::$service,
                school: owned!(@opt $entity $($school)?),
                ep: owned!(@opt $entity $($ep)?),
                shared: Shared::$shared,
            });
        }
    )+};
    (@opt $entity:ident) => { None };
    (@opt $entity:ident $column:ident) => { Some($entity::Column::$column) };
}

owned! {
    service { service: Id, shared: InService }
    school { service: ServiceId, school: Id, shared: No }
    partner_client { service: ServiceId, shared: No }
    partner_client_school { service: ServiceId, school: SchoolId, shared: No }
    audit_event { service: ServiceId, school: SchoolId, shared: No }
    time_settings { service: ServiceId, shared: InService }
    time_unit { service: ServiceId, shared: InService }
    academic_year { service: ServiceId, shared: InService }
    term { service: ServiceId, shared: InService }
    closure { service: ServiceId, school: SchoolId, shared: InService }
    contract { service: ServiceId, school: SchoolId, shared: No }
    contract_top_up { service: ServiceId, school: SchoolId, shared: No }
    working_pattern { service: ServiceId, ep: EpId, shared: No }
    calendar_exception { service: ServiceId, ep: EpId, shared: No }
    booking { service: ServiceId, school: SchoolId, ep: EpId, shared: No }
    booking_series { service: ServiceId, school: SchoolId, ep: EpId, shared: No }
    ledger_entry { service: ServiceId, school: SchoolId, ep: EpId, shared: No }
    consultation_settings { service: ServiceId, shared: InService }
    pupil { service: ServiceId, school: SchoolId, shared: No }
    consultation { service: ServiceId, school: SchoolId, ep: EpId, shared: No }
    consent { service: ServiceId, school: SchoolId, shared: No }
    consultation_record { service: ServiceId, school: SchoolId, ep: EpId, shared: No }
    consultation_action { service: ServiceId, school: SchoolId, shared: No }
    disposal { service: ServiceId, school: SchoolId, shared: No }
    reflective_settings { service: ServiceId, shared: InService }
    reflective_session_type { service: ServiceId, shared: InService }
    reflective_session_school { service: ServiceId, school: SchoolId, ep: FacilitatorId, shared: No }
    reflective_registration { service: ServiceId, school: SchoolId, ep: FacilitatorId, shared: No }
    reflective_feedback { service: ServiceId, ep: FacilitatorId, shared: No }
    space_to_talk_settings { service: ServiceId, shared: InService }
    space_to_talk_run_school { service: ServiceId, school: SchoolId, ep: EpId, shared: No }
    space_to_talk_booking { service: ServiceId, school: SchoolId, ep: EpId, shared: No }
    space_to_talk_link { service: ServiceId, school: SchoolId, shared: No }
    semh_settings { service: ServiceId, shared: InService }
    semh_template { service: ServiceId, shared: InService }
    semh_section { service: ServiceId, shared: InService }
    semh_item { service: ServiceId, shared: InService }
    semh_round { service: ServiceId, school: SchoolId, ep: EpId, shared: No }
    semh_respondent { service: ServiceId, school: SchoolId, shared: No }
    semh_response { service: ServiceId, school: SchoolId, shared: No }
    semh_consensus { service: ServiceId, school: SchoolId, shared: No }
    semh_action { service: ServiceId, school: SchoolId, shared: No }
}

/// The runs open to the schools in reach.
fn space_to_talk_runs_open_to(access: &Access) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(space_to_talk_run_school::Column::RunId)
        .from(space_to_talk_run_school::Entity)
        .cond_where(space_to_talk_run_school::Entity::within(access))
        .to_owned()
}

/// A Space to Talk run belongs to its service and its EP, and is seen by those who reach one of
/// the schools it is open to; it is changed only within its service or by its EP.
impl Tenanted for space_to_talk_run::Entity {
    const OWNER: Option<Owner<space_to_talk_run::Column>> = Some(Owner {
        service: space_to_talk_run::Column::ServiceId,
        school: None,
        ep: Some(space_to_talk_run::Column::EpId),
        shared: Shared::No,
    });

    fn within(access: &Access) -> Condition {
        let mut any = Condition::any();
        if let Some(owner) = Self::OWNER {
            any = any.add(owner.condition(access, true));
        }
        any.add(space_to_talk_run::Column::Id.in_subquery(space_to_talk_runs_open_to(access)))
    }
}

/// A slot belongs to its run's service and EP, and is seen where its run is.
impl Tenanted for space_to_talk_slot::Entity {
    const OWNER: Option<Owner<space_to_talk_slot::Column>> = Some(Owner {
        service: space_to_talk_slot::Column::ServiceId,
        school: None,
        ep: Some(space_to_talk_slot::Column::EpId),
        shared: Shared::No,
    });

    fn within(access: &Access) -> Condition {
        let mut any = Condition::any();
        if let Some(owner) = Self::OWNER {
            any = any.add(owner.condition(access, true));
        }
        any.add(space_to_talk_slot::Column::RunId.in_subquery(space_to_talk_runs_open_to(access)))
    }
}

/// A reflective session belongs to its service and its facilitator, and is seen by those who
/// reach one of the schools it is open to and by its second facilitator; it is changed only
/// within its service or by its facilitator.
impl Tenanted for reflective_session::Entity {
    const OWNER: Option<Owner<reflective_session::Column>> = Some(SESSION_OWNER);

    fn within(access: &Access) -> Condition {
        let open_to = Query::select()
            .column(reflective_session_school::Column::SessionId)
            .from(reflective_session_school::Entity)
            .cond_where(reflective_session_school::Entity::within(access))
            .to_owned();
        Condition::any()
            .add(SESSION_OWNER.condition(access, true))
            .add(access.condition(
                reflective_session::Column::ServiceId,
                None,
                Some(reflective_session::Column::CoFacilitatorId),
            ))
            .add(reflective_session::Column::Id.in_subquery(open_to))
    }
}

const SESSION_OWNER: Owner<reflective_session::Column> = Owner {
    service: reflective_session::Column::ServiceId,
    school: None,
    ep: Some(reflective_session::Column::FacilitatorId),
    shared: Shared::No,
};

/// Memberships belong to their school (or, service-wide ones, to the service, seen by all in it);
/// a person also always sees their own.
impl Tenanted for membership::Entity {
    const OWNER: Option<Owner<membership::Column>> = Some(MEMBERSHIP_OWNER);

    fn within(access: &Access) -> Condition {
        let mut any = Condition::any().add(MEMBERSHIP_OWNER.condition(access, true));
        if let Some(me) = access.person {
            any = any.add(membership::Column::PersonId.eq(me));
        }
        any
    }
}

const MEMBERSHIP_OWNER: Owner<membership::Column> = Owner {
    service: membership::Column::ServiceId,
    school: Some(membership::Column::SchoolId),
    ep: None,
    shared: Shared::InService,
};

/// People are one account across services: a person is in reach through a membership in reach
/// (and the caller is always in their own reach).
impl Tenanted for person::Entity {
    const OWNER: Option<Owner<person::Column>> = None;

    fn within(access: &Access) -> Condition {
        people(membership::Entity::within(access), access)
    }

    fn writable(access: &Access) -> Condition {
        people(membership::Entity::writable(access), access)
    }
}

/// People holding an active membership that meets `memberships`, and the caller.
fn people(memberships: Condition, access: &Access) -> Condition {
    let holds = Query::select()
        .column(membership::Column::PersonId)
        .from(membership::Entity)
        .cond_where(
            Condition::all()
                .add(membership::Column::RevokedAt.is_null())
                .add(memberships),
        )
        .to_owned();
    let mut any = Condition::any().add(person::Column::Id.in_subquery(holds));
    if let Some(me) = access.person {
        any = any.add(person::Column::Id.eq(me));
    }
    any
}

/// Working hours belong to their pattern.
impl Tenanted for working_hours::Entity {
    const OWNER: Option<Owner<working_hours::Column>> = None;

    fn within(access: &Access) -> Condition {
        through::<working_pattern::Entity>(
            working_hours::Column::PatternId,
            working_pattern::Column::Id,
            working_pattern::Entity::within(access),
        )
    }

    fn writable(access: &Access) -> Condition {
        through::<working_pattern::Entity>(
            working_hours::Column::PatternId,
            working_pattern::Column::Id,
            working_pattern::Entity::writable(access),
        )
    }
}
