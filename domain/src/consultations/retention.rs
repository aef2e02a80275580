//! Retention of children's records: each pupil record has a destroy-after date from the
//! service's rule; `scps retention` destroys what is due (a dry run unless told to act) with its
//! consultations' personal content, and writes a disposal log that keeps no personal data.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter};

use crate::audit::{self, Entry, Who};
use crate::db::{self, Db};
use crate::door::Door;
use crate::entities::{consultation, consultation_action, consultation_record, disposal, pupil};
use crate::error::DomainResult;
use crate::identity;
use crate::ids::{DisposalId, SchoolId, ServiceId};

/// What is due (or was destroyed) in one school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub service_id: ServiceId,
    pub school_id: SchoolId,
    pub pupils: usize,
    pub consultations: usize,
}

/// Finds (and with `apply`, destroys) every pupil record due on `today`, school by school, in
/// one transaction per service.
pub async fn run(db: &Db, today: NaiveDate, apply: bool, request_id: &str) -> DomainResult<Vec<Due>> {
    let mut report = Vec::new();
    for service in identity::all_services(db).await? {
        let txn = db::begin_write(db).await?;
        let door = Door::service(&txn, service.id);
        let due = door
            .find::<pupil::Entity>()
            .filter(pupil::Column::DestroyAfter.lt(today))
            .all(&txn)
            .await?;
        if due.is_empty() {
            continue;
        }
        let pupil_ids: Vec<_> = due.iter().map(|p| p.id).collect();
        let consultations = door
            .find::<consultation::Entity>()
            .filter(consultation::Column::PupilId.is_in(pupil_ids.iter().copied()))
            .all(&txn)
            .await?;
        let mut by_school: BTreeMap<SchoolId, Due> = BTreeMap::new();
        for p in &due {
            by_school
                .entry(p.school_id)
                .or_insert_with(|| Due {
                    service_id: service.id,
                    school_id: p.school_id,
                    pupils: 0,
                    consultations: 0,
                })
                .pupils += 1;
        }
        for c in &consultations {
            if let Some(d) = by_school.get_mut(&c.school_id) {
                d.consultations += 1;
            }
        }
        if apply {
            let ids: Vec<_> = consultations.iter().map(|c| c.id).collect();
            door.delete_many::<consultation_record::Entity>()
                .filter(consultation_record::Column::ConsultationId.is_in(ids.iter().copied()))
                .exec(&txn)
                .await?;
            door.delete_many::<consultation_action::Entity>()
                .filter(consultation_action::Column::ConsultationId.is_in(ids.iter().copied()))
                .exec(&txn)
                .await?;
            let none: Option<String> = None;
            door.update_many::<consultation::Entity>()
                .col_expr(consultation::Column::PupilId, Expr::value(Option::<uuid::Uuid>::None))
                .col_expr(consultation::Column::Strengths, Expr::value(none.clone()))
                .col_expr(consultation::Column::Tried, Expr::value(none.clone()))
                .col_expr(consultation::Column::HopedOutcomes, Expr::value(none.clone()))
                .col_expr(consultation::Column::PreferredTimes, Expr::value(none.clone()))
                .col_expr(consultation::Column::TriageNote, Expr::value(none))
                .col_expr(consultation::Column::ContentDestroyedAt, Expr::value(Utc::now()))
                .filter(consultation::Column::Id.is_in(ids.iter().copied()))
                .exec(&txn)
                .await?;
            // Consents go with their pupil.
            door.delete_many::<pupil::Entity>()
                .filter(pupil::Column::Id.is_in(pupil_ids.iter().copied()))
                .exec(&txn)
                .await?;
            let rule = super::settings::of(&txn, service.id).await?.retention_rule;
            let rows: Vec<disposal::ActiveModel> = by_school
                .values()
                .map(|d| disposal::ActiveModel {
                    id: Set(DisposalId::new()),
                    service_id: Set(d.service_id),
                    school_id: Set(d.school_id),
                    disposed_at: Set(Utc::now()),
                    rule: Set(rule),
                    pupils: Set(d.pupils as i32),
                    consultations: Set(d.consultations as i32),
                })
                .collect();
            door.insert_all(rows).await?;
            for d in by_school.values() {
                audit::record(
                    &txn,
                    Who::System { request_id },
                    Entry::new("retention.dispose", "School", d.school_id)
                        .in_school(d.service_id, Some(d.school_id))
                        .detail(serde_json::json!({ "pupils": d.pupils, "consultations": d.consultations })),
                )
                .await?;
            }
            txn.commit().await?;
        }
        report.extend(by_school.into_values());
    }
    Ok(report)
}
