//! Revocation: RFC 7009, families, single access tokens, everything of a user.

use super::clients::AuthenticatedClient;
use super::events::IssuerEvent;
use super::secrets;
use super::{Issuer, IssuerError, OAuthError, TokenTypeHint};
use crate::store::{AccessTokenRecord, RevocationStore, RevokedAccess, RevokedTokens, TokenStore};
use tower_passport::token::DEFAULT_PROVIDER;

impl Issuer {
    pub(super) async fn revoke_access(&self, record: &AccessTokenRecord) -> Result<(), IssuerError> {
        self.revoke_access_token_by_jti(&record.jti).await.map(|_| ())
    }

    /// Revokes the access token whose `jti` this is: Passport's
    /// `$request->user()->token()->revoke()`, to log out the token a request came with. It
    /// goes on the store's revocation list, into this node's revocation cache at once, and
    /// out as [`IssuerEvent::AccessTokenRevoked`] (which a revocation bus carries to the
    /// other nodes). Returns the token's record, or `None` for an unknown `jti`. Its
    /// refresh tokens are untouched: to end the whole session, revoke its family too.
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
    ///     .register_client(ClientRegistration::confidential("Web").grants([GrantType::Password, GrantType::RefreshToken]))
    ///     .await?;
    /// let client = issuer.authenticate_client(&registered.client.id, registered.secret.as_ref().map(|s| s.expose())).await?;
    /// let tokens = issuer.grant(TokenRequest::password(client.clone(), "ann", "a-password")).await?;
    /// // In a handler: the jti of the token the guard verified.
    /// let jti = issuer.verifier().verify(&tokens.access_token)?.jti().unwrap().to_owned();
    ///
    /// let record = issuer.revoke_access_token_by_jti(&jti).await?.expect("a known token");
    /// assert_eq!(issuer.revocation_list().cached(&jti), Some(true), "this node knows at once");
    /// // The whole session: the family the token descends from.
    /// if let Some(family_id) = &record.family_id {
    ///     issuer.revoke_family(family_id).await?;
    /// }
    /// assert!(issuer.grant(TokenRequest::refresh_token(client.clone(), tokens.refresh_token.as_deref().unwrap())).await.is_err());
    /// assert_eq!(issuer.revoke_access_token_by_jti("no-such-jti").await?, None);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails.
    pub async fn revoke_access_token_by_jti(
        &self,
        jti: &str,
    ) -> Result<Option<AccessTokenRecord>, IssuerError> {
        let Some(record) = self.inner.store.revoke_access_token(jti, self.now()).await? else {
            return Ok(None);
        };
        self.record_revoked(&[RevokedAccess { jti: record.jti.clone(), expires_at: record.expires_at }]);
        Ok(Some(record))
    }

    /// Signs `user_id` (of the default user provider) out of the first-party cookie: every
    /// `laravel_token` sealed for them until now is refused by every guard that asks this
    /// issuer's [`revocation_list`](Self::revocation_list), on every node. The instant
    /// (in milliseconds: a cookie sealed in a later millisecond counts) goes into the
    /// store, into this node's cache at once, and out as
    /// [`IssuerEvent::FirstPartyCookiesRevoked`] (which a revocation bus carries to the
    /// other nodes; without one they see it within the list's cache bound). Call it when
    /// the user signs out: the browser's cookie may have been copied, and it would
    /// otherwise work until it expires. Pages the user still has open elsewhere get a
    /// fresh cookie from `endpoint::FreshApiTokenLayer` while
    /// their session lives. Bearer tokens are untouched (see
    /// [`revoke_all_for_user`](Self::revoke_all_for_user)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// issuer.revoke_first_party_cookies("7").await?;
    /// assert!(issuer.revocation_list().user_not_before("users", "7").await?.is_some());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails (the sign-out must not look done when it is not).
    pub async fn revoke_first_party_cookies(&self, user_id: &str) -> Result<(), IssuerError> {
        let now_ms = self.inner.clock.now_millis();
        self.inner.store.set_user_not_before(DEFAULT_PROVIDER, user_id, now_ms).await?;
        self.inner.revocations.record_user_not_before(DEFAULT_PROVIDER, user_id, now_ms);
        self.emit(IssuerEvent::FirstPartyCookiesRevoked {
            provider: DEFAULT_PROVIDER.to_owned(),
            user_id: user_id.to_owned(),
        });
        Ok(())
    }

    /// Revokes every token of `user_id`: every refresh-token family (with its access tokens
    /// and the personal access tokens minted through it) and every other live access token,
    /// personal access tokens included, atomically in the store, and the user's
    /// first-party cookies ([`revoke_first_party_cookies`](Self::revoke_first_party_cookies)).
    /// A logout everywhere, after a password change or an account compromise. The
    /// revocations reach this node's cache at once and go out as events (hence the bus).
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
    ///     .register_client(ClientRegistration::confidential("Web").grants([GrantType::Password, GrantType::RefreshToken]))
    ///     .await?;
    /// let client = issuer.authenticate_client(&registered.client.id, registered.secret.as_ref().map(|s| s.expose())).await?;
    /// let laptop = issuer.grant(TokenRequest::password(client.clone(), "ann", "a-password")).await?;
    /// let phone = issuer.grant(TokenRequest::password(client.clone(), "ann", "a-password")).await?;
    /// let cli = issuer.create_personal_access_token("7", "cli", &[]).await?;
    ///
    /// let revoked = issuer.revoke_all_for_user("7").await?;
    /// assert_eq!(revoked.families.len(), 2);
    /// assert_eq!(revoked.access_tokens.len(), 3);
    /// for session in [&laptop, &phone] {
    ///     assert!(issuer.grant(TokenRequest::refresh_token(client.clone(), session.refresh_token.as_deref().unwrap())).await.is_err());
    /// }
    /// assert_eq!(issuer.revocation_list().cached(&cli.record.jti), Some(true));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails.
    pub async fn revoke_all_for_user(&self, user_id: &str) -> Result<RevokedTokens, IssuerError> {
        let revoked = self.revoke_user_tokens(user_id, None).await?;
        self.revoke_first_party_cookies(user_id).await?;
        Ok(revoked)
    }

    /// Revokes `user_id`'s tokens (of `client_id` only, when given) and reports it.
    pub(super) async fn revoke_user_tokens(
        &self,
        user_id: &str,
        client_id: Option<&str>,
    ) -> Result<RevokedTokens, IssuerError> {
        let revoked = self.inner.store.revoke_user_tokens(user_id, client_id, self.now()).await?;
        self.record_revoked(&revoked.access_tokens);
        for family_id in &revoked.families {
            self.emit(IssuerEvent::FamilyRevoked { family_id: family_id.clone() });
        }
        Ok(revoked)
    }

    /// Revokes a refresh-token family with every access token in it.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn revoke_family(&self, family_id: &str) -> Result<(), IssuerError> {
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
