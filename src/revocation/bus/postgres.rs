//! The revocation bus on PostgreSQL `LISTEN/NOTIFY`.

use sqlx::postgres::PgListener;
use sqlx::PgPool;

use crate::error::{BackendError, ConfigError, ConfigErrorKind};
use crate::revocation::{start_bus, BusHandle, Hub, Invalidation, Transport};

/// Revocation messages over PostgreSQL `LISTEN/NOTIFY`, for deployments without Redis.
///
/// ```no_run
/// use std::sync::Arc;
/// use tower_passport::issuer::Issuer;
/// use tower_passport::revocation::PgRevocationBus;
/// use tower_passport::store::PostgresStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(PostgresStore::connect("postgres://postgres@127.0.0.1/test").await?);
/// let issuer = Issuer::builder("https://auth.example.com", store.clone()).audience("api").build()?;
/// let bus = PgRevocationBus::new(store.pool().clone(), "passport_revocations")?;
/// // Publishes this node's revocations, applies every other node's to this node's caches.
/// let _running = bus.start(issuer.hub());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct PgRevocationBus {
    pool: PgPool,
    channel: String,
}

impl PgRevocationBus {
    /// A bus on `channel` (letters, digits and `_`) over `pool`.
    ///
    /// # Errors
    /// A [`ConfigErrorKind::Channel`] error when the channel name is not a plain
    /// identifier.
    ///
    /// ```
    /// # use tower_passport::error::ConfigErrorKind;
    /// # use tower_passport::revocation::PgRevocationBus;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let pool = sqlx::PgPool::connect_lazy("postgres://localhost/db").expect("a URL");
    /// let error = PgRevocationBus::new(pool, "passport-revocations").unwrap_err();
    /// assert_eq!(error.kind(), ConfigErrorKind::Channel);
    /// # }
    /// ```
    pub fn new(pool: PgPool, channel: &str) -> Result<Self, ConfigError> {
        let plain = !channel.is_empty()
            && channel.len() <= 63
            && channel.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plain {
            return Err(ConfigError::new(
                ConfigErrorKind::Channel,
                "a channel name may hold only ASCII letters, digits and '_' (63 at most)",
            ));
        }
        Ok(Self { pool, channel: channel.to_owned() })
    }

    /// Publishes `message` to every node, from no node: every node applies it (the
    /// `passport` command line's way).
    ///
    /// # Errors
    /// When the database is unreachable.
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

impl Transport for PgRevocationBus {
    type Subscription = PgListener;

    const BACKEND: &'static str = "postgres";

    fn channel(&self) -> &str {
        &self.channel
    }

    async fn send(&self, payload: String) -> Result<(), BackendError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.channel)
            .bind(payload)
            .execute(&self.pool)
            .await
            .map_err(BackendError::new)?;
        Ok(())
    }

    async fn subscribe(&self) -> Result<PgListener, BackendError> {
        let mut listener = PgListener::connect_with(&self.pool).await.map_err(BackendError::new)?;
        listener.listen(&self.channel).await.map_err(BackendError::new)?;
        Ok(listener)
    }

    async fn next_payload(listener: &mut PgListener) -> Option<Option<String>> {
        // `Ok(None)` or an error: the connection was lost (sqlx reconnects on the next call).
        match listener.try_recv().await {
            Ok(Some(notification)) => Some(Some(notification.payload().to_owned())),
            Ok(None) | Err(_) => None,
        }
    }
}
