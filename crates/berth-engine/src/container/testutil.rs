//! Test support: [`FakeRuntime`], a `Runtime` that records each call and fails on demand, and
//! [`engine_with_container`], an engine on a throw-away data root (vfs driver) with one
//! container row, so engine logic is tested without root, runc or a shim.

use std::path::Path;
use std::sync::{Arc, Mutex};

use berth_runtime::runtime::{ContainerState, CreateOptions, ExecOptions, RuntimeProcess};
use berth_runtime::{Runtime, RuntimeError};
use berth_store::metadata::containers::{self, ContainerRow, StateRow};

use super::Status;
use crate::{Engine, EngineOptions};

/// Work a test runs in the middle of a runtime call (given the call, `"kill ID 15"`).
type Hook = Box<dyn FnMut(&str) + Send>;

/// A runtime that records calls (`"pause ID"`), fails the next one when told to, and runs a
/// test's hook during each call.
#[derive(Default, Clone)]
pub(crate) struct FakeRuntime {
    calls: Arc<Mutex<Vec<String>>>,
    fail: Arc<Mutex<Option<String>>>,
    during: Arc<Mutex<Option<Hook>>>,
}

impl std::fmt::Debug for FakeRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRuntime")
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

impl FakeRuntime {
    pub(crate) fn new() -> FakeRuntime {
        FakeRuntime::default()
    }

    /// The calls so far.
    pub(crate) fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// The next call fails with `message`.
    pub(crate) fn fail_next(&self, message: &str) {
        *self.fail.lock().unwrap() = Some(message.to_string());
    }

    /// Runs `hook` during every call from now on.
    pub(crate) fn during(&self, hook: impl FnMut(&str) + Send + 'static) {
        *self.during.lock().unwrap() = Some(Box::new(hook));
    }

    fn call(&self, op: &'static str, id: &str) -> Result<(), RuntimeError> {
        let call = format!("{op} {id}");
        if let Some(hook) = self.during.lock().unwrap().as_mut() {
            hook(&call);
        }
        self.calls.lock().unwrap().push(call);
        match self.fail.lock().unwrap().take() {
            Some(message) => Err(RuntimeError::Failed {
                op,
                id: id.to_string(),
                message,
                status: Some(1),
            }),
            None => Ok(()),
        }
    }
}

impl Runtime for FakeRuntime {
    fn create(&self, id: &str, _: &Path, _: CreateOptions) -> Result<(), RuntimeError> {
        self.call("create", id)
    }
    fn start(&self, id: &str) -> Result<(), RuntimeError> {
        self.call("start", id)
    }
    fn state(&self, id: &str) -> Result<ContainerState, RuntimeError> {
        self.call("state", id)?;
        Err(RuntimeError::Failed {
            op: "state",
            id: id.to_string(),
            message: "the fake runtime keeps no state".into(),
            status: Some(1),
        })
    }
    fn kill(&self, id: &str, signal: i32, _: bool) -> Result<(), RuntimeError> {
        self.call("kill", &format!("{id} {signal}"))
    }
    fn delete(&self, id: &str, _: bool) -> Result<(), RuntimeError> {
        self.call("delete", id)
    }
    fn exec(&self, id: &str, _: &Path, _: ExecOptions) -> Result<RuntimeProcess, RuntimeError> {
        self.call("exec", id)?;
        Err(RuntimeError::Failed {
            op: "exec",
            id: id.to_string(),
            message: "the fake runtime runs no process".into(),
            status: Some(1),
        })
    }
    fn ps(&self, id: &str) -> Result<Vec<i32>, RuntimeError> {
        self.call("ps", id).map(|()| Vec::new())
    }
    fn pause(&self, id: &str) -> Result<(), RuntimeError> {
        self.call("pause", id)
    }
    fn resume(&self, id: &str) -> Result<(), RuntimeError> {
        self.call("resume", id)
    }
    fn list(&self) -> Result<Vec<ContainerState>, RuntimeError> {
        Ok(Vec::new())
    }
    fn update(&self, id: &str, _: &oci_spec::runtime::LinuxResources) -> Result<(), RuntimeError> {
        self.call("update", id)
    }
}

/// An engine over the vfs data root `root` whose runtime is `fake` (a second one on the same
/// root stands for another berth process).
/// Its exec root (run directories) is `<root>/exec`, so that nothing is left under `/run`.
pub(crate) fn open_engine(fake: &FakeRuntime, root: &Path) -> Engine {
    let mut engine = Engine::open(EngineOptions {
        root: root.to_path_buf(),
        storage_driver: Some("vfs".into()),
        shim_exe: None,
        runtime: Some(Arc::new(fake.clone())),
        config_file: None,
        mounter: Default::default(),
    })
    .unwrap();
    engine.network.exec_root = root.join("exec");
    engine
}

/// An engine over a fresh vfs data root whose runtime is `fake`, holding container `id` in
/// `status`. A running one gets this test process as its "shim", so it is not recovered.
pub(crate) fn engine_with_container(
    fake: &FakeRuntime,
    id: &str,
    status: Status,
) -> (tempfile::TempDir, Engine) {
    let root = tempfile::tempdir().unwrap();
    let engine = open_engine(fake, root.path());
    let c = super::test_container(id);
    let row = ContainerRow {
        id: c.id.clone(),
        name: c.id.clone(),
        image_id: c.image_id.clone(),
        image_ref: c.image_ref.clone(),
        top_layer: None,
        config: serde_json::to_string(&c.config).unwrap(),
        host_config: serde_json::to_string(&c.host_config).unwrap(),
        mounts: "[]".into(),
        state: StateRow {
            status: status.as_str().into(),
            pid: 0,
            exit_code: 0,
            error: String::new(),
            oom_killed: false,
            started_at: c.state.started_at.clone(),
            finished_at: c.state.finished_at.clone(),
        },
        created_at: c.created_at.clone(),
        restart_count: 0,
        init_layer: c.init_layer.clone(),
    };
    containers::insert(engine.store().db().conn(), &row, &[]).unwrap();
    if status.is_running() {
        let dir = engine.run_dir(id);
        std::fs::create_dir_all(&dir).unwrap();
        berth_runtime::shim::ProcessStamp::current()
            .save(&dir.join(berth_runtime::shim::SHIM_PID))
            .unwrap();
    }
    (root, engine)
}
