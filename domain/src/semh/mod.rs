//! SEMH audits: a school's whole-school self-evaluation of its social, emotional and mental
//! health provision against a versioned template, its action plan, and the picture across the
//! service's schools.
//!
//! A template version (sections, items, a rating scale) is data; a published version never
//! changes, and a new version links to the one it revises and says which items carry over, so
//! rounds on versions of one lineage compare item by item. A round is one school's completion of
//! one published version: individual staff, named groups and the tables of a whole-staff session
//! (through a per-table link) respond; the lead records the consensus and submits, which locks
//! the round. Everything is read and written through the door; nothing about a pupil is held.

pub mod actions;
pub mod picture;
pub mod results;
pub mod rounds;
pub mod starters;
pub mod states;
pub mod tables;
pub mod templates;

pub use rounds::RoundView;
pub use templates::{ScalePoint, TemplateView};

/// The fewest schools, or respondents, a figure of the service's picture may stand for.
pub const SMALLEST_GROUP: usize = 5;
