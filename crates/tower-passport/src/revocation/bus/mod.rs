//! The bus core, whatever carries the messages (PostgreSQL `LISTEN/NOTIFY`, Redis
//! pub/sub): the [`Transport`] a backend implements, and what [`start_bus`] runs over it
//! for one node's [`Hub`]: the publisher of the node's own invalidations, the listener that
//! applies the other nodes' (dropping its own echo), reconnection with backoff, and the
//! [`BusHandle`].

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Hub, Invalidation};
use crate::error::BackendError;

/// How many of the node's own invalidations wait for the publisher before the bus gives up
/// on them and sends [`Invalidation::Everything`] instead.
const OUTBOX: usize = 1024;

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

/// What a bus backend provides: sending one payload to every node, and a subscription yielding
/// every node's payloads.
///
/// [`start_bus`] does the rest (encoding, the node id, reconnecting with backoff, applying to
/// the [`Hub`]).
pub trait Transport: Clone + Send + Sync + 'static {
    /// A live subscription to the channel.
    type Subscription: Send + 'static;

    /// The backend's name in logs and metrics (`postgres`, `redis`).
    const BACKEND: &'static str;

    /// The channel's name, for logs.
    fn channel(&self) -> &str;

    /// Sends `payload` to every node (this one included).
    fn send(&self, payload: String) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Subscribes to the channel.
    fn subscribe(&self) -> impl Future<Output = Result<Self::Subscription, BackendError>> + Send;

    /// The next payload: `Some(Some(text))`, `Some(None)` for one that is not text, `None`
    /// once the subscription is lost.
    fn next_payload(
        subscription: &mut Self::Subscription,
    ) -> impl Future<Output = Option<Option<String>>> + Send;
}

/// Starts `hub`'s bus over `transport`.
///
/// A publisher of what the node publishes into the hub (tagged with the hub's node id), and a
/// listener that applies every other node's messages to the hub (a message carrying this node's
/// id is its own echo, and is dropped).
///
/// Must run inside a tokio runtime. What the buses' `start` call.
pub fn start_bus<T: Transport>(transport: T, hub: &Hub) -> BusHandle {
    let connected = Arc::new(AtomicBool::new(false));
    let (outbox, mut outgoing) = mpsc::channel::<Invalidation>(OUTBOX);
    let overflowed = Arc::new(AtomicBool::new(false));
    let lost = overflowed.clone();
    hub.add_outlet(Box::new(move |invalidation| match outbox.try_send(invalidation.clone()) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            lost.store(true, Ordering::SeqCst);
            true
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }));
    let publisher = transport.clone();
    let node_id = hub.node_id().to_owned();
    let publish = tokio::spawn(async move {
        while let Some(invalidation) = outgoing.recv().await {
            send(&publisher, &invalidation, &node_id).await;
            if overflowed.swap(false, Ordering::SeqCst) {
                // Some were dropped: every node starts over from the store.
                send(&publisher, &Invalidation::Everything, &node_id).await;
            }
        }
    });
    let listen = tokio::spawn(listen(transport, hub.clone(), connected.clone()));
    BusHandle { connected, tasks: vec![publish, listen] }
}

/// Sends `invalidation`, retrying with backoff (100 ms doubling to 5 s) until the transport
/// takes it. Dropping a message that failed would leave the other nodes on a cached "not
/// revoked" for their whole TTL, their own bus connection being fine; meanwhile the next
/// messages wait in the outbox (past it, [`Invalidation::Everything`] follows). A send that
/// failed but went through is delivered twice, which is harmless: invalidating is idempotent.
async fn send<T: Transport>(transport: &T, invalidation: &Invalidation, node_id: &str) {
    let payload = invalidation.encode_from(node_id);
    let mut backoff = Duration::from_millis(100);
    while let Err(error) = transport.send(payload.clone()).await {
        tracing::warn!(%error, "could not publish a revocation; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Listens for ever, reconnecting with backoff, telling `connected` whether it is.
async fn listen<T: Transport>(transport: T, hub: Hub, connected: Arc<AtomicBool>) {
    loop {
        let mut subscription = connect_with_backoff(|| transport.subscribe()).await;
        // Messages sent while we were away are lost: start from the store again.
        hub.apply(&Invalidation::Everything);
        hub.bus_connected(true);
        connected.store(true, Ordering::SeqCst);
        tracing::info!(channel = transport.channel(), "revocation bus connected");
        while let Some(payload) = T::next_payload(&mut subscription).await {
            deliver(&hub, payload.as_deref());
        }
        connected.store(false, Ordering::SeqCst);
        hub.bus_connected(false);
        tracing::warn!("revocation bus disconnected; caches fall back to their TTL");
        crate::telemetry::bus_reconnect(T::BACKEND);
    }
}

/// Retries `connect` with exponential backoff (100 ms doubling to 5 s) until it succeeds.
async fn connect_with_backoff<S, F, Fut>(mut connect: F) -> S
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, BackendError>>,
{
    let mut backoff = Duration::from_millis(100);
    loop {
        match connect().await {
            Ok(subscription) => return subscription,
            Err(error) => {
                tracing::warn!(%error, "revocation bus: cannot listen; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Applies one received payload to `hub`, unless this node sent it; ignores (and logs)
/// anything that is not a message.
fn deliver(hub: &Hub, payload: Option<&str>) {
    match payload.and_then(Invalidation::decode_with_sender) {
        Some((_, Some(sender))) if sender == hub.node_id() => {}
        Some((invalidation, _)) => hub.apply(&invalidation),
        None => tracing::warn!("revocation bus: ignoring a malformed message"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::revocation::Invalidate;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Invalidate for Count {
        fn invalidate_jti(&self, _jti: &str) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn invalidate_client(&self, _client_id: &str) {}
        fn invalidate_everything(&self) {}
    }

    /// A transport whose first `failures` sends fail; it records what it took.
    #[derive(Clone, Default)]
    struct Flaky {
        failures: Arc<AtomicUsize>,
        sent: Arc<std::sync::Mutex<Vec<String>>>,
    }

    impl Transport for Flaky {
        type Subscription = ();
        const BACKEND: &'static str = "flaky";

        fn channel(&self) -> &str {
            "flaky"
        }

        async fn send(&self, payload: String) -> Result<(), BackendError> {
            let failing =
                self.failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if failing.is_ok() {
                return Err(BackendError::msg("down"));
            }
            self.sent.lock().expect("lock").push(payload);
            Ok(())
        }

        async fn subscribe(&self) -> Result<(), BackendError> {
            Ok(())
        }

        async fn next_payload(_: &mut ()) -> Option<Option<String>> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn a_message_that_failed_to_send_is_sent_again_until_it_goes() {
        let flaky = Flaky { failures: Arc::new(AtomicUsize::new(2)), ..Flaky::default() };
        let message = Invalidation::AccessToken { jti: "abc".into() };
        send(&flaky, &message, "node-a").await;
        assert_eq!(flaky.failures.load(Ordering::SeqCst), 0, "both failures were met");
        let sent = flaky.sent.lock().expect("lock").clone();
        assert_eq!(sent, [message.encode_from("node-a")], "then sent once");
    }

    #[test]
    fn a_node_drops_its_own_echo_and_applies_the_others_and_the_anonymous() {
        let (hub, other) = (Hub::new(), Hub::new());
        let count = Arc::new(Count::default());
        hub.register(count.clone());
        let message = Invalidation::AccessToken { jti: "abc".into() };
        deliver(&hub, Some(&message.encode_from(hub.node_id())));
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "its own echo");
        deliver(&hub, Some(&message.encode_from(other.node_id())));
        deliver(&hub, Some(&message.encode()));
        deliver(&hub, Some("not a message"));
        deliver(&hub, None);
        assert_eq!(count.0.load(Ordering::SeqCst), 2, "another node's, and an older node's");
    }
}
