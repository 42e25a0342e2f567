//! Go's `path.Clean` and `filepath.Abs` ([`clean`], [`abs`]): the lexical path rules Docker
//! applies to mount sources and destinations.

/// Go's `path.Clean`: the shortest path name equivalent to `path` by purely lexical processing.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Abs` with an explicit working directory: `path` joined to `cwd`, cleaned.
pub fn abs(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        return clean(path);
    }
    if cwd.is_empty() {
        return clean(path);
    }
    clean(&format!("{cwd}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("//", "/"),
            ("/x//y/../z", "/x/z"),
            ("/srv/./ex//b/", "/srv/ex/b"),
            ("a/../..", ".."),
            ("../../a", "../../a"),
            ("/../a", "/a"),
            ("a/./b/", "a/b"),
            ("./", "."),
            ("/a/b/../../..", "/"),
            ("\\", "\\"),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
        assert_eq!(abs("/work", "./src/"), "/work/src");
        assert_eq!(abs("/work/a", "../b/src"), "/work/b/src");
        assert_eq!(abs("/", ".hidden"), "/.hidden");
    }
}
