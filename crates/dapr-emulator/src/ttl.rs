//! The `ttlInSeconds` publish metadata (§1.2): integer seconds or a Go duration string.

use std::{collections::BTreeMap, time::Duration};

/// The message TTL, if the metadata sets a valid positive one. Invalid values are ignored, as
/// current Dapr does, rather than failing the publish.
pub(crate) fn from_metadata(metadata: &BTreeMap<String, String>) -> Option<Duration> {
    let value =
        metadata.get("ttlInSeconds").or_else(|| metadata.get("ttl")).filter(|value| !value.is_empty())?;
    let ttl = match value.parse::<i64>() {
        Ok(seconds) => Duration::from_secs(u64::try_from(seconds).ok()?),
        Err(_) => parse_go_duration(value)?,
    };
    (!ttl.is_zero()).then_some(ttl)
}

/// Go's `time.ParseDuration` for non-negative values: `1h30m`, `1.5s`, `300ms`.
fn parse_go_duration(input: &str) -> Option<Duration> {
    let mut rest = input.strip_prefix('+').unwrap_or(input);
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut nanos = 0f64;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_end);
        let value: f64 = number.parse().ok()?;
        let unit_end = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let unit_nanos = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        nanos += value * unit_nanos;
        rest = tail;
    }
    Duration::try_from_secs_f64(nanos / 1e9).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ttl(key: &str, value: &str) -> Option<Duration> {
        from_metadata(&BTreeMap::from([(key.to_owned(), value.to_owned())]))
    }

    #[test]
    fn integer_seconds() {
        assert_eq!(ttl("ttlInSeconds", "120"), Some(Duration::from_mins(2)));
    }

    #[test]
    fn go_durations() {
        assert_eq!(ttl("ttlInSeconds", "1h30m"), Some(Duration::from_mins(90)));
        assert_eq!(ttl("ttlInSeconds", "1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(ttl("ttlInSeconds", "250ms"), Some(Duration::from_millis(250)));
    }

    #[test]
    fn ttl_alias_is_read_when_ttl_in_seconds_is_absent() {
        assert_eq!(ttl("ttl", "10"), Some(Duration::from_secs(10)));
    }

    #[test]
    fn invalid_zero_or_negative_values_are_ignored() {
        for value in ["", "soon", "-5", "0", "0s", "5 s", "-1m", "1d"] {
            assert_eq!(ttl("ttlInSeconds", value), None, "{value:?}");
        }
    }
}
