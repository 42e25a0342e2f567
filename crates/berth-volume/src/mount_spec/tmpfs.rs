//! [`merge_tmpfs_options`] turns a tmpfs request (`--tmpfs /t:opts` or `--mount type=tmpfs`) into
//! the final option list handed to the runtime: Docker's defaults `noexec,nosuid,nodev,rprivate`
//! first, the user's options after them and winning, one value per flag group and per data key.
//! Invalid options fail with [`TmpfsOptionError`] in Docker's words.

use berth_store::ErrorKind;

use super::api::TmpfsOptions;
use berth_go as go;

/// The options Docker prepends to every tmpfs mount.
pub const DEFAULT_TMPFS_OPTIONS: [&str; 4] = ["noexec", "nosuid", "nodev", "rprivate"];

/// A tmpfs option Docker refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TmpfsOptionError {
    /// Neither a mount flag nor one of tmpfs' data keys (`size`, `mode`, `uid`, `gid`,
    /// `nr_inodes`, `nr_blocks`, `mpol`); carries the option split at its first `=`.
    #[error("invalid tmpfs option {}", quote_parts(.0))]
    InvalidOption(Vec<String>),
    /// A `TmpfsOptions.Options` entry that is not one or two strings.
    #[error("invalid option array length")]
    ArrayLength,
    /// A `TmpfsOptions.Options` key other than `exec`/`noexec`.
    #[error("invalid option: {0}")]
    NotAllowed(String),
    /// A `size` the kernel would refuse at start (`abc`, `-1`, `1e9`) or that overflows 64 bits
    /// (`99999999999999999999`, which the kernel would saturate to 7.5 EB), refused at create
    /// with the words the docker CLI uses for `--mount tmpfs-size`.
    #[error("invalid value for tmpfs size: {0}")]
    InvalidSize(String),
}

/// Checks a tmpfs `size` value as the kernel reads it (`memparse`): decimal digits and an
/// optional `k`, `m`, `g`, `t`, `p` or `e` suffix (either case), or a percentage of memory;
/// the byte count must fit a signed 64-bit number, as `TmpfsOptions.SizeBytes` does.
fn check_size(value: &str) -> Result<(), TmpfsOptionError> {
    let bad = || TmpfsOptionError::InvalidSize(value.to_string());
    let digits = value.bytes().take_while(u8::is_ascii_digit).count();
    let (number, suffix) = value.split_at(digits);
    let shift = match suffix {
        "" | "%" => 0,
        "k" | "K" => 10,
        "m" | "M" => 20,
        "g" | "G" => 30,
        "t" | "T" => 40,
        "p" | "P" => 50,
        "e" | "E" => 60,
        _ => return Err(bad()),
    };
    let n: i64 = number.parse().map_err(|_| bad())?;
    n.checked_mul(1i64 << shift).ok_or_else(bad)?;
    Ok(())
}

fn quote_parts(parts: &[String]) -> String {
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    go::quote_slice(&parts)
}

impl TmpfsOptionError {
    /// Always [`ErrorKind::InvalidArgument`] (HTTP 400).
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

/// The mount flag group of an option (options of one group override each other), or `None` for
/// data options. All propagation options form one group.
fn flag_group(option: &str) -> Option<u8> {
    Some(match option {
        "ro" | "rw" => 1,
        "suid" | "nosuid" => 2,
        "dev" | "nodev" => 3,
        "exec" | "noexec" => 4,
        "sync" | "async" => 5,
        "dirsync" => 6,
        "remount" => 7,
        "mand" | "nomand" => 8,
        "atime" | "noatime" => 9,
        "diratime" | "nodiratime" => 10,
        "relatime" | "norelatime" => 11,
        "strictatime" | "nostrictatime" => 12,
        "bind" | "rbind" | "unbindable" | "runbindable" | "private" | "rprivate" | "shared"
        | "rshared" | "slave" | "rslave" => 0,
        _ => return None,
    })
}

/// Data keys tmpfs accepts (the empty key too, as Docker's table has it).
fn valid_data_key(key: &str) -> bool {
    matches!(
        key,
        "" | "size" | "mode" | "uid" | "gid" | "nr_inodes" | "nr_blocks" | "mpol"
    )
}

/// Merges `options` (later ones win) into the list the runtime gets, in the order of each
/// winner's position; `defaults` is dropped. Fails on the last invalid data option.
pub fn merge_tmpfs_options<S: AsRef<str>>(options: &[S]) -> Result<Vec<String>, TmpfsOptionError> {
    let mut flags_seen = [false; 13];
    let mut data_seen: Vec<&str> = Vec::new();
    let mut merged_reversed: Vec<String> = Vec::new();
    for option in options.iter().rev() {
        let option = option.as_ref();
        if option == "defaults" {
            continue;
        }
        if let Some(group) = flag_group(option) {
            if !flags_seen[usize::from(group)] {
                flags_seen[usize::from(group)] = true;
                merged_reversed.push(option.to_string());
            }
            continue;
        }
        let (key, has_value) = match option.split_once('=') {
            Some((key, _)) => (key, true),
            None => (option, false),
        };
        if !has_value || !valid_data_key(key) {
            let parts = match option.split_once('=') {
                Some((k, v)) => vec![k.to_string(), v.to_string()],
                None => vec![option.to_string()],
            };
            return Err(TmpfsOptionError::InvalidOption(parts));
        }
        if !data_seen.contains(&key) {
            if key == "size" {
                check_size(&option["size=".len()..])?;
            }
            data_seen.push(key);
            merged_reversed.push(option.to_string());
        }
    }
    merged_reversed.reverse();
    Ok(merged_reversed)
}

/// The options of a `--tmpfs DEST:OPTS` mount: the defaults, then `user` split at commas.
pub fn tmpfs_flag_options(user: &str) -> Result<Vec<String>, TmpfsOptionError> {
    let mut all: Vec<&str> = DEFAULT_TMPFS_OPTIONS.to_vec();
    if !user.is_empty() {
        all.extend(user.split(','));
    }
    merge_tmpfs_options(&all)
}

/// Docker's `ConvertTmpfsOptions`: the option string of a `--mount type=tmpfs` mount
/// (`ro`, `mode=1770`, `size=2m`, then `TmpfsOptions.Options`).
pub fn convert_tmpfs_options(
    options: Option<&TmpfsOptions>,
    read_only: bool,
) -> Result<String, TmpfsOptionError> {
    let mut raw: Vec<String> = Vec::new();
    if read_only {
        raw.push("ro".to_string());
    }
    if let Some(opts) = options {
        if opts.mode != 0 {
            raw.push(format!("mode={:o}", opts.mode));
        }
        if opts.size_bytes != 0 {
            raw.push(size_option(opts.size_bytes));
        }
        for option in &opts.options {
            match option.as_slice() {
                [key] | [key, _] if key != "exec" && key != "noexec" => {
                    return Err(TmpfsOptionError::NotAllowed(key.clone()));
                }
                [key] => raw.push(key.clone()),
                [key, value] => raw.push(format!("{key}={value}")),
                _ => return Err(TmpfsOptionError::ArrayLength),
            }
        }
    }
    Ok(raw.join(","))
}

/// `size=<n><unit>` with the largest unit (`g`, `m`, `k`) that divides `bytes` exactly, or plain
/// bytes: `1048576` → `size=1m`.
pub fn size_option(bytes: i64) -> String {
    for (suffix, divisor) in [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
        if bytes % divisor == 0 {
            return format!("size={}{suffix}", bytes / divisor);
        }
    }
    format!("size={bytes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(user: &str) -> String {
        tmpfs_flag_options(user).unwrap().join(",")
    }

    #[test]
    fn defaults_come_first_and_user_options_win() {
        assert_eq!(merged(""), "noexec,nosuid,nodev,rprivate");
        assert_eq!(
            merged("size=1m,mode=0700"),
            "noexec,nosuid,nodev,rprivate,size=1m,mode=0700"
        );
        assert_eq!(merged("ro,exec,suid,dev"), "rprivate,ro,exec,suid,dev");
        assert_eq!(
            merged("rw,noexec,uid=1000,gid=1000,nr_inodes=100"),
            "nosuid,nodev,rprivate,rw,noexec,uid=1000,gid=1000,nr_inodes=100"
        );
        assert_eq!(
            merged("size=1m,size=2m"),
            "noexec,nosuid,nodev,rprivate,size=2m"
        );
        assert_eq!(merged("shared,defaults"), "noexec,nosuid,nodev,shared");
        // Other values are not checked here: the kernel rejects them at start.
        assert_eq!(merged("mode=abc"), "noexec,nosuid,nodev,rprivate,mode=abc");
        assert_eq!(merged("=5"), "noexec,nosuid,nodev,rprivate,=5");
        assert_eq!(merged("size=50%"), "noexec,nosuid,nodev,rprivate,size=50%");
    }

    /// Issue 15: sizes the kernel refuses, or saturates, are refused at create.
    #[test]
    fn sizes_are_checked_at_create() {
        for bad in [
            "abc",
            "-1",
            "1e9",
            "99999999999999999999",
            "8e",
            "",
            "1kb",
            "0x10",
        ] {
            assert_eq!(
                tmpfs_flag_options(&format!("size={bad}"))
                    .unwrap_err()
                    .to_string(),
                format!("invalid value for tmpfs size: {bad}")
            );
        }
        for good in ["0", "1", "64m", "1G", "7e", "100%"] {
            tmpfs_flag_options(&format!("size={good}")).unwrap();
        }
        // The winning value is the one checked.
        tmpfs_flag_options("size=abc,size=1m").unwrap();
    }

    #[test]
    fn invalid_options_use_go_slice_quoting() {
        for (user, want) in [
            ("bogus=1", r#"invalid tmpfs option ["bogus" "1"]"#),
            ("bogus", r#"invalid tmpfs option ["bogus"]"#),
            ("size", r#"invalid tmpfs option ["size"]"#),
            ("size=1m,,ro", r#"invalid tmpfs option [""]"#),
            ("x=a=b", r#"invalid tmpfs option ["x" "a=b"]"#),
        ] {
            assert_eq!(tmpfs_flag_options(user).unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn convert_matches_docker() {
        let opts = TmpfsOptions {
            size_bytes: 2 << 20,
            mode: 0o1770,
            options: vec![],
        };
        assert_eq!(
            convert_tmpfs_options(Some(&opts), true).unwrap(),
            "ro,mode=1770,size=2m"
        );
        assert_eq!(convert_tmpfs_options(None, false).unwrap(), "");
        let with_options = TmpfsOptions {
            options: vec![vec!["exec".into()], vec!["noexec".into(), "x".into()]],
            ..Default::default()
        };
        assert_eq!(
            convert_tmpfs_options(Some(&with_options), false).unwrap(),
            "exec,noexec=x"
        );
        let bad = TmpfsOptions {
            options: vec![vec!["uid".into(), "1".into()]],
            ..Default::default()
        };
        assert_eq!(
            convert_tmpfs_options(Some(&bad), false)
                .unwrap_err()
                .to_string(),
            "invalid option: uid"
        );
        for len in [0, 3] {
            let bad = TmpfsOptions {
                options: vec![vec!["exec".to_string(); len]],
                ..Default::default()
            };
            assert_eq!(
                convert_tmpfs_options(Some(&bad), false).unwrap_err(),
                TmpfsOptionError::ArrayLength
            );
        }
    }

    #[test]
    fn size_uses_largest_exact_unit() {
        assert_eq!(size_option(1_048_576), "size=1m");
        assert_eq!(size_option(1 << 30), "size=1g");
        assert_eq!(size_option(3072), "size=3k");
        assert_eq!(size_option(1536), "size=1536");
        assert_eq!(size_option(10), "size=10");
        assert_eq!(size_option(1024 + 1), "size=1025");
        assert_eq!(size_option(-1), "size=-1");
        assert_eq!(size_option(i64::MIN), "size=-8589934592g");
    }
}
