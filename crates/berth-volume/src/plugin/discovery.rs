//! Finding a legacy plugin by name where dockerd looks: a socket `NAME.sock` or
//! `NAME/NAME.sock` under `/run/docker/plugins`, else a spec file `NAME.spec` (one address) or
//! `NAME.json` (`{"Name", "Addr", "TLSConfig"}`), directly or in a `NAME/` folder, under
//! `/etc/docker/plugins` then `/usr/lib/docker/plugins`. Sockets win over spec files, earlier
//! folders over later ones.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::PluginError;

/// Where a plugin listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A unix socket.
    Unix(PathBuf),
    /// `host:port`, plain HTTP.
    Tcp(String),
}

/// The folders searched, Docker's by default.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// Folder of plugin sockets.
    pub sockets: PathBuf,
    /// Folders of spec files, in order.
    pub specs: Vec<PathBuf>,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            sockets: "/run/docker/plugins".into(),
            specs: vec![
                "/etc/docker/plugins".into(),
                "/usr/lib/docker/plugins".into(),
            ],
        }
    }
}

fn candidates(base: &Path, name: &str, ext: &str) -> [PathBuf; 2] {
    [
        base.join(format!("{name}{ext}")),
        base.join(name).join(format!("{name}{ext}")),
    ]
}

/// The subset of Go's `tlsconfig.Options` a JSON spec may carry.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TlsConfig {
    #[serde(rename = "CAFile", default)]
    ca_file: String,
    #[serde(default)]
    cert_file: String,
    #[serde(default)]
    key_file: String,
}

#[derive(Debug, serde::Deserialize)]
struct JsonSpec {
    #[serde(rename = "Addr", default)]
    addr: String,
    #[serde(rename = "TLSConfig", default)]
    tls: Option<TlsConfig>,
}

impl Discovery {
    /// The address of plugin `name`, or [`PluginError::NotFound`].
    pub fn locate(&self, name: &str) -> Result<Address, PluginError> {
        // A name with a separator or a dot path could reach outside the plugin folders.
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(PluginError::NotFound(name.to_string()));
        }
        for p in candidates(&self.sockets, name, ".sock") {
            if std::fs::metadata(&p).is_ok_and(|m| m.file_type().is_socket()) {
                return Ok(Address::Unix(p));
            }
        }
        for dir in &self.specs {
            for ext in [".spec", ".json"] {
                for p in candidates(dir, name, ext) {
                    if p.exists() {
                        return read_spec(&p);
                    }
                }
            }
        }
        Err(PluginError::NotFound(name.to_string()))
    }

    /// Names of every plugin the folders offer (sockets first), without duplicates.
    pub fn scan(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mut add = |n: String| {
            if !names.contains(&n) {
                names.push(n);
            }
        };
        for entry in walkdir::WalkDir::new(&self.sockets)
            .max_depth(2)
            .into_iter()
            .flatten()
        {
            if entry.file_type().is_socket() {
                if let Some(stem) = entry.path().file_stem() {
                    add(stem.to_string_lossy().into_owned());
                }
            }
        }
        for dir in &self.specs {
            for entry in walkdir::WalkDir::new(dir)
                .max_depth(2)
                .into_iter()
                .flatten()
            {
                let p = entry.path();
                let ext = p.extension().and_then(|e| e.to_str());
                if entry.file_type().is_file() && matches!(ext, Some("spec" | "json")) {
                    if let Some(stem) = p.file_stem() {
                        add(stem.to_string_lossy().into_owned());
                    }
                }
            }
        }
        names
    }
}

/// Spec files are small; anything bigger is not one.
const SPEC_LIMIT: u64 = 64 * 1024;

fn read_spec(path: &Path) -> Result<Address, PluginError> {
    let bad = |reason: String| PluginError::Spec {
        path: path.display().to_string(),
        reason,
    };
    let text = {
        use std::io::Read;
        let f = std::fs::File::open(path).map_err(|e| bad(berth_go::errno_text(&e)))?;
        let mut s = String::new();
        f.take(SPEC_LIMIT)
            .read_to_string(&mut s)
            .map_err(|e| bad(berth_go::errno_text(&e)))?;
        s
    };
    let addr = if path.extension().is_some_and(|e| e == "json") {
        let spec: JsonSpec = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if let Some(tls) = &spec.tls {
            if !tls.ca_file.is_empty() || !tls.cert_file.is_empty() || !tls.key_file.is_empty() {
                return Err(bad(
                    "TLSConfig is not supported by berth (use a unix socket or plain tcp://)"
                        .into(),
                ));
            }
        }
        spec.addr
    } else {
        text.trim().to_string()
    };
    parse_address(&addr).map_err(bad)
}

/// `unix:///path` or `tcp://host:port`; `https://` (TLS) is refused, not downgraded.
pub fn parse_address(addr: &str) -> Result<Address, String> {
    let Some((scheme, rest)) = addr.split_once("://") else {
        return Err("Unknown protocol".into());
    };
    match scheme {
        "unix" if rest.starts_with('/') => Ok(Address::Unix(PathBuf::from(rest))),
        "unix" => Err(format!("unix address {addr:?} is not an absolute path")),
        "tcp" | "http" if !rest.is_empty() && !rest.contains('/') => Ok(Address::Tcp(rest.into())),
        "tcp" | "http" => Err(format!("tcp address {addr:?} is not host:port")),
        "https" => Err("TLS plugin addresses (https://) are not supported by berth".into()),
        "" => Err("Unknown protocol".into()),
        other => Err(format!("protocol not available: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discovery(dir: &Path) -> Discovery {
        Discovery {
            sockets: dir.join("run"),
            specs: vec![dir.join("etc"), dir.join("lib")],
        }
    }

    #[test]
    fn sockets_win_over_specs_and_nested_sockets_are_found() {
        let d = tempfile::tempdir().unwrap();
        let disc = discovery(d.path());
        std::fs::create_dir_all(d.path().join("run/b")).unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        let _a = std::os::unix::net::UnixListener::bind(d.path().join("run/a.sock")).unwrap();
        let _b = std::os::unix::net::UnixListener::bind(d.path().join("run/b/b.sock")).unwrap();
        std::fs::write(d.path().join("etc/a.spec"), "tcp://127.0.0.1:1\n").unwrap();
        assert_eq!(
            disc.locate("a").unwrap(),
            Address::Unix(d.path().join("run/a.sock"))
        );
        assert_eq!(
            disc.locate("b").unwrap(),
            Address::Unix(d.path().join("run/b/b.sock"))
        );
        let mut names = disc.scan();
        names.sort();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn spec_files_in_order_and_json_form() {
        let d = tempfile::tempdir().unwrap();
        let disc = discovery(d.path());
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::create_dir_all(d.path().join("lib/j")).unwrap();
        std::fs::write(d.path().join("etc/t.spec"), " tcp://10.0.0.1:8080 \n").unwrap();
        std::fs::write(
            d.path().join("lib/j/j.json"),
            r#"{"Name":"j","Addr":"unix:///x/j.sock","TLSConfig":{"InsecureSkipVerify":true}}"#,
        )
        .unwrap();
        std::fs::write(d.path().join("etc/bad.spec"), "nowhere").unwrap();
        std::fs::write(
            d.path().join("etc/tls.json"),
            r#"{"Addr":"tcp://h:1","TLSConfig":{"CAFile":"/ca.pem"}}"#,
        )
        .unwrap();
        assert_eq!(
            disc.locate("t").unwrap(),
            Address::Tcp("10.0.0.1:8080".into())
        );
        assert_eq!(disc.locate("j").unwrap(), Address::Unix("/x/j.sock".into()));
        assert!(disc
            .locate("bad")
            .unwrap_err()
            .to_string()
            .ends_with("bad.spec: Unknown protocol"));
        assert!(disc
            .locate("tls")
            .unwrap_err()
            .to_string()
            .contains("TLSConfig is not supported"));
        assert_eq!(
            disc.locate("nope").unwrap_err().to_string(),
            "plugin \"nope\" not found"
        );
        assert!(matches!(
            disc.locate("../etc/t"),
            Err(PluginError::NotFound(_))
        ));
    }
}
