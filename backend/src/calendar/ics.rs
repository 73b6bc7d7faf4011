//! RFC 5545 text: content lines with escaped TEXT values, folded at 75 octets, ending in CRLF.
//! Hand-written rather than a crate's: the feed needs a dozen properties, and this is the part
//! that has to be right (the tests read the output back with an independent parser).

/// Longest line, in octets, without its CRLF (RFC 5545 §3.1).
const MAX_LINE_OCTETS: usize = 75;

/// An iCalendar object being written, one content line at a time.
#[derive(Debug, Default)]
pub struct Ics {
    out: String,
}

impl Ics {
    /// A property whose value is already in its RFC 5545 form (a date-time, a rule, a number,
    /// a component name): written as it is.
    pub fn raw(&mut self, name: &str, value: &str) {
        self.line(&format!("{name}:{value}"));
    }

    /// A TEXT property (§3.3.11): backslashes, semicolons, commas and line breaks escaped.
    pub fn text(&mut self, name: &str, value: &str) {
        self.line(&format!("{name}:{}", escape_text(value)));
    }

    /// A property whose value is a list of TEXT values, such as CATEGORIES.
    pub fn text_list<'a>(&mut self, name: &str, values: impl IntoIterator<Item = &'a str>) {
        let values: Vec<String> = values.into_iter().map(escape_text).collect();
        self.line(&format!("{name}:{}", values.join(",")));
    }

    pub fn finish(self) -> String {
        self.out
    }

    /// Writes `line` folded: after every 75 octets a CRLF and a space, never inside a UTF-8
    /// character. The space counts towards the next line's 75.
    fn line(&mut self, line: &str) {
        let mut room = MAX_LINE_OCTETS;
        for ch in line.chars() {
            let len = ch.len_utf8();
            if len > room {
                self.out.push_str("\r\n ");
                room = MAX_LINE_OCTETS - 1;
            }
            self.out.push(ch);
            room -= len;
        }
        self.out.push_str("\r\n");
    }
}

/// A TEXT value (§3.3.11). Line breaks of any style become `\n`; other control characters,
/// which TEXT cannot hold, are dropped (tabs stay).
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            ch if ch.is_control() => {}
            ch => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn written(name: &str, value: &str) -> String {
        let mut ics = Ics::default();
        ics.text(name, value);
        ics.finish()
    }

    /// Reverses folding (§3.1) and TEXT escaping (§3.3.11), as a reader does.
    fn read_back(text: &str) -> String {
        let unfolded = text.trim_end_matches("\r\n").replace("\r\n ", "");
        let value = unfolded.split_once(':').unwrap().1;
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(ch) = chars.next() {
            if ch == '\\' {
                match chars.next().unwrap() {
                    'n' | 'N' => out.push('\n'),
                    other => out.push(other),
                }
            } else {
                out.push(ch);
            }
        }
        out
    }

    #[test]
    fn text_escapes_what_rfc_5545_reserves() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(escape_text("one\ntwo\r\nthree\rfour"), r"one\ntwo\nthree\nfour");
        assert_eq!(escape_text("bell\u{7} tab\t: colon"), "bell tab\t: colon");
    }

    #[test]
    fn short_lines_are_not_folded_and_end_in_crlf() {
        assert_eq!(written("SUMMARY", "Buy milk"), "SUMMARY:Buy milk\r\n");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let title = format!("{}🎉 Ünïcödé", "x".repeat(70));
        let text = written("SUMMARY", &title);
        let lines: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
        // "SUMMARY:" and 67 x's fill 75 octets; the emoji (4 octets) does not fit beside them.
        assert_eq!(lines[0].len(), 75);
        assert!(lines[1].starts_with(" xxx🎉"));
        assert_eq!(read_back(&text), title);
    }

    proptest! {
        #[test]
        fn every_line_fits_and_the_value_reads_back(value in "[\\PC\n]{0,300}") {
            let text = written("DESCRIPTION", &value);
            prop_assert!(text.ends_with("\r\n"));
            for line in text.trim_end_matches("\r\n").split("\r\n") {
                prop_assert!(line.len() <= MAX_LINE_OCTETS, "{line:?}");
            }
            prop_assert_eq!(read_back(&text), value);
        }
    }
}
