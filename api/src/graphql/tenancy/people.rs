//! People, their memberships, invitations and grants.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::DomainError;
use domain::entities::{membership, person};
use domain::tenancy::people;

use super::schools::School;
use super::services::Service;
use crate::graphql::context;
use crate::graphql::enums::{PersonStatus, Role};
use crate::graphql::errors::{OrGraphql, payload_of};
use crate::graphql::ids;
use crate::graphql::loaders;
use crate::graphql::page::{self, Conn};

/// Someone who signs in: an EP, an administrator, a SENCO, a school leader, a member of staff.
pub struct Person(pub person::Model);

#[Object]
impl Person {
    pub async fn id(&self) -> ID {
        ids::encode("Person", self.0.id)
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn status(&self) -> PersonStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_sign_in_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_sign_in_at
    }
    /// Roles this person holds, where the caller can see them.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let c = context::of(ctx)?;
        let rows = people::memberships_of(c.db(), c.caller()?, self.0.id).await.or_gql(c)?;
        Ok(rows.into_iter().map(Membership).collect())
    }
}

/// A role held by a person in a service, or in one school of it.
pub struct Membership(pub membership::Model);

#[Object]
impl Membership {
    pub async fn id(&self) -> ID {
        ids::encode("Membership", self.0.id)
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn service(&self, ctx: &Context<'_>) -> Result<Option<Service>> {
        Ok(loaders::service(ctx, Some(self.0.service_id)).await?.map(Service))
    }
    /// The school, for a school role.
    async fn school(&self, ctx: &Context<'_>) -> Result<Option<School>> {
        Ok(loaders::school(ctx, self.0.school_id).await?.map(School))
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(loaders::person(ctx, Some(self.0.person_id)).await?.map(Person))
    }
}

#[derive(InputObject, Default)]
pub struct PeopleFilter {
    pub service_id: Option<ID>,
    pub school_id: Option<ID>,
    pub role: Option<Role>,
    /// Part of the display name, any case.
    pub name: Option<String>,
}

#[derive(InputObject)]
pub struct InvitePersonInput {
    pub service_id: ID,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Required for school roles (SENCO, SCHOOL_LEADER, SCHOOL_STAFF).
    pub school_id: Option<ID>,
}

#[derive(InputObject)]
pub struct GrantMembershipInput {
    pub person_id: ID,
    pub service_id: ID,
    pub role: Role,
    pub school_id: Option<ID>,
}

#[derive(InputObject)]
pub struct RevokeMembershipInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct SetPersonDisabledInput {
    pub service_id: ID,
    pub person_id: ID,
    /// True disables the account (ending every session); false enables it again.
    pub disabled: bool,
}

payload!(GrantMembershipPayload { membership: Membership });

payload!(RevokeMembershipPayload { membership: Membership });

payload!(SetPersonDisabledPayload { person: Person });

/// The result of an invitation.
#[derive(SimpleObject)]
pub struct Invitation {
    pub person: Person,
    pub membership: Membership,
    /// A one-time code for the person to set a password with `acceptInvitation`; shown only
    /// now, and only for someone who has never signed in.
    pub code: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

payload!(InvitePersonPayload { invitation: Invitation });

#[derive(Default)]
pub struct PeopleQuery;

#[Object]
impl PeopleQuery {
    /// People the caller can see, by name.
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        filter: Option<PeopleFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Person>> {
        let c = context::of(ctx)?;
        let f = filter.unwrap_or_default();
        let filter = people::Filter {
            service_id: ids::expect_opt("filter.serviceId", "Service", f.service_id.as_ref()).or_gql(c)?,
            school_id: ids::expect_opt("filter.schoolId", "School", f.school_id.as_ref()).or_gql(c)?,
            role: f.role.map(Into::into),
            name: f.name,
        };
        let rows = people::list(
            c.db(),
            c.caller()?,
            filter,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, Person))
    }
}

#[derive(Default)]
pub struct PeopleMutation;

#[Object]
impl PeopleMutation {
    /// Invites someone into the service with a role; new accounts get a one-time code.
    async fn invite_person(&self, ctx: &Context<'_>, input: InvitePersonInput) -> Result<InvitePersonPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let service_id = ids::expect("serviceId", "Service", &input.service_id)?;
            let school_id = ids::expect_opt("schoolId", "School", input.school_id.as_ref())?;
            people::invite(
                c.db(),
                caller,
                people::Invite {
                    service_id,
                    email: input.email,
                    display_name: input.display_name,
                    role: input.role.into(),
                    school_id,
                },
            )
            .await
        }
        .await;
        Ok(payload_of(c, result, |i| Invitation {
            person: Person(i.person),
            membership: Membership(i.membership),
            code: i.invitation_code,
            expires_at: i.invitation_expires_at,
        })?
        .into())
    }

    async fn grant_membership(&self, ctx: &Context<'_>, input: GrantMembershipInput) -> Result<GrantMembershipPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let grant = people::Grant {
                person_id: ids::expect("personId", "Person", &input.person_id)?,
                service_id: ids::expect("serviceId", "Service", &input.service_id)?,
                role: input.role.into(),
                school_id: ids::expect_opt("schoolId", "School", input.school_id.as_ref())?,
            };
            people::grant(c.db(), caller, grant).await
        }
        .await;
        Ok(payload_of(c, result, Membership)?.into())
    }

    async fn revoke_membership(
        &self,
        ctx: &Context<'_>,
        input: RevokeMembershipInput,
    ) -> Result<RevokeMembershipPayload> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "Membership", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        Ok(payload_of(c, people::revoke(c.db(), c.caller()?, id).await, Membership)?.into())
    }

    /// Disables an account (every session ends at once) or enables it again.
    async fn set_person_disabled(
        &self,
        ctx: &Context<'_>,
        input: SetPersonDisabledInput,
    ) -> Result<SetPersonDisabledPayload> {
        let c = context::of(ctx)?;
        let service = ids::expect("serviceId", "Service", &input.service_id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let person = ids::expect("personId", "Person", &input.person_id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        Ok(payload_of(
            c,
            people::set_disabled(c.db(), c.caller()?, service, person, input.disabled).await,
            Person,
        )?
        .into())
    }
}
