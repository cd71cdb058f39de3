//! The authorization request of the authorization code grant (RFC 6749 §4.1.1, RFC 7636,
//! RFC 9700, RFC 9207): validation in the order that keeps a bad request from redirecting
//! anywhere, and the code it ends with (the decision to skip the approval screen is in
//! `approval.rs`).

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use super::clients::redirect_uri_problem;
use super::{crypto, pkce, redirect_uri, secrets, Issuer, IssuerBuilder, OAuthError, OAuthErrorCode};
use crate::store::{AuthorizationCodeRecord, ClientRecord, ClientStore, CodeStore, GrantType, SecretHash};
use tower_passport::error::ConfigError;

/// The longest an authorization code may live (RFC 6749 §4.1.2: "a maximum authorization
/// code lifetime of 10 minutes is RECOMMENDED"), and the default.
const MAX_CODE_TTL: Duration = Duration::from_secs(600);

/// The longest `state` and `nonce` accepted: they travel back in URLs.
const MAX_STATE_LEN: usize = 2048;
const MAX_NONCE_LEN: usize = 512;

/// What the issuer keeps for the authorization code grant: the code lifetime.
pub(crate) struct CodeSettings {
    pub(crate) ttl: Duration,
}

impl Default for CodeSettings {
    fn default() -> Self {
        Self { ttl: MAX_CODE_TTL }
    }
}

impl CodeSettings {
    /// The settings, if they are valid.
    pub(crate) fn checked(self) -> Result<Self, ConfigError> {
        if self.ttl.is_zero() || self.ttl > MAX_CODE_TTL {
            return Err(ConfigError::new(
                tower_passport::error::ConfigErrorKind::Limit,
                "an authorization code lives between one second and 10 minutes (RFC 6749 §4.1.2)",
            ));
        }
        Ok(self)
    }
}

impl fmt::Debug for CodeSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeSettings").field("ttl", &self.ttl).finish()
    }
}

impl IssuerBuilder {
    /// How long an authorization code may wait to be exchanged: 10 minutes by default, and
    /// at most (RFC 6749 §4.1.2); [`build`](Self::build) refuses more.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// let builder = || Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api");
    /// assert!(builder().authorization_code_ttl(Duration::from_secs(60)).build().is_ok());
    /// assert!(builder().authorization_code_ttl(Duration::from_secs(3600)).build().is_err());
    /// ```
    pub fn authorization_code_ttl(mut self, ttl: Duration) -> Self {
        self.codes.ttl = ttl;
        self
    }
}

/// The `prompt` parameter (OpenID Connect Core §3.1.2.1, which Passport follows): any of
/// `login` and `consent`, or `none` alone.
///
/// ```
/// use tower_passport_issuer::Prompt;
/// let prompt = Prompt::parse(Some("login consent")).unwrap();
/// assert!(prompt.login() && prompt.consent() && !prompt.none());
/// assert!(Prompt::parse(Some("none login")).is_none(), "none stands alone");
/// assert_eq!(Prompt::parse(None), Some(Prompt::default()));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    none: bool,
    login: bool,
    consent: bool,
}

impl Prompt {
    /// Parses a space-delimited `prompt` value; `None` for an unknown value or `none`
    /// combined with another.
    pub fn parse(value: Option<&str>) -> Option<Self> {
        let mut prompt = Self::default();
        for word in value.unwrap_or_default().split(' ').filter(|w| !w.is_empty()) {
            match word {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                _ => return None,
            }
        }
        (!prompt.none || !(prompt.login || prompt.consent)).then_some(prompt)
    }

    /// `none`: answer without showing the user anything (`login_required` or
    /// `consent_required` when that is not possible).
    pub fn none(&self) -> bool {
        self.none
    }

    /// `login`: the user must sign in again, even if signed in.
    pub fn login(&self) -> bool {
        self.login
    }

    /// `consent`: show the approval screen even if the user approved this client before.
    pub fn consent(&self) -> bool {
        self.consent
    }

    /// The value to send on, without `login` (the return trip from signing in must not
    /// ask for it again).
    fn after_sign_in(&self) -> Option<&'static str> {
        (self.consent).then_some("consent")
    }
}

/// A validated authorization request: the client, where to send the answer, and what it
/// asks for. Made only by [`Issuer::authorization_request`].
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::{ClientRegistration, Issuer, ScopeRegistry};
/// use tower_passport_issuer::store::{GrantType, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
///     .audience("api")
///     .scopes(ScopeRegistry::new().scope("read", "Read your posts"))
///     .build()?;
/// issuer.register_client(ClientRegistration::public("Notes app").id("notes")
///     .grants([GrantType::AuthorizationCode])
///     .redirect_uris(["https://notes.example.com/callback"])).await?;
/// let request = issuer.authorization_request(
///     "response_type=code&client_id=notes&scope=read&state=xyz\
///      &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
/// ).await?;
/// assert_eq!(request.client().name, "Notes app");
/// assert_eq!(request.redirect_uri(), "https://notes.example.com/callback");
/// assert_eq!(request.scopes(), ["read"]);
/// assert_eq!(request.state(), Some("xyz"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    client: ClientRecord,
    redirect_uri: String,
    redirect_uri_sent: bool,
    scopes: Vec<String>,
    /// RFC 8707: the `resource`s sent, and what they grant (every resource the client may
    /// obtain when none was sent).
    requested_resources: Vec<String>,
    resources: Vec<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    nonce: Option<String>,
    dpop_jkt: Option<String>,
    prompt: Prompt,
}

impl AuthorizationRequest {
    /// The client that asks.
    pub fn client(&self) -> &ClientRecord {
        &self.client
    }

    /// Where the answer goes: the request's `redirect_uri`, or the client's one registered
    /// URI if the request named none.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The scopes asked for (or the registry's defaults), checked and sorted.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The resources (RFC 8707) the code will grant: those the request named, or every
    /// resource the client may obtain.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// The client's `state`, returned with the answer.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The `nonce`, kept with the code.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The `dpop_jkt` (RFC 9449 §10), kept with the code: the thumbprint of the DPoP key
    /// the code must be exchanged with.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.dpop_jkt.as_deref()
    }

    /// The `prompt`.
    pub fn prompt(&self) -> Prompt {
        self.prompt
    }

    /// The request's parameters in a canonical form, for a URL or a form: what the
    /// approval form posts back and a sign-in page returns to. `prompt` is included when
    /// `with_prompt` (without `login`, so that the return from signing in does not ask
    /// again).
    pub(crate) fn parameters(&self, with_prompt: bool) -> Vec<(&'static str, String)> {
        let mut params = vec![("response_type", "code".to_owned()), ("client_id", self.client.id.clone())];
        if self.redirect_uri_sent {
            params.push(("redirect_uri", self.redirect_uri.clone()));
        }
        params.push(("scope", self.scopes.join(" ")));
        params.extend(self.requested_resources.iter().map(|resource| ("resource", resource.clone())));
        let optional = [
            ("state", &self.state),
            ("code_challenge", &self.code_challenge),
            ("nonce", &self.nonce),
            ("dpop_jkt", &self.dpop_jkt),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                params.push((name, value.clone()));
            }
        }
        if self.code_challenge.is_some() {
            params.push(("code_challenge_method", "S256".to_owned()));
        }
        if let Some(prompt) = self.prompt.after_sign_in().filter(|_| with_prompt) {
            params.push(("prompt", prompt.to_owned()));
        }
        params.retain(|(_, value)| !value.is_empty());
        params
    }

    /// Everything the request binds, unambiguously (length-prefixed): what the approval
    /// form's CSRF token is computed over.
    pub(crate) fn binding(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        let mut field = |value: &str| {
            out.extend_from_slice(&(value.len() as u64).to_be_bytes());
            out.extend_from_slice(value.as_bytes());
        };
        field(&self.client.id);
        field(if self.redirect_uri_sent { "sent" } else { "registered" });
        field(&self.redirect_uri);
        field(&self.scopes.join(" "));
        field(&self.resources.join(" "));
        for value in [&self.state, &self.code_challenge, &self.nonce, &self.dpop_jkt] {
            field(value.as_deref().unwrap_or("-"));
            field(if value.is_some() { "1" } else { "0" });
        }
        out
    }
}

/// Why an authorization request failed, and how to tell.
///
/// On a page of the authorization server itself (400; an unknown client or redirect URI must
/// never redirect, RFC 6749 §4.1.2.1), or by sending the browser back to the client with
/// `error`, `state` and `iss` (RFC 9207).
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::{Issuer, OAuthErrorCode};
/// use tower_passport_issuer::store::MemoryStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let error = issuer.authorization_request("response_type=code&client_id=nobody").await.unwrap_err();
/// assert_eq!(error.error().code(), OAuthErrorCode::InvalidRequest);
/// assert_eq!(error.redirect_to(), None, "an unknown client gets a page, never a redirect");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationError {
    error: OAuthError,
    redirect: Option<String>,
}

impl AuthorizationError {
    /// The error.
    pub fn error(&self) -> &OAuthError {
        &self.error
    }

    /// Where to send the browser (the client's redirect URI with `error`,
    /// `error_description`, `state` and `iss`), or `None` if the error must be shown on a
    /// page.
    pub fn redirect_to(&self) -> Option<&str> {
        self.redirect.as_deref()
    }

    fn page(error: OAuthError) -> Self {
        Self { error, redirect: None }
    }
}

impl fmt::Display for AuthorizationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for AuthorizationError {}

/// `base` with `params` appended to its query.
pub(crate) fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(params);
    let query = query.finish();
    let separator = match base.find('?') {
        None => "?",
        Some(at) if at + 1 == base.len() || base.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{base}{separator}{query}")
}

/// Query parameters: empty values count as absent, and a repeated name is remembered,
/// except `resource`, which RFC 8707 repeats: every one is kept.
struct Params {
    values: HashMap<String, String>,
    repeated: Vec<String>,
    resources: Vec<String>,
}

impl Params {
    fn parse(query: &str) -> Self {
        let mut values = HashMap::new();
        let mut repeated = Vec::new();
        let mut resources = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if value.is_empty() {
                continue;
            }
            if name == "resource" {
                resources.push(value.into_owned());
                continue;
            }
            if values.insert(name.to_string(), value.into_owned()).is_some() {
                repeated.push(name.into_owned());
            }
        }
        Self { values, repeated, resources }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|repeated| repeated == name)
    }
}

/// An error to show on a page (400).
fn page(description: &'static str) -> AuthorizationError {
    AuthorizationError::page(OAuthError::invalid_request(description))
}

impl Issuer {
    /// Validates an authorization request (the query of `GET /oauth/authorize`): the client
    /// and the redirect URI first, whose failures must be shown on a page; then
    /// `response_type=code` (the implicit grant's `token` is `unsupported_response_type`),
    /// the scopes, PKCE (`S256` only; required for public clients and, unless turned off,
    /// for confidential ones), `prompt`, `state` and `nonce`, whose failures redirect back
    /// to the client.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer, OAuthErrorCode};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// issuer.register_client(ClientRegistration::public("SPA").id("spa")
    ///     .grants([GrantType::AuthorizationCode]).redirect_uris(["https://spa.example.com/cb"])).await?;
    /// // The implicit grant is refused, back at the client, with `state` and `iss`.
    /// let error = issuer.authorization_request("response_type=token&client_id=spa&state=s").await.unwrap_err();
    /// assert_eq!(error.error().code(), OAuthErrorCode::UnsupportedResponseType);
    /// assert!(error.redirect_to().unwrap().starts_with("https://spa.example.com/cb?error=unsupported_response_type"));
    /// // A public client without PKCE: invalid_request.
    /// let error = issuer.authorization_request("response_type=code&client_id=spa").await.unwrap_err();
    /// assert_eq!(error.error().code(), OAuthErrorCode::InvalidRequest);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// An [`AuthorizationError`], to show or to redirect with.
    pub async fn authorization_request(
        &self,
        query: &str,
    ) -> Result<AuthorizationRequest, AuthorizationError> {
        let params = Params::parse(query);
        if params.is_repeated("client_id") || params.is_repeated("redirect_uri") {
            return Err(page("The client_id or redirect_uri parameter is repeated"));
        }
        let client_id = params.get("client_id").ok_or_else(|| page("The client_id parameter is missing"))?;
        let client = match self.inner.store.client(client_id).await {
            Ok(Some(client)) if !client.revoked && client.id != self.inner.personal_client_id => client,
            Ok(_) => return Err(page("The client is unknown")),
            Err(error) => return Err(AuthorizationError::page(error.into())),
        };
        // RFC 8252 §7.3's any-port loopback rule is for native apps: public clients.
        let native = !client.is_confidential();
        let (registered, redirect_uri, redirect_uri_sent) = match params.get("redirect_uri") {
            Some(uri) => match client.redirect_uris.iter().find(|r| redirect_uri::matches(r, uri, native)) {
                Some(registered) => (registered.as_str(), uri.to_owned(), true),
                None => return Err(page("The redirect_uri is not registered for this client")),
            },
            None => match client.redirect_uris.as_slice() {
                [only] => (only.as_str(), only.clone(), false),
                [] => return Err(page("The client has no redirect URI registered")),
                _ => return Err(page("The redirect_uri parameter is missing")),
            },
        };
        // The registration rules hold for every client, however it was stored (written to
        // the store directly, or by an older version): a URI they refuse is never
        // redirected to, not even with an error (RFC 6749 §4.1.2.1).
        if [registered, redirect_uri.as_str()].into_iter().any(|uri| redirect_uri_problem(uri).is_some()) {
            tracing::warn!(client_id = %client.id, "a registered redirect URI breaks the registration rules: refused");
            return Err(page("The client's registered redirect URI is not valid"));
        }
        // From here on, errors go back to the client.
        let state = params.get("state").filter(|s| s.len() <= MAX_STATE_LEN).map(str::to_owned);
        let redirect = |error: OAuthError| AuthorizationError {
            redirect: Some(self.error_redirect(&redirect_uri, &error, state.as_deref())),
            error,
        };
        let invalid = |description: &'static str| redirect(OAuthError::invalid_request(description));
        if params.get("state").is_some_and(|s| s.len() > MAX_STATE_LEN) {
            return Err(invalid("The state parameter is too long"));
        }
        if !params.repeated.is_empty() {
            return Err(invalid("A parameter is repeated"));
        }
        if !client.allows_grant(GrantType::AuthorizationCode) {
            return Err(redirect(OAuthError::unauthorized_client(
                "The client is not allowed to use the authorization code grant",
            )));
        }
        match params.get("response_type") {
            Some("code") => {}
            None => return Err(invalid("The response_type parameter is missing")),
            // The implicit grant (`token`) is refused by design (RFC 9700 §2.1.2).
            Some(_) => {
                return Err(redirect(OAuthError::new(
                    OAuthErrorCode::UnsupportedResponseType,
                    "Only response_type=code is supported",
                )))
            }
        }
        if params.get("response_mode").is_some_and(|mode| mode != "query") {
            return Err(invalid("Only response_mode=query is supported"));
        }
        let scopes =
            self.inner.scopes.resolve(params.get("scope"), GrantType::AuthorizationCode, Some(&client));
        let scopes = scopes.map_err(redirect)?;
        let resources = crate::resources::within(&params.resources, &self.client_resources(&client));
        let resources = resources.map_err(redirect)?;
        let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method")) {
            (None, None) if client.requires_pkce() => {
                return Err(invalid("PKCE is required: send code_challenge and code_challenge_method=S256"))
            }
            (None, None) => None,
            (None, Some(_)) => return Err(invalid("The code_challenge parameter is missing")),
            (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => Some(challenge.to_owned()),
            (Some(_), Some("S256")) => return Err(invalid("The code_challenge is not an S256 challenge")),
            // RFC 7636 §4.3: no method means plain, which RFC 9700 §2.1.1 says not to use.
            (Some(_), _) => return Err(invalid("Only code_challenge_method=S256 is supported")),
        };
        let prompt =
            Prompt::parse(params.get("prompt")).ok_or_else(|| invalid("The prompt parameter is invalid"))?;
        let nonce = params.get("nonce").map(str::to_owned);
        if nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE_LEN) {
            return Err(invalid("The nonce parameter is too long"));
        }
        // RFC 9449 §10: the base64url SHA-256 thumbprint of the client's DPoP key.
        let dpop_jkt = params.get("dpop_jkt").map(str::to_owned);
        let thumbprint = |jkt: &String| {
            jkt.len() == 43 && jkt.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if dpop_jkt.as_ref().is_some_and(|jkt| !thumbprint(jkt)) {
            return Err(invalid("The dpop_jkt parameter is not a JWK SHA-256 thumbprint"));
        }
        Ok(AuthorizationRequest {
            client,
            redirect_uri,
            redirect_uri_sent,
            scopes,
            requested_resources: params.resources,
            resources,
            state,
            code_challenge,
            nonce,
            dpop_jkt,
            prompt,
        })
    }

    /// Approves `request` for `user_id`: stores a code (only its hash, bound to the
    /// client, redirect URI, user, scopes, PKCE challenge and nonce) and returns where to
    /// send the browser: the redirect URI with `code`, `state` and `iss`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer, TokenRequest};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// issuer.register_client(ClientRegistration::public("App").id("app")
    ///     .grants([GrantType::AuthorizationCode, GrantType::RefreshToken])
    ///     .redirect_uris(["https://app.example.com/cb"])).await?;
    /// let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    /// let request = issuer.authorization_request(&format!(
    ///     "response_type=code&client_id=app&state=s1&code_challenge={challenge}&code_challenge_method=S256"
    /// )).await?;
    /// let location = issuer.approve_authorization(&request, "user-7").await?;
    /// assert!(location.starts_with("https://app.example.com/cb?code="));
    /// assert!(location.ends_with("&state=s1&iss=https%3A%2F%2Fauth.example.com"));
    ///
    /// // The client exchanges the code with its PKCE verifier.
    /// let code = location.split(['=', '&']).nth(1).unwrap();
    /// let client = issuer.authenticate_client("app", None).await?;
    /// let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    /// let tokens = issuer.grant(TokenRequest::authorization_code(client, code, None, Some(verifier))).await?;
    /// assert!(tokens.refresh_token.is_some());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// `temporarily_unavailable` or `server_error` (redirected) when the store or the
    /// random source fails.
    pub async fn approve_authorization(
        &self,
        request: &AuthorizationRequest,
        user_id: &str,
    ) -> Result<String, AuthorizationError> {
        let code = secrets::random_b64(32)
            .map_err(|failure| self.redirect_error(request, OAuthError::from(crypto(failure))))?;
        let now = self.now();
        let record = AuthorizationCodeRecord {
            hash: SecretHash::of(code.as_bytes()),
            client_id: request.client.id.clone(),
            user_id: user_id.to_owned(),
            redirect_uri: request.redirect_uri_sent.then(|| request.redirect_uri.clone()),
            scopes: request.scopes.clone(),
            resources: request.resources.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            dpop_jkt: request.dpop_jkt.clone(),
            issued_at: now,
            expires_at: now.saturating_add(self.inner.codes.ttl.as_secs()),
            used_at: None,
            reused_at: None,
            issued: None,
        };
        self.inner
            .store
            .put_code(record)
            .await
            .map_err(|error| self.redirect_error(request, error.into()))?;
        let mut params = vec![("code", code.as_str())];
        params.extend(request.state.as_deref().map(|state| ("state", state)));
        params.push(("iss", &self.inner.issuer));
        Ok(with_query(&request.redirect_uri, &params))
    }

    /// Where to send the browser when the user denies `request`: the redirect URI with
    /// `error=access_denied`, `state` and `iss`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// issuer.register_client(ClientRegistration::confidential("App").id("app").require_pkce(false)
    ///     .grants([GrantType::AuthorizationCode])
    ///     .redirect_uris(["https://app.example.com/cb?tenant=1"])).await?;
    /// let request = issuer.authorization_request("response_type=code&client_id=app&state=s1").await?;
    /// assert_eq!(
    ///     issuer.deny_authorization(&request),
    ///     "https://app.example.com/cb?tenant=1&error=access_denied\
    ///      &error_description=The+user+denied+the+request&state=s1&iss=https%3A%2F%2Fauth.example.com",
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn deny_authorization(&self, request: &AuthorizationRequest) -> String {
        let error = OAuthError::new(OAuthErrorCode::AccessDenied, "The user denied the request");
        self.error_redirect(&request.redirect_uri, &error, request.state.as_deref())
    }

    /// The error `error` for `request`, sent back to its client.
    pub(crate) fn redirect_error(
        &self,
        request: &AuthorizationRequest,
        error: OAuthError,
    ) -> AuthorizationError {
        AuthorizationError {
            redirect: Some(self.error_redirect(&request.redirect_uri, &error, request.state.as_deref())),
            error,
        }
    }
}

impl Issuer {
    fn error_redirect(&self, redirect_uri: &str, error: &OAuthError, state: Option<&str>) -> String {
        let mut params = vec![("error", error.code().as_str()), ("error_description", error.description())];
        params.extend(state.map(|state| ("state", state)));
        params.push(("iss", &self.inner.issuer));
        with_query(redirect_uri, &params)
    }
}

/// An `S256` challenge: the base64url of a SHA-256 digest, 43 characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && pkce::well_formed(challenge)
        && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_appended_to_what_the_redirect_uri_has() {
        assert_eq!(with_query("https://a.test/cb", &[("code", "x y")]), "https://a.test/cb?code=x+y");
        assert_eq!(with_query("https://a.test/cb?t=1", &[("code", "x")]), "https://a.test/cb?t=1&code=x");
        assert_eq!(with_query("https://a.test/cb?", &[("code", "x")]), "https://a.test/cb?code=x");
        assert_eq!(with_query("com.example.app:/cb", &[("state", "&=")]), "com.example.app:/cb?state=%26%3D");
    }

    #[test]
    fn only_s256_shaped_challenges_pass() {
        assert!(is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw~cM"));
        assert!(!is_s256_challenge(&"a".repeat(64)));
    }

    #[test]
    fn prompt_values_parse_as_a_set() {
        assert_eq!(Prompt::parse(Some("none")), Some(Prompt { none: true, login: false, consent: false }));
        assert_eq!(
            Prompt::parse(Some("consent  login")),
            Some(Prompt { none: false, login: true, consent: true })
        );
        assert_eq!(Prompt::parse(Some("select_account")), None);
        assert_eq!(Prompt::parse(Some("none consent")), None);
        assert_eq!(Prompt { none: false, login: true, consent: false }.after_sign_in(), None);
    }
}
