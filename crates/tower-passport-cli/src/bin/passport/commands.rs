//! What each command does (the key commands are in `keys.rs`).

use std::error::Error;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use tower_passport::revocation::Invalidation;
use tower_passport::token::DEFAULT_PROVIDER;
use tower_passport_cli::AnyStore;
use tower_passport_issuer::store::GrantType;
use tower_passport_issuer::{ClientRegistration, Issuer};
use tower_passport_laravel::{import_clients, PassportDatabase, PassportTables};

use crate::deployment::{self, client_reach, token_reach, Create};
use crate::{keys, Cli, ClientArgs, Command, ImportSource};

type Outcome = Result<(), Box<dyn Error>>;

pub(crate) async fn run(cli: Cli) -> Outcome {
    match &cli.command {
        Command::Keys(args) if args.rotate => keys::rotate_command(&cli, args).await,
        Command::Keys(args) => keys::write_files(args),
        Command::Install { alg, force } => keys::install(&cli, *alg, *force).await,
        Command::Client(args) => client(&cli, args).await,
        Command::Purge { revoked, expired, hours } => purge(&cli, *revoked, *expired, *hours).await,
        Command::Token { revoke } => revoke_token(&cli, revoke).await,
        Command::User { revoke_all } => revoke_user(&cli, revoke_all).await,
        Command::Import { source: ImportSource::Laravel { from, table_prefix, json } } => {
            import_laravel(&cli, from, table_prefix, *json).await
        }
    }
}

/// `passport import laravel --from <database URL>`: Passport's clients into the store.
async fn import_laravel(cli: &Cli, from: &str, table_prefix: &str, json: bool) -> Outcome {
    let store = deployment::open_store(cli, Create::No).await?;
    let laravel = PassportDatabase::connect_lazy(from)?;
    let tables = PassportTables::with_prefix(table_prefix)?;
    let report = import_clients(&laravel, &tables, &*store).await?;
    if json {
        let skipped: Vec<_> = report
            .skipped
            .iter()
            .map(|(id, reason)| serde_json::json!({"id": id, "reason": reason.describe()}))
            .collect();
        println!("{}", serde_json::json!({"copied": report.copied, "skipped": skipped}));
        return Ok(());
    }
    println!("copied {} client(s) from Laravel Passport", report.copied.len());
    for id in &report.copied {
        println!("  copied  {id}");
    }
    for (id, reason) in &report.skipped {
        println!("  skipped {id}: {}", reason.describe());
    }
    Ok(())
}

/// An issuer over the installed store (never a new one), and the store, for the bus.
async fn issuer(cli: &Cli) -> Result<(Issuer, Arc<AnyStore>), Box<dyn Error>> {
    let store = deployment::open_store(cli, Create::No).await?;
    Ok((deployment::issuer(cli, store.clone())?, store))
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
    let (issuer, store) = issuer(cli).await?;
    if args.list {
        return list_clients(&issuer, args.json).await;
    }
    if let Some(id) = &args.revoke {
        if issuer.revoke_client(id).await? {
            let messages = [Invalidation::Client { client_id: id.clone() }];
            let bus = deployment::publish(cli, &store, &messages).await?;
            println!("Client {id} revoked. {}", client_reach(bus));
            return Ok(());
        }
        return Err(format!("there is no client {id}").into());
    }
    if let Some(id) = &args.update {
        return update_client(&issuer, id, args).await;
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
    } else if args.device {
        // A device keeps no secret (RFC 8628 §5.6): the device grant's client is public.
        ClientRegistration::public(name).grants([GrantType::DeviceCode, GrantType::RefreshToken])
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
        let skips = args.skips_authorization == Some(true);
        if args.public && skips {
            return Err(PUBLIC_SKIPS.into());
        }
        if args.skips_authorization_even_if_public && !args.public {
            return Err("--skips-authorization-even-if-public is for a --public client".into());
        }
        let base = if args.public {
            ClientRegistration::public(name)
        } else {
            ClientRegistration::confidential(name)
        };
        let base = if args.skips_authorization_even_if_public {
            base.skips_authorization_even_if_public()
        } else {
            base.skips_authorization(skips)
        };
        base.grants([GrantType::AuthorizationCode, GrantType::RefreshToken]).redirect_uris(redirect_uris)
    };
    let registration = match args.resources.as_slice() {
        [] => registration,
        resources => registration.resources(resources.iter().cloned()),
    };
    let registered = issuer.register_client(registration).await?;
    let secret = registered.secret.as_ref().map(|s| s.expose());
    print_client(args.json, &registered.client.id, &registered.client.name, secret)
}

/// What an operator reads when a public client is told to skip the screen plainly.
const PUBLIC_SKIPS: &str = "a public client skips the approval screen only with \
     --skips-authorization-even-if-public: anything that can receive its redirect would get \
     users' tokens without them seeing anything";

/// `client --update ID`: the approval-screen setting of an existing client.
async fn update_client(issuer: &Issuer, id: &str, args: &ClientArgs) -> Outcome {
    let known = match (args.skips_authorization, args.skips_authorization_even_if_public) {
        (_, true) => issuer.set_skips_authorization_even_if_public(id).await?,
        (Some(skips), false) => match issuer.set_skips_authorization(id, skips).await {
            Err(error) if error.kind() == tower_passport_issuer::IssuerErrorKind::Invalid => {
                return Err(PUBLIC_SKIPS.into())
            }
            outcome => outcome?,
        },
        (None, false) => {
            return Err(
                "--update needs --skips-authorization[=false] or --skips-authorization-even-if-public".into(),
            )
        }
    };
    if !known {
        return Err(format!("there is no client {id}").into());
    }
    println!("Client {id} updated.");
    Ok(())
}

async fn list_clients(issuer: &Issuer, json: bool) -> Outcome {
    let clients = tower_passport_issuer::store::ClientStore::clients(issuer.store()).await?;
    let grants = |client: &tower_passport_issuer::store::ClientRecord| {
        client.grants.iter().map(|grant| grant.name()).collect::<Vec<_>>().join(",")
    };
    if json {
        let listed: Vec<serde_json::Value> = clients
            .iter()
            .map(|c| {
                serde_json::json!({
                    "client_id": c.id, "name": c.name, "grants": grants(c), "confidential": c.is_confidential(),
                    "first_party": c.first_party, "skips_authorization": c.skips_authorization,
                    "revoked": c.revoked, "redirect_uris": c.redirect_uris,
                    "resources": c.allowed_resources,
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
    let (issuer, _) = issuer(cli).await?;
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
         and {} authorization and device codes.",
        counts.access_tokens, counts.refresh_tokens, counts.families, counts.revocations, counts.codes
    );
    Ok(())
}

async fn revoke_token(cli: &Cli, jti: &str) -> Outcome {
    let (issuer, store) = issuer(cli).await?;
    match issuer.revoke_access_token_by_jti(jti).await? {
        Some(_) => {
            let messages = [Invalidation::AccessToken { jti: jti.to_owned() }];
            let bus = deployment::publish(cli, &store, &messages).await?;
            println!("Access token {jti} revoked. {}", token_reach(bus));
            Ok(())
        }
        None => Err(format!("there is no access token {jti}").into()),
    }
}

async fn revoke_user(cli: &Cli, user_id: &str) -> Outcome {
    let (issuer, store) = issuer(cli).await?;
    let revoked = issuer.revoke_all_for_user(user_id).await?;
    // Its tokens, and its first-party cookies (`revoke_all_for_user` revoked them too).
    let messages: Vec<Invalidation> = revoked
        .access_tokens
        .iter()
        .map(|access| Invalidation::AccessToken { jti: access.jti.clone() })
        .chain([Invalidation::User { provider: DEFAULT_PROVIDER.to_owned(), user_id: user_id.to_owned() }])
        .collect();
    let bus = deployment::publish(cli, &store, &messages).await?;
    println!(
        "Revoked {} access tokens and {} refresh families of user {user_id}. {}",
        revoked.access_tokens.len(),
        revoked.families.len(),
        token_reach(bus)
    );
    Ok(())
}
