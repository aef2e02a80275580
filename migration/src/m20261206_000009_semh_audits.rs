//! SEMH audits: the service's setting (whether schools are named in its picture across schools),
//! versioned templates (sections, items and a rating scale; a published version never changes),
//! audit rounds of one school on one published version, the respondents of a round (individual
//! staff, groups, and tables of a whole-staff session reached through a per-table link stored as
//! a digest), their responses, the lead's consensus per item, and the action plan. One response
//! per respondent and item, and one consensus per round and item, are unique indexes.

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
                .table("semh_settings")
                .col(uuid("service_id").primary_key())
                .col(boolean("names_schools").default(false))
                .col(instant("updated_at"))
                .foreign_key(&mut fk("semh_settings", "service_id", "services", CASCADE))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("semh_templates")
                .col(id())
                .col(reference("service_id"))
                .col(reference("lineage_id"))
                .col(integer("version"))
                .col(reference_null("revises_id"))
                .col(text_null("starter"))
                .col(text("name"))
                .col(text_null("description"))
                .col(text("scale"))
                .col(boolean("asks_ideas").default(false))
                .col(text("status"))
                .col(reference_null("created_by"))
                .col(instant("created_at"))
                .col(instant_null("published_at"))
                .col(instant("updated_at"))
                .foreign_key(&mut fk("semh_templates", "service_id", "services", CASCADE))
                .foreign_key(&mut fk("semh_templates", "revises_id", "semh_templates", RESTRICT))
                .foreign_key(&mut fk("semh_templates", "created_by", "people", RESTRICT))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("semh_templates", &["lineage_id", "version"]))
            .await?;
        for columns in [&["service_id", "status"][..], &["revises_id"], &["created_by"]] {
            m.create_index(index("semh_templates", columns)).await?;
        }

        m.create_table(
            Table::create()
                .table("semh_sections")
                .col(id())
                .col(reference("service_id"))
                .col(reference("template_id"))
                .col(integer("position"))
                .col(text("title"))
                .foreign_key(&mut fk("semh_sections", "template_id", "semh_templates", CASCADE))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("semh_sections", &["template_id", "position"]))
            .await?;

        m.create_table(
            Table::create()
                .table("semh_items")
                .col(id())
                .col(reference("service_id"))
                .col(reference("template_id"))
                .col(reference("section_id"))
                .col(integer("position"))
                .col(text("text"))
                .col(reference("lineage_item_id"))
                .col(reference_null("carried_from_id"))
                .foreign_key(&mut fk("semh_items", "template_id", "semh_templates", CASCADE))
                .foreign_key(&mut fk("semh_items", "section_id", "semh_sections", CASCADE))
                .foreign_key(&mut fk("semh_items", "carried_from_id", "semh_items", RESTRICT))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("semh_items", &["section_id", "position"]))
            .await?;
        for columns in [&["template_id"][..], &["lineage_item_id"], &["carried_from_id"]] {
            m.create_index(index("semh_items", columns)).await?;
        }

        m.create_table(
            Table::create()
                .table("semh_rounds")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference("template_id"))
                .col(reference("lineage_id"))
                .col(text("title"))
                .col(text("status"))
                .col(instant_null("session_starts_at"))
                .col(instant_null("session_ends_at"))
                .col(reference_null("booking_id"))
                .col(reference_null("ep_id"))
                .col(reference_null("opened_by"))
                .col(instant("opened_at"))
                .col(instant_null("submitted_at"))
                .col(reference_null("submitted_by"))
                .col(instant("updated_at"))
                .foreign_key(&mut school_in_service("semh_rounds", "school_id"))
                .foreign_key(&mut fk("semh_rounds", "template_id", "semh_templates", RESTRICT))
                .foreign_key(&mut fk("semh_rounds", "booking_id", "bookings", RESTRICT))
                .foreign_key(&mut fk("semh_rounds", "ep_id", "people", RESTRICT))
                .foreign_key(&mut fk("semh_rounds", "opened_by", "people", RESTRICT))
                .foreign_key(&mut fk("semh_rounds", "submitted_by", "people", RESTRICT))
                .to_owned(),
        )
        .await?;
        for columns in [
            &["school_id", "service_id", "opened_at"][..],
            &["service_id", "template_id", "status"],
            &["template_id"],
            &["booking_id"],
            &["ep_id"],
            &["opened_by"],
            &["submitted_by"],
        ] {
            m.create_index(index("semh_rounds", columns)).await?;
        }

        m.create_table(
            Table::create()
                .table("semh_respondents")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference("round_id"))
                .col(text("kind"))
                .col(reference_null("person_id"))
                .col(text_null("label"))
                .col(text_null("link_digest"))
                .col(instant_null("link_expires_at"))
                .col(reference_null("created_by"))
                .col(instant("created_at"))
                .foreign_key(&mut school_in_service("semh_respondents", "school_id"))
                .foreign_key(&mut fk("semh_respondents", "round_id", "semh_rounds", CASCADE))
                .foreign_key(&mut fk("semh_respondents", "person_id", "people", RESTRICT))
                .foreign_key(&mut fk("semh_respondents", "created_by", "people", RESTRICT))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("semh_respondents", &["round_id", "person_id"]))
            .await?;
        m.create_index(unique("semh_respondents", &["round_id", "label"]))
            .await?;
        m.create_index(unique("semh_respondents", &["link_digest"])).await?;
        for columns in [&["school_id", "service_id"][..], &["person_id"], &["created_by"]] {
            m.create_index(index("semh_respondents", columns)).await?;
        }

        m.create_table(
            Table::create()
                .table("semh_responses")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference("round_id"))
                .col(reference("respondent_id"))
                .col(reference("item_id"))
                .col(text("rating"))
                .col(text_null("evidence"))
                .col(text_null("ideas"))
                .col(instant("updated_at"))
                .foreign_key(&mut school_in_service("semh_responses", "school_id"))
                .foreign_key(&mut fk("semh_responses", "round_id", "semh_rounds", CASCADE))
                .foreign_key(&mut fk("semh_responses", "respondent_id", "semh_respondents", CASCADE))
                .foreign_key(&mut fk("semh_responses", "item_id", "semh_items", RESTRICT))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("semh_responses", &["respondent_id", "item_id"]))
            .await?;
        for columns in [&["round_id"][..], &["school_id", "service_id"], &["item_id"]] {
            m.create_index(index("semh_responses", columns)).await?;
        }

        m.create_table(
            Table::create()
                .table("semh_consensus")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference("round_id"))
                .col(reference("item_id"))
                .col(text("rating"))
                .col(text_null("note"))
                .col(reference_null("set_by"))
                .col(instant("updated_at"))
                .foreign_key(&mut school_in_service("semh_consensus", "school_id"))
                .foreign_key(&mut fk("semh_consensus", "round_id", "semh_rounds", CASCADE))
                .foreign_key(&mut fk("semh_consensus", "item_id", "semh_items", RESTRICT))
                .foreign_key(&mut fk("semh_consensus", "set_by", "people", RESTRICT))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("semh_consensus", &["round_id", "item_id"]))
            .await?;
        for columns in [&["school_id", "service_id"][..], &["item_id"], &["set_by"]] {
            m.create_index(index("semh_consensus", columns)).await?;
        }

        m.create_table(
            Table::create()
                .table("semh_actions")
                .col(id())
                .col(reference("service_id"))
                .col(reference("school_id"))
                .col(reference("round_id"))
                .col(reference_null("item_id"))
                .col(reference_null("lineage_item_id"))
                .col(text("priority"))
                .col(text_null("owner_role"))
                .col(text_null("owner_name"))
                .col(date_null("due_on"))
                .col(text("status"))
                .col(text("progress"))
                .col(reference_null("carried_from_id"))
                .col(reference_null("created_by"))
                .col(instant("created_at"))
                .col(instant("updated_at"))
                .foreign_key(&mut school_in_service("semh_actions", "school_id"))
                .foreign_key(&mut fk("semh_actions", "round_id", "semh_rounds", CASCADE))
                .foreign_key(&mut fk("semh_actions", "item_id", "semh_items", RESTRICT))
                .foreign_key(&mut fk("semh_actions", "carried_from_id", "semh_actions", RESTRICT))
                .foreign_key(&mut fk("semh_actions", "created_by", "people", RESTRICT))
                .to_owned(),
        )
        .await?;
        for columns in [
            &["round_id"][..],
            &["school_id", "service_id"],
            &["item_id"],
            &["carried_from_id"],
            &["created_by"],
        ] {
            m.create_index(index("semh_actions", columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        kit::drop_tables(
            m,
            &[
                "semh_actions",
                "semh_consensus",
                "semh_responses",
                "semh_respondents",
                "semh_rounds",
                "semh_items",
                "semh_sections",
                "semh_templates",
                "semh_settings",
            ],
        )
        .await
    }
}
