//! The database schema of scps, one migration per change. An applied migration is never edited:
//! a change to the schema is a new file. Every migration runs on SQLite and PostgreSQL; where a
//! backend can do better (PostgreSQL exclusion constraints) it says so inside the migration.

#![allow(
    clippy::disallowed_methods,
    reason = "migrations own the schema and build it with statements of their own, outside any tenant"
)]

pub use sea_orm_migration::prelude::*;

mod kit;
mod m20261123_000001_platform;
mod m20261123_000002_ep_time;
mod m20261124_000003_no_overlapping_periods;
mod m20261201_000004_schools_in_their_service;
mod m20261202_000005_ep_time_made_livable;
mod m20261203_000006_consultations;
mod m20261204_000007_reflective_sessions;
mod m20261205_000008_space_to_talk;
mod m20261206_000009_semh_audits;
mod m20261207_000010_partner_client_ids_reissued;
mod m20261208_000011_calendar_stamp;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_platform::Migration),
            Box::new(m20261123_000002_ep_time::Migration),
            Box::new(m20261124_000003_no_overlapping_periods::Migration),
            Box::new(m20261201_000004_schools_in_their_service::Migration),
            Box::new(m20261202_000005_ep_time_made_livable::Migration),
            Box::new(m20261203_000006_consultations::Migration),
            Box::new(m20261204_000007_reflective_sessions::Migration),
            Box::new(m20261205_000008_space_to_talk::Migration),
            Box::new(m20261206_000009_semh_audits::Migration),
            Box::new(m20261207_000010_partner_client_ids_reissued::Migration),
            Box::new(m20261208_000011_calendar_stamp::Migration),
        ]
    }
}
