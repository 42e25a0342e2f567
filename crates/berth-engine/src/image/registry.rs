//! How the engine reaches registries: [`RegistryAuth`] says where credentials come from (the
//! docker CLI's credentials file for the berth CLI, what the client sent for the API), and
//! [`Engine::registry`] builds the client from the engine's configuration.

use berth_registry::{AuthConfig, CredentialStore, Credentials, Registry};

use crate::Engine;

/// Where a pull's or push's credentials come from.
#[derive(Debug, Clone)]
pub enum RegistryAuth {
    /// The docker CLI's credentials file and helpers (`$DOCKER_CONFIG/config.json`), what
    /// `berth login` writes: the berth CLI's way.
    ConfigFile,
    /// Exactly what an API client sent in `X-Registry-Auth` (or nothing: anonymous), as
    /// Docker's daemon does.
    Given(Option<AuthConfig>),
    /// What an API client sent in `X-Registry-Config` (`POST /build`): credentials per
    /// registry, keyed as the docker CLI keys them; a registry not in it is asked anonymously.
    PerRegistry(std::collections::BTreeMap<String, AuthConfig>),
}

impl Engine {
    /// A registry client with the engine's registry settings and `auth`.
    pub fn registry(&self, auth: &RegistryAuth) -> Registry {
        let credentials = match auth {
            RegistryAuth::ConfigFile => Credentials::Store(CredentialStore::default_location()),
            RegistryAuth::Given(a) => Credentials::Given(a.clone()),
            RegistryAuth::PerRegistry(m) => Credentials::PerRegistry(m.clone()),
        };
        Registry::new(self.config.registry_options(), credentials)
    }
}
