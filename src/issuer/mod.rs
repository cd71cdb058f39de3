//! The issuer (feature `issuer`): mints RFC 9068 access tokens, mints and rotates refresh
//! tokens with reuse detection, keeps a cached revocation list, and manages clients,
//! scopes and personal access tokens: the half of Laravel Passport that issues tokens,
//! done to today's standards.
//!
//! ```
//! use std::sync::Arc;
//! use tower_passport::issuer::{ClientRegistration, Issuer, ScopeRegistry};
//! use tower_passport::store::{GrantType, MemoryStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
//!     .audience("orders-api")
//!     .scopes(ScopeRegistry::new().scope("check-status", "Check order status"))
//!     .build()?;
//! let registered = issuer
//!     .register_client(ClientRegistration::confidential("Billing").grants([GrantType::ClientCredentials]))
//!     .await?;
//! let secret = registered.secret.as_ref().map(|s| s.expose());
//! let client = issuer.authenticate_client(&registered.client.id, secret).await?;
//! let tokens = issuer.client_credentials_grant(&client, Some("check-status")).await?;
//! assert_eq!(tokens.token_type, "Bearer");
//! assert!(tokens.refresh_token.is_none());
//!
//! // The issuer's own verifier (and revocation list) guard the API.
//! let verified = issuer.verifier().verify(&tokens.access_token)?;
//! assert_eq!(verified.client_id(), Some(registered.client.id.as_str()));
//! # Ok(())
//! # }
//! ```

mod builder;
mod clients;
mod error;
mod events;
mod key_ring;
mod mint;
mod resolver;
mod scopes;
mod secrets;
mod signing_key;
mod users;

pub use builder::IssuerBuilder;
pub use clients::{ClientRegistration, ClientSecret, RegisteredClient};
pub use error::{OAuthError, OAuthErrorCode};
pub use events::IssuerEvent;
pub use resolver::RegistryResolver;
pub use scopes::{ScopeDefinition, ScopeRegistry};
pub use signing_key::SigningKey;
pub use users::{PasswordHash, StaticUsers, UserProvider};

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::error::ConfigError;
use crate::guard::ResolvePrincipal;
use crate::keys::SharedKeySet;
use crate::revocation::RevocationList;
use crate::store::{
    AccessTokenRecord, ClientRecord, FamilyRecord, GrantType, Purge, PurgeCounts, RefreshTokenRecord,
    RevokedAccess, Rotation, RotationOutcome, Store, StoreError,
};
use crate::verify::Verifier;

use builder::BoxedUserProvider;
use key_ring::KeyRing;
use mint::{AccessClaims, Audience};

/// A successful token response (RFC 6749 §5.1). `Debug` redacts the tokens.
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    /// The access token (a JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The refresh token, when the grant issues one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The granted scopes, space-delimited.
    pub scope: String,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"..")
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| ".."))
            .field("scope", &self.scope)
            .finish()
    }
}

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

/// Which kind of token a revocation or introspection request is about (RFC 7009 / 7662
/// `token_type_hint`). A hint is only a hint: the other kind is tried as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenTypeHint {
    /// `access_token`.
    AccessToken,
    /// `refresh_token`.
    RefreshToken,
}

/// Mints and manages tokens over a [`Store`]. Cheap to clone.
pub struct Issuer<S> {
    inner: Arc<IssuerInner<S>>,
}

impl<S> Clone for Issuer<S> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

struct IssuerInner<S> {
    issuer: String,
    audiences: Vec<String>,
    access_ttl: u64,
    refresh_ttl: u64,
    personal_ttl: u64,
    rotate_refresh_tokens: bool,
    revoke_access_on_refresh: bool,
    grace: Option<u64>,
    users: Option<BoxedUserProvider>,
    scopes: ScopeRegistry,
    keys: RwLock<KeyRing>,
    /// The published keys, shared with every verifier built from this issuer.
    published: SharedKeySet,
    verifier: Verifier,
    store: Arc<S>,
    revocations: RevocationList<S>,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<IssuerEvent>,
    personal_client_id: String,
}

/// What an administrative call (registration, rotation, purge) can fail with.
#[derive(Debug)]
#[non_exhaustive]
pub enum IssuerError {
    /// The store failed.
    Store(StoreError),
    /// The input was refused; the message says why.
    Invalid(String),
    /// Signing or randomness failed.
    Crypto,
}

impl fmt::Display for IssuerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(error) => write!(f, "{error}"),
            Self::Invalid(message) => f.write_str(message),
            Self::Crypto => f.write_str("signing or random generation failed"),
        }
    }
}

impl std::error::Error for IssuerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(error) => Some(error),
            _ => None,
        }
    }
}

impl From<StoreError> for IssuerError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<ConfigError> for IssuerError {
    fn from(error: ConfigError) -> Self {
        Self::Invalid(error.to_string())
    }
}

impl From<IssuerError> for OAuthError {
    fn from(error: IssuerError) -> Self {
        match error {
            IssuerError::Store(error) => error.into(),
            IssuerError::Invalid(message) => OAuthError::invalid_request(message),
            IssuerError::Crypto => {
                OAuthError::new(OAuthErrorCode::ServerError, "The token could not be signed")
            }
        }
    }
}

fn crypto<T>(_: T) -> IssuerError {
    IssuerError::Crypto
}

pub(crate) fn build_verifier(
    issuer: &str,
    audiences: &[String],
    published: &SharedKeySet,
    clock: &Arc<dyn Clock>,
) -> Result<Verifier, ConfigError> {
    let mut builder = Verifier::builder(published.clone()).issuer(issuer).clock(ClockRef(clock.clone()));
    for audience in audiences {
        builder = builder.audience(audience.as_str());
    }
    builder.build()
}

/// Shares the issuer's clock with its verifier.
struct ClockRef(Arc<dyn Clock>);

impl Clock for ClockRef {
    fn now(&self) -> u64 {
        self.0.now()
    }
}

/// The access token to mint: who, for whom, with what.
struct Grant<'a> {
    client_id: &'a str,
    user_id: Option<&'a str>,
    scopes: &'a [String],
    ttl: u64,
}

struct Minted {
    token: String,
    jti: String,
    issued_at: u64,
    expires_at: u64,
}

impl<S: Store> Issuer<S> {
    /// Starts configuring an issuer identified by `issuer` (its URL, the `iss` claim).
    pub fn builder(issuer: impl Into<String>, store: Arc<S>) -> IssuerBuilder<S> {
        IssuerBuilder::new(issuer.into(), store)
    }

    /// The issuer URL.
    pub fn issuer_url(&self) -> &str {
        &self.inner.issuer
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.inner.store
    }

    /// The scope registry.
    pub fn scope_registry(&self) -> &ScopeRegistry {
        &self.inner.scopes
    }

    /// The revocation list, which the guard consults
    /// (`GuardBuilder::revocation(issuer.revocation_list())`).
    pub fn revocation_list(&self) -> RevocationList<S> {
        self.inner.revocations.clone()
    }

    /// A verifier for this issuer's tokens, over every published key. It follows key
    /// rotations: a guard built from it before a rotation accepts the new key at once.
    pub fn verifier(&self) -> Verifier {
        self.inner.verifier.clone()
    }

    /// A guard resolver that resolves users with `users` and refuses the tokens of
    /// unknown or revoked clients, as the client registry says.
    pub fn resolver<R: ResolvePrincipal>(&self, users: R) -> RegistryResolver<R, S> {
        RegistryResolver { users, store: self.inner.store.clone() }
    }

    /// Subscribes to the issuer's events.
    pub fn subscribe(&self) -> broadcast::Receiver<IssuerEvent> {
        self.inner.events.subscribe()
    }

    fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    fn emit(&self, event: IssuerEvent) {
        // No subscriber is fine.
        let _ = self.inner.events.send(event);
    }

    fn record_revoked(&self, revoked: &[RevokedAccess]) {
        for access in revoked {
            self.inner.revocations.record_revoked(&access.jti, access.expires_at);
            self.emit(IssuerEvent::AccessTokenRevoked { jti: access.jti.clone() });
        }
    }

    fn current_key(&self) -> Arc<signing_key::SigningKey> {
        match self.inner.keys.read() {
            Ok(keys) => keys.current(),
            Err(poisoned) => poisoned.into_inner().current(),
        }
    }

    fn mint(&self, grant: &Grant<'_>) -> Result<Minted, IssuerError> {
        let issued_at = self.now();
        let expires_at = issued_at.saturating_add(grant.ttl);
        let jti = secrets::random_b64(16).map_err(crypto)?;
        let claims = AccessClaims {
            iss: &self.inner.issuer,
            sub: grant.user_id.unwrap_or(grant.client_id),
            aud: Audience::of(&self.inner.audiences),
            client_id: grant.client_id,
            iat: issued_at,
            exp: expires_at,
            jti: &jti,
            scope: grant.scopes.join(" "),
        };
        let token = mint::mint(&self.current_key(), &claims).map_err(crypto)?;
        Ok(Minted { token, jti, issued_at, expires_at })
    }

    fn access_record(grant: &Grant<'_>, minted: &Minted, family_id: Option<&str>) -> AccessTokenRecord {
        AccessTokenRecord {
            jti: minted.jti.clone(),
            client_id: grant.client_id.to_owned(),
            user_id: grant.user_id.map(str::to_owned),
            scopes: grant.scopes.to_vec(),
            family_id: family_id.map(str::to_owned),
            name: None,
            personal: false,
            issued_at: minted.issued_at,
            expires_at: minted.expires_at,
            revoked_at: None,
        }
    }

    // ---- clients -------------------------------------------------------------------

    /// Registers a client. A confidential client's secret is returned here once and
    /// stored only as a hash.
    ///
    /// # Errors
    /// When a chosen secret is shorter than 32 characters, a public client is given a
    /// secret or a client-credentials grant, or the store fails.
    pub async fn register_client(
        &self,
        registration: ClientRegistration,
    ) -> Result<RegisteredClient, IssuerError> {
        let secret = match (registration.confidential, registration.secret) {
            (true, Some(secret)) if secret.expose().len() >= 32 => Some(secret),
            (true, Some(_)) => {
                return Err(IssuerError::Invalid("a client secret must be at least 32 characters".into()))
            }
            (true, None) => Some(ClientSecret::new(secrets::random_b64(32).map_err(crypto)?)),
            (false, Some(_)) => return Err(IssuerError::Invalid("a public client has no secret".into())),
            (false, None) => None,
        };
        if secret.is_none() && registration.grants.contains(&GrantType::ClientCredentials) {
            return Err(IssuerError::Invalid(
                "the client credentials grant needs a confidential client".into(),
            ));
        }
        let id = match registration.id {
            Some(id) if !id.is_empty() => id,
            Some(_) => return Err(IssuerError::Invalid("a client id cannot be empty".into())),
            None => secrets::random_b64(16).map_err(crypto)?,
        };
        if self.inner.store.client(&id).await?.is_some() {
            return Err(IssuerError::Invalid(format!("a client with id {id:?} exists already")));
        }
        let client = ClientRecord {
            id,
            name: registration.name,
            secret_hash: secret.as_ref().map(|s| crate::store::SecretHash::of(s.expose().as_bytes())),
            grants: registration.grants,
            allowed_scopes: registration.allowed_scopes,
            first_party: registration.first_party,
            revoked: false,
            created_at: self.now(),
        };
        self.inner.store.put_client(client.clone()).await?;
        Ok(RegisteredClient { client, secret })
    }

    /// Revokes a client: it gets no more tokens, and the guard (through
    /// [`resolver`](Self::resolver)) refuses the ones it holds. `false` if unknown.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn revoke_client(&self, client_id: &str) -> Result<bool, IssuerError> {
        let known = self.inner.store.set_client_revoked(client_id, true).await?;
        if known {
            self.emit(IssuerEvent::ClientRevoked { client_id: client_id.to_owned() });
        }
        Ok(known)
    }

    /// Authenticates a client by id and secret (`None` for a public client), comparing the
    /// secret's hash in constant time.
    ///
    /// # Errors
    /// `invalid_client` for an unknown or revoked client or a wrong secret; 503 when the
    /// store fails.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<ClientRecord, OAuthError> {
        let client = self.inner.store.client(client_id).await?;
        match client {
            // The personal access client is internal: nobody signs in as it.
            Some(client) if client.id == self.inner.personal_client_id => Err(OAuthError::invalid_client()),
            Some(client) if !client.revoked && clients::secret_matches(&client, secret) => Ok(client),
            Some(_) => Err(OAuthError::invalid_client()),
            None => {
                // Same work as a wrong secret, so the timing does not tell ids apart.
                let _ = crate::store::SecretHash::of(secret.unwrap_or_default().as_bytes());
                Err(OAuthError::invalid_client())
            }
        }
    }

    fn require_grant(client: &ClientRecord, grant: GrantType) -> Result<(), OAuthError> {
        if client.allows_grant(grant) {
            Ok(())
        } else {
            Err(OAuthError::unauthorized_client("The client is not allowed to use this grant type"))
        }
    }

    // ---- grants --------------------------------------------------------------------

    /// The client-credentials grant: an access token whose `sub` is the client id, and
    /// no refresh token (RFC 6749 §4.4.3).
    ///
    /// # Errors
    /// `unauthorized_client` if the client may not use it, `invalid_scope`, or 503.
    pub async fn client_credentials_grant(
        &self,
        client: &ClientRecord,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        Self::require_grant(client, GrantType::ClientCredentials)?;
        if !client.is_confidential() {
            return Err(OAuthError::unauthorized_client(
                "The client credentials grant needs a confidential client",
            ));
        }
        let scopes = self.inner.scopes.resolve(scope, GrantType::ClientCredentials, Some(client))?;
        let grant =
            Grant { client_id: &client.id, user_id: None, scopes: &scopes, ttl: self.inner.access_ttl };
        let minted = self.mint(&grant)?;
        self.inner.store.put_access_token(Self::access_record(&grant, &minted, None)).await?;
        self.emit(IssuerEvent::AccessTokenCreated {
            jti: minted.jti.clone(),
            client_id: client.id.clone(),
            user_id: None,
        });
        Ok(self.response(minted, None, &scopes))
    }

    /// The password grant (explicit opt-in; RFC 9700 says not to use it): an access token
    /// for the user, and a refresh token if the client may use the refresh grant.
    ///
    /// # Errors
    /// `unsupported_grant_type` when not enabled, `unauthorized_client`, `invalid_grant`
    /// for wrong credentials, `invalid_scope`, or 503.
    pub async fn password_grant(
        &self,
        client: &ClientRecord,
        username: &str,
        password: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(users) = &self.inner.users else {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "The password grant is not enabled",
            ));
        };
        Self::require_grant(client, GrantType::Password)?;
        let scopes = self.inner.scopes.resolve(scope, GrantType::Password, Some(client))?;
        let Some(user_id) = users(username.to_owned(), password.to_owned()).await? else {
            return Err(OAuthError::invalid_grant("The user credentials were incorrect"));
        };
        self.issue_with_refresh(client, &user_id, &scopes).await
    }

    /// Mints an access token and, if the client may refresh, starts a refresh family.
    async fn issue_with_refresh(
        &self,
        client: &ClientRecord,
        user_id: &str,
        scopes: &[String],
    ) -> Result<TokenResponse, OAuthError> {
        let grant =
            Grant { client_id: &client.id, user_id: Some(user_id), scopes, ttl: self.inner.access_ttl };
        let minted = self.mint(&grant)?;
        if !client.allows_grant(GrantType::RefreshToken) {
            self.inner.store.put_access_token(Self::access_record(&grant, &minted, None)).await?;
            self.emit_access(&minted, client, Some(user_id));
            return Ok(self.response(minted, None, scopes));
        }
        let family_id = secrets::random_b64(16).map_err(crypto)?;
        let refresh = secrets::new_refresh_token().map_err(crypto)?;
        let now = minted.issued_at;
        let record = RefreshTokenRecord {
            id: refresh.id.clone(),
            secret_hash: refresh.hash,
            family_id: family_id.clone(),
            client_id: client.id.clone(),
            user_id: Some(user_id.to_owned()),
            scopes: scopes.to_vec(),
            access_jti: minted.jti.clone(),
            issued_at: now,
            expires_at: now.saturating_add(self.inner.refresh_ttl),
            used_at: None,
            revoked_at: None,
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
        let access = Self::access_record(&grant, &minted, Some(&family_id));
        self.inner.store.start_family(family, record, access).await?;
        self.emit_access(&minted, client, Some(user_id));
        self.emit(IssuerEvent::RefreshTokenCreated {
            id: refresh.id,
            family_id,
            client_id: client.id.clone(),
        });
        Ok(self.response(minted, Some(refresh.token), scopes))
    }

    fn emit_access(&self, minted: &Minted, client: &ClientRecord, user_id: Option<&str>) {
        self.emit(IssuerEvent::AccessTokenCreated {
            jti: minted.jti.clone(),
            client_id: client.id.clone(),
            user_id: user_id.map(str::to_owned),
        });
    }

    fn response(&self, minted: Minted, refresh_token: Option<String>, scopes: &[String]) -> TokenResponse {
        TokenResponse {
            access_token: minted.token,
            token_type: "Bearer",
            expires_in: minted.expires_at.saturating_sub(minted.issued_at),
            refresh_token,
            scope: scopes.join(" "),
        }
    }

    /// The refresh-token grant: atomically consumes the presented token and issues a new
    /// pair in the same family, revoking the old access token. Reusing a consumed token
    /// revokes the whole family. `scope` may narrow, never widen (RFC 6749 §6).
    ///
    /// # Errors
    /// `invalid_grant` for an unknown, expired, revoked, reused or foreign token;
    /// `invalid_scope` for a wider scope; `unauthorized_client`; or 503.
    pub async fn refresh_token_grant(
        &self,
        client: &ClientRecord,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        Self::require_grant(client, GrantType::RefreshToken)?;
        let invalid = || OAuthError::invalid_grant("The refresh token is invalid");
        let (id, hash) = secrets::parse_refresh_token(refresh_token).ok_or_else(invalid)?;
        let presented = self.inner.store.refresh_token(id).await?.ok_or_else(invalid)?;
        if !presented.secret_hash.ct_eq(&hash) || presented.client_id != client.id {
            return Err(invalid());
        }
        let scopes = match scope.filter(|s| !s.trim().is_empty()) {
            None => presented.scopes.clone(),
            Some(requested) => {
                let mut requested = scopes::parse(requested)?;
                requested.sort();
                requested.dedup();
                let original_wildcard = presented.scopes.iter().any(|s| s == "*");
                let narrower = requested.iter().all(|s| {
                    presented.scopes.contains(s) || (original_wildcard && self.inner.scopes.has_scope(s))
                });
                if !narrower {
                    return Err(OAuthError::invalid_scope());
                }
                requested
            }
        };
        let user_id = presented.user_id.as_deref();
        let grant = Grant { client_id: &client.id, user_id, scopes: &scopes, ttl: self.inner.access_ttl };
        let minted = self.mint(&grant)?;
        let next = secrets::new_refresh_token().map_err(crypto)?;
        let now = minted.issued_at;
        let rotation = Rotation {
            presented_id: presented.id.clone(),
            presented_hash: hash,
            now,
            grace_seconds: self.inner.grace,
            // RFC 9700 §4.14.2: public clients' refresh tokens always rotate.
            consume: self.inner.rotate_refresh_tokens || !client.is_confidential(),
            revoke_previous_access: self.inner.revoke_access_on_refresh,
            next: RefreshTokenRecord {
                id: next.id.clone(),
                secret_hash: next.hash,
                family_id: presented.family_id.clone(),
                client_id: client.id.clone(),
                user_id: presented.user_id.clone(),
                // RFC 6749 §6: the new refresh token keeps the original scope.
                scopes: presented.scopes.clone(),
                access_jti: minted.jti.clone(),
                issued_at: now,
                expires_at: now.saturating_add(self.inner.refresh_ttl),
                used_at: None,
                revoked_at: None,
            },
            next_access: Self::access_record(&grant, &minted, Some(&presented.family_id)),
        };
        match self.inner.store.rotate(rotation).await? {
            RotationOutcome::Rotated { revoked } | RotationOutcome::GraceReissued { revoked } => {
                self.record_revoked(&revoked);
                self.emit_access(&minted, client, user_id);
                self.emit(IssuerEvent::RefreshTokenCreated {
                    id: next.id,
                    family_id: presented.family_id.clone(),
                    client_id: client.id.clone(),
                });
                Ok(self.response(minted, Some(next.token), &scopes))
            }
            RotationOutcome::ReuseDetected { family_id, revoked } => {
                tracing::warn!(family_id = %family_id, client_id = %client.id, "refresh token reuse detected; family revoked");
                self.record_revoked(&revoked);
                self.emit(IssuerEvent::RefreshTokenReuseDetected {
                    family_id: family_id.clone(),
                    client_id: client.id.clone(),
                    user_id: presented.user_id.clone(),
                });
                self.emit(IssuerEvent::FamilyRevoked { family_id });
                Err(OAuthError::invalid_grant(
                    "The refresh token was already used; its grant has been revoked",
                ))
            }
            RotationOutcome::Invalid => Err(invalid()),
        }
    }

    // ---- personal access tokens ----------------------------------------------------

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
        self.emit_access(&minted, &client, Some(user_id));
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

    async fn revoke_access(&self, record: &AccessTokenRecord) -> Result<(), OAuthError> {
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

    // ---- RFC 7009 / RFC 7662 --------------------------------------------------------

    /// RFC 7009 revocation by `client`. A refresh token takes its family (and the
    /// family's access tokens) with it. Unknown or invalid tokens are not an error.
    ///
    /// # Errors
    /// `unauthorized_client` when the token belongs to another client; 503.
    pub async fn revoke(
        &self,
        client: &ClientRecord,
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

    async fn revoke_refresh(&self, client: &ClientRecord, token: &str) -> Result<bool, OAuthError> {
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

    async fn revoke_access_token(&self, client: &ClientRecord, token: &str) -> Result<bool, OAuthError> {
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

    /// RFC 7662 introspection by an authenticated client. Inactive, unknown, expired,
    /// revoked (or another client's refresh token) answers exactly `{"active":false}`.
    ///
    /// # Errors
    /// 503 when the store fails.
    pub async fn introspect(
        &self,
        client: &ClientRecord,
        token: &str,
        hint: Option<TokenTypeHint>,
    ) -> Result<Value, OAuthError> {
        let inactive = json!({ "active": false });
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
        Ok(answer.unwrap_or(inactive))
    }

    async fn introspect_access(&self, token: &str) -> Result<Option<Value>, OAuthError> {
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
        let mut answer = json!({
            "active": true,
            "token_type": "access_token",
            "scope": verified.scopes().to_string(),
            "client_id": verified.client_id(),
            "sub": verified.subject(),
            "exp": verified.expires_at(),
            "iat": verified.issued_at(),
            "iss": verified.issuer(),
            "aud": verified.audience().collect::<Vec<_>>(),
            "jti": verified.jti(),
        });
        if let Some(members) = answer.as_object_mut() {
            members.retain(|_, value| !value.is_null());
        }
        Ok(Some(answer))
    }

    async fn introspect_refresh(
        &self,
        client: &ClientRecord,
        token: &str,
    ) -> Result<Option<Value>, OAuthError> {
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
        let mut answer = json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": record.scopes.join(" "),
            "client_id": record.client_id,
            "exp": record.expires_at,
            "iat": record.issued_at,
            "iss": self.inner.issuer,
        });
        if let (Some(members), Some(user)) = (answer.as_object_mut(), record.user_id) {
            members.insert("sub".into(), Value::String(user));
        }
        Ok(Some(answer))
    }

    // ---- keys, metadata, purge -------------------------------------------------------

    /// The JWKS document of every published key (`GET /.well-known/jwks.json`).
    pub fn jwks(&self) -> Value {
        let now = self.now();
        match self.inner.keys.read() {
            Ok(keys) => keys.jwks(now),
            Err(poisoned) => poisoned.into_inner().jwks(now),
        }
    }

    /// Makes `key` the signing key. The old key stays published in the JWKS (and
    /// accepted by [`verifier`](Self::verifier)) until every token it signed has expired.
    ///
    /// # Errors
    /// When the verifier cannot be rebuilt.
    pub fn rotate_signing_key(&self, key: SigningKey) -> Result<(), IssuerError> {
        let now = self.now();
        let longest = self.inner.access_ttl.max(self.inner.personal_ttl);
        let mut keys =
            self.inner.keys.write().map_err(|_| IssuerError::Invalid("key ring poisoned".into()))?;
        keys.prune(now);
        keys.rotate(key, now.saturating_add(longest).saturating_add(60));
        self.inner.published.replace(keys.key_set(now)?);
        Ok(())
    }

    /// RFC 8414 authorization server metadata
    /// (`GET /.well-known/oauth-authorization-server`).
    pub fn metadata(&self) -> Value {
        let base = self.inner.issuer.trim_end_matches('/');
        let mut grants = vec!["client_credentials", "refresh_token"];
        if self.inner.users.is_some() {
            grants.push("password");
        }
        let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
        json!({
            "issuer": self.inner.issuer,
            "token_endpoint": format!("{base}/oauth/token"),
            "jwks_uri": format!("{base}/.well-known/jwks.json"),
            "revocation_endpoint": format!("{base}/oauth/revoke"),
            "introspection_endpoint": format!("{base}/oauth/introspect"),
            "grant_types_supported": grants,
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "scopes_supported": self.inner.scopes.scopes().iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        })
    }

    /// Drops records that expired, or were revoked, more than `older_than` ago, like
    /// `passport:purge --revoked --expired --hours=N`. Revocation-list entries go only
    /// once their token has expired.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn purge(
        &self,
        revoked: bool,
        expired: bool,
        older_than: Duration,
    ) -> Result<PurgeCounts, IssuerError> {
        let before = self.now().saturating_sub(older_than.as_secs());
        Ok(self.inner.store.purge(Purge { revoked, expired, before }).await?)
    }
}

impl<S> fmt::Debug for Issuer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer").field("issuer", &self.inner.issuer).finish_non_exhaustive()
    }
}
