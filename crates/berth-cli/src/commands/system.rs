//! `version` and `info`.

use berth_engine::info::{API_VERSION, VERSION};
use berth_engine::Engine;
use serde_json::json;

use crate::cli::FormatArg;
use crate::error::CliResult;
use crate::exit::Exit;
use crate::output;

/// `berth -v`.
pub fn short_version() -> String {
    format!("berth version {VERSION}")
}

fn os_arch() -> String {
    let arch = berth_image::import::host_architecture();
    format!("linux/{arch}")
}

/// `berth version` (needs no data root).
pub fn version(args: &FormatArg) -> CliResult {
    let data = json!({
        "Client": {"Version": VERSION, "ApiVersion": API_VERSION, "Os": "linux",
            "Arch": berth_image::import::host_architecture()},
        "Server": {"Version": VERSION, "ApiVersion": API_VERSION, "MinAPIVersion": "1.12",
            "Os": "linux", "Arch": berth_image::import::host_architecture()},
    });
    if let Some(f) = &args.format {
        output::print_template(f, &data)?;
        return Ok(Exit::Ok);
    }
    println!("Client:");
    println!(" Version:           {VERSION}");
    println!(" API version:       {API_VERSION}");
    println!(" OS/Arch:           {}", os_arch());
    println!();
    println!("Server: berth (daemonless engine)");
    println!(" Engine:");
    println!("  Version:          {VERSION}");
    println!("  API version:      {API_VERSION} (minimum version 1.12)");
    println!("  OS/Arch:          {}", os_arch());
    Ok(Exit::Ok)
}

/// `berth info`.
pub fn info(engine: &mut Engine, args: &FormatArg) -> CliResult {
    let info = engine.info()?;
    if let Some(f) = &args.format {
        let data = serde_json::to_value(&info).expect("info serializes");
        output::print_template(f, &data)?;
        return Ok(Exit::Ok);
    }
    println!("Server:");
    println!(" Containers: {}", info.containers);
    println!("  Running: {}", info.containers_running);
    println!("  Paused: {}", info.containers_paused);
    println!("  Stopped: {}", info.containers_stopped);
    println!(" Images: {}", info.images);
    println!(" Volumes: {}", info.volumes);
    println!(" Server Version: {}", info.server_version);
    println!(" Storage Driver: {}", info.driver);
    for [k, v] in &info.driver_status {
        println!("  {k}: {v}");
    }
    println!(" Logging Driver: {}", info.logging_driver);
    println!(" Kernel Version: {}", info.kernel_version);
    println!(" OSType: {}", info.os_type);
    println!(" Architecture: {}", info.architecture);
    println!(" Docker Root Dir: {}", info.docker_root_dir);
    Ok(Exit::Ok)
}
