//! The traffic mix: each scenario is a short sequence of requests a real client makes, and
//! checks what the answers must say beyond their status (a code in the redirect, exactly
//! one winner of a refresh race, a revoked token refused by the very next guard request).
//! The pools it draws from (warm tokens, refresh families, revoked tokens, sign-in
//! sessions) are bounded, so the client's memory stays flat too.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::demo::config::QuickstartConfig;
use crate::demo::quickstart::{pkce_pair, SCOPES};
use crate::http::{Auth, Http, Reply};
use crate::stats::{Class, Stats};
use crate::tokens::{self, ServerKey};

/// The issuer's race window is 3 s: a rotated refresh token presented later than this is reuse.
const REUSE_AFTER: Duration = Duration::from_secs(4);
/// Refreshes sent at once in a race.
const RACERS: usize = 3;
/// Refresh families kept; the oldest is forgotten beyond this (it stays valid on the server).
const FAMILIES: usize = 512;
/// Revoked tokens kept for later presentation.
const REVOKED: usize = 256;
/// Tokens the guard keeps warm, expired tokens, garbage tokens and sign-in sessions.
const WARM: usize = 64;
const EXPIRED: usize = 32;
const GARBAGE: usize = 60;
const SESSIONS: usize = 4;

/// The scenarios, with their default weights (per 100 scenarios).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    GuardWarm,
    GuardCold,
    Expired,
    Garbage,
    Revoked,
    Revoke,
    Code,
    Refresh,
    RefreshRace,
    Reuse,
}

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::GuardWarm,
        Scenario::GuardCold,
        Scenario::Expired,
        Scenario::Garbage,
        Scenario::Revoked,
        Scenario::Revoke,
        Scenario::Code,
        Scenario::Refresh,
        Scenario::RefreshRace,
        Scenario::Reuse,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::GuardWarm => "guard_warm",
            Scenario::GuardCold => "guard_cold",
            Scenario::Expired => "expired",
            Scenario::Garbage => "garbage",
            Scenario::Revoked => "revoked",
            Scenario::Revoke => "revoke",
            Scenario::Code => "code",
            Scenario::Refresh => "refresh",
            Scenario::RefreshRace => "refresh_race",
            Scenario::Reuse => "reuse",
        }
    }

    pub fn default_weight(self) -> u32 {
        match self {
            Scenario::GuardWarm => 45,
            Scenario::GuardCold => 8,
            Scenario::Expired | Scenario::Garbage | Scenario::Revoked => 5,
            Scenario::Revoke => 6,
            Scenario::Code => 6,
            Scenario::Refresh => 10,
            Scenario::RefreshRace | Scenario::Reuse => 5,
        }
    }
}

/// Scenario weights: the defaults, with `name=weight` pairs (comma-separated) replacing some.
pub fn weights(overrides: Option<&str>) -> Result<Vec<(Scenario, u32)>, String> {
    let mut weights: Vec<(Scenario, u32)> = Scenario::ALL.iter().map(|s| (*s, s.default_weight())).collect();
    for pair in overrides.unwrap_or_default().split(',').filter(|p| !p.trim().is_empty()) {
        let (name, weight) = pair.split_once('=').ok_or_else(|| format!("--mix {pair}: use name=weight"))?;
        let weight: u32 =
            weight.trim().parse().map_err(|_| format!("--mix {pair}: the weight is no number"))?;
        let slot = weights.iter_mut().find(|(s, _)| s.name() == name.trim()).ok_or_else(|| {
            format!("--mix {name}: scenarios are {}", Scenario::ALL.map(Scenario::name).join(", "))
        })?;
        slot.1 = weight;
    }
    if weights.iter().all(|(_, w)| *w == 0) {
        return Err("--mix: every weight is zero".into());
    }
    Ok(weights)
}

/// A refresh family the soak holds: its current pair, and the first refresh token it
/// replaced (with when, and whether a later rotation followed).
struct Family {
    access: String,
    refresh: String,
    previous: Option<Replaced>,
}

/// A rotated refresh token, kept to present again as reuse.
struct Replaced {
    token: String,
    at: Instant,
    /// Rotated again since: no longer the immediately previous token, which alone the race
    /// window covers; presenting it is reuse at once.
    superseded: bool,
}

impl Replaced {
    /// Whether presenting it now is reuse (not a race).
    fn is_reuse(&self) -> bool {
        self.superseded || self.at.elapsed() >= REUSE_AFTER
    }
}

/// The client side of the soak: the server's address and credentials, and the pools.
pub struct Traffic {
    http: Http,
    pub stats: Stats,
    client: (String, String),
    app: (String, String),
    redirect_uri: String,
    /// Every demo scope, as the authorization requests ask.
    scope: String,
    weights: Vec<(Scenario, u32)>,
    total_weight: u32,
    seed: AtomicU64,
    warm: Vec<String>,
    expired: Vec<String>,
    garbage: Vec<String>,
    revoked: Mutex<VecDeque<String>>,
    families: Mutex<VecDeque<Family>>,
    sessions: Vec<tokio::sync::Mutex<String>>,
    next_session: AtomicUsize,
}

/// splitmix64: the soak's deterministic choices.
fn splitmix(state: &AtomicU64) -> u64 {
    let mut z = state.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The `code` parameter of a redirect to the client.
fn code_in(location: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "code")
        .map(|(_, code)| code.into_owned())
}

/// The hidden fields of the approval screen's first form (Approve), `decision` left out.
fn approve_fields(screen: &str) -> Vec<(String, String)> {
    let approve = screen.split("</form>").next().unwrap_or_default();
    approve
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|input| {
            let (name, rest) = input.split_once('"')?;
            let value = rest.strip_prefix(" value=\"")?.split('"').next()?;
            Some((name.to_owned(), value.replace("&amp;", "&")))
        })
        .filter(|(name, _)| name != "decision")
        .collect()
}

impl Traffic {
    /// Prepares the pools against the server at `http`: warm tokens (each used once), the
    /// expired and garbage tokens, and the signed-in sessions.
    pub async fn prepare(
        http: Http,
        config: &QuickstartConfig,
        key: &ServerKey,
        weights: Vec<(Scenario, u32)>,
    ) -> Result<Self, String> {
        let total_weight = weights.iter().map(|(_, w)| w).sum();
        let mut traffic = Self {
            http,
            stats: Stats::new(),
            client: (config.client_id.clone(), config.client_secret.clone()),
            app: (config.demo_app.client_id.clone(), config.demo_app.client_secret.clone()),
            redirect_uri: config.demo_app.redirect_uri.clone(),
            scope: SCOPES.map(|(id, _)| id).join(" "),
            weights,
            total_weight,
            seed: AtomicU64::new(0x5eed),
            warm: Vec::with_capacity(WARM),
            expired: Vec::with_capacity(EXPIRED),
            garbage: Vec::new(),
            revoked: Mutex::new(VecDeque::with_capacity(REVOKED + 1)),
            families: Mutex::new(VecDeque::with_capacity(FAMILIES + 1)),
            sessions: Vec::with_capacity(SESSIONS),
            next_session: AtomicUsize::new(0),
        };
        for _ in 0..WARM {
            let token = traffic.mint().await.ok_or("the server minted no client-credentials token")?;
            traffic.guard(Class::GuardCold, "/api/m2m", &token).await;
            traffic.warm.push(token);
        }
        let template = traffic.warm.first().cloned().unwrap_or_default();
        for nth in 0..EXPIRED {
            traffic.expired.push(key.expired_like(&template, 7_200, nth)?);
        }
        traffic.garbage = tokens::garbage(&template, &tokens::stranger(&template)?, GARBAGE);
        for _ in 0..SESSIONS {
            let session = traffic.sign_in(config).await?;
            traffic.sessions.push(tokio::sync::Mutex::new(session));
        }
        Ok(traffic)
    }

    /// Signs demo user 1 in through the sign-in page: the session cookie (`name=value`).
    async fn sign_in(&self, config: &QuickstartConfig) -> Result<String, String> {
        use crate::demo::sign_in::{LOGIN_PATH, SESSION_COOKIE};
        let stats = Stats::new(); // set-up requests are not the soak's
        let page = self.http.get(&stats, Class::Authorize, LOGIN_PATH, Auth::None).await;
        let cookie = page.set_cookie(SESSION_COOKIE).ok_or("the sign-in page set no session cookie")?;
        let html = String::from_utf8_lossy(&page.body);
        let token = html
            .split("name=\"token\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or("the sign-in page has no form token")?
            .replace("&amp;", "&");
        let form = [
            ("username", config.username.as_str()),
            ("password", config.password.as_str()),
            ("next", "/"),
            ("token", token.as_str()),
        ];
        let signed_in =
            self.http.post_form(&stats, Class::Approve, LOGIN_PATH, Auth::Cookie(&cookie), &form).await;
        if signed_in.status != 303 {
            return Err(format!("signing in answered {}", signed_in.status));
        }
        Ok(signed_in.set_cookie(SESSION_COOKIE).unwrap_or(cookie))
    }

    /// A random number below `n` (n > 0).
    fn below(&self, n: usize) -> usize {
        (splitmix(&self.seed) % n.max(1) as u64) as usize
    }

    /// The next scenario by weight.
    pub fn pick(&self) -> Scenario {
        let mut roll = (splitmix(&self.seed) % u64::from(self.total_weight.max(1))) as u32;
        for (scenario, weight) in &self.weights {
            if roll < *weight {
                return *scenario;
            }
            roll -= weight;
        }
        Scenario::GuardWarm
    }

    /// Runs one scenario.
    pub async fn run(&self, scenario: Scenario) {
        match scenario {
            Scenario::GuardWarm => {
                let token = &self.warm[self.below(self.warm.len())];
                self.guard(Class::GuardWarm, "/api/m2m", token).await;
            }
            Scenario::GuardCold => {
                if let Some(token) = self.mint().await {
                    self.guard(Class::GuardCold, "/api/m2m", &token).await;
                }
            }
            Scenario::Expired => {
                let token = &self.expired[self.below(self.expired.len())];
                self.guard(Class::Expired, "/api/m2m", token).await;
            }
            Scenario::Garbage => {
                let token = &self.garbage[self.below(self.garbage.len())];
                self.guard(Class::Garbage, "/api/m2m", token).await;
            }
            Scenario::Revoked => self.revoked_later().await,
            Scenario::Revoke => self.revoke().await,
            Scenario::Code => self.code().await,
            Scenario::Refresh => self.refresh().await,
            Scenario::RefreshRace => self.race().await,
            Scenario::Reuse => self.reuse().await,
        }
    }

    /// A guard request with `token`: its status.
    async fn guard(&self, class: Class, path: &str, token: &str) -> u16 {
        self.http.get(&self.stats, class, path, Auth::Bearer(token)).await.status
    }

    /// A client-credentials token.
    async fn mint(&self) -> Option<String> {
        let (id, secret) = &self.client;
        let form = [("grant_type", "client_credentials"), ("scope", "check-status")];
        let reply = self
            .http
            .post_form(&self.stats, Class::MintClient, "/oauth/token", Auth::Basic(id, secret), &form)
            .await;
        self.token_in(&reply, "access_token")
    }

    /// `name` in a 200 answer's JSON; an anomaly when a 200 lacks it.
    fn token_in(&self, reply: &Reply, name: &str) -> Option<String> {
        if reply.status != 200 {
            return None;
        }
        let token = reply.json_text(name);
        if token.is_none() {
            self.stats.anomaly("a 200 token answer without its token");
        }
        token
    }

    /// Mint, use (so the guard caches it), revoke; the very next guard request must be refused.
    async fn revoke(&self) {
        let Some(token) = self.mint().await else { return };
        self.guard(Class::GuardCold, "/api/m2m", &token).await;
        let (id, secret) = &self.client;
        let form = [("token", token.as_str()), ("token_type_hint", "access_token")];
        let reply = self
            .http
            .post_form(&self.stats, Class::Revoke, "/oauth/revoke", Auth::Basic(id, secret), &form)
            .await;
        if reply.status != 200 {
            return;
        }
        let status = self.guard(Class::AfterRevoke, "/api/m2m", &token).await;
        self.stats.revoke.check(status == 401);
        let mut revoked = lock(&self.revoked);
        revoked.push_back(token);
        if revoked.len() > REVOKED {
            revoked.pop_front();
        }
    }

    /// A token revoked a while ago, presented again: still refused.
    async fn revoked_later(&self) {
        let token = {
            let revoked = lock(&self.revoked);
            if revoked.is_empty() {
                None
            } else {
                revoked.get(self.below(revoked.len())).cloned()
            }
        };
        match token {
            Some(token) => {
                let status = self.guard(Class::Revoked, "/api/m2m", &token).await;
                self.stats.revoked_later.check(status == 401);
            }
            None => self.revoke().await,
        }
    }

    /// A code from `/oauth/authorize` in a signed-in session, with a fresh PKCE pair: the
    /// redirect's, or the approval screen's once approved; and the pair's verifier.
    async fn authorization_code(&self) -> Option<(String, String)> {
        use crate::demo::sign_in::SESSION_COOKIE;
        let Ok((verifier, challenge)) = pkce_pair() else {
            self.stats.anomaly("no randomness for a PKCE pair");
            return None;
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.app.0)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", &self.scope)
            .append_pair("state", "soak")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let nth = self.next_session.fetch_add(1, Ordering::Relaxed) % self.sessions.len().max(1);
        let mut session = self.sessions.get(nth)?.lock().await;
        let path = format!("/oauth/authorize?{query}");
        let reply = self.http.get(&self.stats, Class::Authorize, &path, Auth::Cookie(&session)).await;
        if let Some(renewed) = reply.set_cookie(SESSION_COOKIE) {
            *session = renewed;
        }
        let redirect = match reply.status {
            302 => reply,
            200 => {
                let fields = approve_fields(&String::from_utf8_lossy(&reply.body));
                let mut form: Vec<(&str, &str)> =
                    fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                form.push(("decision", "approve"));
                let approved = self
                    .http
                    .post_form(&self.stats, Class::Approve, "/oauth/authorize", Auth::Cookie(&session), &form)
                    .await;
                if let Some(renewed) = approved.set_cookie(SESSION_COOKIE) {
                    *session = renewed;
                }
                if approved.status != 303 {
                    return None;
                }
                approved
            }
            _ => return None,
        };
        drop(session);
        let code = redirect.location().filter(|l| l.starts_with(&self.redirect_uri)).and_then(code_in);
        if code.is_none() {
            self.stats.anomaly("an authorization redirect without a code");
        }
        Some((code?, verifier))
    }

    /// The authorization code flow without a browser: a code, its exchange, the user token
    /// on the API; the family joins the pool.
    async fn code(&self) {
        let Some((code, verifier)) = self.authorization_code().await else { return };
        let (id, secret) = &self.app;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        let reply = self
            .http
            .post_form(&self.stats, Class::CodeExchange, "/oauth/token", Auth::Basic(id, secret), &form)
            .await;
        let (Some(access), Some(refresh)) =
            (self.token_in(&reply, "access_token"), self.token_in(&reply, "refresh_token"))
        else {
            return;
        };
        self.guard(Class::GuardUser, "/api/user", &access).await;
        self.put_family(Family { access, refresh, previous: None });
    }

    fn put_family(&self, family: Family) {
        let mut families = lock(&self.families);
        families.push_back(family);
        if families.len() > FAMILIES {
            families.pop_front();
        }
    }

    /// A family from the pool (the oldest one); `None` when the pool is empty.
    fn take_family(&self) -> Option<Family> {
        lock(&self.families).pop_front()
    }

    /// A family whose previous refresh token was replaced longer than the race window ago.
    fn take_reusable_family(&self) -> Option<Family> {
        let mut families = lock(&self.families);
        let at = families.iter().position(|f| f.previous.as_ref().is_some_and(Replaced::is_reuse))?;
        families.remove(at)
    }

    /// `POST /oauth/token` refreshing `refresh` as the demo app.
    async fn refresh_request(&self, class: Class, refresh: &str) -> Reply {
        let (id, secret) = &self.app;
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
        self.http.post_form(&self.stats, class, "/oauth/token", Auth::Basic(id, secret), &form).await
    }

    /// After a rotation to `reply`'s pair: the replaced access token is refused at once, the
    /// new one accepted; the family goes back to the pool.
    async fn rotated(&self, family: Family, reply: &Reply) {
        let (Some(access), Some(refresh)) =
            (self.token_in(reply, "access_token"), self.token_in(reply, "refresh_token"))
        else {
            return;
        };
        let status = self.guard(Class::AfterRotation, "/api/user", &family.access).await;
        self.stats.rotation.check(status == 401);
        self.guard(Class::GuardUser, "/api/user", &access).await;
        let previous = match family.previous {
            Some(first) => Replaced { superseded: true, ..first },
            None => Replaced { token: family.refresh, at: Instant::now(), superseded: false },
        };
        self.put_family(Family { access, refresh, previous: Some(previous) });
    }

    /// One refresh with rotation.
    async fn refresh(&self) {
        let Some(family) = self.take_family() else { return self.code().await };
        let reply = self.refresh_request(Class::Refresh, &family.refresh).await;
        if reply.status == 200 {
            self.rotated(family, &reply).await;
        }
    }

    /// Several refreshes with the same token at once: exactly one wins, the others get
    /// `invalid_grant`, and the family lives on (they came within the race window).
    async fn race(&self) {
        let Some(family) = self.take_family() else { return self.code().await };
        let racers = (0..RACERS).map(|_| self.refresh_request(Class::RefreshRace, &family.refresh));
        let replies = join_all(racers).await;
        let winners: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
        let losers_refused = replies
            .iter()
            .filter(|r| r.status != 200)
            .all(|r| r.status == 400 && r.json_text("error").as_deref() == Some("invalid_grant"));
        self.stats.races.check(winners.len() == 1 && losers_refused);
        if let [winner] = winners.as_slice() {
            self.rotated(family, winner).await;
        }
    }

    /// A refresh token replaced longer than the race window ago (or before the previous one)
    /// comes back: `invalid_grant`,
    /// and the whole family is revoked (its current access token refused at once, its
    /// current refresh token too).
    async fn reuse(&self) {
        let Some(family) = self.take_reusable_family() else { return self.refresh().await };
        let Some(previous) = &family.previous else { return };
        let reply = self.refresh_request(Class::Reuse, &previous.token).await;
        if reply.status != 400 {
            return;
        }
        if reply.json_text("error").as_deref() != Some("invalid_grant") {
            self.stats.anomaly("a refused reuse without invalid_grant");
        }
        let status = self.guard(Class::AfterReuse, "/api/user", &family.access).await;
        self.stats.reuse.check(status == 401);
        self.refresh_request(Class::DeadFamily, &family.refresh).await;
    }
}

/// Awaits every future of `futures` concurrently, in order.
async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
