//! Reflective-team sessions: the service's session types (as data, with their phases), its
//! default way of charging a session, sessions for one school or a cluster, the schools each is
//! open to, places with the waiting list and roles, and anonymous feedback (no person on it).
//! Every row that names a school also names its service, checked as a pair.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::kit::{self, fk, id, index, instant, reference, reference_null, school_in_service, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CASCADE: ForeignKeyAction = ForeignKeyAction::Cascade;
const RESTRICT: ForeignKeyAction = ForeignKeyAction::Restrict;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("reflective_settings")
                .col(uuid("service_id").primary_key())
                .col(text("default_charging").default("SPLIT_EVENLY"))
                .col(instant("updated_at"))
                .foreign_key(&mut fk("reflective_settings", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("reflective_session_types")
                .col(id())
                .col(reference("service_id"))
                .col(text("name"))
                .col(text("format"))
                .col(integer("default_minutes"))
                .col(integer("default_capacity"))
                .col(text("phases"))
                .col(instant("created_at"))
                .foreign_key(&mut fk("reflective_session_types", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("reflective_session_types", &["service_id", "name"]))
            .await?;

        m.create_table(
            Table::create()
                .table("reflective_sessions")
                .col(id())
                .col(reference("service_id"))
                .col(reference("type_id"))
                .col(reference_null("school_id"))
                .col(reference("facilitator_id"))
                .col(reference_null("co_facilitator_id"))
                .col(instant("starts_at"))
                .col(instant("ends_at"))
                .col(text("mode"))
                .col(text_null("location"))
                .col(integer("capacity"))
                .col(text("charging"))
                .col(reference_null("charged_school_id"))
                .col(reference_null("booking_id"))
                .col(text("status"))
                .col(reference_null("created_by"))
                .col(instant("created_at"))
                .col(instant("updated_at"))
                .foreign_key(&mut fk("reflective_sessions", "service_id", "services", CASCADE))
                .foreign_key(&mut fk(
                    "reflective_sessions",
                    "type_id",
                    "reflective_session_types",
                    RESTRICT,
                ))
                .foreign_key(&mut school_in_service("reflective_sessions", "school_id"))
                .foreign_key(&mut school_in_service("reflective_sessions", "charged_school_id"))
                .foreign_key(&mut fk("reflective_sessions", "facilitator_id", "people", RESTRICT))
                .foreign_key(&mut fk("reflective_sessions", "co_facilitator_id", "people", RESTRICT))
                .foreign_key(&mut fk("reflective_sessions", "booking_id", "bookings", RESTRICT))
                .to_owned(),
        )
        .await?;
        for columns in [
            &["service_id", "starts_at"][..],
            &["type_id"],
            &["school_id", "service_id"],
            &["charged_school_id", "service_id"],
            &["facilitator_id"],
            &["co_facilitator_id"],
            &["booking_id"],
        ] {
            m.create_index(index("reflective_sessions", columns)).await?;
        }

        m.create_table(
            Table::create()
                .table("reflective_session_schools")
                .col(id())
                .col(reference("service_id"))
                .col(reference("session_id"))
                .col(reference("school_id"))
                .col(reference("facilitator_id"))
                .foreign_key(&mut fk(
                    "reflective_session_schools",
                    "session_id",
                    "reflective_sessions",
                    CASCADE,
                ))
                .foreign_key(&mut school_in_service("reflective_session_schools", "school_id"))
                .foreign_key(&mut fk(
                    "reflective_session_schools",
                    "facilitator_id",
                    "people",
                    RESTRICT,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("reflective_session_schools", &["session_id", "school_id"]))
            .await?;
        m.create_index(index("reflective_session_schools", &["school_id", "service_id"]))
            .await?;
        m.create_index(index("reflective_session_schools", &["facilitator_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("reflective_registrations")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference("session_id"))
                .col(reference("person_id"))
                .col(reference("facilitator_id"))
                .col(text("status"))
                .col(integer_null("waiting_position"))
                .col(text_null("role"))
                .col(boolean_null("attended"))
                .col(text_null("next_step"))
                .col(boolean("feedback_given").default(false))
                .col(reference_null("registered_by"))
                .col(instant("created_at"))
                .col(instant("updated_at"))
                .foreign_key(&mut fk(
                    "reflective_registrations",
                    "session_id",
                    "reflective_sessions",
                    CASCADE,
                ))
                .foreign_key(&mut school_in_service("reflective_registrations", "school_id"))
                .foreign_key(&mut fk("reflective_registrations", "person_id", "people", CASCADE))
                .foreign_key(&mut fk(
                    "reflective_registrations",
                    "facilitator_id",
                    "people",
                    RESTRICT,
                ))
                .to_owned(),
        )
        .await?;
        for columns in [
            &["session_id", "status", "waiting_position"][..],
            &["school_id", "service_id"],
            &["person_id"],
            &["facilitator_id"],
        ] {
            m.create_index(index("reflective_registrations", columns)).await?;
        }
        // One live place (or waiting place) per person per session; cancelled ones stay as history.
        kit::sql(
            m,
            "CREATE UNIQUE INDEX ux_reflective_registrations_live ON reflective_registrations (session_id, person_id) WHERE status <> 'CANCELLED'",
        )
        .await?;

        m.create_table(
            Table::create()
                .table("reflective_feedback")
                .col(id())
                .col(reference("service_id"))
                .col(reference("session_id"))
                .col(reference("type_id"))
                .col(reference("facilitator_id"))
                .col(integer("rating"))
                .col(text_null("comment"))
                .col(date("given_on"))
                .foreign_key(&mut fk("reflective_feedback", "service_id", "services", CASCADE))
                .foreign_key(&mut fk(
                    "reflective_feedback",
                    "session_id",
                    "reflective_sessions",
                    CASCADE,
                ))
                .foreign_key(&mut fk(
                    "reflective_feedback",
                    "type_id",
                    "reflective_session_types",
                    RESTRICT,
                ))
                .foreign_key(&mut fk("reflective_feedback", "facilitator_id", "people", RESTRICT))
                .to_owned(),
        )
        .await?;
        for columns in [&["session_id"][..], &["type_id"], &["facilitator_id"], &["service_id"]] {
            m.create_index(index("reflective_feedback", columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        kit::drop_tables(
            m,
            &[
                "reflective_feedback",
                "reflective_registrations",
                "reflective_session_schools",
                "reflective_sessions",
                "reflective_session_types",
                "reflective_settings",
            ],
        )
        .await
    }
}
