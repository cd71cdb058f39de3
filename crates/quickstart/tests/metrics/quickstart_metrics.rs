//! The quickstart's `/metrics` page (Prometheus text), scraped after some traffic: one
//! test in its own binary, so the process-wide recorder sees only this traffic.

use crate::in_process as quickstart;

use http::StatusCode;

/// The value of the sample `line_start` (a metric name with its labels) in `page`.
fn sample(page: &str, line_start: &str) -> Option<f64> {
    page.lines().find_map(|line| line.strip_prefix(line_start).and_then(|rest| rest.trim().parse().ok()))
}

#[tokio::test]
async fn the_quickstart_counts_what_it_did() {
    let app = quickstart::start("memory").await;
    let (id, secret) = (app.config.client_id.clone(), app.config.client_secret.clone());
    let tokens = app
        .token(&[("grant_type", "client_credentials"), ("scope", "check-status")], Some((&id, &secret)))
        .await;
    assert_eq!(tokens.status, StatusCode::OK, "{:?}", tokens.body);
    let bad = app.token(&[("grant_type", "client_credentials")], Some((&id, "not-the-secret"))).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let token = quickstart::text(&tokens.body, "access_token");
    assert_eq!(app.api("/api/m2m", &token).await.status, StatusCode::OK);
    assert_eq!(app.api("/api/m2m", &token).await.status, StatusCode::OK);
    assert_eq!(app.api("/api/m2m", "not-a-token").await.status, StatusCode::UNAUTHORIZED);

    let (status, _, page) = app.get_page(&format!("{}/metrics", app.base), "x=y").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let issued = r#"passport_token_requests_total{grant_type="client_credentials",outcome="issued"}"#;
    assert_eq!(sample(&page, issued), Some(1.0), "{page}");
    let refused =
        r#"passport_token_requests_total{grant_type="client_credentials",outcome="invalid_client"}"#;
    assert_eq!(sample(&page, refused), Some(1.0), "{page}");
    let allowed = r#"passport_auth_decisions_total{outcome="allowed",reason="none"}"#;
    assert_eq!(sample(&page, allowed), Some(2.0), "{page}");
    let malformed = page
        .lines()
        .filter(|l| l.starts_with(r#"passport_auth_decisions_total{outcome="rejected""#))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>();
    assert_eq!(malformed, 1.0, "one rejection: {page}");
    // The real token once, and the garbage one (looked up before it fails to verify).
    assert_eq!(sample(&page, r#"passport_verified_token_cache_total{result="miss"}"#), Some(2.0), "{page}");
    assert_eq!(sample(&page, r#"passport_verified_token_cache_total{result="hit"}"#), Some(1.0), "{page}");
    // Nothing secret or personal in a label.
    assert!(!page.contains(&secret) && !page.contains(&id) && !page.contains(&token), "{page}");
}
