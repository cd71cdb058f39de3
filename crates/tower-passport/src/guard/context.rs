use std::sync::Arc;

use crate::error::ResponseConfig;
use crate::token::VerifiedToken;

/// What the guard leaves in the request extensions for the layers and extractors behind
/// it, whatever the user type: the verified token (or none, behind an optional guard
/// that saw no token) and how to render rejections.
///
/// Its absence means no guard ran: a server bug, answered 500.
#[derive(Clone)]
pub struct GuardContext {
    /// The verified token; `None` behind an optional guard that saw no token.
    pub token: Option<VerifiedToken>,
    /// How the layers behind the guard render their rejections.
    pub responses: Arc<ResponseConfig>,
}
