//! Manual order: each task has a key, and a list in manual order is its tasks sorted by key
//! (bytewise; ties by task id). Keys are fractions written in hexadecimal digits, `8` meaning
//! one half, so there is always a key between two others: moving a task writes that one row,
//! and its neighbours keep theirs.
//!
//! No key ends in `0`, so a key's digits compare bytewise exactly as the fractions they stand
//! for do ("8" < "80" as text, while 0.8 = 0.80 as numbers; without trailing zeros the case
//! cannot occur). A new task's key is its creation time, so it goes last among its siblings
//! without reading them.

use chrono::{DateTime, Utc};

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A valid key: one or more hexadecimal digits, the last one not `0`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[must_use]
pub struct Position(String);

impl Position {
    /// A stored key; `None` if it is not a valid one.
    pub fn parse(key: &str) -> Option<Self> {
        let valid = key.bytes().all(|b| DIGITS.contains(&b)) && key.bytes().last().is_some_and(|b| b != b'0');
        valid.then(|| Self(key.to_owned()))
    }

    /// The key of a task created at `at`: its microseconds since 1970 in 16 digits, then `8`
    /// (the migration computes the same for existing tasks). Later tasks get greater keys.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self(format!("{:016x}8", at.timestamp_micros().max(0)))
    }

    /// A key after `before` (or first, when `None`) and before `after` (or last, when `None`).
    /// `None` when there is no such key: the two are equal or out of order, which only two
    /// siblings with the same key can cause; the caller places the task after both instead.
    pub fn between(before: Option<&Self>, after: Option<&Self>) -> Option<Self> {
        let lower = before.map_or("", |p| p.0.as_str());
        if let Some(upper) = after
            && lower >= upper.0.as_str()
        {
            return None;
        }
        Some(Self(midpoint(lower.as_bytes(), after.map(|p| p.0.as_bytes()))))
    }

    /// A key after this one and before any other key that is greater than this one and does
    /// not start with it: right after a run of siblings that share this key.
    pub fn just_after(&self) -> Self {
        Self(format!("{}8", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

fn digit(b: u8) -> usize {
    DIGITS.iter().position(|&d| d == b).unwrap_or(0)
}

/// A key strictly between `a` and `b` (`b` = `None`: one, above every key), given `a < b`
/// and neither ending in `0`. Shared leading digits are kept; at the first differing digit,
/// a digit halfway between is taken when there is one, else the search goes one digit deeper.
fn midpoint(a: &[u8], b: Option<&[u8]>) -> String {
    if let Some(b) = b {
        // `a` read with zeros after its end, as its fraction is.
        let shared =
            b.iter().enumerate().take_while(|&(i, &d)| a.get(i).copied().unwrap_or(b'0') == d).count();
        if shared > 0 {
            let rest = midpoint(a.get(shared..).unwrap_or_default(), Some(&b[shared..]));
            return format!("{}{rest}", String::from_utf8_lossy(&b[..shared]));
        }
    }
    let low = a.first().map_or(0, |&d| digit(d));
    let high = b.and_then(|b| b.first()).map_or(DIGITS.len(), |&d| digit(d));
    if high - low > 1 {
        return char::from(DIGITS[usize::midpoint(low, high)]).to_string();
    }
    match b {
        // `b` has more digits: its first digit alone is below it and above `a`.
        Some(b) if b.len() > 1 => char::from(b[0]).to_string(),
        // Adjacent digits: keep `a`'s and find a key above the rest of `a`.
        _ => format!("{}{}", char::from(DIGITS[low]), midpoint(a.get(1..).unwrap_or_default(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Position {
        Position::parse(s).unwrap()
    }

    fn between(a: Option<&str>, b: Option<&str>) -> String {
        let (a, b) = (a.map(key), b.map(key));
        let mid = Position::between(a.as_ref(), b.as_ref()).unwrap();
        assert!(Position::parse(mid.as_str()).is_some(), "{mid:?} is not a valid key");
        if let Some(a) = &a {
            assert!(a < &mid, "{a:?} < {mid:?}");
        }
        if let Some(b) = &b {
            assert!(&mid < b, "{mid:?} < {b:?}");
        }
        mid.into_inner()
    }

    #[test]
    fn keys_are_hex_digits_not_ending_in_zero() {
        for bad in ["", "80", "8g", "A", " 8"] {
            assert_eq!(Position::parse(bad), None, "{bad:?}");
        }
        assert!(Position::parse("0f").is_some());
    }

    #[test]
    fn a_key_between_takes_the_halfway_digit_when_there_is_one() {
        assert_eq!(between(None, None), "8");
        assert_eq!(between(Some("2"), Some("8")), "5");
        assert_eq!(between(None, Some("8")), "4");
        assert_eq!(between(Some("8"), None), "c");
        assert_eq!(between(Some("3"), Some("4")), "38");
        assert_eq!(between(Some("3"), Some("38")), "34");
        assert_eq!(between(Some("12"), Some("13")), "128");
        assert_eq!(between(None, Some("01")), "008");
        assert_eq!(between(Some("f"), None), "f8");
    }

    #[test]
    fn creation_keys_follow_time_and_leave_room_around_them() {
        let t = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").unwrap().to_utc();
        let first = Position::at(t);
        let second = Position::at(t + chrono::Duration::microseconds(1));
        assert_eq!(first.as_str(), "0006620849f028008");
        assert!(first < second);
        between(Some(first.as_str()), Some(second.as_str()));
    }

    #[test]
    fn repeated_moves_to_the_same_place_keep_order_and_grow_slowly() {
        // Moving a task to the front again and again, and between the same two neighbours.
        let mut front = key("0006620849f028008");
        for _ in 0..200 {
            front = Position::parse(&between(None, Some(front.as_str()))).unwrap();
        }
        assert!(front.as_str().len() < 60, "{}", front.as_str());
        let (low, mut high) = (key("5"), key("6"));
        for _ in 0..200 {
            high = Position::parse(&between(Some(low.as_str()), Some(high.as_str()))).unwrap();
        }
        assert!(high.as_str().len() < 60, "{}", high.as_str());
    }

    #[test]
    fn equal_or_reversed_neighbours_have_no_key_between() {
        assert_eq!(Position::between(Some(&key("8")), Some(&key("8"))), None);
        assert_eq!(Position::between(Some(&key("9")), Some(&key("8"))), None);
    }
}
