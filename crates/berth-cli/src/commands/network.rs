//! `network create/ls/inspect/rm/prune/connect/disconnect` and `port`, printed as the docker
//! CLI prints them.

use std::collections::BTreeMap;

use berth_engine::filters::Filters;
use berth_engine::network::NetworkRequestError;
use berth_engine::types::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamPool, NetworkCreateRequest, NetworkInspect,
    SummaryPort,
};
use berth_engine::{Engine, EngineError};

use crate::cli::{
    NetworkConnectArgs, NetworkCreateArgs, NetworkDisconnectArgs, NetworkInspectArgs,
    NetworkLsArgs, NetworkPruneArgs, NetworkRmArgs, PortArgs,
};
use crate::error::{CliError, CliResult};
use crate::exit::Exit;
use crate::format::{ListFormat, Row};
use crate::output;

/// `docker network ls`.
pub const NETWORKS: ListFormat = ListFormat {
    table: "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
    quiet: "{{.ID}}",
    raw: None,
    headers: &[
        ("ID", "NETWORK ID"),
        ("Name", "NAME"),
        ("Driver", "DRIVER"),
        ("Scope", "SCOPE"),
        ("IPv6", "IPV6"),
        ("Internal", "INTERNAL"),
        ("Labels", "LABELS"),
        ("CreatedAt", "CREATED AT"),
    ],
    quiet_overrides_format: false,
};

fn usage(cmd: &str, text: &str) -> CliError {
    CliError::usage(format!(
        "{text}\n\nUsage:  berth network {cmd}\n\nRun 'berth network {cmd} --help' for more information"
    ))
    .with_exit(Exit::Engine)
}

fn key_values(flags: &[String]) -> BTreeMap<String, String> {
    flags
        .iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// `berth network create`.
pub fn create(engine: &mut Engine, args: &NetworkCreateArgs) -> CliResult {
    let cmd = "create [OPTIONS] NETWORK";
    if args.subnet.len() > 1 {
        return Err(usage(cmd, "berth networks take one IPv4 subnet"));
    }
    if args.subnet.is_empty() && !(args.gateway.is_empty() && args.ip_range.is_empty()) {
        return Err(usage(
            cmd,
            "every ip-range or gateway must have a corresponding subnet",
        ));
    }
    if args.gateway.len() > 1 || args.ip_range.len() > 1 {
        return Err(usage(
            cmd,
            "cannot configure multiple ranges or gateways on the same subnet",
        ));
    }
    let config = args.subnet.first().map(|subnet| {
        vec![IpamPool {
            subnet: subnet.clone(),
            ip_range: args.ip_range.first().cloned().unwrap_or_default(),
            gateway: args.gateway.first().cloned().unwrap_or_default(),
            auxiliary_addresses: (!args.aux_address.is_empty())
                .then(|| key_values(&args.aux_address)),
        }]
    });
    let id = engine.create_network(NetworkCreateRequest {
        name: args.name.clone(),
        check_duplicate: true,
        driver: args.driver.clone(),
        internal: args.internal,
        attachable: args.attachable,
        ingress: false,
        ipam: Some(Ipam {
            driver: args.ipam_driver.clone(),
            options: Some(key_values(&args.ipam_opt)),
            config,
        }),
        enable_ipv6: args.ipv6,
        options: Some(key_values(&args.opt)),
        labels: Some(key_values(&args.label)),
        scope: String::new(),
        config_only: false,
    })?;
    println!("{id}");
    Ok(Exit::Ok)
}

fn network_row(n: &NetworkInspect, no_trunc: bool) -> Row {
    let created = chrono::DateTime::parse_from_rfc3339(&n.created)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S%.9f +0000 UTC")
                .to_string()
        })
        .unwrap_or_default();
    Row::new("*formatter.networkContext")
        .field(
            "ID",
            if no_trunc {
                n.id.clone()
            } else {
                n.id[..12].to_string()
            },
        )
        .field("Name", n.name.clone())
        .field("Driver", n.driver.clone())
        .field("Scope", n.scope.clone())
        .field("IPv6", n.enable_ipv6.to_string())
        .field("Internal", n.internal.to_string())
        .field("CreatedAt", created)
        .labels(n.labels.clone())
}

fn filters(flags: &[String]) -> Result<Filters, CliError> {
    Filters::from_flags(flags).map_err(|e| {
        CliError::usage(format!(
            "invalid argument \"{}\" for \"-f, --filter\" flag: {e}",
            flags
                .iter()
                .find(|f| !f.contains('='))
                .cloned()
                .unwrap_or_default()
        ))
        .with_exit(Exit::Engine)
    })
}

/// `berth network ls`.
pub fn ls(engine: &mut Engine, args: &NetworkLsArgs) -> CliResult {
    let mut list = engine.list_networks(&filters(&args.filter)?)?;
    list.sort_by(|a, b| berth_go::natural_cmp(&a.name, &b.name));
    let rows: Vec<Row> = list.iter().map(|n| network_row(n, args.no_trunc)).collect();
    output::print_list(&rows, args.format.as_deref(), args.quiet, &NETWORKS)?;
    Ok(Exit::Ok)
}

fn no_such_network(name: &str, e: EngineError) -> String {
    match e {
        EngineError::NetworkRequest(NetworkRequestError::NoSuchNetwork(_)) => {
            format!("Error: No such network: {name}")
        }
        other => CliError::from(other).message,
    }
}

/// `berth network inspect`.
pub fn inspect(engine: &mut Engine, args: &NetworkInspectArgs) -> CliResult {
    output::inspect_each(
        &args.names,
        args.format.as_deref(),
        crate::format::gotypes::NETWORK,
        true,
        |name| {
            engine
                .inspect_network(name)
                .map(|n| serde_json::to_value(n).expect("networks serialize"))
                .map_err(|e| no_such_network(name, e))
        },
    )
}

/// `berth network rm`.
pub fn rm(engine: &mut Engine, args: &NetworkRmArgs) -> CliResult {
    let mut exit = Exit::Ok;
    for name in &args.names {
        match engine.remove_network(name) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("{}", no_such_network(name, e));
                exit = Exit::Failure;
            }
        }
    }
    Ok(exit)
}

/// `berth network prune`.
pub fn prune(engine: &mut Engine, args: &NetworkPruneArgs) -> CliResult {
    let f = filters(&args.filter)?;
    if !args.force
        && !super::confirm(
            "WARNING! This will remove all custom networks not used by at least one container.",
        )
    {
        return Ok(Exit::Ok);
    }
    let report = engine.prune_networks(&f)?;
    if !report.networks_deleted.is_empty() {
        println!("Deleted Networks:");
        for n in &report.networks_deleted {
            println!("{n}");
        }
        println!();
    }
    Ok(Exit::Ok)
}

/// `berth network connect`.
pub fn connect(engine: &mut Engine, args: &NetworkConnectArgs) -> CliResult {
    let settings = EndpointSettings {
        aliases: (!args.alias.is_empty()).then(|| args.alias.clone()),
        links: (!args.link.is_empty()).then(|| args.link.clone()),
        ipam_config: (args.ip.is_some() || args.ip6.is_some() || !args.link_local_ip.is_empty())
            .then(|| EndpointIpamConfig {
                ipv4_address: args.ip.clone().unwrap_or_default(),
                ipv6_address: args.ip6.clone().unwrap_or_default(),
                link_local_ips: (!args.link_local_ip.is_empty())
                    .then(|| args.link_local_ip.clone()),
            }),
        driver_opts: (!args.driver_opt.is_empty()).then(|| key_values(&args.driver_opt)),
        ..Default::default()
    };
    engine.connect_network(&args.network, &args.container, settings)?;
    Ok(Exit::Ok)
}

/// `berth network disconnect`.
pub fn disconnect(engine: &mut Engine, args: &NetworkDisconnectArgs) -> CliResult {
    engine.disconnect_network(&args.network, &args.container, args.force)?;
    Ok(Exit::Ok)
}

/// `berth port`.
pub fn port(engine: &mut Engine, args: &PortArgs) -> CliResult {
    let lines = engine
        .port(&args.name, args.port.as_deref())
        .map_err(|e| match e {
            EngineError::NetworkRequest(e @ NetworkRequestError::NoPublicPort { .. }) => {
                CliError::usage(format!("Error: {e}"))
            }
            other => other.into(),
        })?;
    for l in lines {
        if args.port.is_some() {
            println!("{}:{}", l.host_ip, l.host_port);
        } else {
            println!("{} -> {}:{}", l.key, l.host_ip, l.host_port);
        }
    }
    Ok(Exit::Ok)
}

/// The `PORTS` column of `ps`, as the docker CLI groups it: ranges of consecutive ports
/// (`0.0.0.0:8000-8001->8000-8001/tcp`, `80-81/tcp`), then the mappings to other ports.
pub fn displayable_ports(ports: &[SummaryPort]) -> String {
    let mut ports = ports.to_vec();
    ports.sort_by(|a, b| {
        (a.private_port, &a.ip, a.public_port, &a.kind).cmp(&(
            b.private_port,
            &b.ip,
            b.public_port,
            &b.kind,
        ))
    });
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    let mut result = Vec::new();
    let mut mappings = Vec::new();
    for p in &ports {
        let key = match (&p.ip, p.public_port) {
            (Some(ip), Some(public)) if public != p.private_port => {
                mappings.push(format!("{ip}:{public}->{}/{}", p.private_port, p.kind));
                continue;
            }
            (Some(ip), _) => format!("{ip}/{}", p.kind),
            (None, _) => p.kind.clone(),
        };
        match groups.iter_mut().find(|g| g.0 == key) {
            None => groups.push((key, p.private_port, p.private_port)),
            Some(g) if p.private_port == g.2 + 1 => g.2 = p.private_port,
            Some(g) => {
                result.push(form_group(&g.0, g.1, g.2));
                *g = (key, p.private_port, p.private_port);
            }
        }
    }
    for g in &groups {
        result.push(form_group(&g.0, g.1, g.2));
    }
    result.extend(mappings);
    result.join(", ")
}

fn form_group(key: &str, first: u16, last: u16) -> String {
    let (ip, kind) = match key.rsplit_once('/') {
        Some((ip, kind)) => (Some(ip), kind),
        None => (None, key),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    match ip {
        Some(ip) => format!("{ip}:{group}->{group}/{kind}"),
        None => format!("{group}/{kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(ip: Option<&str>, private: u16, public: Option<u16>, kind: &str) -> SummaryPort {
        SummaryPort {
            ip: ip.map(str::to_string),
            private_port: private,
            public_port: public,
            kind: kind.into(),
        }
    }

    #[test]
    fn ports_column_groups_like_docker() {
        assert_eq!(
            displayable_ports(&[
                port(None, 80, None, "tcp"),
                port(Some("0.0.0.0"), 81, Some(8081), "tcp"),
            ]),
            "80/tcp, 0.0.0.0:8081->81/tcp"
        );
        assert_eq!(
            displayable_ports(&[
                port(Some("0.0.0.0"), 8000, Some(8000), "tcp"),
                port(Some("0.0.0.0"), 8001, Some(8001), "tcp"),
                port(None, 7000, None, "udp"),
                port(None, 7001, None, "udp"),
            ]),
            "7000-7001/udp, 0.0.0.0:8000-8001->8000-8001/tcp"
        );
        assert_eq!(displayable_ports(&[]), "");
    }
}
