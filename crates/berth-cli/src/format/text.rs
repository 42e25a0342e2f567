//! Short forms the docker CLI prints: [`short_id`] (12-hex IDs), [`truncate_with_ellipsis`]
//! (cut to a display width, ending in `…`), [`ps_command`] (the quoted `COMMAND` column) and
//! [`container_size`] (the `SIZE` column).

use berth_go::units::human_size_with_precision;
use unicode_width::UnicodeWidthChar;

/// Length of a short ID.
pub const SHORT_ID_LEN: usize = 12;

/// `stringid.TruncateID`: drops any `algorithm:` prefix and keeps 12 characters
/// (`sha256:adb5f1ec7e9b5b8c...` → `adb5f1ec7e9b`).
pub fn short_id(id: &str) -> &str {
    let id = match id.find(':') {
        Some(i) => &id[i + 1..],
        None => id,
    };
    match id.char_indices().nth(SHORT_ID_LEN) {
        Some((cut, _)) => &id[..cut],
        None => id,
    }
}

/// Display width of a character as the CLI counts it for truncation: 2 for East Asian wide and
/// full-width characters, 1 for everything else.
fn char_width(c: char) -> usize {
    if c.width() == Some(2) {
        2
    } else {
        1
    }
}

/// The CLI's `Ellipsis`: `s` cut to at most `max_width` display columns, the last one being `…`
/// when something was cut. A width of 1 keeps only the first character, 0 gives "".
pub fn truncate_with_ellipsis(s: &str, max_width: usize) -> String {
    if max_width == 0 {
        return String::new();
    }
    let chars: Vec<char> = s.chars().collect();
    if max_width == 1 {
        return chars.first().map(|c| c.to_string()).unwrap_or_default();
    }
    let mut widths = Vec::with_capacity(chars.len());
    let mut total = 0;
    for &c in &chars {
        total += char_width(c);
        widths.push(total);
    }
    if total <= max_width {
        return s.to_string();
    }
    // Keep the longest prefix that fits in max_width - 1, then add the ellipsis.
    let keep = widths.iter().take_while(|&&w| w < max_width).count();
    if keep == 0 {
        // The CLI finds no cut point when the first character is already too wide, and then
        // returns the string whole.
        return s.to_string();
    }
    let mut out: String = chars[..keep].iter().collect();
    out.push('…');
    out
}

/// The `COMMAND` column of `docker ps`: the command line, cut to 20 columns unless `no_trunc`,
/// then quoted Go-style (`"sh -c 'sleep…"`).
pub fn ps_command(command: &str, no_trunc: bool) -> String {
    if no_trunc {
        berth_go::quote(command)
    } else {
        berth_go::quote(&truncate_with_ellipsis(command, 20))
    }
}

/// The `SIZE` column of `docker ps -s`: the writable layer, then the whole filesystem when known
/// (`1.98MB (virtual 3.96MB)`), both with 3 significant digits.
pub fn container_size(size_rw: i64, size_root_fs: i64) -> String {
    let rw = human_size_with_precision(size_rw as f64, 3);
    if size_root_fs > 0 {
        return format!(
            "{rw} (virtual {})",
            human_size_with_precision(size_root_fs as f64, 3)
        );
    }
    rw
}

/// The docker CLI's `IMAGE` column: what the container was created from, shortened like the
/// docker CLI does (an ID to 12 digits, a reference to its familiar form without digest).
pub fn ps_image(image: &str, image_id: &str, trunc: bool) -> String {
    if image.is_empty() {
        return "<no image>".into();
    }
    if !trunc {
        return image.to_string();
    }
    let short = |id: &str| {
        let id = id.split_once(':').map_or(id, |(_, hex)| hex);
        id.chars().take(12).collect::<String>()
    };
    if short(image_id) == short(image) {
        return short(image);
    }
    match berth_image::reference::Reference::parse(image) {
        Ok(r) => match r.tag() {
            Some(tag) => format!("{}:{tag}", r.familiar_name()),
            None => r.familiar_name(),
        },
        Err(_) => image.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the docker CLI 20.10 printed for containers created from these names.
    #[test]
    fn ps_image_is_the_familiar_reference_or_a_short_id() {
        let id = "sha256:727d21d6c59dc6f938ed9570d1e7df2ceea8c23391c9421d969c63a27df93d6b";
        assert_eq!(ps_image("busybox", id, true), "busybox");
        assert_eq!(ps_image("library/busybox", id, true), "busybox");
        assert_eq!(
            ps_image("docker.io/library/busybox:latest", id, true),
            "busybox:latest"
        );
        assert_eq!(ps_image("727d21d6c59d", id, true), "727d21d6c59d");
        assert_eq!(ps_image(id, id, true), "727d21d6c59d");
        assert_eq!(ps_image(id, id, false), id);
        assert_eq!(ps_image("", id, true), "<no image>");
    }

    #[test]
    fn short_ids() {
        let cases = [
            ("sha256:adb5f1ec7e9b5b8c3ad8d0c6bb2ff2c2", "adb5f1ec7e9b"),
            ("adb5f1ec7e9b5b8c3ad8d0c6bb2ff2c2", "adb5f1ec7e9b"),
            ("abcd", "abcd"),
            ("sha256:abcd", "abcd"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(short_id(input), want, "{input}");
        }
    }

    #[test]
    fn ellipsis_like_docker() {
        // From docker/cli displayutils_test.go and ps output.
        let cases: &[(&str, usize, &str)] = &[
            ("t\u{1F433}ststring", 0, ""),
            ("t\u{1F433}ststring", 1, "t"),
            ("t\u{1F433}ststring", 2, "t…"),
            ("t\u{1F433}ststring", 6, "t\u{1F433}st…"),
            ("t\u{1F433}ststring", 20, "t\u{1F433}ststring"),
            ("你好世界teststring", 0, ""),
            ("你好世界teststring", 1, "你"),
            ("你好世界teststring", 3, "你…"),
            ("你好世界teststring", 6, "你好…"),
            ("你好世界teststring", 20, "你好世界teststring"),
            ("你好", 2, "你好"),
            ("teststring", 0, ""),
            ("teststring", 1, "t"),
            ("teststring", 3, "te…"),
            ("teststring", 10, "teststring"),
            ("sh -c 'sleep 1000; echo done'", 20, "sh -c 'sleep 1000; …"),
            ("", 5, ""),
        ];
        for &(s, w, want) in cases {
            assert_eq!(truncate_with_ellipsis(s, w), want, "{s} {w}");
        }
    }

    #[test]
    fn ps_commands() {
        let cases = [
            ("sh", false, "\"sh\""),
            (
                "sh -c 'sleep 1000; echo done'",
                false,
                "\"sh -c 'sleep 1000; …\"",
            ),
            ("sh -c 'sleep 10'", false, "\"sh -c 'sleep 10'\""),
            (
                "sh -c 'sleep 1000; echo done'",
                true,
                "\"sh -c 'sleep 1000; echo done'\"",
            ),
            ("echo \"hi\"", false, "\"echo \\\"hi\\\"\""),
            ("", false, "\"\""),
        ];
        for (cmd, no_trunc, want) in cases {
            assert_eq!(ps_command(cmd, no_trunc), want, "{cmd}");
        }
    }

    #[test]
    fn ps_sizes() {
        assert_eq!(
            container_size(1_980_000, 3_960_000),
            "1.98MB (virtual 3.96MB)"
        );
        assert_eq!(container_size(0, 0), "0B");
        assert_eq!(container_size(6, 0), "6B");
    }
}
