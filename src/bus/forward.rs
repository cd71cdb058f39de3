//! Turning an issuer's events into bus messages, and the handle of the bus tasks.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::Invalidation;
use crate::issuer::IssuerEvent;

/// The running bus of one node: its listener and publisher tasks. Dropping it stops them.
#[derive(Debug)]
pub struct BusHandle {
    pub(crate) connected: Arc<AtomicBool>,
    pub(crate) tasks: Vec<JoinHandle<()>>,
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

type BusTask = JoinHandle<()>;

/// Starts a node's bus: `listener` (spawned, told when it connects through `connected`)
/// and, with an issuer, a task that publishes its revocations through `publish`.
pub(crate) fn start<S, P, F, L>(
    issuer: Option<&crate::issuer::Issuer<S>>,
    publish: P,
    listener: impl FnOnce(Arc<AtomicBool>) -> L,
) -> BusHandle
where
    S: crate::store::Store,
    P: Fn(Invalidation) -> F + Send + 'static,
    F: Future<Output = Result<(), crate::store::StoreError>> + Send,
    L: Future<Output = ()> + Send + 'static,
{
    let connected = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    if let Some(issuer) = issuer {
        tasks.push(forward_issuer_events(issuer.subscribe(), move |message| {
            let published = publish(message);
            async move {
                if let Err(error) = published.await {
                    tracing::warn!(%error, "could not publish a revocation; other nodes rely on their TTL");
                }
            }
        }));
    }
    tasks.push(tokio::spawn(listener(connected.clone())));
    BusHandle { connected, tasks }
}

/// The listener is connected: what was missed meanwhile is unknown, so every cache starts
/// over from the store.
pub(crate) fn connected(caches: &super::LocalCaches, flag: &AtomicBool, channel: &str) {
    caches.apply(&Invalidation::Everything);
    caches.bus_connected(true);
    flag.store(true, Ordering::SeqCst);
    tracing::info!(channel, "revocation bus connected");
}

/// Retries `connect` with exponential backoff (100 ms doubling to 5 s) until it succeeds.
pub(crate) async fn connect_with_backoff<T, E, F, Fut>(mut connect: F) -> T
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
pub(crate) fn apply_payload(caches: &super::LocalCaches, payload: Option<&str>) {
    match payload.and_then(Invalidation::decode) {
        Some(message) => caches.apply(&message),
        None => tracing::warn!("revocation bus: ignoring a malformed message"),
    }
}

/// The listener lost its connection: caches fall back to their TTL.
pub(crate) fn disconnected(caches: &super::LocalCaches, flag: &AtomicBool) {
    flag.store(false, Ordering::SeqCst);
    caches.bus_connected(false);
    tracing::warn!("revocation bus disconnected; caches fall back to their TTL");
}

/// The message for an issuer event, if it revokes something.
fn message_for(event: IssuerEvent) -> Option<Invalidation> {
    match event {
        IssuerEvent::AccessTokenRevoked { jti } => Some(Invalidation::AccessToken { jti }),
        IssuerEvent::ClientRevoked { client_id } => Some(Invalidation::Client { client_id }),
        _ => None,
    }
}

/// Publishes every revocation `events` reports. If the task falls behind the issuer and
/// events are lost, it publishes [`Invalidation::Everything`] instead, so no node keeps a
/// stale answer.
fn forward_issuer_events<P, F>(mut events: broadcast::Receiver<IssuerEvent>, publish: P) -> BusTask
where
    P: Fn(Invalidation) -> F + Send + 'static,
    F: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(message) = message_for(event) {
                        publish(message).await;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "revocation bus fell behind the issuer; invalidating everything");
                    publish(Invalidation::Everything).await;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    })
}
