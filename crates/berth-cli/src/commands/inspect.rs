//! `inspect`: finds each name among containers, then images, volumes and networks (Docker's order), or only the kind
//! `--type` names.

use berth_engine::network::NetworkRequestError;
use berth_engine::{Engine, EngineError};

use crate::cli::InspectArgs;
use crate::error::{CliError, CliResult};
use crate::format::gotypes;
use crate::output;

/// `berth inspect`.
pub fn inspect(engine: &mut Engine, args: &InspectArgs) -> CliResult {
    if let Some(kind) = &args.kind {
        if !matches!(kind.as_str(), "image" | "container" | "volume" | "network") {
            return Err(CliError::usage(format!(
                "\"{kind}\" is not a valid value for --type"
            )));
        }
    }
    let mut items = Vec::new();
    for name in &args.names {
        let wants = |k: &str| args.kind.as_deref().is_none_or(|t| t == k);
        let mut value = None;
        if wants("container") {
            match engine.inspect_container(name, args.size) {
                Ok(c) => {
                    value = Some((
                        serde_json::to_value(c).expect("inspect types serialize"),
                        gotypes::CONTAINER,
                    ))
                }
                Err(EngineError::NoSuchContainer(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if value.is_none() && wants("image") {
            match engine.inspect_image(name) {
                Ok(i) => {
                    value = Some((
                        serde_json::to_value(i).expect("inspect types serialize"),
                        gotypes::IMAGE,
                    ))
                }
                Err(EngineError::NoSuchImage(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if value.is_none() && wants("volume") {
            match engine.inspect_volume(name) {
                Ok(v) => {
                    value = Some((
                        serde_json::to_value(v).expect("inspect types serialize"),
                        gotypes::VOLUME,
                    ))
                }
                Err(EngineError::Volume(berth_volume::store::VolumeError::NotFound(_))) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if value.is_none() && wants("network") {
            match engine.inspect_network(name) {
                Ok(n) => {
                    value = Some((
                        serde_json::to_value(n).expect("inspect types serialize"),
                        gotypes::NETWORK,
                    ))
                }
                Err(EngineError::NetworkRequest(NetworkRequestError::NoSuchNetwork(_))) => {}
                Err(e) => return Err(e.into()),
            }
        }
        items.push(value.ok_or_else(|| match args.kind.as_deref() {
            Some(k) => format!("Error: No such {k}: {name}"),
            None => format!("Error: No such object: {name}"),
        }));
    }
    // `docker inspect` reads every kind with its raw JSON, so each has the fallback.
    output::print_inspect(&items, args.format.as_deref(), true)
}
