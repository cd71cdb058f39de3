//! Quickstart nodes started together, as real processes (the example binary).
//!
//! - The two-node block of `docs/stores-and-nodes.md`, as printed: its `export` lines and
//!   its `BIND` host are read from the guide (so the two cannot drift), and both nodes start at the same
//!   moment on the PostgreSQL and Redis it names. A token issued by one is accepted by
//!   the other, a revocation on one is refused by the other, and each banner names the
//!   bus it uses. The one change: the ports are the system's free ones, not 8081 and 8082,
//!   which another program may hold on a shared machine.
//! - Four quickstarts started at the same moment on one fresh, empty PostgreSQL database,
//!   ten rounds over: every one comes up, and the schema is applied once.
//!
//! Both need `TEST_POSTGRES_URL` (and the first `TEST_REDIS_URL`); they skip, saying why,
//! without.

use crate::process;
use crate::tools;

use std::time::{Duration, Instant};

use process::{banner_field, http, listening_url, QuickstartProcess, START};
use serde_json::Value;

/// `NAME=value` pairs: an environment.
type Vars = Vec<(String, String)>;

/// The guide's two-node block: the environment both nodes share, and each node's own
/// variables (the assignments in front of `cargo run`).
fn readme_two_nodes() -> (Vars, Vec<Vars>) {
    let readme = include_str!("../../../../docs/stores-and-nodes.md");
    let section =
        readme.find("**A two-node deployment with the quickstart.**").expect("the guide's two-node section");
    let block = readme[section..]
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("its block");
    let assignment =
        |word: &str| word.split_once('=').map(|(name, value)| (name.to_owned(), value.to_owned()));
    let mut shared = Vec::new();
    let mut nodes = Vec::new();
    for line in block.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if let Some(export) = line.strip_prefix("export ") {
            shared.push(assignment(export).unwrap_or_else(|| panic!("an assignment: {line}")));
        } else {
            assert!(line.contains("cargo run -p quickstart") && line.ends_with('&'), "a node: {line}");
            let words = line.split_whitespace().take_while(|word| *word != "cargo");
            nodes.push(words.map(|word| assignment(word).expect("NAME=value")).collect());
        }
    }
    (shared, nodes)
}

/// A variable's value out of `NAME=value` pairs.
fn value<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Starts one quickstart per environment, all at once, and waits for every banner.
fn start_together(envs: &[Vec<(String, String)>]) -> Vec<(QuickstartProcess, Result<Vec<String>, String>)> {
    let mut started: Vec<QuickstartProcess> = envs
        .iter()
        .map(|env| {
            let vars: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            QuickstartProcess::start(&vars, None)
        })
        .collect();
    let banners: Vec<_> = started.iter_mut().map(|node| node.banner(START)).collect();
    started.into_iter().zip(banners).collect()
}

#[test]
fn the_readme_two_node_block_works_as_printed() {
    let (shared, nodes) = readme_two_nodes();
    assert_eq!(nodes.len(), 2, "two nodes: {nodes:?}");
    let (Ok(postgres), Ok(redis)) = (std::env::var("TEST_POSTGRES_URL"), std::env::var("TEST_REDIS_URL"))
    else {
        eprintln!("skipping: TEST_POSTGRES_URL and TEST_REDIS_URL must both be set");
        return;
    };
    let (store, bus) = (value(&shared, "PASSPORT_STORE"), value(&shared, "PASSPORT_REDIS_URL"));
    if store != Some(postgres.as_str()) || bus != Some(redis.as_str()) {
        let reason = format!(
            "the guide names {store:?} and {bus:?}; this machine's servers are {postgres} and {redis}"
        );
        let _: Option<()> = tools::unavailable("the guide's two-node block", reason);
        return;
    }
    let envs: Vec<Vec<(String, String)>> = nodes
        .iter()
        .map(|own| {
            let bind = value(own, "BIND").expect("a BIND");
            let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host);
            let mut env = shared.clone();
            env.extend(own.iter().filter(|(name, _)| name != "BIND").cloned());
            env.push(("BIND".into(), format!("{host}:0")));
            env
        })
        .collect();
    let started = start_together(&envs);
    let mut up = Vec::new();
    for (node, banner) in &started {
        let banner = banner.as_ref().unwrap_or_else(|why| panic!("a guide node did not start: {why}"));
        assert_eq!(banner_field(banner, "issuer"), value(&shared, "PASSPORT_ISSUER").expect("an issuer"));
        let store_line = banner_field(banner, "store");
        assert!(store_line.ends_with("(revocation bus: Redis pub/sub)"), "the bus it uses: {store_line}");
        let url = listening_url(banner);
        let jwks = http("GET", &format!("{url}/.well-known/jwks.json"), &[], "");
        assert_eq!(jwks.map(|(status, _)| status), Some(200), "{url}: {}", node.stderr());
        up.push((url, banner.clone()));
    }
    let [(a, banner), (b, _)] = &up[..] else { unreachable!("two nodes") };

    // A token from node A, accepted by node B; revoked on A, refused by B.
    let client = banner_field(banner, "client");
    let mut words = client.split_whitespace();
    let (id, secret) = (words.next().expect("id"), words.nth(1).expect("secret"));
    let form = "content-type: application/x-www-form-urlencoded";
    let credentials = format!("client_id={id}&client_secret={secret}");
    let issued = http(
        "POST",
        &format!("{a}/oauth/token"),
        &[form],
        &format!("grant_type=client_credentials&scope=check-status&{credentials}"),
    );
    let (status, body) = issued.expect("node A answers");
    assert_eq!(status, 200, "{body}");
    let token: Value = serde_json::from_str(&body).expect("json");
    let token = token["access_token"].as_str().expect("a token").to_owned();
    let bearer = format!("authorization: Bearer {token}");
    let at_b = || http("GET", &format!("{b}/api/m2m"), &[&bearer], "").map(|(status, _)| status);
    assert_eq!(at_b(), Some(200), "node B accepts node A's token");
    let revoked =
        http("POST", &format!("{a}/oauth/revoke"), &[form], &format!("token={token}&{credentials}"));
    assert_eq!(revoked.map(|(status, _)| status), Some(200));
    let deadline = Instant::now() + Duration::from_secs(30);
    while at_b() != Some(401) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(at_b(), Some(401), "node B refuses the token node A revoked");
}

/// `url` (a PostgreSQL URL) naming database `name` instead.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let server = match base.rsplit_once('/') {
        Some((server, _)) if !server.ends_with('/') => server,
        _ => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

#[test]
fn four_quickstarts_started_at_once_on_an_empty_database_all_come_up() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return;
    };
    const NODES: usize = 4;
    const ROUNDS: usize = 10;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let admin = runtime.block_on(sqlx::PgPool::connect(&url)).expect("connect");
    // Databases an earlier run left behind (it panicked before dropping them).
    let ours = format!("tpqs\\_{}\\_%", std::process::id());
    let stale: Vec<String> = runtime
        .block_on(
            sqlx::query_scalar(
                "SELECT datname FROM pg_database WHERE datname LIKE 'tpqs\\_%' AND datname NOT LIKE $1",
            )
            .bind(ours)
            .fetch_all(&admin),
        )
        .unwrap_or_default();
    for name in stale {
        let _ = runtime.block_on(
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&admin),
        );
    }
    let migrations =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../tower-passport-sql/src/migrations"))
            .expect("the migrations")
            .filter(|entry| {
                entry.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|ext| ext == "sql"))
            })
            .count();
    let mut rounds = Vec::new();
    let mut good_rounds = 0;
    for round in 0..ROUNDS {
        let name = format!("tpqs_{}_{round}", std::process::id());
        runtime
            .block_on(sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&admin))
            .expect("create");
        let store = with_database(&url, &name);
        let env =
            vec![("PASSPORT_STORE".to_owned(), store.clone()), ("BIND".to_owned(), "127.0.0.1:0".to_owned())];
        let started = start_together(&vec![env; NODES]);
        let mut failures = Vec::new();
        for (node, banner) in &started {
            let up = banner.as_ref().map_err(Clone::clone).and_then(|banner| {
                let store_line = banner_field(banner, "store");
                if !store_line.ends_with("(revocation bus: PostgreSQL LISTEN/NOTIFY)") {
                    return Err(format!("the banner names another bus: {store_line}"));
                }
                let jwks = format!("{}/.well-known/jwks.json", listening_url(banner));
                match http("GET", &jwks, &[], "") {
                    Some((200, _)) => Ok(()),
                    other => Err(format!("{jwks}: {other:?}; stderr: {}", node.stderr())),
                }
            });
            if let Err(why) = up {
                failures.push(why);
            }
        }
        drop(started);
        let applied = runtime.block_on(async {
            let pool = sqlx::PgPool::connect(&store).await?;
            let rows: Vec<(i64, bool)> =
                sqlx::query_as("SELECT version, success FROM passport_migrations ORDER BY version")
                    .fetch_all(&pool)
                    .await?;
            pool.close().await;
            Ok::<_, sqlx::Error>(rows)
        });
        let _ = runtime.block_on(
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&admin),
        );
        let once = matches!(&applied, Ok(rows) if rows.len() == migrations && rows.iter().all(|(_, ok)| *ok));
        good_rounds += usize::from(once && failures.is_empty());
        rounds.push(format!(
            "round {round}: {}/{NODES} up, schema applied once: {once}{}",
            NODES - failures.len(),
            failures.iter().map(|why| format!("\n    {why}")).collect::<String>()
        ));
        if !once {
            rounds.push(format!("    migrations: {applied:?}"));
        }
    }
    let report = rounds.join("\n");
    eprintln!("{report}");
    assert_eq!(good_rounds, ROUNDS, "every node up and the schema applied once, every round:\n{report}");
}
