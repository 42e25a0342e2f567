//! The native backend's firewall rules, as `iptables-restore --noflush` batches — one process
//! per change, through whichever iptables the host uses (nf_tables underneath on Debian 12, the
//! legacy tables elsewhere), so berth's rules sit beside Docker's, Podman's and the admin's.
//!
//! Two lifetimes, two kinds of rules:
//! - **network rules**, installed once when a network is first used and kept while it exists
//!   (Docker keeps docker0's for the daemon's life): three chains named after the network's ID
//!   ([`Chains`]) — outbound NAT, `127.0.0.1` and hairpin NAT for published ports, forwarding
//!   (or, for `--internal`, the drops that keep it off the host's routes) — and the jumps to
//!   them from the built-in chains; removed by `network rm` ([`Firewall::remove_network`]);
//! - **isolation rules** between one engine's bridge networks, as Docker's
//!   `DOCKER-ISOLATION-STAGE-1/2`: two chains per data root ([`Isolation`]), jumped to from the
//!   top of `FORWARD`; each network adds `-i BR ! -o BR -j STAGE-2` to the first and
//!   `-o BR -j DROP` to the second (in the same batch as its own chains), so traffic routed
//!   from one of the engine's bridges to another is dropped, and a container reaches another
//!   network only through an interface on it (`network connect`). Traffic to a published port
//!   (conntrack state `DNAT`) is let through, as Docker's userland proxy lets it through. The
//!   network's two rules go with it; the chains go with the engine's last network;
//! - **port rules** of one container endpoint: one `DNAT` per published port in the network's
//!   `BERTH-DNAT-` chain, added on connect and deleted on disconnect, one batch each. Nothing
//!   at all for an endpoint that publishes nothing.
//!
//! Removal reads `iptables-save` and deletes exactly what is there, so it works on whatever is
//! left (half-installed rules, rules a reboot or an admin already removed).

use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::backend::NetworkSpec;
use crate::ports::PublishedPort;
use crate::NetworkError;

/// Where iptables lives on Debian and elsewhere.
const SBIN_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin"];

/// The chains of one network: `BERTH-POST-`, `BERTH-DNAT-` (nat) and `BERTH-FWD-` (filter),
/// each followed by the first 12 hex digits of the network's ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chains {
    /// nat POSTROUTING: masquerade.
    pub post: String,
    /// nat PREROUTING/OUTPUT to local addresses: published ports.
    pub dnat: String,
    /// filter FORWARD.
    pub fwd: String,
}

/// The isolation chains of one engine (data root): `BERTH-ISO1-<tag>`, `BERTH-ISO2-<tag>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Isolation {
    /// Jumped to from `FORWARD`: one rule per network, sending what leaves its bridge for
    /// another interface to `stage2`.
    pub stage1: String,
    /// One `DROP` per network, of what enters its bridge.
    pub stage2: String,
}

impl Isolation {
    /// The chains tagged `tag` (8 hex digits naming the engine).
    pub fn new(tag: &str) -> Isolation {
        Isolation {
            stage1: format!("BERTH-ISO1-{tag}"),
            stage2: format!("BERTH-ISO2-{tag}"),
        }
    }

    /// The rules network `net` adds to the chains.
    fn rules(&self, bridge: &str) -> [String; 2] {
        [
            format!(
                "-A {} -i {bridge} ! -o {bridge} -j {}",
                self.stage1, self.stage2
            ),
            format!("-A {} -o {bridge} -j DROP", self.stage2),
        ]
    }

    /// What of the chains `saved` (`iptables-save` output) shows: (stage 1 declared, stage 2
    /// declared, the jump from `FORWARD` there).
    fn present(&self, saved: &str) -> (bool, bool, bool) {
        let filter = table_of(saved, "filter");
        let declared = |name: &str| filter.iter().any(|l| declared_name(l) == Some(name));
        let jump = filter.iter().any(|l| {
            l.strip_prefix("-A FORWARD ")
                .is_some_and(|r| jumps_to(r, &[self.stage1.as_str()]))
        });
        (declared(&self.stage1), declared(&self.stage2), jump)
    }
}

/// The lines of `table` in `saved` (`iptables-save` output).
fn table_of<'a>(saved: &'a str, table: &str) -> Vec<&'a str> {
    let mut lines = saved
        .lines()
        .skip_while(|l| l.strip_prefix('*') != Some(table));
    lines.next();
    lines.take_while(|l| *l != "COMMIT").collect()
}

/// The chain a `:NAME POLICY [0:0]` line declares.
fn declared_name(line: &str) -> Option<&str> {
    line.strip_prefix(':')?.split_whitespace().next()
}

/// Whether `rule` names interface `iface` (`-i` or `-o`).
fn names_interface(rule: &str, iface: &str) -> bool {
    let words: Vec<&str> = rule.split_whitespace().collect();
    words
        .windows(2)
        .any(|w| (w[0] == "-i" || w[0] == "-o") && w[1] == iface)
}

impl Chains {
    pub fn of(net: &NetworkSpec) -> Chains {
        let tag: String = net.id.chars().take(12).collect();
        Chains {
            post: format!("BERTH-POST-{tag}"),
            dnat: format!("BERTH-DNAT-{tag}"),
            fwd: format!("BERTH-FWD-{tag}"),
        }
    }

    fn all(&self) -> [&str; 3] {
        [&self.post, &self.dnat, &self.fwd]
    }
}

/// The iptables-restore and iptables-save binaries.
#[derive(Debug, Clone)]
pub(crate) struct Firewall {
    restore: PathBuf,
    save: PathBuf,
}

fn find(name: &str) -> Option<PathBuf> {
    SBIN_DIRS
        .iter()
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file())
}

fn failed(op: &'static str, message: String) -> NetworkError {
    NetworkError::Backend {
        backend: "iptables",
        op,
        message,
    }
}

/// The network rules of `net` as a restore batch (its chains must not exist yet), with its
/// isolation rules; `present` says which of the isolation chains and their jump exist already
/// ([`Isolation::present`]): the batch makes the others.
pub(crate) fn network_batch(
    net: &NetworkSpec,
    dns_port: Option<u16>,
    iso: &Isolation,
    present: (bool, bool, bool),
) -> String {
    let c = Chains::of(net);
    let br = &net.bridge;
    let sub = net.ipam.subnet.trunc();
    let mut nat = vec![
        format!(":{} - [0:0]", c.post),
        format!(":{} - [0:0]", c.dnat),
        format!("-A POSTROUTING -j {}", c.post),
        format!("-A PREROUTING -m addrtype --dst-type LOCAL -j {}", c.dnat),
        format!("-A OUTPUT -m addrtype --dst-type LOCAL -j {}", c.dnat),
        // The host's own 127.0.0.1 reaching a published port (route_localnet is on).
        format!("-A {} -s 127.0.0.0/8 -o {br} -j MASQUERADE", c.post),
        // A container reaching a published port of its own network through a host address:
        // without this the answer would go straight back over the bridge, unNATed.
        format!(
            "-A {} -s {sub} -d {sub} -o {br} -m conntrack --ctstate DNAT -j MASQUERADE",
            c.post
        ),
    ];
    let mut filter = vec![format!(":{} - [0:0]", c.fwd)];
    let (stage1, stage2, jump) = present;
    if !stage1 {
        filter.push(format!(":{} - [0:0]", iso.stage1));
    }
    if !stage2 {
        filter.push(format!(":{} - [0:0]", iso.stage2));
    }
    if !jump {
        // Before every network's forwarding chain, whose ACCEPTs would end the walk.
        filter.push(format!("-I FORWARD -j {}", iso.stage1));
    }
    if !stage1 {
        // A published port is reachable from every network, as through Docker's proxy.
        filter.push(format!(
            "-A {} -m conntrack --ctstate DNAT -j RETURN",
            iso.stage1
        ));
    }
    filter.extend(iso.rules(br));
    filter.push(format!("-A FORWARD -j {}", c.fwd));
    if net.internal {
        filter.push(format!("-A {} -i {br} ! -o {br} -j DROP", c.fwd));
        filter.push(format!("-A {} ! -i {br} -o {br} -j DROP", c.fwd));
    } else {
        nat.push(format!("-A {} -s {sub} ! -o {br} -j MASQUERADE", c.post));
        filter.push(format!(
            "-A {} -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            c.fwd
        ));
        filter.push(format!(
            "-A {} -o {br} -m conntrack --ctstate DNAT -j ACCEPT",
            c.fwd
        ));
        filter.push(format!("-A {} -i {br} -j ACCEPT", c.fwd));
    }
    if let Some(port) = dns_port.filter(|p| net.dns && *p != 53) {
        let gw = net.ipam.gateway;
        for proto in ["udp", "tcp"] {
            nat.push(format!(
                "-A {} -d {gw}/32 -p {proto} -m {proto} --dport 53 -j DNAT --to-destination {gw}:{port}",
                c.dnat
            ));
        }
    }
    format!(
        "*nat\n{}\nCOMMIT\n*filter\n{}\nCOMMIT\n",
        nat.join("\n"),
        filter.join("\n")
    )
}

/// The `DNAT` rules of one endpoint's published ports, added (`-A`) or deleted (`-D`).
pub(crate) fn ports_batch(
    net: &NetworkSpec,
    ip: Ipv4Addr,
    ports: &[PublishedPort],
    op: &str,
) -> String {
    let c = Chains::of(net);
    let mut out = String::from("*nat\n");
    for p in ports {
        let proto = p.proto.as_str();
        let dest = if p.host_ip.is_unspecified() {
            String::new()
        } else {
            format!("-d {}/32 ", p.host_ip)
        };
        out.push_str(&format!(
            "{op} {} {dest}-p {proto} -m {proto} --dport {} -j DNAT --to-destination {ip}:{}\n",
            c.dnat, p.host_port, p.container_port
        ));
    }
    out.push_str("COMMIT\n");
    out
}

/// The batch deleting, from `iptables-save` output `saved`, every rule `wanted` selects (given
/// the chain it is in and the rule) and the chains in `chains` (flushed, then deleted).
fn removal_batch(saved: &str, chains: &[&str], wanted: impl Fn(&str, &str) -> bool) -> String {
    let mut out = String::new();
    let mut table: Option<(&str, Vec<String>)> = None;
    let flush = |out: &mut String, table: &mut Option<(&str, Vec<String>)>| {
        if let Some((name, lines)) = table.take() {
            if !lines.is_empty() {
                out.push_str(&format!("*{name}\n{}\nCOMMIT\n", lines.join("\n")));
            }
        }
    };
    let mut declared: Vec<String> = Vec::new();
    for line in saved.lines() {
        if let Some(name) = line.strip_prefix('*') {
            flush(&mut out, &mut table);
            table = Some((name, Vec::new()));
            declared.clear();
        } else if line == "COMMIT" {
            if let Some((_, lines)) = table.as_mut() {
                for c in &declared {
                    lines.push(format!("-X {c}"));
                }
            }
            declared.clear();
        } else if let Some(decl) = line.strip_prefix(':') {
            let name = decl.split_whitespace().next().unwrap_or_default();
            if chains.contains(&name) {
                if let Some((_, lines)) = table.as_mut() {
                    lines.push(format!("-F {name}"));
                }
                declared.push(name.to_string());
            }
        } else if let Some(rule) = line.strip_prefix("-A ") {
            let chain = rule.split_whitespace().next().unwrap_or_default();
            if !chains.contains(&chain) && wanted(chain, rule) {
                if let Some((_, lines)) = table.as_mut() {
                    lines.push(format!("-D {rule}"));
                }
            }
        }
    }
    flush(&mut out, &mut table);
    out
}

/// The batch removing, of the rules there are (`saved`), every rule and chain of `net` and its
/// isolation rules, and the isolation chains when no other network has rules in them, unless
/// `keep_isolation` (they are about to be used again).
fn network_removal_batch(
    saved: &str,
    net: &NetworkSpec,
    iso: &Isolation,
    keep_isolation: bool,
) -> String {
    let c = Chains::of(net);
    let mut chains = c.all().to_vec();
    let br = net.bridge.as_str();
    let others = table_of(saved, "filter").into_iter().any(|l| {
        l.strip_prefix("-A ").is_some_and(|r| {
            r.split_whitespace().next() == Some(&iso.stage2) && !names_interface(r, br)
        })
    });
    if !keep_isolation && !others {
        chains.extend([iso.stage1.as_str(), iso.stage2.as_str()]);
    }
    removal_batch(saved, &chains, |chain, rule| {
        jumps_to(rule, &chains)
            || ((chain == iso.stage1 || chain == iso.stage2) && names_interface(rule, br))
    })
}

/// Whether `rule` jumps to one of `chains`.
fn jumps_to(rule: &str, chains: &[&str]) -> bool {
    let words: Vec<&str> = rule.split_whitespace().collect();
    words
        .windows(2)
        .any(|w| (w[0] == "-j" || w[0] == "-g") && chains.contains(&w[1]))
}

impl Firewall {
    /// The installed iptables-restore and iptables-save.
    pub fn find() -> Result<Firewall, NetworkError> {
        let missing = |tool: &'static str| NetworkError::MissingTool {
            tool,
            looked: SBIN_DIRS.join(", "),
            purpose: "bridge networks",
            package: "iptables",
        };
        Ok(Firewall {
            restore: find("iptables-restore").ok_or_else(|| missing("iptables-restore"))?,
            save: find("iptables-save").ok_or_else(|| missing("iptables-save"))?,
        })
    }

    /// Applies `batch` with `iptables-restore --noflush` (all of it or none of it).
    pub fn apply(&self, op: &'static str, batch: &str) -> Result<(), NetworkError> {
        log::debug!("iptables-restore {op}:\n{batch}");
        let mut child = Command::new(&self.restore)
            .args(["--noflush", "--wait"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| NetworkError::io("run", &self.restore, e))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A failed write shows in the exit status.
            let _ = stdin.write_all(batch.as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|e| NetworkError::io("run", &self.restore, e))?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(failed(
            op,
            if err.is_empty() {
                format!("iptables-restore exited with {}", out.status)
            } else {
                err
            },
        ))
    }

    fn saved(&self) -> Result<String, NetworkError> {
        let out = Command::new(&self.save)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| NetworkError::io("run", &self.save, e))?;
        if !out.status.success() {
            return Err(failed(
                "save",
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Whether every chain of `net` exists, and its isolation rules.
    pub fn network_installed(
        &self,
        net: &NetworkSpec,
        iso: &Isolation,
    ) -> Result<bool, NetworkError> {
        let saved = self.saved()?;
        let c = Chains::of(net);
        let chains = saved
            .lines()
            .filter_map(declared_name)
            .filter(|n| c.all().contains(n))
            .count();
        let filter = table_of(&saved, "filter");
        let has = |rule: &str| {
            filter
                .iter()
                .any(|l| l.split_whitespace().eq(rule.split_whitespace()))
        };
        let isolated = iso.present(&saved) == (true, true, true)
            && iso.rules(&net.bridge).iter().all(|r| has(r));
        Ok(chains == c.all().len() && isolated)
    }

    /// Installs the network rules of `net`, replacing whatever of them is left.
    pub fn install_network(
        &self,
        net: &NetworkSpec,
        dns_port: Option<u16>,
        iso: &Isolation,
    ) -> Result<(), NetworkError> {
        let saved = self.saved()?;
        self.remove_network_in(&saved, net, iso, true)?;
        self.apply(
            "install network rules",
            &network_batch(net, dns_port, iso, iso.present(&saved)),
        )
    }

    /// Removes every rule and chain of `net` there is, and the isolation chains if no other
    /// network has rules in them.
    pub fn remove_network(&self, net: &NetworkSpec, iso: &Isolation) -> Result<(), NetworkError> {
        self.remove_network_in(&self.saved()?, net, iso, false)
    }

    /// [`Firewall::remove_network`] given the rules there are (`saved`).
    fn remove_network_in(
        &self,
        saved: &str,
        net: &NetworkSpec,
        iso: &Isolation,
        keep_isolation: bool,
    ) -> Result<(), NetworkError> {
        let batch = network_removal_batch(saved, net, iso, keep_isolation);
        if batch.is_empty() {
            return Ok(());
        }
        self.apply("remove network rules", &batch)
    }

    /// Adds the port rules of an endpoint at `ip` of `net`.
    pub fn add_ports(
        &self,
        net: &NetworkSpec,
        ip: Ipv4Addr,
        ports: &[PublishedPort],
    ) -> Result<(), NetworkError> {
        self.apply("publish ports", &ports_batch(net, ip, ports, "-A"))
    }

    /// Deletes the port rules of an endpoint at `ip` of `net`: in one batch when they are all
    /// there, else whichever of them `iptables-save` still shows.
    pub fn remove_ports(
        &self,
        net: &NetworkSpec,
        ip: Ipv4Addr,
        ports: &[PublishedPort],
    ) -> Result<(), NetworkError> {
        if self
            .apply("unpublish ports", &ports_batch(net, ip, ports, "-D"))
            .is_ok()
        {
            return Ok(());
        }
        let c = Chains::of(net);
        let target = format!("--to-destination {ip}:");
        // Rules in the network's own DNAT chain: select them by chain, not as chains to drop.
        let batch = removal_batch(&self.saved()?, &[], |chain, rule| {
            chain == c.dnat && rule.contains(&target)
        });
        if batch.is_empty() {
            return Ok(());
        }
        self.apply("unpublish ports", &batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipam::Ipam;
    use crate::ports::Proto;

    fn net(internal: bool) -> NetworkSpec {
        NetworkSpec {
            id: "0123456789abcdef".repeat(4),
            name: "front".into(),
            bridge: "br-test".into(),
            ipam: Ipam::new("10.9.0.0/24".parse().unwrap(), None, None).unwrap(),
            internal,
            dns: true,
            mtu: None,
        }
    }

    #[test]
    fn network_rules_are_named_after_the_network() {
        let iso = Isolation::new("feedbeef");
        let b = network_batch(&net(false), Some(5353), &iso, (true, true, true));
        assert!(
            b.starts_with("*nat\n:BERTH-POST-0123456789ab - [0:0]\n"),
            "{b}"
        );
        assert!(b.contains("-A BERTH-POST-0123456789ab -s 10.9.0.0/24 ! -o br-test -j MASQUERADE"));
        assert!(b.contains("-A FORWARD -j BERTH-FWD-0123456789ab"));
        assert!(b.contains("--dport 53 -j DNAT --to-destination 10.9.0.1:5353"));
        let internal = network_batch(&net(true), None, &iso, (true, true, true));
        assert!(
            !internal.contains("! -o br-test -j MASQUERADE"),
            "{internal}"
        );
        assert!(internal.contains("-i br-test ! -o br-test -j DROP"));
        assert!(!internal.contains("--dport 53"));
    }

    #[test]
    fn the_first_network_makes_the_isolation_chains_and_every_network_adds_its_rules() {
        let iso = Isolation::new("feedbeef");
        let first = network_batch(&net(false), None, &iso, (false, false, false));
        let filter = first.split("*filter\n").nth(1).unwrap();
        assert_eq!(
            filter,
            ":BERTH-FWD-0123456789ab - [0:0]\n\
             :BERTH-ISO1-feedbeef - [0:0]\n\
             :BERTH-ISO2-feedbeef - [0:0]\n\
             -I FORWARD -j BERTH-ISO1-feedbeef\n\
             -A BERTH-ISO1-feedbeef -m conntrack --ctstate DNAT -j RETURN\n\
             -A BERTH-ISO1-feedbeef -i br-test ! -o br-test -j BERTH-ISO2-feedbeef\n\
             -A BERTH-ISO2-feedbeef -o br-test -j DROP\n\
             -A FORWARD -j BERTH-FWD-0123456789ab\n\
             -A BERTH-FWD-0123456789ab -o br-test -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             -A BERTH-FWD-0123456789ab -o br-test -m conntrack --ctstate DNAT -j ACCEPT\n\
             -A BERTH-FWD-0123456789ab -i br-test -j ACCEPT\nCOMMIT\n"
        );
        // Internal networks are isolated too; a later network makes no chain.
        let later = network_batch(&net(true), None, &iso, (true, true, true));
        assert!(
            !later.contains(":BERTH-ISO") && !later.contains("-I FORWARD"),
            "{later}"
        );
        assert!(later.contains("-A BERTH-ISO2-feedbeef -o br-test -j DROP\n"));
        // Only the jump was lost (deleted behind berth's back): only the jump comes back.
        let jump = network_batch(&net(false), None, &iso, (true, true, false));
        assert!(jump.contains("-I FORWARD -j BERTH-ISO1-feedbeef\n"));
        assert!(!jump.contains(":BERTH-ISO") && !jump.contains("--ctstate DNAT -j RETURN"));
    }

    #[test]
    fn a_networks_removal_takes_its_isolation_rules_and_the_last_one_the_chains() {
        let iso = Isolation::new("feedbeef");
        let saved = "*filter\n:FORWARD ACCEPT [0:0]\n:BERTH-ISO1-feedbeef - [0:0]\n\
            :BERTH-ISO2-feedbeef - [0:0]\n\
            -A FORWARD -j BERTH-ISO1-feedbeef\n\
            -A BERTH-ISO1-feedbeef -m conntrack --ctstate DNAT -j RETURN\n\
            -A BERTH-ISO1-feedbeef -i br-test ! -o br-test -j BERTH-ISO2-feedbeef\n\
            -A BERTH-ISO1-feedbeef -i br-other ! -o br-other -j BERTH-ISO2-feedbeef\n\
            -A BERTH-ISO2-feedbeef -o br-test -j DROP\n\
            -A BERTH-ISO2-feedbeef -o br-other -j DROP\nCOMMIT\n";
        let n = net(false);
        assert_eq!(
            network_removal_batch(saved, &n, &iso, false),
            "*filter\n-D BERTH-ISO1-feedbeef -i br-test ! -o br-test -j BERTH-ISO2-feedbeef\n\
             -D BERTH-ISO2-feedbeef -o br-test -j DROP\nCOMMIT\n"
        );
        let last: String = saved
            .lines()
            .filter(|l| !l.contains("br-other"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            network_removal_batch(&last, &n, &iso, false),
            "*filter\n-F BERTH-ISO1-feedbeef\n-F BERTH-ISO2-feedbeef\n\
             -D FORWARD -j BERTH-ISO1-feedbeef\n-X BERTH-ISO1-feedbeef\n-X BERTH-ISO2-feedbeef\nCOMMIT\n"
        );
        // Re-installing keeps the chains for the network's new rules.
        assert!(!network_removal_batch(&last, &n, &iso, true).contains("-X"));
    }

    #[test]
    fn isolation_chains_are_read_from_the_saved_rules() {
        let iso = Isolation::new("feedbeef");
        let saved = "*nat\n:BERTH-ISO1-feedbeef - [0:0]\nCOMMIT\n*filter\n:FORWARD ACCEPT [0:0]\n\
            :BERTH-ISO1-feedbeef - [0:0]\n-A FORWARD -j BERTH-ISO1-feedbeef\nCOMMIT\n";
        assert_eq!(iso.present(saved), (true, false, true));
        assert_eq!(iso.present("*filter\nCOMMIT\n"), (false, false, false));
    }

    #[test]
    fn port_rules_name_the_host_address_only_when_given() {
        let ports = [
            PublishedPort {
                container_port: 80,
                proto: Proto::Tcp,
                host_ip: Ipv4Addr::UNSPECIFIED,
                host_port: 8080,
            },
            PublishedPort {
                container_port: 53,
                proto: Proto::Udp,
                host_ip: Ipv4Addr::LOCALHOST,
                host_port: 5300,
            },
        ];
        let b = ports_batch(&net(false), "10.9.0.2".parse().unwrap(), &ports, "-D");
        assert_eq!(
            b,
            "*nat\n-D BERTH-DNAT-0123456789ab -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.9.0.2:80\n\
             -D BERTH-DNAT-0123456789ab -d 127.0.0.1/32 -p udp -m udp --dport 5300 -j DNAT --to-destination 10.9.0.2:53\nCOMMIT\n"
        );
    }

    #[test]
    fn removal_deletes_jumps_then_flushes_and_deletes_chains() {
        let saved = "# Generated\n*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
            :BERTH-POST-0123456789ab - [0:0]\n:OTHER - [0:0]\n\
            -A POSTROUTING -j BERTH-POST-0123456789ab\n-A POSTROUTING -j OTHER\n\
            -A BERTH-POST-0123456789ab -s 127.0.0.0/8 -o br-test -j MASQUERADE\nCOMMIT\n\
            *filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j OTHER\nCOMMIT\n";
        let c = Chains::of(&net(false));
        let chains = c.all();
        let b = removal_batch(saved, &chains, |_, r| jumps_to(r, &chains));
        assert_eq!(
            b,
            "*nat\n-F BERTH-POST-0123456789ab\n-D POSTROUTING -j BERTH-POST-0123456789ab\n-X BERTH-POST-0123456789ab\nCOMMIT\n"
        );
        assert_eq!(removal_batch("*filter\nCOMMIT\n", &chains, |_, _| true), "");
    }
}
