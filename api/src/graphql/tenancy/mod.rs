//! Services, schools, people, memberships, partner clients, the audit log, and the `Node`
//! interface over every object with a global id.

mod audit;
mod node;
mod partners;
mod people;
mod schools;
mod services;
mod viewer;

use async_graphql::MergedObject;

pub use audit::AuditEvent;
pub use node::{Node, load_node};
pub use partners::PartnerClient;
pub use people::{Membership, Person};
pub use schools::School;
pub use services::Service;
pub use viewer::Viewer;

#[derive(MergedObject, Default)]
pub struct TenancyQuery(
    node::NodeQuery,
    viewer::ViewerQuery,
    services::ServicesQuery,
    schools::SchoolsQuery,
    people::PeopleQuery,
    partners::PartnersQuery,
    audit::AuditQuery,
);

#[derive(MergedObject, Default)]
pub struct TenancyMutation(
    schools::SchoolsMutation,
    services::ServicesMutation,
    people::PeopleMutation,
    partners::PartnersMutation,
);
