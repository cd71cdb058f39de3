//! Client registration: confidential clients get a secret shown once and stored hashed.

use std::fmt;

use crate::store::{ClientRecord, GrantType, SecretHash};

/// A client secret, as shown once at registration. Its `Debug` is redacted.
///
/// ```
/// use tower_passport::issuer::ClientSecret;
/// let secret = ClientSecret::new("a-long-enough-client-secret");
/// assert_eq!(format!("{secret:?}"), "ClientSecret(..)");
/// assert_eq!(secret.expose(), "a-long-enough-client-secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself: show it once, then forget it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// What to register: Passport's `passport:client`, as a builder.
///
/// ```
/// use tower_passport::issuer::ClientRegistration;
/// use tower_passport::store::GrantType;
/// let registration = ClientRegistration::confidential("Billing service")
///     .grants([GrantType::ClientCredentials])
///     .allowed_scopes(["check-status"]);
/// let public = ClientRegistration::public("Mobile app").grants([GrantType::RefreshToken]);
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ClientRegistration {
    pub(crate) id: Option<String>,
    pub(crate) name: String,
    pub(crate) confidential: bool,
    pub(crate) secret: Option<ClientSecret>,
    pub(crate) grants: Vec<GrantType>,
    pub(crate) allowed_scopes: Option<Vec<String>>,
    pub(crate) first_party: bool,
}

impl ClientRegistration {
    /// A confidential client: it gets a generated secret (256 bits) unless one is given.
    pub fn confidential(name: impl Into<String>) -> Self {
        Self {
            id: None,
            name: name.into(),
            confidential: true,
            secret: None,
            grants: vec![GrantType::ClientCredentials],
            allowed_scopes: None,
            first_party: false,
        }
    }

    /// A public client (a SPA, a mobile app): no secret. Its refresh tokens always rotate.
    pub fn public(name: impl Into<String>) -> Self {
        Self { confidential: false, grants: vec![GrantType::RefreshToken], ..Self::confidential(name) }
    }

    /// A chosen client id (a random one otherwise).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// A chosen secret (at least 32 characters), for confidential clients.
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(ClientSecret::new(secret));
        self
    }

    /// The grants the client may use.
    pub fn grants(mut self, grants: impl IntoIterator<Item = GrantType>) -> Self {
        self.grants = grants.into_iter().collect();
        self
    }

    /// The scopes the client may ask for (Passport #1272); every scope when not set.
    pub fn allowed_scopes<I>(mut self, scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.allowed_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Marks the client first-party.
    pub fn first_party(mut self, first_party: bool) -> Self {
        self.first_party = first_party;
        self
    }
}

/// A registered client and, for a confidential client, its secret: the only time the
/// secret is available.
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    /// The stored record (with the secret's hash only).
    pub client: ClientRecord,
    /// The plain secret, to hand to the client's owner once.
    pub secret: Option<ClientSecret>,
}

/// Checks a presented secret against the stored hash, in constant time. A public client
/// must present none; a confidential client must present its own.
pub(crate) fn secret_matches(client: &ClientRecord, presented: Option<&str>) -> bool {
    match (&client.secret_hash, presented) {
        (None, None) => true,
        (Some(hash), Some(secret)) => hash.matches(secret.as_bytes()),
        // Hash something anyway so that the timing of a wrong call does not say which.
        (_, presented) => {
            let _ = SecretHash::of(presented.unwrap_or_default().as_bytes());
            false
        }
    }
}
