//! EP time: the service's time settings and academic calendar, contracts and top-ups, EP working
//! patterns and exceptions, bookings (one table for every kind of EP time, so that one rule keeps
//! an EP in one place at a time) and the append-only time ledger.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::kit::{self, fk, id, index, instant, instant_null, reference, reference_null, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CASCADE: ForeignKeyAction = ForeignKeyAction::Cascade;
const RESTRICT: ForeignKeyAction = ForeignKeyAction::Restrict;
const SET_NULL: ForeignKeyAction = ForeignKeyAction::SetNull;

/// PostgreSQL: the database itself refuses overlapping active bookings of one EP (top-level
/// bookings and visits), and overlapping bookings inside one visit. Deferrable, so that a
/// reschedule can book the new time before it cancels the old one in the same transaction.
const PG_OVERLAP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE bookings ADD CONSTRAINT bookings_ep_no_overlap EXCLUDE USING gist \
     (ep_id WITH =, tstzrange(blocked_from, blocked_until, '[)') WITH &&) \
     WHERE (status <> 'CANCELLED' AND visit_id IS NULL) DEFERRABLE INITIALLY IMMEDIATE",
    "ALTER TABLE bookings ADD CONSTRAINT bookings_visit_no_overlap EXCLUDE USING gist \
     (visit_id WITH =, tstzrange(blocked_from, blocked_until, '[)') WITH &&) \
     WHERE (status <> 'CANCELLED' AND visit_id IS NOT NULL) DEFERRABLE INITIALLY IMMEDIATE",
    "CREATE FUNCTION scps_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'ledger_entries_append_only' USING ERRCODE = 'raise_exception'; END $$",
    "CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries \
     FOR EACH ROW EXECUTE FUNCTION scps_append_only()",
];

const PG_OVERLAP_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries",
    "DROP FUNCTION IF EXISTS scps_append_only()",
];

/// SQLite: the same rules as triggers. SQLite runs one writer at a time, so a check inside the
/// inserting statement cannot race. A reschedule may overlap the booking it replaces.
const SQLITE_OVERLAP: &[&str] = &[
    "CREATE TRIGGER bookings_ep_no_overlap BEFORE INSERT ON bookings \
     WHEN NEW.status <> 'CANCELLED' AND NEW.visit_id IS NULL AND EXISTS ( \
       SELECT 1 FROM bookings b WHERE b.ep_id = NEW.ep_id AND b.status <> 'CANCELLED' \
       AND b.visit_id IS NULL AND b.blocked_from < NEW.blocked_until AND NEW.blocked_from < b.blocked_until \
       AND (NEW.rescheduled_from_id IS NULL OR b.id <> NEW.rescheduled_from_id)) \
     BEGIN SELECT RAISE(ABORT, 'bookings_ep_no_overlap'); END",
    "CREATE TRIGGER bookings_visit_no_overlap BEFORE INSERT ON bookings \
     WHEN NEW.status <> 'CANCELLED' AND NEW.visit_id IS NOT NULL AND EXISTS ( \
       SELECT 1 FROM bookings b WHERE b.visit_id = NEW.visit_id AND b.status <> 'CANCELLED' \
       AND b.blocked_from < NEW.blocked_until AND NEW.blocked_from < b.blocked_until \
       AND (NEW.rescheduled_from_id IS NULL OR b.id <> NEW.rescheduled_from_id)) \
     BEGIN SELECT RAISE(ABORT, 'bookings_visit_no_overlap'); END",
    "CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries \
     BEGIN SELECT RAISE(ABORT, 'ledger_entries_append_only'); END",
    "CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries \
     BEGIN SELECT RAISE(ABORT, 'ledger_entries_append_only'); END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("time_settings")
                .col(reference("service_id").primary_key())
                .col(integer("cancellation_notice_hours"))
                .col(integer("late_cancellation_charge_percent"))
                .col(boolean("ep_cancellation_requires_alternative"))
                .col(text("overbooking_policy"))
                .col(integer("travel_buffer_minutes"))
                .col(integer("minimum_notice_hours"))
                .col(integer("slot_step_minutes"))
                .col(text("even_use_over"))
                .col(integer("under_use_tolerance_percent"))
                .col(instant("updated_at"))
                .foreign_key(&mut fk("time_settings", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("time_units")
                .col(id())
                .col(reference("service_id"))
                .col(text("name"))
                .col(integer("minutes"))
                .col(instant("created_at"))
                .col(instant_null("archived_at"))
                .foreign_key(&mut fk("time_units", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("time_units", &["service_id", "name"])).await?;

        m.create_table(
            Table::create()
                .table("academic_years")
                .col(id())
                .col(reference("service_id"))
                .col(text("name"))
                .col(date("starts_on"))
                .col(date("ends_on"))
                .col(instant("created_at"))
                .foreign_key(&mut fk("academic_years", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("academic_years", &["service_id", "name"]))
            .await?;

        m.create_table(
            Table::create()
                .table("terms")
                .col(id())
                .col(reference("service_id"))
                .col(reference("academic_year_id"))
                .col(reference_null("parent_term_id"))
                .col(text("name"))
                .col(date("starts_on"))
                .col(date("ends_on"))
                .foreign_key(&mut fk("terms", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("terms", "academic_year_id", "academic_years", CASCADE))
                .foreign_key(&mut fk("terms", "parent_term_id", "terms", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(index("terms", &["service_id", "starts_on"])).await?;
        m.create_index(index("terms", &["academic_year_id"])).await?;
        m.create_index(index("terms", &["parent_term_id"])).await?;

        m.create_table(
            Table::create()
                .table("closures")
                .col(id())
                .col(reference("service_id"))
                .col(reference_null("school_id"))
                .col(text("kind"))
                .col(date("starts_on"))
                .col(date("ends_on"))
                .col(text_null("reason"))
                .col(instant("created_at"))
                .foreign_key(&mut fk("closures", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("closures", "school_id", "schools", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(index("closures", &["service_id", "starts_on"])).await?;
        m.create_index(index("closures", &["school_id"])).await?;

        m.create_table(
            Table::create()
                .table("contracts")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(text("period_kind"))
                .col(date("starts_on"))
                .col(date("ends_on"))
                .col(reference_null("academic_year_id"))
                .col(text("funding_stream"))
                .col(reference("unit_id"))
                .col(integer("quantity_hundredths"))
                .col(integer("minutes"))
                .col(big_integer_null("price_pence"))
                .col(reference_null("link_ep_id"))
                .col(text("status"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .col(instant("updated_at"))
                .foreign_key(&mut fk("contracts", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("contracts", "school_id", "schools", RESTRICT))
                .foreign_key(&mut fk("contracts", "academic_year_id", "academic_years", SET_NULL))
                .foreign_key(&mut fk("contracts", "unit_id", "time_units", RESTRICT))
                .foreign_key(&mut fk("contracts", "link_ep_id", "people", SET_NULL))
                .to_owned(),
        )
        .await?;
        m.create_index(index("contracts", &["service_id", "starts_on"])).await?;
        m.create_index(index("contracts", &["school_id", "funding_stream"]))
            .await?;
        m.create_index(index("contracts", &["academic_year_id"])).await?;
        m.create_index(index("contracts", &["unit_id"])).await?;
        m.create_index(index("contracts", &["link_ep_id"])).await?;

        m.create_table(
            Table::create()
                .table("contract_top_ups")
                .col(id())
                .col(reference("service_id"))
                .col(reference("contract_id"))
                .col(integer("quantity_hundredths"))
                .col(integer("minutes"))
                .col(big_integer_null("price_pence"))
                .col(text("reason"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .foreign_key(&mut fk("contract_top_ups", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("contract_top_ups", "contract_id", "contracts", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(index("contract_top_ups", &["contract_id"])).await?;
        m.create_index(index("contract_top_ups", &["service_id"])).await?;

        m.create_table(
            Table::create()
                .table("working_patterns")
                .col(id())
                .col(reference("service_id"))
                .col(reference("ep_id"))
                .col(date("effective_from"))
                .col(date_null("effective_until"))
                .col(integer("fte_hundredths"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .foreign_key(&mut fk("working_patterns", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("working_patterns", "ep_id", "people", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(index("working_patterns", &["service_id", "ep_id", "effective_from"]))
            .await?;
        m.create_index(index("working_patterns", &["ep_id"])).await?;

        m.create_table(
            Table::create()
                .table("working_hours")
                .col(id())
                .col(reference("pattern_id"))
                .col(integer("weekday"))
                .col(time("starts_at"))
                .col(time("ends_at"))
                .foreign_key(&mut fk("working_hours", "pattern_id", "working_patterns", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(index("working_hours", &["pattern_id"])).await?;

        m.create_table(
            Table::create()
                .table("calendar_exceptions")
                .col(id())
                .col(reference("service_id"))
                .col(reference("ep_id"))
                .col(text("kind"))
                .col(instant("starts_at"))
                .col(instant("ends_at"))
                .col(text_null("reason"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .col(instant_null("withdrawn_at"))
                .foreign_key(&mut fk("calendar_exceptions", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("calendar_exceptions", "ep_id", "people", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(index("calendar_exceptions", &["service_id", "ep_id", "starts_at"]))
            .await?;
        m.create_index(index("calendar_exceptions", &["ep_id"])).await?;

        m.create_table(
            Table::create()
                .table("bookings")
                .col(id())
                .col(reference("service_id"))
                .col(reference_null("school_id"))
                .col(reference("ep_id"))
                .col(text("kind"))
                .col(reference_null("visit_id"))
                .col(text("mode"))
                .col(text_null("location"))
                .col(instant("starts_at"))
                .col(instant("ends_at"))
                .col(instant("blocked_from"))
                .col(instant("blocked_until"))
                .col(text("status"))
                .col(text_null("funding_stream"))
                .col(reference_null("contract_id"))
                .col(integer("direct_minutes"))
                .col(integer("preparation_minutes"))
                .col(text_null("overbooking_reason"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .col(reference_null("created_by_partner"))
                .col(instant("updated_at"))
                .col(instant_null("confirmed_at"))
                .col(instant_null("delivered_at"))
                .col(instant_null("cancelled_at"))
                .col(reference_null("cancelled_by"))
                .col(reference_null("cancelled_by_partner"))
                .col(text_null("cancelled_for"))
                .col(text_null("cancellation_reason"))
                .col(boolean_null("cancellation_charged"))
                .col(reference_null("rescheduled_from_id"))
                .col(reference_null("rescheduled_to_id"))
                .col(reference_null("alternative_id"))
                .foreign_key(&mut fk("bookings", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("bookings", "school_id", "schools", RESTRICT))
                .foreign_key(&mut fk("bookings", "ep_id", "people", RESTRICT))
                .foreign_key(&mut fk("bookings", "visit_id", "bookings", RESTRICT))
                .foreign_key(&mut fk("bookings", "contract_id", "contracts", RESTRICT))
                .foreign_key(&mut fk("bookings", "rescheduled_from_id", "bookings", SET_NULL))
                .foreign_key(&mut fk("bookings", "rescheduled_to_id", "bookings", SET_NULL))
                .foreign_key(&mut fk("bookings", "alternative_id", "bookings", SET_NULL))
                .to_owned(),
        )
        .await?;
        m.create_index(index("bookings", &["service_id", "starts_at"])).await?;
        m.create_index(index("bookings", &["school_id", "starts_at"])).await?;
        m.create_index(index("bookings", &["ep_id", "blocked_from"])).await?;
        m.create_index(index("bookings", &["visit_id"])).await?;
        m.create_index(index("bookings", &["contract_id"])).await?;
        m.create_index(index("bookings", &["rescheduled_from_id"])).await?;
        m.create_index(index("bookings", &["rescheduled_to_id"])).await?;
        m.create_index(index("bookings", &["alternative_id"])).await?;

        m.create_table(
            Table::create()
                .table("ledger_entries")
                .col(id())
                .col(reference("service_id"))
                .col(reference_null("school_id"))
                .col(reference_null("ep_id"))
                .col(reference_null("contract_id"))
                .col(reference_null("booking_id"))
                .col(text("kind"))
                .col(text("funding_stream"))
                .col(text("category"))
                .col(integer("minutes"))
                .col(date("applies_on"))
                .col(text_null("reason"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .col(reference_null("created_by_partner"))
                .col(reference_null("corrects_entry_id"))
                .foreign_key(&mut fk("ledger_entries", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("ledger_entries", "school_id", "schools", RESTRICT))
                .foreign_key(&mut fk("ledger_entries", "ep_id", "people", RESTRICT))
                .foreign_key(&mut fk("ledger_entries", "contract_id", "contracts", RESTRICT))
                .foreign_key(&mut fk("ledger_entries", "booking_id", "bookings", RESTRICT))
                .foreign_key(&mut fk(
                    "ledger_entries",
                    "corrects_entry_id",
                    "ledger_entries",
                    RESTRICT,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ledger_entries", &["service_id", "applies_on"]))
            .await?;
        m.create_index(index("ledger_entries", &["school_id", "applies_on"]))
            .await?;
        m.create_index(index("ledger_entries", &["ep_id", "applies_on"]))
            .await?;
        m.create_index(index("ledger_entries", &["contract_id"])).await?;
        m.create_index(index("ledger_entries", &["booking_id"])).await?;
        m.create_index(index("ledger_entries", &["corrects_entry_id"])).await?;

        let rules = match m.get_database_backend() {
            DbBackend::Postgres => PG_OVERLAP,
            _ => SQLITE_OVERLAP,
        };
        for statement in rules {
            kit::sql(m, statement).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            for statement in PG_OVERLAP_DOWN {
                kit::sql(m, statement).await?;
            }
        }
        kit::drop_tables(
            m,
            &[
                "ledger_entries",
                "bookings",
                "calendar_exceptions",
                "working_hours",
                "working_patterns",
                "contract_top_ups",
                "contracts",
                "closures",
                "terms",
                "academic_years",
                "time_units",
                "time_settings",
            ],
        )
        .await
    }
}
