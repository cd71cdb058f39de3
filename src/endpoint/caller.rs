//! Who calls a token-management API (personal access tokens, authorized tokens): the user
//! principal the guard left in the request, from a client allowed to manage tokens. One
//! check, so that the two APIs refuse the same callers the same way.

use std::sync::Arc;

use http::Extensions;
use http_body_util::Full;

use super::response::{self, EndpointResponse};
use crate::error::{AuthError, Reason, ResponseConfig};
use crate::guard::GuardContext;
use crate::issuer::Issuer;
use crate::store::Store;
use crate::token::{PrincipalKind, VerifiedToken};

/// A user token that may manage its user's tokens.
pub(super) struct UserCaller {
    /// The verified token the request came with.
    pub(super) token: VerifiedToken,
    /// Its user.
    pub(super) user_id: String,
}

/// The caller, or the answer that refuses it: 500 without a guard, 401 without a token,
/// 403 `insufficient_scope` for a client token or (unless
/// `IssuerBuilder::token_management_first_party_only` is off) a third-party client's
/// token, 503 when the client registry cannot answer.
pub(super) async fn user_caller<S: Store>(
    issuer: &Issuer<S>,
    extensions: &Extensions,
) -> Result<UserCaller, EndpointResponse> {
    let (token, responses) = match extensions.get::<GuardContext>().cloned() {
        None => return Err(reject(AuthError::missing_guard(), &Arc::new(ResponseConfig::default()))),
        Some(GuardContext { token: None, responses }) => {
            return Err(reject(AuthError::missing_token(), &responses))
        }
        Some(GuardContext { token: Some(token), responses }) => (token, responses),
    };
    let user_id = match (token.kind(), token.subject()) {
        (PrincipalKind::User, Some(user_id)) => user_id.to_owned(),
        _ => return Err(reject(AuthError::wrong_principal_kind(Reason::UserTokenRequired), &responses)),
    };
    match issuer.may_manage_tokens(token.client_id()).await {
        Ok(true) => Ok(UserCaller { token, user_id }),
        Ok(false) => {
            Err(reject(AuthError::wrong_principal_kind(Reason::FirstPartyClientRequired), &responses))
        }
        Err(error) => Err(response::error(&error)),
    }
}

/// The one rejection path: traced, rendered, and the error put in the extensions.
fn reject(error: AuthError, responses: &ResponseConfig) -> EndpointResponse {
    responses.reject(error, Full::new)
}
