//! Services, schools, people and their memberships, partner clients: who belongs where.

pub mod partners;
pub mod people;
pub mod schools;
pub mod services;

use std::collections::BTreeSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::access::{Access, Action, Caller};
use crate::entities::{booking, contract};
use crate::error::DomainResult;
use crate::ids::SchoolId;
use crate::model::{BookingStatus, ContractStatus};

/// Where the caller may take `action`, with the schools an EP works with looked up: those
/// where they are the link EP on a live contract, or where someone else booked them (a booking
/// that was not cancelled).
pub async fn access_for(conn: &impl ConnectionTrait, caller: &Caller, action: Action) -> DomainResult<Access> {
    let mut access = caller.principal.static_access(action);
    let pending = std::mem::take(&mut access.linked_pending);
    for (service, ep) in pending {
        let linked: Vec<SchoolId> = contract::Entity::find()
            .select_only()
            .column(contract::Column::SchoolId)
            .filter(contract::Column::ServiceId.eq(service))
            .filter(contract::Column::LinkEpId.eq(ep))
            .filter(contract::Column::Status.ne(ContractStatus::Cancelled))
            .distinct()
            .into_tuple()
            .all(conn)
            .await?;
        let booked: Vec<Option<SchoolId>> = booking::Entity::find()
            .select_only()
            .column(booking::Column::SchoolId)
            .filter(booking::Column::ServiceId.eq(service))
            .filter(booking::Column::EpId.eq(ep))
            .filter(booking::Column::Status.ne(BookingStatus::Cancelled))
            .filter(booking::Column::SchoolId.is_not_null())
            // Booked there by someone else: an EP cannot link themselves to a school.
            .filter(
                sea_orm::Condition::any()
                    .add(booking::Column::CreatedBy.is_null())
                    .add(booking::Column::CreatedBy.ne(ep)),
            )
            .distinct()
            .into_tuple()
            .all(conn)
            .await?;
        let schools: BTreeSet<SchoolId> = linked.into_iter().chain(booked.into_iter().flatten()).collect();
        for school in schools {
            access.schools.insert(school, service);
        }
    }
    Ok(access)
}
