//! [`apply_change`] applies one Dockerfile-style `--change` instruction (`import -c`, `commit -c`)
//! to a [`ContainerConfig`]: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR,
//! with Docker's JSON-versus-shell forms and its error text for anything else.

use std::collections::BTreeMap;

use crate::config::{ContainerConfig, Empty};

/// A `--change` that cannot be applied. Texts are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// Not one of the instructions a change may use.
    #[error("{0} is not a valid change command")]
    NotAllowed(String),
    /// The instruction's arguments are malformed.
    #[error("{0}")]
    Syntax(String),
}

/// Applies `change` (e.g. `ENV A=1`, `CMD ["sh"]`) to `config`.
pub fn apply_change(config: &mut ContainerConfig, change: &str) -> Result<(), ChangeError> {
    let change = change.trim();
    let (instr, rest) = match change.split_once(|c: char| c.is_whitespace()) {
        Some((i, r)) => (i, r.trim()),
        None => (change, ""),
    };
    let lower = instr.to_ascii_lowercase();
    // dockerd's argument-count checks for the instructions that need arguments.
    if rest.is_empty() {
        let need = match lower.as_str() {
            "expose" | "volume" | "onbuild" | "env" | "label" => Some("at least one argument"),
            "user" | "workdir" => Some("exactly one argument"),
            _ => None,
        };
        if let Some(need) = need {
            return Err(ChangeError::Syntax(format!(
                "{} requires {need}",
                instr.to_ascii_uppercase()
            )));
        }
    }
    match lower.as_str() {
        "cmd" => config.cmd = Some(command_form(rest)),
        "entrypoint" => config.entrypoint = Some(command_form(rest)),
        "env" => {
            let env = config.env.get_or_insert_with(Vec::new);
            for (k, v) in key_values(rest, "ENV")? {
                env.retain(|e| e.split_once('=').map(|(ek, _)| ek) != Some(k.as_str()));
                env.push(format!("{k}={v}"));
            }
        }
        "label" => {
            let labels = config.labels.get_or_insert_with(BTreeMap::new);
            for (k, v) in key_values(rest, "LABEL")? {
                labels.insert(k, v);
            }
        }
        "expose" => {
            let ports = config.exposed_ports.get_or_insert_with(BTreeMap::new);
            for p in words(rest)? {
                let p = if p.contains('/') {
                    p
                } else {
                    format!("{p}/tcp")
                };
                ports.insert(p, Empty {});
            }
        }
        "volume" => {
            let vols = config.volumes.get_or_insert_with(BTreeMap::new);
            let list = json_array(rest).unwrap_or(words(rest)?);
            for v in list {
                if v.is_empty() {
                    return Err(ChangeError::Syntax(
                        "VOLUME specified can not be an empty string".into(),
                    ));
                }
                vols.insert(v, Empty {});
            }
        }
        "user" => config.user = rest.to_string(),
        "workdir" => {
            let base = if config.working_dir.is_empty() {
                "/".to_string()
            } else {
                config.working_dir.clone()
            };
            let joined = if rest.starts_with('/') {
                rest.to_string()
            } else {
                format!("{}/{}", base.trim_end_matches('/'), rest)
            };
            config.working_dir = clean_path(&joined);
        }
        "onbuild" => config
            .on_build
            .get_or_insert_with(Vec::new)
            .push(rest.to_string()),
        _ => return Err(ChangeError::NotAllowed(lower)),
    }
    Ok(())
}

/// `["a","b"]` → exec form; anything else → `/bin/sh -c <text>`.
fn command_form(rest: &str) -> Vec<String> {
    match json_array(rest) {
        Some(v) => v,
        None if rest.is_empty() => vec!["/bin/sh".into(), "-c".into()],
        None => vec!["/bin/sh".into(), "-c".into(), rest.to_string()],
    }
}

fn json_array(rest: &str) -> Option<Vec<String>> {
    if !rest.starts_with('[') {
        return None;
    }
    serde_json::from_str(rest).ok()
}

/// Shell-like words: whitespace separated, with `"..."`/`'...'` quoting and `\` escapes.
fn words(s: &str) -> Result<Vec<String>, ChangeError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                in_word = true;
                let quote = c;
                loop {
                    match chars.next() {
                        Some(q) if q == quote => break,
                        Some('\\') if quote == '"' => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        Some(x) => cur.push(x),
                        None => {
                            return Err(ChangeError::Syntax(format!("unmatched quote in {s:?}")))
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// `K=V K2="v 2"` pairs, or the legacy single `K V...` form.
fn key_values(rest: &str, instr: &str) -> Result<Vec<(String, String)>, ChangeError> {
    let ws = words(rest)?;
    if ws.is_empty() {
        return Err(ChangeError::Syntax(format!(
            "{instr} requires at least one argument"
        )));
    }
    if !ws[0].contains('=') {
        // Legacy form: the first word is the key, the rest of the line the value.
        let key = ws[0].clone();
        let value = rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..]
            .trim()
            .to_string();
        let value = words(&value)?.join(" ");
        return Ok(vec![(key, value)]);
    }
    ws.into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(ChangeError::Syntax(format!(
                "Syntax error - can't find = in {w:?}. Must be of the form: name=value"
            ))),
        })
        .collect()
}

fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply_all(changes: &[&str]) -> ContainerConfig {
        let mut c = ContainerConfig::default();
        for ch in changes {
            apply_change(&mut c, ch).unwrap();
        }
        c
    }

    /// The same changes given to Docker 20.10's `import -c` produced exactly these fields.
    #[test]
    fn matches_docker_import() {
        let c = apply_all(&[
            r#"CMD ["sh"]"#,
            r#"ENV A=1 B="two words""#,
            "ENV C 3 4",
            "VOLUME /data /x",
            r#"VOLUME ["/j"]"#,
            "EXPOSE 80 53/udp",
            r#"LABEL a=b "c d"=e"#,
            "USER 1000",
            "WORKDIR /w",
            "ENTRYPOINT echo hi",
        ]);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"Hostname":"","Domainname":"","User":"1000","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"53/udp":{},"80/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=1","B=two words","C=3 4"],"Cmd":["sh"],"Image":"","Volumes":{"/data":{},"/j":{},"/x":{}},"WorkingDir":"/w","Entrypoint":["/bin/sh","-c","echo hi"],"OnBuild":null,"Labels":{"a":"b","c d":"e"}}"#
        );
    }

    #[test]
    fn edge_forms() {
        assert_eq!(apply_all(&["CMD"]).cmd.unwrap(), vec!["/bin/sh", "-c"]);
        assert_eq!(apply_all(&["WORKDIR rel"]).working_dir, "/rel");
        assert_eq!(
            apply_all(&["WORKDIR /a", "WORKDIR b/../c"]).working_dir,
            "/a/c"
        );
        assert_eq!(
            apply_all(&["ONBUILD RUN x"]).on_build.unwrap(),
            vec!["RUN x"]
        );
        assert_eq!(apply_all(&["ENV A=1", "ENV A=2"]).env.unwrap(), vec!["A=2"]);
    }

    #[test]
    fn instructions_without_their_arguments_fail_like_dockerd() {
        let text = |ch: &str| {
            apply_change(&mut ContainerConfig::default(), ch)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(text("EXPOSE"), "EXPOSE requires at least one argument");
        assert_eq!(text("volume"), "VOLUME requires at least one argument");
        assert_eq!(text("ONBUILD"), "ONBUILD requires at least one argument");
        assert_eq!(text("USER"), "USER requires exactly one argument");
        assert_eq!(text("WORKDIR "), "WORKDIR requires exactly one argument");
    }

    #[test]
    fn refuses_other_instructions_like_docker() {
        let mut c = ContainerConfig::default();
        assert_eq!(
            apply_change(&mut c, "RUN x").unwrap_err().to_string(),
            "run is not a valid change command"
        );
        assert_eq!(
            apply_change(&mut c, "COPY a b").unwrap_err().to_string(),
            "copy is not a valid change command"
        );
    }
}
