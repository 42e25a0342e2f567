//! [`Status`] and [`State`] are a container's recorded lifecycle, and the predicates on
//! [`Container`] (`can_exec`, `can_kill`, `can_attach`, `can_pause`, `can_unpause`, `can_start`,
//! `can_remove`, `can_top`) are the one place that decides which verb a state allows. Each
//! refusal is a [`StateError`] whose text is Docker's daemon's, word for word, so every verb
//! (CLI or API) refuses the same way.
//!
//! Verbs that change the recorded state check their predicate again inside the write
//! transaction that records the change ([`Engine::transition`]), so two berth processes cannot
//! both pass the check (two `pause`, `rm` racing `start`).
//!
//! [`Engine::transition`]: crate::Engine

use super::Container;

/// Docker's lifecycle states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created, never started (or start failed before running).
    Created,
    /// Its process runs.
    Running,
    /// Frozen.
    Paused,
    /// Being restarted.
    Restarting,
    /// Being removed.
    Removing,
    /// Its process ended.
    Exited,
    /// Broken beyond use (a failed removal).
    Dead,
}

impl Status {
    /// Docker's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }

    pub(crate) fn parse(s: &str) -> Status {
        match s {
            "running" => Status::Running,
            "paused" => Status::Paused,
            "restarting" => Status::Restarting,
            "removing" => Status::Removing,
            "exited" => Status::Exited,
            "dead" => Status::Dead,
            _ => Status::Created,
        }
    }

    /// Whether its process exists (running, paused or restarting): Docker's `State.Running`.
    pub fn is_running(self) -> bool {
        matches!(self, Status::Running | Status::Paused | Status::Restarting)
    }

    /// The words of the statuses whose process exists, for compare-and-set updates.
    pub(crate) const ACTIVE_WORDS: [&'static str; 3] = ["running", "paused", "restarting"];
}

/// The recorded state of a container.
#[derive(Debug, Clone)]
pub struct State {
    /// Lifecycle state.
    pub status: Status,
    /// Host pid of its init process while running.
    pub pid: i64,
    /// Last exit code.
    pub exit_code: i32,
    /// Why the last start failed.
    pub error: String,
    /// Killed by the OOM killer.
    pub oom_killed: bool,
    /// Last start (RFC 3339), `0001-01-01T00:00:00Z` if never.
    pub started_at: String,
    /// Last exit (RFC 3339), `0001-01-01T00:00:00Z` if never.
    pub finished_at: String,
}

/// A verb the container's state does not allow. The texts are Docker's daemon's (its
/// `errNotRunning`, `errContainerIsRestarting`, `errExecPaused`...), each answered with 409.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// exec, pause, top, resize on a container whose process does not exist.
    #[error("Container {0} is not running")]
    NotRunning(String),
    /// A verb that needs a settled process, during a restart.
    #[error("Container {0} is restarting, wait until the container is running")]
    Restarting(String),
    /// exec into a frozen container.
    #[error("Container {0} is paused, unpause the container before exec")]
    ExecPaused(String),
    /// pause of a paused container.
    #[error("Container {0} is already paused")]
    AlreadyPaused(String),
    /// unpause of a container that is not paused.
    #[error("Container {0} is not paused")]
    NotPaused(String),
    /// kill, which Docker words with the name the user gave.
    #[error("Cannot kill container: {name}: {reason}")]
    Kill {
        /// The container as the user named it.
        name: String,
        /// Why (not running, restarting).
        reason: Box<StateError>,
    },
    /// attach to a container that does not run.
    #[error("You cannot attach to a stopped container, start it first")]
    AttachStopped,
    /// attach to a frozen container.
    #[error("You cannot attach to a paused container, unpause it first")]
    AttachPaused,
    /// attach during a restart.
    #[error("You cannot attach to a restarting container, wait until it is running")]
    AttachRestarting,
    /// start of a frozen container.
    #[error("cannot start a paused container, try unpause instead")]
    StartPaused,
    /// start of a container being removed.
    #[error("container is marked for removal and cannot be started")]
    MarkedForRemoval,
    /// rm without force of a container whose process exists.
    #[error(
        "You cannot remove a {} container {id}. {}",
        .status.as_str(),
        if *.status == Status::Paused {
            "Unpause and then stop the container before attempting removal or force remove"
        } else {
            "Stop the container before attempting removal or force remove"
        }
    )]
    RemoveActive {
        /// Its status (running, paused, restarting).
        status: Status,
        /// Its full ID.
        id: String,
    },
}

/// What `start` may do with a container in this state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanStart {
    /// Start it.
    Yes,
    /// It runs already: nothing to do (Docker's 304).
    AlreadyRunning,
}

impl Container {
    fn running_or(&self) -> Result<(), StateError> {
        match self.state.status {
            Status::Restarting => Err(StateError::Restarting(self.id.clone())),
            s if !s.is_running() => Err(StateError::NotRunning(self.id.clone())),
            _ => Ok(()),
        }
    }

    /// `exec` needs a running, unfrozen process.
    pub fn can_exec(&self) -> Result<(), StateError> {
        self.running_or()?;
        if self.state.status == Status::Paused {
            return Err(StateError::ExecPaused(self.id.clone()));
        }
        Ok(())
    }

    /// `kill` needs a process (paused is fine: Docker thaws it after a SIGKILL); `name` is the
    /// container as the user named it, which Docker's message repeats.
    pub fn can_kill(&self, name: &str) -> Result<(), StateError> {
        self.running_or().map_err(|reason| StateError::Kill {
            name: name.to_string(),
            reason: Box::new(reason),
        })
    }

    /// `pause` needs a running, unfrozen process.
    pub fn can_pause(&self) -> Result<(), StateError> {
        self.running_or()?;
        if self.state.status == Status::Paused {
            return Err(StateError::AlreadyPaused(self.id.clone()));
        }
        Ok(())
    }

    /// `unpause` needs a frozen process.
    pub fn can_unpause(&self) -> Result<(), StateError> {
        if self.state.status != Status::Paused {
            return Err(StateError::NotPaused(self.id.clone()));
        }
        Ok(())
    }

    /// `top` needs a process (frozen is fine: `ps` still sees it).
    pub fn can_top(&self) -> Result<(), StateError> {
        self.running_or()
    }

    /// `attach` needs a running, unfrozen process.
    pub fn can_attach(&self) -> Result<(), StateError> {
        match self.state.status {
            Status::Paused => Err(StateError::AttachPaused),
            Status::Restarting => Err(StateError::AttachRestarting),
            s if !s.is_running() => Err(StateError::AttachStopped),
            _ => Ok(()),
        }
    }

    /// `resize` of the terminal: a running container, or a created one whose shim holds the
    /// process for an attach (the API resizes before it starts).
    pub fn can_resize(&self) -> Result<(), StateError> {
        if self.state.status == Status::Created {
            return Ok(());
        }
        self.running_or()
    }

    /// `start`: anything stopped; a running one is left alone.
    pub fn can_start(&self) -> Result<CanStart, StateError> {
        match self.state.status {
            Status::Paused => Err(StateError::StartPaused),
            Status::Removing | Status::Dead => Err(StateError::MarkedForRemoval),
            s if s.is_running() => Ok(CanStart::AlreadyRunning),
            _ => Ok(CanStart::Yes),
        }
    }

    /// `rm` without `--force` needs a stopped container.
    pub fn can_remove(&self) -> Result<(), StateError> {
        if self.state.status.is_running() {
            return Err(StateError::RemoveActive {
                status: self.state.status,
                id: self.id.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::test_container;

    const ALL: [Status; 7] = [
        Status::Created,
        Status::Running,
        Status::Paused,
        Status::Restarting,
        Status::Removing,
        Status::Exited,
        Status::Dead,
    ];

    fn with(status: Status) -> Container {
        let mut c = test_container("abc");
        c.state.status = status;
        c
    }

    fn text<T>(r: Result<T, StateError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn statuses_round_trip_through_their_words() {
        for s in ALL {
            assert_eq!(Status::parse(s.as_str()), s);
        }
        assert_eq!(Status::parse("bogus"), Status::Created);
        let active: Vec<&str> = ALL
            .iter()
            .filter(|s| s.is_running())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(active, Status::ACTIVE_WORDS);
    }

    #[test]
    fn exec_kill_pause_and_top_words_are_dockers() {
        let id = "abc";
        for s in [
            Status::Created,
            Status::Exited,
            Status::Removing,
            Status::Dead,
        ] {
            let c = with(s);
            assert_eq!(text(c.can_exec()), format!("Container {id} is not running"));
            assert_eq!(
                text(c.can_pause()),
                format!("Container {id} is not running")
            );
            assert_eq!(text(c.can_top()), format!("Container {id} is not running"));
            assert_eq!(
                text(c.can_kill("web")),
                format!("Cannot kill container: web: Container {id} is not running")
            );
        }
        let r = with(Status::Restarting);
        let restarting =
            format!("Container {id} is restarting, wait until the container is running");
        assert_eq!(text(r.can_exec()), restarting);
        assert_eq!(text(r.can_pause()), restarting);
        assert_eq!(text(r.can_top()), restarting);
        assert_eq!(
            text(r.can_kill("web")),
            format!("Cannot kill container: web: {restarting}")
        );
        let p = with(Status::Paused);
        assert_eq!(
            text(p.can_exec()),
            format!("Container {id} is paused, unpause the container before exec")
        );
        assert_eq!(
            text(p.can_pause()),
            format!("Container {id} is already paused")
        );
        assert!(p.can_kill("web").is_ok() && p.can_top().is_ok() && p.can_unpause().is_ok());
        let running = with(Status::Running);
        assert!(running.can_exec().is_ok() && running.can_pause().is_ok());
        assert_eq!(
            text(running.can_unpause()),
            format!("Container {id} is not paused")
        );
    }

    #[test]
    fn attach_start_and_remove_words_are_dockers() {
        assert_eq!(
            text(with(Status::Exited).can_attach()),
            "You cannot attach to a stopped container, start it first"
        );
        assert_eq!(
            text(with(Status::Paused).can_attach()),
            "You cannot attach to a paused container, unpause it first"
        );
        assert_eq!(
            text(with(Status::Restarting).can_attach()),
            "You cannot attach to a restarting container, wait until it is running"
        );
        assert!(with(Status::Running).can_attach().is_ok());

        assert_eq!(
            text(with(Status::Paused).can_start()),
            "cannot start a paused container, try unpause instead"
        );
        for s in [Status::Removing, Status::Dead] {
            assert_eq!(
                text(with(s).can_start()),
                "container is marked for removal and cannot be started"
            );
        }
        assert_eq!(
            with(Status::Running).can_start(),
            Ok(CanStart::AlreadyRunning)
        );
        assert_eq!(with(Status::Exited).can_start(), Ok(CanStart::Yes));
        assert_eq!(with(Status::Created).can_start(), Ok(CanStart::Yes));

        assert_eq!(
            text(with(Status::Running).can_remove()),
            "You cannot remove a running container abc. Stop the container before attempting removal or force remove"
        );
        assert_eq!(
            text(with(Status::Paused).can_remove()),
            "You cannot remove a paused container abc. Unpause and then stop the container before attempting removal or force remove"
        );
        assert!(with(Status::Exited).can_remove().is_ok());
        assert!(with(Status::Created).can_resize().is_ok());
        assert_eq!(
            text(with(Status::Exited).can_resize()),
            "Container abc is not running"
        );
    }
}
