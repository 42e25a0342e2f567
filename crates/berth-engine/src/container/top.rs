//! `top`: the host's `ps` output for the processes of a running container.

use crate::{Engine, EngineError};

/// `ps` failed or printed what `top` cannot read (dockerd's words, 400 as its).
#[derive(Debug, thiserror::Error)]
pub enum TopError {
    /// `ps` exited non-zero (its stderr).
    #[error("Error running ps: {0}")]
    Ps(String),
    /// `ps -o` without a PID column.
    #[error("Couldn't find PID field in ps output")]
    NoPidField,
}

/// `docker top`'s answer: column titles and one row per process.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopResult {
    /// Column titles.
    pub titles: Vec<String>,
    /// Rows.
    pub processes: Vec<Vec<String>>,
}

impl Engine {
    /// `docker top NAME [ps OPTIONS]` (default `-ef`).
    pub fn container_top(
        &mut self,
        name: &str,
        ps_args: &[String],
    ) -> Result<TopResult, EngineError> {
        let c = self.container(name)?;
        c.can_top()?;
        let pids = self
            .runtime_of(&c)
            .ps(&c.id)
            .map_err(berth_runtime::error::ProcessError::from)?;
        let args: Vec<String> = if ps_args.is_empty() {
            vec!["-ef".into()]
        } else {
            ps_args.to_vec()
        };
        let out = std::process::Command::new("ps").args(&args).output()?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(TopError::Ps(stderr.trim().to_string()).into());
        }
        let top = parse_ps(&String::from_utf8_lossy(&out.stdout), &pids)?;
        self.emit_container(&c, "top", &[]);
        Ok(top)
    }
}

/// Keeps the header and the lines whose PID column is one of `pids` (docker's filter).
fn parse_ps(output: &str, pids: &[i32]) -> Result<TopResult, EngineError> {
    let mut lines = output.lines();
    let header = lines.next().unwrap_or_default();
    let titles: Vec<String> = header.split_whitespace().map(str::to_string).collect();
    let pid_col = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or(TopError::NoPidField)?;
    let mut processes = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(pid) = fields.get(pid_col).and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if !pids.contains(&pid) {
            continue;
        }
        // The last column (CMD/COMMAND) may contain spaces: keep the rest of the line.
        let n = titles.len();
        let mut row: Vec<String> = fields.iter().take(n - 1).map(|s| s.to_string()).collect();
        row.push(
            fields
                .iter()
                .skip(n - 1)
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
        );
        processes.push(row);
    }
    Ok(TopResult { titles, processes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_ps_by_pid_and_keeps_commands_whole() {
        let out = "UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 11:10 ? 00:00:00 sleep 100\nroot 11 1 0 11:10 ? 00:00:00 other\n";
        let t = parse_ps(out, &[10]).unwrap();
        assert_eq!(t.titles.len(), 8);
        assert_eq!(
            t.processes,
            vec![vec![
                "root",
                "10",
                "1",
                "0",
                "11:10",
                "?",
                "00:00:00",
                "sleep 100"
            ]]
        );
    }
}
