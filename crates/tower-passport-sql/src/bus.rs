//! The revocation bus on PostgreSQL `LISTEN/NOTIFY`.

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sqlx::postgres::PgListener;
use sqlx::PgPool;

use tower_passport::revocation::bus::{BusHandle, Silent};
use tower_passport::error::{BackendError, ConfigError, ConfigErrorKind};
use tower_passport::revocation::{Invalidation, InvalidationSource, LocalCaches};

/// Revocation messages over PostgreSQL `LISTEN/NOTIFY`, for deployments without Redis.
///
/// ```no_run
/// use std::sync::Arc;
/// use tower_passport_issuer::Issuer;
/// use tower_passport::revocation::{LocalCaches, PgRevocationBus};
/// use tower_passport_sql::PostgresStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(PostgresStore::connect("postgres://postgres@127.0.0.1/test").await?);
/// let issuer = Issuer::builder("https://auth.example.com", store.clone()).audience("api").build()?;
/// let bus = PgRevocationBus::new(store.pool().clone(), "passport_revocations")?;
/// // Publishes the issuer's revocations, applies every node's to this node's caches.
/// let _running = bus.start(issuer.subscribe(), LocalCaches::new().with(issuer.revocation_list()));
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
    /// # use tower_passport_sql::PgRevocationBus;
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

    /// Publishes `message` to every node.
    ///
    /// # Errors
    /// When the database is unreachable.
    pub async fn publish(&self, message: &Invalidation) -> Result<(), BackendError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.channel)
            .bind(message.encode())
            .execute(&self.pool)
            .await
            .map_err(BackendError::new)?;
        Ok(())
    }

    /// Starts the bus of this node: a listener that applies every node's messages to
    /// `caches`, and a publisher of what `source` yields (the issuer's revocations:
    /// `issuer.subscribe()`). Must run inside a tokio runtime.
    pub fn start(self, source: impl InvalidationSource, caches: LocalCaches) -> BusHandle {
        tower_passport::revocation::bus::start(self, Some(source), caches)
    }

    /// Starts a listener only, for a node that revokes nothing itself. Must run inside a
    /// tokio runtime.
    pub fn listen(self, caches: LocalCaches) -> BusHandle {
        tower_passport::revocation::bus::start(self, None::<Silent>, caches)
    }
}

impl tower_passport::revocation::bus::Transport for PgRevocationBus {
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
                let mut listener = tower_passport::revocation::bus::connect_with_backoff(|| async {
                    let mut listener = PgListener::connect_with(&bus.pool).await?;
                    listener.listen(&bus.channel).await?;
                    Ok::<_, sqlx::Error>(listener)
                })
                .await;
                // Messages sent while we were away are lost: start from the store again.
                tower_passport::revocation::bus::connected(&caches, &connected, &bus.channel);
                // `Ok(None)` or an error: the connection was lost (sqlx reconnects on the next call).
                while let Ok(Some(notification)) = listener.try_recv().await {
                    tower_passport::revocation::bus::apply_payload(&caches, Some(notification.payload()));
                }
                tower_passport::revocation::bus::disconnected(&caches, &connected);
                tower_passport::revocation::bus::count_reconnect("postgres");
            }
        }
    }
}
