//! Reflective-team sessions: group reflection for school staff, facilitated by an EP, for one
//! school or a cluster of the service's schools, with a capacity and a waiting list, roles, the
//! presenter's next step, attendance and anonymous feedback. The facilitator's time is one
//! booking of EP time, charged at the hold as the session says.
//!
//! Everything is read and written through the door. Nothing that identifies a pupil is stored:
//! free text is short, and feedback carries no person.

pub mod feedback;
pub mod history;
pub mod moves;
pub mod places;
pub mod series;
pub mod sessions;
pub mod states;
pub mod types;
mod views;

pub use views::{RegistrationView, SessionView, get, my_registrations, registrations_of, sessions_of, upcoming};
