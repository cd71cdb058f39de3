use tokio::sync::broadcast;

use tower_passport::revocation::{Invalidation, InvalidationSource};

/// Something the issuer did, published on its broadcast channel
/// ([`Issuer::subscribe`](super::Issuer::subscribe)).
///
/// A Rust-shaped version of Passport's `AccessTokenCreated`, `RefreshTokenCreated` and
/// revocation events.
///
/// No event carries a token or a secret.
///
/// ```
/// use tower_passport_issuer::IssuerEvent;
/// let event = IssuerEvent::AccessTokenRevoked { jti: "abc".into() };
/// assert!(matches!(event, IssuerEvent::AccessTokenRevoked { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssuerEvent {
    /// An access token was issued.
    AccessTokenCreated {
        /// Its `jti`.
        jti: String,
        /// Its client.
        client_id: String,
        /// Its user, if any.
        user_id: Option<String>,
    },
    /// A refresh token was issued.
    RefreshTokenCreated {
        /// Its lookup id (not the token).
        id: String,
        /// Its family.
        family_id: String,
        /// Its client.
        client_id: String,
    },
    /// An access token was revoked.
    AccessTokenRevoked {
        /// Its `jti`.
        jti: String,
    },
    /// A user's first-party cookies sealed until now are refused from now on
    /// ([`Issuer::revoke_first_party_cookies`](super::Issuer::revoke_first_party_cookies)).
    FirstPartyCookiesRevoked {
        /// The user provider (`users` for the default one).
        provider: String,
        /// The user.
        user_id: String,
    },
    /// A client was revoked: its tokens are refused from now on.
    ClientRevoked {
        /// The client.
        client_id: String,
    },
    /// A refresh-token family was revoked, with its access tokens.
    FamilyRevoked {
        /// The family.
        family_id: String,
    },
    /// An already-used refresh token came back: its family was revoked.
    RefreshTokenReuseDetected {
        /// The family.
        family_id: String,
        /// Its client.
        client_id: String,
        /// Its user, if any.
        user_id: Option<String>,
    },
    /// The signing keys every node shares changed
    /// ([`Issuer::rotate_shared_signing_key`](super::Issuer::rotate_shared_signing_key)).
    SigningKeysChanged {
        /// The new key's `kid`.
        kid: String,
    },
}

impl IssuerEvent {
    /// What every cache should drop after this event, if anything.
    ///
    /// ```
    /// use tower_passport_issuer::IssuerEvent;
    /// use tower_passport::revocation::Invalidation;
    /// let revoked = IssuerEvent::ClientRevoked { client_id: "billing".into() };
    /// assert_eq!(revoked.invalidation(), Some(Invalidation::Client { client_id: "billing".into() }));
    /// let family = IssuerEvent::FamilyRevoked { family_id: "f".into() };
    /// assert_eq!(family.invalidation(), None); // its access tokens come as their own events
    /// ```
    pub fn invalidation(&self) -> Option<Invalidation> {
        match self {
            Self::AccessTokenRevoked { jti } => Some(Invalidation::AccessToken { jti: jti.clone() }),
            Self::ClientRevoked { client_id } => Some(Invalidation::Client { client_id: client_id.clone() }),
            Self::FirstPartyCookiesRevoked { provider, user_id } => {
                Some(Invalidation::User { provider: provider.clone(), user_id: user_id.clone() })
            }
            Self::SigningKeysChanged { .. } => Some(Invalidation::SigningKeys),
            _ => None,
        }
    }
}

/// The issuer's events as one subscriber receives them
/// ([`Issuer::subscribe`](crate::Issuer::subscribe)).
///
/// Read them with [`recv`](Self::recv), or hand them to a revocation bus as its
/// [`InvalidationSource`].
#[derive(Debug)]
pub struct IssuerEvents(pub(crate) broadcast::Receiver<IssuerEvent>);

impl IssuerEvents {
    /// The next event; `Lagged` when this subscriber fell behind, `Closed` when the last
    /// issuer is gone.
    pub async fn recv(&mut self) -> Result<IssuerEvent, broadcast::error::RecvError> {
        self.0.recv().await
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Result<IssuerEvent, broadcast::error::TryRecvError> {
        self.0.try_recv()
    }
}

/// The issuer's event stream ([`Issuer::subscribe`](super::Issuer::subscribe)) is a source
/// of invalidations: it yields every revocation the issuer makes. If the subscriber falls
/// behind and events are lost, it yields [`Invalidation::Everything`] instead, so no node
/// keeps a stale answer.
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::Issuer;
/// use tower_passport::revocation::{Invalidation, InvalidationSource};
/// use tower_passport_issuer::store::MemoryStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let mut source = issuer.subscribe();
/// drop(issuer); // the channel closes with the last issuer
/// assert_eq!(source.next_invalidation().await, None);
/// # Ok(())
/// # }
/// ```
impl InvalidationSource for IssuerEvents {
    async fn next_invalidation(&mut self) -> Option<Invalidation> {
        loop {
            match self.0.recv().await {
                Ok(event) => {
                    if let Some(invalidation) = event.invalidation() {
                        return Some(invalidation);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "fell behind the issuer's events; invalidating everything");
                    return Some(Invalidation::Everything);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_event_stream_yields_revocations_and_everything_after_a_lag() {
        let (events, receiver) = broadcast::channel(2);
        let mut source = IssuerEvents(receiver);
        for jti in ["a", "b", "c"] {
            events.send(IssuerEvent::AccessTokenRevoked { jti: jti.into() }).expect("a receiver");
        }
        // "a" was lost: every cache must start over.
        assert_eq!(source.next_invalidation().await, Some(Invalidation::Everything));
        assert_eq!(source.next_invalidation().await, Some(Invalidation::AccessToken { jti: "b".into() }));
        assert_eq!(source.next_invalidation().await, Some(Invalidation::AccessToken { jti: "c".into() }));
        let created =
            IssuerEvent::AccessTokenCreated { jti: "d".into(), client_id: "app".into(), user_id: None };
        events.send(created).expect("a receiver");
        events.send(IssuerEvent::ClientRevoked { client_id: "app".into() }).expect("a receiver");
        // Events that revoke nothing are skipped.
        assert_eq!(source.next_invalidation().await, Some(Invalidation::Client { client_id: "app".into() }));
        drop(events);
        assert_eq!(source.next_invalidation().await, None);
    }
}
