//! Go's `strings.ToLower` ([`to_lower`]): Unicode's simple case mapping, which differs from
//! Rust's `to_lowercase` for a few runes.

/// Go's `strings.ToLower`, which uses Unicode's simple (one rune to one rune) case mapping.
pub fn to_lower(s: &str) -> String {
    s.chars().map(lower_rune).collect()
}

fn lower_rune(c: char) -> char {
    if c == '\u{130}' {
        // Go maps LATIN CAPITAL LETTER I WITH DOT ABOVE to a plain 'i'.
        return 'i';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_is_simple_case_mapping() {
        assert_eq!(to_lower("TYPE"), "type");
        assert_eq!(to_lower("\u{130}X"), "ix");
        assert_eq!(to_lower("\u{212A}"), "k");
        assert_eq!(to_lower("ΣΑΣ"), "σασ");
    }
}
