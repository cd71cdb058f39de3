//! The guard's scope sets: all-of implies any-of for a non-empty requirement, `*` absorbs
//! every scope, and a set formatted back to its space-delimited form parses to itself.

use proptest::collection::vec;
use proptest::prelude::*;
use tower_passport::Scopes;

use super::config;

/// RFC 6749 §3.3 scope-tokens: NQCHAR, with `:` hierarchies common.
fn scope() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}",
        "[a-z]{1,4}:[a-z]{1,4}",
        "[a-z]{1,3}:[a-z]{1,3}:[a-z]{1,3}",
        "[!#-\\[\\]-~]{1,8}",
        Just("*".to_owned()),
    ]
}

fn scopes(max: usize) -> impl Strategy<Value = Vec<String>> {
    vec(scope(), 0..max)
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn all_of_implies_any_of_for_a_non_empty_requirement(
        granted in scopes(8), required in scopes(6), inherit in any::<bool>()
    ) {
        let set = Scopes::from_space_delimited(&granted.join(" ")).with_inheritance(inherit);
        if !required.is_empty() && set.can_all(&required) {
            prop_assert!(set.can_any(&required));
        }
        // And for the empty requirement: all-of holds vacuously, any-of never.
        prop_assert!(set.can_all(Vec::<String>::new()));
        prop_assert!(!set.can_any(Vec::<String>::new()));
    }

    #[test]
    fn any_of_is_the_union_and_all_of_the_intersection_of_single_checks(
        granted in scopes(8), required in scopes(6), inherit in any::<bool>()
    ) {
        let set = Scopes::from_space_delimited(&granted.join(" ")).with_inheritance(inherit);
        prop_assert_eq!(set.can_all(&required), required.iter().all(|s| set.can(s)));
        prop_assert_eq!(set.can_any(&required), required.iter().any(|s| set.can(s)));
    }

    #[test]
    fn a_wildcard_absorbs_every_scope(granted in scopes(8), wanted in scope(), inherit in any::<bool>()) {
        let mut with_star = granted.clone();
        with_star.push("*".to_owned());
        let set = Scopes::from_space_delimited(&with_star.join(" ")).with_inheritance(inherit);
        prop_assert!(set.is_wildcard());
        prop_assert!(set.can(&wanted));
        prop_assert!(set.can_all([&wanted, "anything", "a:b:c"]));
        // Without `*`, the set never grants a scope it does not hold (or, inheriting,
        // a child of one it holds).
        let without: Vec<&String> = granted.iter().filter(|s| *s != "*").collect();
        let set = Scopes::from_space_delimited(
            &without.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
        ).with_inheritance(inherit);
        let held = without.iter().any(|g| {
            **g == wanted || (inherit && wanted.starts_with(g.as_str()) && wanted[g.len()..].starts_with(':'))
        });
        prop_assert_eq!(set.can(&wanted), held);
    }

    #[test]
    fn parse_of_format_is_the_identity(granted in scopes(12), spaces in "[ ]{1,3}") {
        let set = Scopes::from_space_delimited(&granted.join(&spaces));
        let mut expected = granted.clone();
        expected.sort();
        expected.dedup();
        prop_assert_eq!(set.iter().collect::<Vec<_>>(), expected.iter().map(String::as_str).collect::<Vec<_>>());
        let formatted = set.iter().collect::<Vec<_>>().join(" ");
        let again = Scopes::from_space_delimited(&formatted);
        prop_assert_eq!(again.iter().collect::<Vec<_>>(), set.iter().collect::<Vec<_>>());
        prop_assert_eq!(again.len(), expected.len());
    }
}
