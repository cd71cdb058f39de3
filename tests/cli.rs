//! The `passport` binary, run for real against SQLite and PostgreSQL
//! (`TEST_POSTGRES_URL`; those cases skip, saying why, without it).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tower_passport::issuer::{ClientRegistration, Issuer, SigningKey};
use tower_passport::revocation::{Invalidate, LocalCaches, PgRevocationBus};
use tower_passport::store::{AnyStore, ClientStore, GrantType, RevocationStore, SettingsStore};
use tower_passport::Algorithm;

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
async fn issuer_on(store: &str, key_setting: &str) -> Issuer<AnyStore> {
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
    let token = issuer.client_credentials_grant(&client, None).await.expect("token").access_token;
    let jti = issuer.verifier().verify(&token).expect("verifies").jti().expect("jti").to_owned();

    let revoked = passport(&store, "signing_key", &["token", "--revoke", &jti]);
    assert_ok(&revoked);
    assert!(issuer.store().is_revoked(&jti).await.expect("store"), "revoked in the store");
    let again = passport(&store, "signing_key", &["token", "--revoke", "no-such-jti"]);
    assert_eq!(again.status.code(), Some(1));

    let user = passport(&store, "signing_key", &["user", "--revoke-all", "7"]);
    assert_ok(&user);
    assert!(stdout(&user).contains("of user 7"));
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
    let AnyStore::Postgres(postgres) = &**issuer.store() else { panic!("a PostgreSQL store") };
    // A server's caches, listening on the bus.
    let channel = unique("cli_bus");
    let seen = Seen::default();
    let bus = PgRevocationBus::new(postgres.pool().clone(), &channel)
        .expect("bus")
        .listen(LocalCaches::new().with(seen.clone()));
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
    let token = issuer.client_credentials_grant(&client, None).await.expect("token").access_token;
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
    assert_ok(&on_the_bus(&["token", "--revoke", &jti]));
    assert!(issuer.store().is_revoked(&jti).await.expect("store"));
    seen.wait_for(&jti).await;

    // Everything of a user: their first-party cookies too.
    let user = unique("user");
    assert_ok(&on_the_bus(&["user", "--revoke-all", &user]));
    seen.wait_for(&format!("user users {user}")).await;
}
