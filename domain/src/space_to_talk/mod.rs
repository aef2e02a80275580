//! Space to Talk: short, confidential sessions in which a parent or carer talks with an EP.
//!
//! An EP (or an administrator) publishes a run of slots at one school, several, or the whole
//! service; each slot holds a booking of EP time under the EP-time rules, so nothing else can
//! take that time. A SENCO books a parent into a free slot with the least data that works, or
//! gives parents the school's booking link (a token, stored as a digest, that expires and can be
//! revoked); a parent who books through it gets a manage link for their booking alone. Taking a
//! slot is one conditional update of the slot, so two parents racing for it cannot both win.
//!
//! The record is minimal: attended or not, a safeguarding flag and an onward-referral flag. A
//! parent's name and contact details are special-care data: reads are in the audit log, and
//! they never reach logs, calendar titles or partner clients.

pub mod booking;
pub mod links;
pub mod runs;
pub mod settings;
pub mod states;
mod views;

pub use views::{
    BookingView, Figures, SlotView, attendance_figures, free_slot_count, free_slots, get_booking, get_run, upcoming,
};
