//! tower-passport's integration tests (`tests/`), its gRPC example, and the doc tests of
//! the README and the `docs/` guides: every crate of the workspace together.

/// The README's code blocks, compiled (and run, unless marked `no_run`) by `cargo test`,
/// so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// The Rust blocks of the `docs/` guides, compiled (and run, unless marked `no_run`) by
/// `cargo test`, as the README's are.
#[cfg(doctest)]
mod guide_doctests {
    macro_rules! guides {
        ($($name:ident = $file:literal),* $(,)?) => {
            $(
                #[doc = include_str!(concat!("../../../docs/", $file))]
                struct $name;
            )*
        };
    }

    guides! {
        Quickstart = "quickstart.md",
        Servers = "servers.md",
        Passport = "passport.md",
        MigratingFromPassport = "migrating-from-passport.md",
        Issuer = "issuer.md",
        AuthorizationCode = "authorization-code.md",
        FirstPartyCookie = "first-party-cookie.md",
        Gateways = "gateways.md",
        DeviceGrant = "device-grant.md",
        Dpop = "dpop.md",
        Audiences = "audiences.md",
        StoresAndNodes = "stores-and-nodes.md",
        Metrics = "metrics.md",
        Cli = "cli.md",
        Testing = "testing.md",
        Performance = "performance.md",
    }
}
