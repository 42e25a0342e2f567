//! End-to-end tests: each runs the built `berth` binary against its own data root in a temp dir,
//! as a user would, and checks what the user sees (output, exit codes, files on disk). Mounts a
//! test leaves are removed by the harness even when the test fails.

mod harness;
mod net_harness;
mod registry_harness;
mod vol_harness;

mod api;
mod api_compat;
mod api_networks;
mod api_verbs;
mod build;
mod confinement;
mod containers;
mod crash;
mod events;
mod faults;
mod files;
mod go_client;
mod health;
mod hostile_input;
mod images;
mod init_layers;
mod layers;
mod logging;
mod mounts;
mod namespaces;
mod networks;
mod prune_filters;
mod pty;
mod registry;
mod registry_api;
mod registry_interop;
mod resources;
mod restart_policies;
mod storage;
mod storage_quota;
mod system_service;
mod userns;
mod volume_plugins;
mod volumes;
mod volumes_beyond;
mod workflows;
