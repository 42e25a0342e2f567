//! [`BuildView`]: `berth build`'s compact progress on a terminal. Each finished step is one line
//! (` => [2/9] RUN make   1.4s`, ` => CACHED [3/9] COPY . /app`); the running step is a spinner
//! with its elapsed time and the last line its command printed; a step that fails is printed
//! with the output it wrote (its last [`KEEP`] bytes), so the error has its context. Everything
//! outside a step (warnings, `Successfully built …`) passes through as written. Pipes and
//! `--progress plain` keep the classic builder's text (`berth_engine::build::PlainOutput`).

use std::time::{Duration, Instant};

use berth_build::builder::Output;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use unicode_width::UnicodeWidthChar;

/// The most output of one step kept for the failure report.
pub const KEEP: usize = 64 * 1024;

/// The step being run.
struct Step {
    /// `[2/9] RUN make`.
    label: String,
    /// Its spinner line, and the line under it with the last line of its output.
    spinner: ProgressBar,
    tail: Option<ProgressBar>,
    started: Instant,
    cached: bool,
    /// The step's output (the last [`KEEP`] bytes).
    output: Vec<u8>,
}

/// The compact view; write to it through [`Output`], then call [`BuildView::fail`] if the
/// build failed.
pub struct BuildView {
    bars: MultiProgress,
    current: Option<Step>,
}

impl BuildView {
    /// A view drawn on stdout (which must be a terminal).
    pub fn stdout() -> BuildView {
        BuildView {
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            current: None,
        }
    }

    fn spinner(&self, label: &str) -> ProgressBar {
        let bar = self.bars.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template(" {spinner} {wide_msg} {secs:>6}")
                .expect("static template")
                .with_key(
                    "secs",
                    |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.1}s", s.elapsed().as_secs_f64());
                    },
                ),
        );
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    fn tail(bars: &MultiProgress) -> ProgressBar {
        let bar = bars.add(ProgressBar::new_spinner());
        bar.set_style(ProgressStyle::with_template("   {wide_msg:.dim}").expect("static template"));
        bar
    }

    /// Takes the running step off the screen.
    fn clear(&mut self) -> Option<Step> {
        let step = self.current.take()?;
        for bar in std::iter::once(&step.spinner).chain(&step.tail) {
            bar.finish_and_clear();
            self.bars.remove(bar);
        }
        Some(step)
    }

    fn width() -> usize {
        rustix::termios::tcgetwinsize(std::io::stdout())
            .map(|w| usize::from(w.ws_col))
            .ok()
            .filter(|&w| w > 20)
            .unwrap_or(80)
    }

    fn line(&self, text: &str) {
        let _ = self.bars.println(text);
    }

    /// Ends the running step as done (or cached).
    fn finish(&mut self) {
        let Some(step) = self.clear() else {
            return;
        };
        let width = Self::width();
        let text = if step.cached {
            fit(&format!(" => CACHED {}", step.label), width)
        } else {
            let secs = format!("{:.1}s", step.started.elapsed().as_secs_f64());
            let label = fit(
                &format!(" => {}", step.label),
                width.saturating_sub(secs.len() + 1),
            );
            let pad = width.saturating_sub(columns(&label) + secs.len());
            format!("{label}{}{secs}", " ".repeat(pad))
        };
        self.line(&text);
    }

    /// The build failed: the running step is printed as failed, with what it wrote.
    pub fn fail(&mut self) {
        let Some(step) = self.clear() else {
            return;
        };
        self.line(&fit(&format!(" => ERROR {}", step.label), Self::width()));
        let output = String::from_utf8_lossy(&step.output);
        for l in output.lines() {
            self.line(&format!("    {l}"));
        }
    }

    /// The build succeeded: the last step is printed.
    pub fn done(&mut self) {
        self.finish();
    }
}

impl Output for BuildView {
    fn stdout(&mut self, text: &str) {
        match &mut self.current {
            Some(step) => {
                step.output.extend_from_slice(text.as_bytes());
                if step.output.len() > KEEP {
                    let cut = step.output.len() - KEEP;
                    step.output.drain(..cut);
                }
                let output = String::from_utf8_lossy(&step.output);
                if let Some(last) = output.lines().rev().find(|l| !l.trim().is_empty()) {
                    let last = last.to_string();
                    if step.tail.is_none() {
                        step.tail = Some(Self::tail(&self.bars));
                    }
                    if let Some(t) = &step.tail {
                        t.set_message(last);
                    }
                }
            }
            None => {
                for l in text.lines() {
                    self.line(l);
                }
            }
        }
    }

    fn step(&mut self, n: usize, total: usize, code: &str) {
        self.finish();
        let label = format!("[{n}/{total}] {}", one_line(code));
        self.current = Some(Step {
            spinner: self.spinner(&label),
            tail: None,
            label,
            started: Instant::now(),
            cached: false,
            output: Vec::new(),
        });
    }

    fn using_cache(&mut self) {
        if let Some(s) = &mut self.current {
            s.cached = true;
        }
    }

    fn running_in(&mut self, _cid: &str) {}

    fn removing(&mut self, _cid: &str) {}

    fn step_image(&mut self, _short_id: &str) {
        self.finish();
    }
}

/// A step's text on one line (heredocs and continuations make several).
fn one_line(code: &str) -> String {
    code.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn columns(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `s` cut to `width` terminal columns, with `…` where it was cut.
fn fit(s: &str, width: usize) -> String {
    if columns(s) <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_steps_are_cut_to_the_terminal() {
        assert_eq!(fit("abcdef", 10), "abcdef");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(columns(&fit("日本語日本語", 7)), 7);
        assert_eq!(one_line("RUN a \\\n  b\n"), "RUN a \\ b");
    }
}
