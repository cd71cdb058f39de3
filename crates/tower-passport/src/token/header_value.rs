//! One header's value, found the cheapest way for the request at hand: a request with a
//! few headers, none of them repeated (nearly every one), has its names compared in turn,
//! which costs less than hashing the name once (measured in `BENCHMARKS.md`, issue 17's
//! fourth pass: 16 instructions less with seven headers, 76 with one); any other is
//! looked up in the map's table.

use http::{HeaderMap, HeaderName, HeaderValue};

/// Up to how many headers the names are compared in turn.
pub(crate) const SCANNED_HEADERS: usize = 8;

/// What a request holds under one header name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderValues<'h> {
    /// No value.
    None,
    /// Exactly one value.
    One(&'h HeaderValue),
    /// Two or more.
    Several,
}

/// The value of `name` in `headers`, told apart from none and from several.
#[inline(always)]
pub(crate) fn header_values<'h>(headers: &'h HeaderMap, name: &HeaderName) -> HeaderValues<'h> {
    if headers.len() == headers.keys_len() {
        // No name repeats (each name holds one value): at most one can be found.
        return match first_of_distinct(headers, name) {
            Some(value) => HeaderValues::One(value),
            None => HeaderValues::None,
        };
    }
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => HeaderValues::None,
        (Some(value), None) => HeaderValues::One(value),
        (Some(_), Some(_)) => HeaderValues::Several,
    }
}

/// The first value of `name` in `headers`, as [`HeaderMap::get`] answers.
#[inline(always)]
pub(crate) fn first_header_value<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h HeaderValue> {
    if headers.len() == headers.keys_len() {
        return first_of_distinct(headers, name);
    }
    headers.get(name)
}

/// [`HeaderMap::get`] in a map where no name repeats.
#[inline(always)]
fn first_of_distinct<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h HeaderValue> {
    if headers.len() <= SCANNED_HEADERS {
        headers.iter().find_map(|(held, value)| (held == name).then_some(value))
    } else {
        headers.get(name)
    }
}

#[cfg(test)]
mod tests {
    use http::header::{AUTHORIZATION, HOST};

    use super::*;

    /// `others` other headers, `name` at `position` among them (`None`: left out), once or
    /// `times` times.
    fn map(others: usize, position: Option<usize>, times: usize) -> HeaderMap {
        let mut map = HeaderMap::new();
        for other in 0..=others {
            if Some(other) == position {
                for time in 0..times {
                    map.append(AUTHORIZATION, HeaderValue::from_str(&format!("value {time}")).unwrap());
                }
            }
            if other < others {
                let name = HeaderName::try_from(format!("x-other-{other}")).unwrap();
                map.insert(name, HeaderValue::from_static("other"));
            }
        }
        map
    }

    #[test]
    fn answers_as_the_map_does_with_few_headers_and_many() {
        for others in [0, 1, SCANNED_HEADERS - 1, SCANNED_HEADERS, SCANNED_HEADERS + 1, 40] {
            for position in [None, Some(0), Some(others / 2), Some(others)] {
                for times in 1..=3 {
                    let map = map(others, position, times);
                    let mut all = map.get_all(AUTHORIZATION).iter();
                    let expected = match (all.next(), all.next()) {
                        (None, _) => HeaderValues::None,
                        (Some(value), None) => HeaderValues::One(value),
                        _ => HeaderValues::Several,
                    };
                    let case = format!("{others} others, at {position:?}, {times} times");
                    assert_eq!(header_values(&map, &AUTHORIZATION), expected, "{case}");
                    assert_eq!(first_header_value(&map, &AUTHORIZATION), map.get(AUTHORIZATION), "{case}");
                    assert_eq!(first_header_value(&map, &HOST), None, "{case}");
                }
            }
        }
    }

    #[test]
    fn a_repeated_other_header_leaves_the_value_found() {
        let mut map = map(3, Some(1), 1);
        map.append("x-other-0", HeaderValue::from_static("again"));
        assert_eq!(
            header_values(&map, &AUTHORIZATION),
            HeaderValues::One(&HeaderValue::from_static("value 0"))
        );
        assert_eq!(first_header_value(&map, &AUTHORIZATION), Some(&HeaderValue::from_static("value 0")));
    }
}
