//! Anonymous feedback: once per attendee, a rating of 1 to 5 and a short optional comment,
//! stored without the person (the place only notes that feedback was given), and summarised per
//! session type for the service's administrators and the facilitating EPs.

use std::collections::BTreeMap;

use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

use super::sessions::for_step;
use super::states::Step;
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::{
    reflective_feedback as feedback, reflective_registration as registration, reflective_session_type as session_type,
};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{ReflectiveFeedbackId, ReflectiveSessionId, ReflectiveSessionTypeId, ServiceId};
use crate::model::PlaceStatus;
use crate::values;

/// The longest comment: short, and the form says nothing that identifies a pupil.
pub const MAX_COMMENT_LEN: usize = 280;

pub async fn give(
    db: &Db,
    caller: &Caller,
    session: ReflectiveSessionId,
    rating: i32,
    comment: Option<&str>,
) -> DomainResult<bool> {
    let mut p = Problems::new();
    if !(1..=5).contains(&rating) {
        p.add("rating", FieldErrorCode::OutOfRange, "must be between 1 and 5");
    }
    let comment = p
        .check(values::optional_text("comment", comment, MAX_COMMENT_LEN))
        .flatten();
    p.finish()?;
    let me = caller.principal.person_id().ok_or(DomainError::Forbidden)?;
    let txn = db::begin_write(db).await?;
    let (s, _) = for_step(
        &txn,
        caller,
        session,
        Action::GiveReflectiveFeedback,
        Step::GiveFeedback,
    )
    .await?;
    let rules = Door::service(&txn, s.service_id);
    let place = rules
        .find::<registration::Entity>()
        .filter(registration::Column::SessionId.eq(s.id))
        .filter(registration::Column::PersonId.eq(me))
        .filter(registration::Column::Status.eq(PlaceStatus::Registered))
        .one(&txn)
        .await?;
    let Some(place) = place.filter(|r| r.attended == Some(true)) else {
        return Err(DomainError::invalid(
            "sessionId",
            FieldErrorCode::NotAllowed,
            "only those who attended give feedback",
        ));
    };
    if place.feedback_given {
        return Err(DomainError::invalid(
            "sessionId",
            FieldErrorCode::InvalidState,
            "you have already given feedback",
        ));
    }
    let mut active: registration::ActiveModel = place.into();
    active.feedback_given = Set(true);
    rules.update(active).await?;
    let tz = crate::time::service_zone(&txn, s.service_id).await?;
    rules
        .insert_quiet(feedback::ActiveModel {
            id: Set(ReflectiveFeedbackId::new()),
            service_id: Set(s.service_id),
            session_id: Set(s.id),
            type_id: Set(s.type_id),
            facilitator_id: Set(s.facilitator_id),
            rating: Set(rating),
            comment: Set(comment),
            given_on: Set(crate::time::local_date(tz, chrono::Utc::now())),
        })
        .await?;
    // The log says feedback was given on the session, never which feedback.
    audit::log(
        &txn,
        caller,
        Entry::new("reflective_session.feedback", "ReflectiveSession", s.id).in_service(s.service_id),
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Feedback on one session type.
#[derive(Clone, Debug)]
pub struct TypeSummary {
    pub session_type: session_type::Model,
    pub responses: i64,
    /// Mean rating, when there is any.
    pub average: Option<f64>,
    /// How many gave each rating, 1 to 5.
    pub ratings: [i64; 5],
    pub comments: Vec<String>,
}

/// Feedback per session type the caller may read (administrators: all; an EP: their sessions').
pub async fn summary(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service: ServiceId,
) -> DomainResult<Vec<TypeSummary>> {
    let door = Door::open(conn, caller, Action::ViewReflectiveFeedback).await?;
    if !door.access().touches_service(service) {
        return Err(caller.principal.refusal(Action::ViewReflectiveFeedback, service, None));
    }
    let rows = door
        .find::<feedback::Entity>()
        .filter(feedback::Column::ServiceId.eq(service))
        .order_by_asc(feedback::Column::GivenOn)
        .order_by_asc(feedback::Column::Id)
        .all(conn)
        .await?;
    let types = Door::service(conn, service)
        .find::<session_type::Entity>()
        .order_by_asc(session_type::Column::CreatedAt)
        .all(conn)
        .await?;
    let mut by: BTreeMap<ReflectiveSessionTypeId, Vec<&feedback::Model>> = BTreeMap::new();
    for r in &rows {
        by.entry(r.type_id).or_default().push(r);
    }
    Ok(types
        .into_iter()
        .map(|t| {
            let got = by.get(&t.id).cloned().unwrap_or_default();
            let mut ratings = [0i64; 5];
            for r in &got {
                if let Some(n) = usize::try_from(r.rating - 1).ok().and_then(|i| ratings.get_mut(i)) {
                    *n += 1;
                }
            }
            let responses = got.len() as i64;
            let average =
                (responses > 0).then(|| got.iter().map(|r| f64::from(r.rating)).sum::<f64>() / responses as f64);
            TypeSummary {
                comments: got.iter().filter_map(|r| r.comment.clone()).collect(),
                session_type: t,
                responses,
                average,
                ratings,
            }
        })
        .collect())
}
