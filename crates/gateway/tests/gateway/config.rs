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

/// The ```toml blocks of the gateways guide's first section, in order.
fn guide_toml_blocks() -> Vec<String> {
    let guide = include_str!("../../../../docs/gateways.md");
    let end = guide.find("\n## ").unwrap_or(guide.len());
    guide[..end]
        .split("```toml\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap().to_owned())
        .collect()
}

#[test]
fn the_guides_policy_file_and_gateway_file_load() {
    let blocks = guide_toml_blocks();
    assert_eq!(blocks.len(), 2, "the guide's policy file and gateway file");
    let table = tower_passport::policy::PolicyTable::from_toml(&blocks[0], "docs/gateways.md").unwrap();
    assert_eq!(table.len(), 4);
    let config = gateway::Config::parse(&blocks[1], Path::new("docs/gateways.md")).unwrap();
    assert_eq!(config.mode, gateway::Mode::ForwardAuth);
    assert_eq!(config.concurrency, 1024);
    assert_eq!(config.headers.header_names().len(), 5);
}
