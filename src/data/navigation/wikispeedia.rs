//! The SNAP Wikispeedia data set: `links.tsv` as a site, human paths as trajectories.
//!
//! Files (tab-separated, `#` comment lines, URL-encoded article names kept as they are):
//! `articles.tsv` (`article`, optional: fixes the page order), `links.tsv`
//! (`linkSource linkTarget`), `paths_finished.tsv` (`hashedIpAddress timestamp
//! durationInSec path rating`) and `paths_unfinished.tsv` (`hashedIpAddress timestamp
//! durationInSec path target type`). A path is `;`-separated articles, `<` a back click.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::io::trace::{Header, TraceAction};
use crate::sim::site::{GraphFile, PageSpec};

use super::{upstream_commit, ImportError, NavPath, Summary};

/// Citation the data set asks for.
pub const UPSTREAM: &str = "SNAP Wikispeedia (snap.stanford.edu/data/wikispeedia.html); cite \
West & Leskovec, Human Wayfinding in Information Networks, WWW 2012, and West, Pineau & \
Precup, Wikispeedia, IJCAI 2009";

/// Seconds of inactivity after which Wikispeedia ends a game as `timeout`.
pub const TIMEOUT_IDLE_S: f64 = 1800.0;

/// The imported data: the graph and the paths.
#[derive(Clone, Debug)]
pub struct Wikispeedia {
    /// `links.tsv` as a graph (pages named by their URL-encoded titles).
    pub graph: GraphFile,
    /// Every path with at least one action, finished ones first.
    pub paths: Vec<NavPath>,
    /// Paths skipped, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// The files read.
    pub files: Vec<String>,
}

/// Reads every data row of a TSV file as `(line, fields)`, checking the field count.
///
/// The files have no quoting (article names are URL-encoded, so never hold a tab), so a
/// row is its line split at tabs; `#` lines and blank lines are skipped.
fn rows(path: &Path, columns: &[&str]) -> Result<Vec<(u64, Vec<String>)>, ImportError> {
    let f = std::fs::File::open(path)
        .map_err(|e| ImportError::io(path, format!("cannot read: {e}")))?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let ln = n as u64 + 1;
        let line = line.map_err(|e| ImportError::line(path, ln, e.to_string()))?;
        let line = line.trim_end_matches('\r');
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<String> = line.split('\t').map(str::to_string).collect();
        if fields.len() != columns.len() {
            return Err(ImportError::line(
                path,
                ln,
                format!(
                    "expected {} tab-separated fields ({}), got {}",
                    columns.len(),
                    columns.join(", "),
                    fields.len()
                ),
            ));
        }
        out.push((ln, fields));
    }
    Ok(out)
}

/// Interns article names as page indices in order of first appearance.
#[derive(Default)]
struct Pages {
    names: Vec<String>,
    index: BTreeMap<String, u32>,
}

impl Pages {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }
}

/// Reads the data set in `dir`: `links.tsv` is required, the other files are optional
/// (without path files there are no paths). Durations become seconds per action
/// (`durationInSec / actions`, less [`TIMEOUT_IDLE_S`] for `timeout` games) unless
/// `durations` is false.
pub fn read(dir: &Path, durations: bool) -> Result<Wikispeedia, ImportError> {
    let mut pages = Pages::default();
    let mut files = Vec::new();
    let articles = dir.join("articles.tsv");
    if articles.exists() {
        for (line, f) in rows(&articles, &["article"])? {
            if f[0].is_empty() {
                return Err(ImportError::line(&articles, line, "empty article name"));
            }
            pages.id(&f[0]);
        }
        files.push("articles.tsv".to_string());
    }
    let links = dir.join("links.tsv");
    let mut edges = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (line, f) in rows(&links, &["linkSource", "linkTarget"])? {
        if f[0].is_empty() || f[1].is_empty() {
            return Err(ImportError::line(&links, line, "empty article name"));
        }
        let e = [pages.id(&f[0]), pages.id(&f[1])];
        if seen.insert(e) {
            edges.push(e);
        }
    }
    files.push("links.tsv".to_string());
    let mut paths = Vec::new();
    let mut skipped = BTreeMap::new();
    for (name, columns) in [
        (
            "paths_finished.tsv",
            &[
                "hashedIpAddress",
                "timestamp",
                "durationInSec",
                "path",
                "rating",
            ][..],
        ),
        (
            "paths_unfinished.tsv",
            &[
                "hashedIpAddress",
                "timestamp",
                "durationInSec",
                "path",
                "target",
                "type",
            ][..],
        ),
    ] {
        let file = dir.join(name);
        if !file.exists() {
            continue;
        }
        files.push(name.to_string());
        let group = name.trim_end_matches(".tsv").trim_start_matches("paths_");
        for (line, f) in rows(&file, columns)? {
            let p = parse_path(&file, line, group, &f, durations)?;
            if p.actions.is_empty() {
                *skipped.entry("no click".to_string()).or_insert(0) += 1;
            } else {
                paths.push(p);
            }
        }
    }
    let graph = GraphFile {
        root: 0,
        pages: pages
            .names
            .into_iter()
            .map(|name| PageSpec {
                name,
                ..PageSpec::default()
            })
            .collect(),
        edges,
    };
    Ok(Wikispeedia {
        graph,
        paths,
        skipped,
        files,
    })
}

fn parse_path(
    file: &Path,
    line: u64,
    group: &str,
    f: &[String],
    durations: bool,
) -> Result<NavPath, ImportError> {
    let bad = |m: String| ImportError::line(file, line, m);
    let duration: f64 = f[2]
        .parse()
        .ok()
        .filter(|d: &f64| d.is_finite() && *d >= 0.0)
        .ok_or_else(|| {
            bad(format!(
                "durationInSec: must be a number of seconds >= 0, got `{}`",
                f[2]
            ))
        })?;
    let steps: Vec<&str> = f[3].split(';').collect();
    if steps.iter().any(|s| s.is_empty()) {
        return Err(bad(format!("path: empty article in `{}`", f[3])));
    }
    if steps[0] == "<" {
        return Err(bad("path: starts with a back click `<`".into()));
    }
    let mut history = vec![steps[0]];
    let mut actions = Vec::with_capacity(steps.len() - 1);
    for (j, s) in steps.iter().enumerate().skip(1) {
        if *s == "<" {
            if history.len() < 2 {
                return Err(bad(format!(
                    "path: back click `<` at position {j} with no page to go back to"
                )));
            }
            history.pop();
            actions.push((TraceAction::Back, history[history.len() - 1].to_string()));
        } else {
            history.push(s);
            actions.push((TraceAction::Click, s.to_string()));
        }
    }
    let (target, timeout) = match f.len() {
        6 => (f[4].clone(), f[5] == "timeout"),
        _ => (steps[steps.len() - 1].to_string(), false),
    };
    let active = if timeout {
        (duration - TIMEOUT_IDLE_S).max(0.0)
    } else {
        duration
    };
    let seconds_per_action =
        (durations && !actions.is_empty()).then(|| active / actions.len() as f64);
    Ok(NavPath {
        id: format!("{group}:{line}"),
        group: group.to_string(),
        task: format!("reach {target}"),
        root: steps[0].to_string(),
        actions,
        seconds_per_action,
        won: Some(f.len() == 5),
    })
}

/// Where the importer writes: the trace, the graph beside it, and an optional summary.
#[derive(Clone, Debug)]
pub struct Outputs {
    /// The trace (JSON Lines).
    pub trace: PathBuf,
    /// The graph (edge-list JSON), named by the trace's header.
    pub graph: PathBuf,
    /// The summary JSON.
    pub summary: Option<PathBuf>,
}

/// Imports `dir`: writes the graph, the trace (at most `max_paths` paths, all if `None`)
/// and the summary (of every path). Returns the summary.
pub fn import(
    dir: &Path,
    out: &Outputs,
    max_paths: Option<usize>,
    durations: bool,
) -> Result<Summary, ImportError> {
    let data = read(dir, durations)?;
    let mut text =
        serde_json::to_string(&data.graph).map_err(|e| ImportError::write(&out.graph, e))?;
    text.push('\n');
    crate::io::output::write_atomic(&out.graph, text.as_bytes())
        .map_err(|e| ImportError::write(&out.graph, e))?;
    let mut header = Header::new(format!(
        "specsim {} import wikispeedia",
        env!("CARGO_PKG_VERSION")
    ));
    header.graph = Some(super::relative_to(&out.trace, &out.graph));
    let commit = upstream_commit(dir);
    header.meta.insert("upstream".into(), UPSTREAM.into());
    if let Some(c) = &commit {
        header
            .meta
            .insert("upstream_commit".into(), c.clone().into());
    }
    header.meta.insert(
        "target_latency".into(),
        "seconds per action = durationInSec / actions (timeout games: less 1800 s idle); no fetch times recorded".into(),
    );
    let n = max_paths.unwrap_or(data.paths.len()).min(data.paths.len());
    super::write_trace(&out.trace, header, "wikispeedia", None, &data.paths[..n])?;
    let upstream = match commit {
        Some(c) => format!("{UPSTREAM}; files at commit {c}"),
        None => UPSTREAM.to_string(),
    };
    let mut summary = Summary::new(
        "specsim import wikispeedia",
        upstream,
        data.files.clone(),
        &data.paths,
    );
    summary.skipped = data.skipped.clone();
    let site = data
        .graph
        .build("graph", &mut crate::scenario::problems::Problems::new())
        .ok_or_else(|| ImportError::io(dir, "links.tsv does not form a valid graph"))?;
    let mut off = 0u64;
    let mut degrees = Vec::new();
    let index: BTreeMap<&str, u32> = data
        .graph
        .pages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i as u32))
        .collect();
    for p in &data.paths {
        let mut here = p.root.as_str();
        for (a, page) in &p.actions {
            if let Some(&u) = index.get(here) {
                degrees.push(site.links(u).len() as u64);
                if *a == TraceAction::Click {
                    let linked = index
                        .get(page.as_str())
                        .is_some_and(|v| site.links(u).contains(v));
                    off += u64::from(!linked);
                }
            }
            here = page;
        }
    }
    degrees.sort_unstable();
    summary
        .extra
        .insert("graph_pages".into(), site.page_count() as f64);
    summary
        .extra
        .insert("graph_links".into(), site.link_count() as f64);
    summary
        .extra
        .insert("graph_median_out_degree".into(), site.median_out_degree());
    summary.extra.insert(
        "acted_on_page_out_degree_p50".into(),
        crate::io::stats::percentile_sorted(&degrees, 0.5) as f64,
    );
    summary
        .extra
        .insert("clicks_not_in_links_tsv".into(), off as f64);
    summary.extra.insert("paths_in_trace".into(), n as f64);
    if let Some(s) = &out.summary {
        summary.write(s)?;
    }
    Ok(summary)
}
