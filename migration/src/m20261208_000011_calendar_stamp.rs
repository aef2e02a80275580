//! A stamp on each service that changes, in the same transaction, whenever the calendar the
//! service books by changes: its time settings, terms, closures, working patterns or their
//! hours. A replica may keep that calendar in memory under the stamp it read; reading the
//! service row, which most requests read anyway, then tells it whether what it keeps is still
//! the database's. Triggers keep the stamp, so no writer can forget it, and every replica sees
//! the change the moment it commits.
//!
//! The stamp is random rather than a count: a write that rolls back leaves a stamp nobody sees,
//! where a count would be taken again by the next write with other data.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::kit;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables that carry their service's id.
const WITH_SERVICE: &[&str] = &["time_settings", "terms", "closures", "working_patterns"];

fn postgres() -> Vec<String> {
    let mut statements = vec![
        "CREATE FUNCTION scps_restamp_calendar() RETURNS trigger LANGUAGE plpgsql AS $$ \
         DECLARE s uuid; \
         BEGIN \
           IF TG_TABLE_NAME = 'working_hours' THEN \
             SELECT service_id INTO s FROM working_patterns \
             WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.pattern_id ELSE NEW.pattern_id END; \
           ELSIF TG_OP = 'DELETE' THEN s := OLD.service_id; \
           ELSE s := NEW.service_id; \
           END IF; \
           UPDATE services SET calendar_stamp = (random() * 9.2e18)::bigint WHERE id = s; \
           RETURN NULL; \
         END $$"
            .to_owned(),
    ];
    for table in WITH_SERVICE.iter().chain(&["working_hours"]) {
        statements.push(format!(
            "CREATE TRIGGER {table}_restamp_calendar AFTER INSERT OR UPDATE OR DELETE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION scps_restamp_calendar()"
        ));
    }
    statements
}

fn sqlite() -> Vec<String> {
    let mut statements = Vec::new();
    for table in WITH_SERVICE {
        for (event, row) in [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")] {
            statements.push(format!(
                "CREATE TRIGGER {table}_restamp_calendar_{e} AFTER {event} ON {table} \
                 BEGIN UPDATE services SET calendar_stamp = random() WHERE id = {row}.service_id; END",
                e = event.to_lowercase()
            ));
        }
    }
    for (event, row) in [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")] {
        statements.push(format!(
            "CREATE TRIGGER working_hours_restamp_calendar_{e} AFTER {event} ON working_hours \
             BEGIN UPDATE services SET calendar_stamp = random() \
             WHERE id = (SELECT service_id FROM working_patterns WHERE id = {row}.pattern_id); END",
            e = event.to_lowercase()
        ));
    }
    statements
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("services")
                .add_column(ColumnDef::new("calendar_stamp").big_integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
        let (restamp, triggers) = match m.get_database_backend() {
            DbBackend::Postgres => (
                "UPDATE services SET calendar_stamp = (random() * 9.2e18)::bigint",
                postgres(),
            ),
            _ => ("UPDATE services SET calendar_stamp = random()", sqlite()),
        };
        kit::sql(m, restamp).await?;
        for t in triggers {
            kit::sql(m, &t).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = WITH_SERVICE.iter().chain(&["working_hours"]);
        match m.get_database_backend() {
            DbBackend::Postgres => {
                for table in tables {
                    kit::sql(
                        m,
                        &format!("DROP TRIGGER IF EXISTS {table}_restamp_calendar ON {table}"),
                    )
                    .await?;
                }
                kit::sql(m, "DROP FUNCTION IF EXISTS scps_restamp_calendar()").await?;
            }
            _ => {
                for table in tables {
                    for e in ["insert", "update", "delete"] {
                        kit::sql(m, &format!("DROP TRIGGER IF EXISTS {table}_restamp_calendar_{e}")).await?;
                    }
                }
            }
        }
        m.alter_table(
            Table::alter()
                .table("services")
                .drop_column("calendar_stamp")
                .to_owned(),
        )
        .await
    }
}
