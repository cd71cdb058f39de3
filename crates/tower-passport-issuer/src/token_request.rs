//! One token request (RFC 6749 §3.2): the grant presented, and the parameters every grant
//! shares, so that a parameter cutting across the grants is added once.

use std::fmt;

use tower_passport::dpop::VerifiedProof;

use super::clients::AuthenticatedClient;
use super::{Issuer, OAuthError, TokenResponse};

/// The grant a token request presents: RFC 6749's `grant_type` with its own parameters.
/// `Debug` redacts the password, the code, its verifier and the refresh token.
#[derive(Clone)]
#[non_exhaustive]
pub enum Grant {
    /// `client_credentials` (RFC 6749 §4.4): the client acts for itself.
    ClientCredentials,
    /// `password` (RFC 6749 §4.3; opt-in, see
    /// [`IssuerBuilder::enable_password_grant`](super::IssuerBuilder::enable_password_grant)).
    Password {
        /// The user's name, as the client's user provider knows it.
        username: String,
        /// The user's password.
        password: String,
    },
    /// `authorization_code` (RFC 6749 §4.1.3 with RFC 7636 §4.5).
    AuthorizationCode {
        /// The code the authorization endpoint issued.
        code: String,
        /// The authorization request's `redirect_uri`, repeated.
        redirect_uri: Option<String>,
        /// The PKCE verifier of the request's `code_challenge`.
        code_verifier: Option<String>,
    },
    /// `refresh_token` (RFC 6749 §6).
    RefreshToken {
        /// The refresh token presented.
        refresh_token: String,
    },
    /// `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4): one poll.
    DeviceCode {
        /// The device code the device authorization endpoint issued.
        device_code: String,
    },
}

impl Grant {
    /// The `grant_type` wire value.
    ///
    /// ```
    /// use tower_passport_issuer::Grant;
    /// assert_eq!(Grant::ClientCredentials.grant_type(), "client_credentials");
    /// ```
    pub const fn grant_type(&self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::Password { .. } => "password",
            Self::AuthorizationCode { .. } => "authorization_code",
            Self::RefreshToken { .. } => "refresh_token",
            Self::DeviceCode { .. } => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientCredentials => f.write_str("ClientCredentials"),
            Self::Password { username, .. } => {
                f.debug_struct("Password").field("username", username).field("password", &"..").finish()
            }
            Self::AuthorizationCode { redirect_uri, code_verifier, .. } => f
                .debug_struct("AuthorizationCode")
                .field("code", &"..")
                .field("redirect_uri", redirect_uri)
                .field("code_verifier", &code_verifier.as_ref().map(|_| ".."))
                .finish(),
            Self::RefreshToken { .. } => {
                f.debug_struct("RefreshToken").field("refresh_token", &"..").finish()
            }
            Self::DeviceCode { .. } => f.debug_struct("DeviceCode").field("device_code", &"..").finish(),
        }
    }
}

/// A token request for [`Issuer::grant`]: the authenticated client, the grant it presents, and
/// the parameters every grant shares (the requested `scope`).
///
/// New shared parameters are added as fields here, so the struct is `#[non_exhaustive]`: build
/// it with [`TokenRequest::new`] or a grant's shorthand. `Debug` redacts every secret.
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::{ClientRegistration, Grant, Issuer, TokenRequest};
/// use tower_passport_issuer::store::{GrantType, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let registered = issuer
///     .register_client(ClientRegistration::confidential("Billing").grants([GrantType::ClientCredentials]))
///     .await?;
/// let client = issuer.authenticate_client(&registered.client.id, registered.secret.as_ref().map(|s| s.expose())).await?;
///
/// let request = TokenRequest::new(client, Grant::ClientCredentials);
/// assert_eq!(request.grant.grant_type(), "client_credentials");
/// let tokens = issuer.grant(request).await?;
/// assert_eq!(tokens.token_type, "Bearer");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TokenRequest {
    /// The client, authenticated ([`Issuer::authenticate_client`]).
    pub client: AuthenticatedClient,
    /// The grant it presents.
    pub grant: Grant,
    /// The requested scopes, space-delimited (RFC 6749 §3.3); `None` for the defaults (or,
    /// on a refresh, the original grant's).
    pub scope: Option<String>,
    /// The RFC 7638 thumbprint of the key of the request's verified DPoP proof (RFC 9449
    /// §5), set by [`dpop`](Self::dpop): the access token is then bound to it
    /// (`cnf.jkt`, `token_type: DPoP`), and so is a public client's refresh token.
    pub dpop_jkt: Option<String>,
    /// The requested resources (RFC 8707 `resource`, repeatable): the access token's `aud`
    /// is narrowed to them. Empty for every audience the grant covers.
    pub resources: Vec<String>,
}

impl TokenRequest {
    /// A request by `client` presenting `grant`, with no requested scope.
    pub fn new(client: AuthenticatedClient, grant: Grant) -> Self {
        Self { client, grant, scope: None, dpop_jkt: None, resources: Vec::new() }
    }

    /// The client-credentials grant by `client`.
    pub fn client_credentials(client: AuthenticatedClient) -> Self {
        Self::new(client, Grant::ClientCredentials)
    }

    /// The password grant by `client`, for the user `username`.
    pub fn password(
        client: AuthenticatedClient,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self::new(client, Grant::Password { username: username.into(), password: password.into() })
    }

    /// The authorization code grant by `client`: the `code`, the authorization request's
    /// `redirect_uri` repeated, and the PKCE `code_verifier`.
    pub fn authorization_code(
        client: AuthenticatedClient,
        code: impl Into<String>,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Self {
        let grant = Grant::AuthorizationCode {
            code: code.into(),
            redirect_uri: redirect_uri.map(str::to_owned),
            code_verifier: code_verifier.map(str::to_owned),
        };
        Self::new(client, grant)
    }

    /// The refresh-token grant by `client`.
    pub fn refresh_token(client: AuthenticatedClient, refresh_token: impl Into<String>) -> Self {
        Self::new(client, Grant::RefreshToken { refresh_token: refresh_token.into() })
    }

    /// The device code grant by `client`: one poll with `device_code` (RFC 8628 §3.4).
    pub fn device_code(client: AuthenticatedClient, device_code: impl Into<String>) -> Self {
        Self::new(client, Grant::DeviceCode { device_code: device_code.into() })
    }

    /// Requests these scopes (space-delimited).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Binds the tokens to the key of `proof`, the request's DPoP proof as a
    /// [`ProofVerifier`](tower_passport::dpop::ProofVerifier) verified it for the token
    /// endpoint (RFC 9449 §5). The HTTP token endpoint does this for every request that
    /// carries a `DPoP` header.
    pub fn dpop(mut self, proof: &VerifiedProof) -> Self {
        self.dpop_jkt = Some(proof.thumbprint().to_owned());
        self
    }

    /// Asks for a token for `resource` too (RFC 8707): an absolute URI, one of the
    /// issuer's audiences that the grant covers; the token's `aud` names only the
    /// resources asked for. See [`resources`](crate::resources).
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }
}

impl Issuer {
    /// Answers a token request (RFC 6749 §5): mints what its grant allows, for the scopes
    /// it asks.
    ///
    /// - `client_credentials`: an access token whose `sub` is the client id, and no
    ///   refresh token (RFC 6749 §4.4.3); confidential clients only.
    /// - `password` (explicit opt-in; RFC 9700 says not to use it): an access token for the
    ///   user, and a refresh token if the client may use the refresh grant. Failures are
    ///   throttled (see [`Throttle`](super::Throttle)).
    /// - `authorization_code`: exchanges the code once; `redirect_uri` must repeat the
    ///   authorization request's and `code_verifier` answer its PKCE challenge. Presenting
    ///   a code again fails and revokes every token issued from it (RFC 6749 §4.1.2). The
    ///   scopes are the authorization request's: a `scope` here is `invalid_request`.
    ///   (The token endpoint serves it only once the
    ///   `endpoint::OAuthServer` has a sign-in hook, which issues
    ///   the codes; `unsupported_grant_type` before.)
    /// - `refresh_token`: atomically consumes the token and issues a new pair in the same
    ///   family. Reusing a consumed token revokes the whole family, except inside the race
    ///   window ([`IssuerBuilder::refresh_race_window`](super::IssuerBuilder::refresh_race_window)),
    ///   where a concurrent duplicate gets `invalid_grant` and changes nothing. `scope` may
    ///   narrow, never widen (RFC 6749 §6).
    /// - `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628): one poll with the device
    ///   code of [`Issuer::device_authorization`]: `authorization_pending` until the user
    ///   decides, `slow_down` when polled sooner than the interval (which then grows by five
    ///   seconds), `access_denied` or `expired_token`, or, once, the tokens. The scopes are
    ///   the device authorization request's: a `scope` here is `invalid_request`.
    ///
    /// Every grant takes `resource`s (RFC 8707; [`resources`](crate::resources)): the
    /// access token's `aud` names only them.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer, OAuthErrorCode, TokenRequest};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let registered = issuer.register_client(ClientRegistration::confidential("Web app")
    ///     .grants([GrantType::AuthorizationCode, GrantType::RefreshToken])
    ///     .redirect_uris(["https://app.example.com/cb"])).await?;
    /// let id = &registered.client.id;
    /// let request = issuer.authorization_request(&format!(
    ///     "response_type=code&client_id={id}&redirect_uri=https://app.example.com/cb\
    ///      &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    /// )).await?;
    /// let location = issuer.approve_authorization(&request, "user-7").await?;
    /// let code = location.split(['=', '&']).nth(1).unwrap();
    ///
    /// let client = issuer.authenticate_client(id, registered.secret.as_ref().map(|s| s.expose())).await?;
    /// let verifier = Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    /// let redirect_uri = Some("https://app.example.com/cb");
    /// let exchange = TokenRequest::authorization_code(client.clone(), code, redirect_uri, verifier);
    /// let tokens = issuer.grant(exchange.clone()).await?;
    /// assert_eq!(issuer.verifier().verify(&tokens.access_token)?.subject(), Some("user-7"));
    ///
    /// // Again: refused, and the tokens it issued are revoked.
    /// let again = issuer.grant(exchange).await.unwrap_err();
    /// assert_eq!(again.code(), OAuthErrorCode::InvalidGrant);
    /// let refresh = TokenRequest::refresh_token(client, tokens.refresh_token.unwrap());
    /// assert!(issuer.grant(refresh).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// `unauthorized_client` if the client may not use the grant; `unsupported_grant_type`
    /// for the password grant when it is not enabled; `invalid_grant` for wrong user
    /// credentials, or an unknown, expired, used, revoked or foreign code or refresh token
    /// (or a code's wrong redirect URI or verifier, RFC 9700 §4.8.2); `invalid_scope`;
    /// `invalid_target` for a resource that is malformed, unknown, not allowed to the
    /// client or outside the grant;
    /// 429 `temporarily_unavailable` (with [`OAuthError::retry_after`]) while a password
    /// check is throttled; 503 when the store fails.
    pub async fn grant(&self, request: TokenRequest) -> Result<TokenResponse, OAuthError> {
        let (client, scope) = (&request.client, request.scope.as_deref());
        let dpop = request.dpop_jkt.as_deref();
        let resources = request.resources.as_slice();
        match &request.grant {
            Grant::ClientCredentials => self.client_credentials_grant(client, scope, dpop, resources).await,
            Grant::Password { username, password } => {
                self.password_grant(client, username, password, scope, dpop, resources).await
            }
            Grant::RefreshToken { refresh_token } => {
                self.refresh_token_grant(client, refresh_token, scope, dpop, resources).await
            }
            Grant::AuthorizationCode { .. } if scope.is_some() => Err(OAuthError::invalid_request(
                "The authorization code grant takes its scope from the authorization request",
            )),
            Grant::DeviceCode { .. } if scope.is_some() => Err(OAuthError::invalid_request(
                "The device code grant takes its scope from the device authorization request",
            )),
            Grant::DeviceCode { device_code } => {
                self.device_code_grant(client, device_code, dpop, resources).await
            }
            Grant::AuthorizationCode { code, redirect_uri, code_verifier } => {
                let (redirect_uri, code_verifier) = (redirect_uri.as_deref(), code_verifier.as_deref());
                self.authorization_code_grant(client, code, redirect_uri, code_verifier, dpop, resources)
                    .await
            }
        }
    }
}
