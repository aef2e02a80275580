//! The one door to tenant data.
//!
//! Every read and write of a tenant-owned row goes through a [`Door`], built from what the
//! caller may reach for one action (or from one service, for the service's own rules). Each
//! tenant-owned entity declares once, in [`owners`], which of its columns carry its service,
//! school and EP; the condition that keeps a query inside the reach is derived from that
//! declaration and added to every query the door builds, so a row out of reach is simply not
//! there: "not found", in the same statement and at the same cost as a row that never existed.
//!
//! sea-orm's raw entry points (`Entity::find`, `insert`, `update_many`...) are refused by
//! `clippy.toml` everywhere else; only this module and the named exception for the rows a
//! principal is built from ([`crate::identity`]) may call them.
#![allow(
    clippy::disallowed_methods,
    reason = "the door is where tenant queries are built, with the reach condition added"
)]

pub mod owners;

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, DeleteMany, EntityTrait, IntoActiveModel,
    Iterable, ModelTrait, PrimaryKeyToColumn, QueryFilter, QuerySelect, Select, UpdateMany, Value,
};

use crate::access::{Access, Action, Caller};
use crate::entities::{booking, contract};
use crate::error::{DomainError, DomainResult};
use crate::ids::{PersonId, SchoolId, ServiceId};
use crate::model::{BookingStatus, ContractStatus};

pub use owners::{Owner, Shared, Tenanted};

/// The schools each EP of a caller works with, by (service, EP).
pub type Linked = BTreeMap<(ServiceId, PersonId), BTreeSet<SchoolId>>;

/// A way into one reach: queries built here carry its condition.
pub struct Door<'c, C: ConnectionTrait> {
    conn: &'c C,
    access: Access,
}

impl<'c, C: ConnectionTrait> Door<'c, C> {
    /// What `caller` may reach for `action`. The schools an EP works with are looked up once per
    /// request (on the first door of the request) and kept with the caller.
    pub async fn open(conn: &'c C, caller: &Caller, action: Action) -> DomainResult<Self> {
        Ok(Self {
            conn,
            access: reach(conn, caller, action).await?,
        })
    }

    /// Everything the caller can see at all, whatever the action (a reference in an input that
    /// must name something the caller knows of, before what they may do with it is weighed).
    pub fn seen(conn: &'c C, caller: &Caller) -> Self {
        let mut access = caller.principal.visibility();
        access.person = caller.principal.person_id();
        Self { conn, access }
    }

    /// The whole of one service, for the service's own rules: clashes in an EP's diary, free
    /// slots, balances, settings. What such a door reads is weighed, not shown: an operation
    /// shapes it before anything reaches the caller. `service` is one the caller reached.
    pub fn service(conn: &'c C, service: ServiceId) -> Self {
        let mut access = Access::default();
        access.services.insert(service);
        Self { conn, access }
    }

    pub fn access(&self) -> &Access {
        &self.access
    }

    pub fn conn(&self) -> &'c C {
        self.conn
    }

    /// Whether the action reaches anything at all (a list asked for by someone who may see none
    /// of it is refused, rather than answered with an empty page).
    pub fn require_any(&self) -> DomainResult<()> {
        if self.access.is_empty() {
            Err(DomainError::Forbidden)
        } else {
            Ok(())
        }
    }

    /// Rows in reach; add filters, order and paging as usual.
    pub fn find<E: Tenanted>(&self) -> Select<E> {
        E::find().filter(E::within(&self.access))
    }

    /// One row in reach by its id: not found when it is out of reach or missing, in one
    /// statement either way.
    pub async fn get<E: Tenanted>(&self, id: impl Into<Value>) -> DomainResult<E::Model> {
        self.find::<E>()
            .filter(primary_key::<E>()?.eq(id))
            .one(self.conn)
            .await?
            .ok_or(DomainError::NotFound)
    }

    /// Rows in reach among these ids (others are left out).
    pub async fn get_many<E: Tenanted, V: Into<Value>>(
        &self,
        ids: impl IntoIterator<Item = V>,
    ) -> DomainResult<Vec<E::Model>> {
        Ok(self
            .find::<E>()
            .filter(primary_key::<E>()?.is_in(ids))
            .all(self.conn)
            .await?)
    }

    /// Whether a row with this id is in reach.
    pub async fn exists<E: Tenanted>(&self, id: impl Into<Value>) -> DomainResult<bool> {
        Ok(self
            .find::<E>()
            .filter(primary_key::<E>()?.eq(id))
            .one(self.conn)
            .await?
            .is_some())
    }

    /// Inserts a row that lies in reach (its service, school and EP say where it belongs).
    pub async fn insert<A>(&self, row: A) -> DomainResult<<A::Entity as EntityTrait>::Model>
    where
        A: ActiveModelTrait + Send,
        A::Entity: Tenanted,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        self.admit(&row)?;
        Ok(A::Entity::insert(row).exec_with_returning(self.conn).await?)
    }

    /// Inserts a row that lies in reach, without reading it back.
    pub async fn insert_quiet<A>(&self, row: A) -> DomainResult<()>
    where
        A: ActiveModelTrait + Send,
        A::Entity: Tenanted,
    {
        self.admit(&row)?;
        A::Entity::insert(row).exec_without_returning(self.conn).await?;
        Ok(())
    }

    /// Inserts several rows that lie in reach.
    pub async fn insert_all<A>(&self, rows: Vec<A>) -> DomainResult<()>
    where
        A: ActiveModelTrait + Send,
        A::Entity: Tenanted,
    {
        if rows.is_empty() {
            return Ok(());
        }
        for row in &rows {
            self.admit(row)?;
        }
        A::Entity::insert_many(rows).exec_without_returning(self.conn).await?;
        Ok(())
    }

    /// Saves changes to a row read through a door: the update only touches the row if it is
    /// (still) in reach, and the changed row stays in reach.
    pub async fn update<A>(&self, row: A) -> DomainResult<<A::Entity as EntityTrait>::Model>
    where
        A: ActiveModelTrait + Send,
        A::Entity: Tenanted,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        // Where a row names its owner, the changed row must still lie in reach; rows reached
        // through another table have nothing to move, and the update's condition decides.
        if <A::Entity as Tenanted>::OWNER.is_some() {
            self.admit(&row)?;
        }
        let update = A::Entity::update(row)
            .validate()?
            .filter(<A::Entity as Tenanted>::writable(&self.access));
        match update.exec(self.conn).await {
            Ok(saved) => Ok(saved),
            Err(DbErr::RecordNotUpdated) => Err(DomainError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// An update of the rows in reach; add filters and the columns to set.
    pub fn update_many<E: Tenanted>(&self) -> UpdateMany<E> {
        E::update_many().filter(E::writable(&self.access))
    }

    /// A delete of the rows in reach; add filters.
    pub fn delete_many<E: Tenanted>(&self) -> DeleteMany<E> {
        E::delete_many().filter(E::writable(&self.access))
    }

    /// Inserts rows of a table reached through its parent (working hours under their pattern):
    /// the parent, read through a door, must lie in reach, and every row must name it in
    /// `parent_column`.
    pub async fn insert_under<P, A>(
        &self,
        parent: &P::Model,
        parent_column: <A::Entity as EntityTrait>::Column,
        rows: Vec<A>,
    ) -> DomainResult<()>
    where
        P: Tenanted,
        A: ActiveModelTrait + Send,
    {
        let parent_id = model_uuid(parent, primary_key::<P>()?);
        let parent_in_reach = P::OWNER.is_some_and(|o| o.admits(&self.access, |c| model_uuid(parent, c)));
        let all_under = rows
            .iter()
            .all(|r| parent_id.is_some() && uuid_in(r.get(parent_column).into_value()) == parent_id);
        if !parent_in_reach || !all_under {
            return Err(DomainError::Forbidden);
        }
        if rows.is_empty() {
            return Ok(());
        }
        A::Entity::insert_many(rows).exec_without_returning(self.conn).await?;
        Ok(())
    }

    fn admit<A>(&self, row: &A) -> DomainResult<()>
    where
        A: ActiveModelTrait,
        A::Entity: Tenanted,
    {
        if <A::Entity as Tenanted>::admits(&self.access, row) {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }
}

/// What decides whether a caller can see a row they may not act on.
#[derive(Clone, Copy, Debug)]
pub enum Sight {
    /// What the caller may see under an action.
    Of(Action),
    /// What the caller may see under any of these actions: a row shown to some roles in full
    /// and to others in part is seen under either.
    AnyOf(&'static [Action]),
    /// Anything the caller can see at all ([`Door::seen`]): a school named in an input, for
    /// instance, which its own staff and partner clients know whatever their roles.
    Any,
}

impl From<Action> for Sight {
    fn from(action: Action) -> Self {
        Sight::Of(action)
    }
}

/// A row for a change under `change`, locked until the transaction ends: not found unless the
/// caller can see it under `view`, forbidden if they can see it but may not make the change.
/// A row out of reach costs the same two statements as a missing one.
pub async fn for_change<E, C>(
    conn: &C,
    caller: &Caller,
    id: impl Into<Value> + Clone,
    view: impl Into<Sight>,
    change: Action,
) -> DomainResult<E::Model>
where
    E: Tenanted,
    C: ConnectionTrait,
{
    for_action::<E, C>(conn, caller, id, view.into(), change, true).await
}

/// A row the caller may take `action` on (a read that is not a plain view, such as free slots
/// at a school): not found unless visible under `view`, forbidden if visible but not allowed.
pub async fn for_reading<E, C>(
    conn: &C,
    caller: &Caller,
    id: impl Into<Value> + Clone,
    view: impl Into<Sight>,
    action: Action,
) -> DomainResult<E::Model>
where
    E: Tenanted,
    C: ConnectionTrait,
{
    for_action::<E, C>(conn, caller, id, view.into(), action, false).await
}

async fn for_action<E, C>(
    conn: &C,
    caller: &Caller,
    id: impl Into<Value> + Clone,
    view: Sight,
    action: Action,
    lock: bool,
) -> DomainResult<E::Model>
where
    E: Tenanted,
    C: ConnectionTrait,
{
    let id_column = primary_key::<E>()?;
    let allowed = Door::open(conn, caller, action).await?;
    let mut select = allowed.find::<E>().filter(id_column.eq(id.clone()));
    if lock {
        select = select.lock_exclusive();
    }
    if let Some(row) = select.one(conn).await? {
        return Ok(row);
    }
    let seen = match view {
        Sight::Of(action) => Door::open(conn, caller, action).await?,
        Sight::AnyOf(actions) => {
            let mut access = Access::default();
            for action in actions {
                access.absorb(reach(conn, caller, *action).await?);
            }
            Door { conn, access }
        }
        Sight::Any => Door::seen(conn, caller),
    };
    Err(if seen.exists::<E>(id).await? {
        DomainError::Refused(crate::access::refusal_text(action))
    } else {
        DomainError::NotFound
    })
}

/// A row found by the digest of a credential it stores (a parent's booking or manage link),
/// before any reach exists: the credential is the reach, and what follows keeps to the row's own
/// service and school. The column must hold a unique digest of a high-entropy token.
pub async fn by_credential<E: Tenanted, C: ConnectionTrait>(
    conn: &C,
    column: E::Column,
    digest: &str,
) -> DomainResult<Option<E::Model>> {
    Ok(E::find().filter(column.eq(digest)).one(conn).await?)
}

/// The id column of an entity with a one-column primary key.
fn primary_key<E: EntityTrait>() -> DomainResult<E::Column> {
    E::PrimaryKey::iter()
        .next()
        .map(PrimaryKeyToColumn::into_column)
        .ok_or_else(|| DomainError::internal("primary key", DbErr::Custom("an entity without a key".into())))
}

/// What the caller may reach for `action`, with the schools its EP memberships work with.
async fn reach(conn: &impl ConnectionTrait, caller: &Caller, action: Action) -> DomainResult<Access> {
    let mut access = caller.principal.static_access(action);
    if access.linked_pending.is_empty() {
        return Ok(access);
    }
    let linked = caller.linked(|| linked_schools(conn, caller)).await?;
    for key in std::mem::take(&mut access.linked_pending) {
        for school in linked.get(&key).into_iter().flatten() {
            access.schools.insert(*school, key.0);
        }
    }
    Ok(access)
}

/// The schools each of the caller's EP memberships works with: where they are the link EP on
/// a live contract, or where someone else booked them (a booking that was not cancelled).
/// Two statements, whatever the number of memberships.
async fn linked_schools(conn: &impl ConnectionTrait, caller: &Caller) -> DomainResult<Linked> {
    let eps: Vec<(ServiceId, PersonId)> = caller.principal.ep_memberships();
    let mut linked = Linked::new();
    if eps.is_empty() {
        return Ok(linked);
    }
    let services: Vec<ServiceId> = eps.iter().map(|(s, _)| *s).collect();
    let people: Vec<PersonId> = eps.iter().map(|(_, p)| *p).collect();
    let contracts: Vec<(ServiceId, Option<PersonId>, SchoolId)> = contract::Entity::find()
        .select_only()
        .column(contract::Column::ServiceId)
        .column(contract::Column::LinkEpId)
        .column(contract::Column::SchoolId)
        .filter(contract::Column::ServiceId.is_in(services.clone()))
        .filter(contract::Column::LinkEpId.is_in(people.clone()))
        .filter(contract::Column::Status.ne(ContractStatus::Cancelled))
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    let booked: Vec<(ServiceId, PersonId, Option<SchoolId>)> = booking::Entity::find()
        .select_only()
        .column(booking::Column::ServiceId)
        .column(booking::Column::EpId)
        .column(booking::Column::SchoolId)
        .filter(booking::Column::ServiceId.is_in(services))
        .filter(booking::Column::EpId.is_in(people))
        .filter(booking::Column::Status.ne(BookingStatus::Cancelled))
        .filter(booking::Column::SchoolId.is_not_null())
        // Booked there by someone else: an EP cannot link themselves to a school.
        .filter(
            Condition::any()
                .add(booking::Column::CreatedBy.is_null())
                .add(Expr::col(booking::Column::CreatedBy).ne(Expr::col(booking::Column::EpId))),
        )
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    let pairs = contracts
        .into_iter()
        .filter_map(|(s, ep, school)| ep.map(|ep| (s, ep, school)))
        .chain(
            booked
                .into_iter()
                .filter_map(|(s, ep, school)| school.map(|school| (s, ep, school))),
        );
    for (service, ep, school) in pairs {
        if eps.contains(&(service, ep)) {
            linked.entry((service, ep)).or_default().insert(school);
        }
    }
    Ok(linked)
}

/// Appends to the audit log. Every call is logged, signed in or not (a failed sign-in has no
/// principal), so the log is written outside any reach; it is append-only, and read only
/// through a door.
pub(crate) async fn append_audit(
    conn: &impl ConnectionTrait,
    entries: Vec<crate::entities::audit_event::ActiveModel>,
) -> DomainResult<()> {
    crate::entities::audit_event::Entity::insert_many(entries)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// A condition that matches no row.
pub(crate) fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

/// The uuid in a column value, if there is one.
pub(crate) fn uuid_in(value: Option<Value>) -> Option<uuid::Uuid> {
    match value {
        Some(Value::Uuid(Some(u))) => Some(u),
        _ => None,
    }
}

/// The value of a column of a model (for owners read from rows).
pub(crate) fn model_uuid<M: ModelTrait>(model: &M, column: <M::Entity as EntityTrait>::Column) -> Option<uuid::Uuid> {
    uuid_in(Some(model.get(column)))
}
