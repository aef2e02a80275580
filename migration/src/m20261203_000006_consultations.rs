//! Consultations: a school's request for involvement, the pseudonymous pupil it may be about,
//! the consent that formal work needs, the record of the meeting with its agreed actions, the
//! service's consultation settings (a service without a row has the defaults), and the log of what retention destroyed (no personal data).
//! Every row that names a school also names its service, checked as a pair.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::kit::{self, fk, id, index, instant, instant_null, reference, reference_null, school_in_service};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CASCADE: ForeignKeyAction = ForeignKeyAction::Cascade;
const RESTRICT: ForeignKeyAction = ForeignKeyAction::Restrict;
const SET_NULL: ForeignKeyAction = ForeignKeyAction::SetNull;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("consultation_settings")
                .col(uuid("service_id").primary_key())
                .col(integer("meeting_minutes").default(60))
                .col(integer("preparation_minutes").default(30))
                .col(integer("write_up_minutes").default(60))
                .col(integer("consent_months").default(24))
                .col(integer("review_weeks").default(6))
                .col(text("retention_rule").default("AGE_25"))
                .col(instant("updated_at"))
                .foreign_key(&mut fk("consultation_settings", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("pupils")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(text("initials"))
                .col(text("year_group"))
                .col(date("date_of_birth"))
                .col(text_null("school_reference"))
                .col(date("destroy_after"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .foreign_key(&mut fk("pupils", "service_id", "services", CASCADE))
                .foreign_key(&mut school_in_service("pupils", "school_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("pupils", &["school_id", "service_id"])).await?;
        m.create_index(index("pupils", &["destroy_after"])).await?;

        m.create_table(
            Table::create()
                .table("consultations")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference_null("ep_id"))
                .col(text("kind"))
                .col(text("status"))
                .col(reference_null("pupil_id"))
                .col(reference_null("previous_id"))
                .col(integer("cycle"))
                .col(text("areas"))
                .col(text_null("strengths"))
                .col(text_null("tried"))
                .col(text_null("hoped_outcomes"))
                .col(text_null("preferred_times"))
                .col(text("funding_stream"))
                .col(reference_null("booking_id"))
                .col(text_null("triage_note"))
                .col(text_null("outcome"))
                .col(date_null("review_on"))
                .col(reference_null("requested_by"))
                .col(instant("created_at"))
                .col(instant("updated_at"))
                .col(instant_null("closed_at"))
                .col(instant_null("content_destroyed_at"))
                .foreign_key(&mut fk("consultations", "service_id", "services", CASCADE))
                .foreign_key(&mut school_in_service("consultations", "school_id"))
                .foreign_key(&mut fk("consultations", "ep_id", "people", RESTRICT))
                .foreign_key(&mut fk("consultations", "pupil_id", "pupils", SET_NULL))
                .foreign_key(&mut fk("consultations", "previous_id", "consultations", SET_NULL))
                .foreign_key(&mut fk("consultations", "booking_id", "bookings", RESTRICT))
                .to_owned(),
        )
        .await?;
        for columns in [
            &["school_id", "service_id"][..],
            &["ep_id"],
            &["pupil_id"],
            &["previous_id"],
            &["booking_id"],
            &["service_id", "status"],
        ] {
            m.create_index(index("consultations", columns)).await?;
        }

        m.create_table(
            Table::create()
                .table("consents")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference("consultation_id"))
                .col(reference("pupil_id"))
                .col(text("given_by"))
                .col(text_null("relationship"))
                .col(date("given_on"))
                .col(text("method"))
                .col(boolean("covers_ep_involvement"))
                .col(text_null("share_with"))
                .col(date("expires_on"))
                .col(date_null("withdrawn_on"))
                .col(text_null("withdrawal_reason"))
                .col(reference_null("recorded_by"))
                .col(instant("recorded_at"))
                .foreign_key(&mut fk("consents", "consultation_id", "consultations", CASCADE))
                .foreign_key(&mut fk("consents", "pupil_id", "pupils", CASCADE))
                .foreign_key(&mut school_in_service("consents", "school_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("consents", &["consultation_id"])).await?;
        m.create_index(index("consents", &["pupil_id"])).await?;
        m.create_index(index("consents", &["school_id", "service_id"])).await?;

        m.create_table(
            Table::create()
                .table("consultation_records")
                .col(uuid("consultation_id").primary_key())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference_null("ep_id"))
                .col(text("attendees"))
                .col(text_null("strengths"))
                .col(text_null("concerns"))
                .col(text_null("hypotheses"))
                .col(text("format"))
                .col(text_null("private_notes"))
                .col(reference_null("written_by"))
                .col(instant("updated_at"))
                .col(instant_null("shared_at"))
                .foreign_key(&mut fk(
                    "consultation_records",
                    "consultation_id",
                    "consultations",
                    CASCADE,
                ))
                .foreign_key(&mut school_in_service("consultation_records", "school_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("consultation_records", &["school_id", "service_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("consultation_actions")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference("consultation_id"))
                .col(text("description"))
                .col(text("owner"))
                .col(date("due_on"))
                .col(text("status"))
                .col(text_null("progress"))
                .col(boolean("shared"))
                .col(instant("created_at"))
                .col(instant("updated_at"))
                .foreign_key(&mut fk(
                    "consultation_actions",
                    "consultation_id",
                    "consultations",
                    CASCADE,
                ))
                .foreign_key(&mut school_in_service("consultation_actions", "school_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("consultation_actions", &["consultation_id"]))
            .await?;
        m.create_index(index("consultation_actions", &["school_id", "service_id"]))
            .await?;
        m.create_index(index("consultation_actions", &["service_id", "due_on"]))
            .await?;

        m.create_table(
            Table::create()
                .table("disposals")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(instant("disposed_at"))
                .col(text("rule"))
                .col(integer("pupils"))
                .col(integer("consultations"))
                .foreign_key(&mut fk("disposals", "service_id", "services", CASCADE))
                .foreign_key(&mut school_in_service("disposals", "school_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("disposals", &["school_id", "service_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        kit::drop_tables(
            m,
            &[
                "disposals",
                "consultation_actions",
                "consultation_records",
                "consents",
                "consultations",
                "pupils",
                "consultation_settings",
            ],
        )
        .await
    }
}
