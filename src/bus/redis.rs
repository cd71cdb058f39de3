//! The revocation bus on Redis pub/sub.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::ConnectionManager;

use super::{forward, BusHandle, Invalidation, LocalCaches};
use crate::issuer::Issuer;
use crate::store::{Store, StoreError};

/// Revocation messages over Redis pub/sub: beside a SQL store (`PASSPORT_REDIS_URL`), or
/// with the Redis store.
///
/// ```no_run
/// use std::sync::Arc;
/// use tower_passport::bus::{LocalCaches, RedisRevocationBus};
/// use tower_passport::issuer::Issuer;
/// use tower_passport::store::MemoryStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let bus = RedisRevocationBus::connect("redis://127.0.0.1:6379", "passport:revocations").await?;
/// let _running = bus.start(Some(&issuer), LocalCaches::new().with(issuer.revocation_list()));
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
    pub async fn connect(url: &str, channel: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::backend)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(3);
        let publisher =
            ConnectionManager::new_with_config(client.clone(), config).await.map_err(StoreError::backend)?;
        Ok(Self { client, publisher, channel: channel.to_owned() })
    }

    /// Publishes `message` to every node.
    ///
    /// # Errors
    /// When Redis is unreachable.
    pub async fn publish(&self, message: &Invalidation) -> Result<(), StoreError> {
        let mut connection = self.publisher.clone();
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(message.encode())
            .query_async::<i64>(&mut connection)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    /// Starts the bus of this node: a subscriber that applies messages to `caches`, and,
    /// if `issuer` is given, a publisher of that issuer's revocations. Must run inside a
    /// tokio runtime.
    pub fn start<S: Store>(self, issuer: Option<&Issuer<S>>, caches: LocalCaches) -> BusHandle {
        let publisher = self.clone();
        forward::start(
            issuer,
            move |message| {
                let publisher = publisher.clone();
                async move { publisher.publish(&message).await }
            },
            |connected| subscribe(self, caches, connected),
        )
    }
}

async fn subscribe(bus: RedisRevocationBus, caches: LocalCaches, connected: Arc<AtomicBool>) {
    loop {
        let pubsub = forward::connect_with_backoff(|| async {
            let mut pubsub = bus.client.get_async_pubsub().await?;
            pubsub.subscribe(&bus.channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        // Messages sent while we were away are lost: start from the store again.
        forward::connected(&caches, &connected, &bus.channel);
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            forward::apply_payload(&caches, message.get_payload::<String>().ok().as_deref());
        }
        forward::disconnected(&caches, &connected);
    }
}
