//! The wiki_speedrun benchmark: LLM and embedding agents racing between Wikipedia articles.
//!
//! `benchmark_results.jsonl` holds one game per line: `agent`, `start`, `target`, `won`,
//! `clicks`, `time_seconds` and `path` (the articles visited, start first), plus error
//! fields. Each game becomes a session; `time_seconds / clicks` is the target latency of
//! every click (it is end to end: the agent's LLM calls and its page fetches together).
//!
//! Agents are named in the file with their kind (`llm-gpt-4o-mini`, `live-bge-large-en-v1.5`)
//! and sometimes a version (`llm-gemini-2.0-flash-001`); the benchmark's README names them
//! without (`gpt-4o-mini`, `gemini-2.0-flash`). An `--agent` name selects the agent of that
//! exact name, else the one agent whose name without its kind prefix is that name, or that
//! name followed by a numeric version (`-001`), ignoring case; anything else is an error that
//! lists the agents of the file.

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

/// Prefixes naming an agent's kind in the file.
const KINDS: [&str; 2] = ["llm-", "live-"];

/// Whether `wanted` (a name a user typed) names `agent` (a name in the file): the same
/// name, or the name without its kind prefix, optionally followed by a numeric version
/// (`-001`), ignoring case.
fn names(wanted: &str, agent: &str) -> bool {
    let wanted = wanted.to_ascii_lowercase();
    let agent = agent.to_ascii_lowercase();
    if wanted == agent {
        return true;
    }
    let bare = KINDS
        .iter()
        .find_map(|k| agent.strip_prefix(k))
        .unwrap_or(&agent);
    bare == wanted
        || bare.strip_prefix(&wanted).is_some_and(|rest| {
            rest.strip_prefix('-')
                .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The agents of `file` that `wanted` selects (every agent when empty), each name resolved
/// as [`names`] says; `counts` holds every agent of the file with its number of games.
fn select(
    file: &Path,
    wanted: &[String],
    counts: &BTreeMap<String, u64>,
) -> Result<Vec<String>, ImportError> {
    let listing = || {
        counts
            .iter()
            .map(|(a, n)| format!("{a} ({n} games)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if counts.is_empty() {
        return Err(ImportError::io(
            file,
            "no games: the file holds no line (expected one JSON game per line)",
        ));
    }
    if wanted.is_empty() {
        return Ok(counts.keys().cloned().collect());
    }
    let mut out: Vec<String> = Vec::new();
    for w in wanted {
        let exact = counts.keys().find(|a| *a == w);
        let found: Vec<&String> = match exact {
            Some(a) => vec![a],
            None => counts.keys().filter(|a| names(w, a)).collect(),
        };
        match found.as_slice() {
            [one] => {
                if !out.contains(one) {
                    out.push((*one).clone());
                }
            }
            [] => {
                return Err(ImportError::io(
                    file,
                    format!(
                        "--agent {w}: no such agent; the file's agents are: {}",
                        listing()
                    ),
                ))
            }
            many => {
                return Err(ImportError::io(
                    file,
                    format!(
                        "--agent {w}: names more than one agent ({}); give the full name",
                        many.iter()
                            .map(|a| a.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// The games [`read`] kept.
#[derive(Clone, Debug)]
pub struct Games {
    /// One path per game kept.
    pub paths: Vec<NavPath>,
    /// Games of the selected agents not kept, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// The agents selected, as the file names them.
    pub agents: Vec<String>,
}

/// Reads the games of `file`, keeping those of `agents` (every agent when empty; names
/// resolved as the module documentation says). Games with an error, or without a click,
/// are skipped and counted. A selection that keeps no game is an error naming the agents
/// and what was skipped.
pub fn read(file: &Path, agents: &[String]) -> Result<Games, ImportError> {
    let f = std::fs::File::open(file)
        .map_err(|e| ImportError::io(file, format!("cannot read: {e}")))?;
    let mut games: Vec<(u64, Game)> = Vec::new();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
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
        *counts.entry(g.agent.clone()).or_insert(0) += 1;
        games.push((ln, g));
    }
    let selected = select(file, agents, &counts)?;
    let mut paths = Vec::new();
    let mut skipped = BTreeMap::new();
    for (ln, g) in games {
        if !selected.contains(&g.agent) {
            continue;
        }
        let bad = |m: String| ImportError::line(file, ln, m);
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
    if paths.is_empty() {
        let why: Vec<String> = skipped.iter().map(|(k, n)| format!("{n} {k}")).collect();
        return Err(ImportError::io(
            file,
            format!(
                "no game to import: the {} game(s) of {} were all skipped ({}); nothing written",
                selected.iter().map(|a| counts[a]).sum::<u64>(),
                selected.join(", "),
                why.join(", ")
            ),
        ));
    }
    Ok(Games {
        paths,
        skipped,
        agents: selected,
    })
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
    let Games { paths, skipped, .. } = read(file, agents)?;
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
