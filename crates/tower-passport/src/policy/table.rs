//! The checked policy table: routes in a matchit router, each with the checks it demands.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use http::Method;

use super::file::{line_of, PolicyDocument, PolicyFileError, RouteEntry};
use super::path::normalized;
use crate::error::{AuthError, ConfigError, ConfigErrorKind, Reason};
use crate::scope::Requirement;
use crate::token::VerifiedToken;

/// The routes of a gateway and the checks each demands, matched by method and path.
///
/// Loaded from TOML ([`from_toml`](Self::from_toml), [`from_file`](Self::from_file));
/// see the [module docs](super) for the format.
pub struct PolicyTable {
    router: matchit::Router<usize>,
    /// One entry per distinct path pattern, in file order.
    paths: Vec<PathRules>,
    /// The access of each route, in file order.
    accesses: Vec<Access>,
    unmatched: Access,
}

/// The routes sharing one path pattern.
struct PathRules {
    pattern: String,
    /// Method (`None`: every method not listed by another route of the pattern), index in
    /// `accesses`, line.
    methods: Vec<(Option<Method>, usize, usize)>,
}

/// What a route lets through.
enum Access {
    /// Anyone, with or without a token.
    Public,
    /// A valid token meeting every requirement (none: any valid token).
    Token(Vec<Requirement>),
    /// Nobody (unmatched routes, by default).
    Deny,
}

/// The checks a route may name.
const CHECKS: &str = "`public`, `token`, `all-scopes`, `any-scope`, `client-only`, `user-only`";

impl PolicyTable {
    /// Reads and checks the policy file at `path`.
    ///
    /// # Errors
    /// [`ConfigErrorKind::Policy`] when the file cannot be read, or as
    /// [`from_toml`](Self::from_toml).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| {
            invalid(PolicyFileError::at(path, "", None, "cannot be read").with_source(source))
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses and checks a policy table from TOML `text`; `file` names it in errors.
    ///
    /// # Errors
    /// [`ConfigErrorKind::Policy`], whose source is a [`PolicyFileError`] naming the file,
    /// the line and the reason: TOML that does not parse, an unknown key or check, a bad
    /// method or path pattern, a duplicate or conflicting route, scopes missing or misplaced.
    pub fn from_toml(text: &str, file: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let file = file.as_ref();
        let document: PolicyDocument = toml::from_str(text).map_err(|source| {
            let problem = source.message().trim_end().to_owned();
            invalid(PolicyFileError::at(file, text, source.span(), problem).with_source(source))
        })?;
        Self::from_document(document, text, file)
    }

    /// Checks a [`PolicyDocument`] deserialized from `text` (a larger configuration file
    /// may hold it in one of its fields), the contents of `file`.
    ///
    /// # Errors
    /// As [`from_toml`](Self::from_toml).
    pub fn from_document(
        document: PolicyDocument,
        text: &str,
        file: impl AsRef<Path>,
    ) -> Result<Self, ConfigError> {
        let file = file.as_ref();
        let error = |span, problem: String| invalid(PolicyFileError::at(file, text, Some(span), problem));
        let unmatched = match &document.unmatched {
            None => Access::Deny,
            Some(value) => match value.get_ref().as_str() {
                "deny" => Access::Deny,
                "public" => Access::Public,
                "token" => Access::Token(Vec::new()),
                other => {
                    let problem =
                        format!("unknown `unmatched` value `{other}`; expected `deny`, `public` or `token`");
                    return Err(error(value.span(), problem));
                }
            },
        };
        let mut table =
            Self { router: matchit::Router::new(), paths: Vec::new(), accesses: Vec::new(), unmatched };
        let mut by_pattern: HashMap<String, usize> = HashMap::new();
        for route in &document.routes {
            let line = line_of(text, route.span().start);
            let entry = route.get_ref();
            let access = access(entry).map_err(|(span, problem)| error(span, problem))?;
            let methods = methods(entry).map_err(|(span, problem)| error(span, problem))?;
            let pattern = entry.path.get_ref();
            if !pattern.starts_with('/') {
                return Err(error(
                    entry.path.span(),
                    format!("path pattern `{pattern}` does not start with `/`"),
                ));
            }
            let index = match by_pattern.get(pattern) {
                Some(&index) => index,
                None => {
                    let index = table.paths.len();
                    table.router.insert(pattern.as_str(), index).map_err(|source| {
                        let problem = format!("bad path pattern `{pattern}`: {source}");
                        invalid(
                            PolicyFileError::at(file, text, Some(entry.path.span()), problem)
                                .with_source(source),
                        )
                    })?;
                    by_pattern.insert(pattern.clone(), index);
                    table.paths.push(PathRules { pattern: pattern.clone(), methods: Vec::new() });
                    index
                }
            };
            let rules = &mut table.paths[index];
            let access_index = table.accesses.len();
            table.accesses.push(access);
            for method in methods {
                if let Some((_, _, earlier)) = rules.methods.iter().find(|(m, _, _)| *m == method) {
                    let shown = method.as_ref().map_or("every method", Method::as_str);
                    let problem =
                        format!("duplicate route: {shown} {pattern} is already declared at line {earlier}");
                    return Err(error(route.span(), problem));
                }
                rules.methods.push((method, access_index, line));
            }
        }
        Ok(table)
    }

    /// Judges a request for `method` and `path` (no query) with `token`, the verified token
    /// if one came: `Ok` lets it through.
    ///
    /// # Errors
    /// The rejection to answer: 400 `invalid_request` for a path not in normal form, 403 for
    /// an unmatched route denied by default, 401 for a route that needs a token when none
    /// came, 403 `insufficient_scope` for a failed check.
    pub fn check(&self, method: &Method, path: &str, token: Option<&VerifiedToken>) -> Result<(), AuthError> {
        let Some(path) = normalized(path) else {
            return Err(AuthError::invalid_request(Reason::UnnormalizedPath));
        };
        let route = self.router.at(&path).ok().and_then(|matched| self.paths.get(*matched.value));
        let access = route.and_then(|rules| rules.route(method)).and_then(|index| self.accesses.get(index));
        let access = access.unwrap_or(&self.unmatched);
        match (access, token) {
            (Access::Public, _) => Ok(()),
            (Access::Deny, _) => Err(AuthError::route_not_allowed()),
            (Access::Token(_), None) => Err(AuthError::missing_token()),
            (Access::Token(requirements), Some(token)) => {
                requirements.iter().try_for_each(|requirement| requirement.check(token))
            }
        }
    }

    /// The number of routes (method and pattern pairs; a route without a method counts once).
    pub fn len(&self) -> usize {
        self.paths.iter().map(|rules| rules.methods.len()).sum()
    }

    /// Whether the table has no route: every request gets the unmatched rule.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

impl PathRules {
    /// The route of `method`: its own, else the pattern's every-method route.
    fn route(&self, method: &Method) -> Option<usize> {
        let exact = self.methods.iter().find(|(m, _, _)| m.as_ref() == Some(method));
        exact.or_else(|| self.methods.iter().find(|(m, _, _)| m.is_none())).map(|&(_, index, _)| index)
    }
}

/// The methods a route names; `[None]` for every method.
fn methods(entry: &RouteEntry) -> Result<Vec<Option<Method>>, (std::ops::Range<usize>, String)> {
    let Some(method) = &entry.method else { return Ok(vec![None]) };
    let mut methods = Vec::new();
    for name in method.get_ref().items() {
        if name == "*" {
            methods.push(None);
            continue;
        }
        let parsed = (!name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase()))
            .then(|| Method::from_bytes(name.as_bytes()).ok())
            .flatten();
        match parsed {
            Some(parsed) if !methods.contains(&Some(parsed.clone())) => methods.push(Some(parsed)),
            Some(_) => return Err((method.span(), format!("method `{name}` is listed twice"))),
            None => {
                return Err((
                    method.span(),
                    format!("bad method `{name}`: methods are upper-case tokens, or `*`"),
                ))
            }
        }
    }
    if methods.is_empty() {
        return Err((method.span(), "an empty method list matches nothing".to_owned()));
    }
    if methods.len() > 1 && methods.contains(&None) {
        return Err((method.span(), "`*` already names every method".to_owned()));
    }
    Ok(methods)
}

/// The access a route's `check` and `scopes` describe.
fn access(entry: &RouteEntry) -> Result<Access, (std::ops::Range<usize>, String)> {
    let span = entry.check.span();
    let (mut public, mut token, mut scopes_all) = (false, false, None::<bool>);
    let mut requirements = Vec::new();
    for check in entry.check.get_ref().items() {
        match check.as_str() {
            "public" => public = true,
            "token" => token = true,
            "all-scopes" | "any-scope" => {
                if scopes_all.is_some() {
                    return Err((span, "a route takes one of `all-scopes` and `any-scope`".to_owned()));
                }
                scopes_all = Some(check == "all-scopes");
            }
            "client-only" => requirements.push(Requirement::ClientOnly),
            "user-only" => requirements.push(Requirement::UserOnly),
            other => return Err((span, format!("unknown check `{other}`; expected one of {CHECKS}"))),
        }
    }
    if entry.check.get_ref().items().is_empty() {
        return Err((span, format!("a route names at least one check: {CHECKS}")));
    }
    if requirements.len() > 1 {
        return Err((span, "a route takes one of `client-only` and `user-only`".to_owned()));
    }
    match (scopes_all, &entry.scopes) {
        (Some(all), Some(scopes)) if !scopes.get_ref().is_empty() => {
            requirements.push(Requirement::scopes(scopes.get_ref(), all));
        }
        (Some(_), Some(scopes)) => return Err((scopes.span(), "`scopes` is empty".to_owned())),
        (Some(all), None) => {
            let check = if all { "all-scopes" } else { "any-scope" };
            return Err((span, format!("`{check}` needs a `scopes` list")));
        }
        (None, Some(scopes)) => {
            return Err((scopes.span(), "`scopes` without an `all-scopes` or `any-scope` check".to_owned()));
        }
        (None, None) => {}
    }
    if public {
        if token || !requirements.is_empty() {
            return Err((span, "`public` cannot be combined with other checks".to_owned()));
        }
        return Ok(Access::Public);
    }
    Ok(Access::Token(requirements))
}

/// A policy file error as the [`ConfigError`] builders return.
fn invalid(error: PolicyFileError) -> ConfigError {
    ConfigError::new(ConfigErrorKind::Policy, "invalid policy file").with_source(error)
}

impl fmt::Debug for PolicyTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let patterns: Vec<&str> = self.paths.iter().map(|rules| rules.pattern.as_str()).collect();
        f.debug_struct("PolicyTable")
            .field("patterns", &patterns)
            .field("routes", &self.len())
            .field("unmatched", &self.unmatched)
            .finish()
    }
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Public => f.write_str("Public"),
            Self::Token(requirements) => f.debug_tuple("Token").field(requirements).finish(),
            Self::Deny => f.write_str("Deny"),
        }
    }
}
