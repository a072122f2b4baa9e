//! Parameter sweeps: axes over scenario field paths, cells, per-cell seeds, shards.
//!
//! A sweep is declared in the scenario file under `"sweep"`. Every cell is the base scenario
//! with some fields replaced, addressed by their paths (`cache.capacity`,
//! `drafts[0].accuracy.top1`). A cell is identified by a hash of its coordinates, not by its
//! position, and by default its seed derives from the same coordinates, so adding a value to
//! an axis leaves every other cell's numbers byte-identical.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::scenario::problems::{index, Problems};
use crate::scenario::{Scenario, ScenarioError, ScenarioFile, SiteCache};
use crate::sim::rng::combine;

/// The `sweep` section of a scenario file.
///
/// ```json
/// "sweep": {
///   "grid": [{"path": "cache.capacity", "values": [5, 10, 20]},
///            {"path": "width", "values": [1, 3, 5]}],
///   "cases": [{"drafts[0].accuracy.top1": 0.5}, {"drafts[0].accuracy.top1": 0.8}],
///   "seeds": "per_cell"
/// }
/// ```
/// Cells are every case (default: one empty case) crossed with the Cartesian product of the
/// grid axes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Axes crossed as a Cartesian product, first axis outermost.
    #[serde(default)]
    pub grid: Vec<Axis>,
    /// Explicit cases: each maps field paths to values.
    #[serde(default)]
    pub cases: Vec<Map<String, Value>>,
    /// How cell seeds are chosen.
    #[serde(default)]
    pub seeds: CellSeeds,
}

/// One grid axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// Field path in the scenario, e.g. `drafts[0].latency.latency.median`.
    pub path: String,
    /// Values the field takes (any JSON: numbers, names, whole tables).
    pub values: Vec<Value>,
}

/// Seed of each cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellSeeds {
    /// Derived from the scenario seed and the cell's coordinates (independent cells).
    #[default]
    PerCell,
    /// Every cell uses the scenario seed: common random numbers across cells too.
    Shared,
}

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

/// A segment of a field path.
#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() {
            return Err(format!("empty field name in path `{path}`"));
        }
        out.push(Segment::Key(key.to_string()));
        while !rest.is_empty() {
            let close = rest
                .find(']')
                .ok_or_else(|| format!("unclosed `[` in path `{path}`"))?;
            let n = rest[1..close]
                .parse()
                .map_err(|_| format!("`{}` is not an index in path `{path}`", &rest[1..close]))?;
            out.push(Segment::Index(n));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!("unexpected `{rest}` in path `{path}`"));
            }
        }
    }
    Ok(out)
}

/// Sets the field at `path` in `root` to `value`. The field must exist, except a missing
/// last key of an existing object (an optional field left out of the file).
pub fn set_path(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let segs = parse_path(path)?;
    let mut cur = root;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        cur = match seg {
            Segment::Key(k) => {
                let obj = cur
                    .as_object_mut()
                    .ok_or_else(|| format!("`{path}`: `{k}` is not inside an object"))?;
                if last {
                    obj.insert(k.clone(), value);
                    return Ok(());
                }
                obj.get_mut(k)
                    .ok_or_else(|| format!("field path `{path}` does not exist: no field `{k}`"))?
            }
            Segment::Index(n) => {
                let arr = cur
                    .as_array_mut()
                    .ok_or_else(|| format!("`{path}`: [{n}] applied to something not a list"))?;
                let len = arr.len();
                let slot = arr.get_mut(*n).ok_or_else(|| {
                    format!("field path `{path}` does not exist: index {n} of a list of {len}")
                })?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
        };
    }
    Ok(())
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
    base_dir: Option<std::path::PathBuf>,
    sites: SiteCache,
}

impl Sweep {
    /// Reads a scenario file with a `sweep` section and validates every axis value.
    pub fn load(path: &std::path::Path) -> Result<Sweep, ScenarioError> {
        let file = ScenarioFile::read(path)?;
        Sweep::new(file, &path.display().to_string(), path.parent())
    }

    /// Builds the sweep of a parsed scenario file.
    pub fn new(
        mut file: ScenarioFile,
        source: &str,
        base_dir: Option<&std::path::Path>,
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
        let base = serde_json::to_value(&file).expect("scenario serialises");
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
                p.push(where_, e);
                return;
            }
            let result = ScenarioFile::from_value(v, &self.source).and_then(|f| {
                Scenario::build_with(f, &self.source, self.base_dir.as_deref(), Some(&self.sites))
            });
            if let Err(e) = result {
                let msg = match e {
                    ScenarioError::Parse { path, message, .. } => format!("{path}: {message}"),
                    ScenarioError::Invalid { problems, .. } => problems
                        .iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                    ScenarioError::Io { message, .. } => message,
                };
                p.push(
                    where_,
                    format!("value {value} for `{path}` is invalid: {msg}"),
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
                problems: vec![crate::scenario::problems::Problem {
                    path: format!("sweep cell {}", cell.id),
                    message: e,
                }],
            })?;
        }
        let mut file = ScenarioFile::from_value(v, &self.source)?;
        if self.spec.seeds == CellSeeds::PerCell {
            let id = u64::from_str_radix(&cell.id, 16).unwrap_or(0);
            file.seed = combine(file.seed, id);
        }
        Scenario::build_with(
            file,
            &self.source,
            self.base_dir.as_deref(),
            Some(&self.sites),
        )
    }
}

/// Which part of the cells this process runs: shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Parses `I/N` (1 <= I <= N).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let err = || format!("invalid shard `{s}`: expected I/N with 1 <= I <= N, e.g. 2/8");
        let (a, b) = s.split_once('/').ok_or_else(err)?;
        let index: u32 = a.trim().parse().map_err(|_| err())?;
        let count: u32 = b.trim().parse().map_err(|_| err())?;
        if count == 0 || index == 0 || index > count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }

    /// The shard from array-job variables: Slurm (`SLURM_ARRAY_TASK_ID` with
    /// `SLURM_ARRAY_TASK_COUNT`, or `_MIN`/`_MAX`) or a Kubernetes Indexed Job
    /// (`JOB_COMPLETION_INDEX`, 0-based, with `count` given). `None` when neither is set.
    pub fn from_env(
        get: impl Fn(&str) -> Option<String>,
        count: Option<u32>,
    ) -> Result<Option<Shard>, String> {
        let num = |name: &str| -> Result<Option<i64>, String> {
            match get(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("environment variable {name}={v} is not an integer")),
            }
        };
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let n = match (num("SLURM_ARRAY_TASK_COUNT")?, num("SLURM_ARRAY_TASK_MAX")?) {
                (Some(n), _) => n,
                (None, Some(max)) => max - min + 1,
                (None, None) => match count {
                    Some(c) => i64::from(c),
                    None => {
                        return Err("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is; pass --shards N".into())
                    }
                },
            };
            let i = id - min + 1;
            return Shard::parse(&format!("{i}/{n}")).map(Some);
        }
        if let Some(idx) = num("JOB_COMPLETION_INDEX")? {
            let n = count.ok_or(
                "JOB_COMPLETION_INDEX is set: give the number of completions with --shards N",
            )?;
            return Shard::parse(&format!("{}/{n}", idx + 1)).map(Some);
        }
        Ok(None)
    }

    /// Whether the cell at `index` belongs to this shard.
    pub fn owns(&self, index: usize) -> bool {
        index % self.count as usize == (self.index - 1) as usize
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_set_nested_fields() {
        let mut v = json!({"cache": {"capacity": 10}, "drafts": [{"accuracy": {"top1": 0.5}}]});
        set_path(&mut v, "cache.capacity", json!(20)).unwrap();
        set_path(&mut v, "drafts[0].accuracy.top1", json!(0.9)).unwrap();
        set_path(&mut v, "cache.scope", json!("shared")).unwrap();
        assert_eq!(v["cache"]["capacity"], 20);
        assert_eq!(v["drafts"][0]["accuracy"]["top1"], 0.9);
        assert_eq!(v["cache"]["scope"], "shared");
        assert_eq!(
            set_path(&mut v, "drafts[3].name", json!("x")).unwrap_err(),
            "field path `drafts[3].name` does not exist: index 3 of a list of 1"
        );
        assert_eq!(
            set_path(&mut v, "fetcher.slots", json!(2)).unwrap_err(),
            "field path `fetcher.slots` does not exist: no field `fetcher`"
        );
        assert!(set_path(&mut v, "a[x]", json!(1)).is_err());
    }

    #[test]
    fn shards_partition_cells() {
        let shards: Vec<Shard> = (1..=3)
            .map(|i| Shard::parse(&format!("{i}/3")).unwrap())
            .collect();
        for cell in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.owns(cell)).count(), 1);
        }
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert!(Shard::parse("x").is_err());
    }

    #[test]
    fn shards_from_slurm_and_kubernetes() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(a, _)| *a == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = Shard::from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "4"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
            ]),
            None,
        );
        assert_eq!(s.unwrap(), Some(Shard { index: 5, count: 8 }));
        let s = Shard::from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "4"),
            ]),
            None,
        );
        assert_eq!(s.unwrap(), Some(Shard { index: 3, count: 4 }));
        let s = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "0")]), Some(5));
        assert_eq!(s.unwrap(), Some(Shard { index: 1, count: 5 }));
        assert!(Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "0")]), None).is_err());
        assert_eq!(Shard::from_env(env(&[]), None).unwrap(), None);
    }
}
