//! One vocabulary for invalidation: what to drop ([`Invalidation`]), who can drop it
//! ([`Invalidate`]) and where invalidations come from ([`InvalidationSource`]).

use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Something every cache should drop: a revoked access token, a revoked client, a user's
/// first-party cookies, or everything.
///
/// It is also the message on a revocation bus; no token or secret is in it, only `jti`s, client
/// ids and user ids.
///
/// ```
/// use tower_passport::revocation::Invalidation;
/// let message = Invalidation::AccessToken { jti: "abc".into() };
/// assert_eq!(message.encode(), r#"{"kind":"access_token","jti":"abc"}"#);
/// assert_eq!(Invalidation::decode(&message.encode()), Some(message));
/// assert_eq!(Invalidation::decode("not json"), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Invalidation {
    /// An access token was revoked.
    AccessToken {
        /// Its `jti`.
        jti: String,
    },
    /// A client was revoked (or changed).
    Client {
        /// Its id.
        client_id: String,
    },
    /// A user's first-party cookies issued until now were revoked (a sign-out, or every
    /// token of the user): the instant is in the store, caches drop what they hold.
    User {
        /// The user provider (`users` for the default one).
        provider: String,
        /// The user's id (`sub`).
        user_id: String,
    },
    /// Drop everything cached (a publisher lost track of what it revoked).
    Everything,
    /// The signing keys every node shares changed (a rotation): issuers reload them from
    /// the store, so every node publishes, accepts and, once it is current, signs with the
    /// new key.
    SigningKeys,
}

impl Invalidation {
    /// The wire form of an anonymous message (JSON, no sender: every node applies it), as
    /// the `passport` command line publishes.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"kind":"everything"}"#.to_owned())
    }

    /// The wire form of a message sent by the node `node_id` (a [`Hub`](super::Hub)'s):
    /// the anonymous form with the format version `"v":2` and `"node"` added, so the sender
    /// knows its own message when the bus brings it back. Older nodes read it as the
    /// anonymous form.
    ///
    /// ```
    /// use tower_passport::revocation::Invalidation;
    /// let message = Invalidation::AccessToken { jti: "abc".into() };
    /// let wire = message.encode_from("9f3a");
    /// assert_eq!(wire, r#"{"v":2,"node":"9f3a","kind":"access_token","jti":"abc"}"#);
    /// assert_eq!(Invalidation::decode_with_sender(&wire), Some((message.clone(), Some("9f3a".into()))));
    /// assert_eq!(Invalidation::decode(&wire), Some(message));
    /// ```
    pub fn encode_from(&self, node_id: &str) -> String {
        let message =
            Message { v: Some(WIRE_VERSION), node: Some(node_id.to_owned()), invalidation: self.clone() };
        serde_json::to_string(&message).unwrap_or_else(|_| self.encode())
    }

    /// Reads the wire form, whoever sent it; `None` for anything else (a bus then ignores
    /// and logs it).
    pub fn decode(text: &str) -> Option<Self> {
        Self::decode_with_sender(text).map(|(invalidation, _)| invalidation)
    }

    /// Reads the wire form and its sender's node id (`None` for an anonymous message, or one
    /// from a node older than the node ids).
    ///
    /// ```
    /// use tower_passport::revocation::Invalidation;
    /// let old = r#"{"kind":"client","client_id":"billing"}"#;
    /// assert_eq!(
    ///     Invalidation::decode_with_sender(old),
    ///     Some((Invalidation::Client { client_id: "billing".into() }, None))
    /// );
    /// ```
    pub fn decode_with_sender(text: &str) -> Option<(Self, Option<String>)> {
        let message: Message = serde_json::from_str(text).ok()?;
        Some((message.invalidation, message.node))
    }
}

/// The wire format version of a message carrying its sender (an anonymous message, with no
/// `v`, is version 1).
const WIRE_VERSION: u32 = 2;

/// A message on the wire: the invalidation's own fields, and for version 2 its sender.
#[derive(Serialize, Deserialize)]
struct Message {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node: Option<String>,
    #[serde(flatten)]
    invalidation: Invalidation,
}

/// A cache that can drop what an [`Invalidation`] names: the verifier's verified-token
/// cache, the guard's resolver cache, the revocation list.
///
/// ```
/// use std::sync::Mutex;
/// use tower_passport::revocation::{Hub, Invalidate, Invalidation};
///
/// #[derive(Default)]
/// struct Seen(Mutex<Vec<String>>);
///
/// impl Invalidate for Seen {
///     fn invalidate_jti(&self, jti: &str) {
///         self.0.lock().unwrap().push(format!("jti {jti}"));
///     }
///     fn invalidate_client(&self, client_id: &str) {
///         self.0.lock().unwrap().push(format!("client {client_id}"));
///     }
///     fn invalidate_everything(&self) {
///         self.0.lock().unwrap().push("everything".into());
///     }
/// }
///
/// let seen = std::sync::Arc::new(Seen::default());
/// let hub = Hub::new();
/// hub.register(seen.clone());
/// hub.apply(&Invalidation::Client { client_id: "billing".into() });
/// assert_eq!(*seen.0.lock().unwrap(), ["client billing"]);
/// ```
pub trait Invalidate: Send + Sync + 'static {
    /// Drops what is cached about the access token `jti`.
    fn invalidate_jti(&self, jti: &str);
    /// Drops what is cached about the client `client_id`.
    fn invalidate_client(&self, client_id: &str);
    /// Drops what is cached about the user `user_id` of the user provider `provider` (when
    /// their first-party cookies stop counting). The default does nothing.
    fn invalidate_user(&self, provider: &str, user_id: &str) {
        let _ = (provider, user_id);
    }
    /// Drops everything.
    fn invalidate_everything(&self);
    /// The shared signing keys changed. Only an issuer keeps them; the default does
    /// nothing.
    fn signing_keys_changed(&self) {}
    /// The bus went up (`true`) or down (`false`). Caches whose staleness depends on it
    /// adjust; the default does nothing.
    fn bus_connected(&self, connected: bool) {
        let _ = connected;
    }
}

impl<T: Invalidate> Invalidate for Arc<T> {
    fn invalidate_jti(&self, jti: &str) {
        (**self).invalidate_jti(jti);
    }

    fn invalidate_client(&self, client_id: &str) {
        (**self).invalidate_client(client_id);
    }

    fn invalidate_user(&self, provider: &str, user_id: &str) {
        (**self).invalidate_user(provider, user_id);
    }

    fn invalidate_everything(&self) {
        (**self).invalidate_everything();
    }

    fn signing_keys_changed(&self) {
        (**self).signing_keys_changed();
    }

    fn bus_connected(&self, connected: bool) {
        (**self).bus_connected(connected);
    }
}

/// Where invalidations come from: the issuer's event stream (`Issuer::subscribe`, in
/// `tower-passport-issuer`) is one; a test or another server's feed can be another.
///
/// What one yields can be applied to a node's [`Hub`](super::Hub)
/// ([`Hub::apply`](super::Hub::apply)), as a bus does with other nodes' messages.
///
/// A source that lost track of what it missed yields [`Invalidation::Everything`], so no
/// node keeps a stale answer.
///
/// ```
/// use std::collections::VecDeque;
/// use tower_passport::revocation::{Invalidation, InvalidationSource};
///
/// struct Scripted(VecDeque<Invalidation>);
///
/// impl InvalidationSource for Scripted {
///     async fn next_invalidation(&mut self) -> Option<Invalidation> {
///         self.0.pop_front()
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut source = Scripted(VecDeque::from([Invalidation::Everything]));
/// assert_eq!(source.next_invalidation().await, Some(Invalidation::Everything));
/// assert_eq!(source.next_invalidation().await, None);
/// # }
/// ```
pub trait InvalidationSource: Send + 'static {
    /// The next invalidation, waiting for it; `None` once the source is closed for good.
    fn next_invalidation(&mut self) -> impl Future<Output = Option<Invalidation>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_node_reads_a_tagged_message_and_a_newer_one_reads_an_untagged_one() {
        // What a node before node ids decoded with: the bare enum, unknown fields ignored.
        let older = |text: &str| serde_json::from_str::<Invalidation>(text).ok();
        for message in [
            Invalidation::AccessToken { jti: "a".into() },
            Invalidation::Client { client_id: "c".into() },
            Invalidation::User { provider: "users".into(), user_id: "7".into() },
            Invalidation::Everything,
            Invalidation::SigningKeys,
        ] {
            assert_eq!(older(&message.encode_from("node")), Some(message.clone()));
            assert_eq!(Invalidation::decode_with_sender(&message.encode()), Some((message.clone(), None)));
            assert_eq!(
                Invalidation::decode_with_sender(&message.encode_from("n")),
                Some((message, Some("n".into())))
            );
        }
    }
}
