//! Signing keys: `install` (the store's first key), `keys` (PEM files) and `keys --rotate`
//! (the next generation of the store's shared ring, announced on the revocation bus).

use std::error::Error;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use tower_passport::revocation::Invalidation;
use tower_passport::Algorithm;
use tower_passport_cli::AnyStore;
use tower_passport_issuer::store::SettingsStore;
use tower_passport_issuer::{Issuer, SigningKey};

use crate::deployment::{self, Create};
use crate::{Alg, Cli, KeysArgs};

type Outcome = Result<(), Box<dyn Error>>;

pub(crate) fn algorithm(alg: Alg) -> Algorithm {
    match alg {
        Alg::Rs256 => Algorithm::RS256,
        Alg::Es256 => Algorithm::ES256,
        Alg::Eddsa => Algorithm::EdDSA,
    }
}

/// A new key of `algorithm` (RSA of `length` bits), made off the async runtime.
async fn generate(algorithm: Algorithm, length: usize) -> Result<SigningKey, Box<dyn Error>> {
    let key = tokio::task::spawn_blocking(move || match algorithm {
        Algorithm::RS256 => SigningKey::generate_rsa(length),
        other => SigningKey::generate(other),
    })
    .await??;
    Ok(key)
}

/// The algorithm and kid of the newest key of the issuer's ring (the one signing, or about
/// to sign).
fn newest(issuer: &Issuer) -> (String, String) {
    let jwks = issuer.jwks();
    let member =
        |name: &str| jwks.keys.last().and_then(|key| key[name].as_str()).unwrap_or("unknown").to_owned();
    (member("alg"), member("kid"))
}

pub(crate) async fn install(cli: &Cli, alg: Option<Alg>, force: bool) -> Outcome {
    let store = deployment::open_store(cli, Create::Yes).await?;
    println!("Store ready ({}), migrations applied.", store.kind());
    let requested = alg.map(algorithm);
    let mut created = false;
    if store.setting(&cli.key_setting).await?.is_none() {
        let candidate = generate(requested.unwrap_or(Algorithm::ES256), 2048).await?;
        // Another `install` may have stored its key first: then that one is kept.
        let stored = store.put_setting_if_absent(&cli.key_setting, &candidate.to_pkcs8_pem()).await?;
        created = SigningKey::from_pem(stored.as_bytes())?.kid() == candidate.kid();
    }
    let issuer = deployment::issuer_with_keys(cli, store.clone()).await?;
    let (current, kid) = newest(&issuer);
    match requested {
        Some(wanted) if wanted.name() != current && !force => {
            return Err(format!(
                "the store's signing key is {current} (kid {kid}), not {wanted}: add --force to rotate \
                 to a new {wanted} key (the tokens the old key signed stay valid until they expire), \
                 or leave out --alg to keep it"
            )
            .into());
        }
        Some(wanted) if wanted.name() != current => {
            println!("Signing key present ({current}, kid {kid}); rotating to {wanted} (--force).");
            rotate(cli, &issuer, &store, wanted, 2048, Duration::ZERO).await?;
        }
        _ if created => println!("Signing key created ({current}, kid {kid})."),
        _ => println!("Signing key already present ({current}, kid {kid})."),
    }
    let personal = issuer.ensure_personal_access_client().await?;
    println!("Personal access client ready (Client ID: {}).", personal.id);
    Ok(())
}

/// `keys --rotate`.
pub(crate) async fn rotate_command(cli: &Cli, args: &KeysArgs) -> Outcome {
    let store = deployment::open_store(cli, Create::No).await?;
    let issuer = deployment::issuer_with_keys(cli, store.clone()).await?;
    let wanted = match args.alg {
        Some(alg) => algorithm(alg),
        None => newest(&issuer).0.parse()?,
    };
    rotate(cli, &issuer, &store, wanted, args.length, Duration::from_secs(args.signs_after)).await
}

/// Writes the next generation of the ring and announces it on the bus.
async fn rotate(
    cli: &Cli,
    issuer: &Issuer,
    store: &AnyStore,
    algorithm: Algorithm,
    length: usize,
    signs_after: Duration,
) -> Outcome {
    let (_, previous) = newest(issuer);
    let key = generate(algorithm, length).await?;
    let taken = issuer.rotate_shared_signing_key(key, signs_after).await?;
    let bus = deployment::publish(cli, store, &[Invalidation::SigningKeys]).await?;
    let from = match signs_after.as_secs() {
        0 => "now".to_owned(),
        seconds => format!("in {seconds} s"),
    };
    println!("Signing key rotated: {} (kid {}), signing from {from}.", taken.algorithm(), taken.kid());
    println!("The previous key (kid {previous}) stays published until every token it signed has expired.");
    match bus {
        Some(bus) => println!("Nodes on the revocation bus ({bus}) load the new key within milliseconds."),
        None => println!("There is no revocation bus: running nodes load the new key when they restart."),
    }
    Ok(())
}

/// `keys` without `--rotate`: the two PEM files.
pub(crate) fn write_files(args: &KeysArgs) -> Outcome {
    let key = match args.alg.unwrap_or(Alg::Rs256) {
        Alg::Rs256 => SigningKey::generate_rsa(args.length)?,
        other => SigningKey::generate(algorithm(other))?,
    };
    let private = args.path.join("oauth-private.key");
    let public = args.path.join("oauth-public.key");
    if !args.force {
        for path in [&private, &public] {
            if path.exists() {
                return Err(format!("{} exists already; use --force to overwrite it", path.display()).into());
            }
        }
    }
    std::fs::create_dir_all(&args.path).map_err(|e| format!("cannot create {}: {e}", args.path.display()))?;
    write_file(&private, key.to_pkcs8_pem().as_bytes(), 0o600)?;
    write_file(&public, key.to_public_pem()?.as_bytes(), 0o644)?;
    println!("Encryption keys generated ({}, kid {}):", key.algorithm(), key.kid());
    println!("  {} (private, mode 0600)", private.display());
    println!("  {}", public.display());
    Ok(())
}

fn write_file(path: &std::path::Path, contents: &[u8], mode: u32) -> Outcome {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    // `mode` applies only to a file this call created; an overwritten one is set too.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))?;
    file.write_all(contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
}
