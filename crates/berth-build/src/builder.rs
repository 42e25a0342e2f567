//! [`Builder`] runs a parsed Dockerfile step by step the way Docker's classic builder does, and
//! leaves every effect to a [`Backend`] (the engine): it keeps each stage's run config, expands
//! words with the stage's ENV and ARGs, writes the `Step n/m : ...` progress, probes the cache
//! before each step, and decides what each image config and history entry say (`created_by` as
//! Docker writes it: `/bin/sh -c #(nop)  ENV A=1`, `|1 A=1 /bin/sh -c make`, `/bin/sh -c #(nop)
//! COPY file:<sum> in /app `). Only the stages the target needs are run.

use std::collections::{BTreeMap, BTreeSet};

use berth_image::config::{ContainerConfig, Empty, History, ImageConfig, RootFs};

use crate::args::BuildArgs;
use crate::instructions::{self, CmdLine, Command, CopyArgs, Instruction, Stage};
use crate::parser::{self, Heredoc};
use crate::refusal::{Missing, Refusal};
use crate::shell::{Env, Lex};

/// A build that failed; the text is what the user sees (Docker's where Docker has one).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Dockerfile or an argument is wrong.
    #[error(transparent)]
    Invalid(#[from] Refusal),
    /// A RUN step's command exited non-zero: `The command '...' returned a non-zero code: N`.
    #[error("The command '{command}' returned a non-zero code: {code}")]
    Failed {
        /// The command as Docker prints it.
        command: String,
        /// Its exit code.
        code: i32,
    },
    /// Something went wrong underneath (storage, runtime).
    #[error("{0}")]
    Backend(String),
    /// Something is missing (an image, a file of the context).
    #[error(transparent)]
    NotFound(#[from] Missing),
}

/// Where the builder writes its progress. The step events default to the classic builder's
/// plain text; a terminal view overrides them.
pub trait Output {
    /// A line (or part of one) of the build's own output or a RUN step's stdout.
    fn stdout(&mut self, text: &str);
    /// A RUN step's stderr.
    fn stderr(&mut self, text: &str) {
        self.stdout(text)
    }
    /// The ID of an image a stage produced (Docker's `aux` message).
    fn image_id(&mut self, _id: &str) {}
    /// Step `n` of `total` begins: `Step 2/9 : RUN make`.
    fn step(&mut self, n: usize, total: usize, code: &str) {
        self.stdout(&format!("Step {n}/{total} : {code}\n"));
    }
    /// The step's result came from the cache.
    fn using_cache(&mut self) {
        self.stdout(" ---> Using cache\n");
    }
    /// The step's container (12 hex digits) was created; its output follows.
    fn running_in(&mut self, cid: &str) {
        self.stdout(&format!(" ---> Running in {cid}\n"));
    }
    /// The step's container was removed.
    fn removing(&mut self, cid: &str) {
        self.stdout(&format!("Removing intermediate container {cid}\n"));
    }
    /// The step ended with this image (12 hex digits, or empty for `scratch`).
    fn step_image(&mut self, short_id: &str) {
        self.stdout(&format!(" ---> {short_id}\n"));
    }
    /// One message of a base image's pull, as Docker's daemon streams it into the build's output
    /// (`{"status":"Pulling fs layer","id":"…"}`), with the line a plain stream shows for it
    /// (`None`: a counting line, which plain output leaves out as the docker CLI does).
    fn pull_progress(&mut self, _message: &serde_json::Value, plain: Option<&str>) {
        if let Some(line) = plain {
            self.stdout(&format!("{line}\n"));
        }
    }
}

/// A base image or an image a step produced.
#[derive(Debug, Clone)]
pub struct Image {
    /// `sha256:...`, or empty for `scratch`.
    pub id: String,
    /// Its configuration.
    pub config: ImageConfig,
}

/// One file or directory a COPY/ADD copies, as the backend copies it.
#[derive(Debug, Clone)]
pub enum CopySource {
    /// A path of the context or of a `--from` image (the backend resolves it beneath `root`).
    Path {
        /// The path relative to the source root (`/`-separated, no leading `/`).
        rel: String,
        /// A directory: its contents are copied.
        is_dir: bool,
        /// ADD of a local archive: it is extracted.
        extract: bool,
    },
    /// A heredoc's content written as a file.
    Inline {
        /// File name (the heredoc's name).
        name: String,
        /// Content.
        content: Vec<u8>,
    },
}

/// What a COPY/ADD step asks the backend to do.
#[derive(Debug, Clone)]
pub struct CopyRequest {
    /// Where the sources are: `None` for the context, `Some(image id)` for `--from`.
    pub from_image: Option<String>,
    /// The sources.
    pub sources: Vec<CopySource>,
    /// Absolute destination (ends with `/` when it must be a directory).
    pub dest: String,
    /// `--chown` as written (resolved in the destination image's /etc/passwd and /etc/group).
    pub chown: String,
    /// `--chmod` as an octal mode.
    pub chmod: Option<u32>,
    /// Keep the source owners (`COPY --from` without `--chown`).
    pub preserve_owner: bool,
}

/// What a RUN step asks the backend to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The container's config (command, env with build args, user, workdir).
    pub config: ContainerConfig,
}

/// A layer a step produced, registered but not yet part of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLayer {
    /// Its diff ID.
    pub diff_id: berth_store::digest::Digest,
    /// Its chain ID (what the backend releases if no image takes it).
    pub chain_id: berth_store::digest::Digest,
}

/// Where the build's effects happen. The engine implements it.
pub trait Backend {
    /// The image `FROM name` (or `COPY --from=name`) means, pulled when the build asks for it
    /// (`--pull`) or it is not here, with the pull's progress to `out`; `scratch` is handled by
    /// the builder.
    fn base_image(&mut self, name: &str, out: &mut dyn Output) -> Result<Image, BuildError>;
    /// An image by ID (a previous stage's result).
    fn image(&mut self, id: &str) -> Result<Image, BuildError>;
    /// A cached image for this parent and step config, if any.
    fn cache_lookup(
        &mut self,
        parent: &str,
        probe: &ContainerConfig,
    ) -> Result<Option<String>, BuildError>;
    /// Hashes of copy sources, Docker's (`file:<sum>`, `dir:<sum>`), and their expansion from
    /// globs: `(rel, is_dir, hash)` for each match of `pattern` in the context or image.
    fn copy_sources(
        &mut self,
        from_image: Option<&str>,
        pattern: &str,
    ) -> Result<Vec<(String, bool, String)>, BuildError>;
    /// Whether a context file is a tar archive ADD extracts.
    fn is_archive(&mut self, rel: &str) -> bool;
    /// Runs `req` in a new container on `parent` with stdout/stderr to `out`; returns the
    /// container's short ID and its changes as a layer (`None`: it changed nothing). A
    /// non-zero exit is [`BuildError::Failed`].
    fn run(
        &mut self,
        parent: &str,
        req: &RunRequest,
        out: &mut dyn Output,
    ) -> Result<(String, Option<NewLayer>), BuildError>;
    /// Copies sources into a new layer on `parent`.
    fn copy(&mut self, parent: &str, req: &CopyRequest) -> Result<Option<NewLayer>, BuildError>;
    /// Creates the working directory (owned by root) in a new layer on `parent` if missing.
    fn workdir(&mut self, parent: &str, dir: &str) -> Result<Option<NewLayer>, BuildError>;
    /// Stores an image (its layer, if any, was returned by run/copy/workdir) as a child of
    /// `parent` and records it as the cache entry for `probe`. Returns its ID.
    fn commit(
        &mut self,
        parent: &str,
        config: &ImageConfig,
        layer: Option<&NewLayer>,
        probe: &ContainerConfig,
    ) -> Result<String, BuildError>;
    /// Gives back a layer that no image will use (the step failed after it was made).
    fn discard(&mut self, layer: &NewLayer);
    /// Whether `s` is a signal name or number (`STOPSIGNAL`).
    fn valid_signal(&self, s: &str) -> bool;
    /// A fresh container ID for a step that needs none (metadata steps report one as Docker).
    fn container_id(&mut self) -> String;
    /// The time recorded in history entries.
    fn now(&self) -> String;
}

/// Options of a build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// `--build-arg`s.
    pub build_args: BTreeMap<String, Option<String>>,
    /// `--target`.
    pub target: Option<String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--label`s, added to the final stage.
    pub labels: BTreeMap<String, String>,
    /// Keep the containers of successful RUN steps (`--rm=false`).
    pub keep_containers: bool,
}

/// The result of a build.
#[derive(Debug, Clone)]
pub struct Built {
    /// The final image's ID.
    pub id: String,
}

/// The default shell of Linux images.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];
/// The PATH Docker adds when an image has none.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One stage being dispatched.
struct State {
    run: ContainerConfig,
    image: Image,
    maintainer: String,
    cmd_set: bool,
    args: BuildArgs,
    cache_busted: bool,
}

/// The classic builder's state machine.
pub struct Builder<'b> {
    backend: &'b mut dyn Backend,
    out: &'b mut dyn Output,
    opts: BuildOptions,
    lex: Lex,
}

fn shell_of(c: &ContainerConfig) -> Vec<String> {
    match &c.shell {
        Some(s) if !s.is_empty() => s.clone(),
        _ => DEFAULT_SHELL.iter().map(|s| s.to_string()).collect(),
    }
}

fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// Docker's `nat.ParsePortSpecs` for EXPOSE: `80`, `80/udp`, `8000-8002/tcp`.
pub fn expose_ports(spec: &str) -> Result<Vec<String>, BuildError> {
    let (port, proto) = match spec.split_once('/') {
        Some((p, pr)) => (p, pr.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    let port = match port.rsplit_once(':') {
        Some((_, p)) => p,
        None => port,
    };
    let bad = || Refusal::ContainerPort(port.to_string());
    let (lo, hi) = match port.split_once('-') {
        Some((a, b)) => (
            a.parse::<u16>().map_err(|_| bad())?,
            b.parse::<u16>().map_err(|_| bad())?,
        ),
        None => {
            let p = port.parse::<u16>().map_err(|_| bad())?;
            (p, p)
        }
    };
    if hi < lo {
        return Err(Refusal::PortRange(port.to_string()).into());
    }
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(Refusal::Proto(proto).into());
    }
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

/// The stages the target needs: the target, the stages it is built FROM and those it copies
/// `--from`, transitively. `names` are the meta-arg-expanded FROM and `--from` values.
fn needed_stages(stages: &[Stage], target: usize, meta: &Env, lex: &Lex) -> BTreeSet<usize> {
    let index_of = |name: &str, before: usize| -> Option<usize> {
        let lower = name.to_ascii_lowercase();
        if let Some(i) = stages[..before]
            .iter()
            .position(|s| !s.name.is_empty() && s.name == lower)
        {
            return Some(i);
        }
        name.parse::<usize>().ok().filter(|i| *i < before)
    };
    let mut need = BTreeSet::new();
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        if !need.insert(i) {
            continue;
        }
        let base = lex.process_word(&stages[i].base, meta).unwrap_or_default();
        if let Some(j) = index_of(&base, i) {
            todo.push(j);
        }
        for c in &stages[i].commands {
            if let Instruction::Copy(cp) = &c.instruction {
                if !cp.from.is_empty() {
                    let from = lex.process_word(&cp.from, meta).unwrap_or_default();
                    if let Some(j) = index_of(&from, i) {
                        todo.push(j);
                    }
                }
            }
        }
    }
    need
}

impl<'b> Builder<'b> {
    /// A builder over `backend`, writing to `out`.
    pub fn new(backend: &'b mut dyn Backend, out: &'b mut dyn Output, opts: BuildOptions) -> Self {
        Builder {
            backend,
            out,
            opts,
            lex: Lex::new('\\'),
        }
    }

    /// Parses and runs `dockerfile` (its text). Returns the final image.
    pub fn build(&mut self, dockerfile: &str, name: &str) -> Result<Built, BuildError> {
        let df = parser::parse(dockerfile).map_err(|error| Refusal::Parse {
            name: name.to_string(),
            error,
        })?;
        self.lex = Lex::new(df.escape);
        let (mut stages, meta) = instructions::parse_stages(&df).map_err(Refusal::from)?;
        if stages.is_empty() {
            return Err(Refusal::Empty.into());
        }
        let target = match &self.opts.target {
            Some(t) if !t.is_empty() => stages
                .iter()
                .position(|s| s.name.eq_ignore_ascii_case(t))
                .ok_or_else(|| Refusal::NoTarget(t.clone()))?,
            _ => stages.len() - 1,
        };
        stages.truncate(target + 1);
        for (k, v) in &self.opts.labels {
            stages[target].commands.push(Command {
                instruction: Instruction::Label {
                    labels: vec![(k.clone(), v.clone())],
                    no_expand: true,
                },
                code: format!("LABEL {k}={v}"),
                line: 0,
            });
        }
        for w in &df.warnings {
            self.out.stderr(&format!("{w}\n"));
        }

        // Meta args are known before any stage runs.
        let mut args = BuildArgs::new(self.opts.build_args.clone());
        let mut meta_env = Env::default();
        let mut meta_cmds = Vec::new();
        for c in &meta {
            let Instruction::Arg(pairs) = &c.instruction else {
                continue;
            };
            let mut expanded = Vec::new();
            for (k, v) in pairs {
                let env = Env::from_list(&kv_list(&args.all_allowed()));
                let k = self.lex.process_word(k, &env).map_err(Refusal::from)?;
                let v = match v {
                    Some(v) => Some(self.lex.process_word(v, &env).map_err(Refusal::from)?),
                    None => None,
                };
                args.add_arg(&k, v.clone());
                args.add_meta_arg(&k, v.clone());
                expanded.push((k, v));
            }
            meta_cmds.push(c.code.clone());
            let _ = expanded;
        }
        for (k, v) in args.all_meta() {
            meta_env.set(&k, &v);
        }
        let need = needed_stages(&stages, target, &meta_env, &self.lex);
        let total = meta.len()
            + stages
                .iter()
                .enumerate()
                .filter(|(i, _)| need.contains(i))
                .map(|(_, s)| 1 + s.commands.len())
                .sum::<usize>();
        let mut step = 0;
        for code in &meta_cmds {
            step += 1;
            self.out.step(step, total, code);
        }

        // name (lower-case) or index → image ID of finished stages.
        let mut results: Vec<Option<String>> = Vec::new();
        let mut last = String::new();
        for (i, stage) in stages.iter().enumerate() {
            if !need.contains(&i) {
                results.push(None);
                continue;
            }
            if !stage.name.is_empty() && stages[..i].iter().any(|s| s.name == stage.name) {
                return Err(Refusal::StageNameUsed(stage.name.clone()).into());
            }
            step += 1;
            self.out.step(step, total, &stage.code);
            let mut state = self.begin_stage(stage, &stages[..i], &results, &args)?;
            self.out.step_image(short(&state.image.id));
            for c in &stage.commands {
                step += 1;
                self.out.step(step, total, &c.code);
                self.dispatch(&mut state, c, &stages[..i], &results)?;
                self.out.step_image(short(&state.image.id));
            }
            if !state.image.id.is_empty() {
                self.out.image_id(&state.image.id);
            }
            args.merge_referenced(&state.args);
            last = state.image.id.clone();
            results.push(Some(state.image.id));
        }
        let unused = args.unused();
        if !unused.is_empty() {
            self.out.stdout(&format!(
                "[Warning] One or more build-args [{}] were not consumed\n",
                unused.join(" ")
            ));
        }
        if last.is_empty() {
            return Err(Refusal::Empty.into());
        }
        Ok(Built { id: last })
    }

    fn stage_image(
        &self,
        name: &str,
        before: &[Stage],
        results: &[Option<String>],
    ) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        if let Some(i) = before
            .iter()
            .position(|s| !s.name.is_empty() && s.name == lower)
        {
            return results.get(i).cloned().flatten();
        }
        None
    }

    fn begin_stage(
        &mut self,
        stage: &Stage,
        before: &[Stage],
        results: &[Option<String>],
        args: &BuildArgs,
    ) -> Result<State, BuildError> {
        let meta: Env = Env::from_list(&kv_list(&args.all_meta()));
        if !stage.platform.is_empty() {
            let p = self
                .lex
                .process_word(&stage.platform, &meta)
                .map_err(|error| Refusal::PlatformArgs {
                    platform: stage.platform.clone(),
                    error,
                })?;
            let host = berth_image_arch();
            let os_arch: Vec<&str> = p.split('/').collect();
            if os_arch.first() != Some(&"linux") || os_arch.get(1).is_some_and(|a| *a != host) {
                return Err(Refusal::ForeignPlatform {
                    platform: p,
                    host: host.to_string(),
                }
                .into());
            }
        }
        let name = self
            .lex
            .process_word(&stage.base, &meta)
            .map_err(Refusal::from)?;
        if name.is_empty() {
            return Err(Refusal::BlankBase(stage.base.clone()).into());
        }
        let image = if let Some(id) = self.stage_image(&name, before, results) {
            self.backend.image(&id)?
        } else if name == "scratch" {
            Image {
                id: String::new(),
                config: ImageConfig {
                    os: "linux".into(),
                    architecture: berth_image_arch().into(),
                    ..Default::default()
                },
            }
        } else {
            self.backend.base_image(&name, self.out)?
        };
        let mut run = image.config.config.clone().unwrap_or_default();
        let env = run.env.get_or_insert_with(Vec::new);
        if !env
            .iter()
            .any(|e| e.split_once('=').map(|(k, _)| k).unwrap_or(e) == "PATH")
        {
            env.push(DEFAULT_PATH.into());
        }
        run.open_stdin = false;
        run.stdin_once = false;
        run.image = image.id.clone();
        let mut state = State {
            run,
            image,
            maintainer: String::new(),
            cmd_set: false,
            args: args.for_stage(),
            cache_busted: self.opts.no_cache,
        };
        if let Some(triggers) = state.run.on_build.take().filter(|t| !t.is_empty()) {
            self.out.stdout(&format!(
                "# Executing {} build trigger{}\n",
                triggers.len(),
                if triggers.len() > 1 { "s" } else { "" }
            ));
            for t in triggers {
                let df = parser::parse(&t).map_err(Refusal::Trigger)?;
                if df.nodes.len() != 1 {
                    return Err(Refusal::TriggerNotSingle.into());
                }
                let instruction =
                    instructions::parse_instruction(&df.nodes[0]).map_err(Refusal::from)?;
                let c = Command {
                    instruction,
                    code: t.clone(),
                    line: 0,
                };
                self.dispatch(&mut state, &c, before, results)?;
            }
        }
        Ok(state)
    }

    /// The words a step's arguments are expanded with: the stage's ENV, then its ARGs.
    fn env(&self, state: &State) -> Env {
        let env = state.run.env.clone().unwrap_or_default();
        let mut all = env.clone();
        all.extend(state.args.filter_allowed(&env));
        Env::from_list(&all)
    }

    fn word(&self, state: &State, w: &str) -> Result<String, BuildError> {
        Ok(self
            .lex
            .process_word(w, &self.env(state))
            .map_err(Refusal::from)?)
    }

    /// Cache probe: on a hit the state moves to the cached image.
    fn probe(&mut self, state: &mut State, probe: &ContainerConfig) -> Result<bool, BuildError> {
        if state.cache_busted {
            return Ok(false);
        }
        match self.backend.cache_lookup(&state.image.id, probe)? {
            Some(id) => {
                self.out.using_cache();
                state.image = self.backend.image(&id)?;
                state.run.image = state.image.id.clone();
                Ok(true)
            }
            None => {
                state.cache_busted = true;
                Ok(false)
            }
        }
    }

    /// The image a step makes: the parent's, plus this step's history and layer.
    fn child_config(
        &self,
        state: &State,
        probe: &ContainerConfig,
        container: Option<&str>,
        layer: Option<&NewLayer>,
    ) -> ImageConfig {
        let parent = &state.image.config;
        let now = self.backend.now();
        let mut rootfs = if parent.rootfs.kind.is_empty() {
            RootFs::default()
        } else {
            parent.rootfs.clone()
        };
        if let Some(l) = layer {
            rootfs.diff_ids.push(l.diff_id.clone());
        }
        let mut history = parent.history.clone();
        let author = (!state.maintainer.is_empty()).then(|| state.maintainer.clone());
        history.push(History {
            created: Some(now.clone()),
            created_by: Some(probe.cmd.clone().unwrap_or_default().join(" ")),
            author: author.clone(),
            comment: None,
            empty_layer: layer.is_none(),
        });
        ImageConfig {
            architecture: if parent.architecture.is_empty() {
                berth_image_arch().into()
            } else {
                parent.architecture.clone()
            },
            author,
            comment: None,
            config: Some(state.run.clone()),
            container: container.map(str::to_string),
            container_config: Some(probe.clone()),
            created: Some(now),
            docker_version: Some(berth_image::config::ENGINE_VERSION.into()),
            history,
            os: if parent.os.is_empty() {
                "linux".into()
            } else {
                parent.os.clone()
            },
            rootfs,
            variant: parent.variant.clone(),
            ..Default::default()
        }
    }

    fn store(
        &mut self,
        state: &mut State,
        probe: &ContainerConfig,
        container: Option<&str>,
        layer: Option<NewLayer>,
    ) -> Result<(), BuildError> {
        let config = self.child_config(state, probe, container, layer.as_ref());
        let id = self
            .backend
            .commit(&state.image.id, &config, layer.as_ref(), probe)?;
        state.image = Image { id, config };
        state.run.image = state.image.id.clone();
        Ok(())
    }

    /// A metadata-only step (`#(nop)` in its history): no layer.
    fn commit_meta(&mut self, state: &mut State, comment: &str) -> Result<(), BuildError> {
        self.commit_meta_with(state, comment, None)
    }

    /// [`Self::commit_meta`]; `health` replaces the run config's health check once the cache
    /// has been probed (Docker's merge with the parent, see HEALTHCHECK).
    fn commit_meta_with(
        &mut self,
        state: &mut State,
        comment: &str,
        health: Option<serde_json::Value>,
    ) -> Result<(), BuildError> {
        let mut probe = state.run.clone();
        let mut cmd = shell_of(&state.run);
        cmd.push("#(nop) ".into());
        cmd.push(comment.into());
        probe.cmd = Some(cmd);
        if self.probe(state, &probe)? {
            return Ok(());
        }
        if let Some(h) = health {
            state.run.healthcheck = Some(h);
        }
        // Docker creates (and removes) a container for these steps; the image records its ID.
        let cid = self.backend.container_id();
        self.out.running_in(&cid[..12]);
        self.store(state, &probe, Some(&cid), None)?;
        self.out.removing(&cid[..12]);
        Ok(())
    }

    fn resolve_cmd(&self, state: &State, c: &CmdLine) -> Vec<String> {
        if c.prepend_shell {
            let mut v = shell_of(&state.run);
            v.extend(c.args.iter().cloned());
            v
        } else {
            c.args.clone()
        }
    }

    fn dispatch(
        &mut self,
        state: &mut State,
        c: &Command,
        before: &[Stage],
        results: &[Option<String>],
    ) -> Result<(), BuildError> {
        match &c.instruction {
            Instruction::Env(pairs) => {
                let mut msg = String::from("ENV");
                for (k, v) in pairs {
                    let k = self.word(state, k)?;
                    let v = self.word(state, v)?;
                    let new = format!("{k}={v}");
                    msg.push(' ');
                    msg.push_str(&new);
                    let env = state.run.env.get_or_insert_with(Vec::new);
                    match env
                        .iter_mut()
                        .find(|e| e.split_once('=').map(|(ek, _)| ek).unwrap_or(e) == k)
                    {
                        Some(e) => *e = new,
                        None => env.push(new),
                    }
                }
                self.commit_meta(state, &msg)
            }
            Instruction::Maintainer(m) => {
                state.maintainer = m.clone();
                self.commit_meta(state, &format!("MAINTAINER {m}"))
            }
            Instruction::Label { labels, no_expand } => {
                let mut msg = String::from("LABEL");
                for (k, v) in labels {
                    let (k, v) = if *no_expand {
                        (k.clone(), v.clone())
                    } else {
                        (self.word(state, k)?, self.word(state, v)?)
                    };
                    msg.push_str(&format!(" {k}={v}"));
                    state
                        .run
                        .labels
                        .get_or_insert_with(BTreeMap::new)
                        .insert(k, v);
                }
                self.commit_meta(state, &msg)
            }
            Instruction::Onbuild(expr) => {
                state
                    .run
                    .on_build
                    .get_or_insert_with(Vec::new)
                    .push(expr.clone());
                self.commit_meta(state, &format!("ONBUILD {expr}"))
            }
            Instruction::Workdir(p) => {
                let p = self.word(state, p)?;
                if p.is_empty() {
                    return Err(Refusal::EmptyWorkdir.into());
                }
                state.run.working_dir = if p.starts_with('/') {
                    p
                } else {
                    berth_go::clean(&format!("/{}/{}", state.run.working_dir, p))
                };
                let mut probe = state.run.clone();
                let mut cmd = shell_of(&state.run);
                cmd.push(format!("#(nop) WORKDIR {}", state.run.working_dir));
                probe.cmd = Some(cmd);
                if self.probe(state, &probe)? {
                    return Ok(());
                }
                let cid = self.backend.container_id();
                self.out.running_in(&cid[..12]);
                let layer = self
                    .backend
                    .workdir(&state.image.id, &state.run.working_dir.clone())?;
                self.store(state, &probe, Some(&cid), layer)?;
                self.out.removing(&cid[..12]);
                Ok(())
            }
            Instruction::Run { cmd, heredocs } => self.run(state, cmd, heredocs),
            Instruction::Cmd(cmdline) => {
                let cmd = self.resolve_cmd(state, cmdline);
                let quoted: Vec<&str> = cmd.iter().map(String::as_str).collect();
                let msg = format!("CMD {}", berth_go::strconv::quote_slice(&quoted));
                state.run.cmd = Some(cmd);
                state.run.args_escaped = false;
                self.commit_meta(state, &msg)?;
                if !cmdline.args.is_empty() {
                    state.cmd_set = true;
                }
                Ok(())
            }
            Instruction::Entrypoint(cmdline) => {
                let ep = cmdline.as_ref().map(|c| self.resolve_cmd(state, c));
                state.run.entrypoint = ep.clone();
                state.run.args_escaped = false;
                if !state.cmd_set {
                    state.run.cmd = None;
                }
                let ep = ep.unwrap_or_default();
                let quoted: Vec<&str> = ep.iter().map(String::as_str).collect();
                let msg = format!("ENTRYPOINT {}", berth_go::strconv::quote_slice(&quoted));
                self.commit_meta(state, &msg)
            }
            Instruction::Healthcheck(h) => {
                if let Some(old) = state.run.healthcheck.as_ref().and_then(|v| v.get("Test")) {
                    let old: Vec<String> = serde_json::from_value(old.clone()).unwrap_or_default();
                    if old.first().is_some_and(|t| t != "NONE") {
                        self.out.stdout(&format!(
                            "Note: overriding previous HEALTHCHECK: [{}]\n",
                            old.join(" ")
                        ));
                    }
                }
                // Docker's history shows the instruction's settings, but the config gets zero
                // durations and retries filled from the parent image's health check: the
                // container Docker creates for the step merges the image's config into the
                // builder's (shared) health check.
                let msg = format!("HEALTHCHECK {}", h.go_quoted());
                let mut merged = h.to_json();
                if let Some(parent) = state
                    .image
                    .config
                    .config
                    .as_ref()
                    .and_then(|c| c.healthcheck.as_ref())
                {
                    for key in ["Interval", "Timeout", "StartPeriod", "Retries"] {
                        if merged.get(key).is_none() {
                            if let Some(v) = parent.get(key).filter(|v| v.as_i64() != Some(0)) {
                                merged[key] = v.clone();
                            }
                        }
                    }
                }
                state.run.healthcheck = Some(h.to_json());
                self.commit_meta_with(state, &msg, Some(merged))
            }
            Instruction::Expose(ports) => {
                let env = self.env(state);
                let mut all = Vec::new();
                for p in ports {
                    all.extend(self.lex.process_words(p, &env).map_err(Refusal::from)?);
                }
                let set = state.run.exposed_ports.get_or_insert_with(BTreeMap::new);
                for p in &all {
                    for port in expose_ports(p)? {
                        set.insert(port, Empty {});
                    }
                }
                self.commit_meta(state, &format!("EXPOSE {}", all.join(" ")))
            }
            Instruction::User(u) => {
                let u = self.word(state, u)?;
                state.run.user = u.clone();
                self.commit_meta(state, &format!("USER {u}"))
            }
            Instruction::Volume(vols) => {
                let mut expanded = Vec::new();
                for v in vols {
                    let v = self.word(state, v)?;
                    if v.is_empty() {
                        return Err(Refusal::EmptyVolume.into());
                    }
                    expanded.push(v);
                }
                let set = state.run.volumes.get_or_insert_with(BTreeMap::new);
                for v in &expanded {
                    set.insert(v.clone(), Empty {});
                }
                self.commit_meta(state, &format!("VOLUME [{}]", expanded.join(" ")))
            }
            Instruction::StopSignal(s) => {
                let s = self.word(state, s)?;
                if !self.backend.valid_signal(&s) {
                    return Err(Refusal::Signal(s).into());
                }
                state.run.stop_signal = s.clone();
                self.commit_meta(state, &format!("STOPSIGNAL {s}"))
            }
            Instruction::Arg(pairs) => {
                let mut msg = String::from("ARG ");
                for (i, (k, v)) in pairs.iter().enumerate() {
                    let k = self.word(state, k)?;
                    let v = match v {
                        Some(v) => Some(self.word(state, v)?),
                        None => None,
                    };
                    if i > 0 {
                        msg.push(' ');
                    }
                    msg.push_str(&k);
                    if let Some(v) = &v {
                        msg.push('=');
                        msg.push_str(v);
                    }
                    state.args.add_arg(&k, v);
                }
                self.commit_meta(state, &msg)
            }
            Instruction::Shell(sh) => {
                state.run.shell = Some(sh.clone());
                self.commit_meta(state, &format!("SHELL [{}]", sh.join(" ")))
            }
            Instruction::Add(cp) => self.copy(state, cp, "ADD", before, results),
            Instruction::Copy(cp) => self.copy(state, cp, "COPY", before, results),
        }
    }

    fn run(
        &mut self,
        state: &mut State,
        cmdline: &CmdLine,
        heredocs: &[Heredoc],
    ) -> Result<(), BuildError> {
        let mut cmdline = cmdline.clone();
        if !heredocs.is_empty() {
            let line = cmdline.args.first().cloned().unwrap_or_default();
            let single =
                heredocs.len() == 1 && parser::parse_heredoc(line.trim()).ok().flatten().is_some();
            if single {
                let doc = &heredocs[0];
                if doc.content.starts_with("#!") {
                    return Err(Refusal::ShebangHeredoc.into());
                }
                let content = if doc.chomp {
                    chomp(&doc.content)
                } else {
                    doc.content.clone()
                };
                cmdline.args = vec![content];
            } else {
                // The shell reads the heredocs itself.
                let mut text = line;
                for d in heredocs {
                    text.push('\n');
                    text.push_str(&d.content);
                    text.push_str(&d.name);
                }
                cmdline.args = vec![text];
            }
        }
        let cmd = self.resolve_cmd(state, &cmdline);
        let env = state.run.env.clone().unwrap_or_default();
        let build_args = state.args.filter_allowed(&env);
        let mut save_cmd = cmd.clone();
        if !build_args.is_empty() {
            let mut shown: Vec<String> = build_args
                .iter()
                .filter(|e| {
                    state.args.is_referenced_or_not_builtin(
                        e.split_once('=').map(|(k, _)| k).unwrap_or(e),
                    )
                })
                .cloned()
                .collect();
            shown.sort();
            let mut v = vec![format!("|{}", shown.len())];
            v.extend(shown);
            v.extend(cmd.iter().cloned());
            save_cmd = v;
        }
        let mut probe = state.run.clone();
        probe.cmd = Some(save_cmd.clone());
        probe.args_escaped = false;
        if !save_cmd.is_empty() {
            probe.entrypoint = None;
        }
        if self.probe(state, &probe)? {
            return Ok(());
        }
        let mut run = state.run.clone();
        run.cmd = Some(cmd.clone());
        run.args_escaped = false;
        let mut all_env = env;
        all_env.extend(build_args);
        run.env = Some(all_env);
        if !save_cmd.is_empty() {
            run.entrypoint = None;
        }
        run.healthcheck = Some(serde_json::json!({"Test": ["NONE"]}));
        let req = RunRequest { config: run };
        let (cid, layer) = match self.backend.run(&state.image.id, &req, self.out) {
            Ok(r) => r,
            Err(BuildError::Failed { code, .. }) => {
                return Err(BuildError::Failed {
                    command: cmd.join(" "),
                    code,
                })
            }
            Err(e) => return Err(e),
        };
        self.store(state, &probe, Some(&cid), layer)?;
        if !self.opts.keep_containers {
            self.out.removing(&cid[..12]);
        }
        Ok(())
    }

    fn copy(
        &mut self,
        state: &mut State,
        cp: &CopyArgs,
        name: &str,
        before: &[Stage],
        results: &[Option<String>],
    ) -> Result<(), BuildError> {
        let env = self.env(state);
        let chown = self
            .lex
            .process_word(&cp.chown, &env)
            .map_err(Refusal::from)?;
        let chmod = if cp.chmod.is_empty() {
            None
        } else {
            Some(
                u32::from_str_radix(&cp.chmod, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| Refusal::Chmod(cp.chmod.clone()))?,
            )
        };
        let mut words = Vec::new();
        for s in cp.sources.iter().chain(std::iter::once(&cp.dest)) {
            words.push(self.lex.process_word(s, &env).map_err(Refusal::from)?);
        }
        let dest_raw = words.pop().expect("dest");
        let from_image = if cp.from.is_empty() {
            None
        } else {
            let from = self
                .lex
                .process_word(&cp.from, &env)
                .map_err(Refusal::from)?;
            let id = match self.stage_image(&from, before, results) {
                Some(id) => id,
                None => match from.parse::<usize>() {
                    Ok(i) if i < results.len() => results[i].clone().unwrap_or_default(),
                    Ok(i) if i == results.len() => {
                        return Err(Refusal::FromCurrentStage(from.clone()).into())
                    }
                    Ok(_) => return Err(Refusal::FromOutOfBounds(from.clone()).into()),
                    Err(_) => {
                        self.backend
                            .base_image(&from, self.out)
                            .map_err(|e| Refusal::From {
                                from: from.clone(),
                                error: Box::new(e),
                            })?
                            .id
                    }
                },
            };
            Some(id)
        };
        let mut sources = Vec::new();
        let mut hashes = Vec::new();
        for src in &words {
            if let Some(doc) = heredoc_source(src, &cp.heredocs) {
                let content = if doc.chomp {
                    chomp(&doc.content)
                } else {
                    doc.content.clone()
                };
                let content = if doc.expand {
                    let mut l = Lex::new(self.lex_escape());
                    l.skip_process_quotes = true;
                    l.process_word(&content, &env).map_err(Refusal::from)?
                } else {
                    content
                };
                hashes.push(format!("file:{}", sha256_hex(content.as_bytes())));
                sources.push(CopySource::Inline {
                    name: doc.name.clone(),
                    content: content.into_bytes(),
                });
                continue;
            }
            if is_url(src) {
                return Err(if name == "COPY" {
                    Refusal::UrlForCopy
                } else {
                    Refusal::UrlNeedsNetwork {
                        instruction: name.to_string(),
                        src: src.to_string(),
                    }
                }
                .into());
            }
            if is_git(src) {
                return Err(Refusal::GitNeedsNetwork {
                    instruction: name.to_string(),
                    src: src.to_string(),
                }
                .into());
            }
            let found = self
                .backend
                .copy_sources(from_image.as_deref(), src)
                .map_err(|e| match e {
                    BuildError::NotFound(missing) => Refusal::SourceMissing {
                        instruction: name.to_string(),
                        missing,
                    }
                    .into(),
                    e => e,
                })?;
            for (rel, is_dir, hash) in found {
                let extract = name == "ADD"
                    && !is_dir
                    && from_image.is_none()
                    && self.backend.is_archive(&rel);
                hashes.push(hash);
                sources.push(CopySource::Path {
                    rel,
                    is_dir,
                    extract,
                });
            }
        }
        if sources.is_empty() {
            return Err(Refusal::NoSources(name.to_string()).into());
        }
        if sources.len() > 1 && !dest_raw.ends_with('/') {
            return Err(Refusal::DestinationNotDirectory(name.to_string()).into());
        }
        let src_hash = if hashes.len() == 1 {
            hashes[0].clone()
        } else {
            format!("multi:{}", sha256_hex(hashes.join(",").as_bytes()))
        };
        // Docker writes no space between the flag and the sum (`COPY --chown=1:1file:...`).
        let chown_comment = if chown.is_empty() {
            String::new()
        } else {
            format!("--chown={chown}")
        };
        let chmod_comment = match chmod {
            Some(_) => format!("--chmod={} ", cp.chmod),
            None => String::new(),
        };
        let dest = if dest_raw.starts_with('/') {
            dest_raw.clone()
        } else {
            let mut d = berth_go::clean(&format!("/{}/{}", state.run.working_dir, dest_raw));
            if dest_raw.ends_with('/') && !d.ends_with('/') {
                d.push('/');
            }
            d
        };
        let comment = format!("{name} {chown_comment}{chmod_comment}{src_hash} in {dest_raw} ");
        let mut probe = state.run.clone();
        let mut cmd = shell_of(&state.run);
        cmd.push(format!("#(nop) {comment}"));
        probe.cmd = Some(cmd);
        if self.probe(state, &probe)? {
            return Ok(());
        }
        let req = CopyRequest {
            preserve_owner: from_image.is_some() && chown.is_empty(),
            from_image,
            sources,
            dest,
            chown,
            chmod,
        };
        let layer = self.backend.copy(&state.image.id, &req)?;
        self.store(state, &probe, None, layer)
    }

    fn lex_escape(&self) -> char {
        // The lexer's escape token is the Dockerfile's.
        let probe = self
            .lex
            .process_word("\\x", &Env::default())
            .unwrap_or_default();
        if probe == "x" {
            '\\'
        } else {
            '`'
        }
    }
}

fn kv_list(m: &BTreeMap<String, String>) -> Vec<String> {
    m.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

fn chomp(s: &str) -> String {
    s.lines()
        .map(|l| l.trim_start_matches('\t'))
        .collect::<Vec<_>>()
        .join("\n")
        + if s.ends_with('\n') { "\n" } else { "" }
}

fn heredoc_source<'h>(src: &str, docs: &'h [Heredoc]) -> Option<&'h Heredoc> {
    let h = parser::parse_heredoc(src).ok().flatten()?;
    docs.iter().find(|d| d.name == h.name)
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

fn is_git(s: &str) -> bool {
    s.starts_with("git://") || s.starts_with("git@") || (s.starts_with("github.com/"))
}

/// Hex sha256 of bytes.
pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(b))
}

fn berth_image_arch() -> &'static str {
    berth_image::import::host_architecture()
}
