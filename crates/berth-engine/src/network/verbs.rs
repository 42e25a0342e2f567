//! `network create`, `ls`, `inspect`, `rm` and `prune`, with Docker's checks and texts. A
//! network is only a row until a container on it starts: its bridge, rules and DNS server
//! exist while containers run on it (the backend makes them with the first endpoint and
//! removes them with the last), so removing an unused network touches nothing on the host.

use std::collections::BTreeMap;

use berth_network::backend::NetworkBackend as _;
use berth_network::ipam::{self, Ipam as Plan};
use berth_store::metadata::networks::{self as rows, Deleted, NetworkRow};

use super::{
    ipam_of, is_predefined, NetworkRequestError, OPT_BRIDGE_NAME, OPT_HOST_BINDING, OPT_MTU,
};
use crate::filters::Filters;
use crate::types::{
    ConfigFrom, Ipam, IpamPool, NetworkContainer, NetworkCreateRequest, NetworkInspect,
    NetworkPruneReport,
};
use crate::{Engine, EngineError};

/// Whether network `n` (with running containers when `active`) passes `network ls`'s
/// filters: `name` and `id` as Docker's `Match`, `driver` exactly, `label` all of them, `type`
/// (`custom`/`builtin`), `scope` (`local`), `dangling`.
fn list_match(f: &Filters, n: &NetworkRow, active: bool) -> Result<bool, EngineError> {
    for t in f.get("type") {
        if !matches!(t, "custom" | "builtin") {
            return Err(NetworkRequestError::BadTypeFilter(t.to_string()).into());
        }
    }
    let kind = if is_predefined(&n.name) {
        "builtin"
    } else {
        "custom"
    };
    Ok(f.matches("name", &n.name)
        && f.matches("id", &n.id)
        && f.exact_match("driver", &n.driver)
        && f.exact_match("scope", "local")
        && f.exact_match("type", kind)
        && f.match_kv_list("label", &n.labels)
        && f.bool_value("dangling", true)?.is_none_or(|d| d != active))
}

fn pool_of(req: &NetworkCreateRequest) -> Result<Option<IpamPool>, EngineError> {
    let Some(ipam) = &req.ipam else {
        return Ok(None);
    };
    if !matches!(ipam.driver.as_str(), "" | "default") {
        return Err(NetworkRequestError::NoSuchPlugin(ipam.driver.clone()).into());
    }
    if ipam.options.as_ref().is_some_and(|o| !o.is_empty()) {
        return Err(NetworkRequestError::IpamOptions.into());
    }
    let pools = ipam.config.clone().unwrap_or_default();
    if pools.len() > 1 {
        return Err(NetworkRequestError::OneSubnet.into());
    }
    let Some(pool) = pools.into_iter().next() else {
        return Ok(None);
    };
    let aux = pool
        .auxiliary_addresses
        .as_ref()
        .is_some_and(|a| !a.is_empty());
    if pool.subnet.is_empty() && (!pool.gateway.is_empty() || !pool.ip_range.is_empty() || aux) {
        return Err(NetworkRequestError::PoolWithoutSubnet.into());
    }
    Ok((!pool.subnet.is_empty()).then_some(pool))
}

/// Docker takes any non-empty network name (`test 01` too); berth only refuses the ones it
/// could not find again by name (`/`, control characters).
fn validate_name(name: &str) -> Result<(), EngineError> {
    if name.is_empty() || name.contains('/') || name.chars().any(char::is_control) {
        return Err(NetworkRequestError::BadName(name.to_string()).into());
    }
    Ok(())
}

impl Engine {
    /// `docker network create`: records a bridge network (its bridge appears with its first
    /// running container). Returns its ID.
    pub fn create_network(&mut self, req: NetworkCreateRequest) -> Result<String, EngineError> {
        self.ensure_networks()?;
        validate_name(&req.name)?;
        match req.driver.as_str() {
            "" | "bridge" => {}
            "host" | "null" => {
                return Err(NetworkRequestError::OnlyOneInstance(req.driver.clone()).into())
            }
            "overlay" => return Err(NetworkRequestError::NotSwarmManager.into()),
            other => return Err(NetworkRequestError::NoSuchPlugin(other.to_string()).into()),
        }
        if req.ingress {
            return Err(NetworkRequestError::Ingress.into());
        }
        if !matches!(req.scope.as_str(), "" | "local") {
            return Err(NetworkRequestError::Scope(req.scope.clone()).into());
        }
        if req.config_only {
            return Err(NetworkRequestError::ConfigOnly.into());
        }
        if req.enable_ipv6 {
            return Err(NetworkRequestError::Ipv6.into());
        }
        if rows::network_by_name(self.store.db().conn(), &req.name)?.is_some() {
            return Err(NetworkRequestError::NameExists(req.name.clone()).into());
        }
        let id = berth_store::fsutil::random_hex(32);
        let mut options = req.options.clone().unwrap_or_default();
        for (k, v) in &options {
            match k.as_str() {
                OPT_BRIDGE_NAME => {
                    if v.is_empty() || v.len() > 15 || v.contains(['/', ' ']) {
                        return Err(NetworkRequestError::BadBridgeName(v.clone()).into());
                    }
                }
                OPT_MTU => {
                    v.parse::<u32>()
                        .map_err(|_| NetworkRequestError::BadMtu(v.clone()))?;
                }
                OPT_HOST_BINDING => {
                    ipam::parse_ip(v).map_err(NetworkRequestError::Input)?;
                }
                other => {
                    return Err(NetworkRequestError::UnsupportedOption(other.to_string()).into())
                }
            }
        }
        let bridge = options
            .get(OPT_BRIDGE_NAME)
            .cloned()
            .unwrap_or_else(|| format!("br-{}", &id[..12]));
        if let Some(mtu) = self.network.mtu {
            options.entry(OPT_MTU.into()).or_insert(mtu.to_string());
        }
        let asked = pool_of(&req)?;
        let taken = self.taken_subnets(None)?;
        let (plan, shown) = match &asked {
            Some(pool) => {
                let subnet = ipam::parse_cidr(&pool.subnet).map_err(NetworkRequestError::Input)?;
                if taken.iter().any(|t| ipam::overlaps(*t, subnet.trunc())) {
                    return Err(NetworkRequestError::PoolOverlaps.into());
                }
                let gateway = (!pool.gateway.is_empty())
                    .then(|| ipam::parse_ip(&pool.gateway))
                    .transpose()
                    .map_err(NetworkRequestError::Input)?;
                let range = (!pool.ip_range.is_empty())
                    .then(|| ipam::parse_cidr(&pool.ip_range))
                    .transpose()
                    .map_err(NetworkRequestError::Input)?;
                let mut plan =
                    Plan::new(subnet, gateway, range).map_err(NetworkRequestError::Input)?;
                for (name, ip) in pool.auxiliary_addresses.iter().flatten() {
                    let ip = ipam::parse_ip(ip).map_err(NetworkRequestError::Input)?;
                    if !plan.subnet.contains(&ip) {
                        return Err(NetworkRequestError::AuxAddressOutside {
                            name: name.clone(),
                            ip: ip.to_string(),
                        }
                        .into());
                    }
                    plan.reserved.push(ip);
                }
                (plan, pool.clone())
            }
            None => {
                let subnet = ipam::pick_subnet(&self.network.pools, &taken)
                    .ok_or(NetworkRequestError::NoDefaultPool)?;
                let plan = Plan::new(subnet, None, None).map_err(NetworkRequestError::Input)?;
                let shown = IpamPool {
                    subnet: subnet.to_string(),
                    gateway: plan.gateway.to_string(),
                    ..Default::default()
                };
                (plan, shown)
            }
        };
        // IPAM options as sent (docker-py sends `null`, the CLI `{}`); none berth acts on.
        let ipam_json = Ipam {
            driver: "default".into(),
            options: match &req.ipam {
                Some(i) => i.options.clone(),
                None => Some(BTreeMap::new()),
            },
            config: Some(vec![shown]),
        };
        let row = NetworkRow {
            id: id.clone(),
            name: req.name.clone(),
            driver: "bridge".into(),
            bridge,
            subnet: Some(plan.subnet.to_string()),
            gateway: Some(plan.gateway.to_string()),
            ip_range: plan.ip_range.map(|r| r.to_string()),
            ipam: {
                let mut v = serde_json::to_value(&ipam_json).expect("serializes");
                if asked.is_none() {
                    v[super::AUTO_SUBNET] = serde_json::Value::Bool(true);
                }
                v
            },
            internal: req.internal,
            attachable: req.attachable,
            dns: true,
            options,
            labels: req.labels.clone().unwrap_or_default(),
            created_at: crate::now(),
        };
        rows::insert_network(self.store.db().conn(), &row)?;
        self.emit_network(&id, &row.name, &row.driver, "create", None);
        Ok(id)
    }

    /// `docker network inspect`.
    pub fn inspect_network(&mut self, name_or_id: &str) -> Result<NetworkInspect, EngineError> {
        let n = self.find_network(name_or_id)?;
        self.network_inspect(&n, true)
    }

    fn network_inspect(
        &mut self,
        n: &NetworkRow,
        with_containers: bool,
    ) -> Result<NetworkInspect, EngineError> {
        let mut containers = BTreeMap::new();
        if with_containers {
            let prefix = ipam_of(n).map(|p| p.subnet.prefix_len()).unwrap_or(0);
            for e in rows::endpoints_of_network(self.store.db().conn(), &n.id)? {
                let Some(ip) = &e.ip else { continue };
                let Ok(c) = self.lookup_container(&e.container_id) else {
                    continue;
                };
                containers.insert(
                    e.container_id.clone(),
                    NetworkContainer {
                        name: c.name.clone(),
                        endpoint_id: e.endpoint_id.clone().unwrap_or_default(),
                        mac_address: e.mac.clone().unwrap_or_default(),
                        ipv4_address: format!("{ip}/{prefix}"),
                        ipv6_address: String::new(),
                    },
                );
            }
        }
        Ok(NetworkInspect {
            name: n.name.clone(),
            id: n.id.clone(),
            created: n.created_at.clone(),
            scope: "local".into(),
            driver: n.driver.clone(),
            enable_ipv6: false,
            ipam: serde_json::from_value(n.ipam.clone()).unwrap_or_default(),
            internal: n.internal,
            attachable: n.attachable,
            ingress: false,
            config_from: ConfigFrom::default(),
            config_only: false,
            containers,
            options: n.options.clone(),
            labels: n.labels.clone(),
        })
    }

    /// `docker network ls` (sorted by name), and `GET /networks`.
    pub fn list_networks(&mut self, filters: &Filters) -> Result<Vec<NetworkInspect>, EngineError> {
        filters.validate(&["name", "id", "driver", "label", "type", "scope", "dangling"])?;
        self.ensure_networks()?;
        let mut out = Vec::new();
        for n in rows::all_networks(self.store.db().conn())? {
            let active = !rows::active_users(self.store.db().conn(), &n.id)?.is_empty();
            if list_match(filters, &n, active)? {
                out.push(self.network_inspect(&n, false)?);
            }
        }
        Ok(out)
    }

    /// `docker network rm`: refused for the predefined networks and while containers run on
    /// the network.
    pub fn remove_network(&mut self, name_or_id: &str) -> Result<(), EngineError> {
        let n = self.find_network(name_or_id)?;
        if is_predefined(&n.name) {
            return Err(NetworkRequestError::PreDefined(n.name.clone()).into());
        }
        // Containers recorded as running may have died unseen: settle them first.
        for id in rows::active_users(self.store.db().conn(), &n.id)? {
            if let Ok(c) = self.lookup_container(&id) {
                self.refresh(c)?;
            }
        }
        match rows::delete_network(self.store.db().conn(), &n.id)? {
            Deleted::Deleted => {
                self.remove_host_network(&n);
                self.emit_network(&n.id, &n.name, &n.driver, "destroy", None);
                Ok(())
            }
            Deleted::Missing => Ok(()),
            Deleted::InUse(_) => Err(NetworkRequestError::ActiveEndpoints {
                name: n.name.clone(),
                id: n.id.clone(),
            }
            .into()),
        }
    }

    /// Removes what bridge network `n` kept on the host between containers (its bridge and
    /// firewall chains, with the native backend). The network is gone from the store already:
    /// a failure is logged.
    fn remove_host_network(&self, n: &NetworkRow) {
        if n.driver != "bridge" {
            return;
        }
        let Ok(spec) = super::spec_of(n) else {
            return;
        };
        let result = self.network.backend().and_then(|b| b.remove_network(&spec));
        if let Err(e) = result {
            log::warn!(
                "network {}: removing its bridge and firewall rules: {e}",
                n.name
            );
        }
    }

    /// Puts back the bridges and firewall chains of bridge networks that lost them behind
    /// berth's back while set up (part of `system boot`'s repair); failures are logged.
    pub(crate) fn repair_host_networks(&self) {
        let Ok(backend) = self.network.backend() else {
            return;
        };
        for n in rows::all_networks(self.store.db().conn()).unwrap_or_default() {
            let Ok(spec) = super::spec_of(&n) else {
                continue;
            };
            if n.driver != "bridge" {
                continue;
            }
            match backend.repair_network(&spec) {
                Ok(true) => log::warn!(
                    "network {}: its firewall rules were missing; restored",
                    n.name
                ),
                Ok(false) => {}
                Err(e) => log::warn!("network {}: restoring its firewall rules: {e}", n.name),
            }
        }
    }

    /// `docker network prune`: removes every user-defined network without running
    /// containers that matches `filters` (`until`, `label`, `label!`).
    pub fn prune_networks(&mut self, filters: &Filters) -> Result<NetworkPruneReport, EngineError> {
        filters.validate(&["until", "label", "label!"])?;
        let until = filters.until(chrono::Utc::now())?;
        self.ensure_networks()?;
        let mut report = NetworkPruneReport::default();
        for n in rows::all_networks(self.store.db().conn())? {
            if is_predefined(&n.name) || !filters.match_labels(&n.labels) {
                continue;
            }
            let created = chrono::DateTime::parse_from_rfc3339(&n.created_at)
                .map(|t| t.with_timezone(&chrono::Utc))
                .ok();
            if until.is_some_and(|u| created.is_none_or(|c| c >= u)) {
                continue;
            }
            if let Ok(()) = self.remove_network(&n.id) {
                report.networks_deleted.push(n.name.clone());
            }
        }
        Ok(report)
    }
}
