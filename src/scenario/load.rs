//! The one step that touches the file system: reading the files a scenario refers to (its
//! trace, its graph file) and generating its site, through a [`Loader`].
//!
//! Validation ([`crate::scenario::Scenario::build_with`]) asks the loader for everything it
//! needs that is not in the scenario file itself. [`FromDisk`] reads each time; a sweep
//! passes its cache ([`crate::sweep::SiteCache`]), so thousands of cells share one trace,
//! one graph and one generated site.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::io::replay::{load_trace, Replay};
use crate::io::trace::TraceError;
use crate::scenario::file::ScenarioFile;
use crate::sim::site::{GraphFile, GraphFileError, Site};

/// A trace ready to replay, with its site shared by every scenario that replays it.
#[derive(Clone, Debug)]
pub struct LoadedTrace {
    /// The replay.
    pub replay: Arc<Replay>,
    /// Its site (the model holds sites by `Arc`).
    pub site: Arc<Site>,
}

impl LoadedTrace {
    /// Wraps a replay, sharing a copy of its site.
    pub fn new(replay: Arc<Replay>) -> Self {
        let site = Arc::new(replay.site.clone());
        LoadedTrace { replay, site }
    }
}

/// Identifies a generated site: the site spec as JSON and the site seed.
pub type SiteKey = (String, u64);

/// Where a scenario's referenced files and generated site come from.
pub trait Loader: Sync {
    /// The trace at `path` (already resolved against the scenario's directory).
    fn trace(&self, path: &Path) -> Result<LoadedTrace, TraceError>;

    /// The graph file at `path` (already resolved).
    fn graph(&self, path: &Path) -> Result<Arc<GraphFile>, GraphFileError>;

    /// The site identified by `key`, built by `make` unless already built (`make` records
    /// any problem and returns `None`).
    fn site(&self, key: &SiteKey, make: &mut dyn FnMut() -> Option<Site>) -> Option<Arc<Site>> {
        let _ = key;
        make().map(Arc::new)
    }
}

/// Reads every referenced file from disk, every time; builds every site anew.
#[derive(Clone, Copy, Debug, Default)]
pub struct FromDisk;

impl Loader for FromDisk {
    fn trace(&self, path: &Path) -> Result<LoadedTrace, TraceError> {
        load_trace(path).map(|r| LoadedTrace::new(Arc::new(r)))
    }

    fn graph(&self, path: &Path) -> Result<Arc<GraphFile>, GraphFileError> {
        GraphFile::read(path).map(Arc::new)
    }
}

/// Serves one trace already loaded, whatever its path; everything else from `rest`.
pub struct Preloaded<'a> {
    /// The trace.
    pub trace: LoadedTrace,
    /// Where the rest comes from.
    pub rest: &'a dyn Loader,
}

impl Loader for Preloaded<'_> {
    fn trace(&self, _path: &Path) -> Result<LoadedTrace, TraceError> {
        Ok(self.trace.clone())
    }

    fn graph(&self, path: &Path) -> Result<Arc<GraphFile>, GraphFileError> {
        self.rest.graph(path)
    }

    fn site(&self, key: &SiteKey, make: &mut dyn FnMut() -> Option<Site>) -> Option<Arc<Site>> {
        self.rest.site(key, make)
    }
}

/// The files a scenario refers to, each with its resolved path and what reading it gave.
#[derive(Debug, Default)]
pub struct References {
    /// `trajectories.trace`.
    pub trace: Option<(PathBuf, Result<LoadedTrace, TraceError>)>,
    /// The graph file of a `{"generator": "file"}` site.
    pub graph: Option<(PathBuf, Result<Arc<GraphFile>, GraphFileError>)>,
}

/// Reads the files `file` refers to through `loader`; `base` resolves relative paths.
/// Problems are kept in [`References`] for validation to report with their field path.
pub fn load_references(
    file: &ScenarioFile,
    base: Option<&Path>,
    loader: &dyn Loader,
) -> References {
    let trace = file.trajectories.as_ref().map(|t| {
        let full = ScenarioFile::resolve(base, &t.trace);
        let loaded = loader.trace(&full);
        (full, loaded)
    });
    // A loaded trace's pages are the site: a `site` beside it is an error and is not read.
    let replayed = matches!(trace, Some((_, Ok(_))));
    let graph = match &file.site {
        Some(spec) if !replayed => spec.graph_path(base).map(|full| {
            let g = loader.graph(&full);
            (full, g)
        }),
        _ => None,
    };
    References { trace, graph }
}
