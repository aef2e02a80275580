//! Contracts: what a school bought (or was given), its top-ups and its balance.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::ids::ContractId;
use domain::time::{contracts, ledger};

use super::settings::TimeUnit;
use super::{hundredths, load_person, load_school, not_found_if_bad};
use crate::graphql::context;
use crate::graphql::enums::{self, ContractStatus, FundingStream, PeriodKind};
use crate::graphql::errors::{OrGraphql, payload_of};
use crate::graphql::ids;
use crate::graphql::loaders;
use crate::graphql::page::{self, Conn};
use crate::graphql::scalars::Date;
use crate::graphql::tenancy::{Person, School};

/// Minutes as a number of units (rounded to hundredths).
fn in_units(minutes: i64, unit_minutes: i32) -> f64 {
    if unit_minutes <= 0 {
        return 0.0;
    }
    (minutes as f64 / f64::from(unit_minutes) * 100.0).round() / 100.0
}

/// Time in minutes (and in the contract's unit where there is one).
#[derive(SimpleObject, Clone, Copy)]
pub struct Balance {
    pub purchased_minutes: i64,
    /// Booked and not yet delivered.
    pub booked_minutes: i64,
    pub delivered_minutes: i64,
    /// Drawn down by late cancellations and no-shows.
    pub late_cancellation_minutes: i64,
    /// Corrections by administrators.
    pub adjusted_minutes: i64,
    pub used_minutes: i64,
    pub remaining_minutes: i64,
    pub direct_minutes: i64,
    pub preparation_minutes: i64,
    /// The same figures in the contract's unit, when there is one.
    pub in_units: Option<UnitFigures>,
}

/// Figures in a unit of the service (days, sessions...), to two decimals.
#[derive(SimpleObject, Clone, Copy)]
pub struct UnitFigures {
    pub unit_minutes: i32,
    pub purchased: f64,
    pub booked: f64,
    pub delivered: f64,
    pub used: f64,
    pub remaining: f64,
}

impl Balance {
    pub(super) fn of(b: &ledger::Balance, unit_minutes: Option<i32>) -> Self {
        Self {
            purchased_minutes: b.purchased,
            booked_minutes: b.booked,
            delivered_minutes: b.delivered,
            late_cancellation_minutes: b.late_cancellation,
            adjusted_minutes: b.adjusted,
            used_minutes: b.used(),
            remaining_minutes: b.remaining(),
            direct_minutes: b.direct,
            preparation_minutes: b.preparation,
            in_units: unit_minutes.map(|u| UnitFigures {
                unit_minutes: u,
                purchased: in_units(b.purchased, u),
                booked: in_units(b.booked, u),
                delivered: in_units(b.delivered, u),
                used: in_units(b.used(), u),
                remaining: in_units(b.remaining(), u),
            }),
        }
    }
}

/// Time added to a contract mid-year.
#[derive(SimpleObject)]
pub struct TopUp {
    pub id: ID,
    pub quantity: f64,
    pub minutes: i32,
    pub price_pence: Option<i64>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// What a school bought (or was given) for a period.
pub struct Contract(pub contracts::Contract);

#[Object]
impl Contract {
    pub async fn id(&self) -> ID {
        ids::encode("Contract", self.0.row.id)
    }
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        load_school(ctx, Some(self.0.row.school_id)).await
    }
    async fn period_kind(&self) -> PeriodKind {
        self.0.row.period_kind.into()
    }
    async fn starts_on(&self) -> Date {
        Date(self.0.row.starts_on)
    }
    async fn ends_on(&self) -> Date {
        Date(self.0.row.ends_on)
    }
    async fn academic_year_id(&self) -> Option<ID> {
        self.0.row.academic_year_id.map(|y| ids::encode("AcademicYear", y))
    }
    async fn funding_stream(&self) -> FundingStream {
        self.0.row.funding_stream.into()
    }
    async fn unit(&self) -> TimeUnit {
        TimeUnit(self.0.unit.clone())
    }
    /// Units bought (before top-ups), e.g. 7.5.
    async fn quantity(&self) -> f64 {
        f64::from(self.0.row.quantity_hundredths) / 100.0
    }
    /// Minutes bought, contract and top-ups together.
    async fn purchased_minutes(&self) -> i64 {
        self.0.purchased_minutes()
    }
    async fn price_pence(&self) -> Option<i64> {
        self.0.row.price_pence
    }
    async fn link_ep_id(&self) -> Option<ID> {
        self.0.row.link_ep_id.map(|p| ids::encode("Person", p))
    }
    async fn link_ep(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        load_person(ctx, self.0.row.link_ep_id).await
    }
    async fn status(&self) -> ContractStatus {
        self.0.row.status.into()
    }
    async fn top_ups(&self) -> Vec<TopUp> {
        self.0
            .top_ups
            .iter()
            .map(|t| TopUp {
                id: ids::encode("TopUp", t.id),
                quantity: f64::from(t.quantity_hundredths) / 100.0,
                minutes: t.minutes,
                price_pence: t.price_pence,
                reason: t.reason.clone(),
                created_at: t.created_at,
            })
            .collect()
    }
    /// Purchased, booked, delivered and remaining time, summed from the ledger.
    async fn balance(&self, ctx: &Context<'_>) -> Result<Balance> {
        let b = loaders::contract_balance(ctx, &self.0).await?;
        Ok(Balance::of(&b, Some(self.0.row.unit_minutes)))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
}

/// A school's time in one funding stream: the contracts whose period holds the date, and the
/// sum of their balances.
#[derive(SimpleObject)]
pub struct SchoolStreamBalance {
    pub funding_stream: FundingStream,
    pub balance: Balance,
    pub contracts: Vec<Contract>,
}

impl From<contracts::StreamBalance> for SchoolStreamBalance {
    fn from(s: contracts::StreamBalance) -> Self {
        let unit_minutes = s.contracts.first().map(|c| c.row.unit_minutes);
        Self {
            funding_stream: s.funding_stream.into(),
            balance: Balance::of(&s.balance, unit_minutes),
            contracts: s.contracts.into_iter().map(Contract).collect(),
        }
    }
}

#[derive(InputObject, Default)]
pub struct ContractFilter {
    pub service_id: Option<ID>,
    pub school_id: Option<ID>,
    pub funding_stream: Option<FundingStream>,
    pub statuses: Option<Vec<ContractStatus>>,
    /// Contracts whose period includes this date.
    pub covering: Option<Date>,
    pub link_ep_id: Option<ID>,
}

#[derive(InputObject)]
pub struct CreateContractInput {
    pub school_id: ID,
    pub period_kind: PeriodKind,
    /// For an academic-year contract: the year (its dates are used).
    pub academic_year_id: Option<ID>,
    /// Otherwise the dates.
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub funding_stream: FundingStream,
    pub unit_id: ID,
    /// Units bought, to two decimals (7.5 days).
    pub quantity: f64,
    pub price_pence: Option<i64>,
    pub link_ep_id: Option<ID>,
    #[graphql(default_with = "ContractStatus::Active")]
    pub status: ContractStatus,
}

#[derive(InputObject)]
pub struct UpdateContractInput {
    pub id: ID,
    /// A person id sets the link EP; null clears it; absent leaves it.
    pub link_ep_id: async_graphql::MaybeUndefined<ID>,
    pub status: Option<ContractStatus>,
    pub price_pence: Option<i64>,
    /// Only while the contract is a draft.
    pub quantity: Option<f64>,
}

#[derive(InputObject)]
pub struct TopUpContractInput {
    pub contract_id: ID,
    pub quantity: f64,
    pub price_pence: Option<i64>,
    pub reason: String,
}

payload!(ContractPayload { contract: Contract });

#[derive(Default)]
pub struct ContractsQuery;

#[Object]
impl ContractsQuery {
    /// Contracts the caller can see, newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        filter: Option<ContractFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Contract>> {
        let c = context::of(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = contracts::Filter {
            service_id: ids::expect_opt("filter.serviceId", "Service", f.service_id.as_ref()).or_gql(c)?,
            school_id: ids::expect_opt("filter.schoolId", "School", f.school_id.as_ref()).or_gql(c)?,
            funding_stream: f.funding_stream.map(Into::into),
            statuses: f.statuses.map(|s| enums::all(&s)),
            covering: f.covering.map(|d| d.0),
            link_ep_id: ids::expect_opt("filter.linkEpId", "Person", f.link_ep_id.as_ref()).or_gql(c)?,
        };
        let rows = contracts::list(
            c.db(),
            c.caller()?,
            filter,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, Contract))
    }

    async fn contract(&self, ctx: &Context<'_>, id: ID) -> Result<Contract> {
        let c = context::of(ctx)?;
        let id = not_found_if_bad(ids::expect("id", "Contract", &id)).or_gql(c)?;
        contracts::get(c.db(), c.caller()?, id).await.map(Contract).or_gql(c)
    }
}

#[derive(Default)]
pub struct ContractsMutation;

#[Object]
impl ContractsMutation {
    /// Records what a school bought (or was given) for a period.
    async fn create_contract(&self, ctx: &Context<'_>, input: CreateContractInput) -> Result<ContractPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let contract = contracts::NewContract {
                school_id: ids::expect("schoolId", "School", &input.school_id)?,
                period_kind: input.period_kind.into(),
                academic_year_id: ids::expect_opt("academicYearId", "AcademicYear", input.academic_year_id.as_ref())?,
                starts_on: input.starts_on.map(|d| d.0),
                ends_on: input.ends_on.map(|d| d.0),
                funding_stream: input.funding_stream.into(),
                unit_id: ids::expect("unitId", "TimeUnit", &input.unit_id)?,
                quantity_hundredths: hundredths("quantity", input.quantity)?,
                price_pence: input.price_pence,
                link_ep_id: ids::expect_opt("linkEpId", "Person", input.link_ep_id.as_ref())?,
                status: input.status.into(),
            };
            contracts::create(c.db(), caller, contract).await
        }
        .await;
        Ok(payload_of(c, result, Contract)?.into())
    }

    async fn update_contract(&self, ctx: &Context<'_>, input: UpdateContractInput) -> Result<ContractPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id: ContractId = not_found_if_bad(ids::expect("id", "Contract", &input.id)).or_gql(c)?;
        let result = async {
            let patch = contracts::ContractPatch {
                link_ep_id: match input.link_ep_id {
                    async_graphql::MaybeUndefined::Undefined => None,
                    async_graphql::MaybeUndefined::Null => Some(None),
                    async_graphql::MaybeUndefined::Value(v) => Some(Some(ids::expect("linkEpId", "Person", &v)?)),
                },
                status: input.status.map(Into::into),
                price_pence: input.price_pence,
                quantity_hundredths: input.quantity.map(|q| hundredths("quantity", q)).transpose()?,
            };
            contracts::update(c.db(), caller, id, patch).await
        }
        .await;
        Ok(payload_of(c, result, Contract)?.into())
    }

    /// Adds time to an active contract.
    async fn top_up_contract(&self, ctx: &Context<'_>, input: TopUpContractInput) -> Result<ContractPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id: ContractId = not_found_if_bad(ids::expect("contractId", "Contract", &input.contract_id)).or_gql(c)?;
        let result = async {
            let top_up = contracts::TopUp {
                contract_id: id,
                quantity_hundredths: hundredths("quantity", input.quantity)?,
                price_pence: input.price_pence,
                reason: input.reason,
            };
            contracts::top_up(c.db(), caller, top_up).await
        }
        .await;
        Ok(payload_of(c, result, Contract)?.into())
    }
}
