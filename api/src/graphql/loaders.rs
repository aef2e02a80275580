//! Batch loaders, built per request from the caller (never shared between requests), so that a
//! list of bookings asks for their schools and EPs in one statement each, and only sees what the
//! caller may see.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use async_graphql::dataloader::{DataLoader, Loader};

use domain::access::Caller;
use domain::db::Db;
use domain::entities::{person, school, service};
use domain::ids::{PersonId, SchoolId, ServiceId};
use domain::{DomainError, tenancy};

use crate::metrics::REQUEST_STATEMENTS;

pub struct SchoolLoader {
    db: Db,
    caller: Caller,
}

impl Loader<SchoolId> for SchoolLoader {
    type Value = school::Model;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[SchoolId]) -> Result<HashMap<SchoolId, Self::Value>, Self::Error> {
        let rows = tenancy::schools::get_many(&self.db, &self.caller, keys)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

pub struct PersonLoader {
    db: Db,
    caller: Caller,
}

impl Loader<PersonId> for PersonLoader {
    type Value = person::Model;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[PersonId]) -> Result<HashMap<PersonId, Self::Value>, Self::Error> {
        let rows = tenancy::people::get_many(&self.db, &self.caller, keys)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

pub struct ServiceLoader {
    db: Db,
    caller: Caller,
}

impl Loader<ServiceId> for ServiceLoader {
    type Value = service::Model;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[ServiceId]) -> Result<HashMap<ServiceId, Self::Value>, Self::Error> {
        let rows = tenancy::services::mine(&self.db, &self.caller)
            .await
            .map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .filter(|r| keys.contains(&r.id))
            .map(|r| (r.id, r))
            .collect())
    }
}

/// The loaders of one request.
pub struct Loaders {
    pub schools: DataLoader<SchoolLoader>,
    pub people: DataLoader<PersonLoader>,
    pub services: DataLoader<ServiceLoader>,
}

impl Loaders {
    /// Loaders for one caller. Their batches run on spawned tasks that still count their
    /// statements against this request.
    pub fn new(db: &Db, caller: &Caller, statements: Arc<AtomicU64>) -> Self {
        let spawner = move |fut| {
            let counter = statements.clone();
            tokio::spawn(REQUEST_STATEMENTS.scope(counter, fut))
        };
        Self {
            schools: DataLoader::new(
                SchoolLoader {
                    db: db.clone(),
                    caller: caller.clone(),
                },
                spawner.clone(),
            ),
            people: DataLoader::new(
                PersonLoader {
                    db: db.clone(),
                    caller: caller.clone(),
                },
                spawner.clone(),
            ),
            services: DataLoader::new(
                ServiceLoader {
                    db: db.clone(),
                    caller: caller.clone(),
                },
                spawner,
            ),
        }
    }
}
