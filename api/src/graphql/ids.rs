//! Global ids: opaque to clients, they name the type and the row (`base64url("School:<uuid>")`).
//! Decoding checks the type; loading through `domain` checks the tenant.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use domain::{DomainError, FieldErrorCode};

pub fn encode(kind: &str, id: impl Into<Uuid>) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{kind}:{}", id.into().simple())))
}

/// The type name and row id inside a global id, if it is one.
pub fn decode(id: &str) -> Option<(String, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, uuid) = text.split_once(':')?;
    Some((kind.to_owned(), Uuid::parse_str(uuid).ok()?))
}

/// The row id of a global id that must name a `kind`; anything else is a field error.
pub fn expect<T: From<Uuid>>(field: &str, kind: &str, id: &ID) -> Result<T, DomainError> {
    match decode(id) {
        Some((k, uuid)) if k == kind => Ok(T::from(uuid)),
        _ => Err(DomainError::invalid(
            field,
            FieldErrorCode::Invalid,
            format!("is not the id of a {kind}"),
        )),
    }
}

/// The row id of a global id of any type; anything else is a field error.
pub fn any_kind(field: &str, id: &ID) -> Result<Uuid, DomainError> {
    decode(id)
        .map(|(_, uuid)| uuid)
        .ok_or_else(|| DomainError::invalid(field, FieldErrorCode::Invalid, "is not an id"))
}

/// Like [`expect`] for an optional id.
pub fn expect_opt<T: From<Uuid>>(field: &str, kind: &str, id: Option<&ID>) -> Result<Option<T>, DomainError> {
    id.map(|i| expect(field, kind, i)).transpose()
}

/// Like [`expect`] for a list of ids.
pub fn expect_all<T: From<Uuid>>(field: &str, kind: &str, ids: &[ID]) -> Result<Vec<T>, DomainError> {
    ids.iter().map(|i| expect(field, kind, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_carry_their_type() {
        let uuid = Uuid::now_v7();
        let id = encode("School", uuid);
        assert_eq!(decode(&id), Some(("School".to_owned(), uuid)));
        assert!(expect::<Uuid>("id", "School", &id).is_ok());
        assert!(expect::<Uuid>("id", "Person", &id).is_err());
        assert!(decode("not-an-id").is_none());
    }
}
