/// Something the issuer did, published on its broadcast channel
/// ([`Issuer::subscribe`](super::Issuer::subscribe)): a Rust-shaped version of Passport's
/// `AccessTokenCreated`, `RefreshTokenCreated` and revocation events. No event carries a
/// token or a secret.
///
/// ```
/// use tower_passport::issuer::IssuerEvent;
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
}
