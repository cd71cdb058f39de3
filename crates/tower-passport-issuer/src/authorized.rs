//! A user's authorized clients (Passport's `GET /oauth/tokens` and `DELETE /oauth/tokens/{id}`):
//! one entry per client holding live tokens of the user, and the withdrawal of one.

use super::{Issuer, IssuerError};
use crate::store::{ClientStore, ClientTokens, TokenStore};

/// A client `user_id` has authorized, as [`Issuer::authorized_clients`] lists it: one entry
/// per client holding live tokens of the user, personal access tokens left out (they have
/// their own API).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizedClient {
    /// The client id.
    pub client_id: String,
    /// The client's display name; `None` if the client is no longer registered.
    pub client_name: Option<String>,
    /// Whether the client is first-party.
    pub first_party: bool,
    /// Every scope the client holds through the user's live tokens, sorted.
    pub scopes: Vec<String>,
    /// The oldest live token's issue time.
    pub created_at: u64,
    /// The latest expiry among the live tokens (a refresh token's, usually).
    pub expires_at: u64,
    /// How many live access tokens the client holds.
    pub access_tokens: usize,
    /// How many live refresh tokens (sessions) the client holds.
    pub refresh_tokens: usize,
}

impl Issuer {
    /// The clients `user_id` has authorized: one entry per client with live tokens of the
    /// user, in client-id order, personal access tokens left out.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer, StaticUsers, TokenRequest};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .enable_password_grant(StaticUsers::new(1_000).user("ann", "a-password", "7")?)
    ///     .build()?;
    /// let registered = issuer
    ///     .register_client(ClientRegistration::confidential("Mobile").grants([GrantType::Password, GrantType::RefreshToken]))
    ///     .await?;
    /// let client = issuer.authenticate_client(&registered.client.id, registered.secret.as_ref().map(|s| s.expose())).await?;
    /// issuer.grant(TokenRequest::password(client.clone(), "ann", "a-password")).await?;
    /// issuer.create_personal_access_token("7", "cli", &[]).await?;
    ///
    /// let authorized = issuer.authorized_clients("7").await?;
    /// assert_eq!(authorized.len(), 1, "the personal access token is not listed");
    /// assert_eq!(authorized[0].client_name.as_deref(), Some("Mobile"));
    /// assert_eq!((authorized[0].access_tokens, authorized[0].refresh_tokens), (1, 1));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails.
    pub async fn authorized_clients(&self, user_id: &str) -> Result<Vec<AuthorizedClient>, IssuerError> {
        let listed = self.inner.store.user_tokens(user_id, self.now()).await?;
        let mut authorized = Vec::with_capacity(listed.len());
        for tokens in listed {
            let tokens = without_personal(tokens);
            if tokens.access_tokens.is_empty() && tokens.refresh_tokens.is_empty() {
                continue;
            }
            let client = self.inner.store.client(&tokens.client_id).await?;
            authorized.push(summary(tokens, client.as_ref()));
        }
        Ok(authorized)
    }

    /// Withdraws one of `user_id`'s authorizations: every family and live access token of
    /// the user for one client, revoked atomically (as [`revoke_all_for_user`] does for all
    /// of them). `id` is the client id, as [`authorized_clients`] lists it, or the id
    /// (`jti`) of one of the user's access tokens of that client, as Passport's
    /// `DELETE /oauth/tokens/{token-id}` takes it. Personal access tokens are left alone,
    /// except those minted through a revoked family, which die with it. Returns `false`
    /// when the user has nothing live for that client.
    ///
    /// [`revoke_all_for_user`]: Self::revoke_all_for_user
    /// [`authorized_clients`]: Self::authorized_clients
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer, StaticUsers, TokenRequest};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .enable_password_grant(StaticUsers::new(1_000).user("ann", "a-password", "7")?)
    ///     .build()?;
    /// let registered = issuer
    ///     .register_client(ClientRegistration::confidential("Mobile").grants([GrantType::Password, GrantType::RefreshToken]))
    ///     .await?;
    /// let client = issuer.authenticate_client(&registered.client.id, registered.secret.as_ref().map(|s| s.expose())).await?;
    /// let tokens = issuer.grant(TokenRequest::password(client.clone(), "ann", "a-password")).await?;
    ///
    /// assert!(issuer.revoke_authorized_client("7", &client.id).await?);
    /// assert!(issuer.authorized_clients("7").await?.is_empty());
    /// assert!(issuer.grant(TokenRequest::refresh_token(client.clone(), tokens.refresh_token.as_deref().unwrap())).await.is_err());
    /// assert!(!issuer.revoke_authorized_client("7", &client.id).await?, "nothing left");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails.
    pub async fn revoke_authorized_client(&self, user_id: &str, id: &str) -> Result<bool, IssuerError> {
        let personal = self.inner.personal_client_id.as_str();
        if id != personal && !self.revoke_user_tokens(user_id, Some(id)).await?.is_empty() {
            return Ok(true);
        }
        // Passport's form: the id of one of the user's (non-personal) access tokens.
        let Some(token) = self.inner.store.access_token(id).await? else { return Ok(false) };
        if token.personal || token.user_id.as_deref() != Some(user_id) || token.client_id == personal {
            return Ok(false);
        }
        Ok(!self.revoke_user_tokens(user_id, Some(&token.client_id)).await?.is_empty())
    }
}

/// `tokens` without the personal access tokens.
fn without_personal(mut tokens: ClientTokens) -> ClientTokens {
    tokens.access_tokens.retain(|token| !token.personal);
    tokens
}

fn summary(tokens: ClientTokens, client: Option<&crate::store::ClientRecord>) -> AuthorizedClient {
    let access = tokens.access_tokens.iter().map(|a| (a.issued_at, a.expires_at, &a.scopes));
    let refresh = tokens.refresh_tokens.iter().map(|r| (r.issued_at, r.expires_at, &r.scopes));
    let (mut created_at, mut expires_at, mut scopes) = (u64::MAX, 0, Vec::new());
    for (issued, expires, granted) in access.chain(refresh) {
        created_at = created_at.min(issued);
        expires_at = expires_at.max(expires);
        scopes.extend(granted.iter().cloned());
    }
    scopes.sort();
    scopes.dedup();
    AuthorizedClient {
        client_name: client.map(|client| client.name.clone()),
        first_party: client.is_some_and(|client| client.first_party),
        scopes,
        created_at,
        expires_at,
        access_tokens: tokens.access_tokens.len(),
        refresh_tokens: tokens.refresh_tokens.len(),
        client_id: tokens.client_id,
    }
}
