//! Tables of the platform: services, schools, people, memberships, partner clients, sessions
//! and the audit log.

/// Declares an entity with no relations (queries join explicitly where they need to).
macro_rules! entity {
    ($module:ident, $table:literal, { $($field:tt)* }) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;
            #[allow(unused_imports)]
            use crate::ids::*;
            #[allow(unused_imports)]
            use crate::model::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model { $($field)* }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}
pub(crate) use entity;

entity!(service, "services", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ServiceId,
    pub name: String,
    pub time_zone: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Changed by the database whenever the service's calendar changes (see `time::Calendar`).
    pub calendar_stamp: i64,
});

entity!(school, "schools", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SchoolId,
    pub service_id: ServiceId,
    pub name: String,
    pub urn: String,
    pub phase: Phase,
    pub status: SchoolStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
});

entity!(person, "people", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PersonId,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub status: PersonStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
    pub last_sign_in_at: Option<DateTimeUtc>,
});

entity!(membership, "memberships", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: MembershipId,
    pub person_id: PersonId,
    pub service_id: ServiceId,
    pub school_id: Option<SchoolId>,
    pub role: crate::access::Role,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<PersonId>,
});

entity!(invitation, "invitations", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: InvitationId,
    pub person_id: PersonId,
    pub service_id: ServiceId,
    pub token_digest: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
    pub expires_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
});

entity!(partner_client, "partner_clients", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PartnerClientId,
    pub service_id: ServiceId,
    pub name: String,
    pub client_id: String,
    pub secret_digest: String,
    pub secret_version: i32,
    pub scopes: String,
    pub limited_to_schools: bool,
    pub status: PartnerClientStatus,
    pub created_at: DateTimeUtc,
    pub created_by: Option<PersonId>,
    pub updated_at: DateTimeUtc,
    pub secret_rotated_at: DateTimeUtc,
});

entity!(partner_client_school, "partner_client_schools", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_client_id: PartnerClientId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_id: SchoolId,
    pub service_id: ServiceId,
});

entity!(session, "sessions", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SessionId,
    pub person_id: PersonId,
    pub method: SignInMethod,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
});

entity!(refresh_token, "refresh_tokens", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: RefreshTokenId,
    pub session_id: SessionId,
    pub token_digest: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
});

entity!(audit_event, "audit_events", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: AuditEventId,
    pub service_id: Option<ServiceId>,
    pub school_id: Option<SchoolId>,
    pub actor_kind: ActorKind,
    pub actor_person_id: Option<PersonId>,
    pub partner_client_id: Option<PartnerClientId>,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<uuid::Uuid>,
    pub request_id: Option<String>,
    pub occurred_at: DateTimeUtc,
    pub detail: Option<String>,
});
