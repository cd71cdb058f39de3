//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the API says which authorization
//! server its tokens come from.
//!
//! A client that knows only the API's URL calls it, gets a 401 whose challenge names
//! `resource_metadata`, fetches that document, and reads `authorization_servers` there;
//! each is an issuer whose RFC 8414 metadata (`/.well-known/oauth-authorization-server`)
//! names its token endpoint. The client checks that the document's `resource` is the URL
//! it started from (§3.3) and that the authorization server's `issuer` is the one listed
//! (RFC 8414 §3.3). Nothing is configured by hand on the client, so a client can no longer
//! be set up with the wrong authorization server, or be talked into a phishing one by a
//! document that some other origin serves: the API's own origin vouches for its issuer.
//!
//! [`ResourceMetadataLayer`] goes around the whole API, outside the
//! [`GuardLayer`](crate::GuardLayer), and does two things:
//!
//! - it answers `GET` (and `HEAD`) at [`ResourceMetadata::path`] with the document,
//!   without a token;
//! - every rejection of a guard or scope layer behind it that has no `resource_metadata`
//!   in its `WWW-Authenticate` challenge gets one naming [`ResourceMetadata::url`]. A
//!   guard built with [`GuardBuilder::resource_metadata`](crate::guard::GuardBuilder::resource_metadata)
//!   keeps its own.
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_passport::resource_metadata::{ResourceMetadata, ResourceMetadataLayer};
//! use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
//! let verifier = Verifier::builder(keys).issuer("https://auth.example.com").audience("https://api.example.com").build()?;
//! let metadata = ResourceMetadata::builder("https://api.example.com")
//!     .authorization_server("https://auth.example.com")
//!     .scopes_supported(["check-status"])
//!     .build()?;
//!
//! let api = ServiceBuilder::new()
//!     .layer(ResourceMetadataLayer::new(metadata))
//!     .layer(GuardLayer::new(verifier))
//!     .service_fn(|_: Request<Full<Bytes>>| async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("ok")))) });
//!
//! // No token: the challenge says where the metadata is.
//! let response = api.clone().oneshot(Request::new(Full::default())).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(
//!     response.headers()["www-authenticate"],
//!     r#"Bearer realm="api", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#
//! );
//!
//! // And there it is, without a token.
//! let request = Request::get("/.well-known/oauth-protected-resource").body(Full::default())?;
//! let response = api.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let document: serde_json::Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
//! assert_eq!(document["authorization_servers"][0], "https://auth.example.com");
//! # Ok(())
//! # }
//! ```
//!
//! In axum, `Router::layer(ResourceMetadataLayer::new(metadata))` after the guard's
//! `route_layer`.

mod document;
pub mod future;
mod layer;

use std::task::{Context, Poll};

use http::{Method, Request, Response};
use tower_service::Service;

use crate::body::ResponseBody;

pub use document::{BearerMethod, ResourceMetadata, ResourceMetadataBuilder, WELL_KNOWN_PATH};
pub use layer::ResourceMetadataLayer;

use future::ResponseFuture;

/// Serves a [`ResourceMetadata`] document in front of `S`, and names it in the challenges
/// of the rejections `S` answers with (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct ResourceMetadataService<S> {
    inner: S,
    metadata: ResourceMetadata,
}

impl<S> ResourceMetadataService<S> {
    /// Wraps `inner`.
    pub const fn new(inner: S, metadata: ResourceMetadata) -> Self {
        Self { inner, metadata }
    }

    inner_service_accessors! {}
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ResourceMetadataService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if request.uri().path() != self.metadata.path() {
            return ResponseFuture::inner(self.inner.call(request), self.metadata.clone());
        }
        let method = request.method();
        ResponseFuture::document(
            self.metadata.clone(),
            *method == Method::HEAD,
            *method == Method::GET || *method == Method::HEAD,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use bytes::Bytes;
    use http::{Request, Response, StatusCode};
    use http_body_util::{BodyExt, Full};
    use tower::{ServiceBuilder, ServiceExt};

    use super::*;

    fn metadata() -> ResourceMetadata {
        ResourceMetadata::builder("https://api.test/v1")
            .authorization_server("https://auth.test")
            .build()
            .unwrap()
    }

    /// An inner service that answers 401 with a challenge of its own, not a guard's.
    async fn not_a_guard(_: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
        let mut response = Response::new(Full::new(Bytes::from("inner")));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Basic"));
        Ok(response)
    }

    async fn call(method: http::Method, path: &str) -> Response<ResponseBody<Full<Bytes>>> {
        let service =
            ServiceBuilder::new().layer(ResourceMetadataLayer::new(metadata())).service_fn(not_a_guard);
        let request = Request::builder().method(method).uri(path).body(Full::default()).unwrap();
        service.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn head_answers_the_headers_and_other_methods_are_not_allowed() {
        let path = "/.well-known/oauth-protected-resource/v1";
        let head = call(http::Method::HEAD, path).await;
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(head.headers()["content-length"], metadata().json().len().to_string());
        assert!(head.into_body().collect().await.unwrap().to_bytes().is_empty());
        let post = call(http::Method::POST, path).await;
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()["allow"], "GET, HEAD");
    }

    #[tokio::test]
    async fn other_paths_and_responses_that_are_no_guards_rejection_pass_untouched() {
        // The document lives under the resource's path, not at the root.
        let root = call(http::Method::GET, "/.well-known/oauth-protected-resource").await;
        assert_eq!(root.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(root.headers()["www-authenticate"], "Basic", "no AuthError, no change");
        assert_eq!(root.into_body().collect().await.unwrap().to_bytes(), "inner");
    }
}
