//! Sweep results on disk: `results.jsonl`, `results.csv` and `manifest.json` in one directory.
//!
//! Every write replaces the files atomically (temporary file, fsync, rename), so a sweep that
//! is killed leaves the results of every finished batch and never a torn line. Rows are kept
//! in cell enumeration order, so a resumed or merged sweep is byte-identical to an
//! uninterrupted single run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::io::output::write_atomic;
use crate::io::report::PolicyRow;
use crate::sweep::{Cell, Shard};

/// File names inside a results directory.
pub const RESULTS_JSONL: &str = "results.jsonl";
/// CSV results.
pub const RESULTS_CSV: &str = "results.csv";
/// Manifest.
pub const MANIFEST: &str = "manifest.json";

/// What a results directory holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `specsim`.
    pub tool: String,
    /// Tool version; shards of different versions are never merged.
    pub version: String,
    /// Scenario name.
    pub scenario: String,
    /// Hash of the scenario file (sweep included).
    pub scenario_hash: String,
    /// Axis paths, in column order.
    pub axes: Vec<String>,
    /// Cells in the whole sweep.
    pub cells_total: usize,
    /// This directory's shard, `I/N`.
    pub shard: String,
    /// Cells this shard must run.
    pub cells_in_shard: usize,
    /// Cells finished.
    pub cells_done: usize,
    /// Whether every cell of the shard is done.
    pub complete: bool,
    /// Identifiers of every cell of the sweep, in enumeration order.
    pub cell_ids: Vec<String>,
}

/// The rows of one finished cell, with their JSON Lines and CSV text rendered once (the
/// files are rewritten after every batch, so rendering every row each time would make a
/// long sweep quadratic in CPU as well as in bytes).
#[derive(Clone, Debug, PartialEq)]
struct CellRows {
    values: Vec<Value>,
    jsonl: String,
    csv: String,
}

/// The rows of finished cells, by cell index.
#[derive(Clone, Debug, Default)]
pub struct Results {
    axes: Vec<String>,
    metrics: Vec<String>,
    rows: BTreeMap<usize, CellRows>,
}

/// A results directory that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ResultsError {
    /// The file or directory.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: &Path, message: impl Into<String>) -> ResultsError {
    ResultsError {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// One output row: cell id, axis values, then the policy's metrics.
pub fn row_value(cell: &Cell, row: &PolicyRow) -> Value {
    let mut m = Map::new();
    m.insert("cell".into(), Value::String(cell.id.clone()));
    let axes: Map<String, Value> = cell.coords.iter().cloned().collect();
    m.insert("axes".into(), Value::Object(axes));
    if let Value::Object(fields) = serde_json::to_value(row).expect("row serialises") {
        m.extend(fields);
    }
    Value::Object(m)
}

fn csv_field(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The metric columns: every field of a policy row, in order.
fn metric_names() -> Vec<String> {
    match serde_json::to_value(PolicyRow::default()) {
        Ok(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

impl Results {
    /// No cells yet, for a sweep with these axis columns.
    pub fn new(axes: &[String]) -> Self {
        Results {
            axes: axes.to_vec(),
            metrics: metric_names(),
            rows: BTreeMap::new(),
        }
    }

    /// Number of finished cells.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no cell is finished.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether the cell at `index` is finished.
    pub fn has(&self, index: usize) -> bool {
        self.rows.contains_key(&index)
    }

    /// Records a finished cell's rows.
    pub fn insert(&mut self, index: usize, rows: Vec<Value>) {
        let mut jsonl = String::new();
        for r in &rows {
            jsonl.push_str(&r.to_string());
            jsonl.push('\n');
        }
        let csv = self.csv_rows(&rows).unwrap_or_default();
        self.rows.insert(
            index,
            CellRows {
                values: rows,
                jsonl,
                csv,
            },
        );
    }

    /// Every row in cell order.
    pub fn rows(&self) -> impl Iterator<Item = &Value> {
        self.rows.values().flat_map(|c| c.values.iter())
    }

    /// The JSON Lines text.
    pub fn to_jsonl(&self) -> String {
        self.rows.values().map(|c| c.jsonl.as_str()).collect()
    }

    fn csv_rows(&self, rows: &[Value]) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in rows {
            let mut rec = vec![csv_field(&r["cell"])];
            rec.extend(self.axes.iter().map(|a| csv_field(&r["axes"][a])));
            rec.extend(self.metrics.iter().map(|k| csv_field(&r[k])));
            w.write_record(&rec)?;
        }
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        Ok(String::from_utf8(bytes).expect("csv of utf-8 is utf-8"))
    }

    /// The CSV text: `cell`, the axes, then the metric columns.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["cell".to_string()];
        header.extend(self.axes.iter().cloned());
        header.extend(self.metrics.iter().cloned());
        w.write_record(&header)?;
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        let mut s = String::from_utf8(bytes).expect("csv of utf-8 is utf-8");
        for c in self.rows.values() {
            s.push_str(&c.csv);
        }
        Ok(s)
    }

    /// Writes the three files atomically.
    pub fn write(&self, dir: &Path, manifest: &Manifest) -> Result<(), ResultsError> {
        std::fs::create_dir_all(dir).map_err(|e| err(dir, format!("cannot create: {e}")))?;
        let csv = self
            .to_csv()
            .map_err(|e| err(&dir.join(RESULTS_CSV), e.to_string()))?;
        let mut man = serde_json::to_string_pretty(manifest).expect("manifest serialises");
        man.push('\n');
        for (name, text) in [
            (RESULTS_JSONL, self.to_jsonl()),
            (RESULTS_CSV, csv),
            (MANIFEST, man),
        ] {
            let p = dir.join(name);
            write_atomic(&p, text.as_bytes()).map_err(|e| err(&p, format!("cannot write: {e}")))?;
        }
        Ok(())
    }

    /// Reads a results directory: its manifest and rows, grouped by cell.
    pub fn read(dir: &Path) -> Result<(Manifest, Results, Vec<String>), ResultsError> {
        let mp = dir.join(MANIFEST);
        let text =
            std::fs::read_to_string(&mp).map_err(|e| err(&mp, format!("cannot read: {e}")))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| err(&mp, format!("not a specsim manifest: {e}")))?;
        let index: BTreeMap<&str, usize> = manifest
            .cell_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let rp = dir.join(RESULTS_JSONL);
        let text =
            std::fs::read_to_string(&rp).map_err(|e| err(&rp, format!("cannot read: {e}")))?;
        let mut results = Results::new(&manifest.axes);
        let mut seen_ids = Vec::new();
        let mut current: Option<(usize, Vec<Value>)> = None;
        for (n, line) in text.lines().enumerate() {
            let v: Value = serde_json::from_str(line)
                .map_err(|e| err(&rp, format!("line {}: not JSON: {e}", n + 1)))?;
            let id = v["cell"]
                .as_str()
                .ok_or_else(|| err(&rp, format!("line {}: missing field `cell`", n + 1)))?
                .to_string();
            let &i = index.get(id.as_str()).ok_or_else(|| {
                err(
                    &rp,
                    format!("line {}: cell {id} is not a cell of this sweep", n + 1),
                )
            })?;
            match &mut current {
                Some((ci, rows)) if *ci == i => rows.push(v),
                _ => {
                    if let Some((ci, rows)) = current.take() {
                        results.insert(ci, rows);
                    }
                    seen_ids.push(id);
                    current = Some((i, vec![v]));
                }
            }
        }
        if let Some((ci, rows)) = current {
            results.insert(ci, rows);
        }
        Ok((manifest, results, seen_ids))
    }
}

/// The manifest of `shard` of a sweep.
pub fn manifest(
    scenario: &str,
    scenario_hash: &str,
    axes: &[String],
    cells: &[Cell],
    shard: Shard,
    done: usize,
) -> Manifest {
    let in_shard = cells.iter().filter(|c| shard.owns(c.index)).count();
    Manifest {
        tool: "specsim".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: scenario.to_string(),
        scenario_hash: scenario_hash.to_string(),
        axes: axes.to_vec(),
        cells_total: cells.len(),
        shard: shard.to_string(),
        cells_in_shard: in_shard,
        cells_done: done,
        complete: done == in_shard,
        cell_ids: cells.iter().map(|c| c.id.clone()).collect(),
    }
}

/// The outcome of merging shard directories.
#[derive(Debug)]
pub struct Merged {
    /// The merged manifest (as an unsharded run's).
    pub manifest: Manifest,
    /// Every row.
    pub results: Results,
    /// Cell ids no shard had.
    pub missing: Vec<String>,
    /// Cell ids found in more than one shard (kept once if identical).
    pub duplicated: Vec<String>,
}

/// Joins shard outputs; refuses different scenarios or tool versions, and conflicting rows.
pub fn merge(dirs: &[PathBuf]) -> Result<Merged, ResultsError> {
    let mut first: Option<(PathBuf, Manifest)> = None;
    let mut all: Option<Results> = None;
    let mut duplicated = Vec::new();
    for d in dirs {
        let (m, r, _) = Results::read(d)?;
        if let Some((fp, f)) = &first {
            if m.scenario_hash != f.scenario_hash {
                return Err(err(d, format!(
                    "is a shard of a different scenario (hash {}) than {} (hash {}): refusing to merge",
                    m.scenario_hash, fp.display(), f.scenario_hash)));
            }
            if m.version != f.version {
                return Err(err(
                    d,
                    format!(
                        "was written by specsim {} but {} by specsim {}: refusing to merge",
                        m.version,
                        fp.display(),
                        f.version
                    ),
                ));
            }
        } else {
            first = Some((d.clone(), m.clone()));
        }
        let all = all.get_or_insert_with(|| Results::new(&m.axes));
        for (i, rows) in r.rows {
            match all.rows.get(&i) {
                Some(existing) if existing.values != rows.values => {
                    return Err(err(
                        d,
                        format!(
                            "cell {} differs from the same cell in another shard",
                            m.cell_ids[i]
                        ),
                    ));
                }
                Some(_) => duplicated.push(m.cell_ids[i].clone()),
                None => {
                    all.rows.insert(i, rows);
                }
            }
        }
    }
    let (Some((_, f)), Some(all)) = (first, all) else {
        return Err(ResultsError {
            path: "merge".into(),
            message: "no result directories given".into(),
        });
    };
    let missing: Vec<String> = f
        .cell_ids
        .iter()
        .enumerate()
        .filter(|(i, _)| !all.has(*i))
        .map(|(_, id)| id.clone())
        .collect();
    let manifest = Manifest {
        shard: Shard::ALL.to_string(),
        cells_in_shard: f.cells_total,
        cells_done: all.len(),
        complete: missing.is_empty(),
        ..f
    };
    Ok(Merged {
        manifest,
        results: all,
        missing,
        duplicated,
    })
}
