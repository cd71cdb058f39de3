//! The quickstart's side of the authorization code flow over HTTP (no browser): the
//! printed walkthrough on the default store (SQLite) and the default redirect URI (the
//! quickstart's own callback page), and the demo sign-in page's defences: `next` stays on
//! this origin, the form needs its session token, a wrong password signs nobody in, failed
//! sign-ins are throttled (with the password grant's count), and the callback page escapes
//! what it shows.

use crate::in_process as quickstart;

use http::header::{LOCATION, SET_COOKIE};
use http::{HeaderMap, StatusCode};
use quickstart::demo::quickstart::{pkce_pair, QuickstartConfig};
use quickstart::demo::sign_in::{local_path, origin, CALLBACK_PATH, SESSION_COOKIE};
use quickstart::{start, start_sqlite, text, QuickstartApp};
use tower_passport_issuer::Backoff;

/// The value of a hidden input `name` in `html` (its escaping undone for `&amp;`).
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].replace("&amp;", "&")
}

fn location(headers: &HeaderMap) -> String {
    headers[LOCATION].to_str().expect("ascii").to_owned()
}

/// The session cookie a response set, as `name=value`.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|cookie| {
        let pair = cookie.split(';').next()?;
        pair.starts_with(&format!("{SESSION_COOKIE}=")).then(|| pair.to_owned())
    })
}

/// Opens the sign-in page: the session cookie it set, and its form token.
async fn sign_in_page(app: &QuickstartApp, next: &str) -> (String, String) {
    let url = format!(
        "{}/login?next={}",
        app.base,
        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let (status, headers, body) = app.get_page(&url, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = session_cookie(&headers).expect("a session cookie");
    let set_cookie = headers[SET_COOKIE].to_str().expect("ascii");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert_eq!(headers["cache-control"], "no-store");
    (cookie, hidden(&body, "token"))
}

/// Posts the sign-in form as the first demo user; the status, the Location if any, and the
/// renewed session cookie.
async fn post_sign_in(
    app: &QuickstartApp,
    cookie: &str,
    token: &str,
    password: &str,
    next: &str,
) -> (StatusCode, Option<String>, Option<String>) {
    post_sign_in_as(app, cookie, token, (&app.config.username, password), next).await
}

/// [`post_sign_in`] as `(username, password)`.
async fn post_sign_in_as(
    app: &QuickstartApp,
    cookie: &str,
    token: &str,
    (username, password): (&str, &str),
    next: &str,
) -> (StatusCode, Option<String>, Option<String>) {
    let form = [("username", username), ("password", password), ("next", next), ("token", token)];
    let (status, headers, _) = app.post_form(&format!("{}/login", app.base), cookie, &form).await;
    (status, headers.get(LOCATION).map(|_| location(&headers)), session_cookie(&headers))
}

/// The hidden fields of the screen's Approve form (its `decision` left out).
fn approve_fields(screen: &str) -> Vec<(String, String)> {
    let approve = screen.split("</form>").next().expect("the Approve form");
    let fields: Vec<(String, String)> = approve
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|input| {
            let name = input.split('"').next().expect("a name").to_owned();
            (name.clone(), hidden(approve, &name))
        })
        .filter(|(name, _)| name != "decision")
        .collect();
    assert!(fields.iter().any(|(name, _)| name == "csrf_token"), "{approve}");
    fields
}

/// Posts `fields` with `decision=approve` in the session `cookie`: the status and headers.
async fn approve(app: &QuickstartApp, cookie: &str, fields: &[(String, String)]) -> (StatusCode, HeaderMap) {
    let mut form: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    form.push(("decision", "approve"));
    let (status, headers, _) = app.post_form(&format!("{}/oauth/authorize", app.base), cookie, &form).await;
    (status, headers)
}

/// Signs in on a fresh sign-in page (as `cookie`'s session, if any) coming back to
/// `next`: the renewed session cookie.
async fn signed_in(app: &QuickstartApp, cookie: &str, next: &str) -> String {
    let url = format!(
        "{}/login?next={}",
        app.base,
        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let (status, headers, body) = app.get_page(&url, cookie).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = session_cookie(&headers).unwrap_or_else(|| cookie.to_owned());
    let (status, _, renewed) =
        post_sign_in(app, &cookie, &hidden(&body, "token"), &app.config.password, next).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    renewed.expect("signing in renews the session id")
}

#[tokio::test]
async fn an_approval_form_does_not_approve_after_signing_out_and_in_again() {
    let app = start("memory").await;
    let (_, challenge) = pkce_pair().expect("pkce");
    let authorize = app.demo_app_url("sessions", &challenge);
    let first = signed_in(&app, "", &authorize).await;
    let (status, _, screen) = app.get_page(&authorize, &first).await;
    assert_eq!(status, StatusCode::OK, "{screen}");
    let fields = approve_fields(&screen);

    // The same user signs in again (in that browser, or another): the old form is dead.
    for again in [signed_in(&app, &first, &authorize).await, signed_in(&app, "", &authorize).await] {
        let (status, headers) = approve(&app, &again, &fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "refused in another sign-in: {headers:?}");
        assert!(headers.get(LOCATION).is_none());
    }
    // A form shown in the current sign-in approves.
    let current = signed_in(&app, "", &authorize).await;
    let (_, _, screen) = app.get_page(&authorize, &current).await;
    assert_eq!(approve(&app, &current, &approve_fields(&screen)).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_walkthrough_flow_works_on_sqlite_with_the_own_callback_page() {
    let app = start_sqlite(|config: &mut QuickstartConfig| {
        config.demo_app.redirect_uri = format!("{}{CALLBACK_PATH}", origin(&config.issuer));
    })
    .await;
    assert_eq!(app.config.demo_app.redirect_uri, format!("{}{CALLBACK_PATH}", app.base), "the default");
    let (verifier, challenge) = pkce_pair().expect("pkce");
    let authorize = app.demo_app_url("walk", &challenge);

    // No session: to the sign-in page, which comes back to the request.
    let (status, headers, _) = app.get_page(&authorize, "").await;
    assert_eq!(status, StatusCode::FOUND);
    let sign_in = location(&headers);
    assert!(sign_in.starts_with("/login?next="), "{sign_in}");
    let (cookie, token) = sign_in_page(&app, &authorize).await;
    let (status, back, renewed) = post_sign_in(&app, &cookie, &token, &app.config.password, &authorize).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let path = authorize.strip_prefix(&app.base).expect("on this origin");
    assert_eq!(back.as_deref(), Some(path), "back to the request, as a path");
    let cookie = renewed.expect("signing in renews the session id");

    // The approval screen, then Approve with its hidden fields.
    let (status, _, screen) = app.get_page(&authorize, &cookie).await;
    assert_eq!(status, StatusCode::OK, "{screen}");
    assert!(screen.contains(&app.config.demo_app.name));
    let (status, headers) = approve(&app, &cookie, &approve_fields(&screen)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let callback = location(&headers);
    assert!(callback.starts_with(&app.config.demo_app.redirect_uri), "{callback}");

    // The callback page shows the code, state and iss, and the exchange to run.
    let (status, headers, page) = app.get_page(&callback, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-security-policy"].to_str().expect("ascii").contains("default-src 'none'"));
    let query: Vec<(String, String)> =
        form_urlencoded::parse(callback.split_once('?').expect("a query").1.as_bytes())
            .into_owned()
            .collect();
    let get = |name: &str| query.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).expect(name);
    let code = get("code");
    assert_eq!(get("state"), "walk");
    assert_eq!(get("iss"), app.base);
    assert!(
        page.contains(&code) && page.contains("walk") && page.contains("code_verifier=$VERIFIER"),
        "{page}"
    );

    // The exchange the page shows, and the API with the token.
    let tokens = app.exchange(&code, &verifier).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let me = app.api("/api/user", &text(&tokens.body, "access_token")).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["sub"], "1");
    assert_eq!(me.body["client_id"], "demo-app");
}

/// The `code` parameter of a redirect to the callback.
fn code_in(callback: &str) -> String {
    let query = callback.split_once('?').expect("a query").1;
    form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "code").expect("a code").1.into_owned()
}

#[tokio::test]
async fn both_demo_users_sign_in_on_the_page_and_through_the_password_grant() {
    let app = start("memory").await;
    let client = (app.config.client_id.as_str(), app.config.client_secret.as_str());
    let users = [
        (app.config.username.as_str(), app.config.password.as_str(), "1"),
        (app.config.username2.as_str(), app.config.password2.as_str(), "2"),
    ];
    for (username, password, sub) in users {
        let form = [
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
            ("scope", "read-posts"),
        ];
        let tokens = app.token(&form, Some(client)).await;
        assert_eq!(tokens.status, StatusCode::OK, "{username}: {:?}", tokens.body);
        let me = app.api("/api/user", &text(&tokens.body, "access_token")).await;
        assert_eq!(me.body["sub"], sub);
        assert_eq!(me.body["user"]["id"], sub.parse::<u64>().expect("a number"));

        let (cookie, token) = sign_in_page(&app, "/login").await;
        let (status, _, renewed) =
            post_sign_in_as(&app, &cookie, &token, (username, password), "/login").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{username} signs in on the page");
        let cookie = renewed.expect("signing in renews the session id");
        let (_, _, page) = app.get_page(&format!("{}/login", app.base), &cookie).await;
        assert!(page.contains(&format!("signed in as <strong>{username}</strong>")), "{page}");
    }
}

#[tokio::test]
async fn opening_the_url_again_skips_the_screen_only_once_the_code_was_exchanged() {
    let app = start("memory").await;
    let (verifier, challenge) = pkce_pair().expect("pkce");
    let authorize = app.demo_app_url("again", &challenge);
    let (cookie, token) = sign_in_page(&app, &authorize).await;
    let (_, _, renewed) = post_sign_in(&app, &cookie, &token, &app.config.password, &authorize).await;
    let cookie = renewed.expect("signed in");
    let (status, _, screen) = app.get_page(&authorize, &cookie).await;
    assert_eq!(status, StatusCode::OK, "the screen");
    let (status, headers) = approve(&app, &cookie, &approve_fields(&screen)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let code = code_in(&location(&headers));

    let (status, _, _) = app.get_page(&authorize, &cookie).await;
    assert_eq!(status, StatusCode::OK, "approved but not exchanged: the screen again");

    let tokens = app.exchange(&code, &verifier).await;
    assert_eq!(tokens.status, StatusCode::OK, "{:?}", tokens.body);
    let (status, headers, _) = app.get_page(&authorize, &cookie).await;
    assert!(status.is_redirection(), "exchanged: the screen is skipped ({status})");
    let callback = location(&headers);
    assert!(
        callback.starts_with(&app.config.demo_app.redirect_uri) && callback.contains("code="),
        "{callback}"
    );
}

#[test]
fn next_is_followed_only_as_a_path_on_this_origin() {
    let here = "http://127.0.0.1:8080";
    for (next, followed) in [
        ("/oauth/authorize?client_id=a", Some("/oauth/authorize?client_id=a")),
        ("http://127.0.0.1:8080/oauth/authorize?x=1", Some("/oauth/authorize?x=1")),
        ("http://127.0.0.1:8080", None),
        ("http://127.0.0.1:8080.evil.example/", None),
        ("http://127.0.0.1:8080@evil.example/", None),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example/", None),
        ("/ok\r\nSet-Cookie: x=1", None),
        ("javascript:alert(1)", None),
        ("", None),
    ] {
        assert_eq!(local_path(next, here), followed, "{next:?}");
    }
    assert_eq!(origin("http://127.0.0.1:8080/path?q"), here);
}

#[tokio::test]
async fn the_sign_in_page_never_sends_the_browser_to_another_site() {
    let app = start("memory").await;
    let (cookie, token) = sign_in_page(&app, "https://evil.example/").await;
    let (status, sent_to, _) =
        post_sign_in(&app, &cookie, &token, &app.config.password, "https://evil.example/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(sent_to.as_deref(), Some("/login"), "signed in, but kept here");
}

#[tokio::test]
async fn a_sign_in_form_without_its_session_token_or_with_a_wrong_password_signs_nobody_in() {
    let app = start("memory").await;
    let (_, challenge) = pkce_pair().expect("pkce");
    let authorize = app.demo_app_url("s", &challenge);
    let (cookie, token) = sign_in_page(&app, &authorize).await;

    // A cross-site post (no cookie: SameSite=Lax), or one that does not know the token.
    for (cookie, token) in [("", token.as_str()), (cookie.as_str(), "forged")] {
        let (status, sent_to, _) = post_sign_in(&app, cookie, token, &app.config.password, &authorize).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "refused");
        assert_eq!(sent_to, None);
    }
    // The right token, the wrong password.
    let wrong = post_sign_in(&app, &cookie, &token, "wrong password", &authorize).await;
    assert_eq!(wrong, (StatusCode::UNAUTHORIZED, None, None));

    // Still nobody signed in on that session: the request sends it to sign in.
    let (status, headers, _) = app.get_page(&authorize, &cookie).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(location(&headers).starts_with("/login?next="));
}

#[tokio::test]
async fn the_callback_page_escapes_what_it_shows() {
    let app = start("memory").await;
    let url = format!(
        "{}{CALLBACK_PATH}?code=%3Cscript%3Ex%3C%2Fscript%3E%27%3Brm&state=%22%3E%3Cimg%3E&iss=%3Cb%3E",
        app.base
    );
    let (status, _, page) = app.get_page(&url, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>") && !page.contains("<img>") && !page.contains("<b>"), "{page}");
    assert!(page.contains("&lt;script&gt;x&lt;/script&gt;&#x27;;rm"), "{page}");
    assert!(!page.contains("curl"), "a code that is not ours goes into no shell command: {page}");
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_and_count_with_the_password_grant() {
    // On the default store (SQLite, whose table keeps the counts), with a back-off long enough
    // that no clock tick can end it during the test: 3 free failures, then an hour.
    let hour = std::time::Duration::from_secs(3600);
    let app =
        start_sqlite(|config: &mut QuickstartConfig| config.accounts = Backoff::new(3, hour, hour, hour))
            .await;
    let (cookie, token) = sign_in_page(&app, "/login").await;
    for _ in 0..4 {
        let wrong = post_sign_in(&app, &cookie, &token, "wrong password", "/login").await;
        assert_eq!(wrong, (StatusCode::UNAUTHORIZED, None, None));
    }
    // The right password now waits, with a Retry-After, and signs nobody in.
    let form = [
        ("username", app.config.username.as_str()),
        ("password", app.config.password.as_str()),
        ("next", "/login"),
        ("token", token.as_str()),
    ];
    let (status, headers, body) = app.post_form(&format!("{}/login", app.base), &cookie, &form).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry_after: u64 = headers["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((3_500..=3_600).contains(&retry_after), "{retry_after}");
    assert!(body.contains("Too many failed sign-ins"), "{body}");
    assert_eq!(headers.get(LOCATION), None);
    assert_eq!(session_cookie(&headers), None, "no session was renewed");
    // The password grant counts the same account: it waits too.
    let grant = [
        ("grant_type", "password"),
        ("username", app.config.username.as_str()),
        ("password", app.config.password.as_str()),
    ];
    let reply = app.token(&grant, Some((&app.config.client_id, &app.config.client_secret))).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", reply.body);
    assert_eq!(text(&reply.body, "error"), "temporarily_unavailable");
}
