//! One vocabulary for invalidation: what to drop ([`Invalidation`]), who can drop it
//! ([`Invalidate`]), the caches of one node ([`LocalCaches`]) and where invalidations come
//! from ([`InvalidationSource`]).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Something every cache should drop: a revoked access token, a revoked client, a user's
/// first-party cookies, or everything. It is also the message on a revocation bus; no token
/// or secret is in it, only `jti`s, client ids and user ids.
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
    /// The wire form (JSON).
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"kind":"everything"}"#.to_owned())
    }

    /// Reads the wire form; `None` for anything else (a bus then ignores and logs it).
    pub fn decode(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// A cache that can drop what an [`Invalidation`] names: the verifier's verified-token
/// cache, the guard's resolver cache, the revocation list.
///
/// ```
/// use std::sync::Mutex;
/// use tower_passport::revocation::{Invalidate, Invalidation, LocalCaches};
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
/// let caches = LocalCaches::new().with(seen.clone());
/// caches.apply(&Invalidation::Client { client_id: "billing".into() });
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

/// The caches of one node that invalidations apply to. Cheap to clone.
///
/// ```
/// use tower_passport::revocation::{Invalidation, LocalCaches};
/// # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
/// #     .issuer("https://auth.example.com").audience("api").build()?;
/// let guard = GuardLayer::new(verifier);
/// let caches = LocalCaches::new().with(guard.clone());
/// assert_eq!(caches.len(), 1);
/// caches.apply(&Invalidation::AccessToken { jti: "abc".into() });
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct LocalCaches {
    targets: Vec<Arc<dyn Invalidate>>,
}

impl LocalCaches {
    /// No caches yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a cache.
    #[must_use]
    pub fn with(mut self, target: impl Invalidate) -> Self {
        self.targets.push(Arc::new(target));
        self
    }

    /// How many caches are registered.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Applies `invalidation` to every cache.
    pub fn apply(&self, invalidation: &Invalidation) {
        for target in &self.targets {
            match invalidation {
                Invalidation::AccessToken { jti } => target.invalidate_jti(jti),
                Invalidation::Client { client_id } => target.invalidate_client(client_id),
                Invalidation::User { provider, user_id } => target.invalidate_user(provider, user_id),
                Invalidation::Everything => target.invalidate_everything(),
                Invalidation::SigningKeys => target.signing_keys_changed(),
            }
        }
    }

    /// Tells every cache the bus went up or down.
    pub fn bus_connected(&self, connected: bool) {
        for target in &self.targets {
            target.bus_connected(connected);
        }
    }
}

impl fmt::Debug for LocalCaches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalCaches").field("targets", &self.targets.len()).finish()
    }
}

/// Where invalidations come from: the issuer's event stream
/// (`Issuer::subscribe`, feature `issuer`) is one; a test or another server's feed can be
/// another. A revocation bus publishes what its source yields to every node.
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
