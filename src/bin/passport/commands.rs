//! What each command does.

use std::error::Error;
use std::fs::OpenOptions;
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::time::Duration;

use tower_passport::issuer::{ClientRegistration, Issuer, SigningKey};
use tower_passport::revocation::{Invalidation, PgRevocationBus, RedisRevocationBus};
use tower_passport::store::{AnyStore, GrantType};
use tower_passport::token::DEFAULT_PROVIDER;
use tower_passport::Algorithm;

use crate::{Alg, Cli, ClientArgs, Command, KeysArgs};

type Outcome = Result<(), Box<dyn Error>>;

pub(crate) async fn run(cli: Cli) -> Outcome {
    match &cli.command {
        Command::Keys(args) => keys(args),
        Command::Install { alg } => install(&cli, *alg).await,
        Command::Client(args) => client(&cli, args).await,
        Command::Purge { revoked, expired, hours } => purge(&cli, *revoked, *expired, *hours).await,
        Command::Token { revoke } => revoke_token(&cli, revoke).await,
        Command::User { revoke_all } => revoke_user(&cli, revoke_all).await,
    }
}

fn algorithm(alg: Alg) -> Algorithm {
    match alg {
        Alg::Rs256 => Algorithm::RS256,
        Alg::Es256 => Algorithm::ES256,
        Alg::Eddsa => Algorithm::EdDSA,
    }
}

/// Opens (and migrates) the store, and builds an issuer over it that signs with the
/// store's shared key.
async fn issuer(cli: &Cli) -> Result<Issuer<AnyStore>, Box<dyn Error>> {
    let store = Arc::new(
        AnyStore::open(&cli.store)
            .await
            .map_err(|e| format!("cannot open the store {}: {e}", redacted(&cli.store)))?,
    );
    let key = SigningKey::load_or_generate(&*store, &cli.key_setting, Algorithm::ES256).await?;
    Ok(Issuer::builder(cli.issuer.as_str(), store).audience("passport-cli").signing_key(key).build()?)
}

/// A store URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn install(cli: &Cli, alg: Alg) -> Outcome {
    let store = Arc::new(
        AnyStore::open(&cli.store)
            .await
            .map_err(|e| format!("cannot open the store {}: {e}", redacted(&cli.store)))?,
    );
    println!("Store ready ({}), migrations applied.", store.kind());
    let candidate = SigningKey::generate(algorithm(alg))?;
    let stored = tower_passport::store::SettingsStore::put_setting_if_absent(
        &*store,
        &cli.key_setting,
        &candidate.to_pkcs8_pem(),
    )
    .await?;
    let key = SigningKey::from_pem(stored.as_bytes())?;
    if key.kid() == candidate.kid() {
        println!("Signing key created ({}, kid {}).", key.algorithm(), key.kid());
    } else {
        println!("Signing key already present ({}, kid {}).", key.algorithm(), key.kid());
    }
    let issuer =
        Issuer::builder(cli.issuer.as_str(), store).audience("passport-cli").signing_key(key).build()?;
    let personal = issuer.ensure_personal_access_client().await?;
    println!("Personal access client ready (Client ID: {}).", personal.id);
    Ok(())
}

pub(crate) fn keys(args: &KeysArgs) -> Outcome {
    let key = match args.alg {
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

/// Asks on the terminal for what was not given, or says it is needed.
fn ask(what: &str, flag: &str) -> Result<String, Box<dyn Error>> {
    if !std::io::stdin().is_terminal() {
        return Err(format!("{flag} is required (no terminal to ask on)").into());
    }
    print!("{what}: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let answer = line.trim().to_owned();
    if answer.is_empty() {
        return Err(format!("{flag} is required").into());
    }
    Ok(answer)
}

async fn client(cli: &Cli, args: &ClientArgs) -> Outcome {
    let issuer = issuer(cli).await?;
    if args.list {
        return list_clients(&issuer, args.json).await;
    }
    if let Some(id) = &args.revoke {
        if issuer.revoke_client(id).await? {
            publish(cli, &issuer, &[Invalidation::Client { client_id: id.clone() }]).await?;
            println!("Client {id} revoked.");
            return Ok(());
        }
        return Err(format!("there is no client {id}").into());
    }
    if args.personal {
        let personal = issuer.ensure_personal_access_client().await?;
        return print_client(args.json, &personal.id, &personal.name, None);
    }
    let name = match &args.name {
        Some(name) => name.clone(),
        None => ask("What should we name the client?", "--name")?,
    };
    let registration = if args.client_credentials {
        ClientRegistration::confidential(name).grants([GrantType::ClientCredentials])
    } else if args.password {
        ClientRegistration::confidential(name)
            .grants([GrantType::Password, GrantType::RefreshToken])
            .first_party(true)
    } else {
        let mut redirect_uris = args.redirect_uris.clone();
        if redirect_uris.is_empty() {
            redirect_uris
                .push(ask("Where should we redirect the request after authorization?", "--redirect-uri")?);
        }
        let base = if args.public {
            ClientRegistration::public(name)
        } else {
            ClientRegistration::confidential(name)
        };
        base.grants([GrantType::AuthorizationCode, GrantType::RefreshToken]).redirect_uris(redirect_uris)
    };
    let registered = issuer.register_client(registration).await?;
    let secret = registered.secret.as_ref().map(|s| s.expose());
    print_client(args.json, &registered.client.id, &registered.client.name, secret)
}

async fn list_clients(issuer: &Issuer<AnyStore>, json: bool) -> Outcome {
    let clients = tower_passport::store::ClientStore::clients(&**issuer.store()).await?;
    let grants = |client: &tower_passport::store::ClientRecord| {
        client.grants.iter().map(|grant| grant.name()).collect::<Vec<_>>().join(",")
    };
    if json {
        let listed: Vec<serde_json::Value> = clients
            .iter()
            .map(|c| {
                serde_json::json!({
                    "client_id": c.id, "name": c.name, "grants": grants(c), "confidential": c.is_confidential(),
                    "first_party": c.first_party, "revoked": c.revoked, "redirect_uris": c.redirect_uris,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(listed));
        return Ok(());
    }
    if clients.is_empty() {
        println!("No clients.");
        return Ok(());
    }
    println!("{:<24}  {:<28}  {:<40}  revoked", "Client ID", "Name", "Grants");
    for client in &clients {
        println!(
            "{:<24}  {:<28}  {:<40}  {}",
            client.id,
            client.name,
            grants(client),
            if client.revoked { "yes" } else { "no" }
        );
    }
    Ok(())
}

fn print_client(json: bool, id: &str, name: &str, secret: Option<&str>) -> Outcome {
    if json {
        println!("{}", serde_json::json!({ "client_id": id, "name": name, "client_secret": secret }));
    } else {
        println!("Client ID: {id}");
        if let Some(secret) = secret {
            println!("Client secret: {secret}");
            println!("(The secret is shown only now: store it safely.)");
        }
    }
    Ok(())
}

async fn purge(cli: &Cli, revoked: bool, expired: bool, hours: u64) -> Outcome {
    let issuer = issuer(cli).await?;
    // Artisan's default: both.
    let (revoked, expired) = if revoked || expired { (revoked, expired) } else { (true, true) };
    let what = match (revoked, expired) {
        (true, true) => "revoked and expired",
        (true, false) => "revoked",
        _ => "expired",
    };
    eprintln!("Purging {what} records older than {hours} hours…");
    // A progress indication while a long purge runs.
    let ticker = tokio::spawn(async {
        let mut waited = 0u64;
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            waited += 2;
            eprintln!("  still purging ({waited} s)…");
        }
    });
    let counts = issuer.purge(revoked, expired, Duration::from_secs(hours.saturating_mul(3600))).await;
    ticker.abort();
    let counts = counts?;
    println!(
        "Purged {} access tokens, {} refresh tokens, {} refresh families, {} revocation-list entries \
         and {} authorization codes.",
        counts.access_tokens, counts.refresh_tokens, counts.families, counts.revocations, counts.codes
    );
    Ok(())
}

async fn revoke_token(cli: &Cli, jti: &str) -> Outcome {
    let issuer = issuer(cli).await?;
    match issuer.revoke_access_token_by_jti(jti).await? {
        Some(_) => {
            publish(cli, &issuer, &[Invalidation::AccessToken { jti: jti.to_owned() }]).await?;
            println!("Access token {jti} revoked.");
            Ok(())
        }
        None => Err(format!("there is no access token {jti}").into()),
    }
}

async fn revoke_user(cli: &Cli, user_id: &str) -> Outcome {
    let issuer = issuer(cli).await?;
    let revoked = issuer.revoke_all_for_user(user_id).await?;
    // Its tokens, and its first-party cookies (`revoke_all_for_user` revoked them too).
    let messages: Vec<Invalidation> = revoked
        .access_tokens
        .iter()
        .map(|access| Invalidation::AccessToken { jti: access.jti.clone() })
        .chain([Invalidation::User { provider: DEFAULT_PROVIDER.to_owned(), user_id: user_id.to_owned() }])
        .collect();
    publish(cli, &issuer, &messages).await?;
    println!(
        "Revoked {} access tokens and {} refresh families of user {user_id}.",
        revoked.access_tokens.len(),
        revoked.families.len()
    );
    Ok(())
}

/// Tells the servers' caches through the revocation bus: Redis when `--redis-url` is set,
/// else LISTEN/NOTIFY on a PostgreSQL store. With neither there is no bus, and the servers
/// see the revocation within their cache bound.
async fn publish(cli: &Cli, issuer: &Issuer<AnyStore>, messages: &[Invalidation]) -> Outcome {
    if messages.is_empty() {
        return Ok(());
    }
    if let Some(url) = &cli.redis_url {
        let channel = cli.bus_channel.as_deref().unwrap_or("passport:revocations");
        let bus = RedisRevocationBus::connect(url, channel).await?;
        for message in messages {
            bus.publish(message).await?;
        }
        return Ok(());
    }
    if let AnyStore::Postgres(postgres) = &**issuer.store() {
        let channel = cli.bus_channel.as_deref().unwrap_or("passport_revocations");
        let bus = PgRevocationBus::new(postgres.pool().clone(), channel)?;
        for message in messages {
            bus.publish(message).await?;
        }
        return Ok(());
    }
    eprintln!("(No revocation bus: servers see this within their revocation cache bound.)");
    Ok(())
}
