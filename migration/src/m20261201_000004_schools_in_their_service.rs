//! The database pairs every school-owned row with the school's own service: `schools` is unique
//! on `(id, service_id)`, and each table that names a school references that pair, so a row can
//! never say it belongs to one service and to a school of another. Partner clients' school links
//! gain the service they lie in, and top-ups the school of their contract, so that both can be
//! paired too.
//!
//! PostgreSQL adds the constraints in place. SQLite cannot add a constraint to a table, so each
//! table is rebuilt with it (create the new table, copy, drop the old, rename, recreate its
//! indexes and triggers), with foreign keys off on one pinned connection and checked at the end.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::sqlx::{self, Row};
use sea_orm_migration::sea_orm::{DatabaseExecutor, DbBackend};

use crate::kit;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A table that names a school, and the column it gains here (with how to fill it).
struct Paired {
    table: &'static str,
    added: Option<Added>,
}

struct Added {
    column: &'static str,
    /// SQL that gives the new column's value for a row of `old` (the table being copied).
    fill: &'static str,
}

/// Every table that names a school (the migration test holds later tables to the same rule).
const PAIRED: &[Paired] = &[
    Paired {
        table: "memberships",
        added: None,
    },
    Paired {
        table: "partner_client_schools",
        added: Some(Added {
            column: "service_id",
            fill: "(SELECT c.service_id FROM partner_clients c WHERE c.id = old.partner_client_id)",
        }),
    },
    Paired {
        table: "closures",
        added: None,
    },
    Paired {
        table: "contracts",
        added: None,
    },
    Paired {
        table: "contract_top_ups",
        added: Some(Added {
            column: "school_id",
            fill: "(SELECT c.school_id FROM contracts c WHERE c.id = old.contract_id)",
        }),
    },
    Paired {
        table: "bookings",
        added: None,
    },
    Paired {
        table: "ledger_entries",
        added: None,
    },
];

fn constraint(table: &str) -> String {
    format!("fk_{table}_school_in_service")
}

fn pair_index(table: &str) -> String {
    format!("ix_{table}_school_id_service_id")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            postgres_up(m).await
        } else {
            sqlite(m, true).await
        }
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            postgres_down(m).await
        } else {
            sqlite(m, false).await
        }
    }
}

async fn postgres_up(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    kit::sql(
        m,
        "ALTER TABLE schools ADD CONSTRAINT ux_schools_id_service_id UNIQUE (id, service_id)",
    )
    .await?;
    for p in PAIRED {
        let t = p.table;
        if let Some(a) = &p.added {
            kit::sql(m, &format!("ALTER TABLE {t} ADD COLUMN {} uuid", a.column)).await?;
            kit::sql(m, &format!("UPDATE {t} AS old SET {} = {}", a.column, a.fill)).await?;
            kit::sql(m, &format!("ALTER TABLE {t} ALTER COLUMN {} SET NOT NULL", a.column)).await?;
        }
        kit::sql(
            m,
            &format!(
                "ALTER TABLE {t} ADD CONSTRAINT {} FOREIGN KEY (school_id, service_id) \
                 REFERENCES schools (id, service_id)",
                constraint(t)
            ),
        )
        .await?;
        kit::sql(
            m,
            &format!("CREATE INDEX {} ON {t} (school_id, service_id)", pair_index(t)),
        )
        .await?;
    }
    Ok(())
}

async fn postgres_down(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    for p in PAIRED.iter().rev() {
        let t = p.table;
        kit::sql(m, &format!("DROP INDEX IF EXISTS {}", pair_index(t))).await?;
        kit::sql(
            m,
            &format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {}", constraint(t)),
        )
        .await?;
        if let Some(a) = &p.added {
            kit::sql(m, &format!("ALTER TABLE {t} DROP COLUMN IF EXISTS {}", a.column)).await?;
        }
    }
    kit::sql(
        m,
        "ALTER TABLE schools DROP CONSTRAINT IF EXISTS ux_schools_id_service_id",
    )
    .await
}

fn fail(e: sqlx::Error) -> DbErr {
    DbErr::Migration(format!("pairing schools with their services: {e}"))
}

/// SQLite: rebuilds each paired table with (`up`) or without (`down`) the pairing, on one
/// connection with foreign keys off, inside one transaction, checking every key before it ends.
async fn sqlite(m: &SchemaManager<'_>, up: bool) -> Result<(), DbErr> {
    let DatabaseExecutor::Connection(db) = m.get_connection() else {
        return Err(DbErr::Migration(
            "this migration runs outside a transaction on SQLite".into(),
        ));
    };
    let mut conn = db.get_sqlite_connection_pool().acquire().await.map_err(fail)?;
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .map_err(fail)?;
    let result = rebuild_all(&mut conn, up).await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await
        .map_err(fail)?;
    result
}

async fn rebuild_all(conn: &mut sqlx::SqliteConnection, up: bool) -> Result<(), DbErr> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.map_err(fail)?;
    let result = async {
        if up {
            exec(
                conn,
                "CREATE UNIQUE INDEX ux_schools_id_service_id ON schools (id, service_id)",
            )
            .await?;
        }
        for p in PAIRED {
            rebuild(conn, p, up).await?;
        }
        if !up {
            exec(conn, "DROP INDEX IF EXISTS ux_schools_id_service_id").await?;
        }
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *conn)
            .await
            .map_err(fail)?;
        if let Some(row) = broken.first() {
            let table: String = row.try_get(0).unwrap_or_default();
            return Err(DbErr::Migration(format!(
                "a row of {table} names a school of another service"
            )));
        }
        Ok(())
    }
    .await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    sqlx::query(end).execute(&mut *conn).await.map_err(fail)?;
    result
}

async fn exec(conn: &mut sqlx::SqliteConnection, sql: &str) -> Result<(), DbErr> {
    // Statements built here from the fixed table list above and the schema's own definitions.
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *conn)
        .await
        .map_err(fail)?;
    Ok(())
}

async fn rebuild(conn: &mut sqlx::SqliteConnection, p: &Paired, up: bool) -> Result<(), DbErr> {
    let t = p.table;
    let create: String = sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
        .bind(t)
        .fetch_one(&mut *conn)
        .await
        .map_err(fail)?
        .try_get(0)
        .map_err(fail)?;
    let companions: Vec<String> = sqlx::query(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
    )
    .bind(t)
    .fetch_all(&mut *conn)
    .await
    .map_err(fail)?
    .iter()
    .filter_map(|r| r.try_get::<String, _>(0).ok())
    .filter(|sql| !sql.contains(&pair_index(t)))
    .collect();
    let columns: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT name FROM pragma_table_info('{t}')"
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(fail)?
    .iter()
    .filter_map(|r| r.try_get::<String, _>(0).ok())
    .collect();

    let new_table = format!("{t}__rebuilt");
    let pairing = format!(
        ", CONSTRAINT \"{}\" FOREIGN KEY (\"school_id\", \"service_id\") REFERENCES \"schools\" (\"id\", \"service_id\")",
        constraint(t)
    );
    let body = create
        .trim_end()
        .strip_suffix(')')
        .ok_or_else(|| DbErr::Migration(format!("unexpected definition of {t}")))?
        .replacen(
            &format!("CREATE TABLE \"{t}\""),
            &format!("CREATE TABLE \"{new_table}\""),
            1,
        );
    let (new_sql, kept): (String, Vec<String>) = if up {
        let added = p
            .added
            .as_ref()
            .map(|a| format!(", \"{}\" uuid_text NOT NULL", a.column))
            .unwrap_or_default();
        // A new column goes after the others, before the table's constraints.
        let body = match body.find(", PRIMARY KEY").or_else(|| body.find(", FOREIGN KEY")) {
            Some(at) if !added.is_empty() => format!("{}{added}{}", &body[..at], &body[at..]),
            _ => format!("{body}{added}"),
        };
        (format!("{body}{pairing} )"), columns.clone())
    } else {
        let dropped = p.added.as_ref().map(|a| a.column);
        let body = body.replace(&pairing, "");
        let body = match dropped {
            Some(c) => body.replace(&format!(", \"{c}\" uuid_text NOT NULL"), ""),
            None => body,
        };
        let kept = columns
            .iter()
            .filter(|c| Some(c.as_str()) != dropped)
            .cloned()
            .collect();
        (format!("{body})"), kept)
    };
    exec(conn, &new_sql).await?;
    let list = kept.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
    let (into, from) = match (&p.added, up) {
        (Some(a), true) => (
            format!("{list}, \"{}\"", a.column),
            format!(
                "{}, {}",
                kept.iter()
                    .map(|c| format!("old.\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                a.fill
            ),
        ),
        _ => (
            list.clone(),
            kept.iter()
                .map(|c| format!("old.\"{c}\""))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    };
    exec(
        conn,
        &format!("INSERT INTO \"{new_table}\" ({into}) SELECT {from} FROM \"{t}\" AS old"),
    )
    .await?;
    exec(conn, &format!("DROP TABLE \"{t}\"")).await?;
    exec(conn, &format!("ALTER TABLE \"{new_table}\" RENAME TO \"{t}\"")).await?;
    for sql in companions {
        exec(conn, &sql).await?;
    }
    if up {
        exec(
            conn,
            &format!(
                "CREATE INDEX \"{}\" ON \"{t}\" (\"school_id\", \"service_id\")",
                pair_index(t)
            ),
        )
        .await?;
    }
    Ok(())
}
