//! The issuer tests, one binary (each module was its own test binary before the workspace split).

mod authorization_code;
mod clients_api;
mod endpoints;
mod first_party_cookie;
mod issuer;
mod laravel_passport;
mod local_invalidation;
mod shared_keys;
