//! The quickstart: one process that issues tokens (the authorization code flow with PKCE
//! and its approval screen, client credentials, password, refresh with rotation and reuse
//! detection, personal access tokens) and serves the demo API guarded by its own keys and
//! revocation list. It prints the demo credentials, a URL to walk the authorization code
//! flow in a browser, and a curl walkthrough.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Environment: `BIND` (default `127.0.0.1:8080`), `PASSPORT_ISSUER` (default
//! `http://<BIND>`), `PASSPORT_AUDIENCE` (default `quickstart-api`),
//! `PASSPORT_PRIVATE_KEY` (a PEM, or the path of one; otherwise a key is generated once
//! and kept in the store), `PASSPORT_STORE` (`sqlite://quickstart.db` by default,
//! `memory`, `postgres://…` (which also starts the LISTEN/NOTIFY revocation bus) or
//! `redis://…`), `PASSPORT_REDIS_URL` (the Redis revocation bus beside a SQL store),
//! `DEMO_CLIENT_ID`, `DEMO_CLIENT_SECRET`, `DEMO_USER`, `DEMO_PASSWORD`, the demo
//! third-party app's `DEMO_APP_CLIENT_ID`, `DEMO_APP_CLIENT_SECRET`, `DEMO_APP_NAME` and
//! `DEMO_APP_REDIRECT_URI` (by default the quickstart's own `/demo-app/callback` page, which
//! shows the code), `PASSPORT_COOKIE_ORIGINS` (comma-separated origins of apps on another
//! host or port whose pages call the demo API with the first-party cookie: the guard
//! accepts them and the API answers them with CORS headers), and `RUST_LOG`
//! (`target=level` pairs, `info` by default).

#[path = "demo/mod.rs"]
mod demo;

use std::error::Error;

use demo::quickstart::{authorization_url, build, pkce_pair, QuickstartConfig, NATIVE_CLIENT_ID, SCOPES};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    demo::serve::init_tracing()?;
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let config = QuickstartConfig::from_env(&bind)?;
    let node = build(&config).await?;
    let (issuer, app) = (&node.issuer, node.app.clone());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e} (set BIND to another address)"))?;

    let url = format!("http://{bind}");
    let (id, secret) = (&config.client_id, &config.client_secret);
    let (user, password) = (&config.username, &config.password);
    println!("tower-passport quickstart on {url}");
    println!("  issuer    {}", issuer.issuer_url());
    println!("  audience  {}", config.audience);
    println!("  client    {id} / {secret}   (password, client_credentials, refresh_token)");
    println!("  user      {user} / {password}   (sub 1; signs in at {url}/login too)");
    let app_config = &config.demo_app;
    println!(
        "  demo app  {} / {}   \"{}\", third-party: authorization_code -> {}",
        app_config.client_id, app_config.client_secret, app_config.name, app_config.redirect_uri
    );
    println!("  CLI app   {NATIVE_CLIENT_ID}   first-party public client (no approval screen), http://127.0.0.1:<any port>/callback");
    println!("  scopes    {}", SCOPES.map(|(id, _)| id).join(" "));
    println!(
        "  store     {}{}",
        config.store,
        if node.bus.is_some() { "   (revocation bus: LISTEN/NOTIFY)" } else { "" }
    );
    println!(
        "  keys      {url}/.well-known/jwks.json   metadata {url}/.well-known/oauth-authorization-server\n"
    );
    // A fresh PKCE pair and state for the walkthrough: the URL carries the challenge, the
    // terminal keeps the verifier for the exchange.
    let (verifier, challenge) = pkce_pair()?;
    let (state, _) = pkce_pair()?;
    let state = &state[..16];
    let authorize =
        authorization_url(issuer, &app_config.client_id, &app_config.redirect_uri, state, &challenge);
    println!("# 0. The authorization code flow with PKCE, in a browser. Open:");
    println!("#    {authorize}");
    println!("#    sign in as {user}, approve, and the demo app's callback page shows the code");
    println!("#    (with state={state} and iss). Then, in this shell:");
    println!("APP='{}:{}'; VERIFIER='{verifier}'", app_config.client_id, app_config.client_secret);
    println!("#    and run the curl command the callback page shows (once, within 10 minutes).");
    println!("#    Open the same URL again: the screen is skipped, the scopes are already granted.");
    let cli =
        authorization_url(issuer, NATIVE_CLIENT_ID, "http://127.0.0.1:8976/callback", state, &challenge);
    println!("#    The first-party CLI never sees the screen (nothing listens on port 8976: the code");
    println!("#    is in the address bar; a real CLI listens there):\n#    {cli}");
    println!("#    And {url}/demo/spa: the first-party page, whose script calls the API over the");
    println!("#    laravel_token cookie (Passport's CreateFreshApiToken), with no token at all.\n");
    println!("# The walkthrough uses curl and jq.");
    println!("# 1. A client-credentials token (no user), and the client-only route:");
    println!("M2M=$(curl -s -u '{id}:{secret}' -d grant_type=client_credentials -d scope=check-status {url}/oauth/token | jq -r .access_token)");
    println!("curl -i {url}/api/m2m -H \"Authorization: Bearer $M2M\"\n");
    println!("# 2. A user token through the password grant (an explicit opt-in; RFC 9700 discourages it):");
    println!("TOKENS=$(curl -s -u '{id}:{secret}' -d grant_type=password --data-urlencode 'username={user}' --data-urlencode 'password={password}' -d 'scope=read-posts write-posts' {url}/oauth/token)");
    println!("ACCESS=$(echo \"$TOKENS\" | jq -r .access_token); REFRESH=$(echo \"$TOKENS\" | jq -r .refresh_token)");
    println!("curl -i {url}/api/user -H \"Authorization: Bearer $ACCESS\"");
    println!("curl -i {url}/api/posts -H \"Authorization: Bearer $ACCESS\"            # read-posts: 200");
    println!("curl -i -X DELETE {url}/api/posts/1 -H \"Authorization: Bearer $ACCESS\" # admin: 403 insufficient_scope\n");
    println!("# 3. Refresh: a new pair in the same family; the old access token is revoked.");
    println!("NEW=$(curl -s -u '{id}:{secret}' -d grant_type=refresh_token -d \"refresh_token=$REFRESH\" {url}/oauth/token)");
    println!("NEW_ACCESS=$(echo \"$NEW\" | jq -r .access_token)");
    println!(
        "curl -i {url}/api/user -H \"Authorization: Bearer $ACCESS\"      # 401: revoked by the refresh"
    );
    println!("curl -i {url}/api/user -H \"Authorization: Bearer $NEW_ACCESS\"  # 200\n");
    println!("# 4. Reuse the old refresh token: reuse detection revokes the whole family.");
    println!("curl -s -u '{id}:{secret}' -d grant_type=refresh_token -d \"refresh_token=$REFRESH\" {url}/oauth/token   # invalid_grant");
    println!("curl -i {url}/api/user -H \"Authorization: Bearer $NEW_ACCESS\"  # 401: the family died\n");
    println!("# 5. Introspect and revoke (RFC 7662, RFC 7009):");
    println!("curl -s -u '{id}:{secret}' -d \"token=$M2M\" {url}/oauth/introspect");
    println!("curl -s -u '{id}:{secret}' -d \"token=$M2M\" {url}/oauth/revoke; curl -i {url}/api/m2m -H \"Authorization: Bearer $M2M\"");
    println!("\nCtrl-C stops the server.");

    // Header-read and idle timeouts, a connection bound, load shedding, a concurrency
    // limit and a request timeout in front of the routes (see examples/demo/serve.rs).
    demo::serve::serve(listener, app, demo::serve::Limits::default(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
