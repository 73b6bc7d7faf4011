//! RFC 3339 UTC timestamps with exactly three fractional digits, e.g. `2026-11-28T09:00:00.000Z`.
//!
//! chrono's own serde format prints as many fractional digits as the value holds (none to nine),
//! so the same instant could look different on the wire depending on where it came from
//! (`Utc::now()` has nanoseconds, Postgres microseconds). A fixed width keeps golden fixtures
//! stable, sorts lexically, and is what JavaScript's `Date` produces and parses.
//!
//! Only serialization is customised: deserialization keeps chrono's default, which accepts any
//! RFC 3339 timestamp and converts it to UTC.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Serialize, Serializer};

use crate::Change;

/// Drops everything below the millisecond, so a value survives a JSON round trip unchanged.
///
/// [`TaskEvent::new`](crate::TaskEvent::new) applies it to its own timestamp; apply it to other
/// instants (due dates, reminder times) when a test compares an event with its decoded copy.
pub fn truncate_to_millis(value: DateTime<Utc>) -> DateTime<Utc> {
    value.trunc_subsecs(3)
}

/// A timestamp that serializes in the fixed millisecond format.
#[derive(Clone, Copy)]
struct Millis(DateTime<Utc>);

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
    }
}

pub(crate) fn serialize<S: Serializer>(value: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    Millis(*value).serialize(serializer)
}

#[expect(clippy::ref_option, reason = "serde's `serialize_with` hands over the field by reference")]
pub(crate) fn serialize_opt<S: Serializer>(
    value: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.map(Millis).serialize(serializer)
}

/// For `TaskChanges::due_date`, the one place a timestamp sits inside a generic [`Change`].
#[expect(clippy::ref_option, reason = "serde's `serialize_with` hands over the field by reference")]
pub(crate) fn serialize_opt_change<S: Serializer>(
    value: &Option<Change<Option<DateTime<Utc>>>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value
        .as_ref()
        .map(|change| Change { from: change.from.map(Millis), to: change.to.map(Millis) })
        .serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn to_json(value: &DateTime<Utc>) -> String {
        let mut out = Vec::new();
        serialize(value, &mut serde_json::Serializer::new(&mut out)).expect("serializable");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn whole_seconds_still_print_three_digits() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).single().expect("valid date");
        assert_eq!(to_json(&at), r#""2026-11-28T09:00:00.000Z""#);
    }

    #[test]
    fn sub_millisecond_digits_are_dropped_not_rounded() {
        let at = Utc.timestamp_opt(1_700_000_000, 999_999_999).single().expect("valid");
        assert_eq!(to_json(&at), r#""2023-11-14T22:13:20.999Z""#);
    }

    proptest! {
        #[test]
        fn millisecond_values_round_trip(millis in 0i64..4_102_444_800_000) {
            let at = DateTime::from_timestamp_millis(millis).expect("in range");
            let decoded: DateTime<Utc> = serde_json::from_str(&to_json(&at)).expect("parses back");
            prop_assert_eq!(decoded, at);
            prop_assert_eq!(truncate_to_millis(at), at);
        }
    }
}
