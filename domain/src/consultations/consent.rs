//! Consent for formal consultations: who gave it, how, when, for what and until when. Consent
//! covers EP involvement with one child, so it serves every consultation about that pupil; a
//! withdrawal stops them all, cancels their future meetings under the policy, and is recorded.

use chrono::{Months, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use super::states::{self, Step};
use super::{View, for_step, save, status_on, today};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{consent, consultation};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{ConsentId, ConsultationId, PupilId};
use crate::model::{CancelledFor, ConsentGiver, ConsentMethod, ConsultationKind, ConsultationStatus};
use crate::time::bookings;
use crate::values;

/// Longest relationship or agency name.
const MAX_SHORT_TEXT: usize = 100;
/// At most this many agencies named in one consent.
const MAX_AGENCIES: usize = 10;

#[derive(Clone, Debug)]
pub struct NewConsent {
    pub given_by: ConsentGiver,
    pub relationship: Option<String>,
    pub given_on: NaiveDate,
    pub method: ConsentMethod,
    pub covers_ep_involvement: bool,
    pub share_with: Vec<String>,
    /// Default: the service's consent period after `given_on`.
    pub expires_on: Option<NaiveDate>,
}

/// Whether any of these consents allows EP involvement on `on`.
pub fn valid_on(consents: &[consent::Model], on: NaiveDate) -> bool {
    consents
        .iter()
        .any(|c| c.covers_ep_involvement && c.withdrawn_on.is_none() && c.given_on <= on && on <= c.expires_on)
}

/// The consents recorded for a pupil.
pub(crate) async fn of_pupil(
    conn: &impl ConnectionTrait,
    row: &consultation::Model,
) -> DomainResult<Vec<consent::Model>> {
    let Some(pupil) = row.pupil_id else {
        return Ok(Vec::new());
    };
    Ok(Door::service(conn, row.service_id)
        .find::<consent::Entity>()
        .filter(consent::Column::PupilId.eq(pupil))
        .all(conn)
        .await?)
}

/// Refuses formal work on `on` without valid consent.
pub(crate) async fn require_valid(
    conn: &impl ConnectionTrait,
    row: &consultation::Model,
    on: NaiveDate,
    field: &str,
) -> DomainResult<()> {
    if row.kind != ConsultationKind::Formal || valid_on(&of_pupil(conn, row).await?, on) {
        return Ok(());
    }
    Err(DomainError::invalid(
        field,
        FieldErrorCode::NotAllowed,
        format!("a formal consultation needs valid consent for EP involvement on {on}: record it first"),
    ))
}

/// Records consent inside the caller's transaction, for a formal consultation's pupil.
pub(crate) async fn record_in(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    row: &consultation::Model,
    prefix: &str,
    input: NewConsent,
) -> DomainResult<consent::Model> {
    let field = |f: &str| format!("{prefix}{f}");
    let Some(pupil) = row.pupil_id.filter(|_| row.kind == ConsultationKind::Formal) else {
        return Err(DomainError::invalid(
            &field("givenBy"),
            FieldErrorCode::NotAllowed,
            "consent is recorded for formal consultations only (a professional consultation names no child)",
        ));
    };
    let months = super::settings::of(txn, row.service_id).await?.consent_months;
    let mut p = Problems::new();
    let relationship = p
        .check(values::optional_text(
            &field("relationship"),
            input.relationship.as_deref(),
            MAX_SHORT_TEXT,
        ))
        .flatten();
    crate::time::Day::parse(&field("givenOn"), input.given_on)?;
    if input.given_on > today() {
        p.add(
            &field("givenOn"),
            FieldErrorCode::OutOfRange,
            "must not be in the future",
        );
    }
    let expires_on = input.expires_on.unwrap_or_else(|| {
        input
            .given_on
            .checked_add_months(Months::new(months as u32))
            .unwrap_or(input.given_on)
    });
    if expires_on <= input.given_on {
        p.add(
            &field("expiresOn"),
            FieldErrorCode::OutOfRange,
            "must be after the date consent was given",
        );
    }
    if input.share_with.len() > MAX_AGENCIES {
        p.add(
            &field("shareWith"),
            FieldErrorCode::TooLong,
            format!("name at most {MAX_AGENCIES} agencies"),
        );
    }
    let mut agencies = Vec::new();
    for (i, a) in input.share_with.iter().enumerate() {
        if let Some(a) = p.check(values::required_text(
            &field(&format!("shareWith.{i}")),
            a,
            MAX_SHORT_TEXT,
        )) {
            agencies.push(a.replace('\n', " "));
        }
    }
    p.finish()?;
    let door = Door::open(txn, caller, Action::ManageConsent).await?;
    let saved = door
        .insert(consent::ActiveModel {
            id: Set(ConsentId::new()),
            service_id: Set(row.service_id),
            school_id: Set(row.school_id),
            consultation_id: Set(row.id),
            pupil_id: Set(pupil),
            given_by: Set(input.given_by),
            relationship: Set(relationship),
            given_on: Set(input.given_on),
            method: Set(input.method),
            covers_ep_involvement: Set(input.covers_ep_involvement),
            share_with: Set((!agencies.is_empty()).then(|| agencies.join("\n"))),
            expires_on: Set(expires_on),
            withdrawn_on: Set(None),
            withdrawal_reason: Set(None),
            recorded_by: Set(caller.principal.person_id()),
            recorded_at: Set(Utc::now()),
        })
        .await?;
    audit::log(
        txn,
        caller,
        Entry::new("consent.record", "Consent", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "consultationId": row.id })),
    )
    .await?;
    Ok(saved)
}

/// Records consent for a formal consultation's pupil.
pub async fn record(db: &Db, caller: &Caller, id: ConsultationId, input: NewConsent) -> DomainResult<View> {
    let txn = db::begin_write(db).await?;
    let (row, _) = for_step(&txn, caller, id, Action::ManageConsent, Step::RecordConsent).await?;
    record_in(&txn, caller, &row, "", input).await?;
    let view = super::view_of(&txn, caller, row, Vec::new()).await?;
    txn.commit().await?;
    Ok(view)
}

/// What a withdrawal stopped.
pub struct Withdrawal {
    pub consent: consent::Model,
    /// The consultations about the pupil that were stopped.
    pub withdrawn: Vec<ConsultationId>,
    /// Minutes charged to the school for late-cancelled meetings.
    pub charged_minutes: i64,
}

/// Withdraws consent: every open consultation about the pupil is withdrawn and its future
/// meeting cancelled under the cancellation policy, in one transaction.
pub async fn withdraw(
    db: &Db,
    caller: &Caller,
    id: ConsentId,
    reason: &str,
    on: Option<NaiveDate>,
) -> DomainResult<Withdrawal> {
    let reason = values::required_text("reason", reason, values::MAX_REASON_LEN)?;
    let on = on.unwrap_or_else(today);
    if on > today() {
        return Err(DomainError::invalid(
            "on",
            FieldErrorCode::OutOfRange,
            "must not be in the future",
        ));
    }
    let txn = db::begin_write(db).await?;
    let current =
        door::for_change::<consent::Entity, _>(&txn, caller, id, Action::ViewConsultations, Action::ManageConsent)
            .await?;
    if current.withdrawn_on.is_some() {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            "this consent was already withdrawn",
        ));
    }
    let door = Door::open(&txn, caller, Action::ManageConsent).await?;
    let mut row: consent::ActiveModel = current.clone().into();
    row.withdrawn_on = Set(Some(on));
    row.withdrawal_reason = Set(Some(reason.clone()));
    let saved = door.update(row).await?;
    let (withdrawn, charged_minutes) = stop_pupil_work(&txn, caller, current.pupil_id, current.service_id).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("consent.withdraw", "Consent", saved.id)
            .in_school(saved.service_id, Some(saved.school_id))
            .detail(serde_json::json!({ "consultationsWithdrawn": withdrawn.len() })),
    )
    .await?;
    txn.commit().await?;
    Ok(Withdrawal {
        consent: saved,
        withdrawn,
        charged_minutes,
    })
}

/// Withdraws every open consultation about a pupil whose consent is gone, cancelling meetings
/// still to come.
async fn stop_pupil_work(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    pupil: PupilId,
    service: crate::ids::ServiceId,
) -> DomainResult<(Vec<ConsultationId>, i64)> {
    let rows = Door::service(txn, service)
        .find::<consultation::Entity>()
        .filter(consultation::Column::PupilId.eq(pupil))
        .all(txn)
        .await?;
    let today = today();
    let mut withdrawn = Vec::new();
    let mut charged = 0;
    for row in rows {
        let status = status_on(&row, today);
        if !states::allows(Step::ConsentWithdrawn, status) {
            continue;
        }
        if status == ConsultationStatus::Scheduled
            && let Some(b) = row.booking_id
        {
            let cancelled = bookings::cancel_by_id_in(
                txn,
                caller,
                b,
                Some(CancelledFor::School),
                "Consent was withdrawn".to_owned(),
            )
            .await?;
            charged += cancelled.charged_minutes;
        }
        let id = row.id;
        save(
            txn,
            caller,
            Action::ManageConsent,
            row,
            ConsultationStatus::Withdrawn,
            |r| {
                r.triage_note = Set(Some("Consent was withdrawn".to_owned()));
            },
        )
        .await?;
        audit::log(
            txn,
            caller,
            Entry::new("consultation.withdraw", "Consultation", id)
                .in_service(service)
                .detail(serde_json::json!({ "because": "consent withdrawn" })),
        )
        .await?;
        withdrawn.push(id);
    }
    Ok((withdrawn, charged))
}
