//! An error and its causes as one line, for programs that report a failure to a person.

use std::error::Error;

/// `error` and its causes, `: `-separated, each said once.
///
/// Many errors (this crate's `ConfigError` and `StoreError` among them) already print their
/// source themselves, so a cause whose text the line holds is skipped.
///
/// Never a `Debug` dump.
///
/// ```
/// use std::io;
/// use tower_passport::error::sentence;
///
/// #[derive(Debug)]
/// struct Open(io::Error);
/// impl std::fmt::Display for Open {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("cannot open the store")
///     }
/// }
/// impl std::error::Error for Open {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let error = Open(io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused"));
/// assert_eq!(sentence(&error), "cannot open the store: connection refused");
/// ```
pub fn sentence(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let said = next.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = next.source();
    }
    text
}
