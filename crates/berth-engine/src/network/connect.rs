//! `network connect` and `network disconnect`. A stopped container only gains or loses the
//! endpoint row (its next start sets it up); a running one also gets the interface connected
//! or disconnected in its namespace, its address allocated or freed, and a line for the new
//! address appended to its `/etc/hosts` (appended, as Docker does, so the container's own
//! edits stay).

use berth_network::etc;
use berth_network::sandbox::Sandbox;
use berth_store::metadata::networks as rows;
use berth_store::metadata::MetaError;

use super::plan::Mode;
use super::{spec_of, NetworkRequestError};
use crate::types::EndpointSettings;
use crate::{Engine, EngineError};

impl Engine {
    /// `docker network connect [--alias] [--ip] NETWORK CONTAINER`.
    pub fn connect_network(
        &mut self,
        network: &str,
        container: &str,
        settings: EndpointSettings,
    ) -> Result<(), EngineError> {
        let n = self.find_network(network)?;
        let c = self.container(container)?;
        match Mode::of(&c.host_config.network_mode) {
            Mode::Bridge(_) => {}
            Mode::Container(_) => return Err(NetworkRequestError::SharedNamespace.into()),
            Mode::Host | Mode::None => return Err(NetworkRequestError::HostNetwork.into()),
        }
        if n.driver != "bridge" {
            return Err(NetworkRequestError::HostNetwork.into());
        }
        let existing = rows::endpoints_of_container(self.store.db().conn(), &c.id)?;
        if existing.iter().any(|e| e.network_id == n.id) {
            return Err(NetworkRequestError::EndpointExists {
                container: c.name.clone(),
                network: n.name.clone(),
            }
            .into());
        }
        let position = existing.iter().map(|e| e.position + 1).max().unwrap_or(0);
        let mut row = self.plan_endpoint(&n, settings, position, &c.name)?;
        row.container_id = c.id.clone();
        rows::insert_endpoint(self.store.db().conn(), &row)?;
        if c.state.status.is_running() {
            if let Err(e) = self.connect_running(&c, &n, &row, existing.len()) {
                let _ = rows::delete_endpoint(self.store.db().conn(), &c.id, &n.id);
                return Err(e);
            }
        }
        self.emit_network(&n.id, &n.name, &n.driver, "connect", Some(&c.id));
        Ok(())
    }

    fn connect_running(
        &mut self,
        c: &crate::container::Container,
        n: &rows::NetworkRow,
        row: &rows::EndpointRow,
        index: usize,
    ) -> Result<(), EngineError> {
        let (allocated, ip) = self.store.db_mut().write(|tx| {
            super::attach::allocate_endpoint(tx, row, n, row.mac_address.clone(), None)
        })?;
        let spec = berth_network::backend::EndpointSpec {
            network: spec_of(n)?,
            interface: format!("eth{index}"),
            ip,
            mac: allocated.mac.clone().unwrap_or_default(),
            names: self.dns_names(c, row),
            ports: Vec::new(),
        };
        if let Err(e) = Sandbox::connect(&self.sandbox_state(&c.id), spec) {
            let id = c.id.clone();
            let _ = self.store.db_mut().write(|tx| -> Result<(), MetaError> {
                rows::delete_endpoint(tx, &id, &n.id)?;
                Ok(())
            });
            return Err(e.into());
        }
        // Like Docker: the new address is appended, the container's own edits stay.
        let hosts = c.dir(self).join("hosts");
        let entry = etc::own_entry(ip, &c.config.hostname, &c.config.domainname);
        let mut text = std::fs::read_to_string(&hosts).unwrap_or_default();
        text.push_str(&format!("{}\t{}\n", entry.ip, entry.names.join(" ")));
        std::fs::write(&hosts, text)?;
        Ok(())
    }

    /// `docker network disconnect [-f] NETWORK CONTAINER`.
    pub fn disconnect_network(
        &mut self,
        network: &str,
        container: &str,
        force: bool,
    ) -> Result<(), EngineError> {
        let n = match self.find_network(network) {
            Ok(n) => n,
            // With -f a removed network's leftover endpoint can still be dropped.
            Err(e) if !force => return Err(e),
            Err(e) => {
                let c = self.container(container)?;
                if !rows::delete_endpoint(self.store.db().conn(), &c.id, network)? {
                    return Err(e);
                }
                return Ok(());
            }
        };
        let c = self.container(container)?;
        if matches!(
            Mode::of(&c.host_config.network_mode),
            Mode::Host | Mode::None
        ) || n.driver != "bridge"
        {
            return Err(NetworkRequestError::HostNetwork.into());
        }
        let connected = rows::endpoints_of_container(self.store.db().conn(), &c.id)?
            .into_iter()
            .any(|e| e.network_id == n.id);
        if !connected {
            return Err(NetworkRequestError::NotConnected {
                container: c.id.clone(),
                network: n.name.clone(),
            }
            .into());
        }
        if c.state.status.is_running() {
            if let Err(e) = Sandbox::disconnect(&self.sandbox_state(&c.id), &n.id) {
                log::warn!("container {}: disconnecting from {}: {e}", c.id, n.name);
            }
        }
        rows::delete_endpoint(self.store.db().conn(), &c.id, &n.id)?;
        self.emit_network(&n.id, &n.name, &n.driver, "disconnect", Some(&c.id));
        Ok(())
    }
}
