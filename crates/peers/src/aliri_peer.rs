//! aliri_tower 0.6's `jwt_layer`: an aliri_oauth2 `Authority` over a one-key JWKS (aliri
//! 0.6: ring for RS256 and HS256, OpenSSL for ES256), checking `iss`, `aud` and `exp`, the
//! claims decoded into aliri_oauth2's `BasicClaimsWithScope`, with the terse error handler.
//! It wraps [`benches::fixture::Inner`] itself.

use aliri::jwt::{Audience, CoreValidator, Issuer};
use aliri::{jwa, Jwks};
use aliri_oauth2::scope::BasicClaimsWithScope;
use aliri_oauth2::Authority;
use aliri_tower::Oauth2Authorizer;
use benches::support::{self, TestKey};
use http::{Request, Response};
use serde_json::json;
use tower_layer::Layer;
use tower_passport::Algorithm;
use tower_service::Service;

/// aliri's authority for `key`'s tokens of `support::ISSUER` for `support::AUDIENCE`.
pub fn authority(key: &TestKey) -> Result<Authority, String> {
    let alg = match key.alg {
        Algorithm::RS256 => jwa::Algorithm::RS256,
        Algorithm::ES256 => jwa::Algorithm::ES256,
        Algorithm::HS256 => jwa::Algorithm::HS256,
        other => return Err(format!("aliri peer: {} is not measured", other.name())),
    };
    // From text, as a JWKS endpoint serves it (aliri's base64 fields borrow from the input).
    let jwks: Jwks = serde_json::from_str(&json!({ "keys": [key.jwk.clone()] }).to_string())
        .map_err(|error| error.to_string())?;
    if jwks.keys().is_empty() {
        return Err(format!("aliri peer: aliri ignored the {} JWK", key.alg.name()));
    }
    let validator = CoreValidator::default()
        .add_approved_algorithm(alg)
        .add_allowed_audience(Audience::from_static(support::AUDIENCE))
        .require_issuer(Issuer::from_static(support::ISSUER));
    Ok(Authority::new(jwks, validator))
}

/// aliri_tower's JWT layer around `inner`, whose response body is also the body of
/// aliri's rejections. (The future is `Send` when `inner`'s is: the load server needs it,
/// and an opaque return type would hide it.)
pub fn wrap<S, ReqBody, ResBody>(
    key: &TestKey,
    inner: S,
) -> Result<
    impl Service<Request<ReqBody>, Response = Response<ResBody>, Error = S::Error, Future: Send> + Clone,
    String,
>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>, Future: Send> + Clone,
    ResBody: http_body::Body + Default + Send,
{
    let authorizer =
        Oauth2Authorizer::new().with_claims::<BasicClaimsWithScope>().with_terse_error_handler::<ResBody>();
    Ok(authorizer.jwt_layer::<ReqBody>(authority(key)?).layer(inner))
}
