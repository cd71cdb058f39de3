//! The revocation bus on PostgreSQL `LISTEN/NOTIFY`.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sqlx::postgres::PgListener;
use sqlx::PgPool;

use super::{forward, BusHandle, Invalidation, LocalCaches};
use crate::issuer::Issuer;
use crate::store::{Store, StoreError};

/// Revocation messages over PostgreSQL `LISTEN/NOTIFY`, for deployments without Redis.
///
/// ```no_run
/// use std::sync::Arc;
/// use tower_passport::bus::{LocalCaches, PgRevocationBus};
/// use tower_passport::issuer::Issuer;
/// use tower_passport::store::PostgresStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(PostgresStore::connect("postgres://postgres@127.0.0.1/test").await?);
/// let issuer = Issuer::builder("https://auth.example.com", store.clone()).audience("api").build()?;
/// let bus = PgRevocationBus::new(store.pool().clone(), "passport_revocations")?;
/// let _running = bus.start(Some(&issuer), LocalCaches::new().with(issuer.revocation_list()));
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
    /// When the channel name is not a plain identifier.
    pub fn new(pool: PgPool, channel: &str) -> Result<Self, StoreError> {
        let plain = !channel.is_empty()
            && channel.len() <= 63
            && channel.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plain {
            return Err(StoreError::conflict("a channel name may hold only ASCII letters, digits and '_'"));
        }
        Ok(Self { pool, channel: channel.to_owned() })
    }

    /// Publishes `message` to every node.
    ///
    /// # Errors
    /// When the database is unreachable.
    pub async fn publish(&self, message: &Invalidation) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.channel)
            .bind(message.encode())
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    /// Starts the bus of this node: a listener that applies messages to `caches`, and, if
    /// `issuer` is given, a publisher of that issuer's revocations. Must run inside a
    /// tokio runtime.
    pub fn start<S: Store>(self, issuer: Option<&Issuer<S>>, caches: LocalCaches) -> BusHandle {
        let publisher = self.clone();
        forward::start(
            issuer,
            move |message| {
                let publisher = publisher.clone();
                async move { publisher.publish(&message).await }
            },
            |connected| listen(self, caches, connected),
        )
    }
}

async fn listen(bus: PgRevocationBus, caches: LocalCaches, connected: Arc<AtomicBool>) {
    loop {
        let mut listener = forward::connect_with_backoff(|| async {
            let mut listener = PgListener::connect_with(&bus.pool).await?;
            listener.listen(&bus.channel).await?;
            Ok::<_, sqlx::Error>(listener)
        })
        .await;
        // Messages sent while we were away are lost: start from the store again.
        forward::connected(&caches, &connected, &bus.channel);
        // `Ok(None)` or an error: the connection was lost (sqlx reconnects on the next call).
        while let Ok(Some(notification)) = listener.try_recv().await {
            forward::apply_payload(&caches, Some(notification.payload()));
        }
        forward::disconnected(&caches, &connected);
    }
}
