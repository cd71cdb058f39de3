//! The revocation bus on Redis pub/sub.

use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use redis::aio::ConnectionManager;

use crate::error::BackendError;
use crate::revocation::{start_bus, BusHandle, Hub, Invalidation, Transport};

/// Revocation messages over Redis pub/sub: beside a SQL store (`PASSPORT_REDIS_URL`), or
/// with the Redis store.
///
/// ```no_run
/// use std::sync::Arc;
/// use tower_passport::issuer::Issuer;
/// use tower_passport::revocation::RedisRevocationBus;
/// use tower_passport::store::MemoryStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let bus = RedisRevocationBus::connect("redis://127.0.0.1:6379", "passport:revocations").await?;
/// // Publishes this node's revocations, applies every other node's to this node's caches.
/// let _running = bus.start(issuer.hub());
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

    /// Publishes `message` to every node, from no node: every node applies it (the
    /// `passport` command line's way).
    ///
    /// # Errors
    /// When Redis is unreachable.
    pub async fn publish(&self, message: &Invalidation) -> Result<(), BackendError> {
        self.send(message.encode()).await
    }

    /// Starts the bus of `hub`'s node: what the node publishes into the hub goes to every
    /// other node, and what they send is applied to the hub's caches. Must run inside a
    /// tokio runtime.
    pub fn start(self, hub: &Hub) -> BusHandle {
        start_bus(self, hub)
    }
}

/// The messages of a subscribed connection.
type Messages = Pin<Box<dyn Stream<Item = redis::Msg> + Send>>;

impl Transport for RedisRevocationBus {
    type Subscription = Messages;

    const BACKEND: &'static str = "redis";

    fn channel(&self) -> &str {
        &self.channel
    }

    async fn send(&self, payload: String) -> Result<(), BackendError> {
        let mut connection = self.publisher.clone();
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(payload)
            .query_async::<i64>(&mut connection)
            .await
            .map_err(BackendError::new)?;
        Ok(())
    }

    async fn subscribe(&self) -> Result<Messages, BackendError> {
        let mut pubsub = self.client.get_async_pubsub().await.map_err(BackendError::new)?;
        pubsub.subscribe(&self.channel).await.map_err(BackendError::new)?;
        Ok(Box::pin(pubsub.into_on_message()))
    }

    async fn next_payload(messages: &mut Messages) -> Option<Option<String>> {
        messages.next().await.map(|message| message.get_payload::<String>().ok())
    }
}
