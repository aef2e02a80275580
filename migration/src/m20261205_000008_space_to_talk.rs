//! Space to Talk: the service's settings (slot length, whether slots draw down a school's
//! allocation, whether notes may be kept), runs of slots an EP offers to one school, several or
//! the whole service, the schools each run is open to, the slots (each holding a booking of EP
//! time), the parents' bookings with the least data that works, and the booking links a school
//! gives parents (stored as digests). One live booking per slot is a unique partial index, so a
//! second parent racing for the same slot cannot get it on either backend.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::kit::{self, fk, id, index, instant, instant_null, reference, reference_null, school_in_service, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CASCADE: ForeignKeyAction = ForeignKeyAction::Cascade;
const RESTRICT: ForeignKeyAction = ForeignKeyAction::Restrict;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("space_to_talk_settings")
                .col(uuid("service_id").primary_key())
                .col(integer("slot_minutes").default(45))
                .col(boolean("draws_down_allocation").default(false))
                .col(boolean("notes_enabled").default(false))
                .col(instant("updated_at"))
                .foreign_key(&mut fk("space_to_talk_settings", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("space_to_talk_runs")
                .col(id())
                .col(reference("service_id"))
                .col(reference("ep_id"))
                .col(reference_null("school_id"))
                .col(boolean("whole_service").default(false))
                .col(text("mode"))
                .col(text_null("location"))
                .col(integer("slot_minutes"))
                .col(integer("gap_minutes"))
                .col(instant("starts_at"))
                .col(instant("ends_at"))
                .col(boolean("draws_down"))
                .col(text("status"))
                .col(reference_null("created_by"))
                .col(instant("created_at"))
                .col(instant("updated_at"))
                .foreign_key(&mut fk("space_to_talk_runs", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("space_to_talk_runs", "ep_id", "people", RESTRICT))
                .foreign_key(&mut school_in_service("space_to_talk_runs", "school_id"))
                .to_owned(),
        )
        .await?;
        for columns in [
            &["service_id", "starts_at"][..],
            &["ep_id"],
            &["school_id", "service_id"],
        ] {
            m.create_index(index("space_to_talk_runs", columns)).await?;
        }

        m.create_table(
            Table::create()
                .table("space_to_talk_run_schools")
                .col(id())
                .col(reference("service_id"))
                .col(reference("run_id"))
                .col(reference("school_id"))
                .col(reference("ep_id"))
                .foreign_key(&mut fk(
                    "space_to_talk_run_schools",
                    "run_id",
                    "space_to_talk_runs",
                    CASCADE,
                ))
                .foreign_key(&mut school_in_service("space_to_talk_run_schools", "school_id"))
                .foreign_key(&mut fk("space_to_talk_run_schools", "ep_id", "people", RESTRICT))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("space_to_talk_run_schools", &["run_id", "school_id"]))
            .await?;
        m.create_index(index("space_to_talk_run_schools", &["school_id", "service_id"]))
            .await?;
        m.create_index(index("space_to_talk_run_schools", &["ep_id"])).await?;

        m.create_table(
            Table::create()
                .table("space_to_talk_slots")
                .col(id())
                .col(reference("service_id"))
                .col(reference("run_id"))
                .col(reference("ep_id"))
                .col(instant("starts_at"))
                .col(instant("ends_at"))
                .col(reference_null("booking_id"))
                .col(text("status"))
                .col(instant("updated_at"))
                .foreign_key(&mut fk("space_to_talk_slots", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("space_to_talk_slots", "run_id", "space_to_talk_runs", CASCADE))
                .foreign_key(&mut fk("space_to_talk_slots", "ep_id", "people", RESTRICT))
                .foreign_key(&mut fk("space_to_talk_slots", "booking_id", "bookings", RESTRICT))
                .to_owned(),
        )
        .await?;
        for columns in [
            &["run_id", "starts_at"][..],
            &["service_id", "status", "starts_at"],
            &["ep_id"],
            &["booking_id"],
        ] {
            m.create_index(index("space_to_talk_slots", columns)).await?;
        }

        m.create_table(
            Table::create()
                .table("space_to_talk_links")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(text("token_digest"))
                .col(instant("expires_at"))
                .col(instant_null("revoked_at"))
                .col(reference_null("created_by"))
                .col(instant("created_at"))
                .foreign_key(&mut school_in_service("space_to_talk_links", "school_id"))
                .foreign_key(&mut fk("space_to_talk_links", "created_by", "people", RESTRICT))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("space_to_talk_links", &["token_digest"])).await?;
        m.create_index(index("space_to_talk_links", &["school_id", "service_id"]))
            .await?;
        m.create_index(index("space_to_talk_links", &["created_by"])).await?;

        m.create_table(
            Table::create()
                .table("space_to_talk_bookings")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference("ep_id"))
                .col(reference("run_id"))
                .col(reference("slot_id"))
                .col(instant("starts_at"))
                .col(instant("ends_at"))
                .col(text("status"))
                .col(text("display_name"))
                .col(text_null("phone"))
                .col(text_null("email"))
                .col(text("preferred_contact"))
                .col(text_null("topic"))
                .col(text("booked_via"))
                .col(reference_null("link_id"))
                .col(text_null("manage_digest"))
                .col(boolean("safeguarding_concern").default(false))
                .col(boolean("onward_referral").default(false))
                .col(text_null("notes"))
                .col(boolean("notes_consented").default(false))
                .col(reference_null("moved_from_id"))
                .col(reference_null("moved_to_id"))
                .col(instant_null("cancelled_at"))
                .col(reference_null("cancelled_by"))
                .col(text_null("cancelled_as"))
                .col(text_null("cancellation_reason"))
                .col(instant_null("attendance_recorded_at"))
                .col(reference_null("created_by"))
                .col(instant("created_at"))
                .col(instant("updated_at"))
                .foreign_key(&mut school_in_service("space_to_talk_bookings", "school_id"))
                .foreign_key(&mut fk("space_to_talk_bookings", "ep_id", "people", RESTRICT))
                .foreign_key(&mut fk(
                    "space_to_talk_bookings",
                    "run_id",
                    "space_to_talk_runs",
                    CASCADE,
                ))
                .foreign_key(&mut fk(
                    "space_to_talk_bookings",
                    "slot_id",
                    "space_to_talk_slots",
                    CASCADE,
                ))
                .foreign_key(&mut fk(
                    "space_to_talk_bookings",
                    "link_id",
                    "space_to_talk_links",
                    RESTRICT,
                ))
                .foreign_key(&mut fk(
                    "space_to_talk_bookings",
                    "moved_from_id",
                    "space_to_talk_bookings",
                    RESTRICT,
                ))
                .foreign_key(&mut fk(
                    "space_to_talk_bookings",
                    "moved_to_id",
                    "space_to_talk_bookings",
                    RESTRICT,
                ))
                .foreign_key(&mut fk("space_to_talk_bookings", "cancelled_by", "people", RESTRICT))
                .foreign_key(&mut fk("space_to_talk_bookings", "created_by", "people", RESTRICT))
                .to_owned(),
        )
        .await?;
        for columns in [
            &["school_id", "service_id", "starts_at"][..],
            &["ep_id", "starts_at"],
            &["run_id"],
            &["slot_id"],
            &["link_id"],
            &["moved_from_id"],
            &["moved_to_id"],
            &["cancelled_by"],
            &["created_by"],
        ] {
            m.create_index(index("space_to_talk_bookings", columns)).await?;
        }
        m.create_index(unique("space_to_talk_bookings", &["manage_digest"]))
            .await?;
        // One live booking per slot: the second of two parents racing for it cannot have it.
        kit::sql(
            m,
            "CREATE UNIQUE INDEX ux_space_to_talk_bookings_live_slot ON space_to_talk_bookings (slot_id) WHERE status = 'BOOKED'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        kit::drop_tables(
            m,
            &[
                "space_to_talk_bookings",
                "space_to_talk_links",
                "space_to_talk_slots",
                "space_to_talk_run_schools",
                "space_to_talk_runs",
                "space_to_talk_settings",
            ],
        )
        .await
    }
}
