//! The authorization code exchange at the token endpoint (RFC 6749 §4.1.3, RFC 7636
//! §4.6): a code is taken once, atomically; a second presentation fails and revokes what
//! the first one issued.
//!
//! The race between the exchange that wins and a second presentation is closed by a
//! handshake through the store, both halves atomic: the winner takes the code, issues the
//! tokens, then records what it issued with [`CodeStore::record_code_issue`], which also
//! answers whether a reuse was seen meanwhile; a reuse marks the code (`reused_at`) in its
//! own take and revokes what is recorded. Whichever of the two store calls comes second
//! sees the other's write, so the tokens are revoked either way: by the reuse, if the
//! winner recorded first; by the winner itself, if the reuse came first.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::clients::AuthenticatedClient;
use super::{pkce, Issuer, OAuthError, OAuthErrorCode, TokenResponse};
use crate::store::{
    AuthorizationCodeRecord, CodeRedemption, CodeStore, GrantType, IssuedFromCode, SecretHash, TokenStore,
};

/// The longest code looked up: ours are 43 characters.
const MAX_CODE_LEN: usize = 256;

impl Issuer {
    /// The authorization code grant: exchanges `code` for an access token and, if the
    /// client may refresh, a refresh token (rotated like every other). `redirect_uri` must
    /// repeat the authorization request's, and `code_verifier` must answer its PKCE
    /// challenge. A code works once: presenting it again fails and revokes every token
    /// issued from it (RFC 6749 §4.1.2).
    ///
    /// # Errors
    /// `unauthorized_client` if the client may not use the grant; `invalid_grant` for an
    /// unknown, expired or used code, a code of another client, another redirect URI, or a
    /// missing or wrong verifier (or a verifier for a code that had no challenge, RFC 9700
    /// §4.8.2); 503 when the store fails.
    pub(crate) async fn authorization_code_grant(
        &self,
        client: &AuthenticatedClient,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        dpop_jkt: Option<&str>,
        resources: &[String],
    ) -> Result<TokenResponse, OAuthError> {
        Self::require_grant(client, GrantType::AuthorizationCode)?;
        let invalid = || OAuthError::invalid_grant("The authorization code is invalid or expired");
        if code.len() > MAX_CODE_LEN {
            return Err(invalid());
        }
        let hash = SecretHash::of(code.as_bytes());
        let code = match self.inner.store.take_code(&hash, self.now()).await? {
            CodeRedemption::Fresh(code) => code,
            CodeRedemption::Invalid => return Err(invalid()),
            CodeRedemption::Reused(code) => {
                tracing::warn!(client_id = %code.client_id, "authorization code reuse detected; its tokens are revoked");
                if let Some(issued) = &code.issued {
                    self.revoke_issued(issued).await?;
                }
                return Err(reused());
            }
        };
        check_binding(&code, client, redirect_uri, code_verifier)?;
        check_dpop_binding(&code, dpop_jkt)?;
        // RFC 8707 §2.2: the token request may narrow the audience within the code's.
        let targets = self.kept_grant_targets(client.record(), &code.resources, resources)?;
        let tokens =
            self.issue_with_refresh(client.record(), &code.user_id, &code.scopes, &targets, dpop_jkt).await?;
        let issued = self.issued_with(&tokens.access_token).await?;
        if self.inner.store.record_code_issue(&hash, issued.clone()).await? {
            tracing::warn!(client_id = %code.client_id, "authorization code reused during its exchange; its tokens are revoked");
            self.revoke_issued(&issued).await?;
            return Err(reused());
        }
        Ok(tokens)
    }

    /// What `access_token` (just issued) belongs to: its `jti` and its refresh family.
    async fn issued_with(&self, access_token: &str) -> Result<IssuedFromCode, OAuthError> {
        #[derive(Deserialize)]
        struct Jti {
            jti: String,
        }
        let unreadable =
            || OAuthError::new(OAuthErrorCode::ServerError, "The issued token could not be read");
        let payload = access_token.split('.').nth(1).ok_or_else(unreadable)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| unreadable())?;
        let Jti { jti } = serde_json::from_slice(&payload).map_err(|_| unreadable())?;
        let family_id = self.inner.store.access_token(&jti).await?.and_then(|record| record.family_id);
        Ok(IssuedFromCode { access_jti: jti, family_id })
    }

    /// Revokes what a code issued: its family (with every access token in it), or its
    /// lone access token.
    async fn revoke_issued(&self, issued: &IssuedFromCode) -> Result<(), OAuthError> {
        if let Some(family_id) = &issued.family_id {
            return Ok(self.revoke_family(family_id).await?);
        }
        match self.inner.store.access_token(&issued.access_jti).await? {
            Some(record) if record.revoked_at.is_none() => Ok(self.revoke_access(&record).await?),
            _ => Ok(()),
        }
    }
}

fn reused() -> OAuthError {
    OAuthError::invalid_grant(
        "The authorization code was already used; the tokens issued from it are revoked",
    )
}

/// The checks of RFC 6749 §4.1.3 and RFC 7636 §4.6 on a code just taken.
/// RFC 9449 §10: a code whose authorization request named a `dpop_jkt` is exchanged only
/// with a DPoP proof of that key (thumbprints compared in constant time).
fn check_dpop_binding(code: &AuthorizationCodeRecord, dpop_jkt: Option<&str>) -> Result<(), OAuthError> {
    let Some(bound) = code.dpop_jkt.as_deref() else { return Ok(()) };
    let proven = dpop_jkt.is_some_and(|jkt| bool::from(jkt.as_bytes().ct_eq(bound.as_bytes())));
    if proven {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant("The authorization code is bound to another DPoP key"))
    }
}

fn check_binding(
    code: &AuthorizationCodeRecord,
    client: &AuthenticatedClient,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<(), OAuthError> {
    if code.client_id != client.id {
        return Err(OAuthError::invalid_grant("The authorization code was issued to another client"));
    }
    let redirect_ok = match (code.redirect_uri.as_deref(), redirect_uri) {
        (Some(requested), Some(presented)) => requested == presented,
        (Some(_), None) => false,
        (None, None) => true,
        // The request named none, so the client's one registered URI was used.
        (None, Some(presented)) => client.redirect_uris.iter().any(|uri| uri == presented),
    };
    if !redirect_ok {
        return Err(OAuthError::invalid_grant("The redirect_uri does not match the authorization request"));
    }
    let pkce_ok = match (code.code_challenge.as_deref(), code_verifier) {
        (Some(challenge), Some(verifier)) => pkce::verifies(challenge, verifier),
        (None, None) => !client.requires_pkce(),
        // A verifier for a code without a challenge: a PKCE downgrade (RFC 9700 §4.8.2).
        (Some(_), None) | (None, Some(_)) => false,
    };
    if !pkce_ok {
        return Err(OAuthError::invalid_grant(
            "The code_verifier is missing or does not match the code_challenge",
        ));
    }
    Ok(())
}
