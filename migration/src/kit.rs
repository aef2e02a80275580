//! Small helpers the migrations share. They only build statements; changing what one builds
//! would change applied migrations, so they stay as they are once used.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema;

/// A UUID primary key named `id`.
pub fn id() -> ColumnDef {
    schema::pk_uuid("id")
}

/// A required reference column.
pub fn reference(name: &'static str) -> ColumnDef {
    schema::uuid(name)
}

/// An optional reference column.
pub fn reference_null(name: &'static str) -> ColumnDef {
    schema::uuid_null(name)
}

/// A required instant, stored in UTC.
pub fn instant(name: &'static str) -> ColumnDef {
    schema::timestamp_with_time_zone(name)
}

/// An optional instant, stored in UTC.
pub fn instant_null(name: &'static str) -> ColumnDef {
    schema::timestamp_with_time_zone_null(name)
}

/// A foreign key from `table.column` to `target.id`.
pub fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(on_delete)
        .to_owned()
}

/// `(column, service_id)` of `table` references `schools (id, service_id)`: a row that names a
/// school lies in that school's service. Named `fk_<table>_school_in_service` for `school_id`.
pub fn school_in_service(table: &'static str, column: &'static str) -> ForeignKeyCreateStatement {
    let what = if column == "school_id" { "school" } else { column };
    ForeignKey::create()
        .name(format!("fk_{table}_{what}_in_service"))
        .from(table, (column, "service_id"))
        .to("schools", ("id", "service_id"))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// A plain index over some columns of a table, named after them.
pub fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", columns.join("_"))).table(table);
    for c in columns {
        stmt.col(*c);
    }
    stmt.to_owned()
}

/// A unique index over some columns of a table.
pub fn unique(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = index(table, columns);
    stmt.name(format!("ux_{table}_{}", columns.join("_"))).unique();
    stmt
}

/// Runs raw SQL written to work on both SQLite and PostgreSQL (partial indexes, for instance).
pub async fn sql(manager: &SchemaManager<'_>, statement: &str) -> Result<(), DbErr> {
    manager.get_connection().execute_unprepared(statement).await.map(|_| ())
}

/// Drops tables in the order given.
pub async fn drop_tables(manager: &SchemaManager<'_>, tables: &[&'static str]) -> Result<(), DbErr> {
    for t in tables {
        manager
            .drop_table(Table::drop().table(*t).if_exists().to_owned())
            .await?;
    }
    Ok(())
}
