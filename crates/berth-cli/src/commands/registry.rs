//! Registry commands: `pull`, `push`, `search`, `login`, `logout`, printed as the docker CLI
//! prints them,
//! and [`ensure_image`], the pull that `run` and `create` do before creating (`--pull`).

use std::io::{self, BufRead, IsTerminal, Write};

use berth_engine::image::{PullOptions, PushOptions, RegistryAuth};
use berth_engine::types::{CreateRequest, PullPolicy};
use berth_engine::{Engine, EngineError};
use berth_image::platform::Platform;
use berth_image::reference::Reference;
use berth_registry::{AuthConfig, CredentialStore};

use crate::cli::{LoginArgs, LogoutArgs, PullArgs, PushArgs, SearchArgs};
use crate::error::{CliError, CliResult};
use crate::exit::Exit;
use crate::format::{self, Row};
use crate::jsonmessage::{MessagePrinter, Target};

/// `--disable-content-trust=false` asks for signature checks berth does not do.
fn refuse_content_trust(disabled: bool) -> Result<(), CliError> {
    if disabled {
        return Ok(());
    }
    Err(CliError::usage(
        "berth does not support content trust (image signing and verification): --disable-content-trust=false is refused",
    ))
}

/// `-a` names a repository: a tag with it is refused before anything is asked, as the docker
/// CLI refuses it.
fn refuse_tag_with_all_tags(all_tags: bool, reference: &Reference) -> Result<(), CliError> {
    if all_tags && !reference.is_name_only() {
        return Err(CliError::usage("tag can't be used with --all-tags/-a"));
    }
    Ok(())
}

/// `berth search`: the docker CLI's columns; descriptions cut at 45 characters unless
/// `--no-trunc`, `[OK]` for official and automated images.
pub fn search(engine: &mut Engine, args: &SearchArgs) -> CliResult {
    let filters = super::parse_filters(&args.filter, "-f, --filter")?;
    let found =
        engine.search_images(&args.term, args.limit, &filters, &RegistryAuth::ConfigFile)?;
    let ok = |b: bool| if b { "[OK]" } else { "" }.to_string();
    let rows: Vec<Row> = found
        .iter()
        .map(|r| {
            let description = r.description.replace(['\n', '\r'], " ");
            let description = if args.no_trunc {
                description
            } else {
                format::text::truncate_with_ellipsis(&description, 45)
            };
            Row::new("*formatter.searchContext")
                .field("Name", r.name.clone())
                .field("Description", description)
                .field("StarCount", r.star_count.to_string())
                .field("IsOfficial", ok(r.is_official))
                .field("IsAutomated", ok(r.is_automated))
        })
        .collect();
    crate::output::print_list(&rows, args.format.as_deref(), false, &SEARCH)?;
    Ok(Exit::Ok)
}

/// `docker search`'s formats (docker 28's table: `AUTOMATED` only when a format asks for it).
const SEARCH: format::ListFormat = format::ListFormat {
    table: "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}",
    quiet: "{{.Name}}",
    raw: None,
    headers: &[
        ("Name", "NAME"),
        ("Description", "DESCRIPTION"),
        ("StarCount", "STARS"),
        ("IsOfficial", "OFFICIAL"),
        ("IsAutomated", "AUTOMATED"),
    ],
    quiet_overrides_format: false,
};

/// `berth pull`.
pub fn pull(engine: &mut Engine, args: &PullArgs) -> CliResult {
    refuse_content_trust(args.disable_content_trust)?;
    let printer = MessagePrinter::new(Target::Stdout, args.quiet);
    let reference = Reference::parse(&args.name).map_err(|e| CliError::usage(e.to_string()))?;
    refuse_tag_with_all_tags(args.all_tags, &reference)?;
    if reference.is_name_only() && !args.all_tags {
        printer.line("Using default tag: latest");
    }
    let opts = PullOptions {
        all_tags: args.all_tags,
        platform: args.platform.clone(),
        auth: RegistryAuth::ConfigFile,
    };
    engine.pull_image(&args.name, &opts, &printer)?;
    let done = if args.all_tags {
        reference.name()
    } else {
        reference.with_default_tag().to_string()
    };
    println!("{done}");
    Ok(Exit::Ok)
}

/// `berth push`.
pub fn push(engine: &mut Engine, args: &PushArgs) -> CliResult {
    refuse_content_trust(args.disable_content_trust)?;
    let printer = MessagePrinter::new(Target::Stdout, args.quiet);
    let reference = Reference::parse(&args.name).map_err(|e| CliError::usage(e.to_string()))?;
    refuse_tag_with_all_tags(args.all_tags, &reference)?;
    if reference.is_name_only() && !args.all_tags {
        printer.line("Using default tag: latest");
    }
    let opts = PushOptions {
        all_tags: args.all_tags,
        auth: RegistryAuth::ConfigFile,
    };
    engine.push_image(&args.name, &opts, &printer)?;
    if args.quiet {
        println!(
            "{}",
            if args.all_tags {
                reference.name()
            } else {
                reference.with_default_tag().to_string()
            }
        );
    }
    Ok(Exit::Ok)
}

/// Pulls what `run`/`create` need before the create, following `--pull`; `Ok(())` when the
/// image is there. Progress goes to stderr, as docker prints it for `run`.
pub fn ensure_image(engine: &mut Engine, req: &CreateRequest) -> Result<(), EngineError> {
    let (image, platform) = (req.config.image.as_str(), req.platform.as_deref());
    let pull = match req.pull {
        PullPolicy::Never => false,
        PullPolicy::Always => true,
        PullPolicy::Missing => match engine.resolve_image(image) {
            // An image of another platform than asked for is pulled again, as docker does.
            Ok((record, _)) => platform.is_some_and(|p| {
                Platform::parse(p)
                    .is_ok_and(|want| !want.matches(&Platform::of_image(&record.config)))
            }),
            Err(EngineError::NoSuchImage(name)) => {
                eprintln!("Unable to find image '{name}' locally");
                true
            }
            Err(e) => return Err(e),
        },
    };
    if !pull {
        return Ok(());
    }
    let printer = MessagePrinter::new(Target::Stderr, false);
    let opts = PullOptions {
        all_tags: false,
        platform: platform.map(str::to_string),
        auth: RegistryAuth::ConfigFile,
    };
    engine.pull_image(image, &opts, &printer)?;
    Ok(())
}

/// Reads a line from stdin after printing `prompt`, with echo off when `secret`.
fn prompt(prompt: &str, secret: bool) -> io::Result<String> {
    let stdin = io::stdin();
    let mut out = io::stdout();
    // Echo goes off before the prompt shows: a password typed (or sent) as soon as the prompt
    // appears must never be echoed.
    let saved = if secret {
        let t = rustix::termios::tcgetattr(&stdin).ok();
        if let Some(t) = &t {
            let mut quiet = t.clone();
            quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
            let _ =
                rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &quiet);
        }
        t
    } else {
        None
    };
    write!(out, "{prompt}")?;
    out.flush()?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(t) = saved {
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &t);
        writeln!(out)?;
    }
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `berth login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]`: checks the credentials
/// with the registry, then stores them where `docker login` does.
pub fn login(engine: &mut Engine, args: &LoginArgs) -> CliResult {
    if args.password.is_some() && args.password_stdin {
        return Err(CliError::usage(
            "--password and --password-stdin are mutually exclusive",
        ));
    }
    if args.password_stdin && args.username.is_none() {
        return Err(CliError::usage(
            "Must provide --username with --password-stdin",
        ));
    }
    if args.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let server = args.server.clone().unwrap_or_default();
    let key = berth_registry::credentials::server_key(&server);
    let store = CredentialStore::default_location();
    let interactive = io::stdin().is_terminal();
    let username = match &args.username {
        Some(u) => u.trim().to_string(),
        None if interactive => {
            let stored = store.get(&key).ok().flatten().map(|a| a.username);
            let shown = stored
                .as_deref()
                .map(|u| format!("Username ({u}): "))
                .unwrap_or_else(|| "Username: ".into());
            let typed = prompt(&shown, false)?;
            if typed.is_empty() {
                stored.unwrap_or_default()
            } else {
                typed
            }
        }
        None => {
            return Err(CliError::usage(
                "Error: Cannot perform an interactive login from a non TTY device",
            ))
        }
    };
    if username.is_empty() {
        return Err(CliError::usage("Error: Non-null Username Required"));
    }
    let password = match (&args.password, args.password_stdin) {
        (Some(p), _) => p.clone(),
        (None, true) => {
            let mut all = String::new();
            io::Read::read_to_string(&mut io::stdin(), &mut all)?;
            all.trim_end_matches(['\r', '\n']).to_string()
        }
        (None, false) if interactive => prompt("Password: ", true)?,
        (None, false) => {
            return Err(CliError::usage(
                "Error: Cannot perform an interactive login from a non TTY device",
            ))
        }
    };
    if password.is_empty() {
        return Err(CliError::usage("Error: Password Required"));
    }
    let auth = AuthConfig {
        username,
        password,
        identity_token: String::new(),
        server_address: key.clone(),
    };
    engine.login(&server, &auth)?;
    let helper = store
        .store(&key, &auth)
        .map_err(|e| CliError::usage(format!("Error saving credentials: {e}")))?;
    if !helper {
        println!(
            "WARNING! Your password will be stored unencrypted in {}.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/engine/reference/commandline/login/#credentials-store\n",
            store.path().display()
        );
    }
    println!("Login Succeeded");
    Ok(Exit::Ok)
}

/// `berth logout [SERVER]`.
pub fn logout(_engine: &mut Engine, args: &LogoutArgs) -> CliResult {
    let server = args.server.clone().unwrap_or_default();
    let key = berth_registry::credentials::server_key(&server);
    let shown = if server.is_empty() {
        key.clone()
    } else {
        server
    };
    let store = CredentialStore::default_location();
    match store.erase(&key) {
        Ok(true) => println!("Removing login credentials for {shown}"),
        Ok(false) => println!("Not logged in to {shown}"),
        Err(e) => {
            return Err(CliError::usage(format!(
                "WARNING: could not erase credentials: {e}"
            )))
        }
    }
    Ok(Exit::Ok)
}
