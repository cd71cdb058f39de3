//! One refresh attempt: discovery when needed, then the JWKS, with `ETag` revalidation
//! and `Cache-Control` freshness. No state is touched here but the fetch state.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AGE, CACHE_CONTROL, ETAG, IF_NONE_MATCH, USER_AGENT};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Uri};

use super::builder::{Config, Location};
use super::discovery;
use super::url::display;
use crate::error::BackendError;
use crate::keys::unknown_kid::short;
use crate::keys::KeySet;

/// What only the fetching side knows, behind the fetch lock.
#[derive(Debug, Default)]
pub(super) struct FetchState {
    /// The `ETag` of the set in the current snapshot.
    etag: Option<HeaderValue>,
    /// The `jwks_uri` found by discovery, until a fetch from it fails.
    discovered: Option<Uri>,
    /// Failed attempts since the last success, for the backoff.
    pub(super) failures: u32,
}

/// A successful attempt.
pub(super) enum Outcome {
    /// A new set, with the number of keys skipped and the response's freshness.
    Fresh { keys: KeySet, skipped: usize, max_age: Option<Duration> },
    /// `304 Not Modified`: the current set is still the published one.
    NotModified { max_age: Option<Duration> },
}

/// A failed attempt: what failed, and the underlying error when there is one.
#[derive(Debug)]
struct FetchError {
    what: String,
    source: Option<BackendError>,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl Error for FetchError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_ref().map(|source| source as &(dyn Error + 'static))
    }
}

fn fail(what: String, source: Option<BackendError>) -> BackendError {
    BackendError::new(FetchError { what, source })
}

/// `error` and its sources, joined with `": "`, for logs.
pub(super) fn chain(error: &BackendError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One attempt: discovery if the `jwks_uri` is not known yet, then the JWKS.
pub(super) async fn fetch(config: &Config, state: &mut FetchState) -> Result<Outcome, BackendError> {
    let jwks_uri = match (&config.location, &state.discovered) {
        (Location::Jwks(uri), _) | (Location::Discovery { .. }, Some(uri)) => uri.clone(),
        (Location::Discovery { issuer, metadata }, None) => {
            let uri = discover(config, issuer, metadata).await?;
            state.etag = None;
            state.discovered = Some(uri.clone());
            uri
        }
    };
    let result = fetch_jwks(config, &jwks_uri, state).await;
    if result.is_err() {
        // A discovered jwks_uri is looked up again after a failure: it may have moved.
        state.discovered = None;
    }
    result
}

async fn get(
    config: &Config,
    uri: &Uri,
    etag: Option<&HeaderValue>,
) -> Result<Response<Bytes>, BackendError> {
    let mut request = Request::new(());
    *request.uri_mut() = uri.clone();
    let headers = request.headers_mut();
    headers.insert(ACCEPT, HeaderValue::from_static("application/jwk-set+json, application/json"));
    headers
        .insert(USER_AGENT, HeaderValue::from_static(concat!("tower-passport/", env!("CARGO_PKG_VERSION"))));
    if let Some(etag) = etag {
        headers.insert(IF_NONE_MATCH, etag.clone());
    }
    match tokio::time::timeout(config.settings.timeout, config.client.get(request)).await {
        Err(_elapsed) => {
            Err(fail(format!("GET {} timed out after {:?}", display(uri), config.settings.timeout), None))
        }
        Ok(Err(error)) => Err(fail(format!("GET {} failed", display(uri)), Some(error))),
        Ok(Ok(response)) if response.body().len() > config.settings.max_response_bytes => Err(fail(
            format!(
                "GET {}: the response is larger than {} bytes",
                display(uri),
                config.settings.max_response_bytes
            ),
            None,
        )),
        Ok(Ok(response)) => Ok(response),
    }
}

async fn fetch_jwks(config: &Config, uri: &Uri, state: &mut FetchState) -> Result<Outcome, BackendError> {
    let response = get(config, uri, state.etag.as_ref()).await?;
    let max_age = max_age(response.headers());
    let shown = display(uri);
    match response.status() {
        StatusCode::OK => {
            let text = std::str::from_utf8(response.body())
                .map_err(|_| fail(format!("the JWKS at {shown} is not UTF-8"), None))?;
            let mut skipped = 0;
            let keys = KeySet::from_jwks_lenient(text, &config.settings.jwk_options, |index, kid, reason| {
                skipped += 1;
                tracing::warn!(url = %shown, index, kid = ?kid.map(short), reason, "JWKS key skipped");
            })
            .map_err(|e| fail(format!("the JWKS at {shown} was refused"), Some(BackendError::new(e))))?;
            if keys.is_empty() {
                return Err(fail(format!("the JWKS at {shown} has no usable key ({skipped} skipped)"), None));
            }
            state.etag = response.headers().get(ETAG).cloned();
            Ok(Outcome::Fresh { keys, skipped, max_age })
        }
        StatusCode::NOT_MODIFIED if state.etag.is_some() => Ok(Outcome::NotModified { max_age }),
        status => Err(fail(format!("GET {shown} answered {status}"), None)),
    }
}

async fn discover(config: &Config, issuer: &str, metadata: &[Uri; 2]) -> Result<Uri, BackendError> {
    let mut tried = Vec::with_capacity(metadata.len());
    let mut last_error = None;
    for url in metadata {
        match get(config, url, None).await {
            Ok(response) if response.status() == StatusCode::OK => {
                let found = discovery::jwks_uri(response.body(), issuer, config.settings.allow_http)
                    .map_err(|problem| fail(format!("discovery at {}: {problem}", display(url)), None))?;
                tracing::debug!(issuer, metadata = %display(url), jwks_uri = %display(&found), "discovered");
                return Ok(found);
            }
            Ok(response) => tried.push(format!("{} answered {}", display(url), response.status())),
            Err(error) => {
                tried.push(chain(&error));
                last_error = Some(error);
            }
        }
    }
    Err(fail(format!("discovery for {issuer} failed: {}", tried.join("; ")), last_error))
}

/// How long a response stays fresh: `Cache-Control: max-age` less `Age`; zero for
/// `no-cache` or `no-store`; `None` without a usable directive.
pub(super) fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut max_age = None;
    let directives = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for directive in directives {
        let (name, argument) = match directive.split_once('=') {
            Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
            None => (directive.trim(), None),
        };
        if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            return Some(Duration::ZERO);
        }
        if max_age.is_none() && name.eq_ignore_ascii_case("max-age") {
            max_age = argument.and_then(|seconds| seconds.parse::<u64>().ok());
        }
    }
    let age = headers.get(AGE).and_then(|age| age.to_str().ok()?.trim().parse::<u64>().ok()).unwrap_or(0);
    max_age.map(|seconds| Duration::from_secs(seconds.saturating_sub(age)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn max_age_is_read_among_other_directives() {
        let map = headers(&[("cache-control", "public, max-age=3600, must-revalidate")]);
        assert_eq!(max_age(&map), Some(Duration::from_secs(3600)));
        let map = headers(&[("cache-control", "public"), ("cache-control", "Max-Age=\"60\"")]);
        assert_eq!(max_age(&map), Some(Duration::from_secs(60)));
    }

    #[test]
    fn age_is_subtracted() {
        let map = headers(&[("cache-control", "max-age=600"), ("age", "100")]);
        assert_eq!(max_age(&map), Some(Duration::from_secs(500)));
        let map = headers(&[("cache-control", "max-age=60"), ("age", "100")]);
        assert_eq!(max_age(&map), Some(Duration::ZERO));
    }

    #[test]
    fn no_cache_and_no_store_mean_zero_and_nothing_means_none() {
        assert_eq!(max_age(&headers(&[("cache-control", "no-cache")])), Some(Duration::ZERO));
        assert_eq!(max_age(&headers(&[("cache-control", "max-age=60, no-store")])), Some(Duration::ZERO));
        assert_eq!(max_age(&headers(&[])), None);
        assert_eq!(max_age(&headers(&[("cache-control", "max-age=soon")])), None);
        assert_eq!(max_age(&headers(&[("cache-control", "s-maxage=60")])), None);
    }
}
