//! What a service books by: its time zone, its time settings, its terms, its closures and its
//! EPs' working patterns. Availability, booking, conflicts and the summary all need it, and it
//! changes a few times a term, so each process keeps it in memory under the service's
//! `calendar_stamp`. The database changes the stamp in the same transaction as any change to
//! those tables (migration `m20261208_000011_calendar_stamp`), so reading the service row, one
//! statement, says whether what is kept is still the database's, on every replica alike.
//!
//! Why it cannot serve stale data: what is kept was loaded after its stamp was read, so it is at
//! least as new as its stamp; a writer's stamp is random, so a write that rolls back leaves a
//! stamp no reader will see again.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::NaiveDate;
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};

use super::DateRange;
use super::calendar::{self, Pattern};
use super::terms::TermCalendar;
use crate::door::Door;
use crate::entities::{closure, service, term, time_settings, working_pattern};
use crate::error::DomainResult;
use crate::ids::{PersonId, SchoolId, ServiceId};

/// Services kept at most; past this the memory starts again (a deployment has a few dozen).
const MAX_KEPT: usize = 1_000;

/// Each service's calendar, with the stamp it was read under.
type Memory = HashMap<ServiceId, (i64, Arc<Kept>)>;

static KEPT: LazyLock<Mutex<Memory>> = LazyLock::new(Mutex::default);

/// The parts that are kept between requests.
#[derive(Debug)]
struct Kept {
    policies: time_settings::Model,
    terms: TermCalendar,
    /// Oldest first.
    closures: Vec<closure::Model>,
    /// Oldest first.
    patterns: Vec<Pattern>,
}

/// A service's calendar as of one reading of its row.
#[derive(Clone, Debug)]
pub struct ServiceCalendar {
    pub tz: Tz,
    kept: Arc<Kept>,
}

impl ServiceCalendar {
    /// The service's calendar: one statement when this process already holds the current one.
    pub async fn of(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<Self> {
        let door = Door::service(conn, service);
        let row = door.get::<service::Entity>(service).await?;
        let tz = super::zone_of(&row)?;
        let held = KEPT.lock().ok().and_then(|m| {
            m.get(&service)
                .filter(|(stamp, _)| *stamp == row.calendar_stamp)
                .map(|(_, k)| k.clone())
        });
        if let Some(kept) = held {
            return Ok(Self { tz, kept });
        }
        let policies = door.get::<time_settings::Entity>(service).await?;
        let terms = door
            .find::<term::Entity>()
            .filter(term::Column::ServiceId.eq(service))
            .order_by_asc(term::Column::StartsOn)
            .all(conn)
            .await?;
        let closures = door
            .find::<closure::Entity>()
            .filter(closure::Column::ServiceId.eq(service))
            .order_by_asc(closure::Column::StartsOn)
            .all(conn)
            .await?;
        let patterns = calendar::with_hours(&door, door.find::<working_pattern::Entity>(), service, None).await?;
        let kept = Arc::new(Kept {
            policies,
            terms: TermCalendar::from_rows(&terms),
            closures,
            patterns,
        });
        if let Ok(mut m) = KEPT.lock() {
            if m.len() >= MAX_KEPT {
                m.clear();
            }
            m.insert(service, (row.calendar_stamp, kept.clone()));
        }
        Ok(Self { tz, kept })
    }

    /// The service's time settings.
    pub fn policies(&self) -> &time_settings::Model {
        &self.kept.policies
    }

    /// The service's terms and half-terms.
    pub fn terms(&self) -> &TermCalendar {
        &self.kept.terms
    }

    /// Closures overlapping a date range, oldest first: service-wide ones, and those of the given
    /// schools (every school's when `schools` is `None`).
    pub fn closures_between(&self, range: DateRange, schools: Option<&[SchoolId]>) -> Vec<&closure::Model> {
        self.kept
            .closures
            .iter()
            .filter(|c| c.starts_on <= range.ends_on && c.ends_on >= range.starts_on)
            .filter(|c| match (schools, c.school_id) {
                (None, _) | (_, None) => true,
                (Some(schools), Some(s)) => schools.contains(&s),
            })
            .collect()
    }

    /// Some EPs' patterns in effect at some time between two dates, oldest first.
    pub fn patterns_between(&self, eps: &[PersonId], from: NaiveDate, to: NaiveDate) -> Vec<&Pattern> {
        self.kept
            .patterns
            .iter()
            .filter(|p| eps.contains(&p.row.ep_id))
            .filter(|p| p.row.effective_from <= to && p.row.effective_until.is_none_or(|u| u >= from))
            .collect()
    }
}
