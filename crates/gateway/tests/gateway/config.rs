//! The gateway's file: a bad policy inside it names the line.

use std::path::Path;

use crate::support::{Tokens, POLICY_AND_HEADERS};

#[test]
fn a_bad_policy_in_the_gateway_file_names_the_file_and_line() {
    let tokens = Tokens::new();
    let text = format!(
        "[upstream]\nurl = \"http://127.0.0.1:9\"\n{}{POLICY_AND_HEADERS}\n[[policy.route]]\npath = \"/x\"\ncheck = \"admins-only\"\n",
        tokens.guard_toml()
    );
    let line = text.lines().position(|line| line.contains("admins-only")).unwrap() + 1;
    let error = gateway::Config::parse(&text, Path::new("gateway.toml")).unwrap_err();
    let shown = format!("{error}");
    assert!(shown.contains(&format!("gateway.toml:{line}: unknown check `admins-only`")), "{shown}");
}

#[test]
fn an_unknown_key_names_its_line() {
    let text = "listen = \"127.0.0.1:0\"\n[upstream]\nurl = \"http://127.0.0.1:9\"\nretries = 3\n";
    let error = gateway::Config::parse(text, Path::new("gateway.toml")).unwrap_err();
    let shown = format!("{error}");
    assert!(shown.contains("line 4") && shown.contains("unknown field `retries`"), "{shown}");
}
