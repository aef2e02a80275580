//! What a school's reflective sessions add up to: who has presented and in which roles people
//! have taken part (so that roles can rotate fairly), and the school's participation per term.
//! Read by the school's SENCO and leaders, the facilitating EPs and the service's administrators;
//! another school is not found. A few statements, whatever the number of sessions.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use crate::access::{Action, Caller};
use crate::door::{self, Door};
use crate::entities::{
    reflective_registration as registration, reflective_session as session,
    reflective_session_school as session_school, school,
};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{PersonId, ReflectiveSessionId, SchoolId};
use crate::model::{PlaceStatus, ReflectiveRole, ReflectiveStatus};
use crate::time::terms::{Span, TermCalendar};
use crate::time::{self, DateRange};

/// One person's part in a school's held sessions.
#[derive(Clone, Debug)]
pub struct PersonRoles {
    pub person_id: PersonId,
    /// Held sessions they had a place on, and those they attended.
    pub sessions: i64,
    pub attended: i64,
    pub presented: i64,
    pub last_presented_at: Option<DateTime<Utc>>,
    /// How often they took each role.
    pub roles: BTreeMap<ReflectiveRole, i64>,
}

/// A school's participation in one term.
#[derive(Clone, Debug)]
pub struct SchoolTerm {
    pub school_id: SchoolId,
    pub term: Span,
    /// Sessions open to the school in the term (not cancelled), and those held.
    pub sessions: i64,
    pub held: i64,
    /// Places the school's people took, waited for, and attended.
    pub places: i64,
    pub waiting: i64,
    pub attended: i64,
    /// People of the school who presented.
    pub presenters: i64,
}

/// The school, if the caller may see its participation (another school: not found).
async fn school_for(conn: &impl ConnectionTrait, caller: &Caller, id: SchoolId) -> DomainResult<school::Model> {
    door::for_reading::<school::Entity, _>(conn, caller, id, door::Sight::Any, Action::ViewReflectiveParticipation)
        .await
}

fn range_of(from: Option<NaiveDate>, to: Option<NaiveDate>) -> DomainResult<()> {
    match (from, to) {
        (Some(f), Some(t)) if t < f => Err(DomainError::invalid(
            "to",
            FieldErrorCode::OutOfRange,
            "must be on or after from",
        )),
        _ => Ok(()),
    }
}

/// Who from the school has taken part in its held sessions, and in which roles: those who have
/// presented least (and longest ago) first, so the next presenter is easy to choose.
pub async fn roles(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school_id: SchoolId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> DomainResult<Vec<PersonRoles>> {
    range_of(from, to)?;
    let school = school_for(conn, caller, school_id).await?;
    let tz = time::service_zone(conn, school.service_id).await?;
    let mut q = Door::service(conn, school.service_id)
        .find::<session::Entity>()
        .filter(session::Column::Status.eq(ReflectiveStatus::Held));
    if let Some(f) = from {
        q = q.filter(session::Column::StartsAt.gte(time::local_to_utc(tz, f, chrono::NaiveTime::MIN)));
    }
    if let Some(t) = to {
        let next = t + chrono::Duration::days(1);
        q = q.filter(session::Column::StartsAt.lt(time::local_to_utc(tz, next, chrono::NaiveTime::MIN)));
    }
    let held = q
        .filter(
            session::Column::Id.in_subquery(
                Query::select()
                    .column(session_school::Column::SessionId)
                    .from(session_school::Entity)
                    .and_where(session_school::Column::SchoolId.eq(school.id))
                    .to_owned(),
            ),
        )
        .all(conn)
        .await?;
    let when: BTreeMap<ReflectiveSessionId, DateTime<Utc>> = held.iter().map(|s| (s.id, s.starts_at)).collect();
    let places = Door::open(conn, caller, Action::ViewReflectiveParticipation)
        .await?
        .find::<registration::Entity>()
        .filter(registration::Column::SchoolId.eq(school.id))
        .filter(registration::Column::Status.eq(PlaceStatus::Registered))
        .filter(registration::Column::SessionId.is_in(when.keys().copied()))
        .all(conn)
        .await?;
    let mut by: BTreeMap<PersonId, PersonRoles> = BTreeMap::new();
    for p in places {
        let e = by.entry(p.person_id).or_insert_with(|| PersonRoles {
            person_id: p.person_id,
            sessions: 0,
            attended: 0,
            presented: 0,
            last_presented_at: None,
            roles: BTreeMap::new(),
        });
        e.sessions += 1;
        if p.attended == Some(true) {
            e.attended += 1;
        }
        if let Some(r) = p.role {
            *e.roles.entry(r).or_default() += 1;
            if r == ReflectiveRole::Presenter {
                e.presented += 1;
                let at = when.get(&p.session_id).copied();
                e.last_presented_at = e.last_presented_at.max(at);
            }
        }
    }
    let mut out: Vec<PersonRoles> = by.into_values().collect();
    out.sort_by(|a, b| {
        (
            a.presented,
            a.last_presented_at,
            std::cmp::Reverse(a.attended),
            a.person_id,
        )
            .cmp(&(
                b.presented,
                b.last_presented_at,
                std::cmp::Reverse(b.attended),
                b.person_id,
            ))
    });
    Ok(out)
}

/// The school's participation per term of the service's calendar, between two dates.
pub async fn participation(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school_id: SchoolId,
    from: NaiveDate,
    to: NaiveDate,
) -> DomainResult<Vec<SchoolTerm>> {
    let range = DateRange::new("to", from, to)?;
    let school = school_for(conn, caller, school_id).await?;
    let tz = time::service_zone(conn, school.service_id).await?;
    let terms = TermCalendar::load(conn, school.service_id).await?;
    let spans: Vec<Span> = terms
        .terms()
        .iter()
        .filter(|t| t.range.overlaps(&range))
        .cloned()
        .collect();
    let Some((first, last)) = spans.first().zip(spans.last()) else {
        return Ok(Vec::new());
    };
    let sessions = Door::service(conn, school.service_id)
        .find::<session::Entity>()
        .filter(session::Column::Status.ne(ReflectiveStatus::Cancelled))
        .filter(session::Column::StartsAt.gte(time::local_to_utc(tz, first.range.starts_on, chrono::NaiveTime::MIN)))
        .filter(session::Column::StartsAt.lt(time::local_to_utc(
            tz,
            last.range.ends_on + chrono::Duration::days(1),
            chrono::NaiveTime::MIN,
        )))
        .filter(
            session::Column::Id.in_subquery(
                Query::select()
                    .column(session_school::Column::SessionId)
                    .from(session_school::Entity)
                    .and_where(session_school::Column::SchoolId.eq(school.id))
                    .to_owned(),
            ),
        )
        .all(conn)
        .await?;
    let places = Door::open(conn, caller, Action::ViewReflectiveParticipation)
        .await?
        .find::<registration::Entity>()
        .filter(registration::Column::SchoolId.eq(school.id))
        .filter(registration::Column::Status.ne(PlaceStatus::Cancelled))
        .filter(registration::Column::SessionId.is_in(sessions.iter().map(|s| s.id)))
        .all(conn)
        .await?;
    Ok(spans
        .into_iter()
        .map(|term| {
            let mine: Vec<&session::Model> = sessions
                .iter()
                .filter(|s| term.range.contains(time::local_date(tz, s.starts_at)))
                .collect();
            let of = |p: &&registration::Model| mine.iter().any(|s| s.id == p.session_id);
            let here: Vec<&registration::Model> = places.iter().filter(of).collect();
            let mut presenters: Vec<PersonId> = here
                .iter()
                .filter(|p| p.role == Some(ReflectiveRole::Presenter) && p.status == PlaceStatus::Registered)
                .map(|p| p.person_id)
                .collect();
            presenters.sort();
            presenters.dedup();
            SchoolTerm {
                school_id: school.id,
                sessions: mine.len() as i64,
                held: mine.iter().filter(|s| s.status == ReflectiveStatus::Held).count() as i64,
                places: here.iter().filter(|p| p.status == PlaceStatus::Registered).count() as i64,
                waiting: here.iter().filter(|p| p.status == PlaceStatus::Waiting).count() as i64,
                attended: here.iter().filter(|p| p.attended == Some(true)).count() as i64,
                presenters: presenters.len() as i64,
                term,
            }
        })
        .collect())
}
