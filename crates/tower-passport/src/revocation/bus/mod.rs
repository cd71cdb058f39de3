//! The bus core, whatever carries the messages (PostgreSQL `LISTEN/NOTIFY`, Redis
//! pub/sub): the [`Transport`] a backend implements, and what [`start_bus`] runs over it
//! for one node's [`Hub`]: the publisher of the node's own invalidations, the listener that
//! applies the other nodes' (dropping its own echo), the heartbeat that tells a stalled
//! subscription from a quiet one, reconnection with backoff, and the [`BusHandle`].

mod heartbeat;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

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
        let lost = receive(&transport, &hub, &mut subscription).await;
        connected.store(false, Ordering::SeqCst);
        hub.bus_connected(false);
        match lost {
            Lost::Closed => tracing::warn!("revocation bus disconnected; caches fall back to their TTL"),
            Lost::Silent => tracing::warn!(
                "revocation bus stalled (a heartbeat did not come back); caches fall back to their TTL"
            ),
        }
        crate::telemetry::bus_reconnect(T::BACKEND);
    }
}

/// How a subscription was lost.
enum Lost {
    /// The transport said so.
    Closed,
    /// It stayed open but a heartbeat sent through the bus did not come back.
    Silent,
}

/// Delivers what `subscription` brings until it is lost; probes it with a heartbeat after
/// [`heartbeat::QUIET`] of silence, and gives it up when nothing answers within
/// [`heartbeat::ECHO`]. `next_payload` is cancel-safe for every transport here (a message
/// arriving while the probe is sent waits in the connection).
async fn receive<T: Transport>(transport: &T, hub: &Hub, subscription: &mut T::Subscription) -> Lost {
    // While probing: when the probe's answer is due.
    let mut answer_due = None;
    loop {
        let until = answer_due.unwrap_or_else(|| Instant::now() + heartbeat::QUIET);
        match tokio::time::timeout_at(until, T::next_payload(subscription)).await {
            Ok(Some(payload)) => {
                answer_due = None;
                if !payload.as_deref().is_some_and(heartbeat::is_heartbeat) {
                    deliver(hub, payload.as_deref());
                }
            }
            Ok(None) => return Lost::Closed,
            Err(_) if answer_due.is_some() => return Lost::Silent,
            Err(_) => {
                let due = Instant::now() + heartbeat::ECHO;
                // A probe that cannot be sent in time comes back no more than a lost one.
                let probe = transport.send(heartbeat::encode(hub.node_id()));
                if let Ok(Err(error)) = tokio::time::timeout_at(due, probe).await {
                    tracing::debug!(%error, "revocation bus: could not send a heartbeat");
                }
                answer_due = Some(due);
            }
        }
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

    /// A transport whose subscriptions open and then stay silent for ever, as one through a
    /// stalled route does; it counts subscriptions and what it sent.
    #[derive(Clone, Default)]
    struct BlackHole {
        subscriptions: Arc<AtomicUsize>,
        sent: Arc<AtomicUsize>,
    }

    impl Transport for BlackHole {
        type Subscription = ();
        const BACKEND: &'static str = "black-hole";

        fn channel(&self) -> &str {
            "black-hole"
        }

        async fn send(&self, _payload: String) -> Result<(), BackendError> {
            self.sent.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }

        async fn subscribe(&self) -> Result<(), BackendError> {
            self.subscriptions.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }

        async fn next_payload(_: &mut ()) -> Option<Option<String>> {
            std::future::pending().await
        }
    }

    /// A transport that brings back everything sent, as a working bus does.
    #[derive(Clone)]
    struct Loopback {
        wire: tokio::sync::broadcast::Sender<String>,
        subscriptions: Arc<AtomicUsize>,
    }

    impl Transport for Loopback {
        type Subscription = tokio::sync::broadcast::Receiver<String>;
        const BACKEND: &'static str = "loopback";

        fn channel(&self) -> &str {
            "loopback"
        }

        async fn send(&self, payload: String) -> Result<(), BackendError> {
            self.wire.send(payload).map(drop).map_err(|_| BackendError::msg("no listener"))
        }

        async fn subscribe(&self) -> Result<Self::Subscription, BackendError> {
            self.subscriptions.fetch_add(1, Ordering::SeqCst);
            Ok(self.wire.subscribe())
        }

        async fn next_payload(wire: &mut Self::Subscription) -> Option<Option<String>> {
            wire.recv().await.ok().map(Some)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_subscription_that_stays_silent_after_a_heartbeat_counts_as_down_and_is_reopened() {
        let (hub, transport) = (Hub::new(), BlackHole::default());
        let bus = start_bus(transport.clone(), &hub);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(bus.is_connected());
        tokio::time::sleep(heartbeat::QUIET).await;
        assert_eq!(transport.sent.load(Ordering::SeqCst), 1, "a heartbeat went out after the quiet period");
        assert!(bus.is_connected(), "its answer is not due yet");
        tokio::time::sleep(heartbeat::ECHO).await;
        assert!(
            transport.subscriptions.load(Ordering::SeqCst) >= 2,
            "no answer: the subscription was given up and opened again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_bus_whose_heartbeats_come_back_stays_connected() {
        let hub = Hub::new();
        let count = Arc::new(Count::default());
        hub.register(count.clone());
        let (wire, _) = tokio::sync::broadcast::channel(16);
        let transport = Loopback { wire, subscriptions: Arc::new(AtomicUsize::new(0)) };
        let bus = start_bus(transport.clone(), &hub);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(bus.is_connected());
        assert_eq!(transport.subscriptions.load(Ordering::SeqCst), 1, "never reopened");
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "a heartbeat invalidates nothing");
        // And an invalidation from another node still gets through.
        let other = Hub::new();
        transport
            .send(Invalidation::AccessToken { jti: "abc".into() }.encode_from(other.node_id()))
            .await
            .expect("sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }
}
