//! The rules of a schools and community psychology service.
//!
//! Operations take the verified [`access::Principal`] first (inside a [`Caller`]) and scope
//! every query to what it may reach; another tenant's object is [`error::DomainError::NotFound`].
//! This crate knows nothing of HTTP, GraphQL or tokens.

pub mod access;
pub mod entities;
pub mod error;
pub mod ids;
pub mod model;
pub mod secrets;
pub mod values;

pub use error::{DomainError, DomainResult, FieldError, FieldErrorCode};
pub mod audit;
pub mod consultations;
pub mod db;
pub mod door;
pub mod identity;
pub mod page;
pub mod reflective;
pub mod semh;
pub mod space_to_talk;
pub mod tenancy;
pub mod time;
