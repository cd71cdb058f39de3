//! The revocation bus on Redis pub/sub.

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::ConnectionManager;

use tower_passport::revocation::bus::{BusHandle, Silent};
use tower_passport::error::BackendError;
use tower_passport::revocation::{Invalidation, InvalidationSource, LocalCaches};

/// Revocation messages over Redis pub/sub: beside a SQL store (`PASSPORT_REDIS_URL`), or
/// with the Redis store.
///
/// ```no_run
/// use std::sync::Arc;
/// use tower_passport_issuer::Issuer;
/// use tower_passport::revocation::{LocalCaches, RedisRevocationBus};
/// use tower_passport_issuer::store::MemoryStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let bus = RedisRevocationBus::connect("redis://127.0.0.1:6379", "passport:revocations").await?;
/// // Publishes the issuer's revocations, applies every node's to this node's caches.
/// let _running = bus.start(issuer.subscribe(), LocalCaches::new().with(issuer.revocation_list()));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisRevocationBus {
    client: redis::Client,
    publisher: ConnectionManager,
    channel: String,
}

impl std::fmt::Debug for RedisRevocationBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisRevocationBus").field("channel", &self.channel).finish_non_exhaustive()
    }
}

impl RedisRevocationBus {
    /// Connects a publisher to `url` for `channel`.
    ///
    /// # Errors
    /// When the URL is invalid or the server cannot be reached.
    pub async fn connect(url: &str, channel: &str) -> Result<Self, BackendError> {
        let client = redis::Client::open(url).map_err(BackendError::new)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(3);
        let publisher =
            ConnectionManager::new_with_config(client.clone(), config).await.map_err(BackendError::new)?;
        Ok(Self { client, publisher, channel: channel.to_owned() })
    }

    /// Publishes `message` to every node.
    ///
    /// # Errors
    /// When Redis is unreachable.
    pub async fn publish(&self, message: &Invalidation) -> Result<(), BackendError> {
        let mut connection = self.publisher.clone();
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(message.encode())
            .query_async::<i64>(&mut connection)
            .await
            .map_err(BackendError::new)?;
        Ok(())
    }

    /// Starts the bus of this node: a subscriber that applies every node's messages to
    /// `caches`, and a publisher of what `source` yields (the issuer's revocations:
    /// `issuer.subscribe()`). Must run inside a tokio runtime.
    pub fn start(self, source: impl InvalidationSource, caches: LocalCaches) -> BusHandle {
        tower_passport::revocation::bus::start(self, Some(source), caches)
    }

    /// Starts a subscriber only, for a node that revokes nothing itself. Must run inside a
    /// tokio runtime.
    pub fn listen(self, caches: LocalCaches) -> BusHandle {
        tower_passport::revocation::bus::start(self, None::<Silent>, caches)
    }
}

impl tower_passport::revocation::bus::Transport for RedisRevocationBus {
    async fn send(&self, message: Invalidation) -> Result<(), BackendError> {
        self.publish(&message).await
    }

    fn receive(
        self,
        caches: LocalCaches,
        connected: Arc<AtomicBool>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let bus = self;
        async move {
            loop {
                let pubsub = tower_passport::revocation::bus::connect_with_backoff(|| async {
                    let mut pubsub = bus.client.get_async_pubsub().await?;
                    pubsub.subscribe(&bus.channel).await?;
                    Ok::<_, redis::RedisError>(pubsub)
                })
                .await;
                // Messages sent while we were away are lost: start from the store again.
                tower_passport::revocation::bus::connected(&caches, &connected, &bus.channel);
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    tower_passport::revocation::bus::apply_payload(&caches, message.get_payload::<String>().ok().as_deref());
                }
                tower_passport::revocation::bus::disconnected(&caches, &connected);
                tower_passport::revocation::bus::count_reconnect("redis");
            }
        }
    }
}
