use std::sync::Arc;

use crate::error::ResponseConfig;
use crate::token::VerifiedToken;

/// What the guard leaves in the request extensions for the layers and extractors behind it,
/// whatever the user type.
///
/// The verified token (or none, behind an optional guard that saw no token) and how to render
/// rejections.
///
/// Its absence means no guard ran: a server bug, answered 500.
#[derive(Clone)]
pub struct GuardContext {
    /// The verified token; `None` behind an optional guard that saw no token.
    pub token: Option<VerifiedToken>,
    /// How the layers behind the guard render their rejections.
    pub responses: Arc<ResponseConfig>,
    /// The user type `U` of the `Principal<U>` the guard put beside it
    /// (`std::any::type_name`), so that a handler asking for another can be told which.
    pub principal_type: &'static str,
}

impl GuardContext {
    /// The context of a guard whose principals are `Principal<U>`.
    pub fn new<U>(token: Option<VerifiedToken>, responses: Arc<ResponseConfig>) -> Self {
        Self { token, responses, principal_type: std::any::type_name::<U>() }
    }
}
