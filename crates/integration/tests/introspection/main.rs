//! Opaque tokens through RFC 7662 introspection: the guard against a programmable loopback
//! endpoint (answers, faults, caching, single flight, the in-flight bound, mixed mode,
//! discovery), against this workspace's own issuer over loopback, and against
//! oidc-provider, a certified authorization server, run by Node.

#[path = "../support/issuer.rs"]
mod issuer_support;
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/tools.rs"]
mod tools;

mod endpoint;
mod faults;
mod oidc_provider;
mod own_issuer;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tower::util::BoxCloneService;
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::error::{AuthError, Reason};
use tower_passport::{GuardLayer, Principal, RequireLayer};

/// A guarded service: the guard, optionally an all-of scope check, and a handler that
/// answers with the principal it was given and counts the requests that reached it.
#[derive(Clone)]
pub struct Guarded {
    service: Boxed,
    reached: Arc<AtomicUsize>,
}

/// A guarded service's answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub challenge: Option<String>,
    pub reason: Option<Reason>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("a JSON body: {self:?}"))
    }

    pub fn assert_invalid_token(&self, reason: Reason) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{self:?}");
        assert_eq!(self.reason, Some(reason), "{self:?}");
        let challenge = self.challenge.as_deref().expect("a challenge");
        assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");
    }

    pub fn assert_unavailable(&self) {
        assert_eq!(self.status, StatusCode::SERVICE_UNAVAILABLE, "{self:?}");
        assert_eq!(self.reason, Some(Reason::IntrospectionUnavailable), "{self:?}");
        assert_eq!(self.challenge, None, "a 503 has no challenge");
    }
}

type Boxed = BoxCloneService<Request<Full<Bytes>>, Response<Full<Bytes>>, Infallible>;

/// `service`, its response body collected.
fn with_bytes<S, B>(service: S) -> Boxed
where
    S: tower::Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: std::fmt::Debug,
{
    BoxCloneService::new(service.and_then(|response: Response<B>| async move {
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.map(|body| body.to_bytes()).expect("body");
        Ok::<_, Infallible>(Response::from_parts(parts, Full::new(bytes)))
    }))
}

impl Guarded {
    pub fn new(guard: GuardLayer, scopes: &[&str]) -> Self {
        let reached = Arc::new(AtomicUsize::new(0));
        let counter = reached.clone();
        let handler = tower::service_fn(move |request: Request<Full<Bytes>>| {
            counter.fetch_add(1, Ordering::SeqCst);
            let principal = request.extensions().get::<Principal>().cloned();
            async move {
                let principal = principal.expect("the guard put a principal in");
                let body = json!({
                    "sub": principal.subject(),
                    "client_id": principal.client_id(),
                    "issuer": principal.token().issuer(),
                    "kind": format!("{:?}", principal.kind()),
                    "scopes": principal.scopes().iter().collect::<Vec<_>>(),
                });
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body.to_string()))))
            }
        });
        let service = match scopes {
            [] => with_bytes(ServiceBuilder::new().layer(guard).service(handler)),
            scopes => with_bytes(
                ServiceBuilder::new()
                    .layer(guard)
                    .layer(RequireLayer::all_scopes(scopes.iter().copied()))
                    .service(handler),
            ),
        };
        Self { service, reached }
    }

    /// Sends a request with `Authorization: Bearer token`.
    pub fn ask(&self, token: &str) -> impl std::future::Future<Output = Answer> + Send + 'static {
        let (service, token) = (self.service.clone(), token.to_owned());
        async move {
            let request = Request::builder()
                .uri("/orders")
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .body(Full::new(Bytes::new()))
                .expect("request");
            let response = service.oneshot(request).await.expect("infallible");
            let reason = response.extensions().get::<AuthError>().map(AuthError::reason);
            let challenge = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .map(|value| value.to_str().expect("ascii").to_owned());
            let status = response.status();
            let body = response.into_body().collect().await.expect("body").to_bytes();
            Answer { status, challenge, reason, body: String::from_utf8_lossy(&body).into_owned() }
        }
    }

    /// How many requests reached the handler.
    pub fn reached(&self) -> usize {
        self.reached.load(Ordering::SeqCst)
    }
}
