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
pub(crate) fn forward_issuer_events<P, F>(mut events: broadcast::Receiver<IssuerEvent>, publish: P) -> BusTask
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
