//! What older API versions see differently. berth serves every version Docker 20.10 serves
//! (1.12 to the newest), and where an old version's answers or rules differ in a way its clients
//! notice, the difference lives here, keyed by version:
//!
//! - container inspect: before 1.20 `Volumes`/`VolumesRW` maps instead of `Mounts`, and the
//!   `Config` carries `MacAddress`, `NetworkDisabled`, `ExposedPorts`, `VolumeDriver` (and
//!   before 1.20 `Memory`, `MemorySwap`, `CpuShares`, `Cpuset`) from the host config; up to
//!   1.20 `NetworkSettings` has no `Networks`;
//! - `GET /info` before 1.25: `ExecutionDriver`, and security options by name only;
//! - create before 1.25: `AutoRemove` is the client's business and ignored; before 1.40 an empty
//!   `IpcMode` means `shareable` and `BindOptions.NonRecursive` did not exist;
//! - start with a HostConfig body: refused (Docker applied it before 1.24; berth never does);
//! - wait before 1.30: no `condition`; images before 1.41: the `filter` parameter is a
//!   `reference` filter; volume prune before 1.42: named volumes too (in `routes::volumes`).

use berth_engine::io::ApiVersion;
use berth_engine::types::HostConfig;
use serde_json::{json, Value};

const V1_20: ApiVersion = ApiVersion::new(1, 20);
const V1_21: ApiVersion = ApiVersion::new(1, 21);
const V1_24: ApiVersion = ApiVersion::new(1, 24);
const V1_25: ApiVersion = ApiVersion::new(1, 25);
const V1_30: ApiVersion = ApiVersion::new(1, 30);
const V1_40: ApiVersion = ApiVersion::new(1, 40);
const V1_41: ApiVersion = ApiVersion::new(1, 41);

/// Container inspect JSON (the current shape) as version `v` has it.
pub fn container_inspect(v: ApiVersion, mut inspect: Value) -> Value {
    if v >= V1_21 {
        return inspect;
    }
    let Value::Object(obj) = &mut inspect else {
        return inspect;
    };
    if let Some(Value::Object(ns)) = obj.get_mut("NetworkSettings") {
        ns.remove("Networks");
    }
    let host = obj.get("HostConfig").cloned().unwrap_or(Value::Null);
    if let Some(Value::Object(config)) = obj.get_mut("Config") {
        for key in ["MacAddress", "NetworkDisabled", "ExposedPorts"] {
            let value = config.remove(key).unwrap_or(match key {
                "MacAddress" => json!(""),
                "NetworkDisabled" => json!(false),
                _ => Value::Null,
            });
            config.insert(key.into(), value);
        }
        config.insert("VolumeDriver".into(), host["VolumeDriver"].clone());
        if v < V1_20 {
            for (key, from) in [
                ("Memory", "Memory"),
                ("MemorySwap", "MemorySwap"),
                ("CpuShares", "CpuShares"),
                ("Cpuset", "CpusetCpus"),
            ] {
                let value = match &host[from] {
                    Value::Null if key == "Cpuset" => json!(""),
                    Value::Null => json!(0),
                    other => other.clone(),
                };
                config.insert(key.into(), value);
            }
        }
    }
    if v < V1_20 {
        let mounts = obj.remove("Mounts").unwrap_or(Value::Null);
        let (mut volumes, mut rw) = (serde_json::Map::new(), serde_json::Map::new());
        for m in mounts.as_array().into_iter().flatten() {
            let dest = m["Destination"].as_str().unwrap_or_default().to_string();
            volumes.insert(dest.clone(), m["Source"].clone());
            rw.insert(dest, m["RW"].clone());
        }
        // Docker puts them where `Mounts` was: before `Config`.
        let config = obj.remove("Config");
        let network = obj.remove("NetworkSettings");
        obj.insert("Volumes".into(), Value::Object(volumes));
        obj.insert("VolumesRW".into(), Value::Object(rw));
        if let Some(c) = config {
            obj.insert("Config".into(), c);
        }
        if let Some(n) = network {
            obj.insert("NetworkSettings".into(), n);
        }
    }
    inspect
}

/// `GET /info` JSON as version `v` has it.
pub fn info(v: ApiVersion, mut info: Value) -> Value {
    if v >= V1_25 {
        return info;
    }
    if let Value::Object(obj) = &mut info {
        let names: Vec<Value> = obj
            .get("SecurityOptions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|opt| {
                let name = opt
                    .split(',')
                    .find_map(|kv| kv.strip_prefix("name="))
                    .unwrap_or(opt);
                json!(name)
            })
            .collect();
        obj.insert("SecurityOptions".into(), Value::Array(names));
        obj.insert("ExecutionDriver".into(), json!("<not supported>"));
    }
    info
}

/// The host config of a create request as version `v` means it (`raw` is the request's
/// `HostConfig` as sent, to tell a field left out from one set to berth's default).
pub fn create_host_config(v: ApiVersion, raw: &Value, host: &mut HostConfig) {
    if v < V1_25 {
        // The client removes the container itself.
        host.auto_remove = false;
    }
    if v < V1_40 {
        if raw["IpcMode"].as_str().unwrap_or("").is_empty() {
            host.ipc_mode = "shareable".into();
        }
        for m in host.mounts.iter_mut().flatten() {
            if let Some(b) = &mut m.bind_options {
                b.non_recursive = false;
            }
        }
    }
}

/// Why `POST /containers/{id}/start` with a HostConfig body is refused: Docker removed it in
/// 1.24; before that Docker applied it, which berth does not (it takes the HostConfig at
/// create only) and says so rather than ignore it.
pub fn start_body_refusal(v: ApiVersion) -> &'static str {
    if v >= V1_24 {
        "starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24"
    } else {
        "berth takes the HostConfig at create only: a HostConfig sent with start (API < 1.24) is not applied"
    }
}

/// Whether version `v` knows the `condition` of `POST /containers/{id}/wait`.
pub fn wait_has_condition(v: ApiVersion) -> bool {
    v >= V1_30
}

/// Whether version `v` reads `GET /images/json?filter=NAME` as a `reference` filter.
pub fn images_filter_param(v: ApiVersion) -> bool {
    v < V1_41
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> Value {
        json!({
            "Id": "x", "HostConfig": {"VolumeDriver": "", "Memory": 0, "CpusetCpus": ""},
            "GraphDriver": {},
            "Mounts": [{"Destination": "/data", "Source": "/v/_data", "RW": true},
                       {"Destination": "/h", "Source": "/tmp", "RW": false}],
            "Config": {"Hostname": "h", "Labels": {}},
            "NetworkSettings": {"Bridge": "", "Networks": {}}
        })
    }

    /// The keys a Docker 20.10 daemon answered with for each version.
    #[test]
    fn inspect_shapes_follow_the_version() {
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let v121 = container_inspect(ApiVersion::new(1, 21), current());
        assert_eq!(v121, current());
        let v120 = container_inspect(V1_20, current());
        assert_eq!(
            keys(&v120),
            [
                "Id",
                "HostConfig",
                "GraphDriver",
                "Mounts",
                "Config",
                "NetworkSettings"
            ]
        );
        assert_eq!(
            keys(&v120["Config"]),
            [
                "Hostname",
                "Labels",
                "MacAddress",
                "NetworkDisabled",
                "ExposedPorts",
                "VolumeDriver"
            ]
        );
        assert_eq!(keys(&v120["NetworkSettings"]), ["Bridge"]);
        let v119 = container_inspect(ApiVersion::new(1, 19), current());
        assert_eq!(
            keys(&v119),
            [
                "Id",
                "HostConfig",
                "GraphDriver",
                "Volumes",
                "VolumesRW",
                "Config",
                "NetworkSettings"
            ]
        );
        assert_eq!(v119["Volumes"], json!({"/data": "/v/_data", "/h": "/tmp"}));
        assert_eq!(v119["VolumesRW"], json!({"/data": true, "/h": false}));
        assert_eq!(v119["Config"]["Cpuset"], "");
        assert_eq!(v119["Config"]["CpuShares"], 0);
    }

    #[test]
    fn old_info_names_security_options() {
        let i = info(
            ApiVersion::new(1, 24),
            json!({"SecurityOptions": ["name=seccomp,profile=default", "name=rootless"]}),
        );
        assert_eq!(i["SecurityOptions"], json!(["seccomp", "rootless"]));
        assert_eq!(i["ExecutionDriver"], "<not supported>");
    }
}
