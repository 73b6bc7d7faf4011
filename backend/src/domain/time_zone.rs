//! IANA time zones, which decide what "today", "end of day" and "every month" mean for a user.

use chrono_tz::Tz;

use super::FieldError;

pub fn parse_time_zone(field: &str, raw: &str) -> Result<Tz, FieldError> {
    raw.trim()
        .parse::<Tz>()
        .map_err(|_| FieldError::new(field, "must be an IANA time zone such as Europe/Berlin or UTC"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_zones_parse_and_unknown_ones_name_the_field() {
        assert_eq!(parse_time_zone("timeZone", "America/New_York").unwrap(), Tz::America__New_York);
        assert_eq!(parse_time_zone("timeZone", "Mars/Olympus").unwrap_err().field, "timeZone");
    }
}
