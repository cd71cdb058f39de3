//! How the examples stop on an error: one line on stderr, `error: <what>: <cause>: <cause>`
//! (the error's `Display`, then each `source()` that was not already said), and the exit
//! code 1; never the `Debug` dump (`ConfigError { kind: …, source: … }`) that a `main`
//! returning `Result<(), Box<dyn Error>>` prints. Included by every example (`grpc` takes
//! this file alone), and the messages are checked by `crates/tower-passport-cli/tests/cli/cli.rs`.

use std::error::Error;
use std::fmt;
use std::process::ExitCode;

use tower_passport::error::sentence;

/// Success, or the error printed as one sentence and exit code 1.
///
/// ```ignore
/// #[tokio::main]
/// async fn main() -> ExitCode {
///     exit_on_error(run().await)
/// }
/// ```
pub fn exit_on_error<E: Into<Box<dyn Error>>>(outcome: Result<(), E>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", sentence(&*error.into()));
            ExitCode::FAILURE
        }
    }
}

/// An error that says what was being done (naming the variable the user set), then the
/// error that stopped it, which it keeps as its `source()`.
#[derive(Debug)]
pub struct Context {
    what: String,
    cause: Box<dyn Error + Send + Sync>,
}

/// `cause`, introduced by `what` (`"PASSPORT_STORE: cannot open the store"`).
pub fn context(what: impl Into<String>, cause: impl Into<Box<dyn Error + Send + Sync>>) -> Context {
    Context { what: what.into(), cause: cause.into() }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.cause)
    }
}

impl Error for Context {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.cause)
    }
}
