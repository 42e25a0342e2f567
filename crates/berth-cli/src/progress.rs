//! [`TerminalProgress`] draws `load`/`save`/`import` progress with indicatif when stderr is a
//! terminal, and stays silent in pipes and CI logs.

use std::io::IsTerminal;

use berth_image::progress::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress bars on a terminal, nothing elsewhere.
pub struct TerminalProgress {
    bar: std::cell::RefCell<Option<ProgressBar>>,
    enabled: bool,
}

impl TerminalProgress {
    /// Bars only if stderr is a terminal.
    pub fn new() -> Self {
        TerminalProgress {
            bar: Default::default(),
            enabled: std::io::stderr().is_terminal(),
        }
    }
}

impl Default for TerminalProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for TerminalProgress {
    fn begin(&self, label: &str, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let bar = match total {
            Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {binary_bytes}/{binary_total_bytes}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(label.to_string());
        *self.bar.borrow_mut() = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(b) = self.bar.borrow().as_ref() {
            b.inc(n);
        }
    }

    fn end(&self) {
        if let Some(b) = self.bar.borrow_mut().take() {
            b.finish_and_clear();
        }
    }
}
