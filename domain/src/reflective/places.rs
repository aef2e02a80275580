//! Places on a session: staff of the invited schools take one themselves, or their SENCO
//! registers them. The session row is locked while places are counted (SELECT ... FOR UPDATE on
//! PostgreSQL; SQLite writes one transaction at a time), so a session never has more people
//! registered than places: beyond capacity people wait in order, and a cancelled place goes to
//! the first waiting person in the same transaction. Roles and the presenter's next step live on
//! the place.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};

use super::sessions::for_step;
use super::states::{self, Step};
use super::views::{RegistrationView, SessionView, assemble, shows_next_step};
use crate::access::{Action, Caller, Role, refusal_text};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{membership, reflective_registration as registration, reflective_session as session};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{PersonId, ReflectiveRegistrationId, ReflectiveSessionId, SchoolId};
use crate::model::{PlaceStatus, ReflectiveRole};
use crate::values;

/// The longest next step (short: nothing that identifies a pupil belongs in it).
pub const MAX_NEXT_STEP_LEN: usize = 500;

/// A place taken or given up, and the session as it now stands.
pub struct PlaceChanged {
    pub registration: RegistrationView,
    /// The waiting person who got the place, when one was given up.
    pub promoted: Option<RegistrationView>,
    pub session: SessionView,
}

fn view(caller: &Caller, s: &session::Model, row: registration::Model) -> RegistrationView {
    RegistrationView {
        shows_next_step: shows_next_step(caller, s, &row),
        row,
    }
}

async fn session_view(txn: &impl ConnectionTrait, caller: &Caller, s: session::Model) -> DomainResult<SessionView> {
    assemble(txn, caller, vec![s]).await?.pop().ok_or(DomainError::NotFound)
}

/// The school through which `person` may take part: one of the session's schools where they
/// hold a school membership.
async fn school_of(txn: &impl ConnectionTrait, s: &session::Model, person: PersonId) -> DomainResult<Option<SchoolId>> {
    let rules = Door::service(txn, s.service_id);
    let open_to: Vec<SchoolId> = rules
        .find::<crate::entities::reflective_session_school::Entity>()
        .filter(crate::entities::reflective_session_school::Column::SessionId.eq(s.id))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| r.school_id)
        .collect();
    Ok(rules
        .find::<membership::Entity>()
        .filter(membership::Column::PersonId.eq(person))
        .filter(membership::Column::RevokedAt.is_null())
        .filter(membership::Column::Role.is_in([Role::Senco, Role::SchoolLeader, Role::SchoolStaff]))
        .filter(membership::Column::SchoolId.is_in(open_to))
        .order_by_asc(membership::Column::CreatedAt)
        .all(txn)
        .await?
        .into_iter()
        .find_map(|m| m.school_id))
}

/// Takes a place on a session for the caller, or (a SENCO, an administrator) for a member of
/// staff: REGISTERED while there is room, WAITING in order after that.
pub async fn register(
    db: &Db,
    caller: &Caller,
    id: ReflectiveSessionId,
    person: Option<PersonId>,
) -> DomainResult<PlaceChanged> {
    let me = caller.principal.person_id();
    let person = match person.or(me) {
        Some(p) => p,
        None => {
            return Err(DomainError::invalid(
                "personId",
                FieldErrorCode::Required,
                "name the person",
            ));
        }
    };
    let for_self = Some(person) == me;
    let action = if for_self {
        Action::RegisterForReflectiveSessions
    } else {
        Action::RegisterOthersForReflectiveSessions
    };
    let txn = db::begin_write(db).await?;
    // The lock: places are counted one registration at a time.
    let (s, _) = for_step(&txn, caller, id, action, Step::Register).await?;
    let not_staff = || {
        DomainError::invalid(
            "personId",
            FieldErrorCode::NotFound,
            "not a member of staff of a school this session is open to",
        )
    };
    let school = school_of(&txn, &s, person).await?.ok_or_else(not_staff)?;
    let door = Door::open(&txn, caller, action).await?;
    if !door.access().permits_school(s.service_id, school) {
        return Err(if for_self {
            DomainError::Refused(refusal_text(action))
        } else {
            not_staff()
        });
    }
    let rules = Door::service(&txn, s.service_id);
    let live = rules
        .find::<registration::Entity>()
        .filter(registration::Column::SessionId.eq(s.id))
        .filter(registration::Column::Status.ne(PlaceStatus::Cancelled))
        .all(&txn)
        .await?;
    if live.iter().any(|r| r.person_id == person) {
        return Err(DomainError::invalid(
            "personId",
            FieldErrorCode::InvalidState,
            "already has a place on this session, or is waiting for one",
        ));
    }
    let registered = live.iter().filter(|r| r.status == PlaceStatus::Registered).count();
    let (status, position) = if registered < usize::try_from(s.capacity).unwrap_or(0) {
        (PlaceStatus::Registered, None)
    } else {
        let last = live.iter().filter_map(|r| r.waiting_position).max().unwrap_or(0);
        (PlaceStatus::Waiting, Some(last + 1))
    };
    let now = Utc::now();
    let rid = ReflectiveRegistrationId::new();
    let row = door
        .insert(registration::ActiveModel {
            id: Set(rid),
            service_id: Set(s.service_id),
            school_id: Set(school),
            session_id: Set(s.id),
            person_id: Set(person),
            facilitator_id: Set(s.facilitator_id),
            status: Set(status),
            waiting_position: Set(position),
            role: Set(None),
            attended: Set(None),
            next_step: Set(None),
            feedback_given: Set(false),
            registered_by: Set(me),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_place.register", "ReflectiveRegistration", rid)
            .in_school(s.service_id, Some(school))
            .detail(serde_json::json!({ "sessionId": s.id, "status": status.as_str() })),
    )
    .await?;
    let registration = view(caller, &s, row);
    let session = session_view(&txn, caller, s).await?;
    txn.commit().await?;
    Ok(PlaceChanged {
        registration,
        promoted: None,
        session,
    })
}

/// Whether the caller may change someone's place: their own, a SENCO's (or administrator's) for
/// the school, or the facilitator's.
async fn may_change(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    s: &session::Model,
    r: &registration::Model,
) -> DomainResult<bool> {
    let own = caller.principal.person_id() == Some(r.person_id);
    if own {
        return Ok(true);
    }
    let others = Door::open(txn, caller, Action::RegisterOthersForReflectiveSessions).await?;
    if others.access().permits_school(r.service_id, r.school_id) {
        return Ok(true);
    }
    let runs = Door::open(txn, caller, Action::ScheduleReflectiveSessions).await?;
    Ok(runs.access().permits(s.service_id, None, Some(s.facilitator_id)))
}

/// Gives up a place (or a place on the waiting list). A place given up goes to the first waiting
/// person at once, in the same transaction.
pub async fn cancel(db: &Db, caller: &Caller, id: ReflectiveRegistrationId) -> DomainResult<PlaceChanged> {
    let txn = db::begin_write(db).await?;
    let seen = Door::open(&txn, caller, Action::ViewReflectiveSessions)
        .await?
        .get::<registration::Entity>(id)
        .await?;
    let rules = Door::service(&txn, seen.service_id);
    // The session's lock first, as registration takes it, then the place as it now is.
    let s = rules
        .find::<session::Entity>()
        .filter(session::Column::Id.eq(seen.session_id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let r = rules.get::<registration::Entity>(id).await?;
    if !may_change(&txn, caller, &s, &r).await? {
        return Err(DomainError::Refused(refusal_text(
            Action::RegisterOthersForReflectiveSessions,
        )));
    }
    states::check(Step::CancelPlace, s.status)?;
    if r.status == PlaceStatus::Cancelled {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "the place is already given up",
        ));
    }
    let was = r.status;
    let now = Utc::now();
    let mut active: registration::ActiveModel = r.into();
    active.status = Set(PlaceStatus::Cancelled);
    active.waiting_position = Set(None);
    active.updated_at = Set(now);
    let cancelled = rules.update(active).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_place.cancel", "ReflectiveRegistration", cancelled.id)
            .in_school(cancelled.service_id, Some(cancelled.school_id))
            .detail(serde_json::json!({ "sessionId": s.id, "was": was.as_str() })),
    )
    .await?;
    let mut promoted = None;
    if was == PlaceStatus::Registered {
        let first = rules
            .find::<registration::Entity>()
            .filter(registration::Column::SessionId.eq(s.id))
            .filter(registration::Column::Status.eq(PlaceStatus::Waiting))
            .order_by_asc(registration::Column::WaitingPosition)
            .order_by_asc(registration::Column::Id)
            .one(&txn)
            .await?;
        if let Some(w) = first {
            let mut active: registration::ActiveModel = w.into();
            active.status = Set(PlaceStatus::Registered);
            active.waiting_position = Set(None);
            active.updated_at = Set(now);
            let up = rules.update(active).await?;
            audit::log(
                &txn,
                caller,
                Entry::new("reflective_place.promote", "ReflectiveRegistration", up.id)
                    .in_school(up.service_id, Some(up.school_id))
                    .detail(serde_json::json!({ "sessionId": s.id })),
            )
            .await?;
            promoted = Some(view(caller, &s, up));
        }
    }
    let registration = view(caller, &s, cancelled);
    let session = session_view(&txn, caller, s).await?;
    txn.commit().await?;
    Ok(PlaceChanged {
        registration,
        promoted,
        session,
    })
}

/// Assigns (or clears) a participant's role, before or at the session: one presenter a session.
pub async fn assign_role(
    db: &Db,
    caller: &Caller,
    id: ReflectiveRegistrationId,
    role: Option<ReflectiveRole>,
) -> DomainResult<RegistrationView> {
    let txn = db::begin_write(db).await?;
    let r = door::for_change::<registration::Entity, _>(
        &txn,
        caller,
        id,
        Action::ViewReflectiveParticipation,
        Action::ScheduleReflectiveSessions,
    )
    .await?;
    let rules = Door::service(&txn, r.service_id);
    let s = rules.get::<session::Entity>(r.session_id).await?;
    states::check(Step::AssignRole, s.status)?;
    if r.status != PlaceStatus::Registered {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "only a registered place takes a role",
        ));
    }
    if role == Some(ReflectiveRole::Presenter) {
        let other = rules
            .find::<registration::Entity>()
            .filter(registration::Column::SessionId.eq(s.id))
            .filter(registration::Column::Status.eq(PlaceStatus::Registered))
            .filter(registration::Column::Role.eq(ReflectiveRole::Presenter))
            .filter(registration::Column::Id.ne(r.id))
            .one(&txn)
            .await?;
        if other.is_some() {
            return Err(DomainError::invalid(
                "role",
                FieldErrorCode::Taken,
                "the session already has a presenter",
            ));
        }
    }
    let mut active: registration::ActiveModel = r.into();
    active.role = Set(role);
    active.updated_at = Set(Utc::now());
    let saved = Door::open(&txn, caller, Action::ScheduleReflectiveSessions)
        .await?
        .update(active)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_place.role", "ReflectiveRegistration", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "role": role.map(|r| r.as_str()) })),
    )
    .await?;
    txn.commit().await?;
    Ok(view(caller, &s, saved))
}

/// Records the presenter's chosen next step, after the session: the presenter or the facilitator.
pub async fn record_next_step(
    db: &Db,
    caller: &Caller,
    id: ReflectiveRegistrationId,
    next_step: &str,
) -> DomainResult<RegistrationView> {
    let text = values::required_text("nextStep", next_step, MAX_NEXT_STEP_LEN)?;
    let txn = db::begin_write(db).await?;
    let seen = Door::open(&txn, caller, Action::ViewReflectiveSessions)
        .await?
        .get::<registration::Entity>(id)
        .await?;
    let rules = Door::service(&txn, seen.service_id);
    let s = rules.get::<session::Entity>(seen.session_id).await?;
    let me = caller.principal.person_id();
    if me.is_none() || (me != Some(seen.person_id) && me != Some(s.facilitator_id)) {
        return Err(DomainError::Refused(
            "Only the presenter and the facilitator may record the presenter's next step.".to_owned(),
        ));
    }
    states::check(Step::RecordNextStep, s.status)?;
    if seen.role != Some(ReflectiveRole::Presenter) {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "only the presenter's place has a next step",
        ));
    }
    let mut active: registration::ActiveModel = seen.into();
    active.next_step = Set(Some(text));
    active.updated_at = Set(Utc::now());
    let saved = rules.update(active).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_place.next_step", "ReflectiveRegistration", saved.id)
            .in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    txn.commit().await?;
    Ok(view(caller, &s, saved))
}
