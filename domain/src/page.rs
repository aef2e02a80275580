//! Keyset pagination: lists are read a page at a time after or before an opaque cursor, in a
//! stable order (a sort key, then the id), so that rows added meanwhile never shift a page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Value,
};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult, FieldErrorCode};

/// The largest page a caller may ask for.
pub const MAX_PAGE: u64 = 100;
/// The page size when none is given.
pub const DEFAULT_PAGE: u64 = 20;

/// Which page: `first` items after `after`, or `last` items before `before`.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    pub first: Option<i64>,
    pub after: Option<String>,
    pub last: Option<i64>,
    pub before: Option<String>,
    /// Count the whole list too (one more statement, only when asked for).
    pub count_total: bool,
}

/// A page of items, each with the cursor that points at it.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// How many items the whole list has, when counted.
    pub total: Option<u64>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl Fn(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(|(c, t)| (c, f(t))).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            total: self.total,
        }
    }
}

/// The position of one row in a list: its sort key and its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(rename = "i")]
    pub id: uuid::Uuid,
}

/// A cursor as sent: the list it belongs to and a position in it.
#[derive(Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "l")]
    list: String,
    #[serde(flatten)]
    at: Position,
}

fn not_a_cursor(field: &str) -> DomainError {
    DomainError::invalid(field, FieldErrorCode::Invalid, "is not a cursor from this list")
}

impl Position {
    /// The cursor for this position in `list` (a cursor says which list it belongs to).
    pub fn encode(&self, list: &str) -> String {
        let cursor = Cursor {
            list: list.to_owned(),
            at: self.clone(),
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
    }

    /// The list a cursor belongs to, and its position.
    fn decode(field: &str, cursor: &str) -> DomainResult<(String, Self)> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Cursor>(&bytes).ok())
            .map(|c| (c.list, c.at))
            .ok_or_else(|| not_a_cursor(field))
    }
}

/// A checked page request: a direction, a size and where to start.
#[derive(Clone, Debug)]
pub struct Window {
    pub forward: bool,
    pub size: u64,
    pub from: Option<Position>,
    /// The list the starting cursor says it belongs to, and the argument it came in.
    from_list: Option<(String, &'static str)>,
    /// The caller gave a starting cursor (so there are rows on the other side of it).
    pub from_cursor: bool,
    pub count_total: bool,
}

impl PageRequest {
    pub fn first(n: i64) -> Self {
        Self {
            first: Some(n),
            ..Self::default()
        }
    }

    /// Checks `first`/`last` (1..=100, not both) and decodes the cursor.
    pub fn window(&self) -> DomainResult<Window> {
        let check = |field: &str, n: i64| {
            if (1..=MAX_PAGE as i64).contains(&n) {
                Ok(n as u64)
            } else {
                Err(DomainError::invalid(
                    field,
                    FieldErrorCode::OutOfRange,
                    format!("must be between 1 and {MAX_PAGE}"),
                ))
            }
        };
        match (self.first, self.last) {
            (Some(_), Some(_)) => Err(DomainError::invalid(
                "last",
                FieldErrorCode::Invalid,
                "give first or last, not both",
            )),
            (_, Some(n)) => {
                if self.after.is_some() {
                    return Err(DomainError::invalid(
                        "after",
                        FieldErrorCode::Invalid,
                        "use before with last",
                    ));
                }
                let from = self
                    .before
                    .as_deref()
                    .map(|c| Position::decode("before", c))
                    .transpose()?;
                Ok(Window {
                    forward: false,
                    size: check("last", n)?,
                    from_list: from.as_ref().map(|(l, _)| (l.clone(), "before")),
                    from: from.map(|(_, p)| p),
                    from_cursor: self.before.is_some(),
                    count_total: self.count_total,
                })
            }
            (first, None) => {
                if self.before.is_some() {
                    return Err(DomainError::invalid(
                        "before",
                        FieldErrorCode::Invalid,
                        "use after with first",
                    ));
                }
                let from = self
                    .after
                    .as_deref()
                    .map(|c| Position::decode("after", c))
                    .transpose()?;
                Ok(Window {
                    forward: true,
                    size: check("first", first.unwrap_or(DEFAULT_PAGE as i64))?,
                    from_list: from.as_ref().map(|(l, _)| (l.clone(), "after")),
                    from: from.map(|(_, p)| p),
                    from_cursor: self.after.is_some(),
                    count_total: self.count_total,
                })
            }
        }
    }
}

impl Window {
    /// Refuses a starting cursor that belongs to another list.
    pub fn check_list(&self, list: &str) -> DomainResult<()> {
        match &self.from_list {
            Some((l, field)) if l != list => Err(not_a_cursor(field)),
            _ => Ok(()),
        }
    }
}

/// How a list is ordered: by a text or time column and then the id, or by the id alone (ids are
/// time-ordered, so that is creation order).
pub enum SortKey<C> {
    Id,
    Text(C),
    /// An instant column; the cursor keeps it as RFC 3339.
    Time(C),
}

/// Reads one page of `select`, ordered by `key` then `id`. `descending` lists newest first.
pub async fn fetch<E, M>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    id: E::Column,
    key: SortKey<E::Column>,
    descending: bool,
    window: &Window,
    position_of: impl Fn(&M) -> Position,
) -> DomainResult<Page<M>>
where
    E: EntityTrait<Model = M>,
    M: FromQueryResult + Sized + Send + Sync,
    E::Column: ColumnTrait + Copy,
{
    let list = E::default().table_name().to_owned();
    window.check_list(&list)?;
    // Reading backwards is reading forwards in the reverse order, then flipping the page.
    let total = if window.count_total {
        Some(select.clone().count(db).await?)
    } else {
        None
    };
    let ascending = window.forward != descending;
    let order = if ascending { Order::Asc } else { Order::Desc };
    let mut select = select;
    if let Some(from) = &window.from {
        let id_value: Value = from.id.into();
        let after_id: SimpleExpr = if ascending {
            Expr::col(id).gt(id_value.clone())
        } else {
            Expr::col(id).lt(id_value.clone())
        };
        let key_value: Option<(E::Column, Value)> = match (&key, &from.key) {
            (SortKey::Text(col), Some(k)) => Some((*col, k.clone().into())),
            (SortKey::Time(col), Some(k)) => {
                let at = chrono::DateTime::parse_from_rfc3339(k)
                    .map_err(|_| {
                        DomainError::invalid("after", FieldErrorCode::Invalid, "is not a cursor from this list")
                    })?
                    .with_timezone(&chrono::Utc);
                Some((*col, at.into()))
            }
            _ => None,
        };
        let condition = match key_value {
            Some((col, k)) => {
                let beyond = if ascending {
                    Expr::col(col).gt(k.clone())
                } else {
                    Expr::col(col).lt(k.clone())
                };
                beyond.or(Expr::col(col).eq(k).and(after_id))
            }
            None => after_id,
        };
        select = select.filter(condition);
    }
    if let SortKey::Text(col) | SortKey::Time(col) = &key {
        select = select.order_by(*col, order.clone());
    }
    let mut rows = select.order_by(id, order).limit(window.size + 1).all(db).await?;
    let more = rows.len() as u64 > window.size;
    rows.truncate(window.size as usize);
    if !window.forward {
        rows.reverse();
    }
    let items = rows.into_iter().map(|m| (position_of(&m).encode(&list), m)).collect();
    Ok(if window.forward {
        Page {
            items,
            has_next_page: more,
            has_previous_page: window.from_cursor,
            total,
        }
    } else {
        Page {
            items,
            has_next_page: window.from_cursor,
            has_previous_page: more,
            total,
        }
    })
}

/// Pages a list that is already in memory (computed results such as free slots), sorted by
/// position (its key, then its id). A cursor is a place in that order, not a row: the page after
/// it starts with whatever comes next now, even if the row it pointed at has gone. `list` names
/// the list in its cursors; a cursor of another list is refused.
pub fn in_memory<T>(
    list: &str,
    all: Vec<T>,
    window: &Window,
    position_of: impl Fn(&T) -> Position,
) -> DomainResult<Page<T>> {
    window.check_list(list)?;
    let positions: Vec<Position> = all.iter().map(&position_of).collect();
    let order = |p: &Position| (p.key.clone(), p.id);
    let start = match (&window.from, window.forward) {
        (Some(from), true) => positions.iter().take_while(|p| order(p) <= order(from)).count(),
        (Some(from), false) => positions.iter().take_while(|p| order(p) < order(from)).count(),
        (None, true) => 0,
        (None, false) => all.len(),
    };
    let size = window.size as usize;
    let (lo, hi) = if window.forward {
        (start, (start + size).min(all.len()))
    } else {
        (start.saturating_sub(size), start)
    };
    let total = Some(all.len() as u64);
    let has_next_page = hi < all.len();
    let has_previous_page = lo > 0;
    let items = all
        .into_iter()
        .zip(positions)
        .skip(lo)
        .take(hi - lo)
        .map(|(t, p)| (p.encode(list), t))
        .collect();
    Ok(Page {
        items,
        has_next_page,
        has_previous_page,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_bounded() {
        assert!(PageRequest::first(0).window().is_err());
        assert!(PageRequest::first(101).window().is_err());
        assert_eq!(PageRequest::first(100).window().unwrap().size, 100);
        assert_eq!(PageRequest::default().window().unwrap().size, DEFAULT_PAGE);
        let both = PageRequest {
            first: Some(1),
            last: Some(1),
            ..Default::default()
        };
        assert!(both.window().is_err());
        let junk = PageRequest {
            after: Some("not a cursor".into()),
            ..Default::default()
        };
        assert!(junk.window().is_err());
    }

    #[test]
    fn an_in_memory_cursor_is_a_place_in_the_order() {
        let pos = |n: &u32| Position {
            key: Some(format!("{n:03}")),
            id: uuid::Uuid::nil(),
        };
        let all: Vec<u32> = (0..10).collect();
        let first = in_memory("n", all, &PageRequest::first(3).window().unwrap(), pos).unwrap();
        let cursor = first.items[2].0.clone();
        // The row the cursor points at (2) is gone; the next page still starts after it.
        let fewer: Vec<u32> = (0..10).filter(|n| *n != 2).collect();
        let next = PageRequest {
            first: Some(3),
            after: Some(cursor),
            ..Default::default()
        };
        let second = in_memory("n", fewer, &next.window().unwrap(), pos).unwrap();
        assert_eq!(second.items.iter().map(|(_, n)| *n).collect::<Vec<_>>(), vec![3, 4, 5]);
    }

    #[test]
    fn a_cursor_belongs_to_its_list() {
        let pos = |n: &u32| Position {
            key: Some(format!("{n:03}")),
            id: uuid::Uuid::nil(),
        };
        let all: Vec<u32> = (0..10).collect();
        let first = in_memory("school", all.clone(), &PageRequest::first(3).window().unwrap(), pos).unwrap();
        let next = PageRequest {
            first: Some(3),
            after: Some(first.items[2].0.clone()),
            ..Default::default()
        };
        let window = next.window().unwrap();
        assert!(in_memory("school", all.clone(), &window, pos).is_ok());
        let err = in_memory("booking", all, &window, pos).unwrap_err();
        assert!(
            matches!(err, DomainError::Invalid(ref p) if p[0].field == ["after"]),
            "{err:?}"
        );
    }

    #[test]
    fn in_memory_pages_walk_both_ways() {
        let all: Vec<u32> = (0..10).collect();
        let pos = |n: &u32| Position {
            key: Some(format!("{n:03}")),
            id: uuid::Uuid::nil(),
        };
        let first = in_memory("n", all.clone(), &PageRequest::first(4).window().unwrap(), pos).unwrap();
        assert_eq!(
            first.items.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        assert!(first.has_next_page && !first.has_previous_page);
        let next = PageRequest {
            first: Some(4),
            after: Some(first.items[3].0.clone()),
            ..Default::default()
        };
        let second = in_memory("n", all.clone(), &next.window().unwrap(), pos).unwrap();
        assert_eq!(
            second.items.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            vec![4, 5, 6, 7]
        );
        let back = PageRequest {
            last: Some(3),
            before: Some(second.items[0].0.clone()),
            ..Default::default()
        };
        let previous = in_memory("n", all, &back.window().unwrap(), pos).unwrap();
        assert_eq!(
            previous.items.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(previous.has_previous_page && previous.has_next_page);
    }
}
