use std::sync::Arc;

use http::Extensions;

use super::{hand_over, register, ContextEntry, GuardContext};
use crate::error::ResponseConfig;
use crate::guard::Principal;
use crate::token::{Credential, PrincipalKind, Scopes, Synthetic, VerifiedToken};

fn token(subject: &str) -> VerifiedToken {
    VerifiedToken::synthetic(Synthetic {
        issuer: "https://issuer.test",
        subject: Some(subject),
        client_id: Some("app"),
        scopes: Scopes::from_space_delimited("read"),
        kind: PrincipalKind::User,
        expires_at: u64::MAX,
        issued_at_ms: None,
        provider: None,
        credential: Credential::Bearer,
    })
}

fn admitted<U>(subject: &str, user: U) -> Principal<U> {
    Principal::new(token(subject), Some(user)).admitted_under(&Arc::new(ResponseConfig::default()))
}

fn subject_seen(extensions: &Extensions) -> Option<Option<String>> {
    GuardContext::of(extensions)
        .map(|context| context.token.and_then(|token| token.subject().map(str::to_owned)))
}

#[test]
fn a_registered_principal_alone_is_the_context() {
    // The registry is shared by every test of this binary: it may be full.
    let registered = register::<u8>();
    let mut extensions = Extensions::new();
    hand_over(&mut extensions, admitted("alice", 1_u8));
    assert_eq!(extensions.len(), if registered { 1 } else { 2 }, "one boxed value when registered");
    let context = GuardContext::of(&extensions).unwrap();
    assert_eq!(context.token.and_then(VerifiedToken::subject), Some("alice"));
    assert_eq!(context.principal_type, "u8");
    assert!(extensions.get::<Principal<u8>>().is_some());
}

#[test]
fn no_guard_no_context() {
    assert!(GuardContext::of(&Extensions::new()).is_none());
}

#[test]
fn a_guard_behind_an_optional_guard_that_saw_no_token_decides() {
    register::<u16>();
    let mut extensions = Extensions::new();
    extensions.insert(ContextEntry::new::<u16>(None, Arc::new(ResponseConfig::default())));
    assert_eq!(subject_seen(&extensions), Some(None));
    hand_over(&mut extensions, admitted("bob", 2_u16));
    assert_eq!(subject_seen(&extensions), Some(Some("bob".to_owned())));
}

#[test]
fn behind_two_guards_of_different_user_types_the_inner_one_decides() {
    register::<u32>();
    register::<u64>();
    let mut extensions = Extensions::new();
    hand_over(&mut extensions, admitted("outer", 3_u32));
    hand_over(&mut extensions, admitted("inner", 4_u64));
    assert_eq!(subject_seen(&extensions), Some(Some("inner".to_owned())));
    assert_eq!(GuardContext::of(&extensions).unwrap().principal_type, "u64");
    // Both principals stay readable by their own type.
    assert_eq!(extensions.get::<Principal<u32>>().and_then(|p| p.subject()), Some("outer"));
    assert_eq!(extensions.get::<Principal<u64>>().and_then(|p| p.subject()), Some("inner"));
    // And the same the other way round.
    let mut extensions = Extensions::new();
    hand_over(&mut extensions, admitted("outer", 5_u64));
    hand_over(&mut extensions, admitted("inner", 6_u32));
    assert_eq!(subject_seen(&extensions), Some(Some("inner".to_owned())));
}

#[test]
fn a_principal_of_a_type_never_registered_still_leaves_its_context() {
    #[derive(Clone)]
    struct NeverRegistered;
    let mut extensions = Extensions::new();
    hand_over(&mut extensions, admitted("carol", NeverRegistered));
    assert_eq!(subject_seen(&extensions), Some(Some("carol".to_owned())));
    assert!(GuardContext::of(&extensions).unwrap().principal_type.ends_with("NeverRegistered"));
}
