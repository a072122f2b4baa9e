//! Recorded navigation paths (human Wikispeedia games, LLM-agent Wikipedia speedruns)
//! imported as traces, with a summary of how people and agents move (back clicks, revisits,
//! path lengths) for calibrating the walker. See `docs/import.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::io::output::write_atomic;
use crate::io::trace::{
    Header, IterationLine, LlmCall, PageRef, SessionLine, TraceAction, TraceLine, TraceWriter,
};

pub mod wiki_speedrun;
pub mod wikispeedia;

/// An import that failed: the file, the line when the content is at fault, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// A file could not be read or written.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// What failed.
        message: String,
    },
    /// An output file could not be written.
    #[error("{file}: cannot write: {message}")]
    Write {
        /// The file.
        file: String,
        /// The OS error.
        message: String,
    },
    /// A line is malformed.
    #[error("{file}:{line}: {message}")]
    Line {
        /// The file.
        file: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong and what is expected.
        message: String,
    },
}

impl ImportError {
    pub(crate) fn io(file: &Path, message: impl std::fmt::Display) -> ImportError {
        ImportError::Io {
            file: file.display().to_string(),
            message: message.to_string(),
        }
    }

    pub(crate) fn write(file: &Path, message: impl std::fmt::Display) -> ImportError {
        ImportError::Write {
            file: file.display().to_string(),
            message: message.to_string(),
        }
    }

    pub(crate) fn line(file: &Path, line: u64, message: impl Into<String>) -> ImportError {
        ImportError::Line {
            file: file.display().to_string(),
            line,
            message: message.into(),
        }
    }
}

/// One recorded path: a start page and the actions after it.
#[derive(Clone, Debug, PartialEq)]
pub struct NavPath {
    /// Session id in the trace.
    pub id: String,
    /// Group it is summarised under (source file, agent).
    pub group: String,
    /// The task (`reach X`).
    pub task: String,
    /// The start page.
    pub root: String,
    /// Clicks and back clicks, with the page each one lands on.
    pub actions: Vec<(TraceAction, String)>,
    /// Seconds per action (the target's latency in the trace), when known.
    pub seconds_per_action: Option<f64>,
    /// Whether the agent reached its target (when known).
    pub won: Option<bool>,
}

impl NavPath {
    /// The trace lines of this path: a session line and one iteration per action.
    /// `out_degree`, when given, is recorded for every page (pages with unknown links).
    pub fn lines(&self, site: &str, out_degree: Option<u32>) -> Vec<TraceLine> {
        let mut lines = Vec::with_capacity(self.actions.len() + 1);
        lines.push(TraceLine::Session(SessionLine {
            session: self.id.clone(),
            task: self.task.clone(),
            site: site.to_string(),
            root: PageRef::Name(self.root.clone()),
            root_fetch_s: None,
            root_links: None,
            root_out_degree: out_degree,
            started_at: None,
        }));
        for (i, (action, page)) in self.actions.iter().enumerate() {
            lines.push(TraceLine::Iteration(IterationLine {
                session: self.id.clone(),
                iteration: i as u32,
                action: *action,
                page: Some(PageRef::Name(page.clone())),
                links: None,
                out_degree,
                target: self.seconds_per_action.map(|s| LlmCall {
                    latency_s: s,
                    output_tokens: None,
                    input_tokens: None,
                }),
                stages: vec![],
                fetch_s: None,
                drafts: vec![],
                outcome: None,
                iteration_s: None,
                exposed_web_s: None,
                other_s: None,
            }));
        }
        lines
    }
}

/// Writes `paths` as a trace to `out`, atomically.
pub fn write_trace(
    out: &Path,
    header: Header,
    site: &str,
    out_degree: Option<u32>,
    paths: &[NavPath],
) -> Result<(), ImportError> {
    let mut w = TraceWriter::new(Vec::new(), header).map_err(|e| ImportError::write(out, e))?;
    for p in paths {
        for l in p.lines(site, out_degree) {
            w.write(&l).map_err(|e| ImportError::write(out, e))?;
        }
    }
    write_atomic(out, &w.into_inner()).map_err(|e| ImportError::write(out, e))
}

/// How a set of paths moves: what the walker's `back_prob` and `rounds` are calibrated from.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PathStats {
    /// Paths with at least one action.
    pub paths: u64,
    /// Clicks plus back clicks.
    pub actions: u64,
    /// Forward clicks.
    pub clicks: u64,
    /// Back clicks.
    pub backs: u64,
    /// Back clicks / actions.
    pub back_rate: f64,
    /// Back clicks / actions taken where a back was possible (history deeper than the
    /// start page): the walker's `back_prob`.
    pub back_prob: f64,
    /// Actions landing on a page visited earlier in the path (backs included) / actions.
    pub revisit_rate: f64,
    /// Forward clicks landing on a page visited earlier in the path / clicks.
    pub click_revisit_rate: f64,
    /// Mean actions per path.
    pub actions_mean: f64,
    /// Actions per path at the 10th, 25th, 50th, 75th, 90th percentiles and the maximum.
    pub actions_p10_p25_p50_p75_p90_max: [u64; 6],
    /// `[actions, paths]` pairs: how many paths took each number of actions.
    pub actions_histogram: Vec<[u64; 2]>,
    /// Distinct pages per path (start included), mean.
    pub distinct_pages_mean: f64,
    /// Seconds per action (path duration / actions): median over paths with a duration.
    pub seconds_per_action_p50: Option<f64>,
    /// Seconds per action, mean over paths with a duration.
    pub seconds_per_action_mean: Option<f64>,
    /// Share of paths whose agent reached the target (when recorded).
    pub won_rate: Option<f64>,
}

impl PathStats {
    /// The statistics of `paths` (paths without actions are not counted).
    pub fn of<'a>(paths: impl IntoIterator<Item = &'a NavPath>) -> PathStats {
        let mut s = PathStats::default();
        let mut lengths = Vec::new();
        let mut spa = Vec::new();
        let (mut can_back, mut revisits, mut click_revisits, mut distinct) =
            (0u64, 0u64, 0u64, 0u64);
        let (mut won, mut with_won) = (0u64, 0u64);
        for p in paths {
            if p.actions.is_empty() {
                continue;
            }
            s.paths += 1;
            lengths.push(p.actions.len() as u64);
            if let Some(x) = p.seconds_per_action {
                spa.push(x);
            }
            if let Some(w) = p.won {
                with_won += 1;
                won += u64::from(w);
            }
            let mut seen = std::collections::BTreeSet::from([p.root.as_str()]);
            let mut depth = 1usize;
            for (a, page) in &p.actions {
                s.actions += 1;
                can_back += u64::from(depth > 1);
                let again = !seen.insert(page.as_str());
                revisits += u64::from(again);
                match a {
                    TraceAction::Back => {
                        s.backs += 1;
                        depth = depth.saturating_sub(1).max(1);
                    }
                    _ => {
                        s.clicks += 1;
                        click_revisits += u64::from(again);
                        depth += 1;
                    }
                }
            }
            distinct += seen.len() as u64;
        }
        let r = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        s.back_rate = r(s.backs, s.actions);
        s.back_prob = r(s.backs, can_back);
        s.revisit_rate = r(revisits, s.actions);
        s.click_revisit_rate = r(click_revisits, s.clicks);
        s.actions_mean = r(s.actions, s.paths);
        s.distinct_pages_mean = r(distinct, s.paths);
        lengths.sort_unstable();
        for &l in &lengths {
            match s.actions_histogram.last_mut() {
                Some(h) if h[0] == l => h[1] += 1,
                _ => s.actions_histogram.push([l, 1]),
            }
        }
        if let Some(&max) = lengths.last() {
            let q = |x| crate::io::stats::percentile_sorted(&lengths, x);
            s.actions_p10_p25_p50_p75_p90_max = [q(0.10), q(0.25), q(0.50), q(0.75), q(0.90), max];
        }
        if !spa.is_empty() {
            spa.sort_by(f64::total_cmp);
            s.seconds_per_action_p50 = Some(round6(spa[(spa.len() - 1) / 2]));
            s.seconds_per_action_mean = Some(round6(spa.iter().sum::<f64>() / spa.len() as f64));
        }
        s.won_rate = (with_won > 0).then(|| round6(r(won, with_won)));
        for x in [
            &mut s.back_rate,
            &mut s.back_prob,
            &mut s.revisit_rate,
            &mut s.click_revisit_rate,
            &mut s.actions_mean,
            &mut s.distinct_pages_mean,
        ] {
            *x = round6(*x);
        }
        s
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The summary an importer writes: where the data came from and how its paths move.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// What wrote it.
    pub generated_by: String,
    /// The upstream data set, its citation or licence, and the commit the files came from.
    pub upstream: String,
    /// The files read (names only).
    pub files: Vec<String>,
    /// Paths read but not imported, and why.
    pub skipped: BTreeMap<String, u64>,
    /// Every imported path.
    pub overall: PathStats,
    /// Per group (source file, agent), in name order.
    pub groups: BTreeMap<String, PathStats>,
    /// Importer-specific numbers (graph size, out-degrees, ...).
    pub extra: BTreeMap<String, f64>,
}

impl Summary {
    /// The summary of `paths`, grouped by [`NavPath::group`].
    pub fn new(
        generated_by: &str,
        upstream: String,
        files: Vec<String>,
        paths: &[NavPath],
    ) -> Summary {
        let mut groups: BTreeMap<String, Vec<&NavPath>> = BTreeMap::new();
        for p in paths {
            groups.entry(p.group.clone()).or_default().push(p);
        }
        Summary {
            generated_by: generated_by.to_string(),
            upstream,
            files,
            skipped: BTreeMap::new(),
            overall: PathStats::of(paths),
            groups: groups
                .into_iter()
                .map(|(g, ps)| (g, PathStats::of(ps)))
                .collect(),
            extra: BTreeMap::new(),
        }
    }

    /// Writes the summary as pretty JSON, atomically.
    pub fn write(&self, out: &Path) -> Result<(), ImportError> {
        let mut s = serde_json::to_string_pretty(self).map_err(|e| ImportError::write(out, e))?;
        s.push('\n');
        write_atomic(out, s.as_bytes()).map_err(|e| ImportError::write(out, e))
    }
}

/// The upstream commit recorded in `dir/COMMIT`, if any.
pub fn upstream_commit(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join("COMMIT"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// How the trace at `trace` should name `target` in its header: the file name when both
/// are in the same directory, else an absolute path.
pub fn relative_to(trace: &Path, target: &Path) -> String {
    let dir = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir(trace) == dir(target) {
        if let Some(name) = target.file_name() {
            return name.to_string_lossy().into_owned();
        }
    }
    std::path::absolute(target)
        .unwrap_or_else(|_| PathBuf::from(target))
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(root: &str, actions: &[&str]) -> NavPath {
        let mut history = vec![root.to_string()];
        let actions = actions
            .iter()
            .map(|&a| {
                if a == "<" {
                    history.pop();
                    (TraceAction::Back, history.last().unwrap().clone())
                } else {
                    history.push(a.to_string());
                    (TraceAction::Click, a.to_string())
                }
            })
            .collect();
        NavPath {
            id: "x".into(),
            group: "g".into(),
            task: String::new(),
            root: root.into(),
            actions,
            seconds_per_action: Some(2.0),
            won: Some(true),
        }
    }

    #[test]
    fn path_statistics_count_backs_and_revisits() {
        // a -> b -> c, back to b, -> a (a click revisit), then d.
        let p = path("a", &["b", "c", "<", "a", "d"]);
        let q = path("a", &["b"]);
        let s = PathStats::of([&p, &q]);
        assert_eq!((s.paths, s.actions, s.clicks, s.backs), (2, 6, 5, 1));
        assert_eq!(s.back_rate, round6(1.0 / 6.0));
        // Backs possible at every action but the first of each path: 4 of 6.
        assert_eq!(s.back_prob, 0.25);
        // Revisits: the back to b and the click to a.
        assert_eq!(s.revisit_rate, round6(2.0 / 6.0));
        assert_eq!(s.click_revisit_rate, 0.2);
        assert_eq!(s.actions_p10_p25_p50_p75_p90_max[5], 5);
        assert_eq!(s.actions_histogram, vec![[1, 1], [5, 1]]);
        assert_eq!(s.distinct_pages_mean, 3.0, "{{a,b,c,d}} and {{a,b}}");
        assert_eq!(s.won_rate, Some(1.0));
    }

    #[test]
    fn trace_lines_of_a_path_are_a_valid_trace() {
        let p = path("a", &["b", "<", "c"]);
        let mut w = TraceWriter::new(Vec::new(), Header::new("t")).unwrap();
        for l in p.lines("site", Some(12)) {
            w.write(&l).unwrap();
        }
        let t = crate::io::trace::parse_trace(&w.into_inner()[..], "t").unwrap();
        assert_eq!(t.sessions[0].iterations.len(), 3);
        assert_eq!(t.sessions[0].iterations[1].1.action, TraceAction::Back);
        assert_eq!(
            t.sessions[0].iterations[1]
                .1
                .target
                .as_ref()
                .unwrap()
                .latency_s,
            2.0
        );
    }
}
