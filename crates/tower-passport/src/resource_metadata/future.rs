//! The response future of [`ResourceMetadataService`](super::ResourceMetadataService).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use pin_project_lite::pin_project;

use super::ResourceMetadata;
use crate::body::ResponseBody;
use crate::error::AuthError;

pin_project! {
    /// The inner service's response (its rejections' challenges completed), or the
    /// metadata document.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner { #[pin] future: F, metadata: ResourceMetadata },
        // Taken when answered.
        Document { metadata: Option<ResourceMetadata>, head: bool, allowed: bool },
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn inner(future: F, metadata: ResourceMetadata) -> Self {
        Self { state: State::Inner { future, metadata } }
    }

    pub(super) fn document(metadata: ResourceMetadata, head: bool, allowed: bool) -> Self {
        Self { state: State::Document { metadata: Some(metadata), head, allowed } }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future, metadata } => future.poll(cx).map_ok(|mut response| {
                if response.extensions().get::<AuthError>().is_some() {
                    name_metadata(response.headers_mut(), metadata.url());
                }
                response.map(ResponseBody::inner)
            }),
            StateProj::Document { metadata, head, allowed } => {
                Poll::Ready(Ok(match metadata.take() {
                    Some(metadata) if *allowed => document(&metadata, *head),
                    Some(_) => method_not_allowed(),
                    // Polled again after it answered: an empty 500, as a broken caller deserves.
                    None => status(StatusCode::INTERNAL_SERVER_ERROR),
                }))
            }
        }
    }
}

/// Adds `resource_metadata="url"` to every challenge in `headers` that lacks one, where
/// [`GuardBuilder::resource_metadata`](crate::guard::GuardBuilder::resource_metadata)
/// would have put it: after the realm (or the scheme), so the challenge reads the same
/// either way. A guard's challenge is one `Bearer` (or `DPoP`) challenge per header value.
fn name_metadata(headers: &mut HeaderMap, url: &str) {
    let challenges: Vec<HeaderValue> = headers.get_all(WWW_AUTHENTICATE).iter().cloned().collect();
    if challenges.is_empty() {
        return;
    }
    headers.remove(WWW_AUTHENTICATE);
    for challenge in challenges {
        let completed = match challenge.to_str() {
            // The URL was checked to be printable ASCII without quotes at build().
            Ok(text) if !text.contains("resource_metadata=") => {
                HeaderValue::from_str(&with_metadata(text.trim(), url)).unwrap_or(challenge)
            }
            _ => challenge,
        };
        headers.append(WWW_AUTHENTICATE, completed);
    }
}

/// `challenge` with `resource_metadata="url"` after its realm, else after its scheme.
fn with_metadata(challenge: &str, url: &str) -> String {
    let parameter = format!("resource_metadata=\"{url}\"");
    // The guard's realm is a quoted string without quotes or backslashes.
    let after_realm = challenge
        .find("realm=\"")
        .and_then(|start| challenge[start + 7..].find('"').map(|end| start + 7 + end + 1));
    match (after_realm, challenge.split_once(' ')) {
        (Some(at), _) => format!("{}, {parameter}{}", &challenge[..at], &challenge[at..]),
        (None, Some((scheme, rest))) => format!("{scheme} {parameter}, {rest}"),
        (None, None) => format!("{challenge} {parameter}"),
    }
}

fn document<B>(metadata: &ResourceMetadata, head: bool) -> Response<ResponseBody<B>> {
    let json = metadata.json();
    let body = if head { Bytes::new() } else { json.clone() };
    let mut response = Response::new(ResponseBody::full(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(json.len()));
    response
}

fn method_not_allowed<B>() -> Response<ResponseBody<B>> {
    let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
    response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

fn status<B>(status: StatusCode) -> Response<ResponseBody<B>> {
    let mut response = Response::new(ResponseBody::full(Bytes::new()));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(challenges: &[&'static str]) -> Vec<String> {
        let mut headers = HeaderMap::new();
        for challenge in challenges {
            headers.append(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        name_metadata(&mut headers, "https://api.test/.well-known/oauth-protected-resource");
        headers.get_all(WWW_AUTHENTICATE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn every_challenge_without_resource_metadata_gets_it_where_the_guard_puts_it() {
        let url = r#"resource_metadata="https://api.test/.well-known/oauth-protected-resource""#;
        assert_eq!(
            completed(&[r#"Bearer realm="api", error="invalid_token""#, r#"DPoP algs="ES256""#]),
            [
                format!(r#"Bearer realm="api", {url}, error="invalid_token""#),
                format!(r#"DPoP {url}, algs="ES256""#)
            ]
        );
        assert_eq!(completed(&[r#"Bearer realm="api""#]), [format!(r#"Bearer realm="api", {url}"#)]);
        assert_eq!(completed(&["Bearer"]), [format!("Bearer {url}")]);
        let own = r#"Bearer realm="api", resource_metadata="https://elsewhere.test/m""#;
        assert_eq!(completed(&[own]), [own]);
        assert!(completed(&[]).is_empty());
    }

    #[test]
    fn the_completed_challenge_is_the_one_the_guard_builds_with_the_url_configured() {
        use crate::error::Reason;
        let url = "https://api.test/.well-known/oauth-protected-resource";
        for error in [AuthError::missing_token(), AuthError::invalid_token(Reason::Expired)] {
            let plain = error.challenge("orders", None).unwrap();
            assert_eq!(with_metadata(&plain, url), error.challenge("orders", Some(url)).unwrap());
        }
    }
}
