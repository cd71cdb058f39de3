//! The browser tests, one binary (each module was its own test binary before the workspace split).

mod browser_authorization;
mod browser_first_party_cookie;
mod browser_smoke;
