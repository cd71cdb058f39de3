//! One introspection call (RFC 7662 §2.1): the form `POST`, the client's authentication,
//! and what the answer means (§2.2).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, Request, StatusCode, Uri};
use serde::Deserialize;

use super::cache::Verdict;
use crate::error::{AuthError, Reason};
use crate::keys::remote::{display, HttpClient};
use crate::token::is_json_object;
use crate::verify::introspected::AnswerPolicy;
use crate::BackendError;

/// How the resource server authenticates at the introspection endpoint (RFC 6749 §2.3.1).
#[derive(Clone)]
pub(super) enum ClientAuth {
    /// `client_secret_basic`: the `Authorization: Basic` header, built once (id and
    /// secret form-encoded, then base64), marked sensitive.
    Basic(HeaderValue),
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post { client_id: Box<str>, secret: Box<str> },
}

impl ClientAuth {
    pub(super) fn basic(client_id: &str, secret: &str) -> Result<Self, http::header::InvalidHeaderValue> {
        let encode = |value: &str| form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
        let credentials = STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)));
        let mut header = HeaderValue::from_str(&format!("Basic {credentials}"))?;
        header.set_sensitive(true);
        Ok(Self::Basic(header))
    }
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The method and the client, never the secret.
        match self {
            Self::Basic(_) => f.write_str("client_secret_basic"),
            Self::Post { client_id, .. } => write!(f, "client_secret_post({client_id:?})"),
        }
    }
}

/// What a call needs, shared by every call of one introspector.
pub(super) struct Caller {
    pub(super) client: Box<dyn HttpClient>,
    pub(super) auth: ClientAuth,
    pub(super) timeout: Duration,
    pub(super) max_response_bytes: usize,
    pub(super) policy: AnswerPolicy,
}

/// The members read before the claims: whether the token is active, and its type.
#[derive(Deserialize)]
struct Envelope<'a> {
    active: bool,
    #[serde(borrow, default)]
    token_type: Option<Cow<'a, str>>,
    /// Ory Hydra's statement of what the token is: `access_token` or `refresh_token`.
    #[serde(borrow, default)]
    token_use: Option<Cow<'a, str>>,
}

impl Caller {
    /// Asks `endpoint` about `token` at `now`: the verdict (the token, or the 401 the answer
    /// earns), or a 503 when there is no usable answer.
    pub(super) async fn call(&self, endpoint: &Uri, token: &str, now: u64) -> Verdict {
        let shown = display(endpoint);
        let unavailable = |problem: String, source: Option<BackendError>| {
            let error = match source {
                Some(source) => BackendError::new(CallError { problem, source }),
                None => BackendError::msg(problem),
            };
            AuthError::unavailable(Reason::IntrospectionUnavailable, error)
        };
        let request = self.request(endpoint, token).map_err(|error| {
            unavailable(
                format!("cannot build the introspection request to {shown}"),
                Some(BackendError::new(error)),
            )
        })?;
        let response = match tokio::time::timeout(self.timeout, self.client.post(request)).await {
            Err(_elapsed) => {
                return Err(unavailable(format!("POST {shown} timed out after {:?}", self.timeout), None))
            }
            Ok(Err(error)) => return Err(unavailable(format!("POST {shown} failed"), Some(error))),
            Ok(Ok(response)) => response,
        };
        if response.status() != StatusCode::OK {
            return Err(unavailable(format!("POST {shown} answered {}", response.status()), None));
        }
        if response.body().len() > self.max_response_bytes {
            return Err(unavailable(
                format!("POST {shown}: the answer is larger than {} bytes", self.max_response_bytes),
                None,
            ));
        }
        match self.judge(response.body(), now) {
            Ok(verdict) => verdict,
            Err(problem) => Err(unavailable(format!("POST {shown}: {problem}"), None)),
        }
    }

    /// The verdict an answer earns, or why it is no RFC 7662 answer at all.
    fn judge(&self, body: &[u8], now: u64) -> Result<Verdict, &'static str> {
        const NOT_AN_ANSWER: &str = "the answer is not a JSON object with a boolean \"active\"";
        let text = std::str::from_utf8(body).map_err(|_| "the answer is not UTF-8")?;
        if !is_json_object(body) {
            return Err(NOT_AN_ANSWER);
        }
        let envelope: Envelope<'_> = serde_json::from_str(text).map_err(|_| NOT_AN_ANSWER)?;
        if !envelope.active {
            return Ok(Err(AuthError::invalid_token(Reason::InactiveToken)));
        }
        // An access token's type is the RFC 6749 §7.1 one: a refresh token's answer, or a
        // DPoP-bound token's, is not a bearer access token.
        let bearer = envelope.token_type.is_none_or(|kind| kind.eq_ignore_ascii_case("bearer"));
        let access = envelope.token_use.is_none_or(|used| used == "access_token");
        if !(bearer && access) {
            return Ok(Err(AuthError::invalid_token(Reason::WrongType)));
        }
        match self.policy.check(text, now) {
            Err(error) if error.reason() == Reason::MalformedClaims => {
                Err("the answer's members are not of the RFC 7662 types")
            }
            verdict => Ok(verdict),
        }
    }

    fn request(&self, endpoint: &Uri, token: &str) -> Result<Request<Bytes>, http::Error> {
        let mut form = form_urlencoded::Serializer::new(String::with_capacity(token.len() + 64));
        form.append_pair("token", token).append_pair("token_type_hint", "access_token");
        if let ClientAuth::Post { client_id, secret } = &self.auth {
            form.append_pair("client_id", client_id).append_pair("client_secret", secret);
        }
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(endpoint.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("tower-passport/", env!("CARGO_PKG_VERSION")))
            .body(Bytes::from(form.finish()))?;
        if let ClientAuth::Basic(header) = &self.auth {
            request.headers_mut().insert(AUTHORIZATION, header.clone());
        }
        Ok(request)
    }
}

/// A failed call: what failed, and the client's error.
#[derive(Debug)]
struct CallError {
    problem: String,
    source: BackendError,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem)
    }
}

impl std::error::Error for CallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
