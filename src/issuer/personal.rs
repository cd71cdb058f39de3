//! Personal access tokens (Passport's `createToken`): long-lived, no refresh token.

use std::fmt;

use super::{Grant, Issuer, OAuthError};
use crate::store::{AccessTokenRecord, ClientRecord, GrantType, Store};

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

impl<S: Store> Issuer<S> {
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
    ) -> Result<PersonalAccessToken, OAuthError> {
        if name.trim().is_empty() || name.len() > 255 {
            return Err(OAuthError::invalid_request(
                "A personal access token needs a name of 1 to 255 characters",
            ));
        }
        let client = self.personal_access_client().await?;
        let requested = scopes.join(" ");
        let scopes = self.inner.scopes.resolve(Some(&requested), GrantType::PersonalAccess, Some(&client))?;
        let grant = Grant {
            client_id: &client.id,
            user_id: Some(user_id),
            scopes: &scopes,
            ttl: self.inner.personal_ttl,
        };
        let minted = self.mint(&grant)?;
        let mut record = Self::access_record(&grant, &minted, None);
        record.personal = true;
        record.name = Some(name.to_owned());
        self.inner.store.put_access_token(record.clone()).await?;
        self.emit_access(&minted, &client.id, Some(user_id));
        Ok(PersonalAccessToken { access_token: minted.token, record })
    }

    async fn personal_access_client(&self) -> Result<ClientRecord, OAuthError> {
        let id = &self.inner.personal_client_id;
        if let Some(client) = self.inner.store.client(id).await? {
            if client.revoked {
                return Err(OAuthError::unauthorized_client("The personal access client is revoked"));
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
            revoked: false,
            created_at: self.now(),
            redirect_uris: Vec::new(),
            owner: None,
            require_pkce: true,
        };
        self.inner.store.put_client(client.clone()).await?;
        Ok(client)
    }

    /// A user's personal access tokens, newest first.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn personal_access_tokens(&self, user_id: &str) -> Result<Vec<AccessTokenRecord>, OAuthError> {
        Ok(self.inner.store.personal_access_tokens(user_id).await?)
    }

    /// Revokes one of `user_id`'s personal access tokens; `false` if it is not theirs.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn revoke_personal_access_token(&self, user_id: &str, jti: &str) -> Result<bool, OAuthError> {
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
