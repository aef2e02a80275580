//! Partner clients made before public ids were random carry `pc_` and their own row id in hex,
//! so anyone shown a global id could work out the client id, and a client id confirmed a row.
//! Those clients get a random public id (16 random bytes, as new ones have); their secrets and
//! tokens are untouched, and their administrators see the new id in `partnerClients`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::kit;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statement = match m.get_database_backend() {
            DbBackend::Postgres => {
                "UPDATE partner_clients SET client_id = 'pc_' || replace(gen_random_uuid()::text, '-', '') \
                 WHERE client_id = 'pc_' || replace(id::text, '-', '')"
            }
            _ => {
                "UPDATE partner_clients SET client_id = 'pc_' || lower(hex(randomblob(16))) \
                 WHERE client_id = 'pc_' || replace(lower(id), '-', '')"
            }
        };
        kit::sql(m, statement).await
    }

    /// The old ids are not restored: they were the flaw.
    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
