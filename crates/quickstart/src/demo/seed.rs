//! Seeding the quickstart's demo clients into a store several nodes may share. A client the
//! store lacks is registered; one it holds is left exactly as it is: a revoked client stays
//! revoked, and a node started with other settings changes nothing. Where this node's
//! configuration differs from the stored client, a [`SeedConflict`] says which client,
//! which field and which variable, and the stored value stays in force.

use std::error::Error;
use std::fmt;

use tower_passport_issuer::store::{ClientRecord, ClientStore, GrantType};
use tower_passport_issuer::{ClientRegistration, Issuer, IssuerErrorKind};

/// A client the quickstart seeds. Add a field here, to [`registration`] and, when a
/// variable sets it, to [`conflicts`].
pub struct Seed<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub secret: Option<&'a str>,
    pub grants: &'a [GrantType],
    pub redirect_uris: &'a [&'a str],
    pub first_party: bool,
    /// The variables behind the fields compared with a stored client.
    pub variables: SeedVariables,
    /// What a refused registration is blamed on: a variable the user set, or the
    /// variable that replaces a derived value that did not pass.
    pub blame: String,
}

/// The variables that set a seed's fields, for the fields a stored client is checked
/// against. A field whose variable is `None` is not compared: a derived default gives way
/// to the stored value silently.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeedVariables {
    pub name: Option<Variable>,
    pub secret: Option<Variable>,
    pub redirect_uri: Option<Variable>,
}

/// A variable, and whether the environment set it (or the value is its default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    pub set: bool,
}

/// A seeded field this node is configured with that differs from the stored client's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedConflict {
    pub client_id: String,
    /// `secret`, `name`, `redirect URI`.
    pub field: &'static str,
    pub variable: Variable,
    /// The stored and the configured value, for a field that is not secret.
    pub values: Option<(String, String)>,
}

impl fmt::Display for SeedConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { client_id, field, variable, values } = self;
        let name = variable.name;
        let configured =
            if variable.set { name.to_owned() } else { format!("this node's default ({name} is unset)") };
        write!(f, "demo client {client_id:?} is already stored with another {field} than {configured}")?;
        if let Some((stored, configured)) = values {
            write!(f, " (stored {stored}, configured {configured})")?;
        }
        write!(f, "; the stored one stays in force: set {name} to match it, or use a fresh store")
    }
}

/// What seeding left in force.
pub struct Seeded {
    /// The client as the store holds it now.
    pub client: ClientRecord,
    /// Where the stored client differs from the seed (nothing was changed).
    pub conflicts: Vec<SeedConflict>,
}

/// Registers `seed` if the store lacks it (another node may register it at the same
/// moment: then theirs is the stored one); otherwise compares the stored client with it.
pub async fn seed(issuer: &Issuer, seed: &Seed<'_>) -> Result<Seeded, Box<dyn Error>> {
    let store = issuer.store();
    let client = match store.client(seed.id).await? {
        Some(client) => client,
        None => match issuer.register_client(registration(seed)).await {
            Ok(registered) => return Ok(Seeded { client: registered.client, conflicts: Vec::new() }),
            // Refused: another node registered it first, or the seed cannot be registered.
            Err(reason) if matches!(reason.kind(), IssuerErrorKind::Invalid | IssuerErrorKind::Conflict) => {
                match store.client(seed.id).await? {
                    Some(client) => client,
                    None => return Err(format!("{}: {reason}", seed.blame).into()),
                }
            }
            Err(error) => return Err(error.into()),
        },
    };
    let conflicts = conflicts(&client, seed);
    Ok(Seeded { client, conflicts })
}

fn registration(seed: &Seed<'_>) -> ClientRegistration {
    let registration = match seed.secret {
        Some(secret) => ClientRegistration::confidential(seed.name).secret(secret),
        None => ClientRegistration::public(seed.name),
    };
    registration
        .id(seed.id)
        .grants(seed.grants.iter().copied())
        .allowed_scopes(SCOPES.map(|(id, _)| id))
        .first_party(seed.first_party)
        .redirect_uris(seed.redirect_uris.iter().copied())
}

/// Where `stored` differs from `seed` in a field a variable sets.
pub fn conflicts(stored: &ClientRecord, seed: &Seed<'_>) -> Vec<SeedConflict> {
    let secret_differs = match (&stored.secret_hash, seed.secret) {
        (Some(hash), Some(secret)) => !hash.matches(secret.as_bytes()),
        (None, None) => false,
        _ => true,
    };
    let configured_uris = seed.redirect_uris.join(" ");
    let fields = [
        ("secret", seed.variables.secret, secret_differs, None),
        (
            "name",
            seed.variables.name,
            stored.name != seed.name,
            Some((stored.name.clone(), seed.name.to_owned())),
        ),
        (
            "redirect URI",
            seed.variables.redirect_uri,
            stored.redirect_uris.join(" ") != configured_uris,
            Some((stored.redirect_uris.join(" "), configured_uris.clone())),
        ),
    ];
    fields
        .into_iter()
        .filter_map(|(field, variable, differs, values)| {
            let variable = variable.filter(|_| differs)?;
            Some(SeedConflict { client_id: stored.id.clone(), field, variable, values })
        })
        .collect()
}

/// The demo scopes the clients may ask for: id and description.
pub const SCOPES: [(&str, &str); 5] = [
    ("read-posts", "Read posts"),
    ("write-posts", "Create posts"),
    ("admin", "Delete posts"),
    ("check-status", "Check order status"),
    ("place-orders", "Place orders"),
];
