//! A table of a whole-staff session, reached through its own link: the facilitator sees the
//! round's items and the table's answers so far, and enters the table's answers, without an
//! account. The link is a 256-bit token stored as a digest; it works for this table of this
//! round alone, until the session ends or the round is submitted, and is then not found, exactly
//! like a link that never existed.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect};

use super::rounds::{Answer, check_answers, write_answers};
use super::states::{self, RoundStep};
use super::templates::{self, TemplateView};
use crate::audit::{self, Entry, Who};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{
    school, semh_respondent as respondent, semh_response as response, semh_round as round, semh_template as template,
};
use crate::error::{DomainError, DomainResult};
use crate::model::SemhRoundStatus;
use crate::secrets;

/// The prefix of a table's link token.
pub const PREFIX: &str = "smt_";

/// A live table link, with what the facilitator sees.
#[derive(Clone, Debug)]
pub struct Opened {
    pub table: respondent::Model,
    pub round: round::Model,
    pub template: Arc<TemplateView>,
    pub school_name: String,
    /// The table's answers so far.
    pub responses: Vec<response::Model>,
}

fn plausible(token: &str) -> bool {
    token.starts_with(PREFIX)
        && token.len() <= 100
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The table a token opens (locked for a change when `lock`): not found when wrong, expired or
/// the round is no longer open.
async fn table_of(conn: &impl ConnectionTrait, token: &str) -> DomainResult<(respondent::Model, round::Model)> {
    if !plausible(token) {
        return Err(DomainError::NotFound);
    }
    let table = door::by_credential::<respondent::Entity, _>(
        conn,
        respondent::Column::LinkDigest,
        &secrets::token_digest(token),
    )
    .await?
    .ok_or(DomainError::NotFound)?;
    if table.link_expires_at.is_none_or(|e| e <= Utc::now()) {
        return Err(DomainError::NotFound);
    }
    let round = Door::service(conn, table.service_id)
        .get::<round::Entity>(table.round_id)
        .await?;
    if round.status != SemhRoundStatus::Open {
        return Err(DomainError::NotFound);
    }
    Ok((table, round))
}

async fn opened(conn: &impl ConnectionTrait, table: respondent::Model, round: round::Model) -> DomainResult<Opened> {
    let door = Door::service(conn, table.service_id);
    let version = door.get::<template::Entity>(round.template_id).await?;
    let template = templates::views_of(conn, vec![version])
        .await?
        .pop()
        .ok_or(DomainError::NotFound)?;
    let s = door.get::<school::Entity>(round.school_id).await?;
    let responses = door
        .find::<response::Entity>()
        .filter(response::Column::RespondentId.eq(table.id))
        .all(conn)
        .await?;
    Ok(Opened {
        table,
        round,
        template: Arc::new(template),
        school_name: s.name,
        responses,
    })
}

/// What a table's link shows.
pub async fn open(conn: &impl ConnectionTrait, token: &str) -> DomainResult<Opened> {
    let (table, round) = table_of(conn, token).await?;
    opened(conn, table, round).await
}

/// Records the table's answers (replacing its earlier answers to the same items).
pub async fn respond(db: &Db, token: &str, answers: Vec<Answer>, request_id: &str) -> DomainResult<Opened> {
    let txn = db::begin_write(db).await?;
    let (table, round) = table_of(&txn, token).await?;
    // Lock the round so a submission cannot pass between the check and the write.
    let round = Door::service(&txn, round.service_id)
        .find::<round::Entity>()
        .filter(round::Column::Id.eq(round.id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    states::check_round("token", RoundStep::Respond, round.status).map_err(|_| DomainError::NotFound)?;
    let view = opened(&txn, table, round).await?;
    let answers = check_answers(&view.template, answers, "responses")?;
    let door = Door::service(&txn, view.round.service_id);
    let n = write_answers(&door, &view.round, view.table.id, answers).await?;
    audit::record(
        &txn,
        Who::Anonymous { request_id },
        Entry::new("semh_round.respond", "SemhRound", view.round.id)
            .in_school(view.round.service_id, Some(view.round.school_id))
            .detail(serde_json::json!({ "respondentId": view.table.id, "answers": n, "via": "table_link" })),
    )
    .await?;
    let out = opened(&txn, view.table, view.round).await?;
    txn.commit().await?;
    Ok(out)
}
