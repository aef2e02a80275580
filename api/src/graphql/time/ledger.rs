//! The append-only time ledger and administrators' adjustments to it.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use domain::entities::ledger_entry;
use domain::time::ledger;

use crate::graphql::context;
use crate::graphql::enums::{FundingStream, LedgerKind, TimeCategory};
use crate::graphql::errors::{OrGraphql, payload_of};
use crate::graphql::ids;
use crate::graphql::page::{self, Conn};
use crate::graphql::scalars::Date;

/// One entry of the append-only time ledger.
pub struct LedgerEntry(pub ledger_entry::Model);

#[Object]
impl LedgerEntry {
    pub async fn id(&self) -> ID {
        ids::encode("LedgerEntry", self.0.id)
    }
    async fn kind(&self) -> LedgerKind {
        self.0.kind.into()
    }
    async fn funding_stream(&self) -> FundingStream {
        self.0.funding_stream.into()
    }
    async fn category(&self) -> TimeCategory {
        self.0.category.into()
    }
    /// Positive draws time down; negative gives it back.
    async fn minutes(&self) -> i32 {
        self.0.minutes
    }
    /// The day the time belongs to (in the service's time zone).
    async fn applies_on(&self) -> Date {
        Date(self.0.applies_on)
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn school_id(&self) -> Option<ID> {
        self.0.school_id.map(|s| ids::encode("School", s))
    }
    async fn ep_id(&self) -> Option<ID> {
        self.0.ep_id.map(|s| ids::encode("Person", s))
    }
    async fn contract_id(&self) -> Option<ID> {
        self.0.contract_id.map(|s| ids::encode("Contract", s))
    }
    async fn booking_id(&self) -> Option<ID> {
        self.0.booking_id.map(|s| ids::encode("Booking", s))
    }
    async fn corrects_entry_id(&self) -> Option<ID> {
        self.0.corrects_entry_id.map(|s| ids::encode("LedgerEntry", s))
    }
    async fn created_by_id(&self) -> Option<ID> {
        self.0.created_by.map(|s| ids::encode("Person", s))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject, Default)]
pub struct LedgerFilter {
    pub service_id: Option<ID>,
    pub school_id: Option<ID>,
    pub contract_id: Option<ID>,
    pub booking_id: Option<ID>,
    pub ep_id: Option<ID>,
    pub from: Option<Date>,
    pub to: Option<Date>,
}

#[derive(InputObject)]
pub struct AdjustLedgerInput {
    pub school_id: ID,
    pub contract_id: Option<ID>,
    pub ep_id: Option<ID>,
    pub funding_stream: FundingStream,
    #[graphql(default_with = "TimeCategory::Direct")]
    pub category: TimeCategory,
    /// Positive draws time down; negative gives it back.
    pub minutes: i32,
    pub applies_on: Date,
    pub reason: String,
    pub corrects_entry_id: Option<ID>,
}

payload!(AdjustLedgerPayload { entry: LedgerEntry });

#[derive(Default)]
pub struct LedgerQuery;

#[Object]
impl LedgerQuery {
    /// Ledger entries the caller can see, newest first.
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    async fn ledger_entries(
        &self,
        ctx: &Context<'_>,
        filter: Option<LedgerFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<LedgerEntry>> {
        let c = context::of(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = ledger::Filter {
            service_id: ids::expect_opt("filter.serviceId", "Service", f.service_id.as_ref()).or_gql(c)?,
            school_id: ids::expect_opt("filter.schoolId", "School", f.school_id.as_ref()).or_gql(c)?,
            contract_id: ids::expect_opt("filter.contractId", "Contract", f.contract_id.as_ref()).or_gql(c)?,
            booking_id: ids::expect_opt("filter.bookingId", "Booking", f.booking_id.as_ref()).or_gql(c)?,
            ep_id: ids::expect_opt("filter.epId", "Person", f.ep_id.as_ref()).or_gql(c)?,
            from: f.from.map(|d| d.0),
            to: f.to.map(|d| d.0),
        };
        let rows = ledger::entries(
            c.db(),
            c.caller()?,
            filter,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, LedgerEntry))
    }
}

#[derive(Default)]
pub struct LedgerMutation;

#[Object]
impl LedgerMutation {
    /// Posts a correcting adjustment to the time ledger (administrators).
    async fn adjust_ledger(&self, ctx: &Context<'_>, input: AdjustLedgerInput) -> Result<AdjustLedgerPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let a = ledger::Adjustment {
                school_id: ids::expect("schoolId", "School", &input.school_id)?,
                contract_id: ids::expect_opt("contractId", "Contract", input.contract_id.as_ref())?,
                ep_id: ids::expect_opt("epId", "Person", input.ep_id.as_ref())?,
                funding_stream: input.funding_stream.into(),
                category: input.category.into(),
                minutes: i64::from(input.minutes),
                applies_on: input.applies_on.0,
                reason: input.reason,
                corrects_entry_id: ids::expect_opt("correctsEntryId", "LedgerEntry", input.corrects_entry_id.as_ref())?,
            };
            ledger::adjust(c.db(), caller, a).await
        }
        .await;
        Ok(payload_of(c, result, LedgerEntry)?.into())
    }
}
