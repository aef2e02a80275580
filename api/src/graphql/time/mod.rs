//! EP time: settings, the academic calendar, contracts, EP calendars, bookings, availability,
//! the ledger and the administrator's summary.

mod availability;
mod bookings;
mod calendar;
mod contracts;
mod ledger;
mod node;
mod series;
mod settings;
mod summary;

use async_graphql::{Context, MergedObject, Result};

use domain::DomainError;
use domain::ids::{PersonId, SchoolId};

pub use bookings::{Booking, BookingFilter, connection as bookings_connection};
pub use calendar::{CalendarException, WorkingPattern};
pub use contracts::{Contract, SchoolStreamBalance};
pub use ledger::LedgerEntry;
pub use node::load_node;
pub use series::{SkippedDate, VisitSeries};
pub use settings::{AcademicYear, Closure, TimeSettings, TimeUnit};

use super::loaders;
use super::tenancy::{Person, School};

async fn load_school(ctx: &Context<'_>, id: Option<SchoolId>) -> Result<Option<School>> {
    Ok(loaders::school(ctx, id).await?.map(School))
}

async fn load_person(ctx: &Context<'_>, id: Option<PersonId>) -> Result<Option<Person>> {
    Ok(loaders::person(ctx, id).await?.map(Person))
}

fn not_found_if_bad<T>(r: Result<T, DomainError>) -> Result<T, DomainError> {
    r.map_err(|_| DomainError::NotFound)
}

/// Hundredths from a decimal quantity (7.5 → 750), refusing more than two decimals.
fn hundredths(field: &str, q: f64) -> Result<i64, DomainError> {
    let scaled = q * 100.0;
    if !scaled.is_finite() || (scaled - scaled.round()).abs() > 1e-6 {
        return Err(DomainError::invalid(
            field,
            domain::FieldErrorCode::Invalid,
            "must be a number with at most two decimals",
        ));
    }
    Ok(scaled.round() as i64)
}

#[derive(MergedObject, Default)]
pub struct TimeQuery(
    contracts::ContractsQuery,
    calendar::CalendarQuery,
    bookings::BookingsQuery,
    availability::AvailabilityQuery,
    ledger::LedgerQuery,
    summary::SummaryQuery,
    series::SeriesQuery,
);

#[derive(MergedObject, Default)]
pub struct TimeMutation(
    settings::SettingsMutation,
    contracts::ContractsMutation,
    calendar::CalendarMutation,
    bookings::BookingsMutation,
    ledger::LedgerMutation,
    series::SeriesMutation,
);
