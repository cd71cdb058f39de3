//! Records to and from what the scripts store. Each record is a hash: `record` holds the
//! immutable fields as JSON (the private mirrors below, since the public records carry no
//! serde derives); the fields that change (`revoked_at`, `used_at`, `current`, ...) and copies
//! of those the scripts decide on (`expires_at`, `family_id`, ...) are hash fields of their
//! own, so that no script ever parses JSON.

use serde::{Deserialize, Serialize};

use super::error::Malformed;
use tower_passport_issuer::store::codes::KEPT_AFTER_EXPIRY;
use tower_passport_issuer::store::{
    AccessTokenRecord, AuthorizationCodeRecord, ClientRecord, ClientSecretHash, FamilyRecord, GrantType,
    IssuedFromCode, RefreshTokenRecord, RevokedAccess, SecretHash, StoreError,
};

/// An optional script argument: `""` for none, `"=value"` for a value.
pub(super) fn optional(value: Option<impl ToString>) -> String {
    value.map_or_else(String::new, |value| format!("={}", value.to_string()))
}

/// A flag argument.
pub(super) fn flag(value: bool) -> &'static str {
    if value {
        "1"
    } else {
        "0"
    }
}

fn to_json(what: &'static str, body: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(body).map_err(|error| Malformed::because(what, error))
}

fn from_json<T: for<'de> Deserialize<'de>>(what: &'static str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|error| Malformed::because(what, error))
}

fn number(what: &'static str, text: &str) -> Result<u64, StoreError> {
    text.parse().map_err(|error| Malformed::because(what, error))
}

fn optional_number(what: &'static str, text: Option<String>) -> Result<Option<u64>, StoreError> {
    text.map(|text| number(what, &text)).transpose()
}

fn digest(what: &'static str, hex: &str) -> Result<SecretHash, StoreError> {
    SecretHash::from_hex(hex).ok_or_else(|| Malformed::error(what))
}

const CLIENT: &str = "client record";
const ACCESS: &str = "access-token record";
const REFRESH: &str = "refresh-token record";
const FAMILY: &str = "family record";
const CODE: &str = "authorization code record";

#[derive(Serialize, Deserialize)]
struct ClientBody {
    id: String,
    name: String,
    secret_hash: Option<String>,
    grants: Vec<String>,
    allowed_scopes: Option<Vec<String>>,
    first_party: bool,
    created_at: u64,
    // Added with the authorization code grant: records written before it read as a
    // client with no redirect URI, no owner, and PKCE required.
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default = "pkce_required")]
    require_pkce: bool,
    // Added with user providers: records written before it read as the default provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    // Added with the opt-in to skip the approval screen: records written before it read as
    // a client that shows the screen.
    #[serde(default)]
    skips_authorization: bool,
    // Added with resource indicators (RFC 8707): records written before it read as a
    // client that may obtain every resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allowed_resources: Option<Vec<String>>,
}

fn pkce_required() -> bool {
    true
}

/// The `record` field of a client (whose `revoked` field is [`flag`]).
pub(super) fn client_json(client: &ClientRecord) -> Result<String, StoreError> {
    to_json(
        CLIENT,
        &ClientBody {
            id: client.id.clone(),
            name: client.name.clone(),
            secret_hash: client.secret_hash.as_ref().map(ClientSecretHash::to_stored),
            grants: client.grants.iter().map(|grant| grant.name().to_owned()).collect(),
            allowed_scopes: client.allowed_scopes.clone(),
            first_party: client.first_party,
            created_at: client.created_at,
            redirect_uris: client.redirect_uris.clone(),
            owner: client.owner.clone(),
            require_pkce: client.require_pkce,
            provider: client.provider.clone(),
            skips_authorization: client.skips_authorization,
            allowed_resources: client.allowed_resources.clone(),
        },
    )
}

/// A client from its `record` and `revoked` fields; `None` if there is none.
pub(super) fn client(
    record: Option<String>,
    revoked: Option<String>,
) -> Result<Option<ClientRecord>, StoreError> {
    let Some(record) = record else { return Ok(None) };
    let body: ClientBody = from_json(CLIENT, &record)?;
    let grants = body
        .grants
        .iter()
        .map(|name| GrantType::from_name(name).ok_or_else(|| Malformed::error(CLIENT)))
        .collect::<Result<_, _>>()?;
    Ok(Some(ClientRecord {
        id: body.id,
        name: body.name,
        secret_hash: body
            .secret_hash
            .map(|stored| ClientSecretHash::from_stored(&stored).ok_or_else(|| Malformed::error(CLIENT)))
            .transpose()?,
        grants,
        allowed_scopes: body.allowed_scopes,
        first_party: body.first_party,
        skips_authorization: body.skips_authorization,
        revoked: revoked.as_deref() == Some("1"),
        created_at: body.created_at,
        redirect_uris: body.redirect_uris,
        owner: body.owner,
        require_pkce: body.require_pkce,
        provider: body.provider,
        allowed_resources: body.allowed_resources,
    }))
}

#[derive(Serialize, Deserialize)]
struct AccessBody {
    jti: String,
    client_id: String,
    user_id: Option<String>,
    scopes: Vec<String>,
    family_id: Option<String>,
    name: Option<String>,
    personal: bool,
    issued_at: u64,
    expires_at: u64,
}

/// The script arguments for an access-token record (`access_args` in the prelude).
pub(super) fn access_args(record: &AccessTokenRecord) -> Result<Vec<String>, StoreError> {
    let body = to_json(
        ACCESS,
        &AccessBody {
            jti: record.jti.clone(),
            client_id: record.client_id.clone(),
            user_id: record.user_id.clone(),
            scopes: record.scopes.clone(),
            family_id: record.family_id.clone(),
            name: record.name.clone(),
            personal: record.personal,
            issued_at: record.issued_at,
            expires_at: record.expires_at,
        },
    )?;
    let personal_of = record.user_id.as_deref().filter(|_| record.personal);
    Ok(vec![
        record.jti.clone(),
        body,
        record.expires_at.to_string(),
        optional(record.family_id.as_deref()),
        optional(personal_of),
        optional(record.revoked_at),
        record.client_id.clone(),
        optional(record.user_id.as_deref()),
    ])
}

/// An access-token record from its `record` and `revoked_at` fields.
pub(super) fn access(
    record: Option<String>,
    revoked_at: Option<String>,
) -> Result<Option<AccessTokenRecord>, StoreError> {
    let Some(record) = record else { return Ok(None) };
    let body: AccessBody = from_json(ACCESS, &record)?;
    Ok(Some(AccessTokenRecord {
        jti: body.jti,
        client_id: body.client_id,
        user_id: body.user_id,
        scopes: body.scopes,
        family_id: body.family_id,
        name: body.name,
        personal: body.personal,
        issued_at: body.issued_at,
        expires_at: body.expires_at,
        revoked_at: optional_number(ACCESS, revoked_at)?,
    }))
}

#[derive(Serialize, Deserialize)]
struct RefreshBody {
    id: String,
    secret_hash: String,
    family_id: String,
    client_id: String,
    user_id: Option<String>,
    scopes: Vec<String>,
    access_jti: String,
    issued_at: u64,
    expires_at: u64,
    /// The DPoP key the token is bound to; absent in records written before DPoP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_jkt: Option<String>,
    // Added with resource indicators (RFC 8707): records written before it read as a
    // grant of whatever the client may obtain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    resources: Vec<String>,
}

/// The script arguments for a refresh-token record (`refresh_args` in the prelude).
pub(super) fn refresh_args(record: &RefreshTokenRecord) -> Result<Vec<String>, StoreError> {
    let secret_hash = record.secret_hash.to_hex();
    let body = to_json(
        REFRESH,
        &RefreshBody {
            id: record.id.clone(),
            secret_hash: secret_hash.clone(),
            family_id: record.family_id.clone(),
            client_id: record.client_id.clone(),
            user_id: record.user_id.clone(),
            scopes: record.scopes.clone(),
            access_jti: record.access_jti.clone(),
            issued_at: record.issued_at,
            expires_at: record.expires_at,
            dpop_jkt: record.dpop_jkt.clone(),
            resources: record.resources.clone(),
        },
    )?;
    Ok(vec![
        record.id.clone(),
        body,
        secret_hash,
        record.family_id.clone(),
        record.access_jti.clone(),
        record.expires_at.to_string(),
        optional(record.used_at),
        optional(record.revoked_at),
        optional(record.used_at_millis),
    ])
}

/// A refresh-token record from its `record`, `used_at`, `used_at_ms` and `revoked_at`
/// fields.
pub(super) fn refresh(
    [record, used_at, used_at_ms, revoked_at]: [Option<String>; 4],
) -> Result<Option<RefreshTokenRecord>, StoreError> {
    let Some(record) = record else { return Ok(None) };
    let body: RefreshBody = from_json(REFRESH, &record)?;
    Ok(Some(RefreshTokenRecord {
        id: body.id,
        secret_hash: digest(REFRESH, &body.secret_hash)?,
        family_id: body.family_id,
        client_id: body.client_id,
        user_id: body.user_id,
        scopes: body.scopes,
        access_jti: body.access_jti,
        issued_at: body.issued_at,
        expires_at: body.expires_at,
        used_at: optional_number(REFRESH, used_at)?,
        used_at_millis: optional_number(REFRESH, used_at_ms)?,
        revoked_at: optional_number(REFRESH, revoked_at)?,
        dpop_jkt: body.dpop_jkt,
        resources: body.resources,
    }))
}

#[derive(Serialize, Deserialize)]
struct FamilyBody {
    id: String,
    client_id: String,
    user_id: Option<String>,
    created_at: u64,
}

/// The script arguments for a family (`family_args` in the prelude).
pub(super) fn family_args(family: &FamilyRecord) -> Result<Vec<String>, StoreError> {
    let body = to_json(
        FAMILY,
        &FamilyBody {
            id: family.id.clone(),
            client_id: family.client_id.clone(),
            user_id: family.user_id.clone(),
            created_at: family.created_at,
        },
    )?;
    Ok(vec![
        family.id.clone(),
        body,
        family.current.clone(),
        optional(family.previous.as_deref()),
        optional(family.revoked_at),
        family.client_id.clone(),
        optional(family.user_id.as_deref()),
    ])
}

/// A family from its `record`, `current`, `previous` and `revoked_at` fields.
pub(super) fn family(
    record: Option<String>,
    current: Option<String>,
    previous: Option<String>,
    revoked_at: Option<String>,
) -> Result<Option<FamilyRecord>, StoreError> {
    let Some(record) = record else { return Ok(None) };
    let body: FamilyBody = from_json(FAMILY, &record)?;
    Ok(Some(FamilyRecord {
        id: body.id,
        client_id: body.client_id,
        user_id: body.user_id,
        created_at: body.created_at,
        revoked_at: optional_number(FAMILY, revoked_at)?,
        current: current.ok_or_else(|| Malformed::error(FAMILY))?,
        previous,
    }))
}

#[derive(Serialize, Deserialize)]
struct CodeBody {
    client_id: String,
    user_id: String,
    redirect_uri: Option<String>,
    scopes: Vec<String>,
    code_challenge: Option<String>,
    nonce: Option<String>,
    /// RFC 9449 §10; absent in records written before DPoP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_jkt: Option<String>,
    issued_at: u64,
    expires_at: u64,
    // Added with resource indicators (RFC 8707), as for refresh tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    resources: Vec<String>,
}

/// The arguments of `put_code.lua` for `code`, after the prefix.
pub(super) fn code_args(code: &AuthorizationCodeRecord) -> Result<Vec<String>, StoreError> {
    let body = to_json(
        CODE,
        &CodeBody {
            client_id: code.client_id.clone(),
            user_id: code.user_id.clone(),
            redirect_uri: code.redirect_uri.clone(),
            scopes: code.scopes.clone(),
            code_challenge: code.code_challenge.clone(),
            nonce: code.nonce.clone(),
            dpop_jkt: code.dpop_jkt.clone(),
            issued_at: code.issued_at,
            expires_at: code.expires_at,
            resources: code.resources.clone(),
        },
    )?;
    let issued = code.issued.as_ref();
    Ok(vec![
        code.hash.to_hex(),
        body,
        code.expires_at.to_string(),
        code.expires_at.saturating_add(KEPT_AFTER_EXPIRY).to_string(),
        KEPT_AFTER_EXPIRY.to_string(),
        optional(code.used_at),
        optional(code.reused_at),
        optional(issued.map(|issued| issued.access_jti.as_str())),
        optional(issued.and_then(|issued| issued.family_id.as_deref())),
    ])
}

/// A code of `hash` from its `record`, `used_at`, `reused_at`, `access_jti` and
/// `family_id` fields.
pub(super) fn code(
    hash: SecretHash,
    [record, used_at, reused_at, access_jti, family_id]: [Option<String>; 5],
) -> Result<AuthorizationCodeRecord, StoreError> {
    let body: CodeBody = from_json(CODE, &record.ok_or_else(|| Malformed::error(CODE))?)?;
    Ok(AuthorizationCodeRecord {
        hash,
        client_id: body.client_id,
        user_id: body.user_id,
        redirect_uri: body.redirect_uri,
        scopes: body.scopes,
        code_challenge: body.code_challenge,
        nonce: body.nonce,
        dpop_jkt: body.dpop_jkt,
        issued_at: body.issued_at,
        expires_at: body.expires_at,
        used_at: optional_number(CODE, used_at)?,
        reused_at: optional_number(CODE, reused_at)?,
        issued: access_jti.map(|access_jti| IssuedFromCode { access_jti, family_id }),
        resources: body.resources,
    })
}

/// The `{jti, expires_at, ...}` list the revoking scripts return.
pub(super) fn revoked(flat: &[String]) -> Result<Vec<RevokedAccess>, StoreError> {
    const WHAT: &str = "revocation reply";
    if flat.len() % 2 != 0 {
        return Err(Malformed::error(WHAT));
    }
    flat.chunks_exact(2)
        .map(|pair| Ok(RevokedAccess { jti: pair[0].clone(), expires_at: number(WHAT, &pair[1])? }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access_record() -> AccessTokenRecord {
        AccessTokenRecord {
            jti: "j".into(),
            client_id: "c".into(),
            user_id: Some("u".into()),
            scopes: vec![],
            family_id: None,
            name: Some("laptop".into()),
            personal: true,
            issued_at: 1,
            expires_at: u64::MAX,
            revoked_at: Some(7),
        }
    }

    #[test]
    fn an_access_record_round_trips_through_its_fields() -> Result<(), StoreError> {
        let record = access_record();
        let args = access_args(&record)?;
        assert_eq!(args[2], u64::MAX.to_string(), "numbers travel as exact decimal strings");
        assert_eq!(&args[3..6], ["", "=u", "=7"]);
        assert_eq!(&args[6..], ["c", "=u"], "client and user, for the user's index");
        let back = access(Some(args[1].clone()), Some("7".into()))?;
        assert_eq!(back, Some(record));
        Ok(())
    }

    #[test]
    fn a_client_written_before_redirect_uris_existed_still_decodes() -> Result<(), StoreError> {
        let old = r#"{"id":"c","name":"n","secret_hash":null,"grants":["refresh_token"],"allowed_scopes":null,"first_party":false,"created_at":3}"#;
        let client = client(Some(old.into()), Some("0".into()))?.ok_or_else(|| Malformed::error(CLIENT))?;
        assert!(client.redirect_uris.is_empty());
        assert_eq!(client.owner, None);
        assert!(client.require_pkce, "PKCE stays required for records that predate the setting");
        assert!(!client.skips_authorization, "the screen stays on for records that predate the setting");
        Ok(())
    }

    #[test]
    fn a_code_round_trips_through_its_fields_and_its_key_outlives_it_by_a_day() -> Result<(), StoreError> {
        let code = AuthorizationCodeRecord {
            hash: SecretHash::of(b"the code"),
            client_id: "c".into(),
            user_id: "u".into(),
            redirect_uri: None,
            scopes: vec!["read".into()],
            code_challenge: Some("challenge".into()),
            nonce: None,
            dpop_jkt: None,
            issued_at: 100,
            expires_at: 700,
            used_at: Some(150),
            reused_at: None,
            issued: Some(IssuedFromCode { access_jti: "j".into(), family_id: None }),
            resources: Vec::new(),
        };
        let args = code_args(&code)?;
        assert_eq!(args[0], code.hash.to_hex(), "the key is the hash");
        assert!(!args.iter().any(|arg| arg.contains("the code")), "the code itself is never sent");
        assert_eq!(&args[2..], ["700", "87100", "86400", "=150", "", "=j", ""]);
        let fields = [Some(args[1].clone()), Some("150".into()), None, Some("j".into()), None];
        assert_eq!(super::code(code.hash, fields)?, code);
        Ok(())
    }

    #[test]
    fn optional_arguments_tell_none_from_empty() {
        assert_eq!(optional(None::<&str>), "");
        assert_eq!(optional(Some("")), "=");
        assert_eq!(optional(Some(5u64)), "=5");
    }

    #[test]
    fn a_malformed_record_is_an_error_not_a_panic() {
        assert!(access(Some("{".into()), None).is_err());
        assert!(client(Some(r#"{"id":"c","name":"n","secret_hash":null,"grants":["nope"],"allowed_scopes":null,"first_party":false,"created_at":0}"#.into()), None).is_err());
        assert!(revoked(&["j".into()]).is_err());
        assert!(revoked(&["j".into(), "soon".into()]).is_err());
    }
}
