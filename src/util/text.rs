//! Text as every output cuts and flattens it, and percent-encoding for URLs and their parts.

/// The mark every cut of quoted text ends with; what stands before it may be half a secret.
pub const CUT: char = '…';

/// The most characters a result keeps of any one text: a server can answer with megabytes
/// where a timestamp was expected, and GitHub's step summary takes at most 1 MiB.
pub const MAX_TEXT: usize = 1_000;

/// `s` cut to `max` characters, the last being "…" when something was cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push(CUT);
    out
}

/// Keeps the first `keep` characters of `s`, and marks a cut with "…" after them.
pub fn cut_after(s: &mut String, keep: usize) {
    if let Some((at, _)) = s.char_indices().nth(keep) {
        s.truncate(at);
        s.push(CUT);
    }
}

/// `s` on one line: a message from a server may hold line breaks and control characters.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Everything but RFC 3986's unreserved characters is encoded.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment or query value.
pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

/// `%XX` sequences decoded (others left as they are), as a URL's parts are read by the
/// library that uses them.
pub fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_cuts_end_with_the_mark() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abcd", 4), "abcd");
        let mut s = "abcdef".to_string();
        cut_after(&mut s, 4);
        assert_eq!(s, "abcd…");
        let mut short = "abcd".to_string();
        cut_after(&mut short, 4);
        assert_eq!(short, "abcd");
        assert_eq!(one_line("a\nb\tc"), "a b c");
    }

    #[test]
    fn decoding_takes_only_whole_escapes() {
        assert_eq!(decode("p%40ss%3a%zz%é%4"), "p@ss:%zz%é%4");
        assert_eq!(decode(&encode("a b|c\\\"d")), "a b|c\\\"d");
    }

    #[test]
    fn encode_keeps_file_names_readable() {
        assert_eq!(encode("nightly-cron.yml"), "nightly-cron.yml");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
