//! RFC 7662 token introspection.

use serde::Serialize;

use super::clients::AuthenticatedClient;
use super::secrets;
use super::{Issuer, OAuthError, TokenTypeHint};
use crate::store::{ClientStore, TokenStore};

/// An RFC 7662 §2.2 introspection answer. An inactive token answers exactly
/// `{"active":false}`: every other member is left out.
///
/// ```
/// use tower_passport_issuer::Introspection;
/// assert_eq!(serde_json::to_string(&Introspection::inactive()).unwrap(), r#"{"active":false}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Introspection {
    /// Whether the token is active.
    pub active: bool,
    /// `Bearer` for an access token (RFC 7662 §2.2 means the RFC 6749 §7.1 token type);
    /// absent for a refresh token, which has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// The granted scopes, space-delimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The subject (the user, or the client for client-credentials tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Expiry (seconds since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Issue time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// The issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The audiences (access tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Vec<String>>,
    /// The token id (access tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Introspection {
    /// The answer for an inactive, unknown, expired or revoked token.
    pub fn inactive() -> Self {
        Self::default()
    }
}

impl Issuer {
    /// RFC 7662 introspection by an authenticated client. Inactive, unknown, expired,
    /// revoked (or another client's refresh token) answers exactly `{"active":false}`.
    ///
    /// # Errors
    /// 503 when the store fails.
    pub async fn introspect(
        &self,
        client: &AuthenticatedClient,
        token: &str,
        hint: Option<TokenTypeHint>,
    ) -> Result<Introspection, OAuthError> {
        let answer = if hint == Some(TokenTypeHint::RefreshToken) {
            match self.introspect_refresh(client, token).await? {
                Some(answer) => Some(answer),
                None => self.introspect_access(token).await?,
            }
        } else {
            match self.introspect_access(token).await? {
                Some(answer) => Some(answer),
                None => self.introspect_refresh(client, token).await?,
            }
        };
        Ok(answer.unwrap_or_else(Introspection::inactive))
    }

    async fn introspect_access(&self, token: &str) -> Result<Option<Introspection>, OAuthError> {
        let now = self.now();
        let Ok(verified) = self.verifier().verify_uncached(token, now) else { return Ok(None) };
        // The verifier allows clock skew; introspection answers for this server's clock
        // (RFC 7662 §2.2: an expired token is not active).
        if now >= verified.expires_at() {
            return Ok(None);
        }
        if let Some(jti) = verified.jti() {
            if self.inner.revocations.is_revoked(jti).await? {
                return Ok(None);
            }
        }
        // A revoked client's tokens are refused by the guard; introspection agrees.
        if let Some(client_id) = verified.client_id() {
            match self.inner.store.client(client_id).await? {
                Some(client) if !client.revoked => {}
                _ => return Ok(None),
            }
        }
        Ok(Some(Introspection {
            active: true,
            // RFC 7662 §2.2: `token_type` is the RFC 6749 §7.1 type of the token.
            token_type: Some("Bearer"),
            scope: Some(verified.scopes().to_string()),
            client_id: verified.client_id().map(str::to_owned),
            sub: verified.subject().map(str::to_owned),
            exp: Some(verified.expires_at()),
            iat: verified.issued_at(),
            iss: Some(verified.issuer().to_owned()),
            aud: Some(verified.audience().map(str::to_owned).collect()),
            jti: verified.jti().map(str::to_owned),
        }))
    }

    async fn introspect_refresh(
        &self,
        client: &AuthenticatedClient,
        token: &str,
    ) -> Result<Option<Introspection>, OAuthError> {
        let Some((id, hash)) = secrets::parse_refresh_token(token) else { return Ok(None) };
        let Some(record) = self.inner.store.refresh_token(id).await? else { return Ok(None) };
        let now = self.now();
        let family_live = match self.inner.store.family(&record.family_id).await? {
            Some(family) => family.revoked_at.is_none(),
            None => false,
        };
        let active = record.secret_hash.ct_eq(&hash)
            && record.client_id == client.id
            && record.used_at.is_none()
            && record.revoked_at.is_none()
            && record.expires_at > now
            && family_live;
        if !active {
            return Ok(None);
        }
        Ok(Some(Introspection {
            active: true,
            scope: Some(record.scopes.join(" ")),
            client_id: Some(record.client_id),
            sub: record.user_id,
            exp: Some(record.expires_at),
            iat: Some(record.issued_at),
            iss: Some(self.inner.issuer.clone()),
            ..Introspection::default()
        }))
    }
}
