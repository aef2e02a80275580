//! Contracts: what a school bought (or was given) for a period, in a unit of the service,
//! from one funding stream, with its link EP; and mid-year top-ups.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{DateRange, require_ep, settings};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{contract, contract_top_up, school, time_unit};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{AcademicYearId, ContractId, PersonId, SchoolId, ServiceId, TimeUnitId, TopUpId};
use crate::model::{ContractStatus, FundingStream, PeriodKind, SchoolStatus};
use crate::page::{self, Page, PageRequest, Position, SortKey};
use crate::values;

/// Quantities are kept in hundredths of a unit (7.5 days is 750).
pub const QUANTITY_SCALE: i64 = 100;
/// The most units one contract or top-up may hold.
pub const MAX_QUANTITY_HUNDREDTHS: i64 = 1000 * QUANTITY_SCALE;

/// A contract with the minutes its top-ups added.
#[derive(Clone, Debug)]
pub struct Contract {
    pub row: contract::Model,
    pub unit: time_unit::Model,
    pub top_ups: Vec<contract_top_up::Model>,
}

impl Contract {
    /// Everything bought: the contract and its top-ups.
    pub fn purchased_minutes(&self) -> i64 {
        i64::from(self.row.minutes) + self.top_ups.iter().map(|t| i64::from(t.minutes)).sum::<i64>()
    }
    pub fn period(&self) -> DateRange {
        DateRange {
            starts_on: self.row.starts_on,
            ends_on: self.row.ends_on,
        }
    }
}

/// Minutes for a quantity of a unit, rounded to the nearest minute.
pub fn minutes_for(quantity_hundredths: i64, unit_minutes: i32) -> i64 {
    (quantity_hundredths * i64::from(unit_minutes) + QUANTITY_SCALE / 2) / QUANTITY_SCALE
}

fn quantity(field: &str, hundredths: i64) -> Result<i32, crate::FieldError> {
    if hundredths <= 0 || hundredths > MAX_QUANTITY_HUNDREDTHS {
        return Err(crate::FieldError::new(
            field,
            FieldErrorCode::OutOfRange,
            "must be more than 0 and at most 1000 units",
        ));
    }
    Ok(hundredths as i32)
}

fn price(field: &str, pence: Option<i64>) -> Result<Option<i64>, crate::FieldError> {
    match pence {
        Some(p) if !(0..=10_000_000_000).contains(&p) => Err(crate::FieldError::new(
            field,
            FieldErrorCode::OutOfRange,
            "must be between 0 and 100,000,000 pounds",
        )),
        other => Ok(other),
    }
}

/// Contracts read through `door`, with their top-ups and units (two statements).
async fn load(door: &Door<'_, impl ConnectionTrait>, rows: Vec<contract::Model>) -> DomainResult<Vec<Contract>> {
    let ids: Vec<ContractId> = rows.iter().map(|c| c.id).collect();
    let unit_ids: Vec<TimeUnitId> = rows.iter().map(|c| c.unit_id).collect();
    let top_ups = door
        .find::<contract_top_up::Entity>()
        .filter(contract_top_up::Column::ContractId.is_in(ids))
        .order_by_asc(contract_top_up::Column::Id)
        .all(door.conn())
        .await?;
    let units = door
        .find::<time_unit::Entity>()
        .filter(time_unit::Column::Id.is_in(unit_ids))
        .all(door.conn())
        .await?;
    rows.into_iter()
        .map(|row| {
            let unit = units.iter().find(|u| u.id == row.unit_id).cloned().ok_or_else(|| {
                DomainError::internal("contract unit", crate::values::UnknownValue(row.unit_id.to_string()))
            })?;
            let top_ups = top_ups.iter().filter(|t| t.contract_id == row.id).cloned().collect();
            Ok(Contract { row, unit, top_ups })
        })
        .collect()
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub service_id: Option<ServiceId>,
    pub school_id: Option<SchoolId>,
    pub funding_stream: Option<FundingStream>,
    pub statuses: Option<Vec<ContractStatus>>,
    /// Contracts whose period includes this date.
    pub covering: Option<NaiveDate>,
    pub link_ep_id: Option<PersonId>,
}

/// Contracts the caller can see, newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: Filter,
    page: &PageRequest,
) -> DomainResult<Page<Contract>> {
    let window = page.window()?;
    let door = Door::open(conn, caller, Action::ViewContracts).await?;
    door.require_any()?;
    let mut select = door.find::<contract::Entity>();
    if let Some(s) = filter.service_id {
        select = select.filter(contract::Column::ServiceId.eq(s));
    }
    if let Some(s) = filter.school_id {
        select = select.filter(contract::Column::SchoolId.eq(s));
    }
    if let Some(f) = filter.funding_stream {
        select = select.filter(contract::Column::FundingStream.eq(f));
    }
    if let Some(st) = filter.statuses.filter(|s| !s.is_empty()) {
        select = select.filter(contract::Column::Status.is_in(st));
    }
    if let Some(d) = filter.covering {
        select = select
            .filter(contract::Column::StartsOn.lte(d))
            .filter(contract::Column::EndsOn.gte(d));
    }
    if let Some(ep) = filter.link_ep_id {
        select = select.filter(contract::Column::LinkEpId.eq(ep));
    }
    let rows = page::fetch(
        conn,
        select,
        contract::Column::Id,
        SortKey::Id,
        true,
        &window,
        |m: &contract::Model| Position { key: None, id: m.id.0 },
    )
    .await?;
    let cursors: Vec<String> = rows.items.iter().map(|(c, _)| c.clone()).collect();
    let loaded = load(&door, rows.items.into_iter().map(|(_, m)| m).collect()).await?;
    Ok(Page {
        items: cursors.into_iter().zip(loaded).collect(),
        has_next_page: rows.has_next_page,
        has_previous_page: rows.has_previous_page,
        total: rows.total,
    })
}

pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: ContractId) -> DomainResult<Contract> {
    let door = Door::open(conn, caller, Action::ViewContracts).await?;
    let row = door.get::<contract::Entity>(id).await?;
    load(&door, vec![row]).await?.pop().ok_or(DomainError::NotFound)
}

pub struct NewContract {
    pub school_id: SchoolId,
    pub period_kind: PeriodKind,
    /// For an academic-year contract: its dates come from the year.
    pub academic_year_id: Option<AcademicYearId>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub funding_stream: FundingStream,
    pub unit_id: TimeUnitId,
    pub quantity_hundredths: i64,
    pub price_pence: Option<i64>,
    pub link_ep_id: Option<PersonId>,
    pub status: ContractStatus,
}

/// Another live contract of the school, in the same stream, whose period overlaps.
async fn overlapping(
    conn: &impl ConnectionTrait,
    school: &school::Model,
    stream: FundingStream,
    period: DateRange,
    except: Option<ContractId>,
) -> DomainResult<bool> {
    let mut q = Door::service(conn, school.service_id)
        .find::<contract::Entity>()
        .filter(contract::Column::SchoolId.eq(school.id))
        .filter(contract::Column::FundingStream.eq(stream))
        .filter(contract::Column::Status.ne(ContractStatus::Cancelled))
        .filter(contract::Column::StartsOn.lte(period.ends_on))
        .filter(contract::Column::EndsOn.gte(period.starts_on));
    if let Some(id) = except {
        q = q.filter(contract::Column::Id.ne(id));
    }
    Ok(q.count(conn).await? > 0)
}

pub async fn create(db: &Db, caller: &Caller, input: NewContract) -> DomainResult<Contract> {
    let mut problems = Problems::new();
    let qty = problems.check(quantity("quantity", input.quantity_hundredths));
    let price = problems.check(price("pricePence", input.price_pence));
    if !matches!(input.status, ContractStatus::Draft | ContractStatus::Active) {
        problems.add("status", FieldErrorCode::Invalid, "a new contract is DRAFT or ACTIVE");
    }
    problems.finish()?;
    let (Some(qty), Some(price)) = (qty, price) else {
        return Err(DomainError::invalid(
            "quantity",
            FieldErrorCode::Invalid,
            "is not valid",
        ));
    };
    let txn = db::begin_write(db).await?;
    // The school's row is held until the end, so that contracts added at the same moment are
    // checked one after the other against each other.
    let school =
        door::for_change::<school::Entity, _>(&txn, caller, input.school_id, door::Sight::Any, Action::ManageContracts)
            .await?;
    if school.status == SchoolStatus::Archived {
        return Err(DomainError::invalid(
            "schoolId",
            FieldErrorCode::InvalidState,
            "the school is archived",
        ));
    }
    let service = school.service_id;
    let unit = settings::unit(&txn, service, input.unit_id)
        .await
        .map_err(|_| DomainError::invalid("unitId", FieldErrorCode::NotFound, "no such unit in this service"))?;
    if unit.archived_at.is_some() {
        return Err(DomainError::invalid(
            "unitId",
            FieldErrorCode::InvalidState,
            "this unit is no longer sold",
        ));
    }
    let period = match (
        input.period_kind,
        input.academic_year_id,
        input.starts_on,
        input.ends_on,
    ) {
        (PeriodKind::AcademicYear, Some(year), None, None) => {
            let y = settings::academic_year(&txn, service, year).await.map_err(|_| {
                DomainError::invalid(
                    "academicYearId",
                    FieldErrorCode::NotFound,
                    "no such academic year in this service",
                )
            })?;
            DateRange::new("academicYearId", y.year.starts_on, y.year.ends_on)?
        }
        (_, Some(_), Some(_), _) | (_, Some(_), _, Some(_)) => {
            return Err(DomainError::invalid(
                "startsOn",
                FieldErrorCode::Invalid,
                "give an academic year or dates, not both",
            ));
        }
        (PeriodKind::FinancialYear, Some(_), None, None) => {
            return Err(DomainError::invalid(
                "academicYearId",
                FieldErrorCode::Invalid,
                "a financial-year contract gives its dates",
            ));
        }
        (_, None, Some(s), Some(e)) => {
            crate::parse_all!(s = super::Day::parse("startsOn", s), e = super::Day::parse("endsOn", e));
            let range = DateRange::new("endsOn", s.get(), e.get())?;
            if range.days() > 400 {
                return Err(DomainError::invalid(
                    "endsOn",
                    FieldErrorCode::OutOfRange,
                    "a contract covers at most 400 days",
                ));
            }
            range
        }
        _ => {
            return Err(DomainError::invalid(
                "startsOn",
                FieldErrorCode::Required,
                "give an academic year, or start and end dates",
            ));
        }
    };
    if let Some(ep) = input.link_ep_id {
        require_ep(&txn, service, ep, "linkEpId").await?;
    }
    if overlapping(&txn, &school, input.funding_stream, period, None).await? {
        return Err(DomainError::invalid(
            "startsOn",
            FieldErrorCode::Taken,
            "the school already has a contract in this funding stream for part of this period; top it up instead",
        ));
    }
    let now = Utc::now();
    let row = Door::open(&txn, caller, Action::ManageContracts)
        .await?
        .insert(contract::ActiveModel {
            id: Set(ContractId::new()),
            service_id: Set(service),
            school_id: Set(school.id),
            period_kind: Set(input.period_kind),
            starts_on: Set(period.starts_on),
            ends_on: Set(period.ends_on),
            academic_year_id: Set(input.academic_year_id),
            funding_stream: Set(input.funding_stream),
            unit_id: Set(unit.id),
            quantity_hundredths: Set(qty),
            minutes: Set(minutes_for(i64::from(qty), unit.minutes) as i32),
            unit_minutes: Set(unit.minutes),
            price_pence: Set(price),
            link_ep_id: Set(input.link_ep_id),
            status: Set(input.status),
            created_at: Set(now),
            created_by: Set(caller.principal.person_id()),
            updated_at: Set(now),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("contract.create", "Contract", row.id).in_school(service, Some(school.id)),
    )
    .await?;
    txn.commit().await?;
    Ok(Contract {
        row,
        unit,
        top_ups: Vec::new(),
    })
}

async fn for_change(conn: &impl ConnectionTrait, caller: &Caller, id: ContractId) -> DomainResult<contract::Model> {
    door::for_change::<contract::Entity, _>(conn, caller, id, Action::ViewContracts, Action::ManageContracts).await
}

#[derive(Default)]
pub struct ContractPatch {
    /// `Some(None)` clears the link EP.
    pub link_ep_id: Option<Option<PersonId>>,
    pub status: Option<ContractStatus>,
    pub price_pence: Option<i64>,
    /// Only while the contract is a draft; afterwards, top it up.
    pub quantity_hundredths: Option<i64>,
}

fn check_status_change(from: ContractStatus, to: ContractStatus) -> DomainResult<()> {
    use ContractStatus::*;
    let ok = matches!(
        (from, to),
        (Draft, Active) | (Draft, Cancelled) | (Active, Closed) | (Active, Cancelled) | (Closed, Active)
    ) || from == to;
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "status",
            FieldErrorCode::InvalidState,
            format!("a {} contract cannot become {}", from.as_str(), to.as_str()),
        ))
    }
}

pub async fn update(db: &Db, caller: &Caller, id: ContractId, patch: ContractPatch) -> DomainResult<Contract> {
    let price = price("pricePence", patch.price_pence)?;
    let qty = patch.quantity_hundredths.map(|q| quantity("quantity", q)).transpose()?;
    let txn = db::begin_write(db).await?;
    let current = for_change(&txn, caller, id).await?;
    let door = Door::open(&txn, caller, Action::ManageContracts).await?;
    let mut row: contract::ActiveModel = current.clone().into();
    if let Some(status) = patch.status {
        check_status_change(current.status, status)?;
        if status == ContractStatus::Cancelled {
            let used = super::ledger::contract_use(&txn, current.service_id, id).await?;
            if used != 0 {
                return Err(DomainError::invalid(
                    "status",
                    FieldErrorCode::NotAllowed,
                    "time has been booked against this contract; close it instead",
                ));
            }
        }
        row.status = Set(status);
    }
    if let Some(link) = patch.link_ep_id {
        if let Some(ep) = link {
            require_ep(&txn, current.service_id, ep, "linkEpId").await?;
        }
        row.link_ep_id = Set(link);
    }
    if let Some(p) = price {
        row.price_pence = Set(Some(p));
    }
    if let Some(q) = qty {
        if current.status != ContractStatus::Draft {
            return Err(DomainError::invalid(
                "quantity",
                FieldErrorCode::InvalidState,
                "only a draft's quantity can change; top up an active contract",
            ));
        }
        row.quantity_hundredths = Set(q);
        row.minutes = Set(minutes_for(i64::from(q), current.unit_minutes) as i32);
    }
    row.updated_at = Set(Utc::now());
    let saved = door.update(row).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("contract.update", "Contract", id).in_school(saved.service_id, Some(saved.school_id)),
    )
    .await?;
    let loaded = load(&door, vec![saved]).await?.pop().ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(loaded)
}

pub struct TopUp {
    pub contract_id: ContractId,
    pub quantity_hundredths: i64,
    pub price_pence: Option<i64>,
    pub reason: String,
}

/// Adds time to an active contract mid-year.
pub async fn top_up(db: &Db, caller: &Caller, input: TopUp) -> DomainResult<Contract> {
    crate::parse_all!(
        qty = quantity("quantity", input.quantity_hundredths),
        price = price("pricePence", input.price_pence),
        reason = values::required_text("reason", &input.reason, values::MAX_REASON_LEN),
    );
    let txn = db::begin_write(db).await?;
    let current = for_change(&txn, caller, input.contract_id).await?;
    if current.status != ContractStatus::Active {
        return Err(DomainError::invalid(
            "contractId",
            FieldErrorCode::InvalidState,
            "only an active contract can be topped up",
        ));
    }
    // A top-up is bought in the contract's unit, at the size the contract was sold at.
    let door = Door::open(&txn, caller, Action::ManageContracts).await?;
    let row = door
        .insert(contract_top_up::ActiveModel {
            id: Set(TopUpId::new()),
            service_id: Set(current.service_id),
            school_id: Set(current.school_id),
            contract_id: Set(current.id),
            quantity_hundredths: Set(qty),
            minutes: Set(minutes_for(i64::from(qty), current.unit_minutes) as i32),
            price_pence: Set(price),
            reason: Set(reason),
            created_at: Set(Utc::now()),
            created_by: Set(caller.principal.person_id()),
        })
        .await?;
    door.update_many::<contract::Entity>()
        .col_expr(contract::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(contract::Column::Id.eq(current.id))
        .exec(&txn)
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("contract.top_up", "Contract", current.id)
            .in_school(current.service_id, Some(current.school_id))
            .detail(serde_json::json!({ "topUpId": row.id, "minutes": row.minutes })),
    )
    .await?;
    let loaded = load(&door, vec![current]).await?.pop().ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(loaded)
}

/// The school's live contract in a stream whose period covers a date, locked for the rest of
/// the transaction (so that concurrent bookings against one contract queue).
pub async fn covering(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    school: SchoolId,
    stream: FundingStream,
    on: NaiveDate,
) -> DomainResult<Option<Contract>> {
    let door = Door::service(conn, service);
    let row = door
        .find::<contract::Entity>()
        .filter(contract::Column::SchoolId.eq(school))
        .filter(contract::Column::FundingStream.eq(stream))
        .filter(contract::Column::Status.eq(ContractStatus::Active))
        .filter(contract::Column::StartsOn.lte(on))
        .filter(contract::Column::EndsOn.gte(on))
        .lock_exclusive()
        .one(conn)
        .await?;
    match row {
        Some(r) => Ok(load(&door, vec![r]).await?.pop()),
        None => Ok(None),
    }
}

/// Contracts of a service whose period overlaps a range (for the summary), in one statement
/// plus one for top-ups and one for units.
pub async fn in_period(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    range: DateRange,
    schools: Option<&[SchoolId]>,
    stream: Option<FundingStream>,
) -> DomainResult<Vec<Contract>> {
    let door = Door::service(conn, service);
    let mut q = door
        .find::<contract::Entity>()
        .filter(contract::Column::Status.is_in([ContractStatus::Active, ContractStatus::Closed]))
        .filter(contract::Column::StartsOn.lte(range.ends_on))
        .filter(contract::Column::EndsOn.gte(range.starts_on));
    if let Some(s) = schools {
        q = q.filter(contract::Column::SchoolId.is_in(s.iter().copied()));
    }
    if let Some(f) = stream {
        q = q.filter(contract::Column::FundingStream.eq(f));
    }
    let rows = q.all(conn).await?;
    load(&door, rows).await
}

/// A school's time in one funding stream: its contracts whose period holds a date, and the sum
/// of their own balances (so a school's figures are its contracts' figures, added up).
#[derive(Clone, Debug)]
pub struct StreamBalance {
    pub funding_stream: FundingStream,
    pub contracts: Vec<Contract>,
    pub balance: super::ledger::Balance,
}

/// A school's balance on a date (today, in the service's zone, when none is given), per
/// funding stream, for those who may see its contracts.
/// `school` is a row the caller has read (through the door).
pub async fn school_balance(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    school: &school::Model,
    on: Option<NaiveDate>,
) -> DomainResult<Vec<StreamBalance>> {
    let on = on.map(|d| super::Day::parse("on", d)).transpose()?.map(super::Day::get);
    let door = Door::open(conn, caller, Action::ViewContracts).await?;
    door.require_any()?;
    let on = match on {
        Some(d) => d,
        None => super::local_date(super::service_zone(conn, school.service_id).await?, Utc::now()),
    };
    let rows = door
        .find::<contract::Entity>()
        .filter(contract::Column::SchoolId.eq(school.id))
        .filter(contract::Column::Status.is_in([ContractStatus::Active, ContractStatus::Closed]))
        .filter(contract::Column::StartsOn.lte(on))
        .filter(contract::Column::EndsOn.gte(on))
        .order_by_asc(contract::Column::StartsOn)
        .all(conn)
        .await?;
    let Some(service) = rows.first().map(|c| c.service_id) else {
        return Ok(Vec::new());
    };
    let loaded = load(&door, rows).await?;
    let purchased: Vec<(ContractId, i64)> = loaded.iter().map(|c| (c.row.id, c.purchased_minutes())).collect();
    let balances = super::ledger::contract_balances(conn, service, &purchased).await?;
    let mut out: Vec<StreamBalance> = Vec::new();
    for c in loaded {
        let b = balances.get(&c.row.id).copied().unwrap_or_default();
        match out.iter_mut().find(|s| s.funding_stream == c.row.funding_stream) {
            Some(s) => {
                s.balance = s.balance.plus(&b);
                s.contracts.push(c);
            }
            None => out.push(StreamBalance {
                funding_stream: c.row.funding_stream,
                contracts: vec![c],
                balance: b,
            }),
        }
    }
    out.sort_by_key(|s| s.funding_stream);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_become_minutes_of_the_unit() {
        assert_eq!(minutes_for(1000, 390), 3900); // 10 days of 6.5 hours
        assert_eq!(minutes_for(750, 360), 2700); // 7.5 days of 6 hours
        assert_eq!(minutes_for(1, 390), 4); // a hundredth of a day, rounded
        assert!(quantity("quantity", 0).is_err());
        assert!(quantity("quantity", -100).is_err());
        assert!(quantity("quantity", MAX_QUANTITY_HUNDREDTHS + 1).is_err());
    }

    #[test]
    fn contracts_move_through_their_states_in_order() {
        use ContractStatus::*;
        assert!(check_status_change(Draft, Active).is_ok());
        assert!(check_status_change(Active, Closed).is_ok());
        assert!(check_status_change(Cancelled, Active).is_err());
        assert!(check_status_change(Closed, Draft).is_err());
    }
}
