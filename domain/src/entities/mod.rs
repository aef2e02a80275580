//! sea-orm entities, one per table. They are the storage shape only: operations in the area
//! modules read and write them, and nothing outside `domain` sees them.

pub mod consultations;
pub mod platform;
pub mod reflective;
pub mod semh;
pub mod space_to_talk;
pub mod time;

pub use consultations::*;
pub use platform::*;
pub use reflective::*;
pub use semh::*;
pub use space_to_talk::*;
pub use time::*;
