//! The `berth` command line: clap commands, tables, `--format` templates and progress bars. The
//! binary in `main.rs` only calls [`run`]; every command returns an [`exit::Exit`] or a
//! [`error::CliError`] whose text is printed as is, and the process exit code follows from it.
#![warn(missing_docs)]

/// `berth build`'s compact view on a terminal.
pub mod build_view;
/// The command-line grammar.
pub mod cli;
/// Command implementations.
pub mod commands;
/// Printed failures.
pub mod error;
/// Exit codes.
pub mod exit;
/// Output formatting: Go-template `--format`, tables, human-readable units.
pub mod format;
/// Pull and push progress, drawn like the docker CLI's JSON message display.
pub mod jsonmessage;
/// The printing conventions every command shares.
pub mod output;
/// Docker's argument rules and parser messages on top of the grammar.
pub mod parse;
/// Progress bars on terminals.
pub mod progress;

use std::process::ExitCode;

use berth_engine::{Engine, EngineOptions};

use crate::cli::{
    BuilderCommand, Cli, Command, ContainerCommand, ImageCommand, NetworkCommand, SystemCommand,
    VolumeCommand,
};
use crate::error::{CliError, CliResult};
use crate::exit::Exit;

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    berth_runtime::phases::mark("cli.main");
    let cli = match parse::parse() {
        Ok(cli) => cli,
        Err(err) => {
            if !err.message.is_empty() {
                eprintln!("{}", err.message);
            }
            return err.exit.into();
        }
    };
    match dispatch(cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            if !err.message.is_empty() {
                eprintln!("{}", err.message);
            }
            err.exit.into()
        }
    }
}

fn open_engine(cli: &Cli) -> Result<Engine, CliError> {
    Engine::open(engine_options(cli))
        .map_err(|e| CliError::usage(format!("berth: {e}")).with_exit(Exit::Engine))
}

fn engine_options(cli: &Cli) -> EngineOptions {
    EngineOptions {
        root: cli.root.clone(),
        storage_driver: cli.storage_driver.clone(),
        shim_exe: None,
        runtime: None,
        // Absolute, as the shims that read it again run in another directory.
        config_file: cli
            .config_file
            .as_ref()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())),
        mounter: Default::default(),
    }
}

/// Sends the engine's diagnostics (`log` records) to stderr at the level of `--log-level`,
/// shaped like the docker CLI's logrus lines: `DEBU[0000] message` (seconds since start).
fn init_logging(level: &str) -> Result<(), CliError> {
    use std::io::Write;
    let filter = match level.to_ascii_lowercase().as_str() {
        "trace" => log::LevelFilter::Trace,
        "debug" => log::LevelFilter::Debug,
        "info" => log::LevelFilter::Info,
        "warn" | "warning" => log::LevelFilter::Warn,
        "error" | "fatal" | "panic" => log::LevelFilter::Error,
        _ => {
            return Err(CliError::usage(format!(
                "Unable to parse logging level: {level}"
            )))
        }
    };
    let started = std::time::Instant::now();
    // A second initialisation (the CLI called twice in one process, as in tests) keeps the
    // first logger; the level still follows this call.
    let _ = env_logger::Builder::new()
        .filter_level(log::LevelFilter::Trace)
        .format(move |buf, record| {
            let tag = match record.level() {
                log::Level::Error => "ERRO",
                log::Level::Warn => "WARN",
                log::Level::Info => "INFO",
                log::Level::Debug => "DEBU",
                log::Level::Trace => "TRAC",
            };
            writeln!(
                buf,
                "{tag}[{:04}] {}",
                started.elapsed().as_secs(),
                record.args()
            )
        })
        .try_init();
    log::set_max_level(filter);
    Ok(())
}

fn dispatch(cli: Cli) -> CliResult {
    use commands::{build, container, files, image, inspect, network, registry, system, volume};
    init_logging(&cli.log_level)?;
    if cli.version {
        println!("{}", system::short_version());
        return Ok(Exit::Ok);
    }
    let Some(command) = &cli.command else {
        use clap::CommandFactory;
        let _ = Cli::command().print_help();
        return Ok(Exit::Ok);
    };
    if let Command::Version(args) = command {
        return system::version(args);
    }
    if let Command::Completion(args) = command {
        system::completion(args);
        return Ok(Exit::Ok);
    }
    if let Command::GenMan { dir } = command {
        system::man_pages(dir)?;
        return Ok(Exit::Ok);
    }
    if let Command::Stats(args) | Command::Container(ContainerCommand::Stats(args)) = command {
        // Each container is sampled by a thread with an engine of its own.
        return commands::stats::stats(engine_options(&cli), args);
    }
    #[cfg(feature = "inproc")]
    if let Command::OciRuntime { args } = command {
        std::process::exit(commands::oci_runtime::run(args));
    }
    if let Command::Shim { id } = command {
        Engine::run_shim(engine_options(&cli), id);
    }
    if let Command::ExecShim { id } = command {
        Engine::run_exec_shim(engine_options(&cli), id);
    }
    if let Command::HealthMonitor { id } = command {
        Engine::run_health_monitor(engine_options(&cli), id);
    }
    let mut engine = open_engine(&cli)?;
    if let Command::Serve(args) = command {
        drop(engine); // opened to check the data root; requests open their own
        berth_api::serve(engine_options(&cli), &args.host, args.group.as_deref())
            .map_err(|e| CliError::usage(format!("berth serve: {e}")))?;
        return Ok(Exit::Ok);
    }
    let e = &mut engine;
    match command {
        Command::Version(_)
        | Command::Serve(_)
        | Command::Stats(_)
        | Command::Container(ContainerCommand::Stats(_))
        | Command::Completion(_)
        | Command::GenMan { .. } => {
            unreachable!("handled above")
        }
        Command::Info(a) | Command::System(SystemCommand::Info(a)) => system::info(e, a),
        Command::System(SystemCommand::Df(a)) => system::df(e, a),
        Command::Events(a) | Command::System(SystemCommand::Events(a)) => system::events(e, a),
        Command::System(SystemCommand::Prune(a)) => system::prune(e, a),
        Command::System(SystemCommand::Boot) => system::boot(e),

        Command::Build(a)
        | Command::Builder(BuilderCommand::Build(a))
        | Command::Image(ImageCommand::Build(a)) => build::build(e, a),
        Command::Builder(BuilderCommand::Prune(a)) => build::prune(e, a),
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => image::import(e, a),
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => image::load(e, a),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => image::save(e, a),
        Command::Pull(a) | Command::Image(ImageCommand::Pull(a)) => registry::pull(e, a),
        Command::Push(a) | Command::Image(ImageCommand::Push(a)) => registry::push(e, a),
        Command::Search(a) => registry::search(e, a),
        Command::Login(a) => registry::login(e, a),
        Command::Logout(a) => registry::logout(e, a),
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => image::images(e, a),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => image::rmi(e, a),
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => image::tag(e, a),
        Command::History(a) | Command::Image(ImageCommand::History(a)) => image::history(e, a),
        Command::Image(ImageCommand::Inspect(a)) => image::inspect(e, a),
        Command::Image(ImageCommand::Prune(a)) => image::prune(e, a),
        Command::Inspect(a) => inspect::inspect(e, a),
        Command::Run(a) | Command::Container(ContainerCommand::Run(a)) => container::run(e, a),
        Command::Create(a) | Command::Container(ContainerCommand::Create(a)) => {
            container::create(e, a)
        }
        Command::Start(a) | Command::Container(ContainerCommand::Start(a)) => {
            container::start(e, a)
        }
        Command::Stop(a) | Command::Container(ContainerCommand::Stop(a)) => container::stop(e, a),
        Command::Restart(a) | Command::Container(ContainerCommand::Restart(a)) => {
            container::restart(e, a)
        }
        Command::Kill(a) | Command::Container(ContainerCommand::Kill(a)) => container::kill(e, a),
        Command::Pause(a) | Command::Container(ContainerCommand::Pause(a)) => {
            container::pause(e, a)
        }
        Command::Unpause(a) | Command::Container(ContainerCommand::Unpause(a)) => {
            container::unpause(e, a)
        }

        Command::Rm(a) | Command::Container(ContainerCommand::Rm(a)) => container::rm(e, a),
        Command::Ps(a) | Command::Container(ContainerCommand::Ls(a)) => container::ps(e, a),
        Command::Logs(a) | Command::Container(ContainerCommand::Logs(a)) => container::logs(e, a),
        Command::Exec(a) | Command::Container(ContainerCommand::Exec(a)) => container::exec(e, a),
        Command::Attach(a) | Command::Container(ContainerCommand::Attach(a)) => {
            container::attach(e, a)
        }
        Command::Wait(a) | Command::Container(ContainerCommand::Wait(a)) => container::wait(e, a),
        Command::Container(ContainerCommand::Inspect(a)) => container::inspect(e, a),
        Command::Container(ContainerCommand::Prune(a)) => container::prune(e, a),
        Command::Diff(a) | Command::Container(ContainerCommand::Diff(a)) => files::diff(e, a),
        Command::Commit(a) | Command::Container(ContainerCommand::Commit(a)) => files::commit(e, a),
        Command::Export(a) | Command::Container(ContainerCommand::Export(a)) => files::export(e, a),
        Command::Cp(a) | Command::Container(ContainerCommand::Cp(a)) => files::cp(e, a),
        Command::Top(a) | Command::Container(ContainerCommand::Top(a)) => container::top(e, a),
        Command::Rename(a) | Command::Container(ContainerCommand::Rename(a)) => {
            container::rename(e, a)
        }
        Command::Update(a) | Command::Container(ContainerCommand::Update(a)) => {
            container::update(e, a)
        }
        Command::Storage(a) | Command::Container(ContainerCommand::Storage(a)) => {
            commands::storage::storage(e, a)
        }
        Command::Volume(VolumeCommand::Create(a)) => volume::create(e, a),
        Command::Volume(VolumeCommand::Ls(a)) => volume::ls(e, a),
        Command::Volume(VolumeCommand::Inspect(a)) => volume::inspect(e, a),
        Command::Volume(VolumeCommand::Rm(a)) => volume::rm(e, a),
        Command::Volume(VolumeCommand::Prune(a)) => volume::prune(e, a),
        Command::Volume(VolumeCommand::Export(a)) => volume::export(e, a),
        Command::Volume(VolumeCommand::Import(a)) => volume::import(e, a),
        Command::Volume(VolumeCommand::Clone(a)) => volume::clone(e, a),
        Command::Volume(VolumeCommand::Rename(a)) => volume::rename(e, a),
        Command::Network(NetworkCommand::Create(a)) => network::create(e, a),
        Command::Network(NetworkCommand::Ls(a)) => network::ls(e, a),
        Command::Network(NetworkCommand::Inspect(a)) => network::inspect(e, a),
        Command::Network(NetworkCommand::Rm(a)) => network::rm(e, a),
        Command::Network(NetworkCommand::Prune(a)) => network::prune(e, a),
        Command::Network(NetworkCommand::Connect(a)) => network::connect(e, a),
        Command::Network(NetworkCommand::Disconnect(a)) => network::disconnect(e, a),
        Command::Port(a) | Command::Container(ContainerCommand::Port(a)) => network::port(e, a),

        #[cfg(feature = "inproc")]
        Command::OciRuntime { .. } => unreachable!("handled above"),
        Command::Shim { .. } | Command::ExecShim { .. } | Command::HealthMonitor { .. } => {
            unreachable!("handled above")
        }
    }
}
