//! [`RedisStoreBuilder`]: the key prefix and the connection's timeouts.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::keys::Keys;
use super::scripts::Scripts;
use super::RedisStore;
use tower_passport_issuer::store::StoreError;

/// The prefix [`RedisStore::connect`] uses.
pub const DEFAULT_PREFIX: &str = "passport:";

/// Configures a [`RedisStore`]; [`connect`](Self::connect) is the step that talks to the
/// server.
///
/// ```no_run
/// use std::time::Duration;
/// use tower_passport_redis::RedisStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = RedisStore::builder()
///     .prefix("billing-auth:")
///     .response_timeout(Duration::from_secs(2))
///     .connect("redis://127.0.0.1:6379")
///     .await?;
/// assert_eq!(store.prefix(), "billing-auth:");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct RedisStoreBuilder {
    prefix: String,
    response_timeout: Duration,
    connection_timeout: Duration,
    reconnect_retries: usize,
}

impl Default for RedisStoreBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RedisStoreBuilder {
    /// The defaults: prefix [`DEFAULT_PREFIX`], a 500 ms response timeout, a 1 s connection
    /// timeout and 3 reconnection retries.
    ///
    /// ```
    /// use tower_passport_redis::RedisStoreBuilder;
    /// let builder = RedisStoreBuilder::new();
    /// assert!(format!("{builder:?}").contains("passport:"));
    /// ```
    pub fn new() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            response_timeout: Duration::from_millis(500),
            connection_timeout: Duration::from_secs(1),
            reconnect_retries: 3,
        }
    }

    /// Every key the store reads or writes starts with `prefix`, so that several stores
    /// (or applications) can share a database. End it with a separator such as `:`.
    ///
    /// ```
    /// use tower_passport_redis::RedisStore;
    /// let builder = RedisStore::builder().prefix("tenant-7:");
    /// assert!(format!("{builder:?}").contains("tenant-7:"));
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long one command may wait for its reply before it fails with a [`StoreError`].
    /// A write that timed out may still have been applied.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_passport_redis::RedisStore;
    /// let builder = RedisStore::builder().response_timeout(Duration::from_secs(2));
    /// assert!(format!("{builder:?}").contains("2s"));
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How long each attempt to (re)connect may take.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_passport_redis::RedisStore;
    /// let builder = RedisStore::builder().connection_timeout(Duration::from_millis(250));
    /// assert!(format!("{builder:?}").contains("250ms"));
    /// ```
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How many times one (re)connection retries, 100 ms apart and doubling (with jitter),
    /// before the commands waiting on it fail. The next command starts a new attempt, so the
    /// store recovers whenever the server comes back; this only bounds how long a command
    /// waits during an outage (about 1 s with the default 3, plus connection timeouts) and
    /// how long [`connect`](Self::connect) tries.
    ///
    /// ```
    /// use tower_passport_redis::RedisStore;
    /// let builder = RedisStore::builder().reconnect_retries(1);
    /// assert!(format!("{builder:?}").contains("reconnect_retries: 1"));
    /// ```
    pub fn reconnect_retries(mut self, retries: usize) -> Self {
        self.reconnect_retries = retries;
        self
    }

    /// Connects to the server at `url` (`redis://[[user]:password@]host[:port][/db]`, or
    /// `rediss://` where the `redis` crate was built with TLS). The connection is managed:
    /// when it drops, the commands in flight fail and the next ones reconnect. Fails if the
    /// URL does not parse or the server cannot be reached; the error never repeats the URL.
    ///
    /// ```no_run
    /// use tower_passport_redis::RedisStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
    /// let store = RedisStore::builder().prefix("auth:").connect("redis://127.0.0.1:6379/2").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(self, url: &str) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::backend)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(self.response_timeout))
            .set_connection_timeout(Some(self.connection_timeout))
            .set_number_of_retries(self.reconnect_retries);
        let connection =
            ConnectionManager::new_with_config(client, config).await.map_err(StoreError::backend)?;
        Ok(RedisStore { connection, keys: Keys::new(self.prefix), scripts: Arc::new(Scripts::new()) })
    }
}
