//! What the cells of a sweep share: traces, graph files and generated sites, each read or
//! built once and served to every cell through [`crate::scenario::Loader`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::io::replay::load_trace;
use crate::io::trace::TraceError;
use crate::scenario::load::{LoadedTrace, Loader, SiteKey};
use crate::sim::site::{GraphFile, GraphFileError, Site};

/// Traces by path, graph files by path and sites by (site spec, site seed), loaded or built
/// on first use. Failures are not cached (each cell reports its own problem).
#[derive(Debug, Default)]
pub struct SiteCache {
    traces: Mutex<BTreeMap<PathBuf, LoadedTrace>>,
    graphs: Mutex<BTreeMap<PathBuf, Arc<GraphFile>>>,
    sites: Mutex<BTreeMap<SiteKey, Arc<Site>>>,
}

fn cached<K: Ord + Clone, V: Clone, E>(
    map: &Mutex<BTreeMap<K, V>>,
    key: &K,
    make: impl FnOnce() -> Result<V, E>,
) -> Result<V, E> {
    if let Some(v) = map.lock().ok().and_then(|m| m.get(key).cloned()) {
        return Ok(v);
    }
    let v = make()?;
    if let Ok(mut m) = map.lock() {
        return Ok(m.entry(key.clone()).or_insert(v).clone());
    }
    Ok(v)
}

impl Loader for SiteCache {
    fn trace(&self, path: &Path) -> Result<LoadedTrace, TraceError> {
        cached(&self.traces, &path.to_path_buf(), || {
            load_trace(path).map(|r| LoadedTrace::new(Arc::new(r)))
        })
    }

    fn graph(&self, path: &Path) -> Result<Arc<GraphFile>, GraphFileError> {
        cached(&self.graphs, &path.to_path_buf(), || {
            GraphFile::read(path).map(Arc::new)
        })
    }

    fn site(&self, key: &SiteKey, make: &mut dyn FnMut() -> Option<Site>) -> Option<Arc<Site>> {
        cached(&self.sites, key, || make().map(Arc::new).ok_or(())).ok()
    }
}
