//! Parameter sweeps: axes over scenario field paths, cells, per-cell seeds, shards.
//!
//! A sweep is declared in the scenario file under `"sweep"`. Every cell is the base scenario
//! with some fields replaced, addressed by their paths (`cache.capacity`,
//! `drafts[0].accuracy.top1`). A cell is identified by a hash of its coordinates, not by its
//! position, and by default its seed derives from the same coordinates, so adding a value to
//! an axis leaves every other cell's numbers byte-identical.

pub mod base;
pub mod cache;
pub mod merge;
pub mod path;
pub mod run;
pub mod shard;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use crate::scenario::file::{Axis, CellSeeds, SweepSpec};
pub use cache::SiteCache;
pub use path::{set_path, PathError};
pub use shard::{Shard, ShardError};

use crate::scenario::problems::{index, Problem, Problems};
use crate::scenario::{Scenario, ScenarioError, ScenarioFile};
use crate::sim::rng::combine;

/// One cell of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Position in the full enumeration (for ordering and sharding).
    pub index: usize,
    /// Stable identifier: a hash of the coordinates (16 hex digits).
    pub id: String,
    /// Field path and value, in axis order.
    pub coords: Vec<(String, Value)>,
}

impl Cell {
    /// The coordinates as `path=value, ...` (for messages).
    pub fn describe(&self) -> String {
        self.coords
            .iter()
            .map(|(p, v)| format!("{p}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn hash_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn coords_id(coords: &[(String, Value)]) -> String {
    let v: Vec<Value> = coords
        .iter()
        .map(|(p, v)| Value::Array(vec![Value::String(p.clone()), v.clone()]))
        .collect();
    hash_hex(Value::Array(v).to_string().as_bytes())
}

/// Top-level scenario fields that only say how the agent prefetches: the rules' parameters
/// and the drafts. Nothing the sessions walk or the samples every policy shares depends on
/// them (see [`crate::runner::Family`]); a field missing here only costs sharing.
pub const PREFETCH_FIELDS: [&str; 6] = [
    "cache",
    "width",
    "drafts",
    "fetcher",
    "lookup_cost",
    "policies",
];

/// The top-level field a path starts with (`drafts` for `drafts[0].accuracy.top1`).
fn top_field(path: &str) -> &str {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    &path[..end]
}

/// A scenario with its sweep, ready to enumerate and build cells.
#[derive(Debug)]
pub struct Sweep {
    /// Where the scenario came from.
    pub source: String,
    /// The scenario's name (its `name`, or the file).
    pub name: String,
    /// The scenario as JSON with defaults filled in and the sweep removed.
    base: Value,
    spec: SweepSpec,
    /// Every cell, in enumeration order.
    pub cells: Vec<Cell>,
    /// Axis paths in column order.
    pub axes: Vec<String>,
    /// Hash of the whole scenario (sweep included): shards of different scenarios never mix.
    pub scenario_hash: String,
    base_dir: Option<PathBuf>,
    sites: SiteCache,
}

impl Sweep {
    /// Reads a scenario file with a `sweep` section and validates every axis value.
    pub fn load(path: &Path) -> Result<Sweep, ScenarioError> {
        let file = ScenarioFile::read(path)?;
        Sweep::new(file, &path.display().to_string(), path.parent())
    }

    /// Builds the sweep of a parsed scenario file.
    pub fn new(
        mut file: ScenarioFile,
        source: &str,
        base_dir: Option<&Path>,
    ) -> Result<Sweep, ScenarioError> {
        let invalid = |p: Problems| ScenarioError::Invalid {
            file: source.to_string(),
            problems: p.into_vec(),
        };
        let hash_text = serde_json::to_string(&file).expect("scenario serialises");
        let scenario_hash = hash_hex(hash_text.as_bytes());
        let Some(spec) = file.sweep.take() else {
            let mut p = Problems::new();
            p.push(
                "sweep",
                "is missing: `specsim sweep` needs a `sweep` section with `grid` and/or `cases`",
            );
            return Err(invalid(p));
        };
        if file.site_seed.is_none() {
            file.site_seed = Some(file.seed);
        }
        let base = file.to_value();
        let name = if file.name.is_empty() {
            source.to_string()
        } else {
            file.name.clone()
        };
        let mut sweep = Sweep {
            source: source.to_string(),
            name,
            base,
            cells: Vec::new(),
            axes: Vec::new(),
            scenario_hash,
            base_dir: base_dir.map(|d| d.to_path_buf()),
            sites: SiteCache::default(),
            spec,
        };
        sweep.validate().map_err(invalid)?;
        sweep.enumerate();
        Ok(sweep)
    }

    fn validate(&self) -> Result<(), Problems> {
        let mut p = Problems::new();
        if self.spec.grid.is_empty() && self.spec.cases.is_empty() {
            p.push("sweep", "needs at least one `grid` axis or one of `cases`");
        }
        let check = |where_: String, path: &str, value: &Value, p: &mut Problems| {
            if path == "sweep" || path.starts_with("sweep.") {
                p.push(where_, format!("`{path}`: a sweep cannot change itself"));
                return;
            }
            let mut v = self.base.clone();
            if let Err(e) = set_path(&mut v, path, value.clone()) {
                p.push(where_, e.to_string());
                return;
            }
            let result = ScenarioFile::from_value(v, &self.source).and_then(|f| {
                Scenario::build_with(f, &self.source, self.base_dir.as_deref(), &self.sites)
            });
            if let Err(e) = result {
                p.push(
                    where_,
                    format!(
                        "value {value} for `{path}` is invalid: {}",
                        e.problems_text()
                    ),
                );
            }
        };
        for (i, axis) in self.spec.grid.iter().enumerate() {
            let at = index("sweep.grid", i);
            if axis.values.is_empty() {
                p.push(
                    format!("{at}.values"),
                    format!("axis `{}` has no values", axis.path),
                );
            }
            for (j, v) in axis.values.iter().enumerate() {
                check(index(&format!("{at}.values"), j), &axis.path, v, &mut p);
            }
        }
        for (i, case) in self.spec.cases.iter().enumerate() {
            let at = index("sweep.cases", i);
            for (path, v) in case {
                check(format!("{at}.{path}"), path, v, &mut p);
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(p)
        }
    }

    fn enumerate(&mut self) {
        let mut axes: Vec<String> = Vec::new();
        for case in &self.spec.cases {
            for k in case.keys() {
                if !axes.contains(k) {
                    axes.push(k.clone());
                }
            }
        }
        for a in &self.spec.grid {
            if !axes.contains(&a.path) {
                axes.push(a.path.clone());
            }
        }
        let empty = Map::new();
        let cases: Vec<&Map<String, Value>> = if self.spec.cases.is_empty() {
            vec![&empty]
        } else {
            self.spec.cases.iter().collect()
        };
        let mut cells = Vec::new();
        for case in cases {
            let mut combo = vec![0usize; self.spec.grid.len()];
            loop {
                let mut coords: Vec<(String, Value)> =
                    case.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                for (a, &j) in self.spec.grid.iter().zip(&combo) {
                    coords.push((a.path.clone(), a.values[j].clone()));
                }
                cells.push(Cell {
                    index: cells.len(),
                    id: coords_id(&coords),
                    coords,
                });
                // Odometer increment, last axis fastest.
                let mut k = combo.len();
                loop {
                    if k == 0 {
                        break;
                    }
                    k -= 1;
                    combo[k] += 1;
                    if combo[k] < self.spec.grid[k].values.len() {
                        break;
                    }
                    combo[k] = 0;
                    if k == 0 {
                        k = usize::MAX;
                        break;
                    }
                }
                if combo.is_empty() || k == usize::MAX {
                    break;
                }
            }
        }
        self.cells = cells;
        self.axes = axes;
    }

    /// The validated scenario of one cell.
    pub fn scenario(&self, cell: &Cell) -> Result<Scenario, ScenarioError> {
        let mut v = self.base.clone();
        for (path, value) in &cell.coords {
            set_path(&mut v, path, value.clone()).map_err(|e| ScenarioError::Invalid {
                file: self.source.clone(),
                problems: vec![Problem {
                    path: format!("sweep cell {}", cell.id),
                    message: e.to_string(),
                }],
            })?;
        }
        let mut file = ScenarioFile::from_value(v, &self.source)?;
        if self.spec.seeds == CellSeeds::PerCell {
            let id = u64::from_str_radix(&cell.id, 16).unwrap_or(0);
            file.seed = combine(file.seed, id);
        }
        Scenario::build_with(file, &self.source, self.base_dir.as_deref(), &self.sites)
    }

    /// The family of `cell`: cells whose coordinates differ only in fields that say how the
    /// agent prefetches ([`PREFETCH_FIELDS`]) walk the same workloads, so they share one
    /// [`crate::runner::Family`]. `None` when each cell has its own seed.
    pub fn family(&self, cell: &Cell) -> Option<String> {
        if self.spec.seeds == CellSeeds::PerCell {
            return None;
        }
        let rest: Vec<&(String, Value)> = cell
            .coords
            .iter()
            .filter(|(path, _)| !PREFETCH_FIELDS.contains(&top_field(path)))
            .collect();
        Some(serde_json::to_string(&rest).expect("coordinates serialise"))
    }

    /// The cells shard `shard` runs, in enumeration order.
    pub fn cells_of(&self, shard: Shard) -> impl Iterator<Item = &Cell> {
        self.cells.iter().filter(move |c| shard.owns(c.index))
    }
}
