//! The database refuses overlapping live contracts of one school in one funding stream, and
//! overlapping academic years of one service, as it refuses overlapping bookings: checks in the
//! code name the clash, these stop two requests that check at the same moment.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::kit;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE contracts ADD CONSTRAINT contracts_no_overlap EXCLUDE USING gist \
     (school_id WITH =, funding_stream WITH =, daterange(starts_on, ends_on, '[]') WITH &&) \
     WHERE (status <> 'CANCELLED')",
    "ALTER TABLE academic_years ADD CONSTRAINT academic_years_no_overlap EXCLUDE USING gist \
     (service_id WITH =, daterange(starts_on, ends_on, '[]') WITH &&)",
];

const POSTGRES_DOWN: &[&str] = &[
    "ALTER TABLE contracts DROP CONSTRAINT IF EXISTS contracts_no_overlap",
    "ALTER TABLE academic_years DROP CONSTRAINT IF EXISTS academic_years_no_overlap",
];

const SQLITE_UP: &[&str] = &[
    "CREATE TRIGGER contracts_no_overlap BEFORE INSERT ON contracts \
     WHEN NEW.status <> 'CANCELLED' AND EXISTS ( \
       SELECT 1 FROM contracts c WHERE c.school_id = NEW.school_id AND c.funding_stream = NEW.funding_stream \
       AND c.status <> 'CANCELLED' AND c.starts_on <= NEW.ends_on AND NEW.starts_on <= c.ends_on) \
     BEGIN SELECT RAISE(ABORT, 'contracts_no_overlap'); END",
    "CREATE TRIGGER academic_years_no_overlap BEFORE INSERT ON academic_years \
     WHEN EXISTS ( \
       SELECT 1 FROM academic_years y WHERE y.service_id = NEW.service_id \
       AND y.starts_on <= NEW.ends_on AND NEW.starts_on <= y.ends_on) \
     BEGIN SELECT RAISE(ABORT, 'academic_years_no_overlap'); END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS contracts_no_overlap",
    "DROP TRIGGER IF EXISTS academic_years_no_overlap",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statements = if m.get_database_backend() == DbBackend::Postgres {
            POSTGRES_UP
        } else {
            SQLITE_UP
        };
        for s in statements {
            kit::sql(m, s).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let statements = if m.get_database_backend() == DbBackend::Postgres {
            POSTGRES_DOWN
        } else {
            SQLITE_DOWN
        };
        for s in statements {
            kit::sql(m, s).await?;
        }
        Ok(())
    }
}
