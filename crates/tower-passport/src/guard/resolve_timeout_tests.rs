//! The resolver's deadline on tokio's paused clock: every wait below is virtual time, so
//! each bound is exact and no test sleeps.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tokio::time::Instant;
use tower::{Layer, ServiceExt};

use crate::error::{AuthError, BackendError, ConfigErrorKind, Reason};
use crate::guard::{
    ClientStatus, GuardBuilder, GuardLayer, Principal, ResolvePrincipal, DEFAULT_RESOLVE_TIMEOUT,
};
use crate::{Algorithm, KeySet, VerifiedToken, Verifier, VerifyingKey};

const SECRET: &[u8] = b"a-shared-secret-of-at-least-32-bytes!!";
const TIMEOUT: Duration = Duration::from_secs(2);

fn token() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let claims = serde_json::json!({"iss": "https://auth.example.com", "aud": "api", "sub": "42",
        "client_id": "app", "exp": now + 600, "scope": "read"});
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(SECRET)).unwrap()
}

fn builder() -> GuardBuilder {
    let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, SECRET).unwrap());
    GuardLayer::builder(
        Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build().unwrap(),
    )
}

/// A resolver whose client check and user lookup each take their time (virtual), or fail.
#[derive(Clone, Copy)]
struct Users {
    client_takes: Duration,
    user_takes: Duration,
    fails: bool,
}

impl Users {
    const fn taking(client_takes: Duration, user_takes: Duration) -> Self {
        Self { client_takes, user_takes, fails: false }
    }
}

impl ResolvePrincipal for Users {
    type User = &'static str;

    async fn resolve_user(&self, _token: &VerifiedToken) -> Result<Option<&'static str>, BackendError> {
        tokio::time::sleep(self.user_takes).await;
        if self.fails {
            return Err(BackendError::msg("users table: connection refused"));
        }
        Ok(Some("Taylor"))
    }

    async fn client_status(&self, _client_id: &str) -> Result<ClientStatus, BackendError> {
        tokio::time::sleep(self.client_takes).await;
        Ok(ClientStatus::Active)
    }
}

/// What the guard answered, how long it took (virtual), and the user the handler saw.
struct Answered {
    status: StatusCode,
    took: Duration,
    error: Option<AuthError>,
    challenge: bool,
    body: String,
}

async fn ask(guard: GuardLayer<&'static str>) -> Answered {
    let handler = tower::service_fn(|request: Request<Full<Bytes>>| async move {
        let user = request.extensions().get::<Principal<&'static str>>().and_then(|p| p.user().copied());
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(user.unwrap_or("no user")))))
    });
    let request = Request::builder()
        .header(AUTHORIZATION, format!("Bearer {}", token()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let started = Instant::now();
    let response = guard.layer(handler).oneshot(request).await.unwrap();
    let took = started.elapsed();
    let (status, error) = (response.status(), response.extensions().get::<AuthError>().cloned());
    let challenge = response.headers().contains_key(WWW_AUTHENTICATE);
    let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Answered { status, took, error, challenge, body }
}

fn source(answered: &Answered) -> String {
    answered.error.as_ref().and_then(AuthError::backend_error).map(ToString::to_string).unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn a_slow_resolver_answers_503_without_a_challenge_at_the_timeout() {
    let slow = Users::taking(Duration::ZERO, Duration::from_secs(3600));
    let answered = ask(builder().resolver(slow).resolve_timeout(TIMEOUT).build().unwrap()).await;
    assert_eq!(answered.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answered.took, TIMEOUT, "exactly the timeout, not the resolver's hour");
    assert_eq!(answered.error.as_ref().map(AuthError::reason), Some(Reason::ResolverFailed));
    assert_eq!(source(&answered), "the resolver did not answer within 2s");
    assert!(!answered.challenge, "not the client's fault");
    assert!(
        answered.body.contains("The service cannot authenticate requests right now"),
        "{}",
        answered.body
    );
    assert!(!answered.body.contains("within"), "the cause stays in the logs: {}", answered.body);
}

#[tokio::test(start_paused = true)]
async fn the_default_timeout_is_five_seconds() {
    let slow = Users::taking(Duration::ZERO, Duration::from_secs(3600));
    let answered = ask(builder().resolver(slow).build().unwrap()).await;
    assert_eq!((answered.status, answered.took), (StatusCode::SERVICE_UNAVAILABLE, DEFAULT_RESOLVE_TIMEOUT));
    assert_eq!(DEFAULT_RESOLVE_TIMEOUT, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn one_deadline_covers_the_client_check_and_the_user_lookup_together() {
    // Each takes 1.5 s: within the timeout alone, past it together.
    let both = Users::taking(Duration::from_millis(1500), Duration::from_millis(1500));
    let answered = ask(builder().resolver(both).resolve_timeout(TIMEOUT).build().unwrap()).await;
    assert_eq!((answered.status, answered.took), (StatusCode::SERVICE_UNAVAILABLE, TIMEOUT));
    // A stalled client check alone.
    let client = Users::taking(Duration::from_secs(3600), Duration::ZERO);
    let answered = ask(builder().resolver(client).resolve_timeout(TIMEOUT).build().unwrap()).await;
    assert_eq!((answered.status, answered.took), (StatusCode::SERVICE_UNAVAILABLE, TIMEOUT));
}

#[tokio::test(start_paused = true)]
async fn a_failing_resolver_answers_503_at_once_with_its_error_as_the_source() {
    let failing = Users { fails: true, ..Users::taking(Duration::ZERO, Duration::ZERO) };
    let answered = ask(builder().resolver(failing).resolve_timeout(TIMEOUT).build().unwrap()).await;
    assert_eq!((answered.status, answered.took), (StatusCode::SERVICE_UNAVAILABLE, Duration::ZERO));
    assert_eq!(answered.error.as_ref().map(AuthError::reason), Some(Reason::ResolverFailed));
    assert_eq!(source(&answered), "users table: connection refused");
    assert!(!answered.challenge);
}

#[tokio::test(start_paused = true)]
async fn a_resolver_within_the_timeout_is_unaffected() {
    let fast = Users::taking(Duration::from_millis(500), Duration::from_millis(1400));
    let answered = ask(builder().resolver(fast).resolve_timeout(TIMEOUT).build().unwrap()).await;
    assert_eq!((answered.status, answered.took), (StatusCode::OK, Duration::from_millis(1900)));
    assert_eq!(answered.body, "Taylor");
    assert!(answered.error.is_none());
}

#[tokio::test(start_paused = true)]
async fn without_a_timeout_the_resolver_is_awaited_however_long_it_takes() {
    let slow = Users::taking(Duration::ZERO, Duration::from_secs(60));
    let answered = ask(builder().resolver(slow).no_resolve_timeout().build().unwrap()).await;
    assert_eq!(
        (answered.status, answered.took, answered.body.as_str()),
        (StatusCode::OK, Duration::from_secs(60), "Taylor")
    );
}

#[test]
fn a_zero_timeout_is_refused_at_build() {
    let error = builder().resolve_timeout(Duration::ZERO).build().unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::Limit);
    assert!(error.to_string().contains("resolve timeout"), "{error}");
}

/// A resolver whose answers are at hand: the guard never needs its futures.
#[derive(Clone, Copy)]
struct AtHand;

impl ResolvePrincipal for AtHand {
    type User = &'static str;

    async fn resolve_user(&self, _token: &VerifiedToken) -> Result<Option<&'static str>, BackendError> {
        unreachable!("answered by resolve_user_now")
    }

    fn resolve_user_now(&self, _token: &VerifiedToken) -> Option<Result<Option<&'static str>, BackendError>> {
        Some(Ok(Some("Taylor")))
    }

    fn client_status_now(&self, _client_id: &str) -> Option<Result<ClientStatus, BackendError>> {
        Some(Ok(ClientStatus::Active))
    }
}

#[test]
fn answers_at_hand_set_no_timer() {
    // A runtime without timers: creating one there panics, so passing proves none was.
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let at_hand = builder().resolver(AtHand).resolver_cache(0, Duration::ZERO).resolve_timeout(TIMEOUT);
    let answered = runtime.block_on(ask(at_hand.build().unwrap()));
    assert_eq!((answered.status, answered.body.as_str()), (StatusCode::OK, "Taylor"));
    // A resolver that must be waited for is timed, unless the deadline is off.
    let waited = |_: VerifiedToken| async { Ok::<_, BackendError>(Some("Taylor")) };
    let untimed = runtime.block_on(ask(builder().resolver(waited).no_resolve_timeout().build().unwrap()));
    assert_eq!((untimed.status, untimed.body.as_str()), (StatusCode::OK, "Taylor"));
    let timed = builder().resolver(waited).resolve_timeout(TIMEOUT).build().unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(ask(timed))));
    assert!(panicked.is_err(), "a waiting resolver is timed: tokio's timers are needed");
}
