//! Partner clients: front-ends that call the API with their own credentials.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use domain::DomainError;
use domain::tenancy::partners;

use crate::graphql::context;
use crate::graphql::enums::{self, PartnerClientStatus, PartnerScope};
use crate::graphql::errors::{OrGraphql, payload_of};
use crate::graphql::ids;
use crate::graphql::page::{self, Conn};

/// A partner front-end that calls the API with its own credentials.
pub struct PartnerClient(pub partners::PartnerClient);

#[Object]
impl PartnerClient {
    pub async fn id(&self) -> ID {
        ids::encode("PartnerClient", self.0.row.id)
    }
    async fn name(&self) -> &str {
        &self.0.row.name
    }
    /// The client id to use with `/oauth/token`.
    async fn client_id(&self) -> &str {
        &self.0.row.client_id
    }
    async fn scopes(&self) -> Vec<PartnerScope> {
        self.0.scopes().into_iter().map(Into::into).collect()
    }
    /// The schools the client is limited to; null when it may see all of the service's.
    async fn school_ids(&self) -> Option<Vec<ID>> {
        self.0
            .schools
            .as_ref()
            .map(|s| s.iter().map(|id| ids::encode("School", *id)).collect())
    }
    async fn status(&self) -> PartnerClientStatus {
        self.0.row.status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
    async fn secret_rotated_at(&self) -> DateTime<Utc> {
        self.0.row.secret_rotated_at
    }
}

#[derive(InputObject)]
pub struct CreatePartnerClientInput {
    pub service_id: ID,
    pub name: String,
    pub scopes: Vec<PartnerScope>,
    /// Limit the client to these schools; leave out for all of the service's.
    pub school_ids: Option<Vec<ID>>,
}

#[derive(InputObject)]
pub struct RotatePartnerClientSecretInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct UpdatePartnerClientInput {
    pub id: ID,
    pub name: Option<String>,
    pub scopes: Option<Vec<PartnerScope>>,
    /// A list limits the client to those schools; null lifts the limit; absent leaves it.
    pub school_ids: MaybeUndefined<Vec<ID>>,
    pub status: Option<PartnerClientStatus>,
}

payload!(UpdatePartnerClientPayload {
    partner_client: PartnerClient
});

/// A partner client with its secret, which is shown only now.
#[derive(SimpleObject)]
pub struct PartnerClientCredentials {
    pub partner_client: PartnerClient,
    pub client_id: String,
    /// Store it safely: it cannot be shown again, only rotated.
    pub client_secret: String,
}

payload!(CreatePartnerClientPayload {
    credentials: PartnerClientCredentials
});

payload!(RotatePartnerClientSecretPayload {
    credentials: PartnerClientCredentials
});

fn credentials(issued: partners::Issued) -> PartnerClientCredentials {
    PartnerClientCredentials {
        client_id: issued.client.row.client_id.clone(),
        client_secret: issued.client_secret,
        partner_client: PartnerClient(issued.client),
    }
}

#[derive(Default)]
pub struct PartnersQuery;

#[Object]
impl PartnersQuery {
    /// A service's partner clients (administrators).
    #[graphql(complexity = "crate::graphql::page_cost(first, last, child_complexity)")]
    async fn partner_clients(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<PartnerClient>> {
        let c = context::of(ctx)?;
        let service = ids::expect("serviceId", "Service", &service_id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let rows = partners::list(
            c.db(),
            c.caller()?,
            service,
            &page::request(ctx, first, after, last, before),
        )
        .await
        .or_gql(c)?;
        Ok(page::connection(rows, PartnerClient))
    }
}

#[derive(Default)]
pub struct PartnersMutation;

#[Object]
impl PartnersMutation {
    /// Creates a partner client; its secret is in the payload, once.
    async fn create_partner_client(
        &self,
        ctx: &Context<'_>,
        input: CreatePartnerClientInput,
    ) -> Result<CreatePartnerClientPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let result = async {
            let client = partners::NewClient {
                service_id: ids::expect("serviceId", "Service", &input.service_id)?,
                name: input.name,
                scopes: enums::all(&input.scopes),
                school_ids: input
                    .school_ids
                    .as_deref()
                    .map(|s| ids::expect_all("schoolIds", "School", s))
                    .transpose()?,
            };
            partners::create(c.db(), caller, client).await
        }
        .await;
        Ok(payload_of(c, result, credentials)?.into())
    }

    /// Issues a new secret; the old one and its tokens stop working at once.
    async fn rotate_partner_client_secret(
        &self,
        ctx: &Context<'_>,
        input: RotatePartnerClientSecretInput,
    ) -> Result<RotatePartnerClientSecretPayload> {
        let c = context::of(ctx)?;
        let id = ids::expect("id", "PartnerClient", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        Ok(payload_of(c, partners::rotate_secret(c.db(), c.caller()?, id).await, credentials)?.into())
    }

    async fn update_partner_client(
        &self,
        ctx: &Context<'_>,
        input: UpdatePartnerClientInput,
    ) -> Result<UpdatePartnerClientPayload> {
        let c = context::of(ctx)?;
        let caller = c.caller()?;
        let id = ids::expect("id", "PartnerClient", &input.id)
            .map_err(|_| DomainError::NotFound)
            .or_gql(c)?;
        let result = async {
            let school_ids = match input.school_ids {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(list) => Some(Some(ids::expect_all("schoolIds", "School", &list)?)),
            };
            let patch = partners::ClientPatch {
                name: input.name,
                scopes: input.scopes.map(|s| enums::all(&s)),
                school_ids,
                status: input.status.map(Into::into),
            };
            partners::update(c.db(), caller, id, patch).await
        }
        .await;
        Ok(payload_of(c, result, PartnerClient)?.into())
    }
}
