//! The store conformance suite, and fault tests, against a real Redis server: the one at
//! `TEST_REDIS_URL` (for instance `redis://127.0.0.1:6379`). Every test is skipped, saying
//! so, when it is unset.
//!
//! Each store uses a prefix of its own, and deletes its keys when it is dropped (also when
//! its test panics). The fault tests kill every client connection on the server, so they hold
//! `QUIET` exclusively: no other test of this file runs meanwhile.

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::conformance::{access, refresh, rotation, unique, T0};
use ::redis::aio::MultiplexedConnection;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use tower_passport_issuer::store::{
    AccessTokenRecord, ClientStore, CodeRedemption, CodeStore, FamilyRecord, Purge, PurgeStore,
    RefreshTokenRecord, RevocationStore, RotationOutcome, SecretHash, SettingsStore, StoreError, TokenStore,
};
use tower_passport_redis::RedisStore;

/// Shared by every ordinary test, held exclusively by the tests that kill connections.
static QUIET: RwLock<()> = RwLock::const_new(());

fn url() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL").ok().filter(|url| !url.is_empty());
    if url.is_none() {
        eprintln!("skipping: TEST_REDIS_URL is not set");
    }
    url
}

/// `passport-test-<process>-<random>:`.
fn unique_prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(NEXT.fetch_add(1, Ordering::Relaxed));
    format!("passport-test-{}-{:016x}:", std::process::id(), hasher.finish())
}

async fn connect(url: &str, prefix: &str) -> RedisStore {
    RedisStore::builder().prefix(prefix).connect(url).await.expect("connect to TEST_REDIS_URL")
}

/// A second, plain connection, for what the store does not do (TTL, CLIENT KILL, ...).
async fn plain(url: &str) -> MultiplexedConnection {
    let client = ::redis::Client::open(url).expect("TEST_REDIS_URL parses");
    client.get_multiplexed_async_connection().await.expect("a plain connection")
}

/// Deletes every key under `prefix` when dropped, over a blocking connection of its own, so
/// that it works in `Drop` (of a test that panicked, too).
struct Cleanup {
    url: String,
    prefix: String,
}

impl Cleanup {
    fn keys(&self) -> ::redis::RedisResult<Vec<String>> {
        let mut connection = ::redis::Client::open(self.url.as_str())?.get_connection()?;
        // Test prefixes hold no glob characters.
        let pattern = format!("{}*", self.prefix);
        let (mut cursor, mut keys) = (0u64, Vec::new());
        loop {
            let (next, batch): (u64, Vec<String>) = ::redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query(&mut connection)?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }

    fn delete(&self) -> ::redis::RedisResult<usize> {
        let keys = self.keys()?;
        let mut connection = ::redis::Client::open(self.url.as_str())?.get_connection()?;
        for batch in keys.chunks(500) {
            ::redis::cmd("DEL").arg(batch).exec(&mut connection)?;
        }
        Ok(keys.len())
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Err(error) = self.delete() {
            eprintln!("could not delete the keys under {}: {error}", self.prefix);
        }
    }
}

/// A store for one conformance case: its own prefix, cleaned up on drop, and a share of
/// `QUIET`. Fields drop in order: the keys go before the share is released.
struct TestStore {
    store: RedisStore,
    _cleanup: Cleanup,
    _shared: RwLockReadGuard<'static, ()>,
}

async fn make() -> Option<TestStore> {
    let url = url()?;
    let shared = QUIET.read().await;
    let prefix = unique_prefix();
    let store = connect(&url, &prefix).await;
    Some(TestStore { store, _cleanup: Cleanup { url, prefix }, _shared: shared })
}

// Each case gets a clone of the store (sharing its connection); the fixture keeps the prefix
// cleaned up and `QUIET` shared until the case ends.
conformance_suite!(redis, make().await, |fixture| fixture.store.clone());
code_conformance_suite!(redis_codes, make().await, |fixture| fixture.store.clone());
device_conformance_suite!(redis_devices, make().await, |fixture| fixture.store.clone());
failure_conformance_suite!(redis_failures, make().await, |fixture| fixture.store.clone());

/// Two nodes: two connections under one prefix, each under its own throttle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_throttles_on_one_server_share_their_counts() {
    let Some(fixture) = make().await else { return };
    let Some(url) = url() else { return };
    let node_b = connect(&url, fixture.store.prefix()).await;
    crate::failure_conformance::two_nodes_share_one_count(fixture.store.clone(), node_b).await;
}

/// The other tests use a `TestStore` as the store it holds.
impl Deref for TestStore {
    type Target = RedisStore;
    fn deref(&self) -> &RedisStore {
        &self.store
    }
}

/// A store for a fault test, which has the server to itself (within this process), and a
/// plain connection to break things with.
struct Fault {
    store: Arc<RedisStore>,
    admin: MultiplexedConnection,
    _cleanup: Cleanup,
    _exclusive: RwLockWriteGuard<'static, ()>,
}

impl Fault {
    async fn start() -> Option<Self> {
        let url = url()?;
        let exclusive = QUIET.write().await;
        let prefix = unique_prefix();
        let store = Arc::new(connect(&url, &prefix).await);
        let admin = plain(&url).await;
        Some(Self { store, admin, _cleanup: Cleanup { url, prefix }, _exclusive: exclusive })
    }

    /// `CLIENT KILL TYPE normal SKIPME yes`: every ordinary connection but this one. Returns
    /// how many went.
    async fn kill_clients(&mut self) -> u64 {
        ::redis::cmd("CLIENT")
            .arg(&["KILL", "TYPE", "normal", "SKIPME", "yes"])
            .query_async(&mut self.admin)
            .await
            .expect("CLIENT KILL")
    }

    /// Kills every client `times` times, `every` apart, while the workers run; returns the
    /// number of connections killed.
    async fn keep_killing(&mut self, times: u32, every: Duration) -> u64 {
        let mut killed = 0;
        for _ in 0..times {
            tokio::time::sleep(every).await;
            killed += self.kill_clients().await;
        }
        killed
    }
}

/// Retries `op` until it succeeds (the store reconnects by itself), for at most ~5 s.
async fn eventually<T, E: std::fmt::Debug, F: Future<Output = Result<T, E>>>(mut op: impl FnMut() -> F) -> T {
    let mut last = None;
    for _ in 0..50 {
        match op().await {
            Ok(value) => return value,
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the store did not recover: {last:?}");
}

/// A new family issued at `now`, as `crate::conformance::start` makes them: the family, its first
/// refresh token (`<family>-r0`, secret `<family>-s0`, 30 days) and access token
/// (`<family>-a0`, an hour).
fn new_family(now: u64) -> (FamilyRecord, RefreshTokenRecord, AccessTokenRecord) {
    let family = unique("family");
    let first =
        refresh(&format!("{family}-r0"), &family, &format!("{family}-s0"), &format!("{family}-a0"), now);
    let access = access(&format!("{family}-a0"), Some(&family), now, 3600);
    let record = FamilyRecord {
        id: family,
        client_id: "client".into(),
        user_id: Some("user-1".into()),
        created_at: now,
        revoked_at: None,
        current: first.id.clone(),
        previous: None,
    };
    (record, first, access)
}

/// Starts a family like `crate::conformance::start`, but reports a failure instead of panicking.
async fn try_start(store: &RedisStore) -> Result<String, StoreError> {
    let (family, first, access) = new_family(T0);
    let id = family.id.clone();
    store.start_family(family, first, access).await?;
    Ok(id)
}

#[derive(Debug, Default)]
struct Tally {
    ok: u64,
    failed: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.ok += other.ok;
        self.failed += other.failed;
    }
}

/// Traffic against known state while the connections keep being killed: every answer is
/// either an error or the right one, nothing panics, and the store recovers on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_connections_give_errors_never_wrong_answers_and_the_store_recovers() {
    let Some(mut fault) = Fault::start().await else { return };
    let store = fault.store.clone();
    let (revoked, live, setting) = (unique("revoked"), unique("live"), unique("setting"));
    store.put_access_token(access(&revoked, None, T0, 3600)).await.expect("put");
    store.revoke_access_token(&revoked, T0 + 1).await.expect("revoke");
    store.put_access_token(access(&live, None, T0, 3600)).await.expect("put");
    assert_eq!(store.put_setting_if_absent(&setting, "first").await.expect("setting"), "first");
    let killed_before = fault.kill_clients().await;

    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut workers = Vec::new();
    for worker in 0..4u64 {
        let (store, revoked, live, setting) = (store.clone(), revoked.clone(), live.clone(), setting.clone());
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut count = |result: Result<(), StoreError>| match result {
                Ok(()) => tally.ok += 1,
                Err(_) => tally.failed += 1,
            };
            // A refresh chain: while every rotation of it succeeded, the next must rotate too.
            let mut chain: Option<(String, u32)> = None;
            while Instant::now() < deadline {
                count(
                    store
                        .is_revoked(&revoked)
                        .await
                        .map_err(StoreError::from)
                        .map(|answer| assert!(answer, "a revoked jti read as live")),
                );
                count(
                    store
                        .is_revoked(&live)
                        .await
                        .map_err(StoreError::from)
                        .map(|answer| assert!(!answer, "a live jti read as revoked")),
                );
                count(store.access_token(&live).await.map(|record| {
                    assert_eq!(record, Some(access(&live, None, T0, 3600)), "the record changed")
                }));
                count(
                    store
                        .put_setting_if_absent(&setting, &format!("worker-{worker}"))
                        .await
                        .map(|value| assert_eq!(value, "first", "a setting was overwritten")),
                );
                match chain.take() {
                    None => match try_start(&store).await {
                        Ok(family) => {
                            chain = Some((family, 0));
                            count(Ok(()));
                        }
                        Err(error) => count(Err(error)),
                    },
                    Some((family, generation)) => {
                        let next = generation + 1;
                        let now = T0 + 60 * u64::from(next);
                        match store.rotate(rotation(&family, generation, next, now, None)).await {
                            Ok(RotationOutcome::Rotated { revoked }) => {
                                let old = format!("{family}-a{generation}");
                                assert_eq!(revoked.iter().map(|r| r.jti.as_str()).collect::<Vec<_>>(), [old]);
                                chain = Some((family, next));
                                count(Ok(()));
                            }
                            Ok(other) => panic!("an unbroken chain did not rotate: {other:?}"),
                            // The rotation may or may not have happened: start a new chain.
                            Err(error) => count(Err(error)),
                        }
                    }
                }
            }
            tally
        }));
    }
    let killed = fault.keep_killing(12, Duration::from_millis(100)).await;
    let mut tally = Tally::default();
    for worker in workers {
        tally.add(worker.await.expect("no worker panicked"));
    }
    let recovered = Instant::now();
    assert!(eventually(|| store.is_revoked(&revoked)).await, "a revoked jti read as live after recovery");
    assert!(!eventually(|| store.is_revoked(&live)).await);
    eprintln!(
        "{} connection(s) killed; {} operations succeeded, {} failed with a StoreError; recovered in {:?}",
        killed_before + killed,
        tally.ok,
        tally.failed,
        recovered.elapsed()
    );
    assert!(killed > 0, "CLIENT KILL found the store's connection");
    assert!(tally.failed > 0, "the kills interrupted some operations");
    assert!(tally.ok > tally.failed, "most operations got through");
}

/// Revocations issued while connections are killed: every one that was acknowledged holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_revocation_is_lost() {
    let Some(mut fault) = Fault::start().await else { return };
    let store = fault.store.clone();
    let jtis: Vec<String> = (0..300).map(|_| unique("jti")).collect();
    for jti in &jtis {
        store.put_access_token(access(jti, None, T0, 3600)).await.expect("put");
    }
    let mut revokers = Vec::new();
    for (i, batch) in jtis.chunks(30).enumerate() {
        let (store, batch) = (store.clone(), batch.to_vec());
        revokers.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(15 * i as u64)).await;
            let mut acknowledged = Vec::new();
            let mut failed = 0;
            for jti in batch {
                match store.revoke_access_token(&jti, T0 + 5).await {
                    Ok(Some(record)) => {
                        assert_eq!(record.revoked_at, Some(T0 + 5), "{record:?}");
                        acknowledged.push(jti);
                    }
                    Ok(None) => panic!("an existing token came back as unknown"),
                    Err(_) => failed += 1,
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (acknowledged, failed)
        }));
    }
    let killed = fault.keep_killing(15, Duration::from_millis(20)).await;
    let (mut acknowledged, mut failed) = (Vec::new(), 0);
    for revoker in revokers {
        let (ok, err) = revoker.await.expect("no revoker panicked");
        acknowledged.extend(ok);
        failed += err;
    }
    let acknowledged: HashSet<String> = acknowledged.into_iter().collect();
    let mut applied_anyway = 0;
    for jti in &jtis {
        let revoked = eventually(|| store.is_revoked(jti)).await;
        if acknowledged.contains(jti) {
            assert!(revoked, "an acknowledged revocation was lost");
        } else if revoked {
            applied_anyway += 1;
        }
    }
    eprintln!(
        "{killed} connection(s) killed; {} revocations acknowledged, all held; {failed} failed, of which \
         {applied_anyway} had been applied before the reply was lost",
        acknowledged.len()
    );
    assert!(killed > 0);
    assert_eq!(acknowledged.len() + failed, jtis.len());
}

/// `SCRIPT FLUSH` (or a restarted server) drops the loaded scripts: the store loads them again.
#[tokio::test]
async fn scripts_are_loaded_again_after_script_flush() {
    let Some(mut fault) = Fault::start().await else { return };
    let store = fault.store.clone();
    let family = try_start(&store).await.expect("start");
    ::redis::cmd("SCRIPT").arg("FLUSH").exec_async(&mut fault.admin).await.expect("SCRIPT FLUSH");
    let outcome = store.rotate(rotation(&family, 0, 1, T0 + 60, None)).await.expect("rotate");
    assert!(matches!(outcome, RotationOutcome::Rotated { .. }), "{outcome:?}");
}

/// A `redis-server` of a test's own, on `port`, without persistence; stopped (its own process,
/// by its handle) when dropped.
struct PrivateServer {
    child: std::process::Child,
}

impl PrivateServer {
    fn free_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        listener.local_addr().expect("its address").port()
    }

    /// `None` if there is no `redis-server` to run.
    async fn start(port: u16) -> Option<Self> {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let server = Self { child };
        let client = ::redis::Client::open(format!("redis://127.0.0.1:{port}")).expect("URL");
        for _ in 0..100 {
            if let Ok(mut connection) = client.get_multiplexed_async_connection().await {
                if ::redis::cmd("PING").exec_async(&mut connection).await.is_ok() {
                    return Some(server);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the private redis-server did not come up on port {port}");
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The server goes away and comes back (a private one: the shared server stays up): commands
/// fail with a `StoreError` in bounded time meanwhile, and the same store works again after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_recovers_when_the_server_restarts() {
    if url().is_none() {
        return;
    }
    let port = PrivateServer::free_port();
    let Some(mut server) = PrivateServer::start(port).await else {
        eprintln!("skipping: no redis-server on PATH to restart");
        return;
    };
    let store = connect(&format!("redis://127.0.0.1:{port}"), "passport-restart:").await;
    let jti = unique("jti");
    store.put_access_token(access(&jti, None, T0, 3600)).await.expect("put");
    store.revoke_access_token(&jti, T0 + 1).await.expect("revoke");

    server.stop();
    let down = Instant::now();
    for _ in 0..3 {
        let answer = store.is_revoked(&jti).await;
        assert!(answer.is_err(), "no server, yet {answer:?}");
    }
    let failing = down.elapsed();
    assert!(failing < Duration::from_secs(10), "three commands took {failing:?} to fail");

    let _server = PrivateServer::start(port).await.expect("redis-server again");
    let back = Instant::now();
    // The new server is empty (no persistence), and the same store works against it.
    assert!(!eventually(|| store.is_revoked(&jti)).await);
    let recovered = back.elapsed();
    store.put_access_token(access(&jti, None, T0, 3600)).await.expect("put after the restart");
    store.revoke_access_token(&jti, T0 + 1).await.expect("revoke after the restart");
    assert!(store.is_revoked(&jti).await.expect("is_revoked after the restart"));
    eprintln!(
        "while down, 3 commands failed in {failing:?}; once back, the store answered after {recovered:?}"
    );
}

/// The server's clock, in seconds.
async fn server_now(connection: &mut MultiplexedConnection) -> u64 {
    let (seconds, _micros): (u64, u64) = ::redis::cmd("TIME").query_async(connection).await.expect("TIME");
    seconds
}

async fn pttl(connection: &mut MultiplexedConnection, key: &str) -> i64 {
    ::redis::cmd("PTTL").arg(key).query_async(connection).await.expect("PTTL")
}

fn assert_ttl_near(pttl_ms: i64, seconds: u64, what: &str) {
    let expected = seconds as i64 * 1000;
    assert!(
        (expected - 5_000..=expected).contains(&pttl_ms),
        "{what}: PTTL {pttl_ms} ms, expected ~{expected} ms"
    );
}

/// Keys expire with what they hold: revocation entries and token records at the token's
/// expiry plus `EXPIRY_MARGIN` (a guard admits a token up to its leeway past `exp`, and a
/// revocation must hold that long), a family with its last token.
#[tokio::test]
async fn keys_expire_with_their_tokens() {
    let Some(store) = make().await else { return };
    let Some(url) = url() else { return };
    let mut admin = plain(&url).await;
    let now = server_now(&mut admin).await;
    let key = |kind: &str, id: &str| format!("{}{kind}:{id}", store.store.prefix());

    // An access token with an hour left, revoked: entry and record go the margin after it
    // expires.
    let jti = unique("jti");
    let kept = 3600 + tower_passport_issuer::store::EXPIRY_MARGIN;
    store.put_access_token(access(&jti, None, now, 3600)).await.expect("put");
    store.revoke_access_token(&jti, now + 1).await.expect("revoke");
    assert_ttl_near(pttl(&mut admin, &key("revoked", &jti)).await, kept, "revocation entry");
    assert_ttl_near(pttl(&mut admin, &key("access", &jti)).await, kept, "access-token record");

    // A family: its refresh token lasts 30 days, its access token an hour; after a rotation
    // the family lives as long as the newest refresh token.
    let (record, first, access_token) = new_family(now);
    let family = record.id.clone();
    store.start_family(record, first, access_token).await.expect("start");
    let month = 30 * 24 * 3600;
    assert_ttl_near(pttl(&mut admin, &key("refresh", &format!("{family}-r0"))).await, month, "refresh token");
    assert_ttl_near(pttl(&mut admin, &key("family", &family)).await, month, "family");
    let outcome = store.rotate(rotation(&family, 0, 1, now + 100, None)).await.expect("rotate");
    assert!(matches!(outcome, RotationOutcome::Rotated { .. }), "{outcome:?}");
    assert_ttl_near(pttl(&mut admin, &key("family", &family)).await, month + 100, "family after a rotation");
    assert_ttl_near(
        pttl(&mut admin, &key("revoked", &format!("{family}-a0"))).await,
        kept,
        "rotated-out access token",
    );

    // A token that has already expired gets no TTL (EXPIREAT would delete it at once): it
    // stays until purge, as in the memory store.
    let old = unique("old");
    store.put_access_token(access(&old, None, now - 7200, 3600)).await.expect("put");
    store.revoke_access_token(&old, now - 7000).await.expect("revoke");
    assert_eq!(pttl(&mut admin, &key("access", &old)).await, -1);
    assert_eq!(pttl(&mut admin, &key("revoked", &old)).await, -1);
    assert!(store.is_revoked(&old).await.expect("is_revoked"));
    let counts = store.purge(Purge { revoked: false, expired: true, before: now }).await.expect("purge");
    assert_eq!((counts.access_tokens, counts.revocations), (1, 1), "{counts:?}");
    assert!(!store.is_revoked(&old).await.expect("is_revoked"));
    assert!(store.is_revoked(&jti).await.expect("is_revoked"), "the live revocation stays");
}

/// A code is one key under the prefix, named by the code's hash (never the code), that
/// expires a day after the code does, on the server's clock; a code written after that day
/// had passed still gets a TTL (a day), so no code key ever stays.
#[tokio::test]
async fn a_codes_key_is_its_hash_and_expires_a_day_after_the_code() {
    let Some(store) = make().await else { return };
    let Some(url) = url() else { return };
    let mut admin = plain(&url).await;
    let now = server_now(&mut admin).await;
    let day = crate::code_conformance::KEPT_AFTER_EXPIRY;
    let secret = unique("code");
    let hash = SecretHash::of(secret.as_bytes());
    let code = tower_passport_issuer::store::AuthorizationCodeRecord {
        issued_at: now,
        expires_at: now + 600,
        ..crate::code_conformance::code(&secret, "client")
    };
    store.put_code(code).await.expect("put");
    let keys = store._cleanup.keys().expect("SCAN");
    assert_eq!(keys, [format!("{}code:{}", store.store.prefix(), hash.to_hex())]);
    assert!(!keys[0].contains(&secret), "the code itself is not in its key");
    assert_ttl_near(pttl(&mut admin, &keys[0]).await, 600 + day, "code");
    assert!(matches!(store.take_code(&hash, now + 1).await.expect("take"), CodeRedemption::Fresh(_)));
    assert_ttl_near(pttl(&mut admin, &keys[0]).await, 600 + day, "code after its take");

    let late = unique("code");
    let old = tower_passport_issuer::store::AuthorizationCodeRecord {
        issued_at: now - 3 * day,
        expires_at: now - 3 * day + 600,
        ..crate::code_conformance::code(&late, "client")
    };
    store.put_code(old).await.expect("put");
    let key = format!("{}code:{}", store.store.prefix(), SecretHash::of(late.as_bytes()).to_hex());
    assert_ttl_near(pttl(&mut admin, &key).await, day, "a code past its day when written");
}

/// Every key the store writes sits under its prefix, and the cleanup finds them all.
#[tokio::test]
async fn everything_lives_under_the_prefix() {
    let Some(store) = make().await else { return };
    let family = try_start(&store.store).await.expect("start");
    store.rotate(rotation(&family, 0, 1, T0 + 60, None)).await.expect("rotate");
    let mut pat = access(&unique("pat"), None, T0, 3600);
    pat.personal = true;
    store.put_access_token(pat).await.expect("put");
    store.put_setting_if_absent(&unique("setting"), "v").await.expect("setting");
    store.put_client(crate::conformance::client(&unique("client"))).await.expect("client");
    let keys = store._cleanup.keys().expect("SCAN");
    let kinds: HashSet<&str> = keys
        .iter()
        .filter_map(|key| key.strip_prefix(store.store.prefix()))
        .filter_map(|rest| rest.split(':').next())
        .collect();
    let expected: HashSet<&str> = [
        "access",
        "revoked",
        "refresh",
        "family",
        "family-refresh",
        "family-access",
        "pats",
        "user-access",
        "user-families",
        "setting",
        "client",
        "owner-clients",
    ]
    .into();
    assert_eq!(kinds, expected, "{keys:?}");
}

/// `Debug` shows the prefix only, and a failed connection does not repeat the password.
#[tokio::test]
async fn nothing_secret_in_debug_or_errors() {
    let Some(store) = make().await else { return };
    let shown = format!("{:?}", store.store);
    assert_eq!(shown, format!("RedisStore {{ prefix: {:?}, .. }}", store.store.prefix()));
    let refused = RedisStore::builder()
        .connection_timeout(Duration::from_millis(100))
        .connect("redis://:hunter2@127.0.0.1:1")
        .await
        .expect_err("nothing listens on port 1");
    assert!(!format!("{refused} {refused:?}").contains("hunter2"), "{refused:?}");
    let malformed = RedisStore::connect("redis://:hunter2@[::1").await.expect_err("not a URL");
    assert!(!format!("{malformed} {malformed:?}").contains("hunter2"), "{malformed:?}");
}

async fn zcard(connection: &mut MultiplexedConnection, key: &str) -> u64 {
    ::redis::cmd("ZCARD").arg(key).query_async(connection).await.expect("ZCARD")
}

/// A user's indexes (sorted sets scored by expiry) drop what expired on every write, and a
/// purge takes out what it removes: they never outgrow what is live.
#[tokio::test]
async fn a_users_indexes_hold_only_what_is_live() {
    let Some(store) = make().await else { return };
    let Some(url) = url() else { return };
    let mut admin = plain(&url).await;
    let now = server_now(&mut admin).await;
    let user = unique("user");
    let index = format!("{}user-access:{user}", store.store.prefix());
    let of_user = |jti: &str, issued_at: u64| AccessTokenRecord {
        user_id: Some(user.clone()),
        ..access(jti, None, issued_at, 3600)
    };
    store.put_access_token(of_user(&unique("old"), now - 7200)).await.expect("put");
    assert_eq!(zcard(&mut admin, &index).await, 0, "expired on the server's clock: dropped at once");
    let live = of_user(&unique("live"), now);
    store.put_access_token(live.clone()).await.expect("put");
    assert_eq!(zcard(&mut admin, &index).await, 1);
    assert_eq!(
        store.user_tokens(&user, now).await.expect("listed")[0].access_tokens,
        std::slice::from_ref(&live)
    );
    store.revoke_access_token(&live.jti, now + 1).await.expect("revoke");
    store.purge(Purge { revoked: true, expired: false, before: now + 10 }).await.expect("purge");
    assert_eq!(zcard(&mut admin, &index).await, 0, "the purge took it out of the index");
}
