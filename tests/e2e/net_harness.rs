//! Networking for test data roots. Each [`crate::harness::Berth`] claims a [`NetClaim`]: a /22
//! of `10.128.0.0/10` no other test (of this or any concurrent test process on the machine) and
//! no host route uses, taken by creating a claim file under `/tmp/berth-e2e-nets` (a claim
//! whose owner died is taken over). The root's engine configuration puts its default bridge
//! (own name) on the first /24, its other networks on the rest, and its exec root (namespace
//! files, netavark and aardvark-dns state) inside the test's directory.
//!
//! [`cleanup`] runs when the test ends, after the harness has killed the test's processes and
//! unmounted its namespaces: it deletes every bridge with an address in the claim, every
//! iptables rule that mentions the claim or a netavark chain of its networks, and those chains
//! and the root's isolation chains (named after its exec root, see [`isolation_chains`]) — so
//! a failing test leaves no bridge, veth, namespace or firewall rule behind.

#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ipnet::Ipv4Net;

const CLAIMS: &str = "/tmp/berth-e2e-nets";

/// A block of addresses (and the names derived from it) owned by one test.
#[derive(Debug)]
pub struct NetClaim {
    /// The /22.
    pub block: Ipv4Net,
    file: PathBuf,
}

fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.split(' ').nth(19)?.parse().ok()
}

fn routes() -> Vec<Ipv4Net> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            let prefix = mask.count_ones() as u8;
            (prefix > 0).then(|| Ipv4Net::new(Ipv4Addr::from(dest.to_ne_bytes()), prefix).ok())?
        })
        .collect()
}

fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

impl NetClaim {
    /// Claims a free /22.
    pub fn acquire() -> NetClaim {
        std::fs::create_dir_all(CLAIMS).unwrap();
        let me = std::process::id();
        let owner = format!("{me} {}", start_time(me).unwrap_or(0));
        let mut seed = {
            let mut b = [0u8; 4];
            getrandom(&mut b);
            u32::from_ne_bytes(b)
        };
        for _ in 0..10_000 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let index = (seed >> 8) % 4096;
            let base = u32::from(Ipv4Addr::new(10, 128, 0, 0)) + (index << 10);
            let block = Ipv4Net::new(Ipv4Addr::from(base), 22).unwrap();
            if routes().iter().any(|r| overlaps(*r, block)) {
                continue;
            }
            let file = Path::new(CLAIMS).join(block.network().to_string());
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&file)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(owner.as_bytes()).unwrap();
                    return NetClaim { block, file };
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // Taken over when its owner is gone.
                    let held = std::fs::read_to_string(&file).unwrap_or_default();
                    let mut it = held.split_whitespace();
                    let pid: Option<u32> = it.next().and_then(|p| p.parse().ok());
                    let start: Option<u64> = it.next().and_then(|s| s.parse().ok());
                    let alive = pid.is_some_and(|p| start_time(p) == start);
                    if !alive && !held.is_empty() {
                        let _ = std::fs::remove_file(&file);
                    }
                }
                Err(e) => panic!("claim {}: {e}", file.display()),
            }
        }
        panic!("no free /22 in 10.128.0.0/10 for a test network");
    }

    /// The `n`-th /24 of the block (0 is the default bridge's).
    pub fn subnet(&self, n: u32) -> Ipv4Net {
        let base = u32::from(self.block.network()) + (n << 8);
        Ipv4Net::new(Ipv4Addr::from(base), 24).unwrap()
    }

    /// The default bridge's interface name.
    pub fn bridge(&self) -> String {
        let o = self.block.network().octets();
        format!("bt{:02x}{:02x}", o[1], o[2])
    }

    /// The engine configuration file's contents for a root whose exec root is `exec`.
    pub fn config(&self, exec: &Path) -> String {
        let bridge = self.subnet(0);
        let gw = Ipv4Addr::from(u32::from(bridge.network()) + 1);
        serde_json::json!({
            "exec-root": exec,
            "bridge": self.bridge(),
            "bip": format!("{gw}/24"),
            "default-address-pools": [{"base": self.block.to_string(), "size": 24}],
        })
        .to_string()
    }
}

impl Drop for NetClaim {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

fn getrandom(buf: &mut [u8]) {
    // SAFETY: getrandom(2) writes at most buf.len() bytes into buf.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    assert_eq!(n as usize, buf.len());
}

fn output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn quiet(cmd: &str, args: &[&str]) {
    let _ = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Whether a text mentions an address of `block` (as an address or a network).
fn mentions(text: &str, block: Ipv4Net) -> bool {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|w| w.parse::<Ipv4Addr>().ok())
        .any(|ip| block.contains(&ip))
}

/// Host interfaces with an IPv4 address in `block`.
pub fn bridges_in(block: Ipv4Net) -> Vec<String> {
    let text = output("ip", &["-o", "-4", "addr", "show"]);
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 3 && mentions(f[3], block) && !out.contains(&f[1].to_string()) {
            out.push(f[1].to_string());
        }
    }
    out
}

/// `iptables -S` lines of `table` that mention `block` or one of `chains`.
pub fn rules_in(table: &str, block: Ipv4Net, chains: &[String]) -> Vec<String> {
    output("iptables", &["-t", table, "-S"])
        .lines()
        .filter(|l| l.starts_with("-A "))
        .filter(|l| {
            mentions(l, block) || l.split_whitespace().any(|w| chains.iter().any(|c| c == w))
        })
        .map(str::to_string)
        .collect()
}

/// The per-network chains (netavark's `NETAVARK-<hash>`, `NETAVARK-DN-<hash>`; the native
/// backend's `BERTH-POST-<tag>`, `BERTH-DNAT-<tag>`, `BERTH-FWD-<tag>`) that rules about
/// `block` use, each with the subnet its rules name (if one does).
fn chains_of(block: Ipv4Net) -> Vec<(String, Option<Ipv4Net>)> {
    let mut chains: Vec<(String, Option<Ipv4Net>)> = Vec::new();
    let mut add = |c: String, sub: Option<Ipv4Net>| match chains.iter_mut().find(|(n, _)| *n == c) {
        Some((_, s)) => {
            if s.is_none() {
                *s = sub;
            }
        }
        None => chains.push((c, sub)),
    };
    for table in ["nat", "filter"] {
        for rule in rules_in(table, block, &[]) {
            let words: Vec<&str> = rule.split_whitespace().collect();
            let sub = words
                .windows(2)
                .find(|w| w[0] == "-s" || w[0] == "-d")
                .and_then(|w| w[1].parse::<Ipv4Net>().ok())
                .filter(|n| block.contains(&n.network()) && n.prefix_len() < 32);
            let mut family = |name: &str| {
                if let Some(hash) = name
                    .strip_prefix("NETAVARK-DN-")
                    .or_else(|| name.strip_prefix("NETAVARK-"))
                    .filter(|_| !name.contains("HOSTPORT"))
                {
                    add(format!("NETAVARK-{hash}"), sub);
                    add(format!("NETAVARK-DN-{hash}"), sub);
                }
                for kind in ["POST", "DNAT", "FWD"] {
                    if let Some(tag) = name.strip_prefix(&format!("BERTH-{kind}-")) {
                        for k in ["POST", "DNAT", "FWD"] {
                            add(format!("BERTH-{k}-{tag}"), sub);
                        }
                    }
                }
            };
            for w in words.windows(2) {
                if w[0] == "-j" {
                    family(w[1]);
                }
            }
            if words.len() > 1 {
                family(words[1]);
            }
        }
    }
    chains
}

fn chain_names(block: Ipv4Net) -> Vec<String> {
    chains_of(block).into_iter().map(|(c, _)| c).collect()
}

/// The isolation chains (filter table) of the engine whose exec root is `exec`, named as the
/// native backend names them: `BERTH-ISO1-`/`BERTH-ISO2-` and 8 hex digits of the SHA-256 of
/// its `networks` state directory.
pub fn isolation_chains(exec: &Path) -> [String; 2] {
    use sha2::Digest as _;
    let h = sha2::Sha256::digest(exec.join("networks").as_os_str().as_encoded_bytes());
    let tag = &hex::encode(h)[..8];
    [format!("BERTH-ISO1-{tag}"), format!("BERTH-ISO2-{tag}")]
}

/// The filter table's rules (`iptables -S` lines) in the isolation chains of exec root `exec`.
pub fn isolation_rules(exec: &Path) -> Vec<String> {
    let chains = isolation_chains(exec);
    output("iptables", &["-t", "filter", "-S"])
        .lines()
        .filter(|l| {
            l.strip_prefix("-A ")
                .and_then(|r| r.split_whitespace().next())
                .is_some_and(|c| chains.iter().any(|x| x == c))
        })
        .map(str::to_string)
        .collect()
}

/// What of the isolation chains of exec root `exec` should not be there: rules naming an
/// interface that is gone (a removed network's), chains no network has rules in.
fn isolation_leftovers(exec: &Path) -> Vec<String> {
    let [stage1, stage2] = isolation_chains(exec);
    let rules = isolation_rules(exec);
    let mut out: Vec<String> = rules
        .iter()
        .filter(|r| {
            r.split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|w| {
                    (w[0] == "-i" || w[0] == "-o")
                        && !Path::new("/sys/class/net").join(w[1]).exists()
                })
        })
        .map(|r| format!("filter: {r}"))
        .collect();
    let declared = output("iptables", &["-t", "filter", "-S"])
        .lines()
        .any(|l| l == format!("-N {stage1}") || l == format!("-N {stage2}"));
    if declared
        && !rules
            .iter()
            .any(|r| r.starts_with(&format!("-A {stage2} ")))
    {
        out.push(format!(
            "filter: chains {stage1}, {stage2} with no network's rules"
        ));
    }
    out
}

/// Removes what networking a test left on the host (see the module doc). Call after the
/// test's processes are killed and its mounts (namespaces) are gone.
pub fn cleanup(block: Ipv4Net, bridge: &str, exec: &Path) {
    let [stage1, stage2] = isolation_chains(exec);
    quiet(
        "iptables",
        &["-t", "filter", "-D", "FORWARD", "-j", &stage1],
    );
    for c in [&stage1, &stage2] {
        quiet("iptables", &["-t", "filter", "-F", c]);
    }
    for c in [&stage1, &stage2] {
        quiet("iptables", &["-t", "filter", "-X", c]);
    }
    let chains = chain_names(block);
    for table in ["nat", "filter"] {
        for rule in rules_in(table, block, &chains) {
            // `iptables -S` prints rules as shell words (comments quoted): delete through a
            // shell so each comment stays one argument.
            let rest = rule.trim_start_matches("-A ");
            quiet("sh", &["-c", &format!("iptables -t {table} -D {rest}")]);
        }
        for c in &chains {
            quiet("iptables", &["-t", table, "-F", c]);
            quiet("iptables", &["-t", table, "-X", c]);
        }
    }
    let mut bridges = bridges_in(block);
    if !bridges.iter().any(|b| b == bridge) {
        bridges.push(bridge.to_string());
    }
    for b in bridges {
        quiet("ip", &["link", "del", &b]);
    }
}

/// What of the networking berth falls back to for data root `root` is on the host: the
/// bridge, exec root and address pool of `NetworkConfig::for_root`, which a root gets when its
/// engine configuration names none (a test that wrote its own config file over the harness's).
/// That is outside the root's claim, so [`cleanup`] would not see it: this removes it (the
/// processes under its exec root, its namespace mounts, bridges, rules and chains) and returns
/// what it found, for the harness to fail the test with.
pub fn clean_fallback_network(root: &Path) -> Vec<String> {
    let d = berth_network::config::NetworkConfig::for_root(root);
    let mut found = Vec::new();
    if Path::new("/sys/class/net").join(&d.bridge).exists() {
        found.push(format!("bridge {}", d.bridge));
    }
    if d.exec_root.exists() {
        found.push(format!("exec root {}", d.exec_root.display()));
    }
    if found.is_empty() {
        return found;
    }
    crate::harness::kill_processes_of(&d.exec_root);
    crate::harness::unmount_under(&d.exec_root);
    for pool in &d.pools {
        cleanup(pool.base, &d.bridge, &d.exec_root);
    }
    let _ = std::fs::remove_dir_all(&d.exec_root);
    if let Some(parent) = d.exec_root.parent() {
        let _ = std::fs::remove_dir(parent); // /run/berth, if no other root uses it
    }
    found
}

/// The interfaces attached to bridge `bridge` (containers' veths).
pub fn ports_of(bridge: &str) -> Vec<String> {
    std::fs::read_dir(Path::new("/sys/class/net").join(bridge).join("brif"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// What of `block` is still on the host that should not be, given that the bridge networks
/// with subnets `kept` still exist: every container's part (veths, published ports' DNAT
/// rules) and everything of networks not kept (bridges, chains, rules). A kept network's
/// bridge and chains stay between containers, as Docker keeps docker0's.
pub fn leftovers(block: Ipv4Net, kept: &[Ipv4Net]) -> Vec<String> {
    let mut out = Vec::new();
    for b in bridges_in(block) {
        let addr = output("ip", &["-o", "-4", "addr", "show", "dev", &b]);
        let is_kept = kept.iter().any(|k| mentions(&addr, *k));
        if !is_kept {
            out.push(format!("interface {b}"));
        }
        for p in ports_of(&b) {
            out.push(format!("interface {p} on bridge {b}"));
        }
    }
    let chains = chains_of(block);
    let kept_chain = |name: &str| {
        chains
            .iter()
            .any(|(c, sub)| c == name && sub.is_some_and(|s| kept.contains(&s)))
    };
    let names: Vec<String> = chains.iter().map(|(c, _)| c.clone()).collect();
    for table in ["nat", "filter"] {
        for r in rules_in(table, block, &names) {
            let words: Vec<&str> = r.split_whitespace().collect();
            let in_kept = kept_chain(words.get(1).copied().unwrap_or_default())
                || words.windows(2).any(|w| w[0] == "-j" && kept_chain(w[1]));
            let container_rule = r.contains("--to-destination");
            if !in_kept || container_rule {
                out.push(format!("{table}: {r}"));
            }
        }
    }
    out
}

/// The bridge networks' subnets of the root `b` (those whose host state may stay).
pub fn kept_subnets(b: &crate::harness::Berth) -> Vec<Ipv4Net> {
    let ids = b.run(&["network", "ls", "-q"]).ok().stdout;
    let mut out = Vec::new();
    for id in ids.split_whitespace() {
        let subs = b
            .run(&[
                "network",
                "inspect",
                "-f",
                "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
                id,
            ])
            .ok()
            .stdout;
        out.extend(
            subs.split_whitespace()
                .filter_map(|s| s.parse::<Ipv4Net>().ok()),
        );
    }
    out
}

/// [`leftovers`] of root `b`, keeping its existing networks, and what of its isolation chains
/// is left of removed networks.
pub fn leftovers_of(b: &crate::harness::Berth) -> Vec<String> {
    let mut out = leftovers(b.net.block, &kept_subnets(b));
    out.extend(isolation_leftovers(&b.exec_root()));
    out
}
