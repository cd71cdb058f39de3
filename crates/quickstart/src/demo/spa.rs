//! The quickstart's first-party page (Passport's `CreateFreshApiToken`): `GET /demo/spa`, for
//! the signed-in user, calls the demo API from its own JavaScript with no token handling.
//! The [`FreshApiTokenLayer`](tower_passport_issuer::endpoint::FreshApiTokenLayer) around the web pages gives the browser the `laravel_token`
//! cookie (`HttpOnly`) and the `XSRF-TOKEN` cookie; the API's guard accepts the first, and
//! the script sends the second back as `X-XSRF-TOKEN` on the call that changes something.
//!
//! | route | what |
//! |---|---|
//! | `GET /demo/spa` | the page (signed in), or the sign-in page that comes back to it |
//! | `GET /demo/spa.js` | its script: `GET /api/user` on load, `POST /api/posts` on a click |

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, X_FRAME_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use tower_passport::cookie::CsrfToken;
use tower_passport_issuer::endpoint::escape_html;
use tower_sessions::Session;

/// The page's path.
pub const SPA_PATH: &str = "/demo/spa";

/// Scripts and connections to this origin only, no inline script.
const POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
                      frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const SCRIPT: &str = r#"// The quickstart's first-party page: the browser holds the laravel_token cookie, so
// these calls need no token. Calls that change something send the XSRF-TOKEN cookie back.
const xsrf = () => document.cookie.split('; ').find((c) => c.startsWith('XSRF-TOKEN='))?.slice(11) ?? '';
const show = (id, text) => { document.getElementById(id).textContent = text; };
async function call(path, init) {
  const response = await fetch(path, init);
  return `${response.status} ${await response.text()}`;
}
window.addEventListener('DOMContentLoaded', async () => {
  show('user', await call('/api/user'));
  document.getElementById('post').addEventListener('click', async () => {
    show('created', await call('/api/posts', { method: 'POST', headers: { 'X-XSRF-TOKEN': xsrf() } }));
  });
});
"#;

/// The page and its script, for the session layer and the cookie layer to wrap.
pub fn routes() -> Router {
    Router::new().route(SPA_PATH, get(page)).route("/demo/spa.js", get(script))
}

async fn page(session: Session, csrf: Option<Extension<CsrfToken>>) -> Response {
    let user: Option<String> = session.get(super::sign_in::USERNAME).await.ok().flatten();
    let Some(user) = user else {
        let mut response = StatusCode::SEE_OTHER.into_response();
        response.headers_mut().insert(LOCATION, HeaderValue::from_static("/login?next=%2Fdemo%2Fspa"));
        return response;
    };
    // The CSRF token is also in the request, for a page that prefers a meta tag and
    // `X-CSRF-TOKEN` (as Laravel's Blade layouts do).
    let meta = csrf.map_or_else(String::new, |Extension(token)| {
        format!("<meta name=\"csrf-token\" content=\"{}\">\n", escape_html(token.as_str()))
    });
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n{meta}\
         <title>First-party page</title>\n<link rel=\"stylesheet\" href=\"/demo/style.css\">\n\
         <script src=\"/demo/spa.js\" defer></script>\n</head>\n<body>\n<main>\n\
         <h1>Hello, {}</h1>\n\
         <p class=\"muted\">This page calls the API with the first-party cookie: no token in sight.</p>\n\
         <p><strong>GET /api/user</strong></p>\n<pre id=\"user\">…</pre>\n\
         <button id=\"post\" type=\"button\">POST /api/posts</button>\n<pre id=\"created\"></pre>\n\
         </main>\n</body>\n</html>\n",
        escape_html(&user)
    );
    let headers = [
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
        (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ];
    (headers, Html(html)).into_response()
}

async fn script() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "no-cache")], SCRIPT)
}
