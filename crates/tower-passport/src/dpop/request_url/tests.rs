//! [`TargetUrl`] against [`NormalUrl::of_request`]: the same requests have a URL, and the
//! same `htu`s name it, over every pairing of the tables' hosts, targets and `htu`s.

use super::*;

const HOSTS: &[&str] = &[
    "bench.example",
    "api.example.com",
    "Bench.example",
    "bench.example:80",
    "bench.example:443",
    "bench.example:8080",
    "bench.example:",
    "bench.example:x",
    "127.0.0.1",
    "[::1]:8080",
    "user@bench.example",
    "xn--d1acufc.example",
    "bench_example",
    "",
];

const TARGETS: &[&str] = &[
    "/orders",
    "/",
    "/orders/",
    "/orders?page=2",
    "/a%2Fb",
    "/a%7e",
    "/a%7E",
    "/a-b_c.d~e/!$&'()*+,;=:@/x",
    "/a\"b",
    "/a{b}",
    "*",
    "http://bench.example/orders",
    "https://Bench.example:443/orders",
];

const HTUS: &[&str] = &[
    "http://bench.example/orders",
    "https://bench.example/orders",
    "http://bench.example/orders#top",
    "http://bench.example/orders?page=2",
    "http://bench.example/ordersx",
    "http://bench.example/orders/",
    "http://bench.example/",
    "http://bench.example",
    "http://bench.example:80/orders",
    "https://bench.example:443/orders",
    "http://bench.example:443/orders",
    "http://bench.example:8080/orders",
    "HTTP://BENCH.EXAMPLE/orders",
    "http://bench.example/%6Frders",
    "http://bench.example/a%2fb",
    "http://bench.example/a%2Fb",
    "http://bench.example/a~",
    "http://bench.example/a%7e",
    "http://bench.example/a-b_c.d~e/!$&'()*+,;=:@/x",
    "http://api.example.com/orders",
    "http://127.0.0.1/orders",
    "http://[::1]:8080/orders",
    "http://xn--d1acufc.example/orders",
    "http://bench.example.evil/orders",
    "http://bench.exampl/orders",
    "http://user@bench.example/orders",
    "ftp://bench.example/orders",
    "//bench.example/orders",
    "/orders",
    "http:/bench.example/orders",
    "",
];

fn request(target: &str, host: &str) -> Option<(Uri, HeaderMap)> {
    let uri: Uri = target.parse().ok()?;
    let mut headers = HeaderMap::new();
    if !host.is_empty() {
        headers.insert(http::header::HOST, host.parse().ok()?);
    }
    Some((uri, headers))
}

#[test]
fn a_request_is_named_by_the_same_htus_as_its_normal_url() {
    let mut compared = 0;
    for target in TARGETS {
        for host in HOSTS {
            let Some((uri, headers)) = request(target, host) else { continue };
            let ours = TargetUrl::of_request(&uri, &headers);
            let normal = NormalUrl::of_request(&uri, &headers);
            assert_eq!(ours.is_some(), normal.is_some(), "{target} {host}");
            let (Some(ours), Some(normal)) = (ours, normal) else { continue };
            for htu in HTUS {
                assert_eq!(ours.named_by(htu.as_bytes()), normal.named_by(htu), "{target} {host} {htu}");
                compared += 1;
            }
        }
    }
    assert!(compared > 1_000, "{compared}");
}

#[test]
fn an_origin_form_request_with_a_plain_host_is_read_as_it_is() {
    let (uri, headers) = request("/orders?page=2", "bench.example").unwrap();
    let url = TargetUrl::of_request(&uri, &headers).unwrap();
    assert_eq!(url, TargetUrl::Origin { host: b"bench.example", path: "/orders" });
    assert!(url.named_by(b"http://bench.example/orders"));
    assert!(url.named_by(b"https://bench.example/orders#x"));
    assert!(url.named_by(b"https://bench.example:443/orders"));
    assert!(url.named_by(b"http://bench.example/%6Frders"));
    // Its query is ignored, as `NormalUrl` does.
    assert!(url.named_by(b"http://bench.example/orders?page=2"));
    assert!(!url.named_by(b"http://bench.example/orders/"));
    assert!(!url.named_by(b"http://bench.example.evil/orders"));
    // Upper case, a port, an absolute target: normalised as before.
    for (target, host) in [("/orders", "Bench.example"), ("/orders", "bench.example:80")] {
        let (uri, headers) = request(target, host).unwrap();
        assert!(matches!(TargetUrl::of_request(&uri, &headers), Some(TargetUrl::Normal(_))));
    }
    let (uri, headers) = request("/orders", "").unwrap();
    assert_eq!(TargetUrl::of_request(&uri, &headers), None);
}
