use std::sync::Arc;

use http::{Method, Request, StatusCode};
use serde::Serialize;

use super::caller::user_caller;
use super::response::{self, EndpointResponse};
use super::server::Server;
use crate::{AuthorizedClient, Issuer, OAuthError};

issuer_service! {
    /// Passport's authorized-tokens JSON API, for user principals: the user's sessions and
    /// authorized applications, to show on an account page and revoke.
    ///
    /// - `GET /oauth/tokens`: one entry per client holding live tokens of the user (personal
    ///   access tokens have their own API and are not listed), in Passport's shape:
    ///   `[{"id": …, "client_id": …, "client": {"id": …, "name": …, "first_party": …},
    ///   "scopes": [...], "revoked": false, "created_at": …, "expires_at": …}]`, times in
    ///   seconds since the Unix epoch. An entry's `id` is its client id.
    /// - `DELETE /oauth/tokens/{id}`: withdraws that authorization: every refresh-token family
    ///   and live access token of the user for that client is revoked, atomically (204, or 404
    ///   when the user has nothing live there). `{id}` is an entry's `id` (the client id) or,
    ///   as Passport's `{token-id}`, the id (`jti`) of one of the user's access tokens of that
    ///   client.
    ///
    /// Unlike Passport, which hides first-party clients, every client is listed, with
    /// `first_party` so that a page can tell your own apps from others. It reads the principal
    /// the guard left in the request, or the user signed in on the app's session (as
    /// [`PersonalAccessTokens`](super::PersonalAccessTokens) does), and refuses the callers
    /// the personal-access-token API refuses: 500 without a guard or a hook, 401 without a
    /// token or a session, 403 for a session `DELETE` without `X-CSRF-TOKEN`, for a client
    /// token and, by default, for a third-party client's token
    /// ([`IssuerBuilder::token_management_first_party_only`](crate::IssuerBuilder::token_management_first_party_only)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use axum::Router;
    /// use http::{Request, StatusCode};
    /// use tower::{ServiceBuilder, ServiceExt};
    /// use tower_passport_issuer::endpoint::OAuthServer;
    /// use tower_passport_issuer::{ClientRegistration, Issuer, StaticUsers, TokenRequest};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// use tower_passport::GuardLayer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .enable_password_grant(StaticUsers::new(1_000).user("ann", "a-password", "7")?)
    ///     .build()?;
    /// let guard = GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build()?;
    /// let routes = OAuthServer::new(issuer.clone()).build();
    /// let tokens = ServiceBuilder::new().layer(guard).service(routes.authorized_tokens());
    /// let app: Router = Router::new()
    ///     .route_service("/oauth/tokens", tokens.clone())
    ///     .route_service("/oauth/tokens/{id}", tokens);
    ///
    /// let web = ClientRegistration::confidential("Web").first_party(true).grants([GrantType::Password, GrantType::RefreshToken]);
    /// let registered = issuer.register_client(web).await?;
    /// let client = issuer.authenticate_client(&registered.client.id, registered.secret.as_ref().map(|s| s.expose())).await?;
    /// let login = issuer.grant(TokenRequest::password(client.clone(), "ann", "a-password")).await?;
    ///
    /// let request = |method: &str, path: String| {
    ///     Request::builder().method(method).uri(path)
    ///         .header("authorization", format!("Bearer {}", login.access_token))
    ///         .body(axum::body::Body::empty())
    /// };
    /// let listed = app.clone().oneshot(request("GET", "/oauth/tokens".into())?).await?;
    /// assert_eq!(listed.status(), StatusCode::OK);
    /// // Log out of the web app everywhere: the calling token goes with it.
    /// let deleted = app.clone().oneshot(request("DELETE", format!("/oauth/tokens/{}", client.id))?).await?;
    /// assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    /// let after = app.oneshot(request("GET", "/oauth/tokens".into())?).await?;
    /// assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    /// # Ok(())
    /// # }
    /// ```
    AuthorizedTokens => handle
}

/// An authorized client as listed (Passport's token shape).
#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    client_id: &'a str,
    client: ListedClient<'a>,
    scopes: &'a [String],
    revoked: bool,
    created_at: u64,
    expires_at: u64,
}

#[derive(Serialize)]
struct ListedClient<'a> {
    id: &'a str,
    name: Option<&'a str>,
    first_party: bool,
}

impl<'a> From<&'a AuthorizedClient> for Listed<'a> {
    fn from(authorized: &'a AuthorizedClient) -> Self {
        Self {
            id: &authorized.client_id,
            client_id: &authorized.client_id,
            client: ListedClient {
                id: &authorized.client_id,
                name: authorized.client_name.as_deref(),
                first_party: authorized.first_party,
            },
            scopes: &authorized.scopes,
            revoked: false,
            created_at: authorized.created_at,
            expires_at: authorized.expires_at,
        }
    }
}

async fn handle<B>(server: Arc<Server>, request: Request<B>) -> EndpointResponse {
    let (parts, _) = request.into_parts();
    let issuer = &server.issuer;
    let caller = match user_caller(&server, &parts).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let path = parts.uri.path().trim_end_matches('/');
    let id = path.rsplit_once("/tokens/").map(|(_, id)| id).filter(|id| !id.is_empty());
    let outcome = match (&parts.method, id) {
        (&Method::GET, None) => list(issuer, &caller.user_id).await,
        (&Method::DELETE, Some(id)) => {
            // An id is a client id or a jti; a client id may have been percent-encoded.
            match percent_encoding::percent_decode_str(id).decode_utf8() {
                Ok(id) => match issuer.revoke_authorized_client(&caller.user_id, &id).await {
                    Ok(true) => Ok(response::empty(StatusCode::NO_CONTENT)),
                    Ok(false) => Ok(response::empty(StatusCode::NOT_FOUND)),
                    Err(error) => Err(error.into()),
                },
                Err(_) => Ok(response::empty(StatusCode::NOT_FOUND)),
            }
        }
        (_, None) => Ok(response::method_not_allowed("GET")),
        (_, Some(_)) => Ok(response::method_not_allowed("DELETE")),
    };
    caller.answer(outcome.unwrap_or_else(|error| response::error(&error)))
}

async fn list(issuer: &Issuer, user_id: &str) -> Result<EndpointResponse, OAuthError> {
    let authorized = issuer.authorized_clients(user_id).await?;
    let listed: Vec<Listed<'_>> = authorized.iter().map(Listed::from).collect();
    Ok(response::json(StatusCode::OK, &listed))
}
