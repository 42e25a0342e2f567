//! Legacy links (`--link NAME[:ALIAS]` on the default bridge): [`parse_link`] reads the flag,
//! [`Link::env`] gives Docker's environment variables (`ALIAS_PORT_80_TCP_ADDR`, `ALIAS_NAME`,
//! `ALIAS_ENV_*`…) and [`Link::hosts_entry`] the `/etc/hosts` line (`IP\talias shortid name`).

use std::net::{IpAddr, Ipv4Addr};

use crate::etc::HostsEntry;
use crate::ports::{PortKey, Proto};
use crate::NetworkError;

/// Parses `NAME[:ALIAS]` (Docker's `HostConfig.Links` holds `/name:/parent/alias` once stored,
/// which is accepted too). Returns `(name, alias)`.
pub fn parse_link(raw: &str) -> Result<(String, String), NetworkError> {
    let (name, alias) = match raw.split_once(':') {
        Some((n, a)) => (n, a.rsplit('/').next().unwrap_or(a)),
        None => (raw, raw),
    };
    let name = name.trim_start_matches('/');
    let alias = alias.trim_start_matches('/');
    if name.is_empty() || alias.is_empty() {
        return Err(NetworkError::InvalidArgument(format!(
            "invalid link format: {raw:?}"
        )));
    }
    Ok((name.to_string(), alias.to_string()))
}

/// A link from a container (the parent) to a running one (the child).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The parent's name, without `/`.
    pub parent: String,
    /// The alias the parent knows the child by.
    pub alias: String,
    /// The child's name, without `/`.
    pub child: String,
    /// The child's short ID.
    pub child_short_id: String,
    /// The child's address on the bridge.
    pub child_ip: Ipv4Addr,
    /// The ports the child exposes.
    pub ports: Vec<PortKey>,
    /// The child's configured environment (`KEY=value`).
    pub child_env: Vec<String>,
}

impl Link {
    /// The `/etc/hosts` line: the alias, the child's short ID, and its name unless that is
    /// the alias.
    pub fn hosts_entry(&self) -> HostsEntry {
        let mut names = vec![self.alias.clone(), self.child_short_id.clone()];
        if self.child != self.alias {
            names.push(self.child.clone());
        }
        HostsEntry {
            ip: IpAddr::V4(self.child_ip),
            names,
        }
    }

    /// Docker's link variables, in Docker's order.
    pub fn env(&self) -> Vec<String> {
        let a = self.alias.to_uppercase().replace('-', "_");
        let ip = self.child_ip;
        let mut ports = self.ports.clone();
        // By number; for one number tcp first.
        ports.sort_by_key(|p| (p.port, p.proto != Proto::Tcp));
        ports.dedup();
        let mut env = Vec::new();
        if let Some(p) = ports.first() {
            env.push(format!("{a}_PORT={}://{ip}:{}", p.proto.as_str(), p.port));
        }
        let up = |p: &PortKey| p.proto.as_str().to_uppercase();
        let mut i = 0;
        while i < ports.len() {
            let p = ports[i];
            // The last port of a run of consecutive numbers starting at i.
            let mut j = i;
            while j + 1 < ports.len() && ports[j + 1].port == ports[j].port + 1 {
                j += 1;
            }
            if j > i + 1 {
                let q = ports[j];
                let (n, pr, pp) = (p.port, up(&p), p.proto.as_str());
                env.push(format!("{a}_PORT_{n}_{pr}_START={pp}://{ip}:{n}"));
                env.push(format!("{a}_PORT_{n}_{pr}_ADDR={ip}"));
                env.push(format!("{a}_PORT_{n}_{pr}_PROTO={pp}"));
                env.push(format!("{a}_PORT_{n}_{pr}_PORT_START={n}"));
                env.push(format!(
                    "{a}_PORT_{n}_{}_END={}://{ip}:{}",
                    up(&q),
                    q.proto.as_str(),
                    q.port
                ));
                env.push(format!("{a}_PORT_{n}_{}_PORT_END={}", up(&q), q.port));
                i = j + 1;
            } else {
                i += 1;
            }
        }
        for p in &ports {
            let (n, pr, pp) = (p.port, up(p), p.proto.as_str());
            env.push(format!("{a}_PORT_{n}_{pr}={pp}://{ip}:{n}"));
            env.push(format!("{a}_PORT_{n}_{pr}_ADDR={ip}"));
            env.push(format!("{a}_PORT_{n}_{pr}_PORT={n}"));
            env.push(format!("{a}_PORT_{n}_{pr}_PROTO={pp}"));
        }
        env.push(format!("{a}_NAME=/{}/{}", self.parent, self.alias));
        for kv in &self.child_env {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            // Docker leaves out what every image sets.
            if k == "HOME" || k == "PATH" {
                continue;
            }
            env.push(format!("{a}_ENV_{k}={v}"));
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(alias: &str, ports: &[&str], env: &[&str]) -> Link {
        Link {
            parent: "angry_hertz".into(),
            alias: alias.into(),
            child: "db".into(),
            child_short_id: "e4f114992355".into(),
            child_ip: Ipv4Addr::new(10, 199, 0, 2),
            ports: ports.iter().map(|p| p.parse().unwrap()).collect(),
            child_env: env.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn env_matches_docker() {
        let mut env = link(
            "db",
            &["3306/tcp", "53/udp"],
            &["A=1", "B=x y", "PATH=/bin"],
        )
        .env();
        env.sort();
        assert_eq!(
            env,
            [
                "DB_ENV_A=1",
                "DB_ENV_B=x y",
                "DB_NAME=/angry_hertz/db",
                "DB_PORT=udp://10.199.0.2:53",
                "DB_PORT_3306_TCP=tcp://10.199.0.2:3306",
                "DB_PORT_3306_TCP_ADDR=10.199.0.2",
                "DB_PORT_3306_TCP_PORT=3306",
                "DB_PORT_3306_TCP_PROTO=tcp",
                "DB_PORT_53_UDP=udp://10.199.0.2:53",
                "DB_PORT_53_UDP_ADDR=10.199.0.2",
                "DB_PORT_53_UDP_PORT=53",
                "DB_PORT_53_UDP_PROTO=udp",
            ]
        );
        assert_eq!(link("pl", &[], &[]).env(), ["PL_NAME=/angry_hertz/pl"]);
        let ranged = link("my-db", &["7000", "7001", "7002"], &[]).env();
        assert!(ranged.contains(&"MY_DB_PORT_7000_TCP_START=tcp://10.199.0.2:7000".to_string()));
        assert!(ranged.contains(&"MY_DB_PORT_7000_TCP_PORT_END=7002".to_string()));
        assert!(ranged.contains(&"MY_DB_PORT_7001_TCP_ADDR=10.199.0.2".to_string()));
    }

    #[test]
    fn hosts_entry_and_parsing() {
        assert_eq!(
            link("mysql", &[], &[]).hosts_entry().names,
            ["mysql", "e4f114992355", "db"]
        );
        assert_eq!(
            link("db", &[], &[]).hosts_entry().names,
            ["db", "e4f114992355"]
        );
        assert_eq!(
            parse_link("db:mysql").unwrap(),
            ("db".to_string(), "mysql".to_string())
        );
        assert_eq!(
            parse_link("db").unwrap(),
            ("db".to_string(), "db".to_string())
        );
        assert_eq!(
            parse_link("/db:/web/mysql").unwrap(),
            ("db".to_string(), "mysql".to_string())
        );
        assert!(parse_link(":x").is_err());
    }
}
