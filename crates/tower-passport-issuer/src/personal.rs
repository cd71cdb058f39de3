//! Personal access tokens (Passport's `createToken`): long-lived, no refresh token. One
//! minted by a token of a refresh family belongs to that family and is revoked with it.

use std::fmt;

use super::{Issuer, IssuerError, Minting, OAuthError};
use crate::store::{AccessTokenRecord, ClientRecord, ClientStore, GrantType, TokenStore};

/// A new personal access token: the token itself (shown once) and its record.
#[derive(Clone)]
pub struct PersonalAccessToken {
    /// The access token (a JWT).
    pub access_token: String,
    /// Its record (`jti` is the id used to list and revoke it).
    pub record: AccessTokenRecord,
}

impl fmt::Debug for PersonalAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonalAccessToken").field("record", &self.record).finish_non_exhaustive()
    }
}

impl Issuer {
    /// Creates a personal access token for `user_id`: a long-lived access token with no
    /// refresh token (Passport's `createToken`).
    ///
    /// # Errors
    /// For an empty name, unknown scopes (`invalid_scope`), or a store failure.
    pub async fn create_personal_access_token(
        &self,
        user_id: &str,
        name: &str,
        scopes: &[String],
    ) -> Result<PersonalAccessToken, IssuerError> {
        self.mint_personal_access_token(user_id, name, scopes, None).await
    }

    /// Creates a personal access token for the user of the access token `caller_jti`, as
    /// the personal-access-token API does for the token that calls it: the user is that
    /// token's, and when that token descends from a refresh family (a login), the new token
    /// belongs to the family too and is revoked with it: by reuse detection, by RFC 7009
    /// revocation of the refresh token, by [`revoke_family`](Self::revoke_family). It can
    /// not outlive the grant that minted it. Check the scopes against the caller's first
    /// ([`ScopeRegistry::within_caller`](super::ScopeRegistry::within_caller)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer, StaticUsers, TokenRequest};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore, RevocationStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .enable_password_grant(StaticUsers::new(1_000).user("ann", "a-password", "7")?)
    ///     .build()?;
    /// let registered = issuer
    ///     .register_client(ClientRegistration::confidential("Web").first_party(true).grants([GrantType::Password, GrantType::RefreshToken]))
    ///     .await?;
    /// let client = issuer.authenticate_client(&registered.client.id, registered.secret.as_ref().map(|s| s.expose())).await?;
    /// let login = issuer.grant(TokenRequest::password(client.clone(), "ann", "a-password")).await?;
    /// let caller = issuer.verifier().verify(&login.access_token)?;
    ///
    /// let personal = issuer.create_personal_access_token_through(caller.jti().unwrap(), "cli", &[]).await?;
    /// assert_eq!(personal.record.user_id.as_deref(), Some("7"));
    /// assert!(personal.record.family_id.is_some(), "it belongs to the login's family");
    ///
    /// // Logging out (revoking the refresh token) takes the personal token with it.
    /// issuer.revoke(&client, login.refresh_token.as_deref().unwrap(), None).await?;
    /// assert!(issuer.store().is_revoked(&personal.record.jti).await?);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// `invalid_grant` when `caller_jti` is not a live user token of this issuer, or its
    /// family was revoked meanwhile; as [`create_personal_access_token`](Self::create_personal_access_token)
    /// otherwise.
    pub async fn create_personal_access_token_through(
        &self,
        caller_jti: &str,
        name: &str,
        scopes: &[String],
    ) -> Result<PersonalAccessToken, IssuerError> {
        let caller = self.inner.store.access_token(caller_jti).await?;
        let now = self.now();
        let caller =
            caller.filter(|record| record.revoked_at.is_none() && record.expires_at > now).ok_or_else(
                || OAuthError::invalid_grant("The calling token is not a live token of this issuer"),
            )?;
        let user_id = caller
            .user_id
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_grant("The calling token is not a user token"))?;
        // Personal access tokens are the default user provider's (their records, like the
        // store's per-user lists, know users by id only): a token of a client with another
        // provider cannot mint one, or customer 5 would get a token of user 5.
        if self.inner.store.client(&caller.client_id).await?.is_some_and(|client| client.provider.is_some()) {
            return Err(OAuthError::invalid_grant(
                "Personal access tokens are for the users of the default user provider",
            )
            .into());
        }
        self.mint_personal_access_token(user_id, name, scopes, caller.family_id.as_deref()).await
    }

    /// Whether a token of `client_id` may use the token-management APIs
    /// ([`IssuerBuilder::token_management_first_party_only`](super::IssuerBuilder::token_management_first_party_only)):
    /// always when the option is off; otherwise only when the client is a known,
    /// first-party, unrevoked one.
    pub(crate) async fn may_manage_tokens(&self, client_id: Option<&str>) -> Result<bool, OAuthError> {
        if !self.inner.first_party_token_management {
            return Ok(true);
        }
        let Some(client_id) = client_id else { return Ok(false) };
        let client = self.inner.store.client(client_id).await?;
        Ok(client.is_some_and(|client| client.first_party && !client.revoked))
    }

    async fn mint_personal_access_token(
        &self,
        user_id: &str,
        name: &str,
        scopes: &[String],
        family_id: Option<&str>,
    ) -> Result<PersonalAccessToken, IssuerError> {
        if name.trim().is_empty() || name.len() > 255 {
            return Err(OAuthError::invalid_request(
                "A personal access token needs a name of 1 to 255 characters",
            )
            .into());
        }
        let client = self.personal_access_client().await?;
        let requested = scopes.join(" ");
        let scopes = self.inner.scopes.resolve(Some(&requested), GrantType::PersonalAccess, Some(&client))?;
        let grant = Minting {
            client_id: &client.id,
            user_id: Some(user_id),
            // The default provider's users only (see `create_personal_access_token_through`).
            provider: None,
            scopes: &scopes,
            audiences: &self.inner.audiences,
            ttl: self.inner.personal_ttl,
            dpop_jkt: None,
        };
        let minted = self.mint(&grant)?;
        let mut record = Self::access_record(&grant, &minted.planned, family_id);
        record.personal = true;
        record.name = Some(name.to_owned());
        match self.inner.store.put_access_token(record.clone()).await {
            // The store refuses a family that was revoked since the caller was checked.
            Err(error) if error.is_conflict() && family_id.is_some() => {
                return Err(
                    OAuthError::invalid_grant("The grant the calling token belongs to was revoked").into()
                );
            }
            stored => stored?,
        }
        self.emit_access(&minted.planned, &client.id, Some(user_id));
        Ok(PersonalAccessToken { access_token: minted.token, record })
    }

    /// The personal access client, created if it does not exist yet: what
    /// `passport install` (and `passport client --personal`) ensures. Idempotent.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let first = issuer.ensure_personal_access_client().await?;
    /// let again = issuer.ensure_personal_access_client().await?;
    /// assert_eq!((first.id.as_str(), again.id.as_str()), ("personal-access-client", "personal-access-client"));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails, or the personal access client was revoked.
    pub async fn ensure_personal_access_client(&self) -> Result<ClientRecord, IssuerError> {
        self.personal_access_client().await
    }

    async fn personal_access_client(&self) -> Result<ClientRecord, IssuerError> {
        let id = &self.inner.personal_client_id;
        if let Some(client) = self.inner.store.client(id).await? {
            if client.revoked {
                return Err(OAuthError::unauthorized_client("The personal access client is revoked").into());
            }
            return Ok(client);
        }
        let client = ClientRecord {
            id: id.clone(),
            name: "Personal Access Client".into(),
            secret_hash: None,
            grants: vec![GrantType::PersonalAccess],
            allowed_scopes: None,
            first_party: true,
            skips_authorization: false,
            revoked: false,
            created_at: self.now(),
            redirect_uris: Vec::new(),
            owner: None,
            require_pkce: true,
            provider: None,
            allowed_resources: None,
        };
        self.inner.store.put_client(client.clone()).await?;
        Ok(client)
    }

    /// A user's personal access tokens, newest first.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn personal_access_tokens(&self, user_id: &str) -> Result<Vec<AccessTokenRecord>, IssuerError> {
        Ok(self.inner.store.personal_access_tokens(user_id).await?)
    }

    /// Revokes one of `user_id`'s personal access tokens; `false` if it is not theirs.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn revoke_personal_access_token(&self, user_id: &str, jti: &str) -> Result<bool, IssuerError> {
        let record = self.inner.store.access_token(jti).await?;
        match record {
            Some(record) if record.personal && record.user_id.as_deref() == Some(user_id) => {
                self.revoke_access(&record).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
