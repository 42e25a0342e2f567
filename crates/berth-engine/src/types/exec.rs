//! [`ExecConfig`] (what `docker exec` asks for: the body of `POST /containers/{id}/exec`) and
//! [`ExecInspect`] (what `GET /exec/{id}/json` answers), in Docker's shape.

use serde::{Deserialize, Serialize};

/// An exec request, as Docker's API has it; the CLI fills the same fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecConfig {
    /// `--user` (`""`: the container's).
    pub user: String,
    /// `--privileged` (refused: berth does not run privileged execs).
    pub privileged: bool,
    /// `-t`.
    pub tty: bool,
    /// The terminal's initial `[height, width]` (API ≥ 1.42).
    pub console_size: Option<[u16; 2]>,
    /// `-i`: the process reads the caller's stdin.
    pub attach_stdin: bool,
    /// The caller reads stdout.
    pub attach_stdout: bool,
    /// The caller reads stderr.
    pub attach_stderr: bool,
    /// Keys that detach an attached start from the process (Docker's ctrl-p,ctrl-q when empty).
    /// Go's decoder matches names without case and docker-py sends `detachKeys`.
    #[serde(alias = "detachKeys")]
    pub detach_keys: String,
    /// Extra `K=V` entries, added to the container's environment.
    pub env: Vec<String>,
    /// Working directory (`""`: the container's).
    pub working_dir: String,
    /// Command and arguments.
    pub cmd: Vec<String>,
}

/// `ProcessConfig` of an exec inspect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecProcessConfig {
    /// `-t`.
    pub tty: bool,
    /// The command.
    pub entrypoint: String,
    /// Its arguments.
    pub arguments: Vec<String>,
    /// Always false.
    pub privileged: bool,
    /// `--user`.
    pub user: String,
}

/// `GET /exec/{id}/json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecInspect {
    /// The exec instance's ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Whether its process runs (or is being started).
    pub running: bool,
    /// Its exit code, `null` until it ended.
    pub exit_code: Option<i32>,
    /// What it runs.
    pub process_config: ExecProcessConfig,
    /// `-i`.
    pub open_stdin: bool,
    /// Whether stderr is attached.
    pub open_stderr: bool,
    /// Whether stdout is attached.
    pub open_stdout: bool,
    /// Always false (Docker's own bookkeeping).
    pub can_remove: bool,
    /// The container it runs in.
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    /// The detach keys asked for.
    pub detach_keys: String,
    /// Host pid of its process, 0 before it runs.
    pub pid: i64,
}
