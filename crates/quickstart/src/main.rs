//! The quickstart: one process that issues tokens (the authorization code flow with PKCE
//! and its approval screen, client credentials, password, refresh with rotation and reuse
//! detection, personal access tokens) and serves the demo API guarded by its own keys and
//! revocation list. It prints the demo credentials, a URL to walk the authorization code
//! flow in a browser, and a curl walkthrough.
//!
//! ```text
//! cargo run -p quickstart
//! ```
//!
//! Environment: `BIND` (default `127.0.0.1:8080`; `0.0.0.0:8080` in a container),
//! `PASSPORT_ISSUER` (default `http://<BIND>`, with `127.0.0.1` for `0.0.0.0`),
//! `PASSPORT_AUDIENCE` (default `quickstart-api`), `PASSPORT_PRIVATE_KEY` (a PEM, or the
//! path of one; otherwise a key is generated once and kept in the store), `PASSPORT_STORE`
//! (`sqlite://quickstart.db` by default, `memory`, `postgres://…` (which also starts the
//! LISTEN/NOTIFY revocation bus), `mysql://…` or `redis://…`), `PASSPORT_REDIS_URL` (the
//! Redis revocation bus beside a SQL store), `DEMO_CLIENT_ID`, `DEMO_CLIENT_SECRET`, the demo
//! users `DEMO_USER` / `DEMO_PASSWORD` (sub 1) and `DEMO_USER2` / `DEMO_PASSWORD2` (sub 2),
//! the demo third-party app's `DEMO_APP_CLIENT_ID`, `DEMO_APP_CLIENT_SECRET`,
//! `DEMO_APP_NAME` and `DEMO_APP_REDIRECT_URI` (by default the quickstart's own
//! `/demo-app/callback` page, which shows the code: on the issuer's origin when that is
//! https or loopback, else on a loopback address of this node), `PASSPORT_COOKIE_ORIGINS`
//! (comma-separated origins of apps on another host or port whose pages call the demo API
//! with the first-party cookie: the guard accepts them and the API answers them with CORS
//! headers), the limits in front of every route (`PASSPORT_MAX_IN_FLIGHT`, 512 requests at
//! once, beyond which 503 at once; `PASSPORT_REQUEST_TIMEOUT_MS`, 30000, beyond which 408;
//! `PASSPORT_HEADER_READ_TIMEOUT_MS`, 10000; `PASSPORT_MAX_CONNECTIONS`, 1024: see
//! `demo/serve.rs`), `PASSPORT_REVOCATION_CACHE_CAPACITY` (answers the revocation list
//! caches, 100000; past it they are asked of the store again), and `RUST_LOG` (`target=level` pairs, `info` by default).
//!
//! On a store that already holds the demo clients (a restart, or another node), the stored
//! clients stay as they are: a revoked one stays revoked, and a setting that differs is
//! logged as a warning naming the variable, not applied.

#[path = "demo/mod.rs"]
mod demo;

use std::error::Error;
use std::process::ExitCode;

use demo::config::reachable_url;
use demo::quickstart::{
    authorization_url, build, pkce_pair, QuickstartConfig, DEVICE_CLIENT_ID, NATIVE_CLIENT_ID, SCOPES,
};

#[tokio::main]
async fn main() -> ExitCode {
    demo::exit::exit_on_error(run().await)
}

async fn run() -> Result<(), Box<dyn Error>> {
    demo::serve::init_tracing()?;
    let bind = std::env::var("BIND").unwrap_or_else(|_| demo::serve::QUICKSTART_BIND.into());
    let listener = tokio::net::TcpListener::bind(&bind).await.map_err(|e| {
        demo::exit::context(format!("BIND={bind}: cannot listen there (set BIND to another address)"), e)
    })?;
    let listening = listener.local_addr()?;
    let config = QuickstartConfig::from_env(listening)?;
    let limits = demo::serve::Limits::from_env()?;
    let node = build(&config).await?;
    let (issuer, app) = (&node.issuer, node.app.clone());

    let url = reachable_url(listening);
    let (id, secret) = (&config.client_id, &config.client_secret);
    let (user, password) = (&config.username, &config.password);
    println!("tower-passport quickstart on {url}");
    println!("  issuer    {}", issuer.issuer_url());
    println!("  audience  {}", config.audience);
    println!("  client    {id} / {secret}   (password, client_credentials, refresh_token)");
    println!("  user      {user} / {password}   (sub 1; signs in at {url}/login too)");
    println!(
        "  user      {} / {}   (sub 2; signs in at {url}/login too)",
        config.username2, config.password2
    );
    let app_config = &config.demo_app;
    let redirect_uri = &node.demo_app_redirect_uri;
    println!(
        "  demo app  {} / {}   \"{}\", third-party: authorization_code -> {redirect_uri}",
        app_config.client_id, app_config.client_secret, app_config.name
    );
    println!("  CLI app   {NATIVE_CLIENT_ID}   first-party public client (approval screen), http://127.0.0.1:<any port>/callback");
    println!("  device    {DEVICE_CLIENT_ID}   public device client (RFC 8628): codes at {url}/oauth/device/code, approved at {url}/oauth/device");
    println!("  scopes    {}", SCOPES.map(|(id, _)| id).join(" "));
    let bus = node.bus_name.map(|name| format!("   (revocation bus: {name})")).unwrap_or_default();
    println!("  store     {}{bus}", demo::config::without_password(&config.store));
    println!(
        "  keys      {url}/.well-known/jwks.json   metadata {url}/.well-known/oauth-authorization-server"
    );
    for note in &config.notes {
        println!("  note      {note}");
    }
    println!();
    // A fresh PKCE pair and state for the walkthrough: the URL carries the challenge, the
    // terminal keeps the verifier for the exchange.
    let (verifier, challenge) = pkce_pair()?;
    let (state, _) = pkce_pair()?;
    let state = &state[..16];
    let authorize = authorization_url(&node.oauth, &app_config.client_id, redirect_uri, state, &challenge);
    println!("# 0. The authorization code flow with PKCE, in a browser. Open:");
    println!("#    {authorize}");
    println!("#    sign in as {user}, approve, and the demo app's callback page shows the code");
    println!("#    (with state={state} and iss). Then, in this shell:");
    println!("APP='{}:{}'; VERIFIER='{verifier}'", app_config.client_id, app_config.client_secret);
    println!("#    and run the curl command the callback page shows (once, within 10 minutes).");
    println!("#    Once you exchanged the code, opening the same URL again skips the screen: the user");
    println!("#    holds the demo app's tokens for these scopes (revoking them brings the screen back).");
    let cli =
        authorization_url(&node.oauth, NATIVE_CLIENT_ID, "http://127.0.0.1:8976/callback", state, &challenge);
    println!("#    The first-party CLI gets the screen too (nothing listens on port 8976: the code");
    println!("#    is in the address bar; a real CLI listens there):\n#    {cli}");
    println!("#    And {url}/demo/spa: the first-party page, whose script calls the API over the");
    println!("#    laravel_token cookie (Passport's CreateFreshApiToken), with no token at all.\n");
    println!("# The walkthrough uses curl and jq; paste it whole or a line at a time. A comment at the");
    println!("# end of a line says what it answers.");
    println!("# 1. A client-credentials token (no user), and the client-only route:");
    println!("M2M=$(curl -s -u '{id}:{secret}' -d grant_type=client_credentials -d scope=check-status {url}/oauth/token | jq -r .access_token)");
    println!("curl -i {url}/api/m2m -H \"Authorization: Bearer $M2M\"   # 200\n");
    println!("# 2. A user token through the password grant (an explicit opt-in; RFC 9700 discourages it):");
    println!("TOKENS=$(curl -s -u '{id}:{secret}' -d grant_type=password --data-urlencode 'username={user}' --data-urlencode 'password={password}' -d 'scope=read-posts write-posts' {url}/oauth/token)");
    println!("ACCESS=$(echo \"$TOKENS\" | jq -r .access_token); REFRESH=$(echo \"$TOKENS\" | jq -r .refresh_token)");
    println!("curl -i {url}/api/user -H \"Authorization: Bearer $ACCESS\"             # 200");
    println!("curl -i {url}/api/posts -H \"Authorization: Bearer $ACCESS\"            # 200: read-posts is granted");
    println!("curl -i -X DELETE {url}/api/posts/1 -H \"Authorization: Bearer $ACCESS\" # 403 insufficient_scope: admin is not\n");
    println!("# 3. Refresh: a new pair in the same family; the old access token is revoked.");
    println!("NEW=$(curl -s -u '{id}:{secret}' -d grant_type=refresh_token -d \"refresh_token=$REFRESH\" {url}/oauth/token)");
    println!("NEW_ACCESS=$(echo \"$NEW\" | jq -r .access_token)");
    println!(
        "curl -i {url}/api/user -H \"Authorization: Bearer $ACCESS\"      # 401: revoked by the refresh"
    );
    println!("curl -i {url}/api/user -H \"Authorization: Bearer $NEW_ACCESS\"  # 200\n");
    println!("# 4. Reuse the old refresh token: reuse detection revokes the whole family. A reuse within");
    println!("#    3 seconds of the refresh is taken for two tabs refreshing at once, not for theft, and");
    println!("#    changes nothing; so wait that race window out first.");
    println!("sleep 4");
    println!("curl -s -u '{id}:{secret}' -d grant_type=refresh_token -d \"refresh_token=$REFRESH\" {url}/oauth/token   # invalid_grant");
    println!("curl -i {url}/api/user -H \"Authorization: Bearer $NEW_ACCESS\"  # 401: the family died\n");
    println!("# 5. Introspect and revoke (RFC 7662, RFC 7009):");
    println!("curl -s -u '{id}:{secret}' -d \"token=$M2M\" {url}/oauth/introspect   # \"active\":true");
    println!("curl -s -u '{id}:{secret}' -d \"token=$M2M\" {url}/oauth/revoke; curl -i {url}/api/m2m -H \"Authorization: Bearer $M2M\"   # 401: revoked");
    print_device_walkthrough(&url, user, password);
    println!("\nCtrl-C stops the server.");

    // Header-read and idle timeouts, a connection bound, load shedding, a concurrency
    // limit and a request timeout in front of the routes (see crates/quickstart/src/demo/serve.rs).
    demo::serve::serve(listener, app, limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// Step 6 of the walkthrough: the device authorization grant (RFC 8628), the approval done by
/// curl with a cookie jar, as a browser signed in as `user` would.
fn print_device_walkthrough(url: &str, user: &str, password: &str) {
    let poll =
        format!("-d client_id={DEVICE_CLIENT_ID} -d grant_type=urn:ietf:params:oauth:grant-type:device_code");
    println!("\n# 6. The device grant (RFC 8628), for a TV or a CLI with no browser: the device asks for");
    println!("#    codes, a signed-in user types the user code at {url}/oauth/device and approves, and");
    println!("#    the device polls the token endpoint, no faster than `interval` seconds.");
    println!("DEVICE=$(curl -s -d client_id={DEVICE_CLIENT_ID} -d scope=read-posts {url}/oauth/device/code)");
    println!("DEVICE_CODE=$(echo \"$DEVICE\" | jq -r .device_code); USER_CODE=$(echo \"$DEVICE\" | jq -r .user_code)");
    println!("echo \"$DEVICE\" | jq -r '.user_code + \"  \" + .verification_uri_complete'   # /oauth/device?user_code=");
    println!("curl -s {poll} -d \"device_code=$DEVICE_CODE\" {url}/oauth/token   # authorization_pending");
    println!("#    Open that URL in a browser, sign in as {user} and approve; or let curl be the browser:");
    println!("JAR=$(mktemp); field() {{ sed -n \"s/.*name=\\\"$1\\\" value=\\\"\\([^\\\"]*\\)\\\".*/\\1/p\" | head -1; }}");
    println!("LOGIN=$(curl -s -c \"$JAR\" -b \"$JAR\" {url}/login | field token)");
    println!("curl -s -o /dev/null -c \"$JAR\" -b \"$JAR\" --data-urlencode \"token=$LOGIN\" --data-urlencode 'username={user}' --data-urlencode 'password={password}' -d next=/ {url}/login");
    println!("CSRF=$(curl -s -b \"$JAR\" \"{url}/oauth/device?user_code=$USER_CODE\" | field csrf_token)");
    println!("curl -s -b \"$JAR\" -d \"user_code=$USER_CODE\" --data-urlencode \"csrf_token=$CSRF\" -d decision=approve {url}/oauth/device | grep -o 'Device connected'   # Device connected");
    println!("sleep 5");
    println!("TV=$(curl -s {poll} -d \"device_code=$DEVICE_CODE\" {url}/oauth/token | jq -r .access_token)");
    println!("curl -i {url}/api/user -H \"Authorization: Bearer $TV\"   # 200: the device acts for {user}");
    println!("curl -s {poll} -d \"device_code=$DEVICE_CODE\" {url}/oauth/token   # invalid_grant: a device code works once");
}
