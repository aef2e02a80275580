//! Templates as data: a version's rating scale, sections and items; drafts written by a service,
//! published (frozen), revised into a new version that says which items carry over, retired.
//! A service without any template gets the three starters the first time it looks.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use super::starters;
use super::states::{self, TemplateStep};
use crate::access::{Action, Caller};
use crate::audit::{self, Entry};
use crate::db::{self, Db};
use crate::door::{self, Door};
use crate::entities::{
    semh_item as item, semh_section as section, semh_settings as settings, semh_template as template,
};
use crate::error::{DomainError, DomainResult, FieldErrorCode, Problems};
use crate::ids::{PersonId, SemhItemId, SemhSectionId, SemhTemplateId, ServiceId};
use crate::model::{SemhBand, SemhTemplateStatus};
use crate::values;

/// The most sections, items in a section, items in all, and points on a scale.
pub const MAX_SECTIONS: usize = 20;
pub const MAX_ITEMS_PER_SECTION: usize = 30;
pub const MAX_ITEMS: usize = 200;
pub const MAX_POINTS: usize = 7;

/// One answer of a rating scale, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalePoint {
    /// Stable: responses store it (`GREEN`, `DOING_WELL`).
    pub key: String,
    pub label: String,
    /// `#rrggbb`.
    pub colour: String,
    /// Where it sits for comparisons and the service's picture; `UNKNOWN` is "don't know".
    pub band: SemhBand,
}

impl ScalePoint {
    pub fn is_dont_know(&self) -> bool {
        self.band == SemhBand::Unknown
    }
}

#[derive(Serialize, Deserialize)]
struct StoredPoint {
    key: String,
    label: String,
    colour: String,
    band: String,
}

/// A scale as stored in its version's `scale` column.
pub fn scale_json(scale: &[ScalePoint]) -> String {
    let stored: Vec<StoredPoint> = scale
        .iter()
        .map(|p| StoredPoint {
            key: p.key.clone(),
            label: p.label.clone(),
            colour: p.colour.clone(),
            band: p.band.as_str().to_owned(),
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".to_owned())
}

/// A version's scale, in order.
pub fn scale_of(row: &template::Model) -> Vec<ScalePoint> {
    let stored: Vec<StoredPoint> = serde_json::from_str(&row.scale).unwrap_or_default();
    stored
        .into_iter()
        .map(|p| ScalePoint {
            band: p.band.parse().unwrap_or(SemhBand::Unknown),
            key: p.key,
            label: p.label,
            colour: p.colour,
        })
        .collect()
}

/// A template version with its scale, sections and items, in order.
#[derive(Clone, Debug)]
pub struct TemplateView {
    pub row: template::Model,
    pub scale: Vec<ScalePoint>,
    pub sections: Vec<section::Model>,
    pub items: Vec<item::Model>,
}

impl TemplateView {
    pub fn point(&self, key: &str) -> Option<&ScalePoint> {
        self.scale.iter().find(|p| p.key == key)
    }
    pub fn band_of(&self, key: &str) -> SemhBand {
        self.point(key).map_or(SemhBand::Unknown, |p| p.band)
    }
    pub fn item(&self, id: SemhItemId) -> Option<&item::Model> {
        self.items.iter().find(|i| i.id == id)
    }
    pub fn items_of(&self, section: SemhSectionId) -> impl Iterator<Item = &item::Model> {
        self.items.iter().filter(move |i| i.section_id == section)
    }
}

/// The views of some template rows: their sections and items in two statements.
pub(crate) async fn views_of(
    conn: &impl ConnectionTrait,
    rows: Vec<template::Model>,
) -> DomainResult<Vec<TemplateView>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let door = Door::service(conn, first.service_id);
    let ids: Vec<SemhTemplateId> = rows.iter().map(|r| r.id).collect();
    let sections = door
        .find::<section::Entity>()
        .filter(section::Column::TemplateId.is_in(ids.clone()))
        .order_by_asc(section::Column::Position)
        .all(conn)
        .await?;
    let items = door
        .find::<item::Entity>()
        .filter(item::Column::TemplateId.is_in(ids))
        .order_by_asc(item::Column::Position)
        .all(conn)
        .await?;
    let mut sections_of: HashMap<SemhTemplateId, Vec<section::Model>> = HashMap::new();
    for s in sections {
        sections_of.entry(s.template_id).or_default().push(s);
    }
    let mut items_of: HashMap<SemhTemplateId, Vec<item::Model>> = HashMap::new();
    for i in items {
        items_of.entry(i.template_id).or_default().push(i);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let sections = sections_of.remove(&row.id).unwrap_or_default();
            // Items in section order, then their own.
            let mut items = items_of.remove(&row.id).unwrap_or_default();
            let rank: HashMap<SemhSectionId, i32> = sections.iter().map(|s| (s.id, s.position)).collect();
            items.sort_by_key(|i| (rank.get(&i.section_id).copied().unwrap_or(i32::MAX), i.position));
            TemplateView {
                scale: scale_of(&row),
                row,
                sections,
                items,
            }
        })
        .collect())
}

/// One template version, read through `door`.
pub(crate) async fn view<C: ConnectionTrait>(door: &Door<'_, C>, id: SemhTemplateId) -> DomainResult<TemplateView> {
    let row = door.get::<template::Entity>(id).await?;
    let mut views = views_of(door.conn(), vec![row]).await?;
    views.pop().ok_or(DomainError::NotFound)
}

/// Whether the caller writes the service's templates (and so sees its drafts).
fn writes(caller: &Caller, service: ServiceId) -> bool {
    caller
        .principal
        .static_access(Action::ManageSemhTemplates)
        .permits_service_wide(service)
}

/// A template version the caller can see (drafts only for those who write templates).
pub async fn get(conn: &impl ConnectionTrait, caller: &Caller, id: SemhTemplateId) -> DomainResult<TemplateView> {
    let door = Door::open(conn, caller, Action::ViewSemhTemplates).await?;
    let found = view(&door, id).await?;
    if found.row.status == SemhTemplateStatus::Draft && !writes(caller, found.row.service_id) {
        return Err(DomainError::NotFound);
    }
    Ok(found)
}

/// The service's template versions, newest lineage first and each lineage's versions in order;
/// drafts only for those who write templates. A service without any gets the starters.
pub async fn list(db: &Db, caller: &Caller, service: ServiceId) -> DomainResult<Vec<TemplateView>> {
    let door = Door::open(db, caller, Action::ViewSemhTemplates).await?;
    if !door.access().touches_service(service) {
        return Err(DomainError::NotFound);
    }
    let mut rows = rows_of(db, service).await?;
    if rows.is_empty() {
        let txn = db::begin_write(db).await?;
        if rows_of(&txn, service).await?.is_empty() {
            starters::install(&txn, caller.principal.person_id(), service).await?;
        }
        txn.commit().await?;
        rows = rows_of(db, service).await?;
    }
    let writer = writes(caller, service);
    rows.retain(|r| writer || r.status != SemhTemplateStatus::Draft);
    views_of(db, rows).await
}

async fn rows_of(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<Vec<template::Model>> {
    Ok(Door::service(conn, service)
        .find::<template::Entity>()
        .order_by_asc(template::Column::LineageId)
        .order_by_asc(template::Column::Version)
        .all(conn)
        .await?)
}

/// A scale point as written.
#[derive(Clone, Debug)]
pub struct PointInput {
    pub key: String,
    pub label: String,
    pub colour: String,
    pub band: SemhBand,
}

/// An item as written: in a revision, it may carry over an item of the version it revises.
#[derive(Clone, Debug)]
pub struct ItemInput {
    pub text: String,
    pub carries_over: Option<SemhItemId>,
}

#[derive(Clone, Debug)]
pub struct SectionInput {
    pub title: String,
    pub items: Vec<ItemInput>,
}

/// What a version holds.
#[derive(Clone, Debug)]
pub struct Content {
    pub name: String,
    pub description: Option<String>,
    pub scale: Vec<PointInput>,
    pub asks_ideas: bool,
    pub sections: Vec<SectionInput>,
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 30
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn valid_colour(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// A section as it will be stored: its title, and each item's text with the item it carries over.
type CheckedSection = (String, Vec<(String, Option<SemhItemId>)>);

/// Checked content: the scale and sections as they will be stored.
struct Checked {
    name: String,
    description: Option<String>,
    scale: Vec<ScalePoint>,
    asks_ideas: bool,
    sections: Vec<CheckedSection>,
}

/// Checks content; `revised` is the version a revision revises (items may carry over only from
/// it, each at most once).
fn check(content: Content, revised: Option<&TemplateView>) -> DomainResult<Checked> {
    let mut p = Problems::new();
    let name = p.check(values::required_text("name", &content.name, 120));
    let description = p
        .check(values::optional_text(
            "description",
            content.description.as_deref(),
            1000,
        ))
        .flatten();
    if !(2..=MAX_POINTS).contains(&content.scale.len()) {
        p.add(
            "scale",
            FieldErrorCode::OutOfRange,
            format!("a scale has 2 to {MAX_POINTS} points"),
        );
    }
    let mut keys = BTreeSet::new();
    let mut scale = Vec::new();
    for (i, point) in content.scale.into_iter().enumerate() {
        let at = format!("scale.{i}");
        if !valid_key(&point.key) {
            p.add(
                &format!("{at}.key"),
                FieldErrorCode::Invalid,
                "a key is 1 to 30 capital letters, digits or underscores",
            );
        } else if !keys.insert(point.key.clone()) {
            p.add(&format!("{at}.key"), FieldErrorCode::Taken, "two points have this key");
        }
        let label = p.check(values::required_text(&format!("{at}.label"), &point.label, 60));
        if !valid_colour(&point.colour) {
            p.add(&format!("{at}.colour"), FieldErrorCode::Invalid, "a colour is #rrggbb");
        }
        if let Some(label) = label {
            scale.push(ScalePoint {
                key: point.key,
                label,
                colour: point.colour.to_ascii_lowercase(),
                band: point.band,
            });
        }
    }
    if scale.iter().filter(|s| s.is_dont_know()).count() > 1 {
        p.add("scale", FieldErrorCode::Invalid, "only one point is \"don't know\"");
    }
    if !scale.is_empty() && scale.iter().all(ScalePoint::is_dont_know) {
        p.add(
            "scale",
            FieldErrorCode::Invalid,
            "a scale needs a point that is not \"don't know\"",
        );
    }
    if content.sections.is_empty() || content.sections.len() > MAX_SECTIONS {
        p.add(
            "sections",
            FieldErrorCode::OutOfRange,
            format!("a template has 1 to {MAX_SECTIONS} sections"),
        );
    }
    let total: usize = content.sections.iter().map(|s| s.items.len()).sum();
    if total > MAX_ITEMS {
        p.add(
            "sections",
            FieldErrorCode::OutOfRange,
            format!("a template has at most {MAX_ITEMS} items"),
        );
    }
    let mut carried = BTreeSet::new();
    let mut sections = Vec::new();
    for (i, s) in content.sections.into_iter().enumerate() {
        let at = format!("sections.{i}");
        let title = p.check(values::required_text(&format!("{at}.title"), &s.title, 120));
        if s.items.is_empty() || s.items.len() > MAX_ITEMS_PER_SECTION {
            p.add(
                &format!("{at}.items"),
                FieldErrorCode::OutOfRange,
                format!("a section has 1 to {MAX_ITEMS_PER_SECTION} items"),
            );
        }
        let mut items = Vec::new();
        for (j, it) in s.items.into_iter().enumerate() {
            let at = format!("{at}.items.{j}");
            let text = p.check(values::required_text(&format!("{at}.text"), &it.text, 400));
            if let Some(from) = it.carries_over {
                let known = revised.is_some_and(|r| r.item(from).is_some());
                if !known {
                    p.add(
                        &format!("{at}.carriesOverItemId"),
                        FieldErrorCode::NotFound,
                        "not an item of the version this one revises",
                    );
                } else if !carried.insert(from) {
                    p.add(
                        &format!("{at}.carriesOverItemId"),
                        FieldErrorCode::Taken,
                        "two items carry over the same item",
                    );
                }
            }
            if let Some(text) = text {
                items.push((text, it.carries_over));
            }
        }
        if let Some(title) = title {
            sections.push((title, items));
        }
    }
    p.finish()?;
    Ok(Checked {
        name: name.unwrap_or_default(),
        description,
        scale,
        asks_ideas: content.asks_ideas,
        sections,
    })
}

/// Writes a version's sections and items (it has none yet).
async fn write_content<C: ConnectionTrait>(
    door: &Door<'_, C>,
    row: &template::Model,
    sections: Vec<CheckedSection>,
    revised: Option<&TemplateView>,
) -> DomainResult<()> {
    let mut section_rows = Vec::new();
    let mut item_rows = Vec::new();
    for (i, (title, items)) in sections.into_iter().enumerate() {
        let section_id = SemhSectionId::new();
        section_rows.push(section::ActiveModel {
            id: Set(section_id),
            service_id: Set(row.service_id),
            template_id: Set(row.id),
            position: Set(i as i32),
            title: Set(title),
        });
        for (j, (text, carries)) in items.into_iter().enumerate() {
            let id = SemhItemId::new();
            let lineage = carries
                .and_then(|from| revised.and_then(|r| r.item(from)))
                .map_or(id, |from| from.lineage_item_id);
            item_rows.push(item::ActiveModel {
                id: Set(id),
                service_id: Set(row.service_id),
                template_id: Set(row.id),
                section_id: Set(section_id),
                position: Set(j as i32),
                text: Set(text),
                lineage_item_id: Set(lineage),
                carried_from_id: Set(carries),
            });
        }
    }
    door.insert_all(section_rows).await?;
    door.insert_all(item_rows).await?;
    Ok(())
}

/// Makes a version from checked content (in the caller's transaction).
pub(crate) async fn make<C: ConnectionTrait>(
    door: &Door<'_, C>,
    service: ServiceId,
    by: Option<PersonId>,
    content: Content,
    starter: Option<&str>,
) -> DomainResult<template::Model> {
    let checked = check(content, None)?;
    let id = SemhTemplateId::new();
    let now = Utc::now();
    let row = door
        .insert(template::ActiveModel {
            id: Set(id),
            service_id: Set(service),
            lineage_id: Set(id),
            version: Set(1),
            revises_id: Set(None),
            starter: Set(starter.map(str::to_owned)),
            name: Set(checked.name),
            description: Set(checked.description),
            scale: Set(scale_json(&checked.scale)),
            asks_ideas: Set(checked.asks_ideas),
            status: Set(SemhTemplateStatus::Draft),
            created_by: Set(by),
            created_at: Set(now),
            published_at: Set(None),
            updated_at: Set(now),
        })
        .await?;
    write_content(door, &row, checked.sections, None).await?;
    Ok(row)
}

/// Writes a new template of the service's own, as a draft (administrators).
pub async fn create(db: &Db, caller: &Caller, service: ServiceId, content: Content) -> DomainResult<TemplateView> {
    caller
        .principal
        .require_service_wide(Action::ManageSemhTemplates, service)?;
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManageSemhTemplates).await?;
    let row = make(&door, service, caller.principal.person_id(), content, None).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("semh_template.create", "SemhTemplate", row.id).in_service(service),
    )
    .await?;
    let made = view(&door, row.id).await?;
    txn.commit().await?;
    Ok(made)
}

/// A version for a change by someone who writes templates: locked, not found unless seen.
async fn for_change(txn: &impl ConnectionTrait, caller: &Caller, id: SemhTemplateId) -> DomainResult<template::Model> {
    door::for_change::<template::Entity, _>(txn, caller, id, Action::ViewSemhTemplates, Action::ManageSemhTemplates)
        .await
}

/// Replaces a draft's content (a published version never changes).
pub async fn update(db: &Db, caller: &Caller, id: SemhTemplateId, content: Content) -> DomainResult<TemplateView> {
    let txn = db::begin_write(db).await?;
    let row = for_change(&txn, caller, id).await?;
    states::check_template("id", TemplateStep::Edit, row.status)?;
    let door = Door::open(&txn, caller, Action::ManageSemhTemplates).await?;
    let revised = match row.revises_id {
        Some(r) => Some(view(&door, r).await?),
        None => None,
    };
    let checked = check(content, revised.as_ref())?;
    door.delete_many::<item::Entity>()
        .filter(item::Column::TemplateId.eq(row.id))
        .exec(&txn)
        .await?;
    door.delete_many::<section::Entity>()
        .filter(section::Column::TemplateId.eq(row.id))
        .exec(&txn)
        .await?;
    let mut active: template::ActiveModel = row.clone().into();
    active.name = Set(checked.name);
    active.description = Set(checked.description);
    active.scale = Set(scale_json(&checked.scale));
    active.asks_ideas = Set(checked.asks_ideas);
    active.updated_at = Set(Utc::now());
    let saved = door.update(active).await?;
    write_content(&door, &saved, checked.sections, revised.as_ref()).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("semh_template.update", "SemhTemplate", saved.id).in_service(saved.service_id),
    )
    .await?;
    let made = view(&door, saved.id).await?;
    txn.commit().await?;
    Ok(made)
}

/// A new draft version revising a published (or retired) one, every item carried over; edit it
/// to change what it asks. Only the latest version of a lineage is revised, once at a time.
pub async fn revise(db: &Db, caller: &Caller, id: SemhTemplateId) -> DomainResult<TemplateView> {
    let txn = db::begin_write(db).await?;
    let row = for_change(&txn, caller, id).await?;
    states::check_template("id", TemplateStep::Revise, row.status)?;
    let door = Door::open(&txn, caller, Action::ManageSemhTemplates).await?;
    let later = door
        .find::<template::Entity>()
        .filter(template::Column::LineageId.eq(row.lineage_id))
        .filter(template::Column::Version.gt(row.version))
        .one(&txn)
        .await?;
    if let Some(later) = later {
        return Err(DomainError::invalid(
            "id",
            FieldErrorCode::InvalidState,
            format!(
                "version {} of this template already exists: revise the latest version",
                later.version
            ),
        ));
    }
    let old = view(&door, row.id).await?;
    let new_id = SemhTemplateId::new();
    let now = Utc::now();
    let made = door
        .insert(template::ActiveModel {
            id: Set(new_id),
            service_id: Set(row.service_id),
            lineage_id: Set(row.lineage_id),
            version: Set(row.version + 1),
            revises_id: Set(Some(row.id)),
            starter: Set(row.starter.clone()),
            name: Set(row.name.clone()),
            description: Set(row.description.clone()),
            scale: Set(row.scale.clone()),
            asks_ideas: Set(row.asks_ideas),
            status: Set(SemhTemplateStatus::Draft),
            created_by: Set(caller.principal.person_id()),
            created_at: Set(now),
            published_at: Set(None),
            updated_at: Set(now),
        })
        .await?;
    let sections = old
        .sections
        .iter()
        .map(|s| {
            let items = old.items_of(s.id).map(|i| (i.text.clone(), Some(i.id))).collect();
            (s.title.clone(), items)
        })
        .collect();
    write_content(&door, &made, sections, Some(&old)).await?;
    audit::log(
        &txn,
        caller,
        Entry::new("semh_template.revise", "SemhTemplate", made.id)
            .in_service(made.service_id)
            .detail(serde_json::json!({ "revises": row.id, "version": made.version })),
    )
    .await?;
    let out = view(&door, made.id).await?;
    txn.commit().await?;
    Ok(out)
}

/// Publishes a draft (it never changes again) or retires a published version.
pub async fn set_status(
    db: &Db,
    caller: &Caller,
    id: SemhTemplateId,
    step: TemplateStep,
) -> DomainResult<TemplateView> {
    let txn = db::begin_write(db).await?;
    let row = for_change(&txn, caller, id).await?;
    let to = states::check_template("id", step, row.status)?;
    let door = Door::open(&txn, caller, Action::ManageSemhTemplates).await?;
    let now = Utc::now();
    let mut active: template::ActiveModel = row.into();
    active.status = Set(to);
    if to == SemhTemplateStatus::Published {
        active.published_at = Set(Some(now));
    }
    active.updated_at = Set(now);
    let saved = door.update(active).await?;
    audit::log(
        &txn,
        caller,
        Entry::new(
            match step {
                TemplateStep::Publish => "semh_template.publish",
                _ => "semh_template.retire",
            },
            "SemhTemplate",
            saved.id,
        )
        .in_service(saved.service_id),
    )
    .await?;
    let out = view(&door, saved.id).await?;
    txn.commit().await?;
    Ok(out)
}

/// Whether the service's picture names its schools (default: no).
pub async fn names_schools(conn: &impl ConnectionTrait, service: ServiceId) -> DomainResult<bool> {
    Ok(Door::service(conn, service)
        .find::<settings::Entity>()
        .one(conn)
        .await?
        .is_some_and(|s| s.names_schools))
}

/// The service's setting, for those who see its picture.
pub async fn settings(conn: &impl ConnectionTrait, caller: &Caller, service: ServiceId) -> DomainResult<bool> {
    caller
        .principal
        .require_service_wide(Action::ViewSemhServicePicture, service)?;
    names_schools(conn, service).await
}

/// Sets whether the service's picture names its schools (administrators).
pub async fn set_names_schools(db: &Db, caller: &Caller, service: ServiceId, names: bool) -> DomainResult<bool> {
    caller
        .principal
        .require_service_wide(Action::ManageSemhSettings, service)?;
    let txn = db::begin_write(db).await?;
    let door = Door::open(&txn, caller, Action::ManageSemhSettings).await?;
    let now = Utc::now();
    let existing = door
        .find::<settings::Entity>()
        .filter(settings::Column::ServiceId.eq(service))
        .one(&txn)
        .await?;
    match existing {
        Some(row) => {
            let mut active: settings::ActiveModel = row.into();
            active.names_schools = Set(names);
            active.updated_at = Set(now);
            door.update(active).await?;
        }
        None => {
            door.insert_quiet(settings::ActiveModel {
                service_id: Set(service),
                names_schools: Set(names),
                updated_at: Set(now),
            })
            .await?;
        }
    }
    audit::log(
        &txn,
        caller,
        Entry::new("semh_settings.update", "Service", service)
            .in_service(service)
            .detail(serde_json::json!({ "namesSchools": names })),
    )
    .await?;
    txn.commit().await?;
    Ok(names)
}
