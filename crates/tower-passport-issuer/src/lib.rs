//! The issuer half of tower-passport: mints RFC 9068 access tokens, mints and rotates refresh
//! tokens with reuse detection, keeps a cached revocation list, and manages clients,
//! scopes and personal access tokens: the half of Laravel Passport that issues tokens,
//! done to today's standards.
//!
//! ```
//! use std::sync::Arc;
//! use tower_passport_issuer::{ClientRegistration, Issuer, ScopeRegistry, TokenRequest};
//! use tower_passport_issuer::store::{GrantType, MemoryStore};
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
//! let tokens = issuer.grant(TokenRequest::client_credentials(client.clone()).scope("check-status")).await?;
//! assert_eq!(tokens.token_type, "Bearer");
//! assert!(tokens.refresh_token.is_none());
//!
//! // The issuer's own verifier (and revocation list) guard the API.
//! let verified = issuer.verifier().verify(&tokens.access_token)?;
//! assert_eq!(verified.client_id(), Some(registered.client.id.as_str()));
//! # Ok(())
//! # }
//! ```
//!
//! # Errors by caller
//!
//! What an OAuth client triggers (a [`TokenRequest`] to [`Issuer::grant`], client
//! authentication, authorize, approve or deny, RFC 7009 revoke, RFC 7662 introspect), and
//! [`Issuer::sign_in`], which shares the password grant's throttle, answer [`OAuthError`]:
//! an RFC 6749 code and status. What the application or an operator calls (clients,
//! personal access tokens, a user's revocations, keys, purge) answers [`IssuerError`]: an
//! [`IssuerErrorKind`] to match on, and the cause as its source.
//!
//! # Defaults that protect the credential checks
//!
//! - **Failed authentication is throttled** ([`Throttle`], on unless
//!   [`IssuerBuilder::auth_limiter`] installs another limiter or [`NoLimit`]): per account
//!   (password grant and [`Issuer::sign_in`] share the count), per client id from one
//!   address, and per client address, with exponential back-off past a few free failures
//!   ([`Backoff::ACCOUNTS`], [`Backoff::ADDRESSES`]). A throttled attempt answers 429
//!   `temporarily_unavailable` with `Retry-After` before any secret is hashed, the right
//!   password included. The counters are in this process's memory (bounded); a deployment
//!   of several nodes gives the throttle its shared store (`Throttle::new(store)` with a
//!   `PostgresStore`, `SqliteStore` or `RedisStore`).
//! - **The client address** is the connection's peer, which the server passes on
//!   (`endpoint::PeerAddr`, or axum's `ConnectInfo<SocketAddr>` from
//!   `into_make_service_with_connect_info`); `X-Forwarded-For` is read only behind
//!   proxies the operator trusts (`OAuthServer::trusted_proxies`). Without a peer
//!   address, accounts and clients are still throttled, addresses are not.
//! - **Password checks** run on blocking threads, at most
//!   [`IssuerBuilder::max_concurrent_password_checks`] at once (503 beyond).

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, clippy::too_long_first_doc_paragraph)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// `get_ref`, `get_mut` and `into_inner` for a service that wraps `inner: S`, as
/// tower-http's `define_inner_service_accessors!`. The attributes given (a doc example)
/// go on `get_ref`.
#[allow(unused_macros)]
macro_rules! inner_service_accessors {
    ($(#[$attr:meta])*) => {
        /// The inner service.
        $(#[$attr])*
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The inner service, mutably.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// Consumes this service, returning the inner one.
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}

pub mod endpoint;
pub mod store;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[cfg(all(test, feature = "testing"))]
mod dpop_tests;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

mod telemetry;

mod approval;
pub(crate) mod authorization;
mod authorized;
mod builder;
mod clients;
mod code_grant;
mod device_grant;
mod error;
mod events;
mod grants;
mod introspect;
mod key_ring;
mod legacy_refresh;
mod limits;
mod metadata;
pub(crate) mod mint;
pub mod paths;
mod personal;
pub(crate) mod pkce;
mod purge;
pub(crate) mod redirect_uri;
mod refresh;
mod resolver;
pub mod resources;
mod revoke;
mod scopes;
pub(crate) mod secrets;
mod shared_keys;
mod signing_key;
mod token_request;
pub(crate) mod user_clients;
mod user_code;
mod users;
mod verification_keys;

pub use authorization::{AuthorizationError, AuthorizationRequest, Prompt};
pub use authorized::AuthorizedClient;
pub use builder::{IssuerBuilder, DEFAULT_REVOCATION_CACHE_CAPACITY};
pub use clients::{AuthenticatedClient, ClientRegistration, ClientSecret, RegisteredClient};
pub use device_grant::{DeviceAuthorization, DeviceRequest};
pub use error::{IssuerError, IssuerErrorKind, OAuthError, OAuthErrorCode};
pub use events::{IssuerEvent, IssuerEvents};
pub use introspect::Introspection;
pub use legacy_refresh::{LegacyGrant, LegacyRedemption, LegacyRefreshTokens};
pub use limits::{AuthAttempt, AuthLimiter, Backoff, NoLimit, Throttle, Verdict};
pub use metadata::Jwks;
pub use personal::PersonalAccessToken;
pub use resolver::RegistryResolver;
pub use scopes::{ScopeDefinition, ScopeRegistry};
pub use signing_key::SigningKey;
pub use token_request::{Grant, TokenRequest};
pub use users::{PasswordHash, StaticUsers, UserProvider};

use std::fmt;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::store::{AccessTokenRecord, ErasedStore, RevokedAccess, Store};
use tower_passport::clock::Clock;
use tower_passport::error::ConfigError;
use tower_passport::guard::ResolvePrincipal;
use tower_passport::keys::SharedKeySet;
use tower_passport::revocation::{Hub, RevocationList};
use tower_passport::token::PrincipalKind;
use tower_passport::verify::Verifier;

use error::crypto;

use builder::BoxedUserProvider;
use key_ring::KeyRing;
use mint::{AccessClaims, Audience};

/// A successful token response (RFC 6749 §5.1). `Debug` redacts the tokens.
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    /// The access token (a JWT).
    pub access_token: String,
    /// `DPoP` for a token bound to a DPoP key (RFC 9449 §5), else `Bearer`.
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
pub struct Issuer {
    inner: Arc<IssuerInner>,
}

impl Clone for Issuer {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

struct IssuerInner {
    issuer: String,
    /// `Cache-Control: max-age` of the JWKS, in seconds.
    jwks_max_age: u64,
    limiter: limits::Limiter,
    password_checks: limits::PasswordChecks,
    audiences: Vec<String>,
    access_ttl: u64,
    refresh_ttl: u64,
    personal_ttl: u64,
    rotate_refresh_tokens: bool,
    revoke_access_on_refresh: bool,
    /// The race window, in milliseconds; `None` for strict reuse detection.
    race: Option<u64>,
    /// The grace window, in milliseconds; `None` for none.
    grace: Option<u64>,
    /// Whether only first-party clients' tokens may use the token-management APIs.
    first_party_token_management: bool,
    users: Option<BoxedUserProvider>,
    /// Public keys published in the JWKS without signing (`IssuerBuilder::verification_key`).
    verification_jwks: Vec<serde_json::Value>,
    /// The refresh tokens of the server being replaced (`IssuerBuilder::legacy_refresh_tokens`).
    legacy_refresh: Option<legacy_refresh::BoxedLegacy>,
    /// The named user providers (`IssuerBuilder::user_provider`).
    providers: std::collections::HashMap<String, BoxedUserProvider>,
    scopes: ScopeRegistry,
    keys: RwLock<KeyRing>,
    /// The published keys, shared with every verifier built from this issuer.
    published: SharedKeySet,
    verifier: Verifier,
    store: ErasedStore,
    revocations: RevocationList,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<IssuerEvent>,
    personal_client_id: String,
    /// This node's revocation hub: every revocation reaches the node's caches through it
    /// before the revoking call returns, and the other nodes through its bus.
    hub: Hub,
    /// The setting name of the key ring every node shares, once
    /// [`Issuer::share_signing_keys`] was called.
    shared_keys: RwLock<Option<String>>,
    /// The authorization code grant's settings.
    codes: authorization::CodeSettings,
    /// The device grant's settings.
    devices: device_grant::DeviceSettings,
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

    fn now_millis(&self) -> u64 {
        self.0.now_millis()
    }
}

/// The access token to mint: who, for whom, with what.
struct Minting<'a> {
    client_id: &'a str,
    user_id: Option<&'a str>,
    /// The user provider of the user (the client's), stated in the `provider` claim.
    provider: Option<&'a str>,
    scopes: &'a [String],
    /// The token's `aud` (RFC 8707: narrowed to the requested resources).
    audiences: &'a [String],
    ttl: u64,
    /// The DPoP key thumbprint the token is bound to (`cnf.jkt`), if any.
    dpop_jkt: Option<&'a str>,
}

/// An access token decided but not signed yet: its `jti` and lifetime, all a store records
/// of it. The refresh grant hands this to the store's rotation and signs only once the store
/// has let the presented token rotate.
struct Planned {
    jti: String,
    issued_at: u64,
    expires_at: u64,
}

/// A signed access token and what the store records of it.
struct Minted {
    token: String,
    planned: Planned,
    /// Bound to a DPoP key: `token_type: DPoP`.
    dpop_bound: bool,
}

impl Issuer {
    /// Starts configuring an issuer identified by `issuer` (its URL, the `iss` claim), over
    /// `store`, whose type is erased at once: no issuer type names it.
    pub fn builder(issuer: impl Into<String>, store: Arc<impl Store>) -> IssuerBuilder {
        IssuerBuilder::new(issuer.into(), ErasedStore::new(store))
    }

    /// The issuer URL.
    pub fn issuer_url(&self) -> &str {
        &self.inner.issuer
    }

    /// The store, behind its erased type (it implements every store role).
    pub fn store(&self) -> &ErasedStore {
        &self.inner.store
    }

    /// The scope registry.
    pub fn scope_registry(&self) -> &ScopeRegistry {
        &self.inner.scopes
    }

    /// The revocation list, which the guard consults
    /// (`GuardBuilder::revocation(issuer.revocation_list())`, which registers the guard's
    /// caches with the issuer's [`hub`](Self::hub)).
    pub fn revocation_list(&self) -> RevocationList {
        self.inner.revocations.clone()
    }

    /// A verifier for this issuer's tokens, over every published key. It follows key
    /// rotations: a guard built from it before a rotation accepts the new key at once.
    pub fn verifier(&self) -> Verifier {
        self.inner.verifier.clone()
    }

    /// A guard resolver that resolves users with `users` and refuses the tokens of
    /// unknown or revoked clients, as the client registry says.
    pub fn resolver<R: ResolvePrincipal>(&self, users: R) -> RegistryResolver<R> {
        let mut resolver = RegistryResolver::new(users, Arc::new(self.inner.store.clone()));
        resolver.hub = Some(self.inner.hub.clone());
        resolver
    }

    /// Subscribes to the issuer's events.
    pub fn subscribe(&self) -> IssuerEvents {
        IssuerEvents(self.inner.events.subscribe())
    }

    /// This node's revocation hub: the issuer's revocation list and key-ring reload are
    /// registered there, every revocation the issuer makes reaches the node's caches
    /// through it before the revoking call returns, and a bus started on it
    /// (`bus.start(issuer.hub())`) carries them to the other nodes. A guard built with
    /// [`revocation_list`](Self::revocation_list) registers its caches there itself.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport::guard::TokenOnly;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// use tower_passport::GuardLayer;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let registered = issuer.hub().len();
    /// let _guard = GuardLayer::builder(issuer.verifier())
    ///     .resolver(issuer.resolver(TokenOnly))
    ///     .revocation(issuer.revocation_list())
    ///     .build()?;
    /// assert_eq!(issuer.hub().len(), registered + 1, "the guard's caches follow");
    /// # Ok(())
    /// # }
    /// ```
    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    /// A DPoP proof verifier with the defaults, on the issuer's clock.
    pub(crate) fn proof_verifier(&self) -> tower_passport::dpop::ProofVerifier {
        tower_passport::dpop::ProofVerifier::builder()
            .clock(ClockRef(self.inner.clock.clone()))
            .build()
            .unwrap_or_default()
    }

    /// Whether the password grant is enabled (a protocol fact the metadata states).
    pub(crate) fn password_grant_enabled(&self) -> bool {
        self.inner.users.is_some()
    }

    /// The issuer's clock, for the endpoint's CSRF tokens.
    pub(crate) fn now_for_endpoint(&self) -> u64 {
        self.now()
    }

    fn emit(&self, event: IssuerEvent) {
        if let Some(invalidation) = event.invalidation() {
            self.inner.hub.publish(invalidation);
        }
        // No subscriber is fine.
        let _ = self.inner.events.send(event);
    }

    fn record_revoked(&self, revoked: &[RevokedAccess]) {
        for access in revoked {
            self.inner.revocations.record_revoked(&access.jti, access.expires_at);
            self.emit(IssuerEvent::AccessTokenRevoked { jti: access.jti.clone() });
        }
    }

    fn current_key(&self) -> Option<Arc<signing_key::SigningKey>> {
        let now = self.now();
        match self.inner.keys.read() {
            Ok(keys) => keys.current(now),
            Err(poisoned) => poisoned.into_inner().current(now),
        }
    }

    /// Decides the next access token's `jti` and lifetime, without signing it.
    fn plan_access(&self, grant: &Minting<'_>) -> Result<Planned, IssuerError> {
        let issued_at = self.now();
        let jti = secrets::random_id().map_err(crypto)?;
        Ok(Planned { jti, issued_at, expires_at: issued_at.saturating_add(grant.ttl) })
    }

    /// Signs the access token `planned` for `grant`.
    fn sign_access(&self, grant: &Minting<'_>, planned: Planned) -> Result<Minted, IssuerError> {
        let claims = AccessClaims {
            iss: &self.inner.issuer,
            sub: grant.user_id.unwrap_or(grant.client_id),
            aud: Audience::of(grant.audiences),
            client_id: grant.client_id,
            iat: planned.issued_at,
            exp: planned.expires_at,
            jti: &planned.jti,
            scope: grant.scopes.join(" "),
            provider: grant.user_id.and(grant.provider),
            cnf: grant.dpop_jkt.map(|jkt| mint::Confirmation { jkt }),
        };
        let key = self.current_key().ok_or(IssuerError::crypto())?;
        // `idtyp` says whose token it is, so a user whose id equals a client id can never
        // pass as that client (RFC 9700 §4.15).
        let kind = if grant.user_id.is_some() { PrincipalKind::User } else { PrincipalKind::Client };
        let token = mint::mint_stated(&key, &claims, Some(kind)).map_err(crypto)?;
        Ok(Minted { token, planned, dpop_bound: grant.dpop_jkt.is_some() })
    }

    /// Plans and signs an access token for `grant`.
    fn mint(&self, grant: &Minting<'_>) -> Result<Minted, IssuerError> {
        self.sign_access(grant, self.plan_access(grant)?)
    }

    fn access_record(grant: &Minting<'_>, planned: &Planned, family_id: Option<&str>) -> AccessTokenRecord {
        AccessTokenRecord {
            jti: planned.jti.clone(),
            client_id: grant.client_id.to_owned(),
            user_id: grant.user_id.map(str::to_owned),
            scopes: grant.scopes.to_vec(),
            family_id: family_id.map(str::to_owned),
            name: None,
            personal: false,
            issued_at: planned.issued_at,
            expires_at: planned.expires_at,
            revoked_at: None,
        }
    }

    fn emit_access(&self, planned: &Planned, client_id: &str, user_id: Option<&str>) {
        // Nothing to invalidate in this event, and nobody to tell: skip building it.
        if self.inner.events.receiver_count() == 0 {
            return;
        }
        self.emit(IssuerEvent::AccessTokenCreated {
            jti: planned.jti.clone(),
            client_id: client_id.to_owned(),
            user_id: user_id.map(str::to_owned),
        });
    }

    fn response(&self, minted: Minted, refresh_token: Option<String>, scopes: &[String]) -> TokenResponse {
        TokenResponse {
            access_token: minted.token,
            token_type: if minted.dpop_bound { "DPoP" } else { "Bearer" },
            expires_in: minted.planned.expires_at.saturating_sub(minted.planned.issued_at),
            refresh_token,
            scope: scopes.join(" "),
        }
    }
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer").field("issuer", &self.inner.issuer).finish_non_exhaustive()
    }
}
