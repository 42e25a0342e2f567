//! The contents of a container's `/etc/hosts` and `/etc/resolv.conf`, byte for byte as Docker
//! 20.10 writes them: [`hosts`] (Docker's defaults, `--add-host` entries, legacy links, then the
//! container's own address and hostname), [`parse_extra_host`] (`--add-host name:ip`, with
//! `host-gateway`), and [`resolv_conf`] (the host's file without loopback name servers, or one
//! built from `--dns`, `--dns-search`, `--dns-option`; on networks with a DNS server, that
//! server with `options ndots:0`). The engine writes them at every start, as Docker does.

use std::net::{IpAddr, Ipv4Addr};

use crate::NetworkError;

/// Docker's first lines of every `/etc/hosts`.
pub const HOSTS_DEFAULT: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// Google's public servers, Docker's fallback when the host has only loopback name servers.
const FALLBACK_NAMESERVERS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// One line of `/etc/hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsEntry {
    /// The address.
    pub ip: IpAddr,
    /// Its names, in order.
    pub names: Vec<String>,
}

impl HostsEntry {
    fn line(&self) -> String {
        format!("{}\t{}\n", self.ip, self.names.join(" "))
    }
}

/// Parses `--add-host NAME:IP` (`host-gateway` as the IP means `host_gateway`).
pub fn parse_extra_host(
    raw: &str,
    host_gateway: Option<Ipv4Addr>,
) -> Result<HostsEntry, NetworkError> {
    let Some((name, ip)) = raw.split_once(':') else {
        return Err(NetworkError::InvalidArgument(format!(
            "bad format for add-host: {raw:?}"
        )));
    };
    if name.is_empty() {
        return Err(NetworkError::InvalidArgument(format!(
            "bad format for add-host: {raw:?}"
        )));
    }
    let ip = if ip == "host-gateway" {
        IpAddr::V4(host_gateway.ok_or_else(|| {
            NetworkError::InvalidArgument(
                "unable to derive the IP value for host-gateway".to_string(),
            )
        })?)
    } else {
        ip.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| {
                NetworkError::InvalidArgument(format!("invalid IP address in add-host: {ip:?}"))
            })?
    };
    Ok(HostsEntry {
        ip,
        names: vec![name.to_string()],
    })
}

/// The container's own `/etc/hosts` line: `IP\thostname`, or `IP\thost.domain host`.
pub fn own_entry(ip: Ipv4Addr, hostname: &str, domainname: &str) -> HostsEntry {
    let names = if domainname.is_empty() {
        vec![hostname.to_string()]
    } else {
        vec![format!("{hostname}.{domainname}"), hostname.to_string()]
    };
    HostsEntry {
        ip: IpAddr::V4(ip),
        names,
    }
}

/// A container's `/etc/hosts`: the defaults, `extra` (`--add-host`), `links`, then `own`.
pub fn hosts(extra: &[HostsEntry], links: &[HostsEntry], own: Option<&HostsEntry>) -> String {
    let mut out = HOSTS_DEFAULT.to_string();
    for e in extra.iter().chain(links).chain(own) {
        out.push_str(&e.line());
    }
    out
}

/// `--dns`, `--dns-search`, `--dns-option`: each replaces the host's, when given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsConfig {
    /// Name servers.
    pub servers: Vec<String>,
    /// Search domains.
    pub search: Vec<String>,
    /// Resolver options.
    pub options: Vec<String>,
}

impl DnsConfig {
    fn is_empty(&self) -> bool {
        self.servers.is_empty() && self.search.is_empty() && self.options.is_empty()
    }
}

fn field_values<'a>(host: &'a str, key: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    for line in host.lines() {
        let line = line.split(['#', ';']).next().unwrap_or_default();
        let mut words = line.split_whitespace();
        if words.next() == Some(key) {
            out.extend(words);
        }
    }
    out
}

fn is_loopback(ns: &str) -> bool {
    ns.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host's name servers a container can reach: loopback ones dropped, Docker's fallback
/// when none is left.
pub fn upstream_servers(host: &str) -> Vec<String> {
    let servers: Vec<String> = field_values(host, "nameserver")
        .into_iter()
        .filter(|ns| !is_loopback(ns))
        .map(str::to_string)
        .collect();
    if servers.is_empty() {
        FALLBACK_NAMESERVERS.iter().map(|s| s.to_string()).collect()
    } else {
        servers
    }
}

fn build(servers: &[String], search: &[String], options: &[String]) -> String {
    let mut out = String::new();
    if !search.is_empty() && search.join(" ").trim() != "." {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    for s in servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

/// A container's `/etc/resolv.conf` from the host's (`host`), the user's settings and, on a
/// network with a DNS server, that server's address (`embedded`).
pub fn resolv_conf(host: &str, user: &DnsConfig, embedded: Option<Ipv4Addr>) -> String {
    let search = if user.search.is_empty() {
        field_values(host, "search")
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        user.search.clone()
    };
    let mut options: Vec<String> = if user.options.is_empty() {
        field_values(host, "options")
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        user.options.clone()
    };
    if let Some(server) = embedded {
        // The network's server answers container names and forwards the rest upstream.
        if !options.iter().any(|o| o.starts_with("ndots:")) {
            options.push("ndots:0".into());
        }
        return build(&[server.to_string()], &search, &options);
    }
    if user.is_empty() {
        // The host's file, minus name servers a container cannot reach.
        let mut out = String::new();
        let mut kept = 0;
        for line in host.lines() {
            let mut words = line.split_whitespace();
            if words.next() == Some("nameserver") {
                if words.next().is_some_and(is_loopback) {
                    continue;
                }
                kept += 1;
            }
            out.push_str(line);
            out.push('\n');
        }
        if kept == 0 {
            for s in FALLBACK_NAMESERVERS {
                out.push_str(&format!("nameserver {s}\n"));
            }
        }
        return out;
    }
    let servers = if user.servers.is_empty() {
        upstream_servers(host)
    } else {
        user.servers.clone()
    };
    build(&servers, &search, &options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_is_dockers() {
        let extra = parse_extra_host("foo:1.2.3.4", None).unwrap();
        let link = HostsEntry {
            ip: "10.199.0.2".parse().unwrap(),
            names: vec!["mysql".into(), "6e5b40f21eaf".into(), "db".into()],
        };
        let own = own_entry("10.199.0.3".parse().unwrap(), "myhost", "example.com");
        let text = hosts(&[extra], &[link], Some(&own));
        assert_eq!(
            text,
            format!("{HOSTS_DEFAULT}1.2.3.4\tfoo\n10.199.0.2\tmysql 6e5b40f21eaf db\n10.199.0.3\tmyhost.example.com myhost\n")
        );
        assert_eq!(hosts(&[], &[], None), HOSTS_DEFAULT);
    }

    #[test]
    fn add_host_forms_and_errors() {
        let gw = Some(Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(
            parse_extra_host("gw:host-gateway", gw)
                .unwrap()
                .ip
                .to_string(),
            "10.0.0.1"
        );
        assert_eq!(
            parse_extra_host("v6:::1", gw).unwrap().ip.to_string(),
            "::1"
        );
        assert_eq!(
            parse_extra_host("bad", gw).unwrap_err().to_string(),
            "bad format for add-host: \"bad\""
        );
        assert_eq!(
            parse_extra_host("x:1.2.3", gw).unwrap_err().to_string(),
            "invalid IP address in add-host: \"1.2.3\""
        );
    }

    #[test]
    fn resolv_conf_follows_docker() {
        let host =
            "search corp.example\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n";
        // Default: the host's file without loopback servers.
        assert_eq!(
            resolv_conf(host, &DnsConfig::default(), None),
            "search corp.example\nnameserver 10.0.0.2\noptions edns0\n"
        );
        // Only loopback servers: Google's.
        assert_eq!(
            resolv_conf("nameserver 127.0.0.1\n", &DnsConfig::default(), None),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
        // --dns-search only: the host's servers and options stay.
        let user = DnsConfig {
            search: vec!["b.example".into()],
            ..Default::default()
        };
        assert_eq!(
            resolv_conf(host, &user, None),
            "search b.example\nnameserver 10.0.0.2\noptions edns0\n"
        );
        let user = DnsConfig {
            servers: vec!["1.1.1.1".into()],
            search: vec!["a.example".into()],
            options: vec!["ndots:2".into()],
        };
        assert_eq!(
            resolv_conf(host, &user, None),
            "search a.example\nnameserver 1.1.1.1\noptions ndots:2\n"
        );
        // A network with a DNS server: that server, ndots:0 unless the user set ndots.
        assert_eq!(
            resolv_conf(
                host,
                &DnsConfig::default(),
                Some(Ipv4Addr::new(10, 9, 0, 1))
            ),
            "search corp.example\nnameserver 10.9.0.1\noptions edns0 ndots:0\n"
        );
        assert_eq!(
            resolv_conf(host, &user, Some(Ipv4Addr::new(10, 9, 0, 1))),
            "search a.example\nnameserver 10.9.0.1\noptions ndots:2\n"
        );
    }
}
