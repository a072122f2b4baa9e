//! Websites as directed link graphs: generators, a JSON edge-list format, fast link lookup.
//!
//! The graph is a petgraph `DiGraph` whose nodes carry [`Page`] attributes. Because the event
//! loop asks "what are the links of page u" at every step, the out-links are also kept in a
//! compressed sparse row array (in edge insertion order, which is deterministic).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::limits::{MAX_LINKS, MAX_PAGES};
use crate::problems::{index, join, Problems};
use crate::sim::dist::{Dist, DistSpec};
use crate::sim::rng::{Purpose, StreamKey};

/// Index of a page in a [`Site`].
pub type PageId = u32;

/// Attributes of one page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// Name or URL (may be empty for generated pages).
    pub name: String,
    /// Size of the fetched page in bytes (0 when unknown).
    pub bytes: u64,
    /// Index into the site's fetch overrides when this page has its own fetch latency.
    pub fetch: Option<u32>,
}

/// A website: link graph, root page, per-page attributes.
#[derive(Clone, Debug)]
pub struct Site {
    graph: DiGraph<Page, ()>,
    root: PageId,
    offsets: Vec<u32>,
    targets: Vec<PageId>,
    /// Each page's size, apart from its other attributes: every fetch reads one, and a
    /// compact array stays in cache where the graph's nodes (name and all) did not.
    bytes: Vec<u64>,
    fetch_overrides: Vec<Dist>,
    /// Computed once: every report of every sweep cell shows it.
    median_out_degree: f64,
}

/// How a scenario describes its site. Tagged by `"generator"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "generator", rename_all = "snake_case", deny_unknown_fields)]
pub enum SiteSpec {
    /// A tree grown breadth-first from the root until `pages` exist, each page's out-degree
    /// drawn from `out_degree`; a link goes to a random existing page instead of a new child
    /// with probability `cross_link_prob`, and always once the page budget is spent.
    Hierarchical {
        /// Total number of pages (>= 2).
        pages: u32,
        /// Out-degree distribution (rounded, clamped to [1, pages - 1]).
        out_degree: DistSpec,
        /// Probability that a link is a cross link to an existing page.
        #[serde(default)]
        cross_link_prob: f64,
        /// Page size distribution in bytes (default: sizes unknown, 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page_bytes: Option<DistSpec>,
    },
    /// A graph given in the scenario itself (same fields as a graph file).
    Inline(GraphFile),
    /// A graph read from a JSON file (relative paths are relative to the scenario file).
    File {
        /// Path of the graph JSON file.
        path: PathBuf,
    },
}

/// The JSON edge-list format of a site.
///
/// ```json
/// {"root": 0,
///  "pages": [{"name": "/"}, {"name": "/a", "bytes": 52000}, {"name": "/b"}],
///  "edges": [[0, 1], [0, 2], [1, 0]]}
/// ```
/// `pages` may be omitted, in which case the page count is one more than the largest index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphFile {
    /// Root page index (default 0).
    #[serde(default)]
    pub root: u32,
    /// Page attributes, by index.
    #[serde(default)]
    pub pages: Vec<PageSpec>,
    /// Directed links `[from, to]`.
    pub edges: Vec<[u32; 2]>,
}

/// Attributes of a page in a graph file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSpec {
    /// Name or URL.
    #[serde(default)]
    pub name: String,
    /// Size in bytes.
    #[serde(default)]
    pub bytes: u64,
    /// This page's own fetch latency (default: the scenario's `fetch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch: Option<DistSpec>,
}

/// The median of the nonzero values of `degrees` (0 when there is none).
fn median_nonzero(degrees: impl Iterator<Item = u32>) -> f64 {
    let mut d: Vec<u32> = degrees.filter(|&d| d > 0).collect();
    if d.is_empty() {
        return 0.0;
    }
    d.sort_unstable();
    let m = d.len() / 2;
    if d.len() % 2 == 1 {
        f64::from(d[m])
    } else {
        (f64::from(d[m - 1]) + f64::from(d[m])) / 2.0
    }
}

impl Site {
    /// Builds a site from pages and edges (no validation: callers validate first).
    pub fn from_parts(
        pages: Vec<Page>,
        edges: &[[u32; 2]],
        root: PageId,
        fetch_overrides: Vec<Dist>,
    ) -> Site {
        let bytes = pages.iter().map(|p| p.bytes).collect();
        let mut graph = DiGraph::with_capacity(pages.len(), edges.len());
        for p in pages {
            graph.add_node(p);
        }
        for &[a, b] in edges {
            graph.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), ());
        }
        let n = graph.node_count();
        let mut degree = vec![0u32; n + 1];
        for &[a, _] in edges {
            degree[a as usize + 1] += 1;
        }
        for i in 0..n {
            degree[i + 1] += degree[i];
        }
        let offsets = degree;
        let mut fill = offsets.clone();
        let mut targets = vec![0; edges.len()];
        for e in graph.edge_references() {
            let a = e.source().index();
            targets[fill[a] as usize] = e.target().index() as PageId;
            fill[a] += 1;
        }
        let median_out_degree = median_nonzero(offsets.windows(2).map(|w| w[1] - w[0]));
        Site {
            graph,
            root,
            offsets,
            targets,
            bytes,
            fetch_overrides,
            median_out_degree,
        }
    }

    /// Generates a hierarchical site (see [`SiteSpec::Hierarchical`]).
    pub fn hierarchical(
        pages: u32,
        out_degree: &Dist,
        cross_link_prob: f64,
        page_bytes: Option<&Dist>,
        key: StreamKey,
    ) -> Site {
        let n = pages.max(2);
        let mut rng = key.rng(0, 0, Purpose::Site);
        let mut edges: Vec<[u32; 2]> = Vec::new();
        let mut queue = VecDeque::from([0u32]);
        let mut created = 1u32;
        // `linked_from[v] == u + 1` when u links to v already: an O(1) duplicate check. Once
        // the page budget is spent every link is a cross link, and scanning u's links for
        // each of them cost O(degree^2) per page (most of a default run's instructions).
        let mut linked_from = vec![0u32; n as usize];
        while let Some(u) = queue.pop_front() {
            let d = out_degree.sample_count(&mut rng, 1).min(u64::from(n - 1)) as u32;
            let mark = u + 1;
            for _ in 0..d {
                let cross = created >= n || rng.random::<f64>() < cross_link_prob;
                if !cross {
                    edges.push([u, created]);
                    linked_from[created as usize] = mark;
                    queue.push_back(created);
                    created += 1;
                    continue;
                }
                // A cross link to an existing page other than u, not already linked.
                let mut tries = 0;
                while tries < 16 {
                    let v = rng.random_range(0..created);
                    if v != u && linked_from[v as usize] != mark {
                        edges.push([u, v]);
                        linked_from[v as usize] = mark;
                        break;
                    }
                    tries += 1;
                }
            }
        }
        let pages = (0..created)
            .map(|_| Page {
                name: String::new(),
                bytes: page_bytes.map_or(0, |d| d.sample_count(&mut rng, 0)),
                fetch: None,
            })
            .collect();
        Site::from_parts(pages, &edges, 0, Vec::new())
    }

    /// The root page, where every session starts.
    #[inline]
    pub fn root(&self) -> PageId {
        self.root
    }

    /// Number of pages.
    #[inline]
    pub fn page_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of links.
    pub fn link_count(&self) -> usize {
        self.targets.len()
    }

    /// The out-links of `page`, in insertion order.
    #[inline]
    pub fn links(&self, page: PageId) -> &[PageId] {
        let a = self.offsets[page as usize] as usize;
        let b = self.offsets[page as usize + 1] as usize;
        &self.targets[a..b]
    }

    /// The attributes of `page`.
    #[inline]
    pub fn page(&self, page: PageId) -> &Page {
        &self.graph[NodeIndex::new(page as usize)]
    }

    /// The size of `page` in bytes (0 when unknown): [`Page::bytes`].
    #[inline]
    pub fn bytes(&self, page: PageId) -> u64 {
        self.bytes[page as usize]
    }

    /// The page's own fetch-latency distribution, if it has one.
    #[inline]
    pub fn fetch_override(&self, page: PageId) -> Option<&Dist> {
        if self.fetch_overrides.is_empty() {
            return None; // most sites: no page lookup on the hot path
        }
        self.page(page)
            .fetch
            .map(|i| &self.fetch_overrides[i as usize])
    }

    /// The underlying petgraph graph.
    pub fn graph(&self) -> &DiGraph<Page, ()> {
        &self.graph
    }

    /// Median out-degree over pages with at least one link (0 for an empty site).
    pub fn median_out_degree(&self) -> f64 {
        self.median_out_degree
    }
}

impl GraphFile {
    /// Validates indices and page attributes, then builds the site.
    pub fn build(&self, path: &str, p: &mut Problems) -> Option<Site> {
        let before = p.items().len();
        let max_index = self.edges.iter().flat_map(|e| e.iter()).copied().max();
        let n = if self.pages.is_empty() {
            max_index
                .map_or(0, |m| m as usize + 1)
                .max(self.root as usize + 1)
        } else {
            self.pages.len()
        };
        if n == 0 {
            p.push(join(path, "edges"), "a site needs at least one page");
            return None;
        }
        if self.edges.len() as u64 > MAX_LINKS {
            p.push(
                join(path, "edges"),
                format!(
                    "{} links, over the limit of {MAX_LINKS} (docs/scenario.md)",
                    self.edges.len()
                ),
            );
            return None;
        }
        if n as u64 > MAX_PAGES {
            // Name the index that implies the size, so a typo is found at once.
            let at = if !self.pages.is_empty() {
                join(path, "pages")
            } else if self.root as usize + 1 == n {
                join(path, "root")
            } else {
                let i = self
                    .edges
                    .iter()
                    .position(|e| e.contains(&((n - 1) as u32)))
                    .unwrap_or(0);
                let j = usize::from(self.edges[i][0] as usize != n - 1);
                index(&index(&join(path, "edges"), i), j)
            };
            let why = if self.pages.is_empty() {
                format!(
                    "page {} makes a site of {n} pages (without `pages`, the page count is one more than the largest index)",
                    n - 1
                )
            } else {
                format!("{n} pages")
            };
            p.push(
                at,
                format!("{why}, over the limit of {MAX_PAGES} pages (docs/scenario.md)"),
            );
            return None;
        }
        if self.root as usize >= n {
            p.push(
                join(path, "root"),
                format!(
                    "page {} does not exist (the site has pages 0..{})",
                    self.root,
                    n - 1
                ),
            );
        }
        for (i, e) in self.edges.iter().enumerate() {
            for (j, &v) in e.iter().enumerate() {
                if v as usize >= n {
                    p.push(
                        index(&index(&join(path, "edges"), i), j),
                        format!("page {v} does not exist (the site has pages 0..{})", n - 1),
                    );
                }
            }
        }
        let mut overrides = Vec::new();
        let mut pages = Vec::with_capacity(n);
        for i in 0..n {
            let spec = self.pages.get(i).cloned().unwrap_or_default();
            let fetch = spec.fetch.as_ref().and_then(|f| {
                let d = f.build(&join(&index(&join(path, "pages"), i), "fetch"), p)?;
                overrides.push(d);
                Some(overrides.len() as u32 - 1)
            });
            pages.push(Page {
                name: spec.name,
                bytes: spec.bytes,
                fetch,
            });
        }
        if p.items().len() > before {
            return None;
        }
        Some(Site::from_parts(pages, &self.edges, self.root, overrides))
    }

    /// Reads a graph file (a regular file within the input size cap).
    pub fn read(file: &Path) -> Result<GraphFile, GraphFileError> {
        let text = crate::input::read_text(file).map_err(GraphFileError::Input)?;
        // Tracking the field path costs half the parse of a large graph: parse without it,
        // and again with it only to name where a bad file goes wrong.
        if let Ok(g) = serde_json::from_str(&text) {
            return Ok(g);
        }
        let de = &mut serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de).map_err(|e| GraphFileError::Parse {
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        })
    }
}

/// A graph file that cannot be read or parsed (the message leaves out the file, which the
/// caller names).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GraphFileError {
    /// Missing, unreadable, not a regular file, or over the size cap.
    #[error("{}", .0.reason())]
    Input(crate::input::InputError),
    /// Not the edge-list JSON format.
    #[error("{path}: {message}")]
    Parse {
        /// Field path (`.` for the whole document).
        path: String,
        /// What serde said.
        message: String,
    },
}

impl SiteSpec {
    /// The graph file a `file` spec names, resolved against `base`.
    pub fn graph_path(&self, base: Option<&Path>) -> Option<PathBuf> {
        match self {
            SiteSpec::File { path } => Some(match base {
                Some(b) if path.is_relative() => b.join(path),
                _ => path.clone(),
            }),
            _ => None,
        }
    }

    /// Validates the spec and builds the site, reading a `file` spec's graph itself; `base`
    /// resolves relative file paths.
    pub fn build(
        &self,
        path: &str,
        base: Option<&Path>,
        key: StreamKey,
        p: &mut Problems,
    ) -> Option<Site> {
        let graph = self.graph_path(base).map(|f| {
            let g = GraphFile::read(&f);
            (f, g)
        });
        let graph = graph.as_ref().map(|(f, g)| (f.as_path(), g.as_ref()));
        self.build_loaded(path, graph, key, p)
    }

    /// Validates the spec and builds the site; `graph` is the graph file a `file` spec names,
    /// already read (see [`SiteSpec::graph_path`]), with its path.
    pub fn build_loaded(
        &self,
        path: &str,
        graph: Option<(&Path, Result<&GraphFile, &GraphFileError>)>,
        key: StreamKey,
        p: &mut Problems,
    ) -> Option<Site> {
        match self {
            SiteSpec::Hierarchical {
                pages,
                out_degree,
                cross_link_prob,
                page_bytes,
            } => {
                let before = p.items().len();
                if *pages < 2 {
                    p.push(
                        join(path, "pages"),
                        format!("must be at least 2, got {pages}"),
                    );
                }
                if u64::from(*pages) > MAX_PAGES {
                    p.push(
                        join(path, "pages"),
                        format!(
                            "must be at most {MAX_PAGES} (a limit of this build, docs/scenario.md), got {pages}"
                        ),
                    );
                }
                p.probability(&join(path, "cross_link_prob"), *cross_link_prob);
                let d = out_degree.build(&join(path, "out_degree"), p);
                let b = page_bytes
                    .as_ref()
                    .and_then(|b| b.build(&join(path, "page_bytes"), p));
                if p.items().len() > before {
                    return None;
                }
                // Each page's degree is capped at pages - 1, so the mean bounds the links.
                let degree = out_degree.mean().clamp(1.0, f64::from(pages - 1));
                let links = f64::from(*pages) * degree;
                if links > MAX_LINKS as f64 {
                    p.push(
                        join(path, "out_degree"),
                        format!(
                            "a mean out-degree of {} on {pages} pages makes about {links:.0} links (a page links to at most the {} others), over the limit of {MAX_LINKS} links (docs/scenario.md)",
                            out_degree.mean(),
                            pages - 1
                        ),
                    );
                    return None;
                }
                Some(Site::hierarchical(
                    *pages,
                    &d?,
                    *cross_link_prob,
                    b.as_ref(),
                    key,
                ))
            }
            SiteSpec::Inline(g) => g.build(path, p),
            SiteSpec::File { .. } => match graph {
                Some((full, Ok(g))) => g.build(&format!("{path}(file {})", full.display()), p),
                Some((full, Err(e))) => {
                    p.push(join(path, "path"), format!("{}: {e}", full.display()));
                    None
                }
                None => {
                    p.push(join(path, "path"), "the graph file was not read");
                    None
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_insertion_order() {
        let g = GraphFile {
            root: 0,
            pages: vec![],
            edges: vec![[0, 2], [0, 1], [2, 0], [0, 3]],
        };
        let s = g.build("site", &mut Problems::new()).unwrap();
        assert_eq!(s.page_count(), 4);
        assert_eq!(s.links(0), &[2, 1, 3]);
        assert_eq!(s.links(1), &[] as &[u32]);
        assert_eq!(s.links(2), &[0]);
    }

    #[test]
    fn edge_to_missing_page_is_rejected() {
        let g = GraphFile {
            root: 0,
            pages: vec![PageSpec::default(), PageSpec::default()],
            edges: vec![[0, 1], [1, 5]],
        };
        let mut p = Problems::new();
        assert!(g.build("site", &mut p).is_none());
        assert_eq!(
            p.items()[0].to_string(),
            "site.edges[1][1]: page 5 does not exist (the site has pages 0..1)"
        );
    }

    #[test]
    fn hierarchical_site_has_requested_size_and_degree() {
        let d = Dist::Constant(81.0);
        let s = Site::hierarchical(3000, &d, 0.0, None, StreamKey::root(1));
        assert_eq!(s.page_count(), 3000);
        assert_eq!(s.median_out_degree(), 81.0);
        assert!(
            (0..3000).all(|p| s.links(p).len() == 81),
            "every page has 81 links"
        );
        // The first 81 pages below the root are its children: a tree near the top.
        assert_eq!(s.links(0), &(1..=81).collect::<Vec<u32>>()[..]);
    }

    #[test]
    fn page_sizes_are_the_pages_own() {
        let sizes = Dist::Lognormal(rand_distr::LogNormal::new(11.0, 0.8).unwrap());
        let s = Site::hierarchical(
            500,
            &Dist::Constant(5.0),
            0.1,
            Some(&sizes),
            StreamKey::root(3),
        );
        assert!((0..500).all(|p| s.bytes(p) == s.page(p).bytes));
        let distinct: std::collections::BTreeSet<u64> = (0..500).map(|p| s.bytes(p)).collect();
        assert!(
            distinct.len() > 400,
            "sizes are drawn per page: {}",
            distinct.len()
        );
    }

    #[test]
    fn generation_is_deterministic() {
        let d = Dist::Constant(5.0);
        let a = Site::hierarchical(500, &d, 0.3, None, StreamKey::root(7));
        let b = Site::hierarchical(500, &d, 0.3, None, StreamKey::root(7));
        assert_eq!(a.targets, b.targets);
        let c = Site::hierarchical(500, &d, 0.3, None, StreamKey::root(8));
        assert_ne!(a.targets, c.targets);
    }
}
