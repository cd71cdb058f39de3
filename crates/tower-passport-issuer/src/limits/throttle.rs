//! [`Throttle`]: the built-in [`AuthLimiter`], exponential back-off per account (or client)
//! and per client address, with its counters in a [`FailureStore`].

use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::sync::Arc;

use super::{AuthAttempt, AuthLimiter, Backoff, Verdict};
use crate::store::{DynFailures, FailureStore, Failures, MemoryFailures, SecretHash, StoreError};
use tower_passport::clock::{Clock, SystemClock};
use tower_passport::error::BackendError;

/// The built-in [`AuthLimiter`], and every issuer's default: exponential back-off
/// ([`Backoff`]) per account and per client address.
///
/// - **Per account.** Failed passwords for one username (case-insensitive, within its user
///   provider), whatever the client or the address: 5 free, then waits that double from
///   1 s to 15 minutes ([`Backoff::ACCOUNTS`]). A success forgets them.
/// - **Per client.** Failed client authentication for one client id *from one address*,
///   with the same policy, so that a stranger who knows a client id cannot lock the client
///   out of its own token endpoint. A success forgets them.
/// - **Per address.** Every failure from one address (IPv6 by its /64): 20 free, then the
///   same doubling ([`Backoff::ADDRESSES`]), one forgotten per minute. A success does not
///   forget them: an attacker spraying one password over many accounts from one address
///   would otherwise reset the count with an account of their own between guesses.
///
/// An attempt waits for the longest of its keys; the answer is 429 with `Retry-After`,
/// before any password is hashed, and the right password is refused too while it waits.
/// The address is known when the server passes it on
/// (`endpoint::PeerAddr`); without it only accounts and clients are
/// throttled. Keys are SHA-256 hashes: no username or address is stored in clear.
///
/// The counters live in [`MemoryFailures`] by default (one node, bounded); for several
/// nodes give the throttle the shared store ([`Throttle::new`] with a `PostgresStore`,
/// `SqliteStore` or `RedisStore`, whose `migrate` creates the table). Cheap to clone:
/// clones share the counters.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tower_passport_issuer::{AuthAttempt, AuthLimiter, Issuer, Throttle, Verdict};
/// use tower_passport::clock::ManualClock;
/// use tower_passport_issuer::store::MemoryStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ManualClock::new(1_800_000_000);
/// let throttle = Throttle::in_memory().clock(clock.clone());
/// let attempt = AuthAttempt::User { client_id: None, provider: None, username: "ann", peer: None };
/// for _ in 0..6 {
///     assert_eq!(throttle.check(&attempt).await?, Verdict::Allow);
///     throttle.failed(&attempt).await?;
/// }
/// assert_eq!(throttle.check(&attempt).await?, Verdict::RetryAfter(Duration::from_secs(1)));
/// clock.advance(1);
/// assert_eq!(throttle.check(&attempt).await?, Verdict::Allow);
///
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
///     .audience("api")
///     .auth_limiter(throttle)
///     .build()?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Throttle {
    store: Arc<dyn DynFailures>,
    accounts: Backoff,
    addresses: Option<Backoff>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("accounts", &self.accounts)
            .field("addresses", &self.addresses)
            .finish_non_exhaustive()
    }
}

impl Throttle {
    /// A throttle with its counters in this process's memory (100 000 keys at most).
    pub fn in_memory() -> Self {
        Self::new(MemoryFailures::default())
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Self::in_memory()
    }
}

impl Throttle {
    /// A throttle with its counters in `store` (any [`FailureStore`], whose type is erased),
    /// with the default policies and the system clock.
    pub fn new(store: impl FailureStore) -> Self {
        Self {
            store: Arc::new(store),
            accounts: Backoff::ACCOUNTS,
            addresses: Some(Backoff::ADDRESSES),
            clock: Arc::new(SystemClock),
        }
    }

    /// The policy per account and per client ([`Backoff::ACCOUNTS`] by default).
    pub fn accounts(mut self, policy: Backoff) -> Self {
        self.accounts = policy;
        self
    }

    /// The policy per client address ([`Backoff::ADDRESSES`] by default); `None` throttles
    /// no address (behind a proxy that is not trusted to report the client's address, say,
    /// where every request seems to come from the proxy).
    pub fn addresses(mut self, policy: Option<Backoff>) -> Self {
        self.addresses = policy;
        self
    }

    /// The clock (the system clock by default; an issuer's default throttle uses the
    /// issuer's clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub(crate) fn clock_shared(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The keys of an attempt with their policies: the account or client first, then the
    /// address when it is known and throttled.
    fn keys(&self, attempt: &AuthAttempt<'_>) -> Vec<String> {
        let subject = subject_key(attempt);
        match (attempt.peer(), self.addresses) {
            (Some(peer), Some(_)) => vec![subject, address_key(peer)],
            _ => vec![subject],
        }
    }

    fn policy(&self, index: usize) -> Backoff {
        match (index, self.addresses) {
            (0, _) | (_, None) => self.accounts,
            (_, Some(addresses)) => addresses,
        }
    }
}

impl AuthLimiter for Throttle {
    async fn check(&self, attempt: &AuthAttempt<'_>) -> Result<Verdict, BackendError> {
        let keys = self.keys(attempt);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let found = self.store.failures(&keys).await.map_err(backend)?;
        let now = self.clock.now();
        let wait = found
            .into_iter()
            .enumerate()
            .filter_map(|(index, failures)| self.policy(index).retry_after(failures, now))
            .max();
        Ok(wait.map_or(Verdict::Allow, Verdict::RetryAfter))
    }

    async fn failed(&self, attempt: &AuthAttempt<'_>) -> Result<(), BackendError> {
        let now = self.clock.now();
        for (index, key) in self.keys(attempt).iter().enumerate() {
            let forget_every = self.policy(index).forget_every_secs();
            let _: Failures = self.store.record_failure(key, now, forget_every).await.map_err(backend)?;
        }
        Ok(())
    }

    async fn succeeded(&self, attempt: &AuthAttempt<'_>) -> Result<(), BackendError> {
        // The account's (or the client's) failures only: an address keeps its count. Read
        // first, so that the usual success (nothing to forget) writes nothing: every token
        // request authenticates a client.
        let key = subject_key(attempt);
        let found = self.store.failures(&[&key]).await.map_err(backend)?;
        if found.iter().any(Option::is_some) {
            self.store.clear_failures(&key).await.map_err(backend)?;
        }
        Ok(())
    }
}

fn backend(error: StoreError) -> BackendError {
    BackendError::new(error)
}

/// The hashed key of an attempt's account (the provider and the username, lowercased) or
/// client (the client id and, when known, the address).
/// SHA-256 fed through `write!`: a key's parts are hashed as they are formatted, with no
/// string built in between.
struct KeyDigest(aws_lc_rs::digest::Context);

impl KeyDigest {
    fn new() -> Self {
        Self(aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256))
    }

    fn hex(self) -> String {
        SecretHash::finish(self.0).to_hex()
    }
}

impl fmt::Write for KeyDigest {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.update(text.as_bytes());
        Ok(())
    }
}

/// The hex SHA-256 of `account\0<provider>\0<username, trimmed and lowercased>` or
/// `client\0<client id>\0<network>` or `user_code\0<user id>`.
fn subject_key(attempt: &AuthAttempt<'_>) -> String {
    let mut digest = KeyDigest::new();
    // Writing to a digest cannot fail.
    let _ = match attempt {
        AuthAttempt::User { provider, username, .. } => {
            write!(digest, "account\0{}\0{}", provider.unwrap_or(""), username.trim().to_lowercase())
        }
        AuthAttempt::Client { client_id, peer: Some(peer) } => {
            write!(digest, "client\0{client_id}\0{}", network(*peer))
        }
        AuthAttempt::Client { client_id, peer: None } => write!(digest, "client\0{client_id}\0"),
        AuthAttempt::UserCode { user_id, .. } => write!(digest, "user_code\0{user_id}"),
    };
    digest.hex()
}

/// The hex SHA-256 of `address\0<network>`.
fn address_key(peer: IpAddr) -> String {
    let mut digest = KeyDigest::new();
    let _ = write!(digest, "address\0{}", network(peer));
    digest.hex()
}

fn network(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use super::{address_key, network, subject_key, Throttle};
    use crate::store::SecretHash;
    use crate::{AuthAttempt, AuthLimiter, Backoff, Verdict};
    use tower_passport::clock::ManualClock;

    /// The seconds a verdict makes an attempt wait (0: allowed).
    fn secs(verdict: Verdict) -> u64 {
        match verdict {
            Verdict::Allow => 0,
            Verdict::RetryAfter(wait) => wait.as_secs(),
        }
    }

    fn user<'a>(username: &'a str, peer: &str) -> AuthAttempt<'a> {
        AuthAttempt::User { client_id: Some("web"), provider: None, username, peer: peer.parse().ok() }
    }

    #[test]
    fn keys_are_the_digests_of_their_texts_as_stored_before() {
        // Shared failure stores keep counters under these keys: they must not change.
        let hex = |text: &str| SecretHash::of(text.as_bytes()).to_hex();
        let peer: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let client = AuthAttempt::Client { client_id: "web", peer: Some(peer) };
        assert_eq!(subject_key(&client), hex("client\x00web\x002001:db8:1:2::"));
        let unknown_peer = AuthAttempt::Client { client_id: "web", peer: None };
        assert_eq!(subject_key(&unknown_peer), hex("client\0web\0"));
        let account =
            AuthAttempt::User { client_id: None, provider: Some("admins"), username: " Ann ", peer: None };
        assert_eq!(subject_key(&account), hex("account\0admins\0ann"));
        assert_eq!(address_key("192.0.2.7".parse().unwrap()), hex("address\x00192.0.2.7"));
    }

    #[test]
    fn ipv6_addresses_are_throttled_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(network(a), network(b));
        assert_ne!(network(a), network(other));
        assert_eq!(network(mapped), IpAddr::from([192, 0, 2, 7]));
    }

    #[tokio::test]
    async fn an_account_backs_off_and_a_success_forgets_it_but_not_the_address() {
        let clock = ManualClock::new(1_000_000);
        let throttle = Throttle::in_memory().clock(clock.clone()).addresses(Some(Backoff::new(
            7,
            Duration::from_secs(10),
            Duration::from_secs(60),
            Duration::from_secs(600),
        )));
        let attempt = user("Ann@Example.com", "192.0.2.1");
        for _ in 0..5 {
            assert_eq!(throttle.check(&attempt).await.ok(), Some(Verdict::Allow));
            throttle.failed(&attempt).await.ok();
        }
        // The sixth failure (another spelling of the same account) starts the back-off.
        throttle.failed(&user(" ann@example.com", "192.0.2.1")).await.ok();
        assert_eq!(throttle.check(&attempt).await.map(secs).ok(), Some(1));
        throttle.failed(&attempt).await.ok();
        // 7 failures: the account waits 2 s, the address (7 free) none yet.
        assert_eq!(throttle.check(&attempt).await.map(secs).ok(), Some(2));
        throttle.failed(&attempt).await.ok();
        // 8: the account 4 s, the address 10 s: the longer wait wins, for every account.
        assert_eq!(throttle.check(&attempt).await.map(secs).ok(), Some(10));
        assert_eq!(throttle.check(&user("bob", "192.0.2.1")).await.map(secs).ok(), Some(10));
        assert_eq!(throttle.check(&user("ann@example.com", "198.51.100.1")).await.map(secs).ok(), Some(4));
        // A success forgets the account, not the address.
        throttle.succeeded(&attempt).await.ok();
        assert_eq!(throttle.check(&user("ann@example.com", "198.51.100.1")).await.ok(), Some(Verdict::Allow));
        assert_eq!(throttle.check(&attempt).await.map(secs).ok(), Some(10));
        clock.advance(10);
        assert_eq!(throttle.check(&attempt).await.ok(), Some(Verdict::Allow));
    }

    #[tokio::test]
    async fn a_client_is_throttled_per_address() {
        let clock = ManualClock::new(1_000_000);
        let throttle = Throttle::in_memory().clock(clock).addresses(None);
        let from = |peer: &str| AuthAttempt::Client { client_id: "billing", peer: peer.parse().ok() };
        for _ in 0..6 {
            throttle.failed(&from("192.0.2.1")).await.ok();
        }
        assert_eq!(throttle.check(&from("192.0.2.1")).await.map(secs).ok(), Some(1));
        assert_eq!(throttle.check(&from("192.0.2.2")).await.ok(), Some(Verdict::Allow));
    }
}
