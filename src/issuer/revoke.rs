//! Revocation: RFC 7009, families, single access tokens.

use super::clients::AuthenticatedClient;
use super::events::IssuerEvent;
use super::secrets;
use super::{Issuer, OAuthError, TokenTypeHint};
use crate::store::{AccessTokenRecord, RevokedAccess, Store};

impl<S: Store> Issuer<S> {
    pub(super) async fn revoke_access(&self, record: &AccessTokenRecord) -> Result<(), OAuthError> {
        let now = self.now();
        self.inner.store.revoke_access_token(&record.jti, now).await?;
        self.record_revoked(&[RevokedAccess { jti: record.jti.clone(), expires_at: record.expires_at }]);
        Ok(())
    }

    /// Revokes a refresh-token family with every access token in it.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn revoke_family(&self, family_id: &str) -> Result<(), OAuthError> {
        let revoked = self.inner.store.revoke_family(family_id, self.now()).await?;
        self.record_revoked(&revoked);
        self.emit(IssuerEvent::FamilyRevoked { family_id: family_id.to_owned() });
        Ok(())
    }

    /// RFC 7009 revocation by `client`. A refresh token takes its family (and the
    /// family's access tokens) with it. Unknown or invalid tokens are not an error.
    ///
    /// # Errors
    /// `unauthorized_client` when the token belongs to another client; 503.
    pub async fn revoke(
        &self,
        client: &AuthenticatedClient,
        token: &str,
        hint: Option<TokenTypeHint>,
    ) -> Result<(), OAuthError> {
        let try_refresh_first = hint != Some(TokenTypeHint::AccessToken);
        if try_refresh_first {
            if self.revoke_refresh(client, token).await? {
                return Ok(());
            }
            self.revoke_access_token(client, token).await.map(|_| ())
        } else {
            if self.revoke_access_token(client, token).await? {
                return Ok(());
            }
            self.revoke_refresh(client, token).await.map(|_| ())
        }
    }

    async fn revoke_refresh(&self, client: &AuthenticatedClient, token: &str) -> Result<bool, OAuthError> {
        let Some((id, hash)) = secrets::parse_refresh_token(token) else { return Ok(false) };
        let Some(record) = self.inner.store.refresh_token(id).await? else { return Ok(false) };
        if !record.secret_hash.ct_eq(&hash) {
            return Ok(false);
        }
        if record.client_id != client.id {
            return Err(OAuthError::unauthorized_client("The token was issued to another client"));
        }
        self.revoke_family(&record.family_id).await?;
        Ok(true)
    }

    async fn revoke_access_token(
        &self,
        client: &AuthenticatedClient,
        token: &str,
    ) -> Result<bool, OAuthError> {
        let verifier = self.verifier();
        // Expired tokens need no revocation; anything that does not verify is unknown.
        let Ok(verified) = verifier.verify_uncached(token, self.now()) else { return Ok(false) };
        let Some(jti) = verified.jti() else { return Ok(false) };
        let Some(record) = self.inner.store.access_token(jti).await? else { return Ok(false) };
        if record.client_id != client.id {
            return Err(OAuthError::unauthorized_client("The token was issued to another client"));
        }
        self.revoke_access(&record).await?;
        Ok(true)
    }
}
