use std::sync::Arc;

use http::{Method, Request, StatusCode};
use http_body::Body;
use serde::{Deserialize, Serialize};

use super::caller::{user_caller, UserCaller};
use super::request::read_json_body;
use super::response::{self, EndpointResponse};
use super::server::Server;
use crate::store::AccessTokenRecord;
use crate::{Issuer, OAuthError};

issuer_service! {
    /// Passport's personal-access-token JSON API, for user principals:
    ///
    /// - `GET /oauth/personal-access-tokens`: the user's tokens;
    /// - `POST /oauth/personal-access-tokens` with `{"name": …, "scopes": [...]}`: a new token,
    ///   answered `{"accessToken": …, "token": {…}}` (the only time the token is shown);
    /// - `DELETE /oauth/personal-access-tokens/{id}`: revokes one (204, or 404).
    ///
    /// It reads the principal the guard left in the request or, once a sign-in hook is set
    /// ([`OAuthServer::sign_in`](super::OAuthServer::sign_in)), the user the app's
    /// [`SignedInUser`](super::SignedInUser) hook says is signed in (a session call that
    /// changes something needs `X-CSRF-TOKEN`, see
    /// [`OAuthRoutes::session_csrf_token`](super::OAuthRoutes::session_csrf_token)). Without
    /// a guard or a hook it answers 500, without a token or a session 401, and for a client
    /// token 403. By default it serves first-party
    /// clients' tokens only: a third-party client's token gets 403 too
    /// ([`IssuerBuilder::token_management_first_party_only`](crate::IssuerBuilder::token_management_first_party_only)).
    /// A new token's scopes must lie within the calling token's own, so a narrow token cannot
    /// mint a wider one, and a token minted by a token of a refresh family (a login) belongs to
    /// that family: it is revoked with it, so it cannot outlive the grant that minted it.
    PersonalAccessTokens => handle
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// A personal access token as listed (Passport's JSON shape, minus the token itself).
#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    name: Option<&'a str>,
    scopes: &'a [String],
    client_id: &'a str,
    revoked: bool,
    created_at: u64,
    expires_at: u64,
}

impl<'a> From<&'a AccessTokenRecord> for Listed<'a> {
    fn from(record: &'a AccessTokenRecord) -> Self {
        Self {
            id: &record.jti,
            name: record.name.as_deref(),
            scopes: &record.scopes,
            client_id: &record.client_id,
            revoked: record.revoked_at.is_some(),
            created_at: record.issued_at,
            expires_at: record.expires_at,
        }
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
    let user_id = caller.user_id.as_str();
    let path = parts.uri.path().trim_end_matches('/');
    let id = path.rsplit_once("/personal-access-tokens/").map(|(_, id)| id).filter(|id| !id.is_empty());
    let outcome = match (&parts.method, id) {
        (&Method::GET, None) => list(issuer, user_id).await,
        (&Method::POST, None) => match read_json_body(&parts.headers, body).await {
            Ok(bytes) => create(issuer, &caller, &bytes).await,
            Err(error) => Err(error),
        },
        (&Method::DELETE, Some(id)) => match issuer.revoke_personal_access_token(user_id, id).await {
            Ok(true) => Ok(response::empty(StatusCode::NO_CONTENT)),
            Ok(false) => Ok(response::empty(StatusCode::NOT_FOUND)),
            Err(error) => Err(error.into()),
        },
        (_, None) => Ok(response::method_not_allowed("GET, POST")),
        (_, Some(_)) => Ok(response::method_not_allowed("DELETE")),
    };
    caller.answer(outcome.unwrap_or_else(|error| response::error(&error)))
}

async fn list(issuer: &Issuer, user_id: &str) -> Result<EndpointResponse, OAuthError> {
    let tokens = issuer.personal_access_tokens(user_id).await?;
    let listed: Vec<Listed<'_>> = tokens.iter().map(Listed::from).collect();
    Ok(response::json(StatusCode::OK, &listed))
}

async fn create(issuer: &Issuer, caller: &UserCaller, body: &[u8]) -> Result<EndpointResponse, OAuthError> {
    let request: CreateRequest = serde_json::from_slice(body)
        .map_err(|_| OAuthError::invalid_request("Expected {\"name\": string, \"scopes\": [string]}"))?;
    let created = match &caller.token {
        Some(token) => {
            issuer.scope_registry().within_caller(token.scopes(), &request.scopes)?;
            let jti = token.jti().ok_or_else(|| {
                OAuthError::invalid_grant("The calling token is not a live token of this issuer")
            })?;
            issuer.create_personal_access_token_through(jti, &request.name, &request.scopes).await?
        }
        // The user's own session, as Passport's `web` + `auth`: any registered scope.
        None => issuer.create_personal_access_token(&caller.user_id, &request.name, &request.scopes).await?,
    };
    let body =
        serde_json::json!({ "accessToken": created.access_token, "token": Listed::from(&created.record) });
    Ok(response::json(StatusCode::OK, &body))
}
