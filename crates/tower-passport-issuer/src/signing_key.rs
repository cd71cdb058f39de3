//! Signing keys for the issuer: generated in code or loaded from PEM (a file, an
//! environment variable), with the RFC 7638 thumbprint as `kid`.

use std::fmt;
use std::path::Path;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use serde_json::Value;

use tower_passport::error::{ConfigError, ConfigErrorKind};
use tower_passport::keys::thumbprint::PublicJwk;
use tower_passport::keys::{Algorithm, VerifyingKey};

/// A private key the issuer signs access tokens with: ES256 (the default), RS256
/// (Passport's) or EdDSA. Its `kid` is its RFC 7638 JWK thumbprint.
///
/// ```
/// use tower_passport_issuer::SigningKey;
/// use tower_passport::Algorithm;
/// let key = SigningKey::generate(Algorithm::ES256).unwrap();
/// assert_eq!(key.algorithm(), Algorithm::ES256);
/// assert_eq!(key.kid().len(), 43); // base64url SHA-256
/// let pem = key.to_pkcs8_pem();
/// assert_eq!(SigningKey::from_pem(pem.as_bytes()).unwrap().kid(), key.kid());
/// ```
pub struct SigningKey {
    algorithm: Algorithm,
    kid: String,
    pair: Pair,
    public_jwk: Value,
    pkcs8: Vec<u8>,
    /// The base64url JOSE header of every token this key signs.
    encoded_header: String,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

fn invalid_key(message: impl Into<std::borrow::Cow<'static, str>>) -> ConfigError {
    ConfigError::new(ConfigErrorKind::InvalidKey, message)
}

fn keygen_failed(_: aws_lc_rs::error::Unspecified) -> ConfigError {
    ConfigError::new(ConfigErrorKind::Crypto, "key generation failed")
}

impl SigningKey {
    /// A fresh key for `algorithm`: ES256, RS256 (2048 bits) or EdDSA (Ed25519).
    ///
    /// # Errors
    /// For other algorithms, or if the system random source fails.
    pub fn generate(algorithm: Algorithm) -> Result<Self, ConfigError> {
        let pkcs8 = match algorithm {
            Algorithm::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|pair| pair.to_pkcs8v1())
                .map_err(keygen_failed)?
                .as_ref()
                .to_vec(),
            Algorithm::RS256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(keygen_failed)?;
                AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
                    .map_err(keygen_failed)?
                    .as_ref()
                    .to_vec()
            }
            Algorithm::EdDSA => Ed25519KeyPair::generate()
                .and_then(|pair| pair.to_pkcs8v1())
                .map_err(keygen_failed)?
                .as_ref()
                .to_vec(),
            other => {
                return Err(ConfigError::new(
                    ConfigErrorKind::Algorithm,
                    format!("the issuer signs with ES256, RS256 or EdDSA, not {other}"),
                ))
            }
        };
        Self::from_pkcs8_der(&pkcs8)
    }

    /// A fresh RS256 key of `bits` bits: 2048, 3072, 4096 or 8192 (`passport keys --length`).
    ///
    /// ```
    /// use tower_passport_issuer::SigningKey;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let key = SigningKey::generate_rsa(3072)?;
    /// assert_eq!(key.algorithm(), tower_passport::Algorithm::RS256);
    /// assert!(SigningKey::generate_rsa(1024).is_err());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// For another size, or if the system random source fails.
    pub fn generate_rsa(bits: usize) -> Result<Self, ConfigError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            other => {
                return Err(ConfigError::new(
                    ConfigErrorKind::InvalidKey,
                    format!("an RSA key has 2048, 3072, 4096 or 8192 bits, not {other}"),
                ))
            }
        };
        let pair = RsaKeyPair::generate(size).map_err(keygen_failed)?;
        let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(keygen_failed)?;
        Self::from_pkcs8_der(pkcs8.as_ref())
    }

    /// The public key as an SPKI PEM (`PUBLIC KEY`), what `passport keys` writes beside the
    /// private key and what resource servers load.
    ///
    /// ```
    /// use tower_passport_issuer::SigningKey;
    /// use tower_passport::{Algorithm, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let key = SigningKey::generate(Algorithm::ES256)?;
    /// let public = key.to_public_pem()?;
    /// assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    /// assert_eq!(VerifyingKey::from_pem_infer_alg(public.as_bytes())?.algorithm(), Algorithm::ES256);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// If the public key cannot be encoded (it always can for a key this type holds).
    pub fn to_public_pem(&self) -> Result<String, ConfigError> {
        let spki: Vec<u8> = match &self.pair {
            Pair::Rsa(pair) => pair.public_key().as_der().map(|der| der.as_ref().to_vec()),
            Pair::Ec(pair) => pair.public_key().as_der().map(|der| der.as_ref().to_vec()),
            Pair::Ed(pair) => pair.public_key().as_der().map(|der| der.as_ref().to_vec()),
        }
        .map_err(|_| ConfigError::new(ConfigErrorKind::Crypto, "the public key could not be encoded"))?;
        Ok(pem::encode(&pem::Pem::new("PUBLIC KEY", spki)))
    }

    /// A key from a PEM document: PKCS#8 `PRIVATE KEY` (RSA, P-256 or Ed25519), PKCS#1
    /// `RSA PRIVATE KEY` (Passport's `oauth-private.key`) or SEC1 `EC PRIVATE KEY`.
    /// RSA keys sign RS256, P-256 keys ES256 and Ed25519 keys EdDSA.
    ///
    /// # Errors
    /// When the PEM does not hold one of those keys.
    pub fn from_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let parsed = pem::parse(pem).map_err(|e| invalid_key("invalid PEM private key").with_source(e))?;
        match parsed.tag() {
            "PRIVATE KEY" => Self::from_pkcs8_der(parsed.contents()),
            "RSA PRIVATE KEY" => {
                let pair = RsaKeyPair::from_der(parsed.contents())
                    .map_err(|e| invalid_key("invalid RSA private key").with_source(e))?;
                let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
                    .map_err(|_| invalid_key("cannot re-encode the RSA key"))?;
                Self::from_pkcs8_der(pkcs8.as_ref())
            }
            "EC PRIVATE KEY" => {
                let pair =
                    EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, parsed.contents())
                        .map_err(|e| invalid_key("invalid P-256 private key").with_source(e))?;
                let pkcs8 = pair.to_pkcs8v1().map_err(|_| invalid_key("cannot re-encode the EC key"))?;
                Self::from_pkcs8_der(pkcs8.as_ref())
            }
            tag => Err(invalid_key(format!("unsupported PEM type {tag:?} for a signing key"))),
        }
    }

    /// A key from a PEM file, like Passport's `storage/oauth-private.key`.
    ///
    /// # Errors
    /// When the file cannot be read or does not hold a supported key.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| {
            ConfigError::new(
                ConfigErrorKind::KeyFile,
                format!("cannot read the private key {}", path.display()),
            )
            .with_source(e)
        })?;
        Self::from_pem(&pem)
    }

    /// A key from an environment variable holding either the PEM itself (as Passport's
    /// `PASSPORT_PRIVATE_KEY` does) or the path of a PEM file. `Ok(None)` when unset.
    ///
    /// ```
    /// use tower_passport_issuer::SigningKey;
    /// assert!(SigningKey::from_env("TOWER_PASSPORT_DOC_UNSET_VARIABLE").unwrap().is_none());
    /// ```
    ///
    /// # Errors
    /// When the variable is set but holds no usable key.
    pub fn from_env(variable: &str) -> Result<Option<Self>, ConfigError> {
        let Ok(value) = std::env::var(variable) else { return Ok(None) };
        if value.trim_start().starts_with("-----BEGIN") {
            Self::from_pem(value.as_bytes()).map(Some)
        } else {
            Self::from_pem_file(value.trim()).map(Some)
        }
    }

    /// The key every node of a deployment shares, kept in `store` under `name`: loaded if
    /// a node stored one already, else generated for `algorithm` and stored (the first
    /// writer wins, so nodes starting together agree). Tokens then survive restarts
    /// without a key file. The private key is stored as PEM: protect the store accordingly.
    ///
    /// ```
    /// use tower_passport_issuer::SigningKey;
    /// use tower_passport_issuer::store::MemoryStore;
    /// use tower_passport::Algorithm;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = MemoryStore::new();
    /// let first = SigningKey::load_or_generate(&store, "signing_key", Algorithm::ES256).await?;
    /// let again = SigningKey::load_or_generate(&store, "signing_key", Algorithm::ES256).await?;
    /// assert_eq!(first.kid(), again.kid());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails or holds something that is not a key.
    pub async fn load_or_generate<S: crate::store::SettingsStore>(
        store: &S,
        name: &str,
        algorithm: Algorithm,
    ) -> Result<Self, crate::IssuerError> {
        // Read first: a node whose key is stored writes nothing, so it starts on a
        // read-only store (a replica, a read-only SQLite file) as well.
        if let Some(stored) = store.setting(name).await? {
            return Ok(Self::from_pem(stored.as_bytes())?);
        }
        let candidate = generate_off_executor(algorithm).await?;
        let stored = store.put_setting_if_absent(name, &candidate.to_pkcs8_pem()).await?;
        Ok(Self::from_pem(stored.as_bytes())?)
    }

    /// A key from PKCS#8 DER.
    ///
    /// # Errors
    /// When the DER is not an RSA (2048 bits or more), P-256 or Ed25519 private key.
    pub fn from_pkcs8_der(pkcs8: &[u8]) -> Result<Self, ConfigError> {
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8) {
            let point = pair.public_key().as_ref();
            let (x, y) =
                point.get(1..).map(|xy| xy.split_at(32)).ok_or_else(|| invalid_key("bad EC point"))?;
            let jwk = PublicJwk::ec("P-256", x, y);
            return Ok(Self::assemble(Algorithm::ES256, Pair::Ec(pair), &jwk, pkcs8));
        }
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8) {
            let jwk = PublicJwk::ed25519(pair.public_key().as_ref());
            return Ok(Self::assemble(Algorithm::EdDSA, Pair::Ed(pair), &jwk, pkcs8));
        }
        if let Ok(pair) = RsaKeyPair::from_pkcs8(pkcs8) {
            let components: aws_lc_rs::rsa::PublicKeyComponents<Vec<u8>> = pair.public_key().into();
            let jwk = PublicJwk::rsa(&components.n, &components.e);
            return Ok(Self::assemble(Algorithm::RS256, Pair::Rsa(pair), &jwk, pkcs8));
        }
        Err(invalid_key("the private key is not an RSA (2048 bits or more), P-256 or Ed25519 key"))
    }

    /// The key named by its RFC 7638 thumbprint, the `kid` a resource server computes
    /// from the public key alone (see [`VerifyingKey::kid`]).
    fn assemble(algorithm: Algorithm, pair: Pair, jwk: &PublicJwk, pkcs8: &[u8]) -> Self {
        let kid = jwk.thumbprint();
        let mut public_jwk = jwk.to_json();
        if let Some(members) = public_jwk.as_object_mut() {
            members.insert("kid".into(), Value::String(kid.clone()));
            members.insert("alg".into(), Value::String(algorithm.name().into()));
            members.insert("use".into(), Value::String("sig".into()));
        }
        let encoded_header = crate::mint::encoded_header(algorithm.name(), &kid);
        Self { algorithm, kid, pair, public_jwk, pkcs8: pkcs8.to_vec(), encoded_header }
    }

    /// The base64url JOSE header of every token this key signs (see `mint`).
    pub(crate) fn encoded_header(&self) -> &str {
        &self.encoded_header
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id: the RFC 7638 SHA-256 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (with `kid`, `alg` and `use`).
    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }

    /// The public key as a [`VerifyingKey`], for the guard.
    ///
    /// # Errors
    /// Never for a key this type holds; the `Result` comes from the JWK parser.
    pub fn verifying_key(&self) -> Result<VerifyingKey, ConfigError> {
        VerifyingKey::from_jwk(&self.public_jwk.to_string())
    }

    /// The private key as a PKCS#8 PEM, to save it for the next start.
    pub fn to_pkcs8_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PRIVATE KEY", self.pkcs8.clone()))
    }

    /// Signs `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        #[cfg(test)]
        signatures::count();
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Ec(pair) => Ok(pair.sign(&rng, message)?.as_ref().to_vec()),
            Pair::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)?;
                Ok(signature)
            }
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// [`SigningKey::generate`] on tokio's blocking pool when a runtime is current (an RSA key
/// takes tens of milliseconds of CPU, which must not stall the executor's other tasks),
/// in place otherwise.
async fn generate_off_executor(algorithm: Algorithm) -> Result<SigningKey, ConfigError> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => match runtime.spawn_blocking(move || SigningKey::generate(algorithm)).await {
            Ok(generated) => generated,
            Err(_) => Err(ConfigError::new(ConfigErrorKind::Crypto, "key generation did not finish")),
        },
        Err(_) => SigningKey::generate(algorithm),
    }
}

/// How many signatures this thread made, for tests that check when the issuer signs.
#[cfg(test)]
pub(crate) mod signatures {
    use std::cell::Cell;

    thread_local! {
        static MADE: Cell<usize> = const { Cell::new(0) };
    }

    pub(crate) fn count() {
        MADE.with(|made| made.set(made.get() + 1));
    }

    /// Signatures made on this thread so far.
    pub(crate) fn made() -> usize {
        MADE.with(Cell::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, SettingsStore, StoreError};

    /// A store that answers reads and refuses every write, as a read-only file does.
    struct ReadOnly(MemoryStore);

    impl SettingsStore for ReadOnly {
        async fn put_setting_if_absent(&self, _: &str, _: &str) -> Result<String, StoreError> {
            Err(StoreError::backend(std::io::Error::other("attempt to write a readonly database")))
        }

        async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
            self.0.setting(name).await
        }
    }

    #[tokio::test]
    async fn a_stored_key_loads_from_a_store_that_refuses_writes() {
        let store = MemoryStore::new();
        let made = SigningKey::load_or_generate(&store, "signing_key", Algorithm::ES256).await.expect("made");
        let read_only = ReadOnly(store);
        let loaded =
            SigningKey::load_or_generate(&read_only, "signing_key", Algorithm::ES256).await.expect("loaded");
        assert_eq!(loaded.kid(), made.kid());
    }

    #[tokio::test]
    async fn a_missing_key_on_a_store_that_refuses_writes_is_an_error() {
        let read_only = ReadOnly(MemoryStore::new());
        assert!(SigningKey::load_or_generate(&read_only, "signing_key", Algorithm::ES256).await.is_err());
    }
}
