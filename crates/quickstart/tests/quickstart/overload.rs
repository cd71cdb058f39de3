//! Overload (issue 21, *Faults*): a burst far beyond the concurrency limit at a guarded
//! route the test holds shut answers 503 with `Retry-After` at once for everything the
//! limit has no room for, the admitted requests 200 once released, every request is
//! answered on its connection, and the server serves normally right after; a held request
//! past the request timeout answers 408 and frees its slot. The limits come from the quickstart's variables
//! (`Limits::from_vars`), and the handler waits on a signal of the test's, not a timer:
//! which requests are shed depends on nothing but the limit.

use crate::demo::serve::{serve, Limits};
use crate::support::{user_claims, verifier_for, TestKey};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing;
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower_passport::GuardLayer;

/// Requests in the burst.
const BURST: usize = 200;
/// Hang detector for the whole burst: generous, never a performance bound.
const HANG: Duration = Duration::from_secs(30);

/// A guarded router: `/gate` counts the requests that reach it and answers `done` once
/// the gate opens; `/fast` answers `ok` at once.
struct App {
    router: Router,
    entered: Arc<AtomicUsize>,
    gate: watch::Sender<bool>,
    token: String,
}

fn app() -> App {
    let key = TestKey::generate(tower_passport::Algorithm::HS256);
    let token = key.sign(&user_claims("1", "read-posts"));
    let entered = Arc::new(AtomicUsize::new(0));
    let (gate, opened) = watch::channel(false);
    let counter = entered.clone();
    let router = Router::new()
        .route(
            "/gate",
            routing::get(move || {
                let (counter, mut opened) = (counter.clone(), opened.clone());
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ = opened.wait_for(|open| *open).await;
                    "done"
                }
            }),
        )
        .route("/fast", routing::get(|| async { "ok" }))
        .layer(GuardLayer::new(verifier_for(&key)));
    App { router, entered, gate, token }
}

/// The limits the quickstart reads from `vars`.
fn limits(vars: &[(&str, &str)]) -> Limits {
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Limits::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())).expect("limits")
}

async fn start(router: Router, limits: Limits) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(listener, router, limits, std::future::pending()));
    addr
}

/// One answer, read to the end of its connection.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// `GET path` with the token on a connection of its own (`Connection: close`). A reset
/// or a connection closed without a full response fails the test.
async fn request(addr: SocketAddr, path: &str, token: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read to the end, no reset");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole response");
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("status line");
    Answer { status, head: head.to_ascii_lowercase(), body: body.to_owned() }
}

/// Sends `BURST` requests to `/gate` at once; their answers arrive on the receiver.
fn burst(addr: SocketAddr, token: &str) -> mpsc::UnboundedReceiver<Answer> {
    let (answers, received) = mpsc::unbounded_channel();
    for _ in 0..BURST {
        let (answers, token) = (answers.clone(), token.to_owned());
        tokio::spawn(async move {
            let _ = answers.send(request(addr, "/gate", &token).await);
        });
    }
    received
}

/// The next `n` answers.
async fn next(received: &mut mpsc::UnboundedReceiver<Answer>, n: usize) -> Vec<Answer> {
    let mut answers = Vec::with_capacity(n);
    while answers.len() < n {
        let answer = tokio::time::timeout(HANG, received.recv()).await.expect("no hang").expect("an answer");
        answers.push(answer);
    }
    answers
}

fn assert_shed(answer: &Answer) {
    assert_eq!(answer.status, 503, "{answer:?}");
    assert!(answer.head.contains("retry-after: 1"), "{}", answer.head);
    assert_eq!(answer.body, "overloaded, retry shortly");
}

/// After a burst: plain requests pass, and `limit` requests at once fit again.
async fn serves_normally(app: &App, addr: SocketAddr, limit: usize) {
    for _ in 0..20 {
        let answer = request(addr, "/fast", &app.token).await;
        assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    }
    app.gate.send_replace(true);
    let together: Vec<_> = (0..limit)
        .map(|_| {
            let token = app.token.clone();
            tokio::spawn(async move { request(addr, "/gate", &token).await.status })
        })
        .collect();
    for request in together {
        assert_eq!(request.await.expect("request"), 200, "within the limit after the burst");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_concurrency_limit_is_shed_with_503_and_the_admitted_pass() {
    let limit = 4;
    let app = app();
    let addr = start(app.router.clone(), limits(&[("PASSPORT_MAX_IN_FLIGHT", "4")])).await;
    let mut received = burst(addr, &app.token);

    // The limit holds `limit` requests at the gate; every other one is shed at once.
    let shed = next(&mut received, BURST - limit).await;
    shed.iter().for_each(assert_shed);
    assert_eq!(app.entered.load(Ordering::SeqCst), limit, "exactly the limit reached the handler");
    assert!(received.try_recv().is_err(), "the admitted wait at the gate");

    app.gate.send_replace(true);
    let admitted = next(&mut received, limit).await;
    for answer in &admitted {
        assert_eq!((answer.status, answer.body.as_str()), (200, "done"), "{answer:?}");
    }
    println!(
        "burst of {BURST} at a limit of {limit}: {} answered 503, {} answered 200",
        shed.len(),
        admitted.len()
    );
    app.gate.send_replace(false);
    serves_normally(&app, addr, limit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admitted_requests_that_never_finish_time_out_with_408_and_free_their_slots() {
    let limit = 2;
    let app = app();
    let vars = [("PASSPORT_MAX_IN_FLIGHT", "2"), ("PASSPORT_REQUEST_TIMEOUT_MS", "300")];
    let addr = start(app.router.clone(), limits(&vars)).await;
    // The gate stays shut: the admitted requests end at the request timeout.
    let held: Vec<_> = (0..limit)
        .map(|_| {
            let token = app.token.clone();
            tokio::spawn(async move { request(addr, "/gate", &token).await })
        })
        .collect();
    for request in held {
        let answer = tokio::time::timeout(HANG, request).await.expect("no hang").expect("request");
        assert_eq!((answer.status, answer.body.as_str()), (408, "the request took too long"));
    }
    assert_eq!(app.entered.load(Ordering::SeqCst), limit);
    serves_normally(&app, addr, limit).await;
}

#[test]
fn the_limits_come_from_the_quickstart_variables() {
    let defaults = limits(&[]);
    assert_eq!(
        (defaults.max_in_flight, defaults.request_timeout, defaults.max_connections),
        (512, Duration::from_secs(30), 1024)
    );
    assert_eq!(defaults.header_read_timeout, Duration::from_secs(10));
    let set = limits(&[
        ("PASSPORT_MAX_IN_FLIGHT", "64"),
        ("PASSPORT_REQUEST_TIMEOUT_MS", "2500"),
        ("PASSPORT_HEADER_READ_TIMEOUT_MS", " 750 "),
        ("PASSPORT_MAX_CONNECTIONS", "100"),
    ]);
    assert_eq!(
        (set.max_in_flight, set.request_timeout, set.header_read_timeout, set.max_connections),
        (64, Duration::from_millis(2500), Duration::from_millis(750), 100)
    );
    assert_eq!(limits(&[("PASSPORT_MAX_IN_FLIGHT", "")]).max_in_flight, 512, "empty is unset");
    for (name, value) in [
        ("PASSPORT_MAX_IN_FLIGHT", "0"),
        ("PASSPORT_REQUEST_TIMEOUT_MS", "30s"),
        ("PASSPORT_MAX_CONNECTIONS", "-1"),
        ("PASSPORT_HEADER_READ_TIMEOUT_MS", "0"),
    ] {
        let error = Limits::from_vars(|asked| (asked == name).then(|| value.to_owned())).expect_err(value);
        assert!(error.starts_with(&format!("{name}=")) && error.contains("positive integer"), "{error}");
    }
}
