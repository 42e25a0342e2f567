//! `inspect` of a container: Docker's JSON, with `--size` adding `SizeRw`/`SizeRootFs`.

use super::Container;
use crate::types::{ContainerInspect, ContainerStateInfo, GraphDriverData};
use crate::{Engine, EngineError};

impl Engine {
    /// `docker inspect [--size] CONTAINER`.
    pub fn inspect_container(
        &mut self,
        name: &str,
        size: bool,
    ) -> Result<ContainerInspect, EngineError> {
        let c = self.container(name)?;
        let dir = c.dir(self);
        let driver = self.store.driver();
        let data = driver.metadata(&c.id);
        let (size_rw, size_root_fs) = if size {
            let rw = driver.diff_size(&c.id, Some(c.init_layer())).unwrap_or(0) as i64;
            (Some(rw), Some(rw + self.image_size_of(&c)? as i64))
        } else {
            (None, None)
        };
        let mut args = c.command();
        let path = if args.is_empty() {
            String::new()
        } else {
            args.remove(0)
        };
        let mut config = c.config.clone();
        config.image = c.image_ref.clone();
        Ok(ContainerInspect {
            id: c.id.clone(),
            created: c.created_at.clone(),
            path,
            args,
            state: ContainerStateInfo {
                health: self.health_of(&c.id)?,
                ..state_info(&c)
            },
            image: c.image_id.clone(),
            resolv_conf_path: dir.join("resolv.conf").display().to_string(),
            hostname_path: dir.join("hostname").display().to_string(),
            hosts_path: dir.join("hosts").display().to_string(),
            // Docker reports the file of the json-file driver only.
            log_path: match c.host_config.log_config.kind.as_str() {
                "" | "json-file" => self
                    .log_path(&c)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                _ => String::new(),
            },
            name: format!("/{}", c.name),
            restart_count: c.restart_count,
            driver: driver.name().to_string(),
            platform: "linux".into(),
            mount_label: String::new(),
            process_label: String::new(),
            app_armor_profile: super::runconfig::security::apparmor_profile(&c.host_config),
            exec_ids: Some(self.running_exec_ids(&c.id)?).filter(|ids| !ids.is_empty()),
            host_config: c.host_config.clone(),
            graph_driver: GraphDriverData {
                data: (!data.is_empty()).then_some(data),
                name: driver.name().to_string(),
            },
            size_rw,
            size_root_fs,
            mounts: c.mount_points(self),
            config,
            network_settings: self.network_settings(&c)?,
        })
    }

    /// Bytes of the image layers under a container.
    pub(crate) fn image_size_of(&self, c: &Container) -> Result<u64, EngineError> {
        Ok(match &c.top_layer {
            Some(top) => self.store.layer_chain(top)?.iter().map(|l| l.size).sum(),
            None => 0,
        })
    }
}

/// `State` from the record.
pub(crate) fn state_info(c: &Container) -> ContainerStateInfo {
    let s = &c.state;
    ContainerStateInfo {
        status: s.status.as_str().to_string(),
        running: s.status.is_running(),
        paused: s.status == super::Status::Paused,
        restarting: s.status == super::Status::Restarting,
        oom_killed: s.oom_killed,
        dead: s.status == super::Status::Dead,
        pid: s.pid,
        exit_code: s.exit_code,
        error: s.error.clone(),
        started_at: s.started_at.clone(),
        finished_at: s.finished_at.clone(),
        health: None,
    }
}
