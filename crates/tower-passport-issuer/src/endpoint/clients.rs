use std::sync::Arc;

use http::{Method, Request, StatusCode};
use http_body::Body;
use serde::{Deserialize, Serialize};

use super::caller::user_caller;
use super::request::read_json_body;
use super::response::{self, EndpointResponse};
use super::server::Server;
use crate::store::{ClientRecord, GrantType};
use crate::user_clients::field_errors;
use crate::{ClientSecret, Issuer, OAuthError};

issuer_service! {
    /// Passport's clients JSON API: the signed-in user's own clients, to list, register,
    /// edit and delete from a dashboard.
    ///
    /// - `GET /oauth/clients`: the user's clients, oldest first.
    /// - `POST /oauth/clients` with `{"name": …, "redirect": …, "confidential": true}`:
    ///   registers an authorization code client (with the refresh grant, third-party: its
    ///   users see the approval screen). `redirect` is one URI, a comma-separated list as
    ///   Passport takes it, or an array; `confidential` defaults to `true`. Answers 201 with
    ///   the client and, for a confidential one, its `secret`: the only time it is shown.
    /// - `GET /oauth/clients/{id}`: one client.
    /// - `PUT /oauth/clients/{id}` with `{"name": …, "redirect": …}`: renames it and replaces
    ///   its redirect URIs (200, the client).
    /// - `POST /oauth/clients/{id}/secret`: a new secret for a confidential client, shown
    ///   once (200, the client with its `secret`); the old one stops working at once.
    /// - `DELETE /oauth/clients/{id}`: deletes (revokes) it: no more tokens, and the guard
    ///   refuses those it holds (204).
    ///
    /// A client is listed as `{"id", "user_id", "name", "redirect", "redirect_uris",
    /// "provider", "confidential", "first_party", "personal_access_client",
    /// "password_client", "revoked", "created_at"}` (`redirect` comma-separated, as
    /// Passport shows it; times in seconds since the Unix epoch). Another user's client, a
    /// deleted one and an unknown id are all 404.
    ///
    /// **Errors.** Fields that fail validation answer 422 with Laravel's validation shape,
    /// `{"message": …, "errors": {"name": [...], "redirect": [...]}}`: a name has 1 to 255
    /// characters, not all blank; there are 1 to 32 redirect URIs, each absolute, without a
    /// fragment, and `https`, loopback `http` or a private-use scheme. A body that is not
    /// `application/json`, is not JSON, has a field of the wrong type or an unknown field
    /// is 400 `invalid_request` (the crate's OAuth error JSON), as for the other JSON APIs.
    ///
    /// **Who may call.** As [`PersonalAccessTokens`](super::PersonalAccessTokens): a
    /// first-party client's user token from the guard in front, or the user signed in on the
    /// app's session through the [`SignedInUser`](super::SignedInUser) hook of
    /// [`OAuthServer::sign_in`](super::OAuthServer::sign_in).
    /// A session call that changes something (`POST`, `PUT`, `DELETE`) must send
    /// `X-CSRF-TOKEN` ([`OAuthRoutes::session_csrf_token`](super::OAuthRoutes::session_csrf_token), or the header of any `GET` answered
    /// through the session), or it is refused with 403 `{"message": "CSRF token mismatch."}`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use axum::Router;
    /// use http::{Request, StatusCode};
    /// use http_body_util::BodyExt;
    /// use tower::{ServiceBuilder, ServiceExt};
    /// use tower_passport_issuer::endpoint::{OAuthServer, SignIn, SignInRequest};
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// use tower_passport::{BackendError, GuardLayer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // The app's session says user 7 is signed in (a real app reads its session layer).
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let routes = OAuthServer::new(issuer.clone())
    ///     .sign_in(|_: &SignInRequest<'_>| async { Ok::<_, BackendError>(SignIn::User("7".into())) })
    ///     .build();
    /// // An optional guard: bearer tokens are checked, and requests without one reach the
    /// // session hook.
    /// let guard = GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).optional().build()?;
    /// let clients = ServiceBuilder::new().layer(guard).service(routes.clients());
    /// let app: Router = Router::new()
    ///     .route_service("/oauth/clients", clients.clone())
    ///     .route_service("/oauth/clients/{*rest}", clients);
    ///
    /// let create = r#"{"name": "Photo printer", "redirect": "https://printer.example.com/callback"}"#;
    /// let post = |csrf: Option<&str>| {
    ///     let mut request = Request::post("/oauth/clients").header("content-type", "application/json");
    ///     if let Some(csrf) = csrf {
    ///         request = request.header("x-csrf-token", csrf);
    ///     }
    ///     request.body(axum::body::Body::from(create))
    /// };
    /// // Without the CSRF header, a session call that changes something is refused.
    /// assert_eq!(app.clone().oneshot(post(None)?).await?.status(), StatusCode::FORBIDDEN);
    /// let csrf = routes.session_csrf_token("7").await?;
    /// let created = app.clone().oneshot(post(Some(&csrf))?).await?;
    /// assert_eq!(created.status(), StatusCode::CREATED);
    /// let body: serde_json::Value = serde_json::from_slice(&created.into_body().collect().await?.to_bytes())?;
    /// assert_eq!(body["user_id"], "7");
    /// assert!(body["secret"].is_string(), "shown once");
    ///
    /// let listed = app.oneshot(Request::get("/oauth/clients").body(axum::body::Body::empty())?).await?;
    /// assert!(listed.headers().contains_key("x-csrf-token"), "a fresh token for the next change");
    /// let listed: serde_json::Value = serde_json::from_slice(&listed.into_body().collect().await?.to_bytes())?;
    /// assert_eq!(listed[0]["id"], body["id"]);
    /// assert!(listed[0].get("secret").is_none(), "never listed");
    /// # Ok(())
    /// # }
    /// ```
    Clients => handle
}

/// `redirect`: one URI, Passport's comma-separated list, or an array.
#[derive(Deserialize)]
#[serde(untagged)]
enum Redirect {
    Text(String),
    List(Vec<String>),
}

impl Redirect {
    fn uris(self) -> Vec<String> {
        let uris = match self {
            Self::Text(text) => text.split(',').map(str::to_owned).collect(),
            Self::List(list) => list,
        };
        uris.into_iter().map(|uri| uri.trim().to_owned()).filter(|uri| !uri.is_empty()).collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    redirect: Option<Redirect>,
    #[serde(default)]
    confidential: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    redirect: Option<Redirect>,
}

/// A client as the API shows it (Passport's shape, plus `redirect_uris` and
/// `confidential`); `secret` only when just made.
#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    user_id: Option<&'a str>,
    name: &'a str,
    redirect: String,
    redirect_uris: &'a [String],
    provider: Option<&'a str>,
    confidential: bool,
    first_party: bool,
    personal_access_client: bool,
    password_client: bool,
    revoked: bool,
    created_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

impl<'a> Listed<'a> {
    fn new(client: &'a ClientRecord, secret: Option<&'a ClientSecret>) -> Self {
        Self {
            id: &client.id,
            user_id: client.owner.as_deref(),
            name: &client.name,
            redirect: client.redirect_uris.join(","),
            redirect_uris: &client.redirect_uris,
            provider: client.provider.as_deref(),
            confidential: client.is_confidential(),
            first_party: client.first_party,
            personal_access_client: client.allows_grant(GrantType::PersonalAccess),
            password_client: client.allows_grant(GrantType::Password),
            revoked: client.revoked,
            created_at: client.created_at,
            secret: secret.map(ClientSecret::expose),
        }
    }
}

/// 422 with Laravel's validation shape.
fn unprocessable(errors: &[(&'static str, String)]) -> EndpointResponse {
    let mut fields = serde_json::Map::new();
    for (field, message) in errors {
        let entry = fields.entry(*field).or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(messages) = entry {
            messages.push(serde_json::Value::String(message.clone()));
        }
    }
    let message = errors.first().map_or("The given data was invalid.", |(_, message)| message.as_str());
    response::json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &serde_json::json!({ "message": message, "errors": fields }),
    )
}

/// What the path asks for, below `/clients`.
enum Target {
    All,
    One(String),
    Secret(String),
    Unknown,
}

fn target(path: &str) -> Target {
    let path = path.trim_end_matches('/');
    let Some((_, rest)) = path.rsplit_once("/clients/").filter(|_| !path.ends_with("/clients")) else {
        return Target::All;
    };
    let (id, action) = match rest.split_once('/') {
        Some((id, action)) => (id, Some(action)),
        None => (rest, None),
    };
    let Ok(id) = percent_encoding::percent_decode_str(id).decode_utf8() else { return Target::Unknown };
    match action {
        _ if id.is_empty() => Target::Unknown,
        None => Target::One(id.into_owned()),
        Some("secret") => Target::Secret(id.into_owned()),
        Some(_) => Target::Unknown,
    }
}

async fn handle<B>(server: Arc<Server>, request: Request<B>) -> EndpointResponse
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = request.into_parts();
    let issuer = &server.issuer;
    let caller = match user_caller(&server, &parts).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let owner = caller.user_id.as_str();
    let target = target(parts.uri.path());
    let outcome = match (&parts.method, target) {
        (&Method::GET, Target::All) => list(issuer, owner).await,
        (&Method::POST, Target::All) => match read_json_body(&parts.headers, body).await {
            Ok(bytes) => create(issuer, owner, &bytes).await,
            Err(error) => Err(error),
        },
        (&Method::GET, Target::One(id)) => match issuer.user_client(owner, &id).await {
            Ok(Some(client)) => Ok(response::json(StatusCode::OK, &Listed::new(&client, None))),
            Ok(None) => Ok(response::empty(StatusCode::NOT_FOUND)),
            Err(error) => Err(error.into()),
        },
        (&Method::PUT, Target::One(id)) => match read_json_body(&parts.headers, body).await {
            Ok(bytes) => update(issuer, owner, &id, &bytes).await,
            Err(error) => Err(error),
        },
        (&Method::DELETE, Target::One(id)) => match issuer.delete_user_client(owner, &id).await {
            Ok(true) => Ok(response::empty(StatusCode::NO_CONTENT)),
            Ok(false) => Ok(response::empty(StatusCode::NOT_FOUND)),
            Err(error) => Err(error.into()),
        },
        (&Method::POST, Target::Secret(id)) => regenerate(issuer, owner, &id).await,
        (_, Target::All) => Ok(response::method_not_allowed("GET, POST")),
        (_, Target::One(_)) => Ok(response::method_not_allowed("GET, PUT, DELETE")),
        (_, Target::Secret(_)) => Ok(response::method_not_allowed("POST")),
        (_, Target::Unknown) => Ok(response::empty(StatusCode::NOT_FOUND)),
    };
    caller.answer(outcome.unwrap_or_else(|error| response::error(&error)))
}

async fn list(issuer: &Issuer, owner: &str) -> Result<EndpointResponse, OAuthError> {
    let clients = issuer.user_clients(owner).await?;
    let listed: Vec<Listed<'_>> = clients.iter().map(|client| Listed::new(client, None)).collect();
    Ok(response::json(StatusCode::OK, &listed))
}

/// A JSON object (never an array, which serde would also read into a struct) with exactly
/// the fields of `T`.
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8], expected: &'static str) -> Result<T, OAuthError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).map_err(|_| OAuthError::invalid_request(expected))?;
    serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|_| OAuthError::invalid_request(expected))
}

async fn create(issuer: &Issuer, owner: &str, body: &[u8]) -> Result<EndpointResponse, OAuthError> {
    let request: CreateRequest =
        parse(body, "Expected {\"name\": string, \"redirect\": string or [string], \"confidential\": bool}")?;
    let name = request.name.unwrap_or_default();
    let uris = request.redirect.map(Redirect::uris).unwrap_or_default();
    let errors = field_errors(&name, &uris);
    if !errors.is_empty() {
        return Ok(unprocessable(&errors));
    }
    let registered =
        issuer.register_user_client(owner, &name, uris, request.confidential.unwrap_or(true)).await?;
    let listed = Listed::new(&registered.client, registered.secret.as_ref());
    Ok(response::json(StatusCode::CREATED, &listed))
}

async fn update(issuer: &Issuer, owner: &str, id: &str, body: &[u8]) -> Result<EndpointResponse, OAuthError> {
    let request: UpdateRequest =
        parse(body, "Expected {\"name\": string, \"redirect\": string or [string]}")?;
    let name = request.name.unwrap_or_default();
    let uris = request.redirect.map(Redirect::uris).unwrap_or_default();
    // An unknown or another user's client is 404 before its fields are looked at, so that
    // the answer does not tell whether the id exists.
    if issuer.user_client(owner, id).await?.is_none() {
        return Ok(response::empty(StatusCode::NOT_FOUND));
    }
    let errors = field_errors(&name, &uris);
    if !errors.is_empty() {
        return Ok(unprocessable(&errors));
    }
    match issuer.update_user_client(owner, id, &name, uris).await? {
        Some(client) => Ok(response::json(StatusCode::OK, &Listed::new(&client, None))),
        None => Ok(response::empty(StatusCode::NOT_FOUND)),
    }
}

async fn regenerate(issuer: &Issuer, owner: &str, id: &str) -> Result<EndpointResponse, OAuthError> {
    match issuer.user_client(owner, id).await? {
        None => return Ok(response::empty(StatusCode::NOT_FOUND)),
        Some(client) if !client.is_confidential() => {
            return Ok(unprocessable(&[("secret", "A public client has no secret.".to_owned())]))
        }
        Some(_) => {}
    }
    match issuer.regenerate_user_client_secret(owner, id).await? {
        Some(registered) => {
            Ok(response::json(StatusCode::OK, &Listed::new(&registered.client, registered.secret.as_ref())))
        }
        None => Ok(response::empty(StatusCode::NOT_FOUND)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_collection_a_client_or_its_secret() {
        assert!(matches!(target("/oauth/clients"), Target::All));
        assert!(matches!(target("/oauth/clients/"), Target::All));
        assert!(matches!(target("/auth/oauth/clients/abc"), Target::One(id) if id == "abc"));
        assert!(matches!(target("/oauth/clients/a%2Fb"), Target::One(id) if id == "a/b"));
        assert!(matches!(target("/oauth/clients/abc/secret"), Target::Secret(id) if id == "abc"));
        assert!(matches!(target("/oauth/clients/abc/other"), Target::Unknown));
        assert!(matches!(target("/oauth/clients/%FF"), Target::Unknown));
    }

    #[test]
    fn a_redirect_is_one_uri_a_comma_separated_list_or_an_array() {
        let text = Redirect::Text("https://a.example/cb, https://b.example/cb,".into());
        assert_eq!(text.uris(), ["https://a.example/cb", "https://b.example/cb"]);
        let list = Redirect::List(vec!["https://a.example/cb".into(), " ".into()]);
        assert_eq!(list.uris(), ["https://a.example/cb"]);
    }
}
