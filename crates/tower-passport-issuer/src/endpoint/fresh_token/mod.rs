//! The web-route half of first-party cookie authentication: Passport's
//! `CreateFreshApiToken` middleware as a tower layer.

mod decide;
mod not_before;
mod private;

pub use private::private_if_setting_cookies;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::SET_COOKIE;
use http::{HeaderValue, Method, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::authorize::{ErasedHook, SignInRequest, SignedInUser};
use decide::{Plan, Presented};
use not_before::UserNotBefore;
use tower_passport::cookie::{
    unambiguous_cookie, CookieClaims, CsrfToken, FirstPartyCookie, XSRF_COOKIE_NAME,
};
use tower_passport::error::ConfigError;
use tower_passport::revocation::RevocationCheck;
use tower_passport::token::DEFAULT_PROVIDER;

/// Attaches the first-party cookie to the app's web pages (Passport's `CreateFreshApiToken`).
///
/// On every `GET` or `HEAD` response to a signed-in user, as the [`SignedInUser`] hook tells
/// (the same hook as the authorization screen's), it makes sure the browser holds a sealed
/// cookie for that user (`laravel_token`; `HttpOnly`, `SameSite=Lax`, `Secure`, living as long
/// as the session) and the `XSRF-TOKEN` cookie bound to it.
///
/// A guard built with
/// [`first_party_cookie`](tower_passport::guard::GuardBuilder::first_party_cookie) accepts the
/// cookie, so the page's JavaScript calls the API with no token handling:
///
/// ```js
/// const xsrf = document.cookie.split('; ').find(c => c.startsWith('XSRF-TOKEN='))?.slice(11);
/// await fetch('/api/posts', { method: 'POST', headers: { 'X-XSRF-TOKEN': xsrf } });
/// ```
///
/// A cookie is kept while more than half its lifetime is left, then replaced (with the same
/// CSRF token, so requests in flight keep working). Another user's cookie is replaced, and
/// a signed-out browser's cookies are removed. The page's [`CsrfToken`] is in the request
/// extensions for templates (`<meta name="csrf-token">`). Other methods pass untouched. A
/// response that sets or clears cookies is made private
/// ([`private_if_setting_cookies`]: `Cache-Control: private`, never `public` or
/// `s-maxage`, and `Vary: Cookie`), so no shared cache hands a user's cookie to another. A
/// failing hook is logged, and the page is served without cookie changes.
///
/// ```
/// use axum::{routing::get, Router};
/// use tower_passport::cookie::FirstPartyCookie;
/// use tower_passport_issuer::endpoint::{FreshApiTokenLayer, SignIn, SignInRequest};
/// use tower_passport::BackendError;
///
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// // Your session tells who is signed in (here: nobody).
/// let hook = |_: &SignInRequest<'_>| async { Ok::<_, BackendError>(SignIn::Redirect("/login".into())) };
/// let cookie = FirstPartyCookie::new(b"a secret of at least thirty-two bytes!")?;
/// let web: Router = Router::new()
///     .route("/dashboard", get(|| async { "the SPA" }))
///     .layer(FreshApiTokenLayer::new(cookie, hook)?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct FreshApiTokenLayer {
    shared: Arc<Shared>,
}

#[derive(Clone)]
struct Shared {
    cookie: FirstPartyCookie,
    hook: Arc<dyn ErasedHook>,
    /// Where sign-outs are known: a cookie sealed before its user's is replaced.
    revocation: Option<Arc<dyn UserNotBefore>>,
}

impl fmt::Debug for FreshApiTokenLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FreshApiTokenLayer").field("cookie", &self.shared.cookie).finish_non_exhaustive()
    }
}

impl FreshApiTokenLayer {
    /// Cookies configured by `cookie`, for the users `hook` says are signed in.
    ///
    /// # Errors
    /// When the cookie's name, path or domain cannot be a `Set-Cookie` attribute, or its
    /// lifetime is under a minute.
    pub fn new(cookie: FirstPartyCookie, hook: impl SignedInUser) -> Result<Self, ConfigError> {
        cookie.validate()?;
        Ok(Self { shared: Arc::new(Shared { cookie, hook: Arc::new(hook), revocation: None }) })
    }

    /// Replaces a cookie the guard would refuse because its user signed out since it was
    /// sealed ([`RevocationCheck::user_not_before`]; give the guard's check, such as the
    /// issuer's `revocation_list()`). Without it, a browser whose session outlived a
    /// sign-out elsewhere (the user's phone, after signing out on a laptop) keeps its
    /// refused cookie until the cookie is due for renewal. When the check fails, the page
    /// keeps its cookies (and the guard, which fails closed, answers 503).
    pub fn revocation(mut self, check: impl RevocationCheck) -> Self {
        Arc::make_mut(&mut self.shared).revocation = Some(Arc::new(check));
        self
    }
}

impl<S> Layer<S> for FreshApiTokenLayer {
    type Service = FreshApiToken<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FreshApiToken { inner, shared: self.shared.clone() }
    }
}

/// The service of a [`FreshApiTokenLayer`].
#[derive(Clone)]
pub struct FreshApiToken<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: fmt::Debug> fmt::Debug for FreshApiToken<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FreshApiToken").field("inner", &self.inner).finish_non_exhaustive()
    }
}

/// The response future of [`FreshApiToken`]: the hook's answer, then the page.
pub type FreshApiTokenFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for FreshApiToken<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = FreshApiTokenFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // Keep the service that was polled ready; leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return Box::pin(inner.call(request));
        }
        let shared = self.shared.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let plan = shared.plan(&parts).await;
            if let Some(Plan::Keep(csrf) | Plan::Attach { csrf, .. }) = &plan {
                parts.extensions.insert(csrf.clone());
            }
            let mut response = inner.call(Request::from_parts(parts, body)).await?;
            if let Some(plan) = plan {
                shared.apply(plan, &mut response);
            }
            Ok(response)
        })
    }
}

impl Shared {
    /// Who is signed in, what the browser holds, and so what to do.
    async fn plan(&self, parts: &http::request::Parts) -> Option<Plan> {
        let return_to = parts.uri.path_and_query().map_or("/", |path| path.as_str());
        let request = SignInRequest::new(parts, return_to, false);
        let user = match self.hook.ask(&request).await {
            Ok(sign_in) => sign_in.user_id().map(str::to_owned),
            Err(error) => {
                tracing::warn!(%error, "the signed-in-user hook failed; the page keeps its cookies");
                return None;
            }
        };
        let token = unambiguous_cookie(&parts.headers, self.cookie.cookie_name());
        let mut claims = token.and_then(|value| CookieClaims::open(&self.cookie, value).ok());
        if let (Some(revocation), Some(sealed)) = (&self.revocation, &claims) {
            let provider = sealed.prv.as_deref().unwrap_or(DEFAULT_PROVIDER);
            match revocation.user_not_before(provider, &sealed.sub).await {
                // Signed out since it was sealed: the guard refuses it, so replace it.
                Ok(Some(not_before)) if sealed.iat_ms <= not_before => claims = None,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not tell whether the cookie's user signed out"),
            }
        }
        let presented = Presented {
            claims,
            token_cookie_sent: token.is_some(),
            xsrf: unambiguous_cookie(&parts.headers, XSRF_COOKIE_NAME),
        };
        let plan = decide::plan(&self.cookie, user.as_deref(), presented, CsrfToken::generate);
        if plan.is_none() {
            tracing::warn!("no randomness for a CSRF token; the page gets no first-party cookie");
        }
        plan
    }

    fn apply<B>(&self, plan: Plan, response: &mut Response<B>) {
        let cookies = match plan {
            Plan::Keep(_) | Plan::Nothing => return,
            Plan::Attach { claims, csrf } => {
                vec![self.cookie.token_cookie(&claims.seal(&self.cookie).0), self.cookie.xsrf_cookie(&csrf)]
            }
            Plan::Clear => self.cookie.expired_cookies().to_vec(),
        };
        let headers = response.headers_mut();
        for cookie in cookies {
            // Names, paths and domains were validated, values are base64url.
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.append(SET_COOKIE, value);
            }
        }
        private_if_setting_cookies(headers);
    }
}
