//! Client registration: confidential clients get a secret shown once and stored hashed.

use std::fmt;
use std::net::IpAddr;

use super::{crypto, AuthAttempt, Issuer, IssuerError, IssuerErrorKind, IssuerEvent, OAuthError};
use super::{redirect_uri, secrets};
use crate::store::{
    ClientRecord, ClientSecretHash, ClientStore, ClientUpdate, GrantType, SecretHash, TokenStore,
};

/// A client secret, as shown once at registration. Its `Debug` is redacted.
///
/// ```
/// use tower_passport_issuer::ClientSecret;
/// let secret = ClientSecret::new("a-long-enough-client-secret");
/// assert_eq!(format!("{secret:?}"), "ClientSecret(..)");
/// assert_eq!(secret.expose(), "a-long-enough-client-secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself: show it once, then forget it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// What to register: Passport's `passport:client`, as a builder.
///
/// ```
/// use tower_passport_issuer::ClientRegistration;
/// use tower_passport_issuer::store::GrantType;
/// let registration = ClientRegistration::confidential("Billing service")
///     .grants([GrantType::ClientCredentials])
///     .allowed_scopes(["check-status"]);
/// let public = ClientRegistration::public("Mobile app").grants([GrantType::RefreshToken]);
/// let third_party = ClientRegistration::confidential("Photo printer")
///     .grants([GrantType::AuthorizationCode, GrantType::RefreshToken])
///     .redirect_uris(["https://printer.example.com/oauth/callback"])
///     .owner("42");
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ClientRegistration {
    pub(crate) id: Option<String>,
    pub(crate) name: String,
    pub(crate) confidential: bool,
    pub(crate) secret: Option<ClientSecret>,
    pub(crate) grants: Vec<GrantType>,
    pub(crate) allowed_scopes: Option<Vec<String>>,
    pub(crate) first_party: bool,
    pub(crate) skips_authorization: bool,
    pub(crate) skips_even_if_public: bool,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) owner: Option<String>,
    pub(crate) require_pkce: Option<bool>,
    pub(crate) provider: Option<String>,
    pub(crate) allowed_resources: Option<Vec<String>>,
}

impl ClientRegistration {
    /// A confidential client: it gets a generated secret (256 bits) unless one is given.
    pub fn confidential(name: impl Into<String>) -> Self {
        Self {
            id: None,
            name: name.into(),
            confidential: true,
            secret: None,
            grants: vec![GrantType::ClientCredentials],
            allowed_scopes: None,
            first_party: false,
            skips_authorization: false,
            skips_even_if_public: false,
            redirect_uris: Vec::new(),
            owner: None,
            require_pkce: None,
            provider: None,
            allowed_resources: None,
        }
    }

    /// A public client (a SPA, a mobile app): no secret. Its refresh tokens always rotate.
    pub fn public(name: impl Into<String>) -> Self {
        Self { confidential: false, grants: vec![GrantType::RefreshToken], ..Self::confidential(name) }
    }

    /// A chosen client id (a random one otherwise).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// A chosen secret, for confidential clients: at least 32 characters, all RFC 3986
    /// unreserved (letters, digits, `-`, `.`, `_`, `~`), so that it reaches the server the
    /// same from every client library. Generated secrets (the default) are.
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(ClientSecret::new(secret));
        self
    }

    /// The grants the client may use.
    pub fn grants(mut self, grants: impl IntoIterator<Item = GrantType>) -> Self {
        self.grants = grants.into_iter().collect();
        self
    }

    /// The scopes the client may ask for (Passport #1272); every scope when not set.
    pub fn allowed_scopes<I>(mut self, scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.allowed_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Marks the client first-party: the application's own, whose tokens may manage the
    /// user's tokens and clients through the JSON APIs. It still shows the approval screen
    /// unless [`skips_authorization`](Self::skips_authorization) is set too.
    pub fn first_party(mut self, first_party: bool) -> Self {
        self.first_party = first_party;
        self
    }

    /// Approves the client's authorization requests without showing the approval screen
    /// (Passport's `skipsAuthorization`): for the application's own confidential web app.
    /// Off by default. A public client is refused at registration: its redirect proves
    /// nothing about who receives the code, so see
    /// [`skips_authorization_even_if_public`](Self::skips_authorization_even_if_public).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let web = ClientRegistration::confidential("Our web app").first_party(true).skips_authorization(true)
    ///     .grants([GrantType::AuthorizationCode]).redirect_uris(["https://app.example.com/cb"]);
    /// assert!(issuer.register_client(web).await?.client.skips_authorization);
    /// let cli = ClientRegistration::public("Our CLI").first_party(true).skips_authorization(true)
    ///     .grants([GrantType::AuthorizationCode]).redirect_uris(["http://127.0.0.1/cb"]);
    /// assert!(issuer.register_client(cli).await.is_err(), "a public client needs the loud call");
    /// # Ok(())
    /// # }
    /// ```
    pub fn skips_authorization(mut self, skips: bool) -> Self {
        self.skips_authorization = skips;
        self.skips_even_if_public = false;
        self
    }

    /// Skips the approval screen even for a public client, knowingly. **The risk:** a
    /// public client has no secret, so anything that can receive its redirect can claim
    /// its id. For a loopback redirect URI (`http://127.0.0.1:<any port>/…`) that is any
    /// process on the user's machine: it opens the authorization URL with its own port and
    /// gets the signed-in user's tokens, for any scope the client may ask for, without the
    /// user seeing anything (RFC 8252 §8.6 says not to approve such clients silently). A
    /// private-use scheme can be claimed by another installed app. Use it only where every
    /// program that could receive the redirect is trusted as much as the user.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let kiosk = ClientRegistration::public("Kiosk").skips_authorization_even_if_public()
    ///     .grants([GrantType::AuthorizationCode]).redirect_uris(["http://127.0.0.1/cb"]);
    /// assert!(issuer.register_client(kiosk).await?.client.skips_authorization);
    /// # Ok(())
    /// # }
    /// ```
    pub fn skips_authorization_even_if_public(mut self) -> Self {
        self.skips_authorization = true;
        self.skips_even_if_public = true;
        self
    }

    /// The redirect URIs of the authorization code grant (Passport's `redirect`, which
    /// takes a comma-separated list). Each must be absolute, without a fragment, and
    /// `https`, a loopback `http` URI (`http://127.0.0.1:…`, `http://[::1]:…`, or
    /// `http://localhost…`), or a native app's private-use scheme (`com.example.app:/cb`).
    /// A client with the [`GrantType::AuthorizationCode`] grant needs at least one.
    pub fn redirect_uris<I>(mut self, uris: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.redirect_uris = uris.into_iter().map(Into::into).collect();
        self
    }

    /// The user who owns the client (Passport's `user_id`): for clients users register
    /// themselves.
    pub fn owner(mut self, user_id: impl Into<String>) -> Self {
        self.owner = Some(user_id.into());
        self
    }

    /// The user provider the client's users come from (Passport's `--provider`), such as
    /// `"customers"`: the password grant resolves them through the issuer's
    /// [`user_provider`](super::IssuerBuilder::user_provider) of that name, the
    /// authorization code grant's sign-in hook is told it
    /// (`endpoint::SignInRequest::provider`), and their
    /// tokens name it in the `provider` claim. Without it, the default provider (`"users"`).
    ///
    /// ```
    /// use tower_passport_issuer::ClientRegistration;
    /// use tower_passport_issuer::store::GrantType;
    /// let shop = ClientRegistration::confidential("Shop").grants([GrantType::Password]).provider("customers");
    /// ```
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Restricts the client to these resources (RFC 8707): the audiences its tokens may
    /// name, each an absolute URI. Only those that are also the issuer's
    /// [`audience`](super::IssuerBuilder::audience)s are ever granted; asking for another
    /// is `invalid_target`, and a token request that names none gets these. Every one of
    /// the issuer's audiences when not set.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer, OAuthErrorCode, TokenRequest};
    /// use tower_passport_issuer::store::MemoryStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("https://orders.example.com")
    ///     .audience("https://billing.example.com")
    ///     .build()?;
    /// let registered = issuer
    ///     .register_client(ClientRegistration::confidential("Orders worker").resources(["https://orders.example.com"]))
    ///     .await?;
    /// let client = issuer.authenticate_client(&registered.client.id, registered.secret.as_ref().map(|s| s.expose())).await?;
    ///
    /// let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await?;
    /// let verified = issuer.verifier().verify(&tokens.access_token)?;
    /// assert_eq!(verified.audience().collect::<Vec<_>>(), ["https://orders.example.com"]);
    /// let billing = TokenRequest::client_credentials(client).resource("https://billing.example.com");
    /// assert_eq!(issuer.grant(billing).await.unwrap_err().code(), OAuthErrorCode::InvalidTarget);
    /// # Ok(())
    /// # }
    /// ```
    pub fn resources<I>(mut self, resources: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.allowed_resources = Some(resources.into_iter().map(Into::into).collect());
        self
    }

    /// Whether a confidential client must use PKCE in the authorization code grant (on by
    /// default). A public client always must: turning it off for one is refused at
    /// registration.
    pub fn require_pkce(mut self, required: bool) -> Self {
        self.require_pkce = Some(required);
        self
    }
}

/// Why a public client may not simply skip the approval screen.
const PUBLIC_SKIPS: &str = "a public client skips the approval screen only through \
     skips_authorization_even_if_public: anything that receives its redirect would get the \
     user's tokens unseen (RFC 8252 §8.6)";

/// The most redirect URIs one client may register, and the longest one.
pub(super) const MAX_REDIRECT_URIS: usize = 32;
const MAX_REDIRECT_URI_LEN: usize = 2048;

/// Why `uri` cannot be registered as a redirect URI, if it cannot.
pub(super) fn redirect_uri_problem(uri: &str) -> Option<String> {
    (uri.len() > MAX_REDIRECT_URI_LEN || !redirect_uri::registrable(uri)).then(|| {
        format!(
            "{uri:?} cannot be a redirect URI: it must be absolute, without a fragment, and https, \
             loopback http, or a private-use scheme such as com.example.app:/callback"
        )
    })
}

/// Checks a registration's redirect URIs and PKCE setting; the URIs, deduplicated.
fn checked_redirects(registration: &ClientRegistration) -> Result<Vec<String>, IssuerError> {
    if !registration.confidential && registration.require_pkce == Some(false) {
        return Err(IssuerError::invalid("a public client always uses PKCE"));
    }
    if registration.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(IssuerError::invalid(format!(
            "a client may register at most {MAX_REDIRECT_URIS} redirect URIs"
        )));
    }
    let mut uris: Vec<String> = Vec::with_capacity(registration.redirect_uris.len());
    for uri in &registration.redirect_uris {
        if let Some(problem) = redirect_uri_problem(uri) {
            return Err(IssuerError::invalid(problem));
        }
        if !uris.contains(uri) {
            uris.push(uri.clone());
        }
    }
    if uris.is_empty() && registration.grants.contains(&GrantType::AuthorizationCode) {
        return Err(IssuerError::invalid(
            "the authorization code grant needs at least one redirect URI (ClientRegistration::redirect_uris)",
        ));
    }
    Ok(uris)
}

/// A registration's resources (RFC 8707), deduplicated: each must be an absolute URI
/// without a fragment. Whether it is one of the issuer's audiences is decided per token
/// request (the issuer that registers, the CLI's say, need not know them all).
fn checked_resources(resources: Option<Vec<String>>) -> Result<Option<Vec<String>>, IssuerError> {
    let Some(resources) = resources else { return Ok(None) };
    let mut checked: Vec<String> = Vec::with_capacity(resources.len());
    for resource in resources {
        if !crate::resources::is_resource_indicator(&resource) {
            return Err(IssuerError::invalid(format!(
                "{resource:?} cannot be a resource: it must be an absolute URI without a fragment"
            )));
        }
        if !checked.contains(&resource) {
            checked.push(resource);
        }
    }
    Ok(Some(checked))
}

/// A registered client and, for a confidential client, its secret: the only time the
/// secret is available.
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    /// The stored record (with the secret's hash only).
    pub client: ClientRecord,
    /// The plain secret, to hand to the client's owner once.
    pub secret: Option<ClientSecret>,
}

/// Checks a presented secret against the stored hash, in constant time. A public client
/// must present none; a confidential client must present its own.
/// RFC 3986 §2.3's unreserved characters: the same whether or not a client library
/// form-encodes its Basic credentials (RFC 6749 §2.3.1 says to; authlib, requests and
/// `curl -u` do not).
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

pub(crate) fn secret_matches(client: &ClientRecord, presented: Option<&str>) -> bool {
    match (&client.secret_hash, presented) {
        (None, None) => true,
        (Some(hash), Some(secret)) => hash.matches(secret.as_bytes()),
        // Hash something anyway so that the timing of a wrong call does not say which.
        (_, presented) => {
            let _ = SecretHash::of(presented.unwrap_or_default().as_bytes());
            false
        }
    }
}

/// A client that proved who it is. Only [`Issuer::authenticate_client`] makes one, so a
/// grant, a revocation or an introspection can never be handed a store row that skipped
/// authentication.
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::{ClientRegistration, Issuer};
/// use tower_passport_issuer::store::MemoryStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let registered = issuer.register_client(ClientRegistration::confidential("Billing")).await?;
/// let secret = registered.secret.as_ref().map(|s| s.expose());
/// let client = issuer.authenticate_client(&registered.client.id, secret).await?;
/// assert_eq!(client.id, registered.client.id);
/// assert!(issuer.authenticate_client(&registered.client.id, Some("a wrong secret")).await.is_err());
/// # Ok(())
/// # }
/// ```
///
/// A store row is not proof of authentication: this does not compile.
///
/// ```compile_fail
/// use tower_passport_issuer::AuthenticatedClient;
/// use tower_passport_issuer::store::ClientRecord;
/// fn forge(record: ClientRecord) -> AuthenticatedClient {
///     AuthenticatedClient { record }
/// }
/// ```
#[derive(Clone, Debug)]
pub struct AuthenticatedClient {
    record: ClientRecord,
    /// The address the client authenticated from, when known: the password grant's
    /// throttle keys on it too.
    peer: Option<IpAddr>,
}

impl AuthenticatedClient {
    /// A client taken as authenticated without a check: only for the fuzz targets, which
    /// read a token request the way the endpoint does after authentication.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn unchecked_for_fuzzing(record: ClientRecord) -> Self {
        Self { record, peer: None }
    }

    /// The client's registration, as the store holds it (also reachable through `Deref`:
    /// `client.id`, `client.is_confidential()`).
    pub fn record(&self) -> &ClientRecord {
        &self.record
    }

    /// The address the client authenticated from
    /// ([`Issuer::authenticate_client_from`]), when known.
    pub fn peer(&self) -> Option<IpAddr> {
        self.peer
    }
}

impl std::ops::Deref for AuthenticatedClient {
    type Target = ClientRecord;

    fn deref(&self) -> &ClientRecord {
        &self.record
    }
}

impl Issuer {
    /// Registers a client. A confidential client's secret is returned here once and
    /// stored only as a hash.
    ///
    /// # Errors
    /// When a chosen secret is shorter than 32 characters, a public client is given a
    /// secret or a client-credentials grant or has PKCE turned off or skips the approval
    /// screen without [`ClientRegistration::skips_authorization_even_if_public`], a redirect URI cannot
    /// be registered, the authorization code grant comes without a redirect URI, or the
    /// store fails.
    pub async fn register_client(
        &self,
        registration: ClientRegistration,
    ) -> Result<RegisteredClient, IssuerError> {
        let redirect_uris = checked_redirects(&registration)?;
        let secret = match (registration.confidential, registration.secret) {
            (true, Some(secret)) if secret.expose().len() < 32 => {
                return Err(IssuerError::invalid("a client secret must be at least 32 characters"))
            }
            (true, Some(secret)) if !secret.expose().bytes().all(is_unreserved) => {
                return Err(IssuerError::invalid(
                    "a chosen client secret may hold only letters, digits and - . _ ~ \
                     (RFC 3986 unreserved characters), so that every client library sends it alike",
                ))
            }
            (true, Some(secret)) => Some(secret),
            (true, None) => Some(ClientSecret::new(secrets::random_b64(32).map_err(crypto)?)),
            (false, Some(_)) => return Err(IssuerError::invalid("a public client has no secret")),
            (false, None) => None,
        };
        if secret.is_none() && registration.skips_authorization && !registration.skips_even_if_public {
            return Err(IssuerError::invalid(PUBLIC_SKIPS));
        }
        if secret.is_none() && registration.grants.contains(&GrantType::ClientCredentials) {
            return Err(IssuerError::invalid("the client credentials grant needs a confidential client"));
        }
        if registration.provider.as_deref().is_some_and(|provider| provider.trim().is_empty()) {
            return Err(IssuerError::invalid("a user provider needs a name"));
        }
        let id = match registration.id {
            Some(id) if !id.is_empty() => id,
            Some(_) => return Err(IssuerError::invalid("a client id cannot be empty")),
            None => secrets::random_id().map_err(crypto)?,
        };
        if self.inner.store.client(&id).await?.is_some() {
            return Err(IssuerError::new(
                IssuerErrorKind::Conflict,
                format!("a client with id {id:?} exists already"),
            ));
        }
        // A client id that can equal a user's `sub` would let a resource server that tells
        // client tokens by `sub == client_id` take that user's tokens for the client's
        // (RFC 9700 §4.15). Our own tokens say which they are (`idtyp`); these checks
        // protect the other resource servers.
        if id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IssuerError::invalid("a client id cannot be all digits: it could equal a user id"));
        }
        if !self.inner.store.user_tokens(&id, self.now()).await?.is_empty() {
            return Err(IssuerError::new(
                IssuerErrorKind::Conflict,
                format!("{id:?} is a user's id: a client id must not equal one"),
            ));
        }
        let client = ClientRecord {
            id,
            name: registration.name,
            secret_hash: secret.as_ref().map(|s| SecretHash::of(s.expose().as_bytes()).into()),
            grants: registration.grants,
            allowed_scopes: registration.allowed_scopes,
            first_party: registration.first_party,
            skips_authorization: registration.skips_authorization,
            revoked: false,
            created_at: self.now(),
            redirect_uris,
            owner: registration.owner,
            require_pkce: registration.require_pkce.unwrap_or(true),
            provider: registration.provider,
            allowed_resources: checked_resources(registration.allowed_resources)?,
        };
        self.inner.store.put_client(client.clone()).await?;
        Ok(RegisteredClient { client, secret })
    }

    /// Turns skipping the approval screen on or off for a registered client, as
    /// [`ClientRegistration::skips_authorization`] sets it at registration (`passport
    /// client --update ID --skips-authorization`). Turning it on for a public client is
    /// refused: see [`set_skips_authorization_even_if_public`](Self::set_skips_authorization_even_if_public).
    /// `false` for an unknown client.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let web = ClientRegistration::confidential("Web").id("web").grants([GrantType::AuthorizationCode])
    ///     .redirect_uris(["https://app.example.com/cb"]);
    /// issuer.register_client(web).await?;
    /// assert!(issuer.set_skips_authorization("web", true).await?);
    /// assert!(!issuer.set_skips_authorization("nobody", true).await?);
    /// let cli = ClientRegistration::public("CLI").id("cli").grants([GrantType::AuthorizationCode])
    ///     .redirect_uris(["http://127.0.0.1/cb"]);
    /// issuer.register_client(cli).await?;
    /// assert!(issuer.set_skips_authorization("cli", true).await.is_err());
    /// assert!(issuer.set_skips_authorization("cli", false).await?);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// Turning it on for a public client, or when the store fails.
    pub async fn set_skips_authorization(&self, client_id: &str, skips: bool) -> Result<bool, IssuerError> {
        self.update_skips_authorization(client_id, skips, false).await
    }

    /// Skips the approval screen for a registered client even if it is public, knowingly:
    /// the risk is the one [`ClientRegistration::skips_authorization_even_if_public`]
    /// states (any program that can receive its redirect gets the user's tokens unseen).
    /// `false` for an unknown client.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn set_skips_authorization_even_if_public(&self, client_id: &str) -> Result<bool, IssuerError> {
        self.update_skips_authorization(client_id, true, true).await
    }

    async fn update_skips_authorization(
        &self,
        client_id: &str,
        skips: bool,
        even_if_public: bool,
    ) -> Result<bool, IssuerError> {
        let Some(client) = self.inner.store.client(client_id).await? else { return Ok(false) };
        if skips && !even_if_public && !client.is_confidential() {
            return Err(IssuerError::invalid(PUBLIC_SKIPS));
        }
        let update = ClientUpdate { skips_authorization: Some(skips), ..ClientUpdate::default() };
        Ok(self.inner.store.update_client(client_id, update).await?.is_some())
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
    /// secret's hash in constant time. As [`authenticate_client_from`](Self::authenticate_client_from)
    /// with no address: only the client id is throttled.
    ///
    /// # Errors
    /// `invalid_client` for an unknown or revoked client or a wrong secret; 429
    /// `temporarily_unavailable` (with [`OAuthError::retry_after`]) after too many failures;
    /// 503 when the store fails.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<AuthenticatedClient, OAuthError> {
        self.authenticate_client_from(client_id, secret, None).await
    }

    /// Authenticates a client that called from `peer`, under the issuer's
    /// [`AuthLimiter`](super::AuthLimiter): failures count against the client id from that
    /// address and against the address, and past the limit the attempt is refused with 429
    /// before the secret is hashed. The OAuth endpoints call this with the request's peer
    /// address (`endpoint::PeerAddr`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer};
    /// use tower_passport_issuer::store::MemoryStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let billing = issuer.register_client(ClientRegistration::confidential("Billing")).await?;
    /// let peer = Some([192, 0, 2, 1].into());
    /// for _ in 0..5 {
    ///     assert_eq!(issuer.authenticate_client_from(&billing.client.id, Some("wrong"), peer).await.unwrap_err().status(), 401);
    /// }
    /// issuer.authenticate_client_from(&billing.client.id, Some("wrong"), peer).await.unwrap_err();
    /// let refused = issuer.authenticate_client_from(&billing.client.id, Some("wrong"), peer).await.unwrap_err();
    /// assert_eq!((refused.status().as_u16(), refused.retry_after()), (429, Some(1)));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`authenticate_client`](Self::authenticate_client).
    pub async fn authenticate_client_from(
        &self,
        client_id: &str,
        secret: Option<&str>,
        peer: Option<IpAddr>,
    ) -> Result<AuthenticatedClient, OAuthError> {
        let attempt = AuthAttempt::Client { client_id, peer };
        self.inner.limiter.admit(&attempt).await?;
        let client = self.inner.store.client(client_id).await?;
        let secret_ok = match &client {
            // An imported client's bcrypt hash: CPU-heavy, so on a blocking thread.
            // Bounded with the password checks (503 beyond).
            Some(record) if record.secret_hash.as_ref().is_some_and(ClientSecretHash::is_slow) => {
                let (hash, presented) = (record.secret_hash.clone(), secret.map(str::to_owned));
                let permit = self.inner.password_checks.acquire()?;
                let matches = crate::limits::off_executor(move || match (hash, presented) {
                    (Some(hash), Some(presented)) => hash.matches(presented.as_bytes()),
                    _ => false,
                })
                .await;
                drop(permit);
                matches?
            }
            Some(record) => secret_matches(record, secret),
            None => false,
        };
        let outcome = Self::check_client(&self.inner.personal_client_id, client, secret, secret_ok);
        self.inner.limiter.record(&attempt, outcome.is_ok()).await;
        outcome.map(|record| AuthenticatedClient { record, peer })
    }

    fn check_client(
        personal_client_id: &str,
        client: Option<ClientRecord>,
        secret: Option<&str>,
        secret_ok: bool,
    ) -> Result<ClientRecord, OAuthError> {
        match client {
            // The personal access client is internal: nobody signs in as it.
            Some(client) if client.id == personal_client_id => Err(OAuthError::invalid_client()),
            Some(client) if !client.revoked && secret_ok => Ok(client),
            Some(_) => Err(OAuthError::invalid_client()),
            None => {
                // Same work as a wrong secret, so the timing does not tell ids apart.
                let _ = SecretHash::of(secret.unwrap_or_default().as_bytes());
                Err(OAuthError::invalid_client())
            }
        }
    }

    pub(super) fn require_grant(client: &AuthenticatedClient, grant: GrantType) -> Result<(), OAuthError> {
        if client.record.allows_grant(grant) {
            Ok(())
        } else {
            Err(OAuthError::unauthorized_client("The client is not allowed to use this grant type"))
        }
    }
}
