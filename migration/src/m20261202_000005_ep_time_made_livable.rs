//! EP time, corrected: the service's term-time rule and whether schools may book; a contract
//! keeps the unit's minutes it was sold at; bookings may belong to a series of visits, and
//! record why an administrator booked inside the minimum notice; a booking's blocked time is its
//! own span (one travel buffer between two places is checked between neighbours, not added to
//! both).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::kit::{self, fk, id, index, instant, reference, reference_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CASCADE: ForeignKeyAction = ForeignKeyAction::Cascade;
const RESTRICT: ForeignKeyAction = ForeignKeyAction::Restrict;

/// Columns added to existing tables: (table, column definition).
fn added() -> Vec<(&'static str, ColumnDef)> {
    vec![
        (
            "time_settings",
            ColumnDef::new("term_time_policy")
                .text()
                .not_null()
                .default("REFUSE")
                .to_owned(),
        ),
        (
            "time_settings",
            ColumnDef::new("schools_may_book")
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ),
        (
            "time_settings",
            ColumnDef::new("school_booking_kinds")
                .text()
                .not_null()
                .default("CONSULTATION PLANNING_MEETING")
                .to_owned(),
        ),
        (
            "time_settings",
            ColumnDef::new("school_booking_within_visits")
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ),
        (
            "contracts",
            ColumnDef::new("unit_minutes")
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
        ),
        (
            "bookings",
            ColumnDef::new("short_notice_reason").text().null().to_owned(),
        ),
        // The series a booking was made in. Series are never deleted; SQLite cannot drop a
        // column that carries a reference, so this one is checked by the code that writes it.
        ("bookings", ColumnDef::new("series_id").uuid().null().to_owned()),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("booking_series")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference("ep_id"))
                .col(text("kind"))
                .col(text("mode"))
                .col(text_null("location"))
                .col(integer("weekday"))
                .col(time("starts_at"))
                .col(time("ends_at"))
                .col(integer("every_weeks"))
                .col(date("starts_on"))
                .col(date("ends_on"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .foreign_key(&mut fk("booking_series", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("booking_series", "ep_id", "people", RESTRICT))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_booking_series_school_in_service")
                        .from("booking_series", ("school_id", "service_id"))
                        .to("schools", ("id", "service_id"))
                        .on_delete(RESTRICT),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("booking_series", &["school_id", "service_id"]))
            .await?;
        m.create_index(index("booking_series", &["ep_id"])).await?;
        for (table, column) in added() {
            m.alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        m.create_index(index("bookings", &["series_id"])).await?;
        kit::sql(
            m,
            "UPDATE contracts SET unit_minutes = (SELECT u.minutes FROM time_units u WHERE u.id = contracts.unit_id)",
        )
        .await?;
        // A booking blocks its own span; the travel between two places is one buffer, checked
        // between neighbours (it used to be added to both ends of both bookings).
        kit::sql(
            m,
            "UPDATE bookings SET blocked_from = starts_at, blocked_until = ends_at WHERE visit_id IS NULL",
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_bookings_series_id").table("bookings").to_owned())
            .await?;
        for (table, column) in added().into_iter().rev() {
            let name = column.get_column_name();
            m.alter_table(Table::alter().table(table).drop_column(name).to_owned())
                .await?;
        }
        kit::drop_tables(m, &["booking_series"]).await
    }
}
