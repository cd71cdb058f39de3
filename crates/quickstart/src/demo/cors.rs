//! CORS for the apps on other origins that call the demo API with the first-party cookie
//! (`PASSPORT_COOKIE_ORIGINS`, each also given to `FirstPartyCookie::allow_origin`). A
//! browser shows such a page the API's answer, and sends the cookie along, only when the
//! API names the page's origin in `Access-Control-Allow-Origin` and allows credentials.
//! Preflights (a `POST` with `X-XSRF-TOKEN`) are answered here, before the guard, which
//! would refuse them: they carry no cookie. Other origins get no CORS header at all.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use http::{HeaderValue, Method, StatusCode};

/// Answers the `origins` (`scheme://host[:port]`) with CORS headers on every route of
/// `api`; with none, `api` is left as it is.
pub fn allow(api: Router, origins: &[String]) -> Router {
    if origins.is_empty() {
        return api;
    }
    api.layer(from_fn_with_state(Arc::<[String]>::from(origins), cors))
}

async fn cors(State(origins): State<Arc<[String]>>, request: Request, next: Next) -> Response {
    let listed = request
        .headers()
        .get(ORIGIN)
        .filter(|origin| {
            origin.to_str().is_ok_and(|origin| origins.iter().any(|o| o.eq_ignore_ascii_case(origin)))
        })
        .cloned();
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = match (&listed, preflight) {
        (Some(_), true) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            let headers = response.headers_mut();
            headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, DELETE"));
            headers.insert(
                ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type, x-xsrf-token, x-csrf-token"),
            );
            headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
            response
        }
        _ => next.run(request).await,
    };
    let headers = response.headers_mut();
    // The answer depends on the origin: no shared cache may hand it to another.
    headers.append(VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = listed {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
    response
}
