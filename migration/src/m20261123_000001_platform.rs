//! The platform: services, schools, people and their memberships, partner clients, sign-in
//! sessions and the audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::kit::{self, fk, id, index, instant, instant_null, reference, reference_null, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CASCADE: ForeignKeyAction = ForeignKeyAction::Cascade;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("services")
                .col(id())
                .col(text("name"))
                .col(text("time_zone"))
                .col(instant("created_at"))
                .col(instant("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("schools")
                .col(id())
                .col(reference("service_id"))
                .col(text("name"))
                .col(text("urn"))
                .col(text("phase"))
                .col(text("status"))
                .col(instant("created_at"))
                .col(instant("updated_at"))
                .col(instant_null("archived_at"))
                .foreign_key(&mut fk("schools", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("schools", &["service_id", "urn"])).await?;
        m.create_index(index("schools", &["service_id", "name"])).await?;

        m.create_table(
            Table::create()
                .table("people")
                .col(id())
                .col(text("email"))
                .col(text("display_name"))
                .col(text_null("password_hash"))
                .col(text("status"))
                .col(instant("created_at"))
                .col(instant("updated_at"))
                .col(instant_null("disabled_at"))
                .col(instant_null("last_sign_in_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("people", &["email"])).await?;

        m.create_table(
            Table::create()
                .table("memberships")
                .col(id())
                .col(reference("person_id"))
                .col(reference("service_id"))
                .col(reference_null("school_id"))
                .col(text("role"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .col(instant_null("revoked_at"))
                .col(reference_null("revoked_by"))
                .foreign_key(&mut fk("memberships", "person_id", "people", CASCADE))
                .foreign_key(&mut fk("memberships", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("memberships", "school_id", "schools", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(index("memberships", &["person_id"])).await?;
        m.create_index(index("memberships", &["service_id", "role"])).await?;
        m.create_index(index("memberships", &["school_id"])).await?;
        // One active membership per person, place and role; revoked ones stay as history.
        kit::sql(
            m,
            "CREATE UNIQUE INDEX ux_memberships_active_service_role ON memberships (person_id, service_id, role) \
             WHERE school_id IS NULL AND revoked_at IS NULL",
        )
        .await?;
        kit::sql(
            m,
            "CREATE UNIQUE INDEX ux_memberships_active_school_role ON memberships (person_id, school_id, role) \
             WHERE school_id IS NOT NULL AND revoked_at IS NULL",
        )
        .await?;

        m.create_table(
            Table::create()
                .table("invitations")
                .col(id())
                .col(reference("person_id"))
                .col(reference("service_id"))
                .col(text("token_digest"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .col(instant("expires_at"))
                .col(instant_null("accepted_at"))
                .foreign_key(&mut fk("invitations", "person_id", "people", CASCADE))
                .foreign_key(&mut fk("invitations", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("invitations", &["token_digest"])).await?;
        m.create_index(index("invitations", &["person_id"])).await?;
        m.create_index(index("invitations", &["service_id"])).await?;

        m.create_table(
            Table::create()
                .table("partner_clients")
                .col(id())
                .col(reference("service_id"))
                .col(text("name"))
                .col(text("client_id"))
                .col(text("secret_digest"))
                .col(integer("secret_version"))
                .col(text("scopes"))
                .col(boolean("limited_to_schools"))
                .col(text("status"))
                .col(instant("created_at"))
                .col(reference_null("created_by"))
                .col(instant("updated_at"))
                .col(instant("secret_rotated_at"))
                .foreign_key(&mut fk("partner_clients", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("partner_clients", &["client_id"])).await?;
        m.create_index(index("partner_clients", &["service_id"])).await?;

        m.create_table(
            Table::create()
                .table("partner_client_schools")
                .col(reference("partner_client_id"))
                .col(reference("school_id"))
                .primary_key(Index::create().col("partner_client_id").col("school_id"))
                .foreign_key(&mut fk(
                    "partner_client_schools",
                    "partner_client_id",
                    "partner_clients",
                    CASCADE,
                ))
                .foreign_key(&mut fk("partner_client_schools", "school_id", "schools", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(index("partner_client_schools", &["school_id"])).await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(id())
                .col(reference("person_id"))
                .col(text("method"))
                .col(instant("created_at"))
                .col(instant("expires_at"))
                .col(instant_null("revoked_at"))
                .foreign_key(&mut fk("sessions", "person_id", "people", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sessions", &["person_id"])).await?;

        m.create_table(
            Table::create()
                .table("refresh_tokens")
                .col(id())
                .col(reference("session_id"))
                .col(text("token_digest"))
                .col(instant("created_at"))
                .col(instant("expires_at"))
                .col(instant_null("used_at"))
                .foreign_key(&mut fk("refresh_tokens", "session_id", "sessions", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("refresh_tokens", &["token_digest"])).await?;
        m.create_index(index("refresh_tokens", &["session_id"])).await?;

        // The audit log keeps actors and objects as plain ids, so that it outlives them.
        m.create_table(
            Table::create()
                .table("audit_events")
                .col(id())
                .col(reference_null("service_id"))
                .col(reference_null("school_id"))
                .col(text("actor_kind"))
                .col(reference_null("actor_person_id"))
                .col(reference_null("partner_client_id"))
                .col(text("action"))
                .col(text_null("object_type"))
                .col(reference_null("object_id"))
                .col(text_null("request_id"))
                .col(instant("occurred_at"))
                .col(text_null("detail"))
                .foreign_key(&mut fk("audit_events", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_events", &["service_id", "occurred_at"]))
            .await?;
        m.create_index(index("audit_events", &["object_id"])).await?;
        m.create_index(index("audit_events", &["actor_person_id"])).await?;
        m.create_index(index("audit_events", &["school_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        kit::drop_tables(
            m,
            &[
                "audit_events",
                "refresh_tokens",
                "sessions",
                "partner_client_schools",
                "partner_clients",
                "invitations",
                "memberships",
                "people",
                "schools",
                "services",
            ],
        )
        .await
    }
}
