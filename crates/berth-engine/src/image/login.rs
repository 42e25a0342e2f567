//! `login`: credentials checked with the registry the way Docker's daemon checks them
//! (`POST /auth`); storing them is the client's business.

use berth_registry::AuthConfig;

use super::registry::RegistryAuth;
use crate::{Engine, EngineError};

impl Engine {
    /// Checks `auth` against registry `server` (`host[:port]`; empty for Docker Hub).
    pub fn login(&self, server: &str, auth: &AuthConfig) -> Result<(), EngineError> {
        let registry = self.registry(&RegistryAuth::Given(Some(auth.clone())));
        Ok(registry.login(server, auth)?)
    }
}
