//! The revocation buses (PostgreSQL `LISTEN/NOTIFY`, Redis pub/sub) and what they share:
//! the handle of a node's bus tasks, the publisher fed by an [`InvalidationSource`], the
//! reconnect loop and the payload handler.


use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::{Invalidation, InvalidationSource, LocalCaches};
use crate::error::BackendError;

/// The running bus of one node: its listener and publisher tasks. Dropping it stops them.
#[derive(Debug)]
pub struct BusHandle {
    connected: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
}

impl BusHandle {
    /// Whether the listener is connected right now.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }
}

impl Drop for BusHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// What a bus is made of: publishing one message to every node, and a listener that
/// applies every node's messages to this node's caches (reconnecting on its own).
pub trait Transport: Clone + Send + Sync + 'static {
    /// Publishes `message`.
    fn send(&self, message: Invalidation) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// Listens for ever, telling `connected` whether it is.
    fn receive(
        self,
        caches: LocalCaches,
        connected: Arc<AtomicBool>,
    ) -> impl Future<Output = ()> + Send + 'static;
}

/// Starts a node's bus: the listener and, with a source, a task that publishes what the
/// source yields.
pub fn start<T: Transport>(
    transport: T,
    source: Option<impl InvalidationSource>,
    caches: LocalCaches,
) -> BusHandle {
    let connected = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    if let Some(mut source) = source {
        let publisher = transport.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(invalidation) = source.next_invalidation().await {
                if let Err(error) = publisher.send(invalidation).await {
                    tracing::warn!(%error, "could not publish a revocation; other nodes rely on their TTL");
                }
            }
        }));
    }
    tasks.push(tokio::spawn(transport.receive(caches, connected.clone())));
    BusHandle { connected, tasks }
}

/// A source that never yields: for a node that only listens.
pub struct Silent;

impl InvalidationSource for Silent {
    fn next_invalidation(&mut self) -> impl Future<Output = Option<Invalidation>> + Send {
        std::future::ready(None)
    }
}

/// The listener is connected: what was missed meanwhile is unknown, so every cache starts
/// over from the store.
pub fn connected(caches: &LocalCaches, flag: &AtomicBool, channel: &str) {
    caches.apply(&Invalidation::Everything);
    caches.bus_connected(true);
    flag.store(true, Ordering::SeqCst);
    tracing::info!(channel, "revocation bus connected");
}

/// Retries `connect` with exponential backoff (100 ms doubling to 5 s) until it succeeds.
pub async fn connect_with_backoff<T, E, F, Fut>(mut connect: F) -> T
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut backoff = std::time::Duration::from_millis(100);
    loop {
        match connect().await {
            Ok(connection) => return connection,
            Err(error) => {
                tracing::warn!(%error, "revocation bus: cannot listen; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
            }
        }
    }
}

/// Applies one received payload, ignoring (and logging) anything that is not a message.
pub fn apply_payload(caches: &LocalCaches, payload: Option<&str>) {
    match payload.and_then(Invalidation::decode) {
        Some(message) => caches.apply(&message),
        None => tracing::warn!("revocation bus: ignoring a malformed message"),
    }
}

/// The listener lost its connection: caches fall back to their TTL.
pub fn disconnected(caches: &LocalCaches, flag: &AtomicBool) {
    flag.store(false, Ordering::SeqCst);
    caches.bus_connected(false);
    tracing::warn!("revocation bus disconnected; caches fall back to their TTL");
}

/// Counts a reconnection of the `bus` named (`passport_bus_reconnects_total`, feature
/// `metrics`).
pub fn count_reconnect(bus: &'static str) {
    crate::telemetry::bus_reconnect(bus);
}
