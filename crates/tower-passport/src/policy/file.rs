//! The policy file: its serde shape, and errors that name the file and the line.

use std::error::Error;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// A policy table as written in TOML, before it is checked.
///
/// See the [module docs](super) for the format. It can be a field of a larger configuration file
/// read with `toml::from_str`; [`PolicyTable::from_document`](super::PolicyTable::from_document)
/// then checks it, with that file's text for line numbers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// What a request that no route matches gets: `deny` (the default), `public` or
    /// `token`.
    #[serde(default)]
    pub(crate) unmatched: Option<Spanned<String>>,
    /// The routes, `[[route]]` tables.
    #[serde(default, rename = "route")]
    pub(crate) routes: Vec<Spanned<RouteEntry>>,
}

/// One `[[route]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteEntry {
    /// One method, a list, or `*`; absent: every method.
    #[serde(default)]
    pub(crate) method: Option<Spanned<OneOrMany>>,
    /// A matchit pattern: `/orders/{id}`, `/static/{*path}`.
    pub(crate) path: Spanned<String>,
    /// One check, or a list of checks.
    pub(crate) check: Spanned<OneOrMany>,
    /// The scopes of `all-scopes` or `any-scope`.
    #[serde(default)]
    pub(crate) scopes: Option<Spanned<Vec<String>>>,
}

/// A string, or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(crate) fn items(&self) -> &[String] {
        match self {
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(many) => many,
        }
    }
}

/// Why a policy file was refused, and where.
///
/// It holds the file, the line (1-based) when known, and the problem. The source of a [`ConfigError`](crate::ConfigError) of kind
/// [`Policy`](crate::error::ConfigErrorKind::Policy).
///
/// ```
/// use tower_passport::policy::{PolicyFileError, PolicyTable};
///
/// let text = "[[route]]\npath = \"/orders\"\ncheck = \"admins-only\"\n";
/// let error = PolicyTable::from_toml(text, "policy.toml").unwrap_err();
/// let found = std::error::Error::source(&error).and_then(|e| e.downcast_ref::<PolicyFileError>());
/// let found = found.expect("the file error");
/// assert_eq!(found.line(), Some(3));
/// assert!(error.to_string().contains("policy.toml:3: unknown check `admins-only`"));
/// ```
#[derive(Debug)]
pub struct PolicyFileError {
    file: PathBuf,
    line: Option<usize>,
    problem: String,
    source: Option<Box<dyn Error + Send + Sync>>,
}

impl PolicyFileError {
    /// An error about the text at byte range `span` of `text`, the contents of `file`.
    pub(crate) fn at(
        file: &Path,
        text: &str,
        span: Option<Range<usize>>,
        problem: impl Into<String>,
    ) -> Self {
        let line = span.map(|span| line_of(text, span.start));
        Self { file: file.to_owned(), line, problem: problem.into(), source: None }
    }

    pub(crate) fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The file, as it was named when loaded.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The line (1-based), when the problem has one.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// What is wrong.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for PolicyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.problem),
            None => write!(f, "{}: {}", self.file.display(), self.problem),
        }
    }
}

impl Error for PolicyFileError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn Error + 'static))
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&byte| byte == b'\n').count() + 1
}
