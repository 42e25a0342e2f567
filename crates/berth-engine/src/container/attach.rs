//! `attach` (and the attach half of `run`/`start -a`): connects the caller's terminal or pipes to
//! the container's shim.

use berth_runtime::attach::{AttachClient, AttachIo, AttachOptions, AttachOutcome, DetachKeys};

use crate::{Engine, EngineError};

/// How to attach.
pub struct AttachRequest {
    /// Forward stdin.
    pub stdin: bool,
    /// Receive stdout.
    pub stdout: bool,
    /// Receive stderr.
    pub stderr: bool,
    /// The key sequence that detaches.
    pub detach_keys: DetachKeys,
    /// Ask the shim to start the process first (`run`, `start -a`).
    pub start: bool,
}

/// An attach session connected to its container's shim, its streams announced
/// ([`Engine::connect_attach`]), not yet pumping them.
#[derive(Debug)]
pub struct Attached {
    client: AttachClient,
    opts: AttachOptions,
}

impl Attached {
    /// Pumps the session's streams through `io` until the container exits or the user detaches.
    pub fn run(self, io: AttachIo<'_>) -> Result<AttachOutcome, EngineError> {
        let outcome = self
            .client
            .run(&self.opts, io)
            .map_err(berth_runtime::error::ProcessError::from)?;
        Ok(outcome)
    }
}

impl Engine {
    /// Attaches the process's stdio to container `name` until it exits or the user detaches.
    pub fn attach_container(
        &mut self,
        name: &str,
        req: &AttachRequest,
    ) -> Result<AttachOutcome, EngineError> {
        self.attach_container_io(name, req, AttachIo::stdio())
    }

    /// [`Engine::attach_container`] with other descriptors than the process's own stdio (the
    /// API server's pipes to a hijacked connection).
    pub fn attach_container_io(
        &mut self,
        name: &str,
        req: &AttachRequest,
        io: AttachIo<'_>,
    ) -> Result<AttachOutcome, EngineError> {
        self.connect_attach(name, req)?.run(io)
    }

    /// The first half of [`Engine::attach_container_io`]: connects to container `name`'s shim
    /// and tells it which streams this session takes, so that what the container writes from
    /// then on is kept for it. The API's attach does this before it answers its client, which
    /// sends `start` as soon as it has the answer ([`Attached::run`] pumps afterwards).
    pub fn connect_attach(
        &mut self,
        name: &str,
        req: &AttachRequest,
    ) -> Result<Attached, EngineError> {
        let c = self.container(name)?;
        // A container whose shim holds the created process for a start request counts as
        // attachable (the API attaches before it starts).
        let awaiting_start =
            !c.state.status.is_running() && berth_runtime::shim::shim_alive(&self.run_dir(&c.id));
        if !req.start && !awaiting_start {
            c.can_attach()?;
        }
        let dir = self.run_dir(&c.id);
        let mut client =
            AttachClient::connect(&dir).map_err(berth_runtime::error::ProcessError::from)?;
        self.emit_container(&c, "attach", &[]);
        let opts = AttachOptions {
            stdin: req.stdin,
            stdout: req.stdout,
            stderr: req.stderr,
            tty: c.config.tty,
            detach_keys: req.detach_keys.clone(),
            start: req.start,
        };
        client
            .hello(&opts)
            .map_err(berth_runtime::error::ProcessError::from)?;
        Ok(Attached { client, opts })
    }

    /// The API's attach to a container that does not run (`docker run` and `start -a` attach
    /// first, then start): its shim is started to hold the created process until the start
    /// request, so no output is lost and attach can connect. If that launch fails, a `--rm`
    /// container stays for the start request to report the failure and remove it.
    pub fn prepare_attach(&mut self, name: &str) -> Result<(), EngineError> {
        let c = self.container(name)?;
        if !c.state.status.is_running() && !berth_runtime::shim::shim_alive(&self.run_dir(&c.id)) {
            self.start_container_keeping(&c.id, true, None, true)?;
        }
        Ok(())
    }
}

impl Engine {
    /// The API's resize of a container's terminal.
    pub fn resize_container(
        &mut self,
        name: &str,
        rows: u16,
        cols: u16,
    ) -> Result<(), EngineError> {
        let c = self.container(name)?;
        c.can_resize()?;
        let size = berth_runtime::term::WinSize { rows, cols };
        AttachClient::resize(&self.run_dir(&c.id), size)
            .map_err(berth_runtime::error::ProcessError::from)?;
        Ok(())
    }
}
