//! Services, schools, people and their memberships, partner clients: who belongs where.

pub mod partners;
pub mod people;
pub mod schools;
pub mod services;
