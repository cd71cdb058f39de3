//! `gateway <config.toml>`: serves the gateway the file describes until Ctrl-C.

use std::process::ExitCode;

use gateway::{run, Config};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_max_level(tracing::Level::INFO).init();
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: gateway <config.toml>");
        return ExitCode::from(2);
    };
    let config = match Config::load(&path) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}: {error}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(listen = %config.listen, mode = ?config.mode, "gateway started");
    tokio::select! {
        result = run(config, listener) => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        },
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}
