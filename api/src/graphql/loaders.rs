//! Batch loaders, built per request from the caller (never shared between requests), so that a
//! list of bookings asks for their schools and EPs in one statement each, and only sees what the
//! caller may see.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};

use async_graphql::Context;

use domain::access::Caller;
use domain::db::Db;
use domain::entities::{person, school, service};
use domain::ids::{ContractId, PersonId, SchoolId, ServiceId};
use domain::time::{contracts, ledger};
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

/// A contract's balance: keyed by its service, its id and its purchase (already read with the
/// contract, in the caller's reach), so that a list of contracts sums its ledger in one
/// statement per service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContractKey {
    pub service: ServiceId,
    pub contract: ContractId,
    pub purchased: i64,
}

pub struct ContractBalanceLoader {
    db: Db,
}

impl Loader<ContractKey> for ContractBalanceLoader {
    type Value = ledger::Balance;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[ContractKey]) -> Result<HashMap<ContractKey, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        let services: std::collections::BTreeSet<ServiceId> = keys.iter().map(|k| k.service).collect();
        for service in services {
            let purchased: Vec<(ContractId, i64)> = keys
                .iter()
                .filter(|k| k.service == service)
                .map(|k| (k.contract, k.purchased))
                .collect();
            let balances = ledger::contract_balances(&self.db, service, &purchased)
                .await
                .map_err(Arc::new)?;
            for k in keys.iter().filter(|k| k.service == service) {
                if let Some(b) = balances.get(&k.contract) {
                    out.insert(*k, *b);
                }
            }
        }
        Ok(out)
    }
}

/// The loaders of one request. What they read is kept for the rest of the
/// request once read (the request is the cache's whole life), so that a list can read what its
/// rows refer to ahead of them (see [`prime`]).
pub struct Loaders {
    pub schools: DataLoader<SchoolLoader, HashMapCache>,
    pub people: DataLoader<PersonLoader, HashMapCache>,
    pub services: DataLoader<ServiceLoader, HashMapCache>,
    pub balances: DataLoader<ContractBalanceLoader, HashMapCache>,
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
            schools: DataLoader::with_cache(
                SchoolLoader {
                    db: db.clone(),
                    caller: caller.clone(),
                },
                spawner.clone(),
                HashMapCache::default(),
            ),
            people: DataLoader::with_cache(
                PersonLoader {
                    db: db.clone(),
                    caller: caller.clone(),
                },
                spawner.clone(),
                HashMapCache::default(),
            ),
            services: DataLoader::with_cache(
                ServiceLoader {
                    db: db.clone(),
                    caller: caller.clone(),
                },
                spawner.clone(),
                HashMapCache::default(),
            ),
            balances: DataLoader::with_cache(
                ContractBalanceLoader { db: db.clone() },
                spawner,
                HashMapCache::default(),
            ),
        }
    }
}

/// Turns a loader's shared error back into a domain error for reporting.
fn unshare(e: &Arc<DomainError>) -> DomainError {
    match e.as_ref() {
        DomainError::NotFound => DomainError::NotFound,
        DomainError::Forbidden => DomainError::Forbidden,
        DomainError::Refused(m) => DomainError::Refused(m.clone()),
        DomainError::Unauthenticated => DomainError::Unauthenticated,
        DomainError::Invalid(v) => DomainError::Invalid(v.clone()),
        DomainError::Conflict(m) => DomainError::Conflict(m.clone()),
        DomainError::RateLimited { retry_after_seconds } => DomainError::RateLimited {
            retry_after_seconds: *retry_after_seconds,
        },
        DomainError::Internal(i) => DomainError::internal(i.context, LoaderFailure(i.cause.to_string())),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct LoaderFailure(String);

/// Reads, one statement each, the schools and people that a page of rows refers to, when the
/// selection asks for them (`fields` names the row's fields, e.g. `school` and `ep`, looked for
/// under `edges.node` and `nodes`). The rows' own resolvers then find them in the request's
/// cache. Batching by the loaders' timer alone split a page's batch in several under load.
pub async fn prime(
    ctx: &Context<'_>,
    schools: (&str, Vec<SchoolId>),
    people: (&str, Vec<PersonId>),
) -> async_graphql::Result<()> {
    let asked = |field: &str| {
        let here = ctx.look_ahead();
        here.field("edges").field("node").field(field).exists() || here.field("nodes").field(field).exists()
    };
    let (school_field, school_ids) = schools;
    let (person_field, person_ids) = people;
    let want_schools = !school_ids.is_empty() && asked(school_field);
    let want_people = !person_ids.is_empty() && asked(person_field);
    if !want_schools && !want_people {
        return Ok(());
    }
    let c = super::context::of(ctx)?;
    let loaders = ctx.data::<Loaders>().map_err(|_| super::errors::unauthenticated())?;
    let schools = async {
        if want_schools {
            loaders.schools.load_many(school_ids).await.map(drop)
        } else {
            Ok(())
        }
    };
    let people = async {
        if want_people {
            loaders.people.load_many(person_ids).await.map(drop)
        } else {
            Ok(())
        }
    };
    let (a, b) = futures_util::future::join(schools, people).await;
    a.and(b)
        .map_err(|e| super::errors::to_graphql(unshare(&e), &c.request_id))
}

/// Loads one row through this request's loaders; `None` when it is absent or out of reach.
async fn load<K, L>(
    ctx: &Context<'_>,
    loader: impl FnOnce(&Loaders) -> &DataLoader<L, HashMapCache>,
    id: Option<K>,
) -> async_graphql::Result<Option<L::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    L: Loader<K, Error = Arc<DomainError>>,
{
    let Some(id) = id else { return Ok(None) };
    let c = super::context::of(ctx)?;
    let loaders = ctx.data::<Loaders>().map_err(|_| super::errors::unauthenticated())?;
    loader(loaders)
        .load_one(id)
        .await
        .map_err(|e| super::errors::to_graphql(unshare(&e), &c.request_id))
}

pub async fn school(ctx: &Context<'_>, id: Option<SchoolId>) -> async_graphql::Result<Option<school::Model>> {
    load(ctx, |l| &l.schools, id).await
}

pub async fn person(ctx: &Context<'_>, id: Option<PersonId>) -> async_graphql::Result<Option<person::Model>> {
    load(ctx, |l| &l.people, id).await
}

pub async fn service(ctx: &Context<'_>, id: Option<ServiceId>) -> async_graphql::Result<Option<service::Model>> {
    load(ctx, |l| &l.services, id).await
}

/// The balance of a contract the caller has read.
pub async fn contract_balance(ctx: &Context<'_>, c: &contracts::Contract) -> async_graphql::Result<ledger::Balance> {
    let key = ContractKey {
        service: c.row.service_id,
        contract: c.row.id,
        purchased: c.purchased_minutes(),
    };
    Ok(load(ctx, |l| &l.balances, Some(key)).await?.unwrap_or_default())
}
