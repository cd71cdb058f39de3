//! The demo third-party app's callback page (`GET /demo-app/callback`, served with the
//! sign-in pages): what the app's redirect URI receives, shown escaped, with the exchange
//! to run from a terminal.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use tower_passport_issuer::endpoint::escape_html;

use super::sign_in::{page, SignInPages, CALLBACK_PATH};

#[derive(Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /demo-app/callback`: what a third-party app's callback receives, shown (escaped),
/// with the exchange to run from a terminal. A real app checks `state` and `iss` against
/// what it sent, then exchanges the code from its server with its `code_verifier`.
pub(super) async fn callback(State(pages): State<SignInPages>, Query(query): Query<Callback>) -> Response {
    let row = |name: &str, value: &Option<String>| {
        value
            .as_ref()
            .map_or_else(String::new, |value| format!("<dt>{name}</dt><dd>{}</dd>", escape_html(value)))
    };
    let fields = [
        row("code", &query.code),
        row("state", &query.state),
        row("iss", &query.iss),
        row("error", &query.error),
        row("error_description", &query.error_description),
    ]
    .concat();
    // Only a code that cannot break out of the shell quoting goes into the command shown.
    let shell_safe = |code: &String| code.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let (title, next) = match &query.code {
        Some(code) if shell_safe(code) => {
            let exchange = format!(
                "curl -s -u \"$APP\" -d grant_type=authorization_code \\\n  --data-urlencode 'code={code}' \\\n  \
                 --data-urlencode 'redirect_uri={}' \\\n  -d \"code_verifier=$VERIFIER\" {}",
                pages.redirect_uri, pages.token_url
            );
            (
                "The demo app got a code",
                format!(
                    "<p>Exchange it within 10 minutes, once, from the terminal where the quickstart \
                     printed <code>APP</code> and <code>VERIFIER</code>:</p>\n<pre>{}</pre>",
                    escape_html(&exchange)
                ),
            )
        }
        Some(_) => {
            ("The demo app got a code", "<p>This code is not one the quickstart issues.</p>".to_owned())
        }
        None => ("The demo app got no code", "<p>The authorization ended without a code.</p>".to_owned()),
    };
    page(StatusCode::OK, title, &format!("<h1>{}</h1>\n<dl>{fields}</dl>\n{next}", escape_html(title)))
}

/// The demo app's callback route on the quickstart ([`CALLBACK_PATH`]).
pub(super) fn routes(pages: SignInPages) -> Router {
    Router::new().route(CALLBACK_PATH, get(callback)).with_state(pages)
}
