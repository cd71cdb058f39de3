use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body::Body;
use tower_passport::dpop::{NonceState, ProofTarget, VerifiedProof, DPOP, DPOP_NONCE};

use std::sync::Arc;

use super::request::{client_credentials, read_body, ClientCredentials, Form};
use super::response::{self, EndpointResponse};
use super::server::Server;
use super::ServerMetadata;
use crate::{paths, AuthenticatedClient, Issuer, OAuthError, OAuthErrorCode, TokenRequest, TokenTypeHint};

/// How long the RFC 8414 metadata may be cached: it changes only with a redeploy.
const METADATA_MAX_AGE: u64 = 3600;

issuer_service! {
    /// The HTTP front of an [`Issuer`], dispatched by method and path; anything else is 404.
    /// Built by [`OAuthServer::build`](super::OAuthServer::build), which says what it serves.
    OAuthRoutes => route
}

async fn route<B>(server: Arc<Server>, request: Request<B>) -> EndpointResponse
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if let Some(apis) = server.json_apis_for(server.route_path(request.uri().path())) {
        return apis.call(server.json_apis(), request).await;
    }
    let issuer = &server.issuer;
    let (parts, body) = request.into_parts();
    let path = server.route_path(parts.uri.path());
    let method = &parts.method;
    let readable = method == Method::GET || method == Method::HEAD;
    match path {
        paths::JWKS | paths::METADATA | paths::SCOPES if !readable => {
            response::method_not_allowed("GET, HEAD")
        }
        paths::JWKS => response::cacheable_json(&issuer.jwks(), issuer.jwks_max_age()),
        paths::METADATA => response::cacheable_json(&ServerMetadata::of(&server), METADATA_MAX_AGE),
        paths::SCOPES => response::json(StatusCode::OK, issuer.scope_registry().scopes()),
        paths::AUTHORIZE => super::authorize::serve(&server, server.flow.as_ref(), parts, body).await,
        paths::DEVICE => super::authorize::device::serve(&server, server.flow.as_ref(), parts, body).await,
        paths::DEVICE_CODE if server.flow.is_none() => response::empty(StatusCode::NOT_FOUND),
        paths::TOKEN | paths::REVOKE | paths::INTROSPECT | paths::DEVICE_CODE if method != Method::POST => {
            response::method_not_allowed("POST")
        }
        paths::TOKEN | paths::REVOKE | paths::INTROSPECT | paths::DEVICE_CODE => {
            let read = read_body(&parts.headers, body).await;
            let form = match read.and_then(|bytes| Form::parse(&parts.headers, &bytes)) {
                Ok(form) => form,
                Err(error) => return response::error(&error),
            };
            let credentials = match client_credentials(&parts.headers, &form) {
                Ok(credentials) => ClientCredentials { peer: server.client_ip(&parts), ..credentials },
                Err(error) => return response::client_error(&error, &parts.headers),
            };
            let outcome = match path {
                paths::TOKEN => token(&server, credentials, &form, &parts.headers).await,
                paths::REVOKE => revoke(issuer, credentials, &form).await,
                paths::DEVICE_CODE => device_authorization(&server, credentials, &form).await,
                _ => introspect(issuer, credentials, &form).await,
            };
            outcome.unwrap_or_else(|error| {
                let mut response = response::client_error(&error, &parts.headers);
                if error.code() == OAuthErrorCode::UseDpopNonce {
                    send_fresh_nonce(&server, &mut response);
                }
                response
            })
        }
        _ => response::empty(StatusCode::NOT_FOUND),
    }
}

async fn authenticate(
    issuer: &Issuer,
    credentials: &ClientCredentials,
) -> Result<AuthenticatedClient, OAuthError> {
    issuer.authenticate_client_from(&credentials.id, credentials.secret.as_deref(), credentials.peer).await
}

async fn token(
    server: &Server,
    credentials: ClientCredentials,
    form: &Form,
    headers: &HeaderMap,
) -> Result<EndpointResponse, OAuthError> {
    let grant_type = form.require("grant_type")?;
    let outcome = grant(server, credentials, form, grant_type, headers).await;
    crate::telemetry::token_request(
        grant_type,
        match &outcome {
            Ok(_) => "issued",
            Err(error) => error.code().as_str(),
        },
    );
    outcome
}

async fn grant(
    server: &Server,
    credentials: ClientCredentials,
    form: &Form,
    grant_type: &str,
    headers: &HeaderMap,
) -> Result<EndpointResponse, OAuthError> {
    let issuer = &server.issuer;
    let client = authenticate(issuer, &credentials).await?;
    // The code and device grants are served only with the sign-in hook their users approve
    // through.
    let approved_in_browser = ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"];
    if approved_in_browser.contains(&grant_type) && server.flow.is_none() {
        return Err(OAuthError::unsupported_grant_type());
    }
    let mut request = TokenRequest::from_form(client, form)?;
    let proof = dpop_proof(server, headers)?;
    if let Some((proof, _)) = &proof {
        request = request.dpop(proof);
    }
    let tokens = issuer.grant(request).await?;
    let mut response = response::json(StatusCode::OK, &tokens);
    if let Some((_, NonceState::Ending)) = proof {
        send_fresh_nonce(server, &mut response);
    }
    Ok(response)
}

/// Puts a fresh nonce into `response`'s `DPoP-Nonce` header, when nonces are required.
fn send_fresh_nonce(server: &Server, response: &mut EndpointResponse) {
    let Some(nonces) = &server.nonces else { return };
    if let Ok(nonce) = HeaderValue::try_from(nonces.issue()) {
        response.headers_mut().insert(DPOP_NONCE, nonce);
    }
}

/// RFC 8628 §3.1–3.2: a device authorization request, answered with the codes.
async fn device_authorization(
    server: &Server,
    credentials: ClientCredentials,
    form: &Form,
) -> Result<EndpointResponse, OAuthError> {
    let client = authenticate(&server.issuer, &credentials).await?;
    let verification_uri = server.endpoint_url(paths::DEVICE);
    let started = server.issuer.device_authorization(&client, form.get("scope"), &verification_uri).await?;
    Ok(response::json(StatusCode::OK, &started))
}

/// The token request's DPoP proof (RFC 9449 §5), verified for this endpoint, with the
/// state of its nonce when nonces are required (§8): `None` without a `DPoP` header;
/// `invalid_dpop_proof` for two, or one that fails its checks; `use_dpop_nonce` for one
/// without a current nonce.
fn dpop_proof(
    server: &Server,
    headers: &HeaderMap,
) -> Result<Option<(VerifiedProof, NonceState)>, OAuthError> {
    let mut proofs = headers.get_all(DPOP).iter();
    let proof = match (proofs.next(), proofs.next()) {
        (None, _) => return Ok(None),
        (Some(proof), None) => proof.to_str().ok(),
        (Some(_), Some(_)) => None,
    };
    let refused = |description: &'static str| OAuthError::new(OAuthErrorCode::InvalidDpopProof, description);
    let proof = proof.ok_or_else(|| refused("The request must carry one DPoP proof"))?;
    let target = ProofTarget::new(Method::POST, &server.endpoint_url(paths::TOKEN))
        .map_err(|_| refused("The token endpoint URL is not absolute"))?;
    let proof = server
        .proofs
        .verify(proof.trim(), &target)
        .map_err(|error| refused(error.description().unwrap_or("The DPoP proof is invalid")))?;
    let nonce = match &server.nonces {
        Some(nonces) => nonces.check(proof.nonce()).map_err(|_| {
            OAuthError::new(OAuthErrorCode::UseDpopNonce, "The DPoP proof must carry the server's nonce")
        })?,
        None => NonceState::Current,
    };
    Ok(Some((proof, nonce)))
}

fn hint(form: &Form) -> Option<TokenTypeHint> {
    match form.get("token_type_hint") {
        Some("access_token") => Some(TokenTypeHint::AccessToken),
        Some("refresh_token") => Some(TokenTypeHint::RefreshToken),
        // An unknown hint is only a hint (RFC 7009 §2.1): search everywhere.
        _ => None,
    }
}

async fn revoke(
    issuer: &Issuer,
    credentials: ClientCredentials,
    form: &Form,
) -> Result<EndpointResponse, OAuthError> {
    let client = authenticate(issuer, &credentials).await?;
    issuer.revoke(&client, form.require("token")?, hint(form)).await?;
    Ok(response::empty(StatusCode::OK))
}

async fn introspect(
    issuer: &Issuer,
    credentials: ClientCredentials,
    form: &Form,
) -> Result<EndpointResponse, OAuthError> {
    let client = authenticate(issuer, &credentials).await?;
    if !client.record().is_confidential() {
        // Introspection reveals token contents: only confidential clients (resource
        // servers) may ask.
        return Err(OAuthError::unauthorized_client("Only confidential clients may introspect tokens"));
    }
    let token = form.require("token")?;
    let answer = issuer.introspect(&client, token, hint(form)).await?;
    Ok(response::json(StatusCode::OK, &answer))
}
