//! Minting RFC 9068 access tokens with a pre-parsed signing key.
//!
//! # How a client's own token is told from a user's
//!
//! RFC 9700 §4.15: a user token must never pass as a client token. RFC 9068 §2.2 puts
//! the client id in `sub` when no user is involved, so `sub == client_id` alone is
//! ambiguous whenever a client id can equal a user id. Every token minted here therefore
//! also *states* its kind in the private claim `idtyp`: `"app"` for a client-credentials
//! token, `"user"` for a token issued on a user's behalf (Microsoft Entra ID marks its
//! app-only tokens with the same `idtyp: "app"`). `sub` stays as RFC 9068 wants it (the user id,
//! or the client id), so resource servers that only know the `sub == client_id` reading
//! keep working, and this crate's guard reads `idtyp` first
//! ([`ClientTokenRule`](tower_passport::verify::ClientTokenRule)): a user token, which always says
//! `"user"`, can never be taken for a client's, whatever its `sub`. A namespaced `sub`
//! (`client:<id>`) would have said the same, at the cost of every other resource server's
//! reading of RFC 9068.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use super::SigningKey;
use tower_passport::token::PrincipalKind;

/// The claims of an RFC 9068 access token.
pub(crate) struct AccessClaims<'a> {
    pub(crate) iss: &'a str,
    pub(crate) sub: &'a str,
    pub(crate) aud: Audience<'a>,
    pub(crate) client_id: &'a str,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) jti: &'a str,
    pub(crate) scope: String,
    /// The user provider of a user token whose client names one (absent for the default
    /// provider and for client tokens).
    pub(crate) provider: Option<&'a str>,
    /// RFC 9449 §6.1: the DPoP key the token is bound to.
    pub(crate) cnf: Option<Confirmation<'a>>,
}

/// A `cnf` claim naming a DPoP key by its RFC 7638 thumbprint.
#[derive(Serialize)]
pub(crate) struct Confirmation<'a> {
    pub(crate) jkt: &'a str,
}

/// `aud` is a string for one audience and an array for several.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Audience<'a> {
    One(&'a str),
    Many(&'a [String]),
}

impl<'a> Audience<'a> {
    pub(crate) fn of(audiences: &'a [String]) -> Self {
        match audiences {
            [one] => Self::One(one),
            many => Self::Many(many),
        }
    }
}

/// The payload: the claims with the token's statement of its kind, in this order. A plain
/// struct rather than the claims `#[serde(flatten)]`ed, which serializes through a map.
#[derive(Serialize)]
struct Stated<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a Audience<'a>,
    client_id: &'a str,
    iat: u64,
    exp: u64,
    jti: &'a str,
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idtyp: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<&'a Confirmation<'a>>,
}

/// The JOSE header of every token `kid` signs with `algorithm`, base64url-encoded:
/// `{"alg", "kid", "typ": "at+jwt"}`. Computed once per key ([`SigningKey`] keeps it).
pub(crate) fn encoded_header(algorithm: &str, kid: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{algorithm}","kid":"{kid}","typ":"at+jwt"}}"#))
}

/// The `idtyp` value that states `kind`.
fn idtyp(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::Client => "app",
        PrincipalKind::User => "user",
    }
}

/// `header.payload.signature`, header `{"alg", "kid", "typ": "at+jwt"}`; with `stated`,
/// the payload says in `idtyp` whether the token is a user's or the client's own (see
/// the module docs). The grant knows which: a user's token when it has a user.
pub(crate) fn mint_stated(
    key: &SigningKey,
    claims: &AccessClaims<'_>,
    stated: Option<PrincipalKind>,
) -> Result<String, MintError> {
    let stated = Stated {
        iss: claims.iss,
        sub: claims.sub,
        aud: &claims.aud,
        client_id: claims.client_id,
        iat: claims.iat,
        exp: claims.exp,
        jti: claims.jti,
        scope: &claims.scope,
        provider: claims.provider,
        idtyp: stated.map(idtyp),
        cnf: claims.cnf.as_ref(),
    };
    let mut payload = Vec::with_capacity(384);
    serde_json::to_writer(&mut payload, &stated).map_err(|_| MintError)?;
    // Header, payload and an RS256 signature (342 characters) fit without growing.
    let mut token = String::with_capacity(1024);
    token.push_str(key.encoded_header());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = key.sign(token.as_bytes()).map_err(|_| MintError)?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// Signing or serialization failed (a broken key or random source).
#[derive(Debug)]
pub(crate) struct MintError;

#[cfg(test)]
mod tests {
    use super::*;
    use tower_passport::keys::KeySet;
    use tower_passport::Algorithm;
    use tower_passport::Verifier;

    const ISSUER: &str = "https://auth.test";

    fn claims<'a>(sub: &'a str, client_id: &'a str, audiences: &'a [String]) -> AccessClaims<'a> {
        AccessClaims {
            iss: ISSUER,
            sub,
            aud: Audience::of(audiences),
            client_id,
            iat: 1_800_000_000,
            exp: 1_800_000_600,
            jti: "j1",
            scope: "read".into(),
            provider: None,
            cnf: None,
        }
    }

    fn payload(token: &str) -> serde_json::Value {
        let part = token.split('.').nth(1).unwrap_or_default();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn a_user_whose_id_is_a_client_id_keeps_a_user_token() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key().unwrap()))
            .issuer(ISSUER)
            .audience("api")
            .clock(tower_passport::clock::ManualClock::new(1_800_000_000))
            .build()
            .unwrap();
        let audiences = ["api".to_owned()];
        // User "billing" signed in through the client "billing": `sub == client_id`.
        let colliding = claims("billing", "billing", &audiences);

        let user = mint_stated(&key, &colliding, Some(PrincipalKind::User)).unwrap();
        assert_eq!(payload(&user)["idtyp"], "user");
        assert_eq!(payload(&user)["sub"], "billing", "sub stays the user id (RFC 9068)");
        assert_eq!(verifier.verify(&user).unwrap().kind(), PrincipalKind::User);

        let client = mint_stated(&key, &colliding, Some(PrincipalKind::Client)).unwrap();
        assert_eq!(payload(&client)["idtyp"], "app");
        assert_eq!(verifier.verify(&client).unwrap().kind(), PrincipalKind::Client);

        // Without the statement the same token reads as the client's: the ambiguity.
        let unstated = mint_stated(&key, &colliding, None).unwrap();
        assert!(payload(&unstated).get("idtyp").is_none());
        assert_eq!(verifier.verify(&unstated).unwrap().kind(), PrincipalKind::Client);
    }
}
