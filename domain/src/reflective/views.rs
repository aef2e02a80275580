//! A session as its reader may see it: the whole of it for its facilitator and the service's
//! administrators, a school's participation for its SENCO and leaders, one's own place for a
//! member of staff, and times and free places only for a partner client.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::sea_query::{Expr, Query, QueryStatementBuilder};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

use crate::access::{Action, Caller};
use crate::door::Door;
use crate::entities::{
    reflective_registration as registration, reflective_session as session,
    reflective_session_school as session_school, reflective_session_type as session_type,
};
use crate::error::{DomainError, DomainResult};
use crate::ids::{PersonId, ReflectiveSessionId, SchoolId, ServiceId};
use crate::model::{PlaceStatus, ReflectiveStatus};
use crate::page::{self, Page, PageRequest, Position, SortKey};

/// A place as its reader may see it.
#[derive(Clone, Debug)]
pub struct RegistrationView {
    pub row: registration::Model,
    /// Whether the reader sees the presenter's next step (the presenter and the facilitator).
    pub shows_next_step: bool,
}

#[derive(Clone, Debug)]
pub struct SessionView {
    pub row: session::Model,
    pub session_type: Option<session_type::Model>,
    /// The schools it is open to.
    pub schools: Vec<SchoolId>,
    pub registered: i64,
    pub waiting: i64,
    /// Times and free places only (a partner client).
    pub limited: bool,
    /// The places the reader may see (not cancelled ones).
    pub registrations: Vec<RegistrationView>,
}

impl SessionView {
    pub fn free_places(&self) -> i64 {
        (i64::from(self.row.capacity) - self.registered).max(0)
    }
}

pub(crate) fn shows_next_step(caller: &Caller, s: &session::Model, r: &registration::Model) -> bool {
    let me = caller.principal.person_id();
    me.is_some() && (me == Some(r.person_id) || me == Some(s.facilitator_id))
}

/// Views of sessions read through a door: a few statements per service, whatever the number.
pub(crate) async fn assemble(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    rows: Vec<session::Model>,
) -> DomainResult<Vec<SessionView>> {
    let participation = Door::open(conn, caller, Action::ViewReflectiveParticipation).await?;
    let me = caller.principal.person_id();
    let limited = caller.principal.partner.is_some();
    let services: BTreeSet<ServiceId> = rows.iter().map(|r| r.service_id).collect();
    let mut schools = Vec::new();
    let mut places = Vec::new();
    let mut types = Vec::new();
    for service in services {
        let door = Door::service(conn, service);
        let ids: Vec<ReflectiveSessionId> = rows.iter().filter(|r| r.service_id == service).map(|r| r.id).collect();
        let type_ids: BTreeSet<_> = rows
            .iter()
            .filter(|r| r.service_id == service)
            .map(|r| r.type_id)
            .collect();
        schools.extend(
            door.find::<session_school::Entity>()
                .filter(session_school::Column::SessionId.is_in(ids.clone()))
                .order_by_asc(session_school::Column::Id)
                .all(conn)
                .await?,
        );
        places.extend(
            door.find::<registration::Entity>()
                .filter(registration::Column::SessionId.is_in(ids))
                .filter(registration::Column::Status.ne(PlaceStatus::Cancelled))
                .order_by_asc(registration::Column::CreatedAt)
                .order_by_asc(registration::Column::Id)
                .all(conn)
                .await?,
        );
        types.extend(door.get_many::<session_type::Entity, _>(type_ids).await?);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let mine: Vec<&registration::Model> = places.iter().filter(|p| p.session_id == row.id).collect();
            let registered = mine.iter().filter(|p| p.status == PlaceStatus::Registered).count() as i64;
            let waiting = mine.iter().filter(|p| p.status == PlaceStatus::Waiting).count() as i64;
            let registrations = if limited {
                Vec::new()
            } else {
                mine.iter()
                    .filter(|p| {
                        me == Some(p.person_id)
                            || (me.is_some() && me == row.co_facilitator_id)
                            || participation
                                .access()
                                .permits(p.service_id, Some(p.school_id), Some(p.facilitator_id))
                    })
                    .map(|p| RegistrationView {
                        shows_next_step: shows_next_step(caller, &row, p),
                        row: (*p).clone(),
                    })
                    .collect()
            };
            SessionView {
                session_type: types.iter().find(|t| t.id == row.type_id).cloned(),
                schools: schools
                    .iter()
                    .filter(|s| s.session_id == row.id)
                    .map(|s| s.school_id)
                    .collect(),
                registered,
                waiting,
                limited,
                registrations,
                row,
            }
        })
        .collect())
}

/// One session the caller can see.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: ReflectiveSessionId) -> DomainResult<SessionView> {
    let row = Door::open(conn, caller, Action::ViewReflectiveSessions)
        .await?
        .get::<session::Entity>(id)
        .await?;
    assemble(conn, caller, vec![row])
        .await?
        .pop()
        .ok_or(DomainError::NotFound)
}

/// Scheduled sessions still to come that the caller can see (open to `school`, if given), with
/// free places when `with_free_places`, soonest first, a page at a time (the school and the free
/// places are conditions of the one statement, so a page costs the same whatever its size).
pub async fn upcoming(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school: Option<SchoolId>,
    with_free_places: bool,
    page: &PageRequest,
) -> DomainResult<Page<SessionView>> {
    use sea_orm::sea_query::ExprTrait;
    let window = page.window()?;
    let door = Door::open(conn, caller, Action::ViewReflectiveSessions).await?;
    door.require_any()?;
    let mut q = door
        .find::<session::Entity>()
        .filter(session::Column::Status.eq(ReflectiveStatus::Scheduled))
        .filter(session::Column::StartsAt.gt(Utc::now()));
    if let Some(s) = school {
        q = q.filter(
            session::Column::Id.in_subquery(
                Query::select()
                    .column(session_school::Column::SessionId)
                    .from(session_school::Entity)
                    .and_where(session_school::Column::SchoolId.eq(s))
                    .to_owned(),
            ),
        );
    }
    if with_free_places {
        let taken = Query::select()
            .expr(Expr::col((registration::Entity, registration::Column::Id)).count())
            .from(registration::Entity)
            .and_where(
                Expr::col((registration::Entity, registration::Column::SessionId))
                    .equals((session::Entity, session::Column::Id)),
            )
            .and_where(registration::Column::Status.eq(PlaceStatus::Registered))
            .to_owned();
        q = q.filter(
            Expr::col((session::Entity, session::Column::Capacity))
                .gt(Expr::SubQuery(None, Box::new(taken.into_sub_query_statement()))),
        );
    }
    let found = page::fetch(
        conn,
        q,
        session::Column::Id,
        SortKey::Time(session::Column::StartsAt),
        false,
        &window,
        |m: &session::Model| Position {
            key: Some(m.starts_at.to_rfc3339()),
            id: m.id.0,
        },
    )
    .await?;
    assembled_page(conn, caller, found).await
}

/// A page of session rows as views, in one go.
async fn assembled_page(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    found: Page<session::Model>,
) -> DomainResult<Page<SessionView>> {
    let (cursors, rows): (Vec<String>, Vec<session::Model>) = found.items.into_iter().unzip();
    let views = assemble(conn, caller, rows).await?;
    Ok(Page {
        items: cursors.into_iter().zip(views).collect(),
        has_next_page: found.has_next_page,
        has_previous_page: found.has_previous_page,
        total: found.total,
    })
}

/// The sessions of these places, as the caller may see them (those out of sight left out), in
/// a fixed number of statements.
pub async fn sessions_of(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    ids: Vec<ReflectiveSessionId>,
) -> DomainResult<Vec<SessionView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = Door::open(conn, caller, Action::ViewReflectiveSessions)
        .await?
        .get_many::<session::Entity, _>(ids)
        .await?;
    assemble(conn, caller, rows).await
}

/// The caller's own places, newest first (cancelled ones included, as history), a page at a time.
pub async fn my_registrations(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    page: &PageRequest,
) -> DomainResult<Page<RegistrationView>> {
    let Some(me) = caller.principal.person_id() else {
        return Err(DomainError::Forbidden);
    };
    let door = Door::open(conn, caller, Action::ViewReflectiveSessions).await?;
    places_of(conn, caller, door, me, page).await
}

/// Someone's places as the caller may see them (a SENCO or leader: at their school; the
/// facilitating EP: on their sessions; administrators: all), newest first, a page at a time.
/// Places out of reach are not listed.
pub async fn registrations_of(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    person: PersonId,
    page: &PageRequest,
) -> DomainResult<Page<RegistrationView>> {
    if caller.principal.person_id() == Some(person) {
        return my_registrations(conn, caller, page).await;
    }
    let door = Door::open(conn, caller, Action::ViewReflectiveParticipation).await?;
    door.require_any()?;
    places_of(conn, caller, door, person, page).await
}

async fn places_of<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    door: Door<'_, C>,
    person: PersonId,
    page: &PageRequest,
) -> DomainResult<Page<RegistrationView>> {
    let window = page.window()?;
    let q = door
        .find::<registration::Entity>()
        .filter(registration::Column::PersonId.eq(person));
    let found = page::fetch(
        conn,
        q,
        registration::Column::Id,
        SortKey::Time(registration::Column::CreatedAt),
        true,
        &window,
        |m: &registration::Model| Position {
            key: Some(m.created_at.to_rfc3339()),
            id: m.id.0,
        },
    )
    .await?;
    let me = caller.principal.person_id();
    Ok(found.map(|row| RegistrationView {
        // The presenter's next step: for the presenter and the facilitator only.
        shows_next_step: me.is_some() && (me == Some(row.person_id) || me == Some(row.facilitator_id)),
        row,
    }))
}
