//! What the stores keep. Plain data: no backend type appears here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A SHA-256 digest of a secret (a client secret or a refresh token). The secret itself
/// is never stored. Compared in constant time.
///
/// ```
/// use tower_passport_issuer::store::SecretHash;
/// let hash = SecretHash::of(b"s3cret");
/// assert!(hash.matches(b"s3cret"));
/// assert!(!hash.matches(b"guess"));
/// assert_eq!(format!("{hash:?}"), "SecretHash(..)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// The SHA-256 digest of `secret`.
    pub fn of(secret: &[u8]) -> Self {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        Self(bytes)
    }

    /// The 32 bytes of the digest.
    ///
    /// ```
    /// use tower_passport_issuer::store::SecretHash;
    /// let hash = SecretHash::of(b"s3cret");
    /// assert_eq!(hash.as_bytes().len(), 32);
    /// assert_ne!(&hash.as_bytes()[..], b"s3cret");
    /// ```
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `secret` hashes to this digest, compared in constant time.
    pub fn matches(&self, secret: &[u8]) -> bool {
        self.ct_eq(&Self::of(secret))
    }

    /// Constant-time equality with another digest.
    pub fn ct_eq(&self, other: &SecretHash) -> bool {
        subtle::ConstantTimeEq::ct_eq(&self.0[..], &other.0[..]).into()
    }

    /// The SHA-256 digest `digest` finished (the throttle hashes its keys piece by piece).
    pub(crate) fn finish(digest: aws_lc_rs::digest::Context) -> Self {
        let digest = digest.finish();
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        Self(bytes)
    }

    /// The digest as lowercase hex, for stores that keep text.
    ///
    /// ```
    /// use tower_passport_issuer::store::SecretHash;
    /// let hex = SecretHash::of(b"abc").to_hex();
    /// assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /// assert_eq!(SecretHash::from_hex(&hex), Some(SecretHash::of(b"abc")));
    /// ```
    pub fn to_hex(&self) -> String {
        // A table rather than `format!("{:02x}")` per byte: every token request hashes its
        // client's throttle keys to hex, and the formatter cost 19k instructions per digest.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(64);
        for byte in self.0 {
            hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
            hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        hex
    }

    /// Parses the hex form written by [`to_hex`](Self::to_hex) (either case).
    pub fn from_hex(hex: &str) -> Option<Self> {
        fn nibble(digit: u8) -> Option<u8> {
            match digit {
                b'0'..=b'9' => Some(digit - b'0'),
                b'a'..=b'f' => Some(digit - b'a' + 10),
                b'A'..=b'F' => Some(digit - b'A' + 10),
                _ => None,
            }
        }
        if hex.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let [high, low] = pair else { return None };
            *byte = (nibble(*high)? << 4) | nibble(*low)?;
        }
        Some(Self(bytes))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// The OAuth grants a client may use.
///
/// ```
/// use tower_passport_issuer::store::GrantType;
/// assert_eq!(GrantType::from_name("client_credentials"), Some(GrantType::ClientCredentials));
/// assert_eq!(GrantType::RefreshToken.name(), "refresh_token");
/// assert_eq!(GrantType::from_name("authorization_code"), Some(GrantType::AuthorizationCode));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GrantType {
    /// `client_credentials`: the client acts on its own behalf.
    ClientCredentials,
    /// `refresh_token`: exchange a refresh token for a new pair.
    RefreshToken,
    /// `password`: the resource owner password grant. RFC 9700 §2.4 says not to use it;
    /// it is an explicit opt-in on the issuer too.
    Password,
    /// Personal access tokens (Passport's personal access client).
    PersonalAccess,
    /// `authorization_code`: the browser flow, with PKCE (RFC 6749 §4.1, RFC 7636).
    AuthorizationCode,
    /// `urn:ietf:params:oauth:grant-type:device_code`: the device authorization grant
    /// (RFC 8628), for devices without a browser or a keyboard (Passport's `--device`).
    DeviceCode,
}

impl GrantType {
    /// The `grant_type` value.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
            Self::Password => "password",
            Self::PersonalAccess => "personal_access",
            Self::AuthorizationCode => "authorization_code",
            Self::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }

    /// The grant named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::ClientCredentials,
            Self::RefreshToken,
            Self::Password,
            Self::PersonalAccess,
            Self::AuthorizationCode,
            Self::DeviceCode,
        ]
        .into_iter()
        .find(|grant| grant.name() == name)
    }
}

/// A registered client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRecord {
    /// The client id.
    pub id: String,
    /// A display name.
    pub name: String,
    /// The hash of the client secret; `None` for a public client. This issuer's own
    /// secrets are SHA-256 digests; an imported client may keep its bcrypt hash.
    pub secret_hash: Option<super::ClientSecretHash>,
    /// The grants the client may use.
    pub grants: Vec<GrantType>,
    /// The scopes the client may ask for; `None` allows every registered scope.
    pub allowed_scopes: Option<Vec<String>>,
    /// A first-party client (Passport's notion): the application's own, whose tokens may
    /// manage the user's tokens and clients through the JSON APIs. It does not skip the
    /// approval screen: [`skips_authorization`](Self::skips_authorization) does.
    pub first_party: bool,
    /// Whether the authorization code grant approves this client's requests without
    /// showing the approval screen (Passport's `skipsAuthorization`); off unless the
    /// operator turns it on for the client
    /// ([`ClientRegistration::skips_authorization`](crate::ClientRegistration::skips_authorization)).
    ///
    /// On a public client it means that any program that can receive the redirect (any
    /// local process, for a loopback redirect URI) gets the signed-in user's tokens
    /// without the user seeing anything (RFC 8252 §8.6): registration refuses it there
    /// unless asked for by
    /// [`skips_authorization_even_if_public`](crate::ClientRegistration::skips_authorization_even_if_public).
    pub skips_authorization: bool,
    /// A revoked client gets no tokens, and the guard refuses the tokens it holds.
    pub revoked: bool,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: u64,
    /// Where the authorization code grant may send the browser back to, compared as exact
    /// strings (RFC 9700 §4.1.3; a loopback URI of a native app may differ in its port,
    /// RFC 8252 §7.3). Empty for clients that do not use the browser flow.
    pub redirect_uris: Vec<String>,
    /// The user who owns the client (Passport's `user_id`), for clients users register
    /// themselves; `None` for the application's own.
    pub owner: Option<String>,
    /// Whether a confidential client must use PKCE in the authorization code grant (on
    /// unless turned off at registration). A public client always must, whatever this says:
    /// see [`requires_pkce`](Self::requires_pkce).
    pub require_pkce: bool,
    /// The user provider its users come from (Passport's `--provider`), such as
    /// `"customers"`; `None` for the default provider (`"users"`, the password grant's
    /// [`enable_password_grant`](crate::IssuerBuilder::enable_password_grant)).
    /// Tokens issued to the client's users name it in their `provider` claim.
    pub provider: Option<String>,
    /// The resources (RFC 8707 `resource`, the issuer's audiences) the client may obtain
    /// tokens for; `None` allows every one of the issuer's.
    pub allowed_resources: Option<Vec<String>>,
}

/// Changes to a stored client, for [`ClientStore::update_client`](super::ClientStore::update_client):
/// each field that is `Some` replaces the stored value, the others stay.
///
/// ```
/// use tower_passport_issuer::store::{ClientUpdate, SecretHash};
/// let rename = ClientUpdate { name: Some("Photo printer".into()), ..ClientUpdate::default() };
/// let new_secret = ClientUpdate { secret_hash: Some(SecretHash::of(b"a new secret")), ..ClientUpdate::default() };
/// assert_ne!(rename, new_secret);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientUpdate {
    /// A new display name.
    pub name: Option<String>,
    /// New redirect URIs (replacing every stored one).
    pub redirect_uris: Option<Vec<String>>,
    /// The hash of a new secret, for a confidential client.
    pub secret_hash: Option<SecretHash>,
    /// A new revoked flag.
    pub revoked: Option<bool>,
    /// A new [`ClientRecord::skips_authorization`]: the operator's setting, which nothing a
    /// user sends may reach.
    pub skips_authorization: Option<bool>,
}

impl ClientUpdate {
    /// Applies the changes to `client`.
    ///
    /// ```
    /// use tower_passport_issuer::store::{ClientRecord, ClientUpdate};
    /// # let mut client = ClientRecord { id: "c".into(), name: "Old".into(), secret_hash: None, grants: vec![],
    /// #     allowed_scopes: None, first_party: false, skips_authorization: false, revoked: false, created_at: 0, redirect_uris: vec![],
    /// #     owner: None, require_pkce: true, provider: None, allowed_resources: None };
    /// ClientUpdate { name: Some("New".into()), revoked: Some(true), ..ClientUpdate::default() }.apply(&mut client);
    /// assert_eq!((client.name.as_str(), client.revoked), ("New", true));
    /// ```
    pub fn apply(&self, client: &mut ClientRecord) {
        if let Some(name) = &self.name {
            client.name.clone_from(name);
        }
        if let Some(uris) = &self.redirect_uris {
            client.redirect_uris.clone_from(uris);
        }
        if let Some(hash) = self.secret_hash {
            client.secret_hash = Some(hash.into());
        }
        if let Some(revoked) = self.revoked {
            client.revoked = revoked;
        }
        if let Some(skips) = self.skips_authorization {
            client.skips_authorization = skips;
        }
    }
}

impl ClientRecord {
    /// Whether the client is confidential (has a secret).
    pub fn is_confidential(&self) -> bool {
        self.secret_hash.is_some()
    }

    /// Whether the client may use `grant`.
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grants.contains(&grant)
    }

    /// Whether the authorization code grant must use PKCE for this client: always for a
    /// public client, and for a confidential one unless its registration turned it off.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let web = ClientRegistration::confidential("Web app")
    ///     .grants([GrantType::AuthorizationCode])
    ///     .redirect_uris(["https://app.example.com/callback"])
    ///     .require_pkce(false);
    /// assert!(!issuer.register_client(web).await?.client.requires_pkce());
    /// let spa = ClientRegistration::public("SPA")
    ///     .grants([GrantType::AuthorizationCode])
    ///     .redirect_uris(["https://spa.example.com/callback"]);
    /// assert!(issuer.register_client(spa).await?.client.requires_pkce());
    /// # Ok(())
    /// # }
    /// ```
    pub fn requires_pkce(&self) -> bool {
        self.require_pkce || !self.is_confidential()
    }
}

/// An issued access token (the JWT itself is not stored; its `jti` is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessTokenRecord {
    /// The token's `jti`.
    pub jti: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The user, or `None` for a client-credentials token.
    pub user_id: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// The refresh-token family it descends from, if any.
    pub family_id: Option<String>,
    /// The name of a personal access token.
    pub name: Option<String>,
    /// Whether this is a personal access token.
    pub personal: bool,
    /// `iat`.
    pub issued_at: u64,
    /// `exp`.
    pub expires_at: u64,
    /// When the token was revoked, if it was.
    pub revoked_at: Option<u64>,
}

/// An issued refresh token: found by its public `id`, checked by the hash of the whole
/// token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// The lookup id (the part of the token before the dot).
    pub id: String,
    /// The hash of the whole token.
    pub secret_hash: SecretHash,
    /// The family (the grant it descends from).
    pub family_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The user, if any.
    pub user_id: Option<String>,
    /// The scopes a refresh may ask for (at most these).
    pub scopes: Vec<String>,
    /// The resources (RFC 8707) the grant covers: the audiences a refresh may ask for (at
    /// most these). Empty on a record written before resource indicators: then whatever
    /// the client may obtain.
    pub resources: Vec<String>,
    /// The `jti` of the access token issued with it.
    pub access_jti: String,
    /// Issue time.
    pub issued_at: u64,
    /// Expiry.
    pub expires_at: u64,
    /// When it was exchanged, if it was (rotation marks it used), in seconds.
    pub used_at: Option<u64>,
    /// The same instant in milliseconds since the Unix epoch: the race and grace windows
    /// are measured from it. `None` on a record stored by a version that kept whole
    /// seconds only; the windows then start at the beginning of `used_at`'s second.
    pub used_at_millis: Option<u64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<u64>,
    /// The RFC 7638 thumbprint of the DPoP key a public client's refresh token is bound to
    /// (RFC 9449 §5): it is refreshed only with a proof of that key. Rotation carries it
    /// to the next token of the family.
    pub dpop_jkt: Option<String>,
}

/// A refresh-token family: every refresh token descending from one grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyRecord {
    /// The family id.
    pub id: String,
    /// The client.
    pub client_id: String,
    /// The user, if any.
    pub user_id: Option<String>,
    /// Creation time.
    pub created_at: u64,
    /// When the family was revoked, if it was.
    pub revoked_at: Option<u64>,
    /// The id of the newest refresh token.
    pub current: String,
    /// The id of the token `current` replaced (the only one a grace window covers).
    pub previous: Option<String>,
}

/// An access token revoked as a side effect, so that caches can drop it at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedAccess {
    /// Its `jti`.
    pub jti: String,
    /// Its expiry: the revocation entry is kept until then.
    pub expires_at: u64,
}

/// One atomic refresh: check the presented token and, in the same transaction, mark it
/// used, store its successor and the new access token, and revoke the old access token.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// The presented token's id.
    pub presented_id: String,
    /// The hash of the presented token, compared in constant time with the stored one.
    pub presented_hash: SecretHash,
    /// The current time, in seconds: what expiry is checked against and what the
    /// `*_at` fields record.
    pub now: u64,
    /// The same instant in milliseconds since the Unix epoch: what the race and grace
    /// windows are measured with, and what `used_at_millis` records.
    pub now_millis: u64,
    /// The race window, in milliseconds: how long after its use the family's immediately previous token,
    /// presented again, is taken for a concurrent request that lost the race (two tabs
    /// refreshing at once) rather than for reuse: it gets
    /// [`RotationOutcome::AlreadyRotated`] and the family lives on. `None` for no window
    /// (strict: such a presentation is reuse, unless the grace window covers it).
    pub race_millis: Option<u64>,
    /// The grace window, in milliseconds: how long after its use the family's immediately previous token
    /// may still be exchanged for a fresh pair, for clients that lost a response; `None`
    /// for no window. It starts where the race window ends: inside both, the race window
    /// decides.
    pub grace_millis: Option<u64>,
    /// Whether the presented token is consumed (rotation on, the default). When off, it
    /// stays valid and no reuse detection applies.
    pub consume: bool,
    /// Whether the access token issued with the presented token is revoked.
    pub revoke_previous_access: bool,
    /// The successor refresh token (same family).
    pub next: RefreshTokenRecord,
    /// The new access token.
    pub next_access: AccessTokenRecord,
}

/// What a [`Rotation`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The token was exchanged; `revoked` lists the old access token if it was revoked.
    Rotated {
        /// Access tokens revoked by the rotation.
        revoked: Vec<RevokedAccess>,
    },
    /// The family's previous token came back inside the grace window: a fresh pair was
    /// stored in the same family, superseding the current token.
    GraceReissued {
        /// Access tokens revoked by the reissue.
        revoked: Vec<RevokedAccess>,
    },
    /// The token had already been used: the whole family was revoked, with every
    /// still-live access token in it.
    ReuseDetected {
        /// The family that was revoked.
        family_id: String,
        /// The access tokens revoked with it.
        revoked: Vec<RevokedAccess>,
    },
    /// The family's previous token came back inside the race window: a concurrent
    /// request exchanged it a moment ago. Nothing changed: the pair that request got, and
    /// the family, live on.
    AlreadyRotated,
    /// Unknown, mismatched, expired or revoked token, or a revoked family. Nothing changed.
    Invalid,
}

/// What [`PurgeStore::purge`](super::PurgeStore::purge) removes: records that expired, or were
/// revoked, before `before`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Purge {
    /// Remove revoked records (and revoked families).
    pub revoked: bool,
    /// Remove expired records.
    pub expired: bool,
    /// Only records whose expiry (or revocation) is older than this, in seconds since the
    /// Unix epoch.
    pub before: u64,
}

/// How many records a purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    /// Access-token records.
    pub access_tokens: u64,
    /// Refresh-token records.
    pub refresh_tokens: u64,
    /// Families.
    pub families: u64,
    /// Revocation-list entries.
    pub revocations: u64,
    /// Authorization-code records, a day past their expiry, and device authorization
    /// requests past theirs (the SQL stores; the memory store sweeps both on its own and
    /// Redis lets their keys expire, so they report 0 here).
    pub codes: u64,
}

/// A user's live tokens of one client: what [`TokenStore::user_tokens`] lists, one entry
/// per client. Live means not revoked and not expired; for a refresh token, also not used.
///
/// [`TokenStore::user_tokens`]: super::TokenStore::user_tokens
///
/// ```
/// use tower_passport_issuer::store::{ClientTokens, MemoryStore, TokenStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let listed: Vec<ClientTokens> = MemoryStore::new().user_tokens("user-1", 0).await?;
/// assert!(listed.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientTokens {
    /// The client.
    pub client_id: String,
    /// Its live access tokens for the user, newest first.
    pub access_tokens: Vec<AccessTokenRecord>,
    /// Its live refresh tokens for the user, newest first.
    pub refresh_tokens: Vec<RefreshTokenRecord>,
}

impl ClientTokens {
    /// The live records among `access` and `refresh` at `now`, grouped by client (by client
    /// id), each list newest first: the one ordering every store answers with.
    pub fn group_live(
        access: impl IntoIterator<Item = AccessTokenRecord>,
        refresh: impl IntoIterator<Item = RefreshTokenRecord>,
        now: u64,
    ) -> Vec<Self> {
        let mut by_client: BTreeMap<String, Self> = BTreeMap::new();
        for record in access.into_iter().filter(|a| a.revoked_at.is_none() && a.expires_at > now) {
            Self::entry(&mut by_client, &record.client_id).access_tokens.push(record);
        }
        for record in refresh
            .into_iter()
            .filter(|r| r.used_at.is_none() && r.revoked_at.is_none() && r.expires_at > now)
        {
            Self::entry(&mut by_client, &record.client_id).refresh_tokens.push(record);
        }
        let mut listed: Vec<Self> = by_client.into_values().collect();
        for entry in &mut listed {
            entry.access_tokens.sort_by(|a, b| b.issued_at.cmp(&a.issued_at).then_with(|| a.jti.cmp(&b.jti)));
            entry.access_tokens.dedup_by(|a, b| a.jti == b.jti);
            entry.refresh_tokens.sort_by(|a, b| b.issued_at.cmp(&a.issued_at).then_with(|| a.id.cmp(&b.id)));
            entry.refresh_tokens.dedup_by(|a, b| a.id == b.id);
        }
        listed
    }

    /// The scopes these tokens grant the client: the union of the scopes of its
    /// non-personal access tokens and of its refresh tokens, sorted, each once. Personal
    /// access tokens are the user's own, not a grant to the client. What
    /// [`TokenStore::granted_scopes`](super::TokenStore::granted_scopes) answers for them.
    pub fn granted_scopes(&self) -> Vec<String> {
        let access = self.access_tokens.iter().filter(|a| !a.personal).map(|a| &a.scopes);
        let granted: BTreeSet<&String> =
            access.chain(self.refresh_tokens.iter().map(|r| &r.scopes)).flatten().collect();
        granted.into_iter().cloned().collect()
    }

    fn entry<'a>(groups: &'a mut BTreeMap<String, Self>, client_id: &str) -> &'a mut Self {
        groups.entry(client_id.to_owned()).or_insert_with(|| Self {
            client_id: client_id.to_owned(),
            access_tokens: Vec::new(),
            refresh_tokens: Vec::new(),
        })
    }
}

/// What [`TokenStore::revoke_user_tokens`] revoked: the families, and every access token
/// that went on the revocation list (with a family, or on its own), so that caches can
/// drop them at once.
///
/// [`TokenStore::revoke_user_tokens`]: super::TokenStore::revoke_user_tokens
///
/// ```
/// use tower_passport_issuer::store::{MemoryStore, TokenStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let revoked = MemoryStore::new().revoke_user_tokens("user-1", None, 0).await?;
/// assert!(revoked.is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevokedTokens {
    /// The families revoked, by id.
    pub families: Vec<String>,
    /// The access tokens revoked, by `jti`.
    pub access_tokens: Vec<RevokedAccess>,
}

impl RevokedTokens {
    /// The two lists sorted by id, without duplicates: the one ordering every store
    /// answers with.
    pub fn new(mut families: Vec<String>, mut access_tokens: Vec<RevokedAccess>) -> Self {
        families.sort();
        families.dedup();
        access_tokens.sort_by(|a, b| a.jti.cmp(&b.jti));
        access_tokens.dedup_by(|a, b| a.jti == b.jti);
        Self { families, access_tokens }
    }

    /// Whether nothing was revoked.
    ///
    /// ```
    /// use tower_passport_issuer::store::RevokedTokens;
    /// assert!(RevokedTokens::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.families.is_empty() && self.access_tokens.is_empty()
    }
}
