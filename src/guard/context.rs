use std::sync::Arc;

use crate::error::ResponseConfig;
use crate::token::VerifiedToken;

/// What the guard leaves in the request extensions for the layers and extractors behind
/// it, whatever the user type: the verified token (or none, behind an optional guard
/// that saw no token) and how to render rejections.
///
/// Its absence means no guard ran: a server bug, answered 500.
#[derive(Clone)]
pub(crate) struct GuardContext {
    pub(crate) token: Option<VerifiedToken>,
    pub(crate) responses: Arc<ResponseConfig>,
    /// The user type `U` of the `Principal<U>` the guard put beside it
    /// (`std::any::type_name`), so that a handler asking for another can be told which.
    pub(crate) principal_type: &'static str,
}

impl GuardContext {
    /// The context of a guard whose principals are `Principal<U>`.
    pub(crate) fn new<U>(token: Option<VerifiedToken>, responses: Arc<ResponseConfig>) -> Self {
        Self { token, responses, principal_type: std::any::type_name::<U>() }
    }
}
