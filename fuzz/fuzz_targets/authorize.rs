//! Authorization-request parsing: the query of `GET /oauth/authorize`, against an issuer
//! with a public client (`spa`), a native one (`app`, loopback) and a confidential one
//! (`web`). An accepted request's redirect URI is one of the client's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passport_fuzz::authorize::{issuer, runtime};

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    let issuer = issuer();
    let outcome = runtime().block_on(issuer.authorization_request(query));
    match outcome {
        Ok(request) => {
            let client = request.client();
            assert!(
                client.redirect_uris.iter().any(|r| r == request.redirect_uri())
                    || (!client.is_confidential() && request.redirect_uri().starts_with("http://127.0.0.1:")),
                "redirect to an unregistered URI: {}",
                request.redirect_uri()
            );
        }
        Err(error) => {
            if let Some(to) = error.redirect_to() {
                assert!(
                    ["https://spa.example.com/cb", "http://127.0.0.1", "https://web.example.com/cb"]
                        .iter()
                        .any(|base| to.starts_with(base)),
                    "an error redirected off the registered URIs: {to}"
                );
            }
        }
    }
});
