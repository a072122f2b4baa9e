//! The wiki_speedrun benchmark: LLM and embedding agents racing between Wikipedia articles.
//!
//! `benchmark_results.jsonl` holds one game per line: `agent`, `start`, `target`, `won`,
//! `clicks`, `time_seconds` and `path` (the articles visited, start first), plus error
//! fields. Each game becomes a session; `time_seconds / clicks` is the target latency of
//! every click (it is end to end: the agent's LLM calls and its page fetches together).

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use crate::io::trace::{Header, TraceAction};

use super::{ImportError, NavPath, Summary};

/// Where the data comes from.
pub const UPSTREAM: &str = "jwlutz/wiki_speedrun benchmark_results.jsonl (MIT licence)";

#[derive(Deserialize)]
struct Game {
    agent: String,
    start: String,
    target: String,
    won: bool,
    clicks: u64,
    time_seconds: f64,
    path: Vec<String>,
    #[serde(default)]
    error: String,
}

/// Reads the games of `file`, keeping those of `agents` (every agent when empty).
/// Games with an error, or without a click, are skipped and counted.
pub fn read(
    file: &Path,
    agents: &[String],
) -> Result<(Vec<NavPath>, BTreeMap<String, u64>), ImportError> {
    let f = std::fs::File::open(file)
        .map_err(|e| ImportError::io(file, format!("cannot read: {e}")))?;
    let mut paths = Vec::new();
    let mut skipped = BTreeMap::new();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let ln = n as u64 + 1;
        let line = line.map_err(|e| ImportError::line(file, ln, e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let de = &mut serde_json::Deserializer::from_str(&line);
        let g: Game = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let mut m = e.into_inner().to_string();
            if let Some(i) = m.find(" at line ") {
                m.truncate(i);
            }
            let at = if path == "." {
                String::new()
            } else {
                format!("{path}: ")
            };
            ImportError::line(file, ln, format!("{at}{m}"))
        })?;
        let bad = |m: String| ImportError::line(file, ln, m);
        if !(g.time_seconds.is_finite() && g.time_seconds >= 0.0) {
            return Err(bad(format!(
                "time_seconds: must be >= 0, got {}",
                g.time_seconds
            )));
        }
        if let Some(i) = g.path.iter().position(String::is_empty) {
            return Err(bad(format!("path[{i}]: empty article name")));
        }
        if !agents.is_empty() && !agents.contains(&g.agent) {
            continue;
        }
        if !g.error.is_empty() {
            *skipped.entry("error".to_string()).or_insert(0) += 1;
            continue;
        }
        if g.path.len() < 2 {
            *skipped.entry("no click".to_string()).or_insert(0) += 1;
            continue;
        }
        if g.clicks != g.path.len() as u64 - 1 {
            return Err(bad(format!(
                "clicks: {} clicks but the path has {} articles (expected clicks = articles - 1)",
                g.clicks,
                g.path.len()
            )));
        }
        let actions: Vec<(TraceAction, String)> = g.path[1..]
            .iter()
            .map(|p| (TraceAction::Click, p.clone()))
            .collect();
        paths.push(NavPath {
            id: format!("{}:{ln}", g.agent),
            group: g.agent.clone(),
            task: format!("from {} to {}", g.start, g.target),
            root: g.path[0].clone(),
            seconds_per_action: Some(g.time_seconds / actions.len() as f64),
            actions,
            won: Some(g.won),
        });
    }
    Ok((paths, skipped))
}

/// Imports `file`: writes the trace and, when asked, the summary. `out_degree`, when
/// given, is recorded for every page (the benchmark did not record links).
pub fn import(
    file: &Path,
    trace: &Path,
    summary_out: Option<&Path>,
    agents: &[String],
    out_degree: Option<u32>,
) -> Result<Summary, ImportError> {
    let (paths, skipped) = read(file, agents)?;
    let mut header = Header::new(format!(
        "specsim {} import wiki-speedrun",
        env!("CARGO_PKG_VERSION")
    ));
    header.meta.insert("upstream".into(), UPSTREAM.into());
    let dir = file.parent().unwrap_or(Path::new("."));
    let commit = super::upstream_commit(dir);
    if let Some(c) = &commit {
        header
            .meta
            .insert("upstream_commit".into(), c.clone().into());
    }
    header.meta.insert(
        "target_latency".into(),
        "time_seconds / clicks: end to end per click (LLM and page fetch together); no fetch times recorded".into(),
    );
    super::write_trace(trace, header, "wikipedia", out_degree, &paths)?;
    let upstream = match commit {
        Some(c) => format!("{UPSTREAM}; file at commit {c}"),
        None => UPSTREAM.to_string(),
    };
    let name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut summary = Summary::new("specsim import wiki-speedrun", upstream, vec![name], &paths);
    summary.skipped = skipped;
    if let Some(s) = summary_out {
        summary.write(s)?;
    }
    Ok(summary)
}
