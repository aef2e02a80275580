//! Pseudonymous pupil records, held by a school for its formal consultations: initials, year
//! group, date of birth and the school's own reference; never a name. Every read and write is
//! in the audit log; another school's pupil is not found.

use chrono::{Datelike, Months, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::pupil;
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{PupilId, SchoolId};
use crate::model::{RetentionRule, YearGroup};
use crate::page::{self, Page, PageRequest, Position, SortKey};
use crate::values;

/// Longest school reference.
pub const MAX_REFERENCE_LEN: usize = 32;

#[derive(Clone, Debug)]
pub struct NewPupil {
    pub school_id: SchoolId,
    pub initials: String,
    pub year_group: YearGroup,
    pub date_of_birth: NaiveDate,
    pub school_reference: Option<String>,
}

/// The date a child's record is destroyed after, under the service's rule.
pub fn destroy_after(rule: RetentionRule, date_of_birth: NaiveDate) -> NaiveDate {
    let years = match rule {
        RetentionRule::Age25 => 25,
        RetentionRule::BirthPlus31 => 31,
    };
    date_of_birth
        .checked_add_months(Months::new(12 * years))
        .unwrap_or(NaiveDate::MAX)
}

struct Checked {
    initials: String,
    date_of_birth: NaiveDate,
    school_reference: Option<String>,
}

fn check(p: &mut Problems, prefix: &str, input: &NewPupil) -> Option<Checked> {
    let field = |f: &str| format!("{prefix}{f}");
    let initials: String = input.initials.trim().to_uppercase();
    let initials_ok = (1..=4).contains(&initials.chars().count()) && initials.chars().all(|c| c.is_ascii_uppercase());
    if !initials_ok {
        p.add(
            &field("initials"),
            FieldErrorCode::Invalid,
            "must be one to four letters (initials only, never a name)",
        );
    }
    let today = Utc::now().date_naive();
    let dob = input.date_of_birth;
    let age = today.year() - dob.year();
    if dob > today || age > 25 {
        p.add(
            &field("dateOfBirth"),
            FieldErrorCode::OutOfRange,
            "must be the date of birth of a child or young person up to 25",
        );
    }
    let reference = p.check(values::optional_text(
        &field("schoolReference"),
        input.school_reference.as_deref(),
        MAX_REFERENCE_LEN,
    ));
    (initials_ok && dob <= today && age <= 25).then(|| Checked {
        initials,
        date_of_birth: dob,
        school_reference: reference.flatten(),
    })
}

/// Adds a pupil inside the caller's transaction (a request may bring its pupil with it).
pub(crate) async fn add_in(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    prefix: &str,
    input: NewPupil,
) -> DomainResult<pupil::Model> {
    let mut p = Problems::new();
    let checked = check(&mut p, prefix, &input);
    p.finish()?;
    let Some(c) = checked else {
        return Err(DomainError::invalid(
            prefix,
            FieldErrorCode::Invalid,
            "is not a valid pupil",
        ));
    };
    let school = door::for_reading::<crate::entities::school::Entity, _>(
        txn,
        caller,
        input.school_id,
        door::Sight::Any,
        Action::ManagePupils,
    )
    .await?;
    let rule = super::settings::of(txn, school.service_id).await?.retention_rule;
    let door = Door::open(txn, caller, Action::ManagePupils).await?;
    let row = door
        .insert(pupil::ActiveModel {
            id: Set(PupilId::new()),
            service_id: Set(school.service_id),
            school_id: Set(school.id),
            initials: Set(c.initials),
            year_group: Set(input.year_group),
            date_of_birth: Set(c.date_of_birth),
            school_reference: Set(c.school_reference),
            destroy_after: Set(destroy_after(rule, c.date_of_birth)),
            created_at: Set(Utc::now()),
            created_by: Set(caller.principal.person_id()),
        })
        .await?;
    audit::log(
        txn,
        caller,
        Entry::new("pupil.create", "Pupil", row.id).in_school(row.service_id, Some(row.school_id)),
    )
    .await?;
    Ok(row)
}

pub async fn add(db: &Db, caller: &Caller, input: NewPupil) -> DomainResult<pupil::Model> {
    let txn = db::begin_write(db).await?;
    let row = add_in(&txn, caller, "", input).await?;
    txn.commit().await?;
    Ok(row)
}

#[derive(Clone, Debug, Default)]
pub struct PupilPatch {
    pub initials: Option<String>,
    pub year_group: Option<YearGroup>,
    pub date_of_birth: Option<NaiveDate>,
    pub school_reference: Option<String>,
}

/// Corrects a pupil record (a year group moves on, a typo in the initials).
pub async fn update(db: &Db, caller: &Caller, id: PupilId, patch: PupilPatch) -> DomainResult<pupil::Model> {
    let txn = db::begin_write(db).await?;
    let current =
        door::for_change::<pupil::Entity, _>(&txn, caller, id, Action::ViewPupils, Action::ManagePupils).await?;
    let merged = NewPupil {
        school_id: current.school_id,
        initials: patch.initials.unwrap_or_else(|| current.initials.clone()),
        year_group: patch.year_group.unwrap_or(current.year_group),
        date_of_birth: patch.date_of_birth.unwrap_or(current.date_of_birth),
        school_reference: patch.school_reference.or_else(|| current.school_reference.clone()),
    };
    let mut p = Problems::new();
    let checked = check(&mut p, "", &merged);
    p.finish()?;
    let Some(c) = checked else {
        return Err(DomainError::invalid(
            "",
            FieldErrorCode::Invalid,
            "is not a valid pupil",
        ));
    };
    let rule = super::settings::of(&txn, current.service_id).await?.retention_rule;
    let door = Door::open(&txn, caller, Action::ManagePupils).await?;
    let mut row: pupil::ActiveModel = current.into();
    row.initials = Set(c.initials);
    row.year_group = Set(merged.year_group);
    row.date_of_birth = Set(c.date_of_birth);
    row.school_reference = Set(c.school_reference);
    row.destroy_after = Set(destroy_after(rule, c.date_of_birth));
    let saved = door.update(row).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("pupil.update", "Pupil", saved.id).in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Writes one audit entry per pupil read, in one statement.
pub(crate) async fn audit_reads(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    rows: &[&pupil::Model],
) -> DomainResult<()> {
    let entries = rows
        .iter()
        .map(|p| Entry::new("pupil.read", "Pupil", p.id).in_school(p.service_id, Some(p.school_id)))
        .collect();
    audit::log_many(conn, caller, entries).await
}

/// A pupil the caller can see, or not found; the read is audited.
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: PupilId) -> DomainResult<pupil::Model> {
    let row = Door::open(conn, caller, Action::ViewPupils)
        .await?
        .get::<pupil::Entity>(id)
        .await?;
    audit_reads(conn, caller, &[&row]).await?;
    Ok(row)
}

/// A school's pupils, by initials; the reads are audited.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school: SchoolId,
    page: &PageRequest,
) -> DomainResult<Page<pupil::Model>> {
    let window = page.window()?;
    let door = Door::open(conn, caller, Action::ViewPupils).await?;
    door.require_any()?;
    let select = door.find::<pupil::Entity>().filter(pupil::Column::SchoolId.eq(school));
    let found = page::fetch(
        conn,
        select,
        pupil::Column::Id,
        SortKey::Text(pupil::Column::Initials),
        false,
        &window,
        |m: &pupil::Model| Position {
            key: Some(m.initials.clone()),
            id: m.id.0,
        },
    )
    .await?;
    let rows: Vec<&pupil::Model> = found.items.iter().map(|(_, p)| p).collect();
    audit_reads(conn, caller, &rows).await?;
    Ok(found)
}
