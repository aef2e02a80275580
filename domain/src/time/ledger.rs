//! The time ledger: an append-only list of entries (booked, released, delivered, late
//! cancellation, adjustment). Balances are sums over it, never counters edited in place; the
//! database refuses updates and deletes of entries.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect};

use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{booking, contract, ledger_entry, school};
use crate::error::{DomainError, DomainResult, FieldErrorCode};
use crate::ids::{BookingId, ContractId, LedgerEntryId, PartnerClientId, PersonId, SchoolId, ServiceId};
use crate::model::{ContractStatus, FundingStream, LedgerKind, TimeCategory};
use crate::page::{self, Page, PageRequest, Position, SortKey};
use crate::values;

/// Where an entry belongs.
#[derive(Clone, Copy, Debug)]
pub struct Account {
    pub service_id: ServiceId,
    pub school_id: Option<SchoolId>,
    pub ep_id: Option<PersonId>,
    pub contract_id: Option<ContractId>,
    pub booking_id: Option<BookingId>,
    pub funding_stream: FundingStream,
    pub applies_on: NaiveDate,
}

/// Who writes an entry: a signed-in person or partner client, or nobody the service knows (a
/// parent cancelling through their manage link).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Author {
    pub person: Option<PersonId>,
    pub partner: Option<PartnerClientId>,
}

impl From<&Caller> for Author {
    fn from(caller: &Caller) -> Self {
        Self {
            person: caller.principal.person_id(),
            partner: caller.principal.partner_client_id(),
        }
    }
}

/// Appends one entry (nothing when `minutes` is zero), through the door of the operation that
/// makes it: the entry must lie in the operation's reach.
pub async fn post(
    door: &Door<'_, impl ConnectionTrait>,
    caller: &Caller,
    account: Account,
    kind: LedgerKind,
    category: TimeCategory,
    minutes: i64,
    reason: Option<String>,
) -> DomainResult<Option<LedgerEntryId>> {
    post_by(door, Author::from(caller), account, kind, category, minutes, reason).await
}

/// [`post`], by whoever `author` is.
pub async fn post_by(
    door: &Door<'_, impl ConnectionTrait>,
    author: Author,
    account: Account,
    kind: LedgerKind,
    category: TimeCategory,
    minutes: i64,
    reason: Option<String>,
) -> DomainResult<Option<LedgerEntryId>> {
    if minutes == 0 {
        return Ok(None);
    }
    let minutes = i32::try_from(minutes).map_err(|e| DomainError::internal("ledger minutes", e))?;
    let id = LedgerEntryId::new();
    door.insert_quiet(ledger_entry::ActiveModel {
        id: Set(id),
        service_id: Set(account.service_id),
        school_id: Set(account.school_id),
        ep_id: Set(account.ep_id),
        contract_id: Set(account.contract_id),
        booking_id: Set(account.booking_id),
        kind: Set(kind),
        funding_stream: Set(account.funding_stream),
        category: Set(category),
        minutes: Set(minutes),
        applies_on: Set(account.applies_on),
        reason: Set(reason),
        created_at: Set(Utc::now()),
        created_by: Set(author.person),
        created_by_partner: Set(author.partner),
        corrects_entry_id: Set(None),
    })
    .await?;
    Ok(Some(id))
}

/// Minutes per category a booking still holds as booked (booked less released).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Held {
    pub direct: i64,
    pub preparation: i64,
}

#[derive(Debug, FromQueryResult)]
struct CategorySum {
    category: TimeCategory,
    minutes: Option<i64>,
}

/// What a booking holds as booked time now.
pub async fn held_by(conn: &impl ConnectionTrait, service: ServiceId, booking: BookingId) -> DomainResult<Held> {
    let rows: Vec<CategorySum> = Door::service(conn, service)
        .find::<ledger_entry::Entity>()
        .select_only()
        .column(ledger_entry::Column::Category)
        .column_as(ledger_entry::Column::Minutes.sum(), "minutes")
        .filter(ledger_entry::Column::BookingId.eq(booking))
        .filter(ledger_entry::Column::Kind.is_in([LedgerKind::Booked, LedgerKind::Released]))
        .group_by(ledger_entry::Column::Category)
        .into_model::<CategorySum>()
        .all(conn)
        .await?;
    let mut held = Held::default();
    for r in rows {
        match r.category {
            TimeCategory::Direct => held.direct = r.minutes.unwrap_or(0),
            TimeCategory::Preparation => held.preparation = r.minutes.unwrap_or(0),
        }
    }
    Ok(held)
}

/// Releases whatever a booking still holds.
pub async fn release(
    door: &Door<'_, impl ConnectionTrait>,
    caller: &Caller,
    account: Account,
    reason: Option<String>,
) -> DomainResult<Held> {
    release_by(door, Author::from(caller), account, reason).await
}

/// [`release`], by whoever `author` is.
pub async fn release_by(
    door: &Door<'_, impl ConnectionTrait>,
    author: Author,
    account: Account,
    reason: Option<String>,
) -> DomainResult<Held> {
    let held = held_by(
        door.conn(),
        account.service_id,
        account.booking_id.ok_or(DomainError::NotFound)?,
    )
    .await?;
    post_by(
        door,
        author,
        account,
        LedgerKind::Released,
        TimeCategory::Direct,
        -held.direct,
        reason.clone(),
    )
    .await?;
    post_by(
        door,
        author,
        account,
        LedgerKind::Released,
        TimeCategory::Preparation,
        -held.preparation,
        reason,
    )
    .await?;
    Ok(held)
}

/// The balance of one contract, in minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    pub purchased: i64,
    /// Booked and not yet delivered.
    pub booked: i64,
    pub delivered: i64,
    /// Drawn down by late cancellations and no-shows.
    pub late_cancellation: i64,
    pub adjusted: i64,
    pub direct: i64,
    pub preparation: i64,
}

impl Balance {
    /// Everything drawn down or committed.
    pub fn used(&self) -> i64 {
        self.booked + self.delivered + self.late_cancellation + self.adjusted
    }
    pub fn remaining(&self) -> i64 {
        self.purchased - self.used()
    }
    /// Two balances added up (a school's contracts in one stream).
    pub fn plus(&self, other: &Balance) -> Balance {
        Balance {
            purchased: self.purchased + other.purchased,
            booked: self.booked + other.booked,
            delivered: self.delivered + other.delivered,
            late_cancellation: self.late_cancellation + other.late_cancellation,
            adjusted: self.adjusted + other.adjusted,
            direct: self.direct + other.direct,
            preparation: self.preparation + other.preparation,
        }
    }
    /// Adds one ledger sum to the right figure.
    pub fn add(&mut self, kind: LedgerKind, category: TimeCategory, minutes: i64) {
        match kind {
            LedgerKind::Booked | LedgerKind::Released => self.booked += minutes,
            LedgerKind::Delivered => self.delivered += minutes,
            LedgerKind::LateCancellation => self.late_cancellation += minutes,
            LedgerKind::Adjustment => self.adjusted += minutes,
        }
        match category {
            TimeCategory::Direct => self.direct += minutes,
            TimeCategory::Preparation => self.preparation += minutes,
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct KindSum {
    contract_id: Option<ContractId>,
    kind: LedgerKind,
    category: TimeCategory,
    minutes: Option<i64>,
}

/// The balances of contracts of one service, in one statement: the one computation of a
/// contract's figures, which the contract, its school's balance and the allocation check all
/// read. `purchased` gives each contract's purchase (its minutes and top-ups).
pub async fn contract_balances(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    purchased: &[(ContractId, i64)],
) -> DomainResult<std::collections::BTreeMap<ContractId, Balance>> {
    let mut out: std::collections::BTreeMap<ContractId, Balance> = purchased
        .iter()
        .map(|(id, minutes)| {
            (
                *id,
                Balance {
                    purchased: *minutes,
                    ..Balance::default()
                },
            )
        })
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    let rows: Vec<KindSum> = Door::service(conn, service)
        .find::<ledger_entry::Entity>()
        .select_only()
        .column(ledger_entry::Column::ContractId)
        .column(ledger_entry::Column::Kind)
        .column(ledger_entry::Column::Category)
        .column_as(ledger_entry::Column::Minutes.sum(), "minutes")
        .filter(ledger_entry::Column::ContractId.is_in(out.keys().copied()))
        .group_by(ledger_entry::Column::ContractId)
        .group_by(ledger_entry::Column::Kind)
        .group_by(ledger_entry::Column::Category)
        .into_model::<KindSum>()
        .all(conn)
        .await?;
    for r in rows {
        if let Some(b) = r.contract_id.and_then(|c| out.get_mut(&c)) {
            b.add(r.kind, r.category, r.minutes.unwrap_or(0));
        }
    }
    Ok(out)
}

/// The balance of one contract (see [`contract_balances`]).
pub async fn contract_balance(
    conn: &impl ConnectionTrait,
    service: ServiceId,
    contract: ContractId,
    purchased: i64,
) -> DomainResult<Balance> {
    Ok(contract_balances(conn, service, &[(contract, purchased)])
        .await?
        .remove(&contract)
        .unwrap_or_default())
}

/// All minutes drawn against a contract (zero when nothing was ever booked or everything
/// released).
pub async fn contract_use(conn: &impl ConnectionTrait, service: ServiceId, contract: ContractId) -> DomainResult<i64> {
    Ok(contract_balance(conn, service, contract, 0).await?.used())
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub service_id: Option<ServiceId>,
    pub school_id: Option<SchoolId>,
    pub contract_id: Option<ContractId>,
    pub booking_id: Option<BookingId>,
    pub ep_id: Option<PersonId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The entries the caller can see that meet a filter, as a query to page or read out.
async fn matching(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: Filter,
) -> DomainResult<sea_orm::Select<ledger_entry::Entity>> {
    let door = Door::open(conn, caller, Action::ViewLedger).await?;
    door.require_any()?;
    let mut select = door.find::<ledger_entry::Entity>();
    if let Some(v) = filter.service_id {
        select = select.filter(ledger_entry::Column::ServiceId.eq(v));
    }
    if let Some(v) = filter.school_id {
        select = select.filter(ledger_entry::Column::SchoolId.eq(v));
    }
    if let Some(v) = filter.contract_id {
        select = select.filter(ledger_entry::Column::ContractId.eq(v));
    }
    if let Some(v) = filter.booking_id {
        select = select.filter(ledger_entry::Column::BookingId.eq(v));
    }
    if let Some(v) = filter.ep_id {
        select = select.filter(ledger_entry::Column::EpId.eq(v));
    }
    if let Some(v) = filter.from {
        select = select.filter(ledger_entry::Column::AppliesOn.gte(v));
    }
    if let Some(v) = filter.to {
        select = select.filter(ledger_entry::Column::AppliesOn.lte(v));
    }
    Ok(select)
}

/// Ledger entries the caller can see, newest first: administrators all in their service, EPs
/// those of the schools they work with, SENCOs and school leaders their school's.
pub async fn entries(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: Filter,
    page: &PageRequest,
) -> DomainResult<Page<ledger_entry::Model>> {
    let window = page.window()?;
    let select = matching(conn, caller, filter).await?;
    page::fetch(
        conn,
        select,
        ledger_entry::Column::Id,
        SortKey::Id,
        true,
        &window,
        |m: &ledger_entry::Model| Position { key: None, id: m.id.0 },
    )
    .await
}

/// The most entries one export holds.
pub const MAX_EXPORT_ROWS: u64 = 50_000;

/// Every entry the caller can see that meets a filter, oldest first, for an export (one
/// statement; refused beyond [`MAX_EXPORT_ROWS`], so that a narrower period is asked for).
pub async fn export(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: Filter,
) -> DomainResult<Vec<ledger_entry::Model>> {
    let rows = matching(conn, caller, filter)
        .await?
        .order_by_asc(ledger_entry::Column::AppliesOn)
        .order_by_asc(ledger_entry::Column::Id)
        .limit(MAX_EXPORT_ROWS + 1)
        .all(conn)
        .await?;
    if rows.len() as u64 > MAX_EXPORT_ROWS {
        return Err(DomainError::invalid(
            "to",
            FieldErrorCode::OutOfRange,
            format!("more than {MAX_EXPORT_ROWS} entries: export a shorter period"),
        ));
    }
    Ok(rows)
}

/// One entry the caller can see.
pub async fn entry(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: LedgerEntryId,
) -> DomainResult<ledger_entry::Model> {
    Door::open(conn, caller, Action::ViewLedger)
        .await?
        .get::<ledger_entry::Entity>(id)
        .await
}

pub struct Adjustment {
    pub school_id: SchoolId,
    pub contract_id: Option<ContractId>,
    pub ep_id: Option<PersonId>,
    pub funding_stream: FundingStream,
    pub category: TimeCategory,
    /// Positive draws time down; negative gives it back.
    pub minutes: i64,
    pub applies_on: NaiveDate,
    pub reason: String,
    pub corrects_entry_id: Option<LedgerEntryId>,
}

/// Posts a correcting adjustment (administrators): nothing in the ledger is edited or deleted.
pub async fn adjust(db: &Db, caller: &Caller, input: Adjustment) -> DomainResult<ledger_entry::Model> {
    crate::parse_all!(
        minutes = values::minutes_in("minutes", input.minutes.abs(), 1, 100_000).map(|_| input.minutes),
        reason = values::required_text("reason", &input.reason, values::MAX_REASON_LEN),
        applies_on = super::Day::parse("appliesOn", input.applies_on),
    );
    let txn = db::begin_write(db).await?;
    let school =
        door::for_change::<school::Entity, _>(&txn, caller, input.school_id, door::Sight::Any, Action::AdjustLedger)
            .await?;
    let service = school.service_id;
    let rules = Door::service(&txn, service);
    let day = applies_on.get();
    // Every adjustment of school time belongs to the contract whose period holds its date, so
    // that the contract, the school and the summary count it alike. Statutory work may have no
    // contract: it draws on no allocation.
    let contract = match input.contract_id {
        Some(c) => {
            let found = rules
                .find::<contract::Entity>()
                .filter(contract::Column::Id.eq(c))
                .filter(contract::Column::SchoolId.eq(school.id))
                .one(&txn)
                .await?
                .ok_or_else(|| {
                    DomainError::invalid(
                        "contractId",
                        FieldErrorCode::NotFound,
                        "no such contract for this school",
                    )
                })?;
            let mut p = crate::error::Problems::new();
            if found.funding_stream != input.funding_stream {
                p.add(
                    "fundingStream",
                    FieldErrorCode::Invalid,
                    "must match the contract's funding stream",
                );
            }
            if !(found.starts_on <= day && day <= found.ends_on) {
                p.add(
                    "appliesOn",
                    FieldErrorCode::OutOfRange,
                    format!(
                        "must lie within the contract's period ({} to {})",
                        found.starts_on, found.ends_on
                    ),
                );
            }
            p.finish()?;
            Some(found.id)
        }
        None => {
            let covering = rules
                .find::<contract::Entity>()
                .filter(contract::Column::SchoolId.eq(school.id))
                .filter(contract::Column::FundingStream.eq(input.funding_stream))
                .filter(contract::Column::Status.ne(ContractStatus::Cancelled))
                .filter(contract::Column::StartsOn.lte(day))
                .filter(contract::Column::EndsOn.gte(day))
                .one(&txn)
                .await?;
            match (covering, input.funding_stream) {
                (Some(c), _) => Some(c.id),
                (None, FundingStream::Statutory) => None,
                (None, stream) => {
                    return Err(DomainError::invalid(
                        "appliesOn",
                        FieldErrorCode::NotFound,
                        format!(
                            "no {} contract of this school covers {day}; adjust within a contract's period",
                            stream.as_str().to_lowercase()
                        ),
                    ));
                }
            }
        }
    };
    if let Some(ep) = input.ep_id {
        super::require_ep(&txn, service, ep, "epId").await?;
    }
    if let Some(e) = input.corrects_entry_id {
        rules
            .find::<ledger_entry::Entity>()
            .filter(ledger_entry::Column::Id.eq(e))
            .filter(ledger_entry::Column::SchoolId.eq(school.id))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                DomainError::invalid(
                    "correctsEntryId",
                    FieldErrorCode::NotFound,
                    "no such entry for this school",
                )
            })?;
    }
    let id = LedgerEntryId::new();
    let row = Door::open(&txn, caller, Action::AdjustLedger)
        .await?
        .insert(ledger_entry::ActiveModel {
            id: Set(id),
            service_id: Set(service),
            school_id: Set(Some(school.id)),
            ep_id: Set(input.ep_id),
            contract_id: Set(contract),
            booking_id: Set(None),
            kind: Set(LedgerKind::Adjustment),
            funding_stream: Set(input.funding_stream),
            category: Set(input.category),
            minutes: Set(i32::try_from(minutes).map_err(|e| DomainError::internal("minutes", e))?),
            applies_on: Set(day),
            reason: Set(Some(reason)),
            created_at: Set(Utc::now()),
            created_by: Set(caller.principal.person_id()),
            created_by_partner: Set(None),
            corrects_entry_id: Set(input.corrects_entry_id),
        })
        .await?;
    audit::log(
        &txn,
        caller,
        Entry::new("ledger.adjust", "LedgerEntry", id)
            .in_school(service, Some(school.id))
            .detail(serde_json::json!({ "minutes": minutes })),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The account a booking's entries go to.
pub fn account_of(b: &booking::Model, applies_on: NaiveDate) -> Account {
    Account {
        service_id: b.service_id,
        school_id: b.school_id,
        ep_id: Some(b.ep_id),
        contract_id: b.contract_id,
        booking_id: Some(b.id),
        funding_stream: b.funding_stream.unwrap_or(FundingStream::Traded),
        applies_on,
    }
}

/// Sums of the ledger for a service, grouped for the summary: one statement.
#[derive(Debug, FromQueryResult)]
pub struct GroupedSum {
    pub school_id: Option<SchoolId>,
    pub ep_id: Option<PersonId>,
    pub contract_id: Option<ContractId>,
    pub funding_stream: FundingStream,
    pub kind: LedgerKind,
    pub category: TimeCategory,
    pub term_index: Option<i32>,
    pub minutes: Option<i64>,
}

/// What [`grouped_sums`] adds up.
pub struct SumsOf<'a> {
    pub service: ServiceId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Periods (terms or half-terms) to split the sums by.
    pub periods: &'a [(NaiveDate, NaiveDate)],
    /// These schools' entries; `None` for every school's (the whole service, without a list
    /// of hundreds of ids for the database to compare each entry with).
    pub schools: Option<&'a [SchoolId]>,
    pub eps: Option<&'a [PersonId]>,
    pub stream: Option<FundingStream>,
}

/// Ledger sums of a service over a date range, by school, EP, contract, stream, kind, category
/// and period (the index of the period in `periods` that contains the entry's date, if any).
pub async fn grouped_sums(conn: &impl ConnectionTrait, of: SumsOf<'_>) -> DomainResult<Vec<GroupedSum>> {
    let SumsOf {
        service,
        from,
        to,
        periods,
        schools,
        eps,
        stream,
    } = of;
    let applies_on = Expr::col((ledger_entry::Entity, ledger_entry::Column::AppliesOn));
    let term_index = if periods.is_empty() {
        Expr::cust("NULL")
    } else {
        let mut case = Expr::case(applies_on.clone().between(periods[0].0, periods[0].1), 0);
        for (i, (s, e)) in periods.iter().enumerate().skip(1) {
            case = case.case(applies_on.clone().between(*s, *e), i as i32);
        }
        case.finally(Expr::cust("NULL")).into()
    };
    let mut q = Door::service(conn, service)
        .find::<ledger_entry::Entity>()
        .select_only()
        .column(ledger_entry::Column::SchoolId)
        .column(ledger_entry::Column::EpId)
        .column(ledger_entry::Column::ContractId)
        .column(ledger_entry::Column::FundingStream)
        .column(ledger_entry::Column::Kind)
        .column(ledger_entry::Column::Category)
        .expr_as(term_index, "term_index")
        .column_as(ledger_entry::Column::Minutes.sum(), "minutes")
        .filter(ledger_entry::Column::AppliesOn.gte(from))
        .filter(ledger_entry::Column::AppliesOn.lte(to));
    q = match schools {
        Some(s) => q.filter(ledger_entry::Column::SchoolId.is_in(s.iter().copied())),
        // An entry's school is one of its service's (the pair is a foreign key).
        None => q.filter(ledger_entry::Column::SchoolId.is_not_null()),
    };
    if let Some(e) = eps {
        q = q.filter(ledger_entry::Column::EpId.is_in(e.iter().copied()));
    }
    if let Some(f) = stream {
        q = q.filter(ledger_entry::Column::FundingStream.eq(f));
    }
    Ok(q.group_by(ledger_entry::Column::SchoolId)
        .group_by(ledger_entry::Column::EpId)
        .group_by(ledger_entry::Column::ContractId)
        .group_by(ledger_entry::Column::FundingStream)
        .group_by(ledger_entry::Column::Kind)
        .group_by(ledger_entry::Column::Category)
        // Grouped by the output column's name: the expression itself carries bound values that
        // PostgreSQL would not recognise as the same expression twice.
        .group_by(Expr::col("term_index"))
        .into_model::<GroupedSum>()
        .all(conn)
        .await?)
}
