//! The quickstart's demo sign-in, the app's side of the authorization code flow: a plain
//! HTML sign-in form for the demo users (the same `DEMO_USER` / `DEMO_PASSWORD` and
//! `DEMO_USER2` / `DEMO_PASSWORD2` the password grant takes) over a real session layer
//! (tower-sessions, in memory), the
//! [`SignedInUser`](tower_passport_issuer::endpoint::SignedInUser) hook that reads that session,
//! and (in `callback.rs`) the demo third-party app's callback page, which shows the code
//! it was sent.
//!
//! | route | what |
//! |---|---|
//! | `GET /login?next=…` | the sign-in form |
//! | `POST /login` | signs in, then follows `next` if it is a path on this origin |
//! | `POST /logout` | signs out, and revokes the first-party cookies sealed until then |
//! | `GET /demo-app/callback` | the demo app's redirect URI: shows `code`, `state`, `iss` |
//! | `GET /demo/style.css` | the pages' stylesheet (their CSP allows no inline style) |
//!
//! The session cookie is `HttpOnly` and `SameSite=Lax` (`Secure` when the issuer is
//! https), so no other site can post a form with it; the sign-in form also carries a token
//! kept in the session, which a cross-site post cannot know (login CSRF). Signing in
//! renews the session id (session fixation). Passwords are checked by the issuer
//! (`Issuer::sign_in`): off the executor, and throttled like the password grant, per
//! account (the same count) and per client address; a throttled sign-in answers 429 with
//! `Retry-After`.

use std::future::Future;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, RETRY_AFTER, X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tower::layer::util::Stack;
use tower::util::MapResponseLayer;
use tower_passport::BackendError;
use tower_passport_issuer::endpoint::{
    escape_html, private_if_setting_cookies, OAuthRoutes, SignIn, SignInRequest,
};
use tower_passport_issuer::{Issuer, OAuthError};
use tower_sessions::cookie::time::Duration;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, MemoryStore, Session, SessionManagerLayer};

/// The session keys: who is signed in (their `sub`, the name they signed in with, and a
/// random value new on every sign-in), and the sign-in form's token.
const USER_ID: &str = "user_id";
const SIGN_IN_ID: &str = "sign_in_id";
pub const USERNAME: &str = "username";
const FORM_TOKEN: &str = "sign_in_token";

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "quickstart_session";

/// The sign-in page's path (the hook sends the browser here).
pub const LOGIN_PATH: &str = "/login";

/// The demo third-party app's callback path on the quickstart (its default redirect URI).
pub const CALLBACK_PATH: &str = "/demo-app/callback";

/// The demo pages' policy: the stylesheet from this origin, no script, no framing. No
/// `form-action`: browsers hold the redirects after a form post to it, and signing in ends,
/// through `/oauth/authorize`, at a client's redirect URI when the screen is skipped.
const POLICY: &str = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1c2024;--muted:#5b6470;--bg:#f3f4f6;--card:#fff;--line:#d9dde3;--accent:#1d4ed8;--bad:#b42318}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--muted:#a3acb8;--bg:#15171a;--card:#202327;--line:#3a3f46;--accent:#7aa2ff;--bad:#ff8a80}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:1rem;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}
main{width:100%;max-width:28rem;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.5rem}
h1{font-size:1.25rem;margin:0 0 .75rem}
p{margin:.5rem 0}
.muted{color:var(--muted);font-size:.9rem}
.error{color:var(--bad);font-weight:600}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input{width:100%;min-height:2.75rem;padding:.5rem .75rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--line);border-radius:8px}
button{width:100%;min-height:2.75rem;margin-top:1.25rem;border-radius:8px;font:inherit;font-weight:600;cursor:pointer;border:1px solid var(--accent);background:var(--accent);color:#fff}
input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
dl{margin:.75rem 0;display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere;font-family:ui-monospace,monospace;font-size:.9rem}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:.75rem;font-size:.85rem}
";

/// What the sign-in routes need: the issuer (whose password-grant users sign in here, under
/// its throttle) and this deployment's origin, the only one `next` may lead to.
#[derive(Clone)]
pub struct SignInPages {
    issuer: Issuer,
    oauth: OAuthRoutes,
    origin: Arc<str>,
    pub(super) token_url: Arc<str>,
    pub(super) redirect_uri: Arc<str>,
}

impl SignInPages {
    /// Users sign in through `oauth`'s issuer (at the address `oauth` reads); its URL's origin is where `next` may go; the callback
    /// page shows an exchange against its token endpoint for `redirect_uri`.
    pub fn new(oauth: OAuthRoutes, token_url: &str, redirect_uri: &str) -> Self {
        let issuer = oauth.issuer().clone();
        Self {
            origin: origin(issuer.issuer_url()).into(),
            issuer,
            oauth,
            token_url: token_url.into(),
            redirect_uri: redirect_uri.into(),
        }
    }

    /// The routes, without the session layer (put [`session_layer`] around them and the
    /// authorization endpoint both).
    pub fn routes(self) -> Router {
        Router::new()
            .route(LOGIN_PATH, get(show_form).post(sign_in))
            .route("/logout", post(sign_out))
            .route("/demo/style.css", get(stylesheet))
            .with_state(self)
    }
}

/// How long a session lives without a request: an hour. The first-party cookie lives no
/// longer (see `quickstart::build`).
pub const SESSION_IDLE: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// The session layer: sessions in memory (a real app would use a shared store), an
/// `HttpOnly`, `SameSite=Lax` cookie, `Secure` when `secure`, ending after
/// [`SESSION_IDLE`]. It renews the cookie on any response whose request read the session,
/// a stylesheet's included: every response that sets a cookie is made private
/// ([`private_if_setting_cookies`]), so no shared cache keeps it.
pub fn session_layer(
    secure: bool,
) -> Stack<SessionManagerLayer<MemoryStore>, MapResponseLayer<PrivateCookies>> {
    let idle = Duration::seconds(i64::try_from(SESSION_IDLE.as_secs()).unwrap_or(i64::MAX));
    let sessions = SessionManagerLayer::new(MemoryStore::default())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(idle));
    Stack::new(sessions, MapResponseLayer::new(private_cookies as PrivateCookies))
}

/// What the session layer's responses go through.
pub type PrivateCookies = fn(Response) -> Response;

fn private_cookies(mut response: Response) -> Response {
    private_if_setting_cookies(response.headers_mut());
    response
}

/// The [`SignedInUser`](tower_passport_issuer::endpoint::SignedInUser) hook: the user of the
/// session the session layer put in the request's extensions, with the random value that
/// sign-in stored (so an approval form is good only in the sign-in it was shown in: not
/// after signing out and in again, even as the same user), or the sign-in page, which
/// comes back here afterwards. `prompt=login` always signs in again.
pub fn signed_in_user(request: &SignInRequest<'_>) -> impl Future<Output = Result<SignIn, BackendError>> {
    let session = request.parts().extensions.get::<Session>().cloned();
    let sign_in = format!("{LOGIN_PATH}?next={}", request.return_to_encoded());
    let reauthenticate = request.reauthenticate();
    async move {
        let Some(session) = session else {
            return Err(BackendError::msg("no session layer in front of /oauth/authorize"));
        };
        let user: Option<String> = session.get(USER_ID).await.map_err(BackendError::new)?;
        let sign_in_id: Option<String> = session.get(SIGN_IN_ID).await.map_err(BackendError::new)?;
        Ok(match (user, sign_in_id) {
            (Some(user), Some(sign_in_id)) if !reauthenticate => SignIn::user_in_session(user, sign_in_id),
            _ => SignIn::Redirect(sign_in),
        })
    }
}

/// `next` as a path on `origin`, or `None`: a path (`/…`, not `//…`, no backslash, no
/// control character or space) or an absolute URL on exactly this origin. Never another
/// site, so the sign-in page is no open redirector.
pub fn local_path<'a>(next: &'a str, origin: &str) -> Option<&'a str> {
    let path = next.strip_prefix(origin).unwrap_or(next);
    let safe = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.bytes().any(|b| b.is_ascii_control() || b == b' ');
    safe.then_some(path)
}

/// `scheme://host[:port]` of `url`.
pub fn origin(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    format!("{scheme}://{}", &rest[..end])
}

pub(super) fn page(status: StatusCode, title: &str, main: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{}</title>\n\
         <link rel=\"stylesheet\" href=\"/demo/style.css\">\n</head>\n<body>\n<main>\n{main}\n</main>\n</body>\n</html>\n",
        escape_html(title)
    );
    let headers = [
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
        (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ];
    (status, headers, Html(html)).into_response()
}

/// A sign-in the issuer refused: throttled (429, `Retry-After`) or unable to check (503).
fn refused(error: &OAuthError) -> Response {
    let Some(seconds) = error.retry_after() else {
        tracing::error!(%error, "the demo user check failed");
        return page(StatusCode::SERVICE_UNAVAILABLE, "Try again", "<h1>Something went wrong</h1>");
    };
    let main = format!(
        "<h1>Too many attempts</h1>\n<p class=\"error\" role=\"alert\">Too many failed sign-ins. \
         Try again in {seconds} second{}.</p>",
        if seconds == 1 { "" } else { "s" }
    );
    let mut response = page(StatusCode::TOO_MANY_REQUESTS, "Try again later", &main);
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn session_failed(error: tower_sessions::session::Error) -> Response {
    tracing::error!(%error, "the demo session store failed");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "<h1>Something went wrong</h1><p>Try again in a moment.</p>",
    )
}

/// A fresh random token (256 bits, base64url).
fn random_token() -> Result<String, aws_lc_rs::error::Unspecified> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// `GET /login`: the form, with a token kept in the session.
async fn show_form(
    State(pages): State<SignInPages>,
    session: Session,
    Query(query): Query<Next>,
) -> Response {
    let next = query.next.unwrap_or_default();
    match form_page(&pages, &session, &next, None).await {
        Ok(response) => response,
        Err(error) => session_failed(error),
    }
}

async fn form_page(
    pages: &SignInPages,
    session: &Session,
    next: &str,
    error: Option<&str>,
) -> Result<Response, tower_sessions::session::Error> {
    let token = match session.get::<String>(FORM_TOKEN).await? {
        Some(token) => token,
        None => {
            let Ok(token) = random_token() else {
                return Ok(page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Try again",
                    "<h1>Something went wrong</h1>",
                ));
            };
            session.insert(FORM_TOKEN, &token).await?;
            token
        }
    };
    let signed_in: Option<String> = session.get(USERNAME).await?;
    let status = match signed_in {
        Some(name) => {
            format!("<p class=\"muted\">You are signed in as <strong>{}</strong>.</p>", escape_html(&name))
        }
        None => String::new(),
    };
    let (code, alert) = match error {
        Some(message) => (
            StatusCode::UNAUTHORIZED,
            format!("<p class=\"error\" role=\"alert\">{}</p>", escape_html(message)),
        ),
        None => (StatusCode::OK, String::new()),
    };
    let continuing =
        if local_path(next, &pages.origin).is_some_and(|path| path.starts_with("/oauth/authorize")) {
            "<p class=\"muted\">Sign in to continue to the authorization request.</p>"
        } else {
            ""
        };
    let main = format!(
        "<h1>Sign in to the quickstart</h1>\n{status}{continuing}{alert}\n\
         <form method=\"post\" action=\"{LOGIN_PATH}\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\n\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\n\
         <label for=\"username\">Email</label>\n\
         <input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" spellcheck=\"false\" required autofocus>\n\
         <label for=\"password\">Password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
         <button type=\"submit\">Sign in</button>\n</form>\n\
         <p class=\"muted\">The demo users are the two the quickstart printed (DEMO_USER, DEMO_USER2).</p>",
        escape_html(next),
        escape_html(&token),
    );
    Ok(page(code, "Sign in", &main))
}

/// The sign-in form, as posted (`application/x-www-form-urlencoded`).
#[derive(Default)]
struct Credentials {
    username: String,
    password: String,
    next: String,
    token: String,
}

impl Credentials {
    fn parse(body: &str) -> Self {
        let mut form = Self::default();
        for (name, value) in form_urlencoded::parse(body.as_bytes()) {
            let field = match &*name {
                "username" => &mut form.username,
                "password" => &mut form.password,
                "next" => &mut form.next,
                "token" => &mut form.token,
                _ => continue,
            };
            *field = value.into_owned();
        }
        form
    }
}

/// `POST /login`: checks the form token and the password, renews the session id, stores
/// the user, then follows `next` if it stays on this origin.
async fn sign_in(State(pages): State<SignInPages>, session: Session, parts: Parts, body: String) -> Response {
    let peer = pages.oauth.client_ip(&parts);
    match try_sign_in(&pages, &session, Credentials::parse(&body), peer).await {
        Ok(response) => response,
        Err(error) => session_failed(error),
    }
}

async fn try_sign_in(
    pages: &SignInPages,
    session: &Session,
    form: Credentials,
    peer: Option<std::net::IpAddr>,
) -> Result<Response, tower_sessions::session::Error> {
    let expected: Option<String> = session.get(FORM_TOKEN).await?;
    let token_ok =
        expected.is_some_and(|expected| bool::from(expected.as_bytes().ct_eq(form.token.as_bytes())));
    if !token_ok {
        let message = "This sign-in form has expired. Please sign in again.";
        return form_page(pages, session, &form.next, Some(message)).await;
    }
    let user = match pages.issuer.sign_in(&form.username, &form.password, peer).await {
        Ok(user) => user,
        Err(error) => return Ok(refused(&error)),
    };
    let Some(user_id) = user else {
        return form_page(pages, session, &form.next, Some("That email and password do not match.")).await;
    };
    let Ok(sign_in_id) = random_token() else {
        return Ok(page(StatusCode::INTERNAL_SERVER_ERROR, "Try again", "<h1>Something went wrong</h1>"));
    };
    session.cycle_id().await?;
    session.insert(USER_ID, &user_id).await?;
    session.insert(SIGN_IN_ID, &sign_in_id).await?;
    session.insert(USERNAME, &form.username).await?;
    let location = local_path(&form.next, &pages.origin).unwrap_or(LOGIN_PATH);
    let mut response = StatusCode::SEE_OTHER.into_response();
    match HeaderValue::from_str(location) {
        Ok(value) => response.headers_mut().insert(LOCATION, value),
        Err(_) => response.headers_mut().insert(LOCATION, HeaderValue::from_static(LOGIN_PATH)),
    };
    Ok(response)
}

/// `POST /logout`: revokes the user's first-party cookies, then ends the session (with
/// the form token, as signing in needs). If the revocation fails, the session stays, so
/// that signing out again can finish it.
async fn sign_out(State(pages): State<SignInPages>, session: Session, body: String) -> Response {
    let form = Credentials::parse(&body);
    let (expected, user) =
        match (session.get::<String>(FORM_TOKEN).await, session.get::<String>(USER_ID).await) {
            (Ok(expected), Ok(user)) => (expected, user),
            (Err(error), _) | (_, Err(error)) => return session_failed(error),
        };
    if expected.is_some_and(|expected| bool::from(expected.as_bytes().ct_eq(form.token.as_bytes()))) {
        if let Some(user) = &user {
            if let Err(error) = pages.issuer.revoke_first_party_cookies(user).await {
                tracing::error!(%error, "could not revoke the first-party cookies of a user signing out");
                let main =
                    "<h1>Something went wrong</h1><p>You are still signed in. Try again in a moment.</p>";
                return page(StatusCode::SERVICE_UNAVAILABLE, "Try again", main);
            }
        }
        if let Err(error) = session.flush().await {
            return session_failed(error);
        }
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(LOCATION, HeaderValue::from_static(LOGIN_PATH));
    response
}

async fn stylesheet() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")], STYLE)
}
