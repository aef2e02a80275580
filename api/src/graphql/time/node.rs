//! The time area's objects by global id, for `node(id:)`.

use async_graphql::Result;
use uuid::Uuid;

use domain::DomainError;
use domain::ids::{
    AcademicYearId, BookingId, CalendarExceptionId, ClosureId, ContractId, LedgerEntryId, TimeUnitId, WorkingPatternId,
};
use domain::time::{bookings, calendar, contracts, ledger, settings};

use super::{
    AcademicYear, Booking, CalendarException, Closure, Contract, LedgerEntry, TimeUnit, VisitSeries, WorkingPattern,
};
use crate::graphql::context::Context as RequestContext;
use crate::graphql::tenancy::Node;

pub async fn load_node(c: &RequestContext, kind: &str, uuid: Uuid) -> Result<Node, DomainError> {
    let caller = c.caller.as_ref().ok_or(DomainError::Unauthenticated)?;
    let db = c.db();
    match kind {
        "Contract" => contracts::get(db, caller, ContractId(uuid))
            .await
            .map(|m| Node::Contract(Contract(m))),
        "Booking" => bookings::get(db, caller, BookingId(uuid))
            .await
            .map(|m| Node::Booking(Booking(m))),
        "LedgerEntry" => ledger::entry(db, caller, LedgerEntryId(uuid))
            .await
            .map(|m| Node::LedgerEntry(LedgerEntry(m))),
        "TimeUnit" => settings::find_unit(db, caller, TimeUnitId(uuid))
            .await
            .map(|m| Node::TimeUnit(TimeUnit(m))),
        "AcademicYear" => settings::find_academic_year(db, caller, AcademicYearId(uuid))
            .await
            .map(|m| Node::AcademicYear(AcademicYear(m))),
        "Closure" => settings::find_closure(db, caller, ClosureId(uuid))
            .await
            .map(|m| Node::Closure(Closure(m))),
        "WorkingPattern" => calendar::find_pattern(db, caller, WorkingPatternId(uuid))
            .await
            .map(|m| Node::WorkingPattern(WorkingPattern(m))),
        "CalendarException" => calendar::find_exception(db, caller, CalendarExceptionId(uuid))
            .await
            .map(|m| Node::CalendarException(CalendarException(m))),
        "VisitSeries" => bookings::series::get(db, caller, domain::ids::BookingSeriesId(uuid))
            .await
            .map(|m| Node::VisitSeries(VisitSeries(m))),
        _ => Err(DomainError::NotFound),
    }
}
