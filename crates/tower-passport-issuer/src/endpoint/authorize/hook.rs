//! The signed-in-user hook: the crate does not own the app's login, so the app says who
//! is signed in on a request (from its session or cookie), or where to sign in.

use std::future::Future;
use std::pin::Pin;

use http::request::Parts;

use crate::store::SecretHash;
use tower_passport::error::BackendError;

/// What the [`SignedInUser`] hook answers.
///
/// ```
/// use tower_passport_issuer::endpoint::SignIn;
/// let signed_in = SignIn::user_in_session("7", "a value that changes on every sign-in");
/// let not_yet = SignIn::Redirect("/login?next=%2Foauth%2Fauthorize%3F...".into());
/// assert_ne!(signed_in, not_yet);
/// assert_eq!(signed_in.user_id(), Some("7"));
/// assert!(!format!("{signed_in:?}").contains("changes"), "the session is never shown");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignIn {
    /// This user is signed in; their id becomes the tokens' `sub`. The approval form is
    /// then bound to the user and the request only: prefer
    /// [`UserInSession`](Self::UserInSession).
    User(String),
    /// This user is signed in, in this session: the approval form's CSRF token is bound to
    /// the session too, so a form rendered in one session approves in no other (not even
    /// the same user's, after signing out and in again). Made by
    /// [`SignIn::user_in_session`].
    UserInSession {
        /// The user's id, which becomes the tokens' `sub`.
        user_id: String,
        /// A hash of the session's identifier (never the identifier itself).
        session: SecretHash,
    },
    /// Nobody is signed in (or the user must sign in again): send the browser to this URL,
    /// your sign-in page, which should come back to [`SignInRequest::return_to`] after.
    Redirect(String),
}

impl SignIn {
    /// `user_id` is signed in, in the session `session` identifies: an opaque value of the
    /// app's that changes whenever someone signs in (best a random value stored in the
    /// session at sign-in; the session id will do if the app renews it at sign-in). Only
    /// its SHA-256 hash is kept.
    pub fn user_in_session(user_id: impl Into<String>, session: impl AsRef<[u8]>) -> Self {
        Self::UserInSession { user_id: user_id.into(), session: SecretHash::of(session.as_ref()) }
    }

    /// The signed-in user's id; `None` for [`SignIn::Redirect`].
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::User(user_id) | Self::UserInSession { user_id, .. } => Some(user_id),
            Self::Redirect(_) => None,
        }
    }

    /// The user's id and the session's hash, if someone is signed in (with a non-empty id).
    pub(crate) fn into_signed_in(self) -> Option<(String, Option<SecretHash>)> {
        let (user_id, session) = match self {
            Self::User(user_id) => (user_id, None),
            Self::UserInSession { user_id, session } => (user_id, Some(session)),
            Self::Redirect(_) => return None,
        };
        (!user_id.is_empty()).then_some((user_id, session))
    }
}

/// What the hook is asked about: the browser's request, and where the sign-in page should
/// send the browser back to. The [`SignedInUser`] example reads one.
///
/// ```
/// use tower_passport_issuer::endpoint::{SignIn, SignInRequest};
/// fn where_to_sign_in(request: &SignInRequest<'_>) -> SignIn {
///     // Your sign-in page checks that `next` is one of your URLs before it follows it.
///     SignIn::Redirect(format!("/login?next={}", request.return_to_encoded()))
/// }
/// ```
#[derive(Debug)]
pub struct SignInRequest<'a> {
    parts: &'a Parts,
    return_to: &'a str,
    reauthenticate: bool,
    provider: Option<&'a str>,
}

impl<'a> SignInRequest<'a> {
    pub(crate) fn new(parts: &'a Parts, return_to: &'a str, reauthenticate: bool) -> Self {
        Self { parts, return_to, reauthenticate, provider: None }
    }

    /// The same request, for a client whose users come from `provider`.
    pub(crate) fn for_provider(self, provider: Option<&'a str>) -> Self {
        Self { provider, ..self }
    }

    /// The user provider of the client asking for authorization
    /// ([`ClientRegistration::provider`](crate::ClientRegistration::provider)), such
    /// as `"customers"`; `None` for the default provider (`"users"`), and for the JSON APIs,
    /// which serve the default provider's users. Answer with a user of that provider (sign
    /// the browser in to that provider's session), since the user id you answer becomes the
    /// `sub` of tokens that name this provider.
    ///
    /// ```
    /// use tower_passport_issuer::endpoint::{SignIn, SignInRequest};
    /// fn who(request: &SignInRequest<'_>) -> SignIn {
    ///     match request.provider() {
    ///         Some("customers") => SignIn::Redirect("/customers/login".into()),
    ///         _ => SignIn::Redirect("/login".into()),
    ///     }
    /// }
    /// ```
    pub fn provider(&self) -> Option<&'a str> {
        self.provider
    }

    /// The request's method, URI, headers (cookies) and extensions (where a session layer
    /// such as tower-sessions leaves the session).
    pub fn parts(&self) -> &'a Parts {
        self.parts
    }

    /// The absolute URL of this authorization request, to come back to after signing in
    /// (percent-encode it when you put it in a query).
    pub fn return_to(&self) -> &'a str {
        self.return_to
    }

    /// Whether the client asked for `prompt=login`: the user should sign in again even if
    /// signed in, so answer [`SignIn::Redirect`]. [`return_to`](Self::return_to) then no
    /// longer asks for it, so the trip back does not loop.
    pub fn reauthenticate(&self) -> bool {
        self.reauthenticate
    }

    /// `return_to`, percent-encoded for a query: `format!("/login?next={}", request.return_to_encoded())`.
    pub fn return_to_encoded(&self) -> String {
        form_urlencoded::byte_serialize(self.return_to.as_bytes()).collect()
    }
}

/// Who is signed in on a request, or where to sign in: the app's side of the
/// authorization endpoint (Passport relies on Laravel's `auth` middleware for it).
///
/// Implemented for closures `Fn(&SignInRequest<'_>) -> impl Future<Output = Result<SignIn, BackendError>>`
/// whose future does not borrow the request (copy out what you need first):
///
/// ```
/// use tower_passport_issuer::endpoint::{SignIn, SignInRequest, SignedInUser};
/// use tower_passport::BackendError;
///
/// // A demo hook: the user id is in a cookie `demo_user` (use a real session layer).
/// let hook = |request: &SignInRequest<'_>| {
///     let cookie = |name: &str| request.parts().headers.get_all(http::header::COOKIE).iter()
///         .filter_map(|value| value.to_str().ok())
///         .flat_map(|cookies| cookies.split(';'))
///         .find_map(|cookie| cookie.trim().strip_prefix(name)?.strip_prefix('=').map(str::to_owned));
///     // And a random value the sign-in page set, new on every sign-in.
///     let (user, session) = (cookie("demo_user"), cookie("demo_sign_in"));
///     let sign_in = format!("/login?next={}", request.return_to_encoded());
///     let reauthenticate = request.reauthenticate();
///     async move {
///         Ok::<_, BackendError>(match (user, session) {
///             (Some(user), Some(session)) if !reauthenticate => SignIn::user_in_session(user, session),
///             _ => SignIn::Redirect(sign_in),
///         })
///     }
/// };
/// # fn is_hook<H: SignedInUser>(_: &H) {}
/// # is_hook(&hook);
/// ```
pub trait SignedInUser: Send + Sync + 'static {
    /// Who is signed in on `request`, or where to send the browser to sign in.
    fn signed_in_user(
        &self,
        request: &SignInRequest<'_>,
    ) -> impl Future<Output = Result<SignIn, BackendError>> + Send;
}

impl<F, Fut> SignedInUser for F
where
    F: Fn(&SignInRequest<'_>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<SignIn, BackendError>> + Send + 'static,
{
    fn signed_in_user(
        &self,
        request: &SignInRequest<'_>,
    ) -> impl Future<Output = Result<SignIn, BackendError>> + Send {
        self(request)
    }
}

type BoxedAnswer<'a> = Pin<Box<dyn Future<Output = Result<SignIn, BackendError>> + Send + 'a>>;

/// [`SignedInUser`] as an object, so the issuer does not carry the hook's type.
pub(crate) trait ErasedHook: Send + Sync + 'static {
    fn ask<'a>(&'a self, request: &'a SignInRequest<'a>) -> BoxedAnswer<'a>;
}

impl<H: SignedInUser> ErasedHook for H {
    fn ask<'a>(&'a self, request: &'a SignInRequest<'a>) -> BoxedAnswer<'a> {
        Box::pin(self.signed_in_user(request))
    }
}
