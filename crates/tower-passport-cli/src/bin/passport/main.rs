//! `passport`: Laravel Passport's Artisan commands for tower-passport's stores (feature
//! `cli`). Every command works against any store URL (`--store` or `PASSPORT_STORE`:
//! `sqlite://…`, `postgres://…`, `mysql://…`, `redis://…`), the quickstart's `sqlite://quickstart.db`
//! by default, and on the quickstart's key ring (`PASSPORT_KEY_SETTING`).
//!
//! Only `install` creates a store or a signing key; every other command needs an
//! installed store and says so ("no store at …; run `passport install` first").
//!
//! Exit codes: 0 on success, 1 when the command failed (one line, `error: <what>: <cause>`,
//! never a secret), 2 for a usage mistake.

mod commands;
mod deployment;
mod keys;

use std::error::Error;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tower_passport::error::sentence;

/// Manage a tower-passport authorization server's keys, clients and tokens.
///
/// Every command takes the store to work on from --store or PASSPORT_STORE, for example
/// sqlite://quickstart.db (the default), postgres://user@host/db, mysql://user@host/db or
/// redis://127.0.0.1:6379.
#[derive(Parser, Debug)]
#[command(name = "passport", version, propagate_version = true)]
pub(crate) struct Cli {
    /// The store: sqlite://FILE, postgres://…, mysql://… (or mariadb://…), redis://… (or `memory`, for trying things
    /// out). The quickstart's by default, as the quickstart reads PASSPORT_STORE too.
    #[arg(long, env = "PASSPORT_STORE", global = true, default_value = "sqlite://quickstart.db")]
    pub(crate) store: String,

    /// The issuer URL (the `iss` of the tokens), as the servers are configured.
    #[arg(long, env = "PASSPORT_ISSUER", global = true, default_value = "http://localhost")]
    pub(crate) issuer: String,

    /// The store setting that holds the shared signing key ring (the quickstart's by
    /// default; `SigningKey::load_or_generate` and `Issuer::share_signing_keys` name it).
    #[arg(long, env = "PASSPORT_KEY_SETTING", global = true, default_value = "quickstart_signing_key")]
    pub(crate) key_setting: String,

    /// A Redis URL whose pub/sub channel carries revocations to the servers (with a
    /// PostgreSQL store, LISTEN/NOTIFY is used when this is not set).
    #[arg(long, env = "PASSPORT_REDIS_URL", global = true)]
    pub(crate) redis_url: Option<String>,

    /// The revocation bus channel the servers listen on (the quickstart's by default:
    /// `passport:revocations` on Redis, `passport_revocations` on PostgreSQL).
    #[arg(long, env = "PASSPORT_BUS_CHANNEL", global = true)]
    pub(crate) bus_channel: Option<String>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Create the store if needed, run the migrations, create the signing key if there is
    /// none, and create the personal access client. Safe to run again: what exists is kept.
    Install {
        /// The algorithm of the signing key (ES256 for a new one unless given). A stored key
        /// of another algorithm is an error unless --force.
        #[arg(long, value_enum, ignore_case = true)]
        alg: Option<Alg>,
        /// With --alg: rotate a stored key of another algorithm to a new key of this one
        /// (tokens it signed stay valid until they expire).
        #[arg(long, requires = "alg")]
        force: bool,
    },
    /// Write a new private key and its public key as PEM files (oauth-private.key, mode
    /// 0600, and oauth-public.key), or, with --rotate, rotate the store's shared key.
    Keys(KeysArgs),
    /// Create a client (or list or revoke clients). Prints its id and, once only, its
    /// secret.
    Client(ClientArgs),
    /// Remove revoked and/or expired tokens, families and codes older than --hours.
    Purge {
        /// Only revoked records.
        #[arg(long)]
        revoked: bool,
        /// Only expired records.
        #[arg(long)]
        expired: bool,
        /// Keep records that expired or were revoked less than this many hours ago.
        #[arg(long, default_value_t = 168)]
        hours: u64,
    },
    /// Revoke an access token by its `jti` (the servers' caches drop it through the bus).
    Token {
        /// The `jti` of the token to revoke.
        #[arg(long, value_name = "JTI")]
        revoke: String,
    },
    /// Revoke every token and refresh family of a user.
    User {
        /// The user id (the tokens' `sub`).
        #[arg(long = "revoke-all", value_name = "ID")]
        revoke_all: String,
    },
    /// Copy another authorization server's clients into the store.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
}

/// Where `passport import` copies from.
#[derive(Subcommand, Debug)]
pub(crate) enum ImportSource {
    /// Laravel Passport's `oauth_clients` (ids, bcrypt secret hashes, redirect URIs, grants,
    /// revoked), read only. Idempotent: clients already in the store are skipped.
    Laravel {
        /// The Laravel application's database: mysql://…, postgres://… or sqlite:….
        #[arg(long, value_name = "DATABASE_URL")]
        from: String,
        /// The prefix of Passport's table names (Laravel's `prefix` connection option).
        #[arg(long, default_value = "")]
        table_prefix: String,
        /// Print the report as one JSON object, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub(crate) struct KeysArgs {
    /// The algorithm: RS256 (Passport's) for key files; with --rotate, the current key's.
    #[arg(long, value_enum, ignore_case = true)]
    pub(crate) alg: Option<Alg>,
    /// The RSA key size in bits (2048, 3072, 4096 or 8192).
    #[arg(long, default_value_t = 4096)]
    pub(crate) length: usize,
    /// Overwrite existing key files.
    #[arg(long)]
    pub(crate) force: bool,
    /// The directory to write the two files to.
    #[arg(long, default_value = ".")]
    pub(crate) path: std::path::PathBuf,
    /// Rotate the store's shared signing key instead of writing files: the new key is
    /// published by every node at once and signs from --signs-after on; the old one stays
    /// published until every token it signed has expired.
    #[arg(long, conflicts_with_all = ["force", "path"])]
    pub(crate) rotate: bool,
    /// With --rotate: seconds before the new key signs (give resource servers that cache
    /// the JWKS its max-age to see it first).
    #[arg(long, value_name = "SECONDS", default_value_t = 0, requires = "rotate")]
    pub(crate) signs_after: u64,
}

#[derive(Args, Debug)]
pub(crate) struct ClientArgs {
    /// The client's name, shown to users on the approval screen.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// A client for the client-credentials grant (machine to machine).
    #[arg(long, group = "kind")]
    pub(crate) client_credentials: bool,
    /// A first-party client for the password grant (RFC 9700 discourages it).
    #[arg(long, group = "kind")]
    pub(crate) password: bool,
    /// The personal access client (there is one).
    #[arg(long, group = "kind")]
    pub(crate) personal: bool,
    /// A public client (SPA, mobile, desktop): no secret, PKCE required.
    #[arg(long, group = "kind")]
    pub(crate) public: bool,
    /// A public client for the device authorization grant (RFC 8628: a TV, a console, a
    /// CLI on a server), approved by a signed-in user on /oauth/device; as Passport's
    /// `passport:client --device`.
    #[arg(long, group = "kind", conflicts_with_all = ["redirect_uris", "skips_authorization"])]
    pub(crate) device: bool,
    /// A redirect URI for the authorization code grant (repeat for several).
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub(crate) redirect_uris: Vec<String>,
    /// Restrict the client to this resource (RFC 8707: an API's URI, one of the issuer's
    /// audiences; repeat for several). Its tokens name no other API. Every one when not
    /// given.
    #[arg(long = "resource", value_name = "URI", conflicts_with_all = ["personal", "list", "revoke", "update"])]
    pub(crate) resources: Vec<String>,
    /// Approve this authorization-code client's requests without the approval screen
    /// (Passport's skipsAuthorization): for your own confidential web app. Refused for a
    /// public client: see --skips-authorization-even-if-public. With --update,
    /// --skips-authorization=false turns it off.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true",
          conflicts_with_all = ["client_credentials", "password", "personal"])]
    pub(crate) skips_authorization: Option<bool>,
    /// Skip the approval screen even for a public client, knowingly: anything that can
    /// receive its redirect (any local process, for a loopback URI) then gets a signed-in
    /// user's tokens without the user seeing anything (RFC 8252 §8.6).
    #[arg(long, conflicts_with_all = ["client_credentials", "password", "personal", "device", "skips_authorization"])]
    pub(crate) skips_authorization_even_if_public: bool,
    /// Change the approval-screen setting of the existing client with this id
    /// (with --skips-authorization[=false] or --skips-authorization-even-if-public).
    #[arg(long, value_name = "ID", conflicts_with_all = ["kind", "name", "redirect_uris", "list", "revoke"])]
    pub(crate) update: Option<String>,
    /// Print the result as one JSON object, for scripts.
    #[arg(long)]
    pub(crate) json: bool,
    /// List every client (id, name, grants, revoked) instead of creating one.
    #[arg(long, conflicts_with_all = ["kind", "name", "redirect_uris", "revoke", "skips_authorization"])]
    pub(crate) list: bool,
    /// Revoke the client with this id instead of creating one.
    #[arg(long, value_name = "ID", conflicts_with_all = ["kind", "name", "redirect_uris", "skips_authorization"])]
    pub(crate) revoke: Option<String>,
}

/// Signing algorithms.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Alg {
    /// RSA with SHA-256 (Passport's).
    Rs256,
    /// ECDSA on P-256.
    Es256,
    /// Ed25519.
    #[value(alias = "ed25519")]
    Eddsa,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Writing key files (RSA up to 8192 bits) is CPU work with no I/O: it runs here, on
    // the main thread, never on the async runtime.
    if let Command::Keys(args @ KeysArgs { rotate: false, .. }) = &cli.command {
        return exit_code(keys::write_files(args));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return exit_code(Err(format!("cannot start the runtime: {error}").into())),
    };
    exit_code(runtime.block_on(commands::run(cli)))
}

/// 0, or the error as one line on stderr and 1.
fn exit_code(outcome: Result<(), Box<dyn Error>>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", sentence(&*error));
            ExitCode::FAILURE
        }
    }
}
