//! The logging half of the run configuration: `--log-driver` (`json-file`, Docker's default;
//! `local`; `none`) and `--log-opt` (`max-size`, `max-file`, `compress`, `mode=blocking`),
//! checked at create with dockerd's texts and turned into where the container's shim writes its
//! log and how it rotates it. berth's `local` driver keeps the json-file format (the on-disk
//! format of a log driver is the engine's business) with Docker's `local` defaults: 20 MB files,
//! five of them, compressed.

use std::collections::BTreeMap;

use berth_runtime::logs::LogRotation;

use super::RunConfigError;
use crate::types::LogConfig;

/// Where a container's log goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDriver {
    /// `<dir>/<id>-json.log`.
    JsonFile,
    /// `<dir>/local-logs/container.log`.
    Local,
    /// Nowhere (`logs` cannot read it).
    None,
}

/// A container's log driver and rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSettings {
    /// The driver.
    pub driver: LogDriver,
    /// How its file rotates.
    pub rotation: LogRotation,
}

fn invalid(text: impl Into<String>) -> RunConfigError {
    RunConfigError::Invalid(text.into())
}

/// dockerd's wrapper for an option its driver cannot start with.
fn init_failed(why: impl std::fmt::Display) -> RunConfigError {
    invalid(format!("failed to initialize logging driver: {why}"))
}

/// The drivers dockerd has and berth does not.
const OTHER_DRIVERS: [&str; 9] = [
    "syslog",
    "journald",
    "gelf",
    "fluentd",
    "awslogs",
    "splunk",
    "etwlogs",
    "gcplogs",
    "logentries",
];

/// `LogConfig` checked as dockerd checks it at create.
pub fn settings(cfg: &LogConfig) -> Result<LogSettings, RunConfigError> {
    let driver = match cfg.kind.as_str() {
        "" | "json-file" => LogDriver::JsonFile,
        "local" => LogDriver::Local,
        "none" => LogDriver::None,
        other if OTHER_DRIVERS.contains(&other) => {
            return Err(invalid(format!(
            "the {other} log driver is not supported by berth (it has json-file, local and none)"
        )))
        }
        other => {
            return Err(invalid(format!(
                "error looking up logging plugin {other}: plugin {other:?} not found"
            )))
        }
    };
    let opts: &BTreeMap<String, String> = &cfg.config;
    if driver == LogDriver::None {
        if !opts.is_empty() {
            return Err(invalid("invalid logging opts for driver none"));
        }
        return Ok(LogSettings {
            driver,
            rotation: LogRotation::default(),
        });
    }
    let name = if driver == LogDriver::Local {
        "local"
    } else {
        "json-file"
    };
    for key in opts.keys() {
        match key.as_str() {
            "max-size" | "max-file" | "compress" | "mode" | "max-buffer-size" => {}
            "labels" | "labels-regex" | "env" | "env-regex" | "tag"
                if driver == LogDriver::JsonFile =>
            {
                return Err(invalid(format!(
                    "log opt '{key}' is not supported by berth's json-file driver yet"
                )))
            }
            _ => {
                return Err(invalid(format!(
                    "unknown log opt '{key}' for {name} log driver"
                )))
            }
        }
    }
    match opts.get("mode").map(String::as_str) {
        None | Some("blocking") => {}
        Some("non-blocking") => {
            return Err(invalid(
                "log opt mode=non-blocking is not supported by berth: the container's shim writes each line as it reads it (mode=blocking)",
            ))
        }
        Some(m) => return Err(invalid(format!("logger: logging mode not supported: {m}"))),
    }
    if opts.contains_key("max-buffer-size") {
        return Err(invalid(
            "log opt max-buffer-size applies to mode=non-blocking, which berth does not have",
        ));
    }
    let local = driver == LogDriver::Local;
    let max_size = match opts.get("max-size") {
        Some(s) => {
            let size = berth_go::daemon_ram_in_bytes(s).map_err(init_failed)?;
            if size <= 0 {
                return Err(init_failed("max-size must be a positive number"));
            }
            Some(size as u64)
        }
        None if local => Some(20 * 1024 * 1024),
        None => None,
    };
    let max_file = match opts.get("max-file") {
        Some(s) => {
            let n: i64 = s
                .parse()
                .map_err(|_| init_failed(format!("strconv.Atoi: parsing {s:?}: invalid syntax")))?;
            if n < 1 {
                return Err(init_failed("max-file cannot be less than 1"));
            }
            if max_size.is_none() {
                // dockerd accepts it and keeps one file anyway.
                return Err(invalid(
                    "log opt max-file has no effect without max-size: berth refuses it rather than ignore it",
                ));
            }
            n.min(u32::MAX as i64) as u32
        }
        None if local => 5,
        None => 1,
    };
    let compress = match opts.get("compress") {
        Some(s) => berth_go::parse_bool(s).ok_or_else(|| {
            init_failed(format!("strconv.ParseBool: parsing {s:?}: invalid syntax"))
        })?,
        None => local && max_file > 1,
    };
    if compress && (max_file < 2 || max_size.is_none()) {
        return Err(init_failed(
            "compress cannot be true when max-file is less than 2 or max-size is not set",
        ));
    }
    Ok(LogSettings {
        driver,
        rotation: LogRotation {
            max_size,
            max_file,
            compress,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(kind: &str, opts: &[(&str, &str)]) -> LogConfig {
        LogConfig {
            kind: kind.into(),
            config: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn err(kind: &str, opts: &[(&str, &str)]) -> String {
        settings(&cfg(kind, opts)).unwrap_err().to_string()
    }

    #[test]
    fn drivers_and_options_follow_docker() {
        let s = settings(&cfg("json-file", &[])).unwrap();
        assert_eq!(
            (s.driver, s.rotation),
            (LogDriver::JsonFile, LogRotation::default())
        );
        let s = settings(&cfg("local", &[])).unwrap();
        assert_eq!(
            s.rotation,
            LogRotation {
                max_size: Some(20 << 20),
                max_file: 5,
                compress: true
            }
        );
        let s = settings(&cfg(
            "json-file",
            &[("max-size", "1k"), ("max-file", "3"), ("compress", "true")],
        ))
        .unwrap();
        assert_eq!(
            s.rotation,
            LogRotation {
                max_size: Some(1024),
                max_file: 3,
                compress: true
            }
        );
        assert_eq!(settings(&cfg("none", &[])).unwrap().driver, LogDriver::None);
        assert_eq!(
            err("foo", &[]),
            "error looking up logging plugin foo: plugin \"foo\" not found"
        );
        assert_eq!(
            err("json-file", &[("max-size", "abc")]),
            "failed to initialize logging driver: invalid size: 'abc'"
        );
        assert_eq!(
            err("json-file", &[("max-size", "1x")]),
            "failed to initialize logging driver: invalid size: '1x'"
        );
        assert_eq!(
            err("local", &[("max-size", "1e3")]),
            "failed to initialize logging driver: invalid size: '1e3'"
        );
        assert_eq!(
            err("json-file", &[("max-size", "0")]),
            "failed to initialize logging driver: max-size must be a positive number"
        );
        assert_eq!(
            err("json-file", &[("max-size", "1k"), ("max-file", "0")]),
            "failed to initialize logging driver: max-file cannot be less than 1"
        );
        assert_eq!(
            err("json-file", &[("foo", "bar")]),
            "unknown log opt 'foo' for json-file log driver"
        );
        assert_eq!(
            err("json-file", &[("compress", "maybe")]),
            "failed to initialize logging driver: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
        assert_eq!(
            err("json-file", &[("compress", "true")]),
            "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set"
        );
        assert_eq!(
            err("none", &[("max-size", "1k")]),
            "invalid logging opts for driver none"
        );
        assert!(err("syslog", &[]).contains("not supported by berth"));
        assert!(err("json-file", &[("max-file", "3")]).contains("without max-size"));
        assert!(err("json-file", &[("mode", "non-blocking")]).contains("non-blocking"));
        assert!(settings(&cfg("json-file", &[("mode", "blocking")])).is_ok());
    }
}
