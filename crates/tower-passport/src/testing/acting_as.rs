//! `acting_as` and `acting_as_client`: a principal put into requests as the guard would.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::ResponseConfig;
use crate::guard::Principal;
use crate::token::{Credential, PrincipalKind, Scopes, Synthetic, VerifiedToken};

/// The issuer the helpers' tokens name, unless [`ActingAs::issuer`] says otherwise.
const TEST_ISSUER: &str = "https://tower-passport.test";

/// A principal for tests, put into requests by [`request`](Self::request) or, as a
/// layer, into every request. Made by [`acting_as`] and [`acting_as_client`].
#[must_use]
pub struct ActingAs<U> {
    principal: Principal<U>,
    responses: Arc<ResponseConfig>,
}

impl<U: Clone> Clone for ActingAs<U> {
    fn clone(&self) -> Self {
        Self { principal: self.principal.clone(), responses: self.responses.clone() }
    }
}

impl<U> fmt::Debug for ActingAs<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActingAs")
            .field("subject", &self.principal.subject())
            .field("client_id", &self.principal.client_id())
            .field("scopes", &self.principal.scopes().to_string())
            .finish_non_exhaustive()
    }
}

/// Acts as `user`, holding `scopes` (Passport's `Passport::actingAs($user, [...])`). The
/// token's subject is `test-user` unless [`ActingAs::subject`] sets it; `*` grants every
/// scope.
///
/// ```
/// use tower_passport::testing::acting_as;
/// let acting = acting_as("taylor", ["read-posts"]).subject("1");
/// assert_eq!(acting.principal().subject(), Some("1"));
/// assert_eq!(acting.principal().user(), Some(&"taylor"));
/// assert!(acting.principal().can("read-posts") && !acting.principal().can("admin"));
/// ```
pub fn acting_as<U>(user: U, scopes: impl IntoIterator<Item = impl Into<String>>) -> ActingAs<U>
where
    U: Clone + Send + Sync + 'static,
{
    ActingAs::build(Some(user), Some("test-user"), "test-client", scopes, PrincipalKind::User)
}

/// Acts as the client `client_id` on its own behalf, holding `scopes` (Passport's
/// `Passport::actingAsClient($client, [...])`): a client principal, with no user.
///
/// `U` is the user type of the handlers under test (`()` for `Principal`).
///
/// ```
/// use tower_passport::testing::acting_as_client;
/// let acting = acting_as_client::<()>("billing", ["check-status"]);
/// assert!(acting.principal().is_client());
/// assert_eq!(acting.principal().client_id(), Some("billing"));
/// assert!(acting.principal().user().is_none());
/// ```
pub fn acting_as_client<U>(
    client_id: &str,
    scopes: impl IntoIterator<Item = impl Into<String>>,
) -> ActingAs<U>
where
    U: Clone + Send + Sync + 'static,
{
    ActingAs::build(None, Some(client_id), client_id, scopes, PrincipalKind::Client)
}

impl<U: Clone + Send + Sync + 'static> ActingAs<U> {
    fn build<I>(
        user: Option<U>,
        subject: Option<&str>,
        client_id: &str,
        scopes: I,
        kind: PrincipalKind,
    ) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        let token = VerifiedToken::synthetic(Synthetic {
            issuer: TEST_ISSUER,
            subject,
            client_id: Some(client_id),
            scopes: Scopes::from_parts(scopes, false),
            kind,
            expires_at: u64::MAX,
            issued_at_ms: None,
            provider: None,
            credential: Credential::Bearer,
        });
        // As a guard does: the layers behind find `Principal<U>` without knowing `U`.
        crate::guard::context::register::<U>();
        Self { principal: Principal::new(token, user), responses: Arc::new(ResponseConfig::default()) }
    }

    fn with_token(mut self, issuer: &str, subject: Option<&str>, client_id: Option<&str>) -> Self {
        let token = self.principal.token();
        let scopes = Scopes::from_parts(token.scopes().iter().collect::<Vec<_>>(), false);
        let token = VerifiedToken::synthetic(Synthetic {
            issuer,
            subject,
            client_id,
            scopes,
            kind: token.kind(),
            expires_at: u64::MAX,
            issued_at_ms: None,
            provider: None,
            credential: Credential::Bearer,
        });
        self.principal = Principal::new(token, self.principal.user().cloned());
        self
    }

    /// Sets the token's subject (`sub`), the user's id.
    pub fn subject(self, subject: &str) -> Self {
        let (issuer, client) =
            (self.principal.issuer().to_owned(), self.principal.client_id().map(str::to_owned));
        self.with_token(&issuer, Some(subject), client.as_deref())
    }

    /// Sets the token's issuer (`iss`).
    pub fn issuer(self, issuer: &str) -> Self {
        let (subject, client) =
            (self.principal.subject().map(str::to_owned), self.principal.client_id().map(str::to_owned));
        self.with_token(issuer, subject.as_deref(), client.as_deref())
    }

    /// The principal handlers will see.
    pub fn principal(&self) -> &Principal<U> {
        &self.principal
    }

    /// Puts the principal into `request`, as the guard would.
    pub fn apply<B>(&self, request: &mut Request<B>) {
        let principal = self.principal.clone().admitted_under(&self.responses);
        crate::guard::context::hand_over(request.extensions_mut(), principal);
    }

    /// `request` with the principal in it.
    pub fn request<B>(&self, mut request: Request<B>) -> Request<B> {
        self.apply(&mut request);
        request
    }
}

impl<S, U: Clone + Send + Sync + 'static> Layer<S> for ActingAs<U> {
    type Service = ActingAsService<S, U>;

    fn layer(&self, inner: S) -> Self::Service {
        ActingAsService { inner, acting: self.clone() }
    }
}

/// The service [`ActingAs`] makes as a layer: every request gets the principal.
///
/// ```
/// use std::convert::Infallible;
/// use tower::{ServiceBuilder, ServiceExt};
/// use tower_passport::testing::acting_as_client;
/// use tower_passport::{Principal, RequireLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handler = |request: http::Request<String>| async move {
///     let principal = request.extensions().get::<Principal>().cloned();
///     assert_eq!(principal.and_then(|p| p.client_id().map(str::to_owned)).as_deref(), Some("billing"));
///     Ok::<_, Infallible>(http::Response::new(String::new()))
/// };
/// let machine = ServiceBuilder::new()
///     .layer(acting_as_client::<()>("billing", ["check-status"]))
///     .layer(RequireLayer::client_only())
///     .service_fn(handler);
/// assert_eq!(machine.oneshot(http::Request::new(String::new())).await.unwrap().status(), 200);
///
/// // A user on the client-only route: 403, exactly as behind the real guard.
/// let person = ServiceBuilder::new()
///     .layer(tower_passport::testing::acting_as((), ["check-status"]))
///     .layer(RequireLayer::client_only())
///     .service_fn(handler);
/// assert_eq!(person.oneshot(http::Request::new(String::new())).await.unwrap().status(), 403);
/// # }
/// ```
pub struct ActingAsService<S, U> {
    inner: S,
    acting: ActingAs<U>,
}

impl<S: Clone, U: Clone> Clone for ActingAsService<S, U> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), acting: self.acting.clone() }
    }
}

impl<S, U> fmt::Debug for ActingAsService<S, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActingAsService").field("acting", &self.acting).finish_non_exhaustive()
    }
}

impl<S, U> ActingAsService<S, U> {
    inner_service_accessors!();
}

impl<S, U, B> Service<Request<B>> for ActingAsService<S, U>
where
    S: Service<Request<B>>,
    U: Clone + Send + Sync + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        self.inner.call(self.acting.request(request))
    }
}
