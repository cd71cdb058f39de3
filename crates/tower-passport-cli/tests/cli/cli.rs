//! The `passport` binary, run for real against SQLite and PostgreSQL
//! (`TEST_POSTGRES_URL`; those cases skip, saying why, without it), and the examples'
//! error messages, run as processes.

use crate::demo;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tower_passport::guard::DEFAULT_RESOLVER_CACHE_TTL;
use tower_passport::revocation::{Hub, Invalidate, DEFAULT_NOT_REVOKED_TTL};
use tower_passport::Algorithm;
use tower_passport_cli::AnyStore;
use tower_passport_issuer::store::{ClientStore, GrantType, RevocationStore, SettingsStore};
use tower_passport_issuer::{ClientRegistration, Issuer, SigningKey, TokenRequest};
use tower_passport_sql::PgRevocationBus;

const BIN: &str = env!("CARGO_BIN_EXE_passport");

fn unique(prefix: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// A scratch directory under the target dir.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(unique(name));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("passport.db").display())
}

/// Runs `passport` with `args` against `store`, with no terminal on stdin.
fn passport(store: &str, key_setting: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("PASSPORT_STORE", store)
        .env("PASSPORT_KEY_SETTING", key_setting)
        .env_remove("PASSPORT_REDIS_URL")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_ok(output: &Output) {
    assert!(output.status.success(), "stdout: {}\nstderr: {}", stdout(output), stderr(output));
}

/// An issuer over the same store, signing with the key the CLI uses.
async fn issuer_on(store: &str, key_setting: &str) -> Issuer {
    let store = Arc::new(AnyStore::open(store).await.expect("store"));
    let key = SigningKey::load_or_generate(&*store, key_setting, Algorithm::ES256).await.expect("key");
    Issuer::builder("http://localhost", store).audience("api").signing_key(key).build().expect("issuer")
}

#[test]
fn help_is_written_for_an_operator_and_a_usage_mistake_exits_2() {
    let help = Command::new(BIN).arg("--help").output().expect("runs");
    assert!(help.status.success());
    let text = stdout(&help);
    for command in ["install", "keys", "client", "purge", "token", "user"] {
        assert!(text.contains(command), "{text}");
    }
    let wrong = Command::new(BIN).arg("frobnicate").output().expect("runs");
    assert_eq!(wrong.status.code(), Some(2));
}

#[tokio::test]
async fn install_is_idempotent() {
    let dir = scratch("install");
    let store = sqlite_url(&dir);
    let first = passport(&store, "signing_key", &["install"]);
    assert_ok(&first);
    assert!(stdout(&first).contains("Signing key created"), "{}", stdout(&first));
    assert!(stdout(&first).contains("Personal access client ready"));
    let again = passport(&store, "signing_key", &["install"]);
    assert_ok(&again);
    assert!(stdout(&again).contains("Signing key already present"), "{}", stdout(&again));
    let opened = AnyStore::open(&store).await.expect("store");
    assert!(opened.setting("signing_key").await.expect("setting").is_some());
    assert!(opened.client("personal-access-client").await.expect("client").is_some());
}

#[test]
fn keys_are_written_private_0600_and_never_overwritten_without_force() {
    let dir = scratch("keys");
    let path = dir.to_string_lossy().into_owned();
    let written =
        passport("memory", "signing_key", &["keys", "--alg", "rs256", "--length", "2048", "--path", &path]);
    assert_ok(&written);
    let private = dir.join("oauth-private.key");
    let mode = std::fs::metadata(&private).expect("private key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let pem = std::fs::read(&private).expect("read");
    assert_eq!(SigningKey::from_pem(&pem).expect("a key").algorithm(), Algorithm::RS256);
    let public = std::fs::read(dir.join("oauth-public.key")).expect("public key");
    tower_passport::VerifyingKey::from_pem_infer_alg(&public).expect("a public key");

    let refused = passport("memory", "signing_key", &["keys", "--path", &path]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert_eq!(std::fs::read(&private).expect("read"), pem, "the key was not touched");

    let forced = passport("memory", "signing_key", &["keys", "--alg", "es256", "--force", "--path", &path]);
    assert_ok(&forced);
    assert_ne!(std::fs::read(&private).expect("read"), pem);
    let mode = std::fs::metadata(&private).expect("private key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[tokio::test]
async fn clients_are_created_printed_once_and_revoked() {
    let dir = scratch("clients");
    let store = sqlite_url(&dir);
    assert_ok(&passport(&store, "signing_key", &["install"]));
    let created = passport(&store, "signing_key", &["client", "--client-credentials", "--name", "Billing"]);
    assert_ok(&created);
    let text = stdout(&created);
    let id = text.lines().find_map(|l| l.strip_prefix("Client ID: ")).expect("Client ID line").to_owned();
    let secret =
        text.lines().find_map(|l| l.strip_prefix("Client secret: ")).expect("secret line").to_owned();
    let issuer = issuer_on(&store, "signing_key").await;
    let client = issuer.authenticate_client(&id, Some(&secret)).await.expect("the printed secret works");
    assert!(client.allows_grant(GrantType::ClientCredentials));

    let json = passport(
        &store,
        "signing_key",
        &["client", "--public", "--name", "SPA", "--redirect-uri", "https://spa.example.com/cb", "--json"],
    );
    assert_ok(&json);
    let parsed: serde_json::Value = serde_json::from_str(stdout(&json).trim()).expect("one JSON object");
    assert_eq!(parsed["name"], "SPA");
    assert!(parsed["client_secret"].is_null(), "a public client has no secret");
    let spa = issuer
        .store()
        .client(parsed["client_id"].as_str().expect("id"))
        .await
        .expect("store")
        .expect("client");
    assert_eq!(spa.redirect_uris, ["https://spa.example.com/cb"]);

    // A device client, as Passport's `passport:client --device` makes: public, the device
    // grant and refresh.
    let device = passport(&store, "signing_key", &["client", "--device", "--name", "TV", "--json"]);
    assert_ok(&device);
    let parsed: serde_json::Value = serde_json::from_str(stdout(&device).trim()).expect("one JSON object");
    assert!(parsed["client_secret"].is_null(), "a device client has no secret");
    let tv = issuer
        .store()
        .client(parsed["client_id"].as_str().expect("id"))
        .await
        .expect("store")
        .expect("client");
    assert_eq!(tv.grants, [GrantType::DeviceCode, GrantType::RefreshToken]);
    assert!(tv.redirect_uris.is_empty() && !tv.is_confidential());
    let with_redirect = ["client", "--device", "--name", "TV", "--redirect-uri", "https://tv.example.com/cb"];
    assert_eq!(
        passport(&store, "signing_key", &with_redirect).status.code(),
        Some(2),
        "a device has no redirect"
    );

    // Without a terminal, what is missing is an error, not a prompt.
    let missing = passport(&store, "signing_key", &["client", "--client-credentials"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("--name is required"), "{}", stderr(&missing));

    let listed = passport(&store, "signing_key", &["client", "--list", "--json"]);
    assert_ok(&listed);
    let listed: serde_json::Value = serde_json::from_str(stdout(&listed).trim()).expect("a JSON array");
    let billing =
        listed.as_array().expect("array").iter().find(|c| c["client_id"] == id.as_str()).expect("listed");
    assert_eq!((billing["name"].as_str(), billing["revoked"].as_bool()), (Some("Billing"), Some(false)));
    assert!(!stdout(&passport(&store, "signing_key", &["client", "--list"])).contains(&secret), "no secret");
    // Listing, creating and revoking sign nothing: no key appears under another setting.
    assert_ok(&passport(&store, "never_created", &["client", "--list"]));
    assert_ok(&passport(&store, "never_created", &["client", "--client-credentials", "--name", "Other"]));
    assert!(issuer.store().setting("never_created").await.expect("store").is_none(), "a key was created");

    let revoked = passport(&store, "signing_key", &["client", "--revoke", &id]);
    assert_ok(&revoked);
    assert!(issuer.store().client(&id).await.expect("store").expect("client").revoked);
    let table = stdout(&passport(&store, "signing_key", &["client", "--list"]));
    let row = table.lines().find(|line| line.starts_with(&id)).expect("a row for the client");
    assert!(row.trim_end().ends_with("yes"), "listed as revoked: {row}");
    let unknown = passport(&store, "signing_key", &["client", "--revoke", "nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
}

#[tokio::test]
async fn a_client_is_restricted_to_the_resources_given_with_resource() {
    let dir = scratch("resources");
    let store = sqlite_url(&dir);
    assert_ok(&passport(&store, "signing_key", &["install"]));
    let args = [
        "client",
        "--client-credentials",
        "--name",
        "Orders worker",
        "--json",
        "--resource",
        "https://orders.example.com",
        "--resource",
        "https://stock.example.com",
    ];
    let created = passport(&store, "signing_key", &args);
    assert_ok(&created);
    let parsed: serde_json::Value = serde_json::from_str(stdout(&created).trim()).expect("one JSON object");
    let id = parsed["client_id"].as_str().expect("id");
    let stored =
        issuer_on(&store, "signing_key").await.store().client(id).await.expect("store").expect("client");
    assert_eq!(
        stored.allowed_resources.as_deref(),
        Some(&["https://orders.example.com".to_owned(), "https://stock.example.com".to_owned()][..])
    );
    let listed = passport(&store, "signing_key", &["client", "--list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(stdout(&listed).trim()).expect("a JSON array");
    let row = listed.as_array().expect("array").iter().find(|c| c["client_id"] == id).expect("listed");
    assert_eq!(
        row["resources"],
        serde_json::json!(["https://orders.example.com", "https://stock.example.com"])
    );

    // A resource must be an absolute URI.
    let typo = passport(
        &store,
        "signing_key",
        &["client", "--client-credentials", "--name", "T", "--resource", "orders"],
    );
    assert_eq!(typo.status.code(), Some(1));
    assert!(stderr(&typo).contains("absolute URI"), "{}", stderr(&typo));
}

#[tokio::test]
async fn skipping_the_approval_screen_is_set_per_client_and_loudly_for_a_public_one() {
    let dir = scratch("skips");
    let store = sqlite_url(&dir);
    assert_ok(&passport(&store, "signing_key", &["install"]));
    let id_of = |output: &Output| -> String {
        let parsed: serde_json::Value = serde_json::from_str(stdout(output).trim()).expect("one JSON object");
        parsed["client_id"].as_str().expect("id").to_owned()
    };
    let web = ["client", "--name", "Our web", "--redirect-uri", "https://ours.example.com/cb", "--json"];
    let skipping = passport(&store, "signing_key", &[&web[..], &["--skips-authorization"]].concat());
    assert_ok(&skipping);
    let plain = passport(&store, "signing_key", &web);
    assert_ok(&plain);
    let cli = ["client", "--public", "--name", "CLI", "--redirect-uri", "http://127.0.0.1/cb", "--json"];
    let refused = passport(&store, "signing_key", &[&cli[..], &["--skips-authorization"]].concat());
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    assert!(stderr(&refused).contains("--skips-authorization-even-if-public"), "{}", stderr(&refused));
    let knowingly =
        passport(&store, "signing_key", &[&cli[..], &["--skips-authorization-even-if-public"]].concat());
    assert_ok(&knowingly);

    let issuer = issuer_on(&store, "signing_key").await;
    for (output, skips) in [(&skipping, true), (&plain, false), (&knowingly, true)] {
        let client = issuer.store().client(&id_of(output)).await.expect("store").expect("client");
        assert_eq!(client.skips_authorization, skips, "{}", client.name);
    }
    let listed = stdout(&passport(&store, "signing_key", &["client", "--list", "--json"]));
    let listed: serde_json::Value = serde_json::from_str(listed.trim()).expect("a JSON array");
    let shown =
        listed.as_array().expect("array").iter().find(|c| c["client_id"] == id_of(&skipping).as_str());
    assert_eq!(shown.expect("listed")["skips_authorization"], true);

    // An existing client's setting changes with --update (after the upgrade that turned it
    // off for every stored client, say).
    let (plain_id, skipping_id) = (id_of(&plain), id_of(&skipping));
    assert_ok(&passport(&store, "signing_key", &["client", "--update", &plain_id, "--skips-authorization"]));
    let off = ["client", "--update", &skipping_id, "--skips-authorization=false"];
    assert_ok(&passport(&store, "signing_key", &off));
    for (id, skips) in [(&plain_id, true), (&skipping_id, false)] {
        assert_eq!(
            issuer.store().client(id).await.expect("store").expect("client").skips_authorization,
            skips
        );
    }
    let public_id = id_of(&knowingly);
    assert_ok(&passport(
        &store,
        "signing_key",
        &["client", "--update", &public_id, "--skips-authorization=false"],
    ));
    let plainly =
        passport(&store, "signing_key", &["client", "--update", &public_id, "--skips-authorization"]);
    assert_eq!(plainly.status.code(), Some(1));
    assert!(stderr(&plainly).contains("--skips-authorization-even-if-public"), "{}", stderr(&plainly));
    assert!(!issuer.store().client(&public_id).await.expect("store").expect("client").skips_authorization);
    let unknown = passport(&store, "signing_key", &["client", "--update", "nobody", "--skips-authorization"]);
    assert_eq!(unknown.status.code(), Some(1));
}

#[tokio::test]
async fn purge_token_and_user_revocation_work_on_sqlite() {
    let dir = scratch("revoke");
    let store = sqlite_url(&dir);
    let issuer = issuer_on(&store, "signing_key").await;
    let registered = issuer
        .register_client(ClientRegistration::confidential("App").grants([GrantType::ClientCredentials]))
        .await
        .expect("client");
    let secret = registered.secret.as_ref().map(|s| s.expose());
    let client = issuer.authenticate_client(&registered.client.id, secret).await.expect("authenticated");
    let token =
        issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("token").access_token;
    let jti = issuer.verifier().verify(&token).expect("verifies").jti().expect("jti").to_owned();

    let revoked = passport(&store, "signing_key", &["token", "--revoke", &jti]);
    assert_ok(&revoked);
    assert!(issuer.store().is_revoked(&jti).await.expect("store"), "revoked in the store");
    let again = passport(&store, "signing_key", &["token", "--revoke", "no-such-jti"]);
    assert_eq!(again.status.code(), Some(1));

    // Without a bus, the message gives the real bound: the revocation list's cache.
    let bound = format!("within {} s", DEFAULT_NOT_REVOKED_TTL.as_secs());
    assert!(stdout(&revoked).contains(&bound), "{}", stdout(&revoked));
    assert!(stdout(&revoked).contains("until it expires"), "{}", stdout(&revoked));
    assert!(!stdout(&revoked).contains("milliseconds"), "{}", stdout(&revoked));

    let user = passport(&store, "signing_key", &["user", "--revoke-all", "7"]);
    assert_ok(&user);
    assert!(stdout(&user).contains("of user 7"));
    assert!(stdout(&user).contains(&bound), "{}", stdout(&user));

    let billing = issuer
        .register_client(ClientRegistration::confidential("Billing").grants([GrantType::ClientCredentials]))
        .await
        .expect("client");
    let client = passport(&store, "signing_key", &["client", "--revoke", &billing.client.id]);
    assert_ok(&client);
    let bound = format!("within {} s", DEFAULT_RESOLVER_CACHE_TTL.as_secs());
    assert!(stdout(&client).contains(&bound), "{}", stdout(&client));
    let not_before = issuer.store().user_not_before("users", "7").await.expect("store");
    assert!(not_before.is_some(), "the user's first-party cookies are revoked too");

    let purged = passport(&store, "signing_key", &["purge", "--revoked", "--hours", "0"]);
    assert_ok(&purged);
    assert!(stdout(&purged).starts_with("Purged "), "{}", stdout(&purged));
}

#[test]
fn errors_never_echo_a_store_password() {
    let failed = passport("postgres://admin:hunter2-secret@127.0.0.1:1/db", "signing_key", &["install"]);
    assert_eq!(failed.status.code(), Some(1));
    let text = format!("{}{}", stdout(&failed), stderr(&failed));
    assert!(!text.contains("hunter2-secret"), "{text}");
    assert!(text.contains("***"), "{text}");
    // The cause, not the pool's "pool timed out", and no Debug dump.
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
    assert!(!text.contains('{'), "{text}");
}

/// Remembers the access tokens a bus told it about.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    /// Waits (10 s at most) until the bus brought `what`.
    async fn wait_for(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.0.lock().expect("lock").iter().any(|seen| seen == what) {
            assert!(Instant::now() < deadline, "the server never heard of {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Invalidate for Seen {
    fn invalidate_jti(&self, jti: &str) {
        self.0.lock().expect("lock").push(jti.to_owned());
    }
    fn invalidate_client(&self, _client_id: &str) {}
    fn invalidate_user(&self, provider: &str, user_id: &str) {
        self.0.lock().expect("lock").push(format!("user {provider} {user_id}"));
    }
    fn invalidate_everything(&self) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_token_revocation_reaches_the_servers_through_the_bus() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return;
    };
    let key_setting = unique("cli_key");
    let install = passport(&url, &key_setting, &["install"]);
    assert_ok(&install);
    let issuer = issuer_on(&url, &key_setting).await;
    let store = AnyStore::open(&url).await.expect("store");
    let AnyStore::Postgres(postgres) = &store else { panic!("a PostgreSQL store") };
    // A server's caches, listening on the bus.
    let channel = unique("cli_bus");
    let seen = Seen::default();
    let hub = Hub::new();
    hub.register(seen.clone());
    let bus = PgRevocationBus::new(postgres.pool().clone(), &channel).expect("bus").start(&hub);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !bus.is_connected() {
        assert!(Instant::now() < deadline, "the bus connects");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let created =
        passport(&url, &key_setting, &["client", "--client-credentials", "--name", "Billing", "--json"]);
    assert_ok(&created);
    let parsed: serde_json::Value = serde_json::from_str(stdout(&created).trim()).expect("json");
    let (id, secret) =
        (parsed["client_id"].as_str().expect("id"), parsed["client_secret"].as_str().expect("secret"));
    let client = issuer.authenticate_client(id, Some(secret)).await.expect("authenticated");
    let token =
        issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("token").access_token;
    let jti = issuer.verifier().verify(&token).expect("verifies").jti().expect("jti").to_owned();

    let on_the_bus = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .args(["--bus-channel", &channel])
            .env("PASSPORT_STORE", &url)
            .env("PASSPORT_KEY_SETTING", &key_setting)
            .env_remove("PASSPORT_REDIS_URL")
            .stdin(Stdio::null())
            .output()
            .expect("runs")
    };
    let revoked = on_the_bus(&["token", "--revoke", &jti]);
    assert_ok(&revoked);
    assert!(stdout(&revoked).contains("within milliseconds"), "{}", stdout(&revoked));
    assert!(stdout(&revoked).contains("LISTEN/NOTIFY"), "{}", stdout(&revoked));
    assert!(issuer.store().is_revoked(&jti).await.expect("store"));
    seen.wait_for(&jti).await;

    // Everything of a user: their first-party cookies too.
    let user = unique("user");
    assert_ok(&on_the_bus(&["user", "--revoke-all", &user]));
    seen.wait_for(&format!("user users {user}")).await;
}

#[test]
fn the_default_store_is_the_quickstarts_and_read_only_commands_never_create_one() {
    let dir = scratch("read_only");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .current_dir(&dir)
            .env_remove("PASSPORT_STORE")
            .env_remove("PASSPORT_KEY_SETTING")
            .env_remove("PASSPORT_REDIS_URL")
            .stdin(Stdio::null())
            .output()
            .expect("runs")
    };
    for args in [
        &["client", "--list"][..],
        &["client", "--list", "--json"],
        &["token", "--revoke", "some-jti"],
        &["user", "--revoke-all", "7"],
        &["client", "--revoke", "some-client"],
        &["purge"],
        &["keys", "--rotate"],
    ] {
        let refused = run(args);
        assert_eq!(refused.status.code(), Some(1), "{args:?}: {}", stdout(&refused));
        let message = stderr(&refused);
        assert!(message.contains("no store at quickstart.db"), "{args:?}: {message}");
        assert!(message.contains("run `passport install` first"), "{args:?}: {message}");
        assert!(!dir.join("quickstart.db").exists(), "{args:?} created the database");
    }
    // `install` creates it, under the quickstart's name, with the quickstart's key setting.
    assert_ok(&run(&["install"]));
    let db = dir.join("quickstart.db");
    assert!(db.exists());
    let listed = run(&["client", "--list", "--json"]);
    assert_ok(&listed);
    assert!(stdout(&listed).contains("personal-access-client"), "{}", stdout(&listed));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let key = runtime.block_on(async {
        let store = AnyStore::open(&format!("sqlite://{}", db.display())).await.expect("store");
        store.setting("quickstart_signing_key").await.expect("setting")
    });
    assert!(key.is_some(), "the key is where the quickstart looks for it");
}

#[tokio::test]
async fn install_refuses_another_algorithm_over_a_stored_key_unless_forced() {
    let dir = scratch("install_alg");
    let store = sqlite_url(&dir);
    let first = passport(&store, "signing_key", &["install", "--alg", "ES256"]);
    assert_ok(&first);
    assert!(stdout(&first).contains("Signing key created (ES256"), "{}", stdout(&first));
    // The same algorithm, in any case: nothing to do.
    assert_ok(&passport(&store, "signing_key", &["install", "--alg", "es256"]));
    let refused = passport(&store, "signing_key", &["install", "--alg", "RS256"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    let message = stderr(&refused);
    assert!(message.contains("ES256") && message.contains("--force"), "{message}");
    let issuer = issuer_on(&store, "signing_key").await;
    issuer.share_signing_keys("signing_key").await.expect("ring");
    assert_eq!(issuer.jwks().keys.len(), 1, "the stored key was not touched");

    let forced = passport(&store, "signing_key", &["install", "--alg", "rs256", "--force"]);
    assert_ok(&forced);
    assert!(stdout(&forced).contains("rotated: RS256"), "{}", stdout(&forced));
    issuer.reload_signing_keys().await.expect("reload");
    let algs: Vec<String> =
        issuer.jwks().keys.iter().map(|key| key["alg"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(algs, ["ES256", "RS256"], "rotated, the old key still published");
    // Once rotated, the same request is satisfied.
    assert_ok(&passport(&store, "signing_key", &["install", "--alg", "RS256"]));
}

/// The revocation message names the bus the servers of each setup listen on, as the
/// quickstart picks it: `PASSPORT_REDIS_URL`, else a Redis store itself, else a PostgreSQL
/// store's LISTEN/NOTIFY; a SQLite store alone has none (checked above).
#[test]
fn the_revocation_message_names_the_bus_of_each_setup() {
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipping: TEST_REDIS_URL is not set");
        return;
    };
    let dir = scratch("bus_message");
    let sqlite = sqlite_url(&dir);
    assert_ok(&passport(&sqlite, "signing_key", &["install"]));
    let user = unique("nobody");
    let beside_sqlite = Command::new(BIN)
        .args(["user", "--revoke-all", &user])
        .env("PASSPORT_STORE", &sqlite)
        .env("PASSPORT_REDIS_URL", &redis)
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_ok(&beside_sqlite);
    assert!(
        stdout(&beside_sqlite).contains("(Redis pub/sub) refuse it within milliseconds"),
        "{}",
        stdout(&beside_sqlite)
    );
    // A Redis store is its own bus, as in the quickstart.
    let on_redis = passport(&redis, &unique("cli_key"), &["user", "--revoke-all", &user]);
    assert_ok(&on_redis);
    assert!(
        stdout(&on_redis).contains("(Redis pub/sub) refuse it within milliseconds"),
        "{}",
        stdout(&on_redis)
    );
}

#[test]
fn algorithm_names_are_case_insensitive() {
    let dir = scratch("alg_case");
    for (alg, expected) in
        [("ES256", Algorithm::ES256), ("EdDSA", Algorithm::EdDSA), ("ED25519", Algorithm::EdDSA)]
    {
        let path = dir.join(alg);
        let path = path.to_string_lossy().into_owned();
        let written = passport("memory", "signing_key", &["keys", "--alg", alg, "--path", &path]);
        assert_ok(&written);
        let pem = std::fs::read(dir.join(alg).join("oauth-private.key")).expect("written");
        assert_eq!(SigningKey::from_pem(&pem).expect("key").algorithm(), expected, "{alg}");
    }
}

// ---- errors read as sentences -------------------------------------------------------------

/// One of the quickstart package's binaries, or the integration package's grpc example,
/// which `cargo test` builds beside the test binaries.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let debug = exe.parent().and_then(Path::parent).expect("target/<profile>");
    // The quickstart's binaries sit in `target/<profile>`, the integration package's
    // examples (grpc) in `target/<profile>/examples`.
    let path = if name == "grpc" { debug.join("examples").join(name) } else { debug.join(name) };
    assert!(
        path.exists(),
        "{} is missing: `cargo test` builds it (alone: cargo build --workspace --all-targets)",
        path.display()
    );
    path
}

/// Runs `program` with only `env`, in `dir`, and waits (at most two minutes) for it to
/// stop: a misconfigured server must not start.
fn run_misconfigured(program: &Path, args: &[&str], env: &[(&str, &str)], dir: &Path) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{} {env:?} started instead of stopping", program.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// A misconfigured run, and what its message must name.
struct Case<'a> {
    program: &'a Path,
    args: Vec<&'a str>,
    env: Vec<(&'a str, &'a str)>,
    variable: &'a str,
    cause: &'a str,
}

fn case<'a>(
    program: &'a Path,
    args: Vec<&'a str>,
    env: Vec<(&'a str, &'a str)>,
    variable: &'a str,
    cause: &'a str,
) -> Case<'a> {
    Case { program, args, env, variable, cause }
}

#[test]
fn misconfigurations_are_reported_as_one_sentence_naming_the_variable_and_the_cause() {
    let dir = scratch("misconfigured");
    let key = SigningKey::generate(Algorithm::ES256).expect("key");
    let public = dir.join("public.pem");
    std::fs::write(&public, key.to_public_pem().expect("pem")).expect("write");
    let public = public.to_string_lossy().into_owned();
    let bad_pem = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
    let (quickstart, resource_server, grpc) =
        (example("quickstart"), example("resource_server"), example("grpc"));
    let resource = [("PASSPORT_ISSUER", "https://auth.example.com"), ("PASSPORT_AUDIENCE", "api")];
    let cases = vec![
        case(
            &quickstart,
            vec![],
            vec![("PASSPORT_STORE", "memory"), ("BIND", "127.0.0.1:0"), ("PASSPORT_PRIVATE_KEY", bad_pem)],
            "PASSPORT_PRIVATE_KEY",
            "key",
        ),
        case(
            &quickstart,
            vec![],
            vec![("PASSPORT_STORE", "postgres://postgres@127.0.0.1:1/test"), ("BIND", "127.0.0.1:0")],
            "PASSPORT_STORE",
            "connection refused",
        ),
        case(
            &quickstart,
            vec![],
            vec![("PASSPORT_STORE", "ftp://nowhere"), ("BIND", "127.0.0.1:0")],
            "PASSPORT_STORE",
            "unsupported store",
        ),
        case(
            &resource_server,
            vec![],
            [&resource[..], &[("PASSPORT_JWKS_URL", "https://127.0.0.1:1/jwks.json")]].concat(),
            "PASSPORT_JWKS_URL",
            "refused",
        ),
        case(
            // `es256` in lower case passes: the server stops at the address.
            &resource_server,
            vec![],
            [
                &resource[..],
                &[("PASSPORT_PUBLIC_KEY", &public), ("PASSPORT_ALG", "es256"), ("BIND", "300.0.0.1:80")],
            ]
            .concat(),
            "BIND=300.0.0.1:80",
            "cannot listen",
        ),
        case(
            &resource_server,
            vec![],
            [&resource[..], &[("PASSPORT_PUBLIC_KEY", &public), ("PASSPORT_ALG", "ES257")]].concat(),
            "PASSPORT_ALG",
            "unsupported JWS algorithm",
        ),
        case(&grpc, vec![], vec![("BIND", "300.0.0.1:80")], "BIND=300.0.0.1:80", "cannot listen"),
        case(
            Path::new(BIN),
            vec!["client", "--list"],
            vec![("PASSPORT_STORE", "postgres://postgres@127.0.0.1:1/test")],
            "PASSPORT_STORE=postgres://postgres@127.0.0.1:1/test",
            "connection refused",
        ),
    ];
    // Every case runs, and every failing one is reported.
    let mut wrong = Vec::new();
    for Case { program, args, env, variable, cause } in cases {
        let output = run_misconfigured(program, &args, &env, &dir);
        let text = stderr(&output);
        let name = program.file_name().map_or("".into(), |name| name.to_string_lossy());
        let lines: Vec<&str> = text.lines().filter(|line| line.starts_with("error: ")).collect();
        let line = lines.first().copied().unwrap_or("");
        eprintln!("{name}: {line}");
        let sentence = output.status.code() == Some(1)
            && lines.len() == 1
            && line.contains(variable)
            && line.to_lowercase().contains(&cause.to_lowercase())
            && !line.contains('{');
        if !sentence {
            wrong.push(format!(
                "{name} {env:?}: exit {:?}, wanted one `error: ` line naming {variable} and {cause:?} \
                 with no Debug dump, got:\n{text}",
                output.status.code()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

// ---- key rotation across two quickstart nodes ---------------------------------------------

/// The `kid` in a token's header.
fn kid_of(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().expect("a JWT");
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).expect("base64url");
    let header: serde_json::Value = serde_json::from_slice(&json).expect("JSON header");
    header["kid"].as_str().expect("a kid").to_owned()
}

/// The status a node's demo API answers to `token` (`/api/m2m`, through its guard).
async fn status_on(node: &demo::quickstart::Quickstart, token: &str) -> http::StatusCode {
    use tower::ServiceExt;
    let request = http::Request::get("/api/m2m")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .expect("request");
    node.app.clone().oneshot(request).await.expect("infallible").status()
}

/// `passport keys --rotate`, run as a process against the store two quickstart nodes share
/// (PostgreSQL, its LISTEN/NOTIFY bus, the quickstart's key setting by default): node A
/// signs with the new key, node B accepts its tokens, and a token signed before the
/// rotation still passes both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_reaches_every_quickstart_node_and_older_tokens_keep_passing() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return;
    };
    // A schema of its own: other tests' quickstarts keep their keys.
    let schema = unique("cli_rotate");
    let admin = sqlx::PgPool::connect(&url).await.expect("admin connection");
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\"")).execute(&admin).await.expect("schema");
    admin.close().await;
    let separator = if url.contains('?') { '&' } else { '?' };
    let store = format!("{url}{separator}options[search_path]={schema}");

    let mut config =
        demo::quickstart::QuickstartConfig::from_env(([127, 0, 0, 1], 0).into()).expect("config");
    config.issuer = "http://auth.rotate.test".into();
    config.store = store.clone();
    config.redis_url = None;
    config.signing_key = None;
    config.password_iterations = 1_000;
    let a = demo::quickstart::build(&config).await.expect("node A");
    let b = demo::quickstart::build(&config).await.expect("node B");
    for node in [&a, &b] {
        let bus = node.bus.as_ref().expect("LISTEN/NOTIFY");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !bus.is_connected() {
            assert!(Instant::now() < deadline, "the bus connects");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let client =
        a.issuer.authenticate_client(&config.client_id, Some(&config.client_secret)).await.expect("client");
    let mint = || async {
        a.issuer
            .grant(TokenRequest::client_credentials(client.clone()).scope("check-status"))
            .await
            .expect("token")
            .access_token
    };
    let before = mint().await;
    let old_kid = kid_of(&before);
    assert_eq!(status_on(&b, &before).await, http::StatusCode::OK);

    let rotated = Command::new(BIN)
        .args(["keys", "--rotate", "--alg", "ES256"])
        .env("PASSPORT_STORE", &store)
        .env_remove("PASSPORT_KEY_SETTING")
        .env_remove("PASSPORT_REDIS_URL")
        .env_remove("PASSPORT_BUS_CHANNEL")
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_ok(&rotated);
    let text = stdout(&rotated);
    assert!(text.contains("within milliseconds") && text.contains(&old_kid), "{text}");

    // Node A hears of it on the bus and signs with the new key.
    let deadline = Instant::now() + Duration::from_secs(20);
    let after = loop {
        let token = mint().await;
        if kid_of(&token) != old_kid {
            break token;
        }
        assert!(Instant::now() < deadline, "node A never signed with the new key");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let new_kid = kid_of(&after);
    assert!(text.contains(&format!("kid {new_kid}")), "the CLI named the new key: {text}");
    // Node B heard it too (the same message, within milliseconds).
    let deadline = Instant::now() + Duration::from_secs(20);
    while status_on(&b, &after).await != http::StatusCode::OK {
        assert!(Instant::now() < deadline, "node B never accepted the new key's tokens");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_on(&a, &after).await, http::StatusCode::OK);
    for node in [&a, &b] {
        assert_eq!(status_on(node, &before).await, http::StatusCode::OK, "the old key's tokens still pass");
    }
    let published: Vec<String> =
        b.issuer.jwks().keys.iter().map(|key| key["kid"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(published, [old_kid, new_kid], "node B publishes both");
}

#[tokio::test]
async fn import_laravel_copies_passports_clients_once() {
    let dir = scratch("import_laravel");
    let laravel_url = format!("sqlite://{}?mode=rwc", dir.join("laravel.sqlite").display());
    let laravel = sqlx::SqlitePool::connect(&laravel_url).await.expect("laravel db");
    for statement in [
        // Passport 12's migration on SQLite.
        "CREATE TABLE oauth_clients (id integer not null primary key autoincrement, user_id integer, \
         name varchar not null, secret varchar, provider varchar, redirect text not null, \
         personal_access_client tinyint(1) not null, password_client tinyint(1) not null, \
         revoked tinyint(1) not null, created_at datetime, updated_at datetime)",
        "INSERT INTO oauth_clients (id, name, secret, redirect, personal_access_client, password_client, revoked) \
         VALUES (1, 'Web', 'a-plaintext-secret-of-forty-characters-x', 'https://web.test/cb', 0, 0, 0), \
         (2, 'Personal Access Client', 'another-plaintext-secret-of-forty-chars', 'http://localhost', 1, 0, 0)",
    ] {
        sqlx::query(statement).execute(&laravel).await.expect(statement);
    }
    laravel.close().await;
    let store = sqlite_url(&dir);
    let key_setting = unique("import_key");
    assert_ok(&passport(&store, &key_setting, &["install"]));

    let first = passport(&store, &key_setting, &["import", "laravel", "--from", &laravel_url, "--json"]);
    assert_ok(&first);
    let report: serde_json::Value = serde_json::from_str(stdout(&first).trim()).expect("json");
    assert_eq!(report["copied"], serde_json::json!(["1"]));
    assert_eq!(report["skipped"][0]["id"], "2");
    let second = passport(&store, &key_setting, &["import", "laravel", "--from", &laravel_url]);
    assert_ok(&second);
    assert!(stdout(&second).contains("copied 0 client(s)"), "{}", stdout(&second));
    assert!(stdout(&second).contains("skipped 1: already in the store"), "{}", stdout(&second));

    let issuer = issuer_on(&store, &key_setting).await;
    issuer
        .authenticate_client("1", Some("a-plaintext-secret-of-forty-characters-x"))
        .await
        .expect("the imported client's secret");
    let missing = passport(&store, &key_setting, &["import", "laravel", "--from", "sqlite://nowhere.sqlite"]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
}
