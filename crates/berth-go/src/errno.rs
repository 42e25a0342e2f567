//! [`errno_text`]: the text Go prints for an OS error, which Docker's messages embed.

use std::io;

/// The text Go prints for an OS error (`syscall.Errno.Error()`): glibc's message with a
/// lower-case first letter and no "(os error N)" suffix.
pub fn errno_text(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_text_is_go_style() {
        assert_eq!(
            errno_text(&io::Error::from_raw_os_error(20)),
            "not a directory"
        );
        assert_eq!(
            errno_text(&io::Error::from_raw_os_error(13)),
            "permission denied"
        );
    }
}
