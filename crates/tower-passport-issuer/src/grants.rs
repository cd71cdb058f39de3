//! The client-credentials and password grants, and the access + refresh pair they issue.

use std::net::IpAddr;

use super::builder::BoxedUserProvider;
use super::clients::AuthenticatedClient;
use super::events::IssuerEvent;
use super::resources::Targets;
use super::secrets;
use super::{crypto, AuthAttempt, Issuer, Minting, OAuthError, OAuthErrorCode, TokenResponse};
use crate::store::{ClientRecord, ClientStore, FamilyRecord, GrantType, RefreshTokenRecord, TokenStore};

impl Issuer {
    /// The client-credentials grant: an access token whose `sub` is the client id, and
    /// no refresh token (RFC 6749 §4.4.3).
    ///
    /// # Errors
    /// `unauthorized_client` if the client may not use it, `invalid_scope`, or 503.
    pub(super) async fn client_credentials_grant(
        &self,
        client: &AuthenticatedClient,
        scope: Option<&str>,
        dpop_jkt: Option<&str>,
        resources: &[String],
    ) -> Result<TokenResponse, OAuthError> {
        Self::require_grant(client, GrantType::ClientCredentials)?;
        let client = client.record();
        if !client.is_confidential() {
            return Err(OAuthError::unauthorized_client(
                "The client credentials grant needs a confidential client",
            ));
        }
        let scopes = self.inner.scopes.resolve(scope, GrantType::ClientCredentials, Some(client))?;
        let targets = self.new_grant_targets(client, resources)?;
        let grant = Minting {
            client_id: &client.id,
            user_id: None,
            provider: None,
            scopes: &scopes,
            audiences: &targets.token,
            ttl: self.inner.access_ttl,
            dpop_jkt,
        };
        let minted = self.mint(&grant)?;
        self.inner.store.put_access_token(Self::access_record(&grant, &minted.planned, None)).await?;
        self.emit_access(&minted.planned, &client.id, None);
        Ok(self.response(minted, None, &scopes))
    }

    /// The password grant (explicit opt-in; RFC 9700 says not to use it): an access token
    /// for the user, and a refresh token if the client may use the refresh grant.
    ///
    /// # Errors
    /// `unsupported_grant_type` when not enabled, `unauthorized_client`, `invalid_grant`
    /// for wrong credentials, `invalid_scope`, 429 `temporarily_unavailable` (with
    /// [`OAuthError::retry_after`]) while the account or the client's address is throttled
    /// (see [`Throttle`](super::Throttle)), or 503.
    pub(super) async fn password_grant(
        &self,
        client: &AuthenticatedClient,
        username: &str,
        password: &str,
        scope: Option<&str>,
        dpop_jkt: Option<&str>,
        resources: &[String],
    ) -> Result<TokenResponse, OAuthError> {
        if self.inner.users.is_none() && self.inner.providers.is_empty() {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "The password grant is not enabled",
            ));
        }
        Self::require_grant(client, GrantType::Password)?;
        let authenticated = client;
        let client = client.record();
        // The client's user provider resolves its users (Passport's `--provider`).
        let users = match client.provider.as_deref() {
            None => self.inner.users.as_ref(),
            Some(provider) => self.inner.providers.get(provider),
        };
        let Some(users) = users else {
            tracing::warn!(client_id = %client.id, provider = ?client.provider, "password grant for a client whose user provider is not configured");
            return Err(OAuthError::unauthorized_client(
                "The client's user provider does not take passwords here",
            ));
        };
        let scopes = self.inner.scopes.resolve(scope, GrantType::Password, Some(client))?;
        let targets = self.new_grant_targets(client, resources)?;
        let attempt = AuthAttempt::User {
            client_id: Some(&client.id),
            provider: client.provider.as_deref(),
            username,
            peer: authenticated.peer(),
        };
        let Some(user_id) = self.check_password(users, &attempt, username, password).await? else {
            return Err(OAuthError::invalid_grant("The user credentials were incorrect"));
        };
        self.issue_with_refresh(client, &user_id, &scopes, &targets, dpop_jkt).await
    }

    /// Checks a password typed on the app's own sign-in page against the password grant's
    /// default user provider ([`IssuerBuilder::enable_password_grant`](super::IssuerBuilder::enable_password_grant)),
    /// under the same limits as the grant: the issuer's [`AuthLimiter`](super::AuthLimiter)
    /// (failures count against the account, shared with the password grant, and against
    /// `peer`) and the bound on concurrent password checks. The hash runs off the
    /// executor. Returns the user's id, or `None` for wrong credentials.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{Issuer, StaticUsers};
    /// use tower_passport_issuer::store::MemoryStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .enable_password_grant(StaticUsers::new(1_000).user("ann", "a-password", "7")?)
    ///     .build()?;
    /// let peer = Some([192, 0, 2, 1].into());
    /// assert_eq!(issuer.sign_in("ann", "a-password", peer).await?, Some("7".to_owned()));
    /// for _ in 0..6 {
    ///     assert_eq!(issuer.sign_in("ann", "wrong", peer).await?, None);
    /// }
    /// // Throttled: even the right password waits (429, `Retry-After`).
    /// let refused = issuer.sign_in("ann", "a-password", peer).await.unwrap_err();
    /// assert_eq!((refused.status().as_u16(), refused.retry_after()), (429, Some(1)));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// 429 `temporarily_unavailable` with [`OAuthError::retry_after`] while throttled,
    /// `unsupported_grant_type` without a default user provider, 503 when the password
    /// checks are saturated or the provider or the limiter fails.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        peer: Option<IpAddr>,
    ) -> Result<Option<String>, OAuthError> {
        let Some(users) = self.inner.users.as_ref() else {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "No user provider takes passwords here (IssuerBuilder::enable_password_grant)",
            ));
        };
        let attempt = AuthAttempt::User { client_id: None, provider: None, username, peer };
        self.check_password(users, &attempt, username, password).await
    }

    /// One password check under the limiter and the bound on concurrent checks.
    async fn check_password(
        &self,
        users: &BoxedUserProvider,
        attempt: &AuthAttempt<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<String>, OAuthError> {
        self.inner.limiter.admit(attempt).await?;
        // A bounded number of (CPU-heavy) password checks at once; 503 beyond.
        let permit = self.inner.password_checks.acquire()?;
        let user = users(username.to_owned(), password.to_owned()).await;
        drop(permit);
        let user = user?;
        self.inner.limiter.record(attempt, user.is_some()).await;
        Ok(user)
    }

    /// Mints an access token and, if the client may refresh, starts a refresh family.
    pub(super) async fn issue_with_refresh(
        &self,
        client: &ClientRecord,
        user_id: &str,
        scopes: &[String],
        targets: &Targets,
        dpop_jkt: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        self.issue_with_refresh_in(client, user_id, scopes, targets, None, dpop_jkt).await
    }

    /// [`issue_with_refresh`](Self::issue_with_refresh), the family named `family_id` when
    /// given (a redeemed legacy token's), else a random name. With `dpop_jkt`, the access
    /// token is bound to that DPoP key, and a public client's refresh token too (RFC 9449
    /// §5; a confidential client's is bound to its credentials already).
    pub(super) async fn issue_with_refresh_in(
        &self,
        client: &ClientRecord,
        user_id: &str,
        scopes: &[String],
        targets: &Targets,
        family_id: Option<String>,
        dpop_jkt: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        // A user whose id is a client's id would get tokens that read as that client's to
        // a resource server comparing `sub` with `client_id` (RFC 9700 §4.15). Imported
        // clients keep Passport's integer ids, which Laravel's user ids share: there only a
        // token of that very client could be misread (`sub == client_id`), so only that is
        // refused; our own client ids are never all digits.
        let clashes = self
            .inner
            .store
            .client(user_id)
            .await?
            .is_some_and(|clash| clash.id == client.id || !clash.id.bytes().all(|b| b.is_ascii_digit()));
        if clashes {
            tracing::warn!("refused a user token for a user id that is also a client id");
            return Err(OAuthError::invalid_grant("This user cannot be issued tokens: its id is a client's"));
        }
        let grant = Minting {
            client_id: &client.id,
            user_id: Some(user_id),
            provider: client.provider.as_deref(),
            scopes,
            audiences: &targets.token,
            ttl: self.inner.access_ttl,
            dpop_jkt,
        };
        let minted = self.mint(&grant)?;
        if !client.allows_grant(GrantType::RefreshToken) {
            self.inner.store.put_access_token(Self::access_record(&grant, &minted.planned, None)).await?;
            self.emit_access(&minted.planned, &client.id, Some(user_id));
            return Ok(self.response(minted, None, scopes));
        }
        let family_id = match family_id {
            Some(family_id) => family_id,
            None => secrets::random_b64(16).map_err(crypto)?,
        };
        let refresh = secrets::new_refresh_token().map_err(crypto)?;
        let now = minted.planned.issued_at;
        let record = RefreshTokenRecord {
            id: refresh.id.clone(),
            secret_hash: refresh.hash,
            family_id: family_id.clone(),
            client_id: client.id.clone(),
            user_id: Some(user_id.to_owned()),
            scopes: scopes.to_vec(),
            resources: targets.granted.clone(),
            access_jti: minted.planned.jti.clone(),
            issued_at: now,
            expires_at: now.saturating_add(self.inner.refresh_ttl),
            used_at: None,
            used_at_millis: None,
            revoked_at: None,
            dpop_jkt: dpop_jkt.filter(|_| !client.is_confidential()).map(str::to_owned),
        };
        let family = FamilyRecord {
            id: family_id.clone(),
            client_id: client.id.clone(),
            user_id: Some(user_id.to_owned()),
            created_at: now,
            revoked_at: None,
            current: refresh.id.clone(),
            previous: None,
        };
        let access = Self::access_record(&grant, &minted.planned, Some(&family_id));
        self.inner.store.start_family(family, record, access).await?;
        self.emit_access(&minted.planned, &client.id, Some(user_id));
        self.emit(IssuerEvent::RefreshTokenCreated {
            id: refresh.id,
            family_id,
            client_id: client.id.clone(),
        });
        Ok(self.response(minted, Some(refresh.token), scopes))
    }
}
