//! [`MessagePrinter`] draws a pull's or push's [`ProgressMessage`]s the way the docker CLI draws
//! the daemon's JSON message stream: on a terminal, one line per layer, rewritten in place as
//! its status and bar change; elsewhere, one plain line per status change and no bars.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

use berth_engine::types::{ProgressMessage, ProgressSink};

/// Where the lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// stdout (`pull`, `push`).
    Stdout,
    /// stderr (`run`'s implicit pull).
    Stderr,
}

struct State {
    /// Line of each id, counted from the first id line printed.
    lines: HashMap<String, usize>,
    count: usize,
}

/// Prints progress messages; `Sync`, so layer workers can report directly.
pub struct MessagePrinter {
    target: Target,
    terminal: bool,
    quiet: bool,
    state: Mutex<State>,
}

impl MessagePrinter {
    /// A printer to `target`, drawing in place when it is a terminal; `quiet` prints nothing.
    pub fn new(target: Target, quiet: bool) -> MessagePrinter {
        use std::io::IsTerminal;
        let terminal = match target {
            Target::Stdout => std::io::stdout().is_terminal(),
            Target::Stderr => std::io::stderr().is_terminal(),
        };
        MessagePrinter {
            target,
            terminal,
            quiet,
            state: Mutex::new(State {
                lines: HashMap::new(),
                count: 0,
            }),
        }
    }

    fn write(&self, text: &str) {
        let _ = match self.target {
            Target::Stdout => {
                let mut o = std::io::stdout().lock();
                o.write_all(text.as_bytes()).and_then(|_| o.flush())
            }
            Target::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
        };
    }

    /// Prints a line outside the stream (`Using default tag: latest`).
    pub fn line(&self, text: &str) {
        if !self.quiet {
            self.write(&format!("{text}\n"));
        }
    }
}

impl ProgressSink for MessagePrinter {
    fn send(&self, m: ProgressMessage) {
        if self.quiet || (m.status.is_empty() && m.progress.is_none()) {
            return;
        }
        let mut state = self.state.lock().expect("printer lock");
        if !self.terminal {
            if m.has_counts() {
                return;
            }
            self.write(&format!("{}\n", m.text(false)));
            return;
        }
        let Some(id) = m.id.clone() else {
            self.write(&format!("{}\n", m.text(true)));
            return;
        };
        match state.lines.get(&id).copied() {
            None => {
                let n = state.count;
                state.lines.insert(id, n);
                state.count += 1;
                self.write(&format!("{}\n", m.text(true)));
            }
            Some(line) => {
                // Up to the layer's line, clear it, write, and back down (ANSI, as docker).
                let up = state.count - line;
                self.write(&format!("\x1b[{up}A\x1b[2K\r{}\x1b[{up}B\r", m.text(true)));
            }
        }
    }
}
