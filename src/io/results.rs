//! Sweep results on disk: `results.jsonl`, `results.csv` and `manifest.json` in one directory.
//!
//! The manifest is the commit point. A write replaces `results.jsonl`, then `results.csv`,
//! then `manifest.json`, each atomically (temporary file, fsync, rename, directory fsync), so
//! a process killed at any instant leaves whole files, and the manifest names exactly the
//! cells whose rows are committed, with a checksum of each cell's rows in each data file.
//! A data file may hold one more batch than the manifest commits (the kill came between the
//! renames): readers ignore such rows and the next write drops them. Rows edited or
//! corrupted by hand fail their checksum, and the error names the file and the row.
//!
//! Rows are kept in cell enumeration order, so a resumed or merged sweep is byte-identical to
//! an uninterrupted single run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::io::input::read_text;
use crate::io::output::{remove_temp_files, sync_dir, write_atomic};
use crate::io::report::PolicyRow;

/// File names inside a results directory.
pub const RESULTS_JSONL: &str = "results.jsonl";
/// CSV results.
pub const RESULTS_CSV: &str = "results.csv";
/// Manifest.
pub const MANIFEST: &str = "manifest.json";

/// The three files of a results directory.
pub const FILES: [&str; 3] = [RESULTS_JSONL, RESULTS_CSV, MANIFEST];

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
    /// The committed cells, in enumeration order, with a checksum of their rows in each data
    /// file. Absent in manifests written before checksums existed (their rows are trusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed: Option<Vec<CellChecksum>>,
}

/// A committed cell and the checksums of its rows: the first 16 hex digits of the SHA-256 of
/// the cell's lines in `results.jsonl` and of its records in `results.csv`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellChecksum {
    /// Cell id.
    pub cell: String,
    /// Checksum of the cell's `results.jsonl` lines.
    pub jsonl: String,
    /// Checksum of the cell's `results.csv` records.
    pub csv: String,
}

/// The rows of one finished cell, with their JSON Lines and CSV text rendered and
/// checksummed once (the files and the manifest are rewritten after every batch, so
/// rendering or hashing every row each time would make a long sweep quadratic in CPU as well
/// as in bytes: hashing alone was 7 % of the bench sweep's instructions).
#[derive(Clone, Debug, PartialEq)]
struct CellRows {
    values: Vec<Value>,
    jsonl: String,
    csv: String,
    /// The cell's id and the checksums of `jsonl` and `csv`.
    sum: CellChecksum,
}

impl CellRows {
    fn new(id: &str, values: Vec<Value>, jsonl: String, csv: String) -> Self {
        CellRows {
            sum: CellChecksum {
                cell: id.to_string(),
                jsonl: checksum(jsonl.as_bytes()),
                csv: checksum(csv.as_bytes()),
            },
            values,
            jsonl,
            csv,
        }
    }
}

/// The rows of finished cells, by cell index.
#[derive(Clone, Debug, Default)]
pub struct Results {
    axes: Vec<String>,
    metrics: Vec<String>,
    rows: BTreeMap<usize, CellRows>,
}

/// A results directory that cannot be read (bad input) or written (a failure).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultsError {
    /// Missing, malformed, or inconsistent with its manifest.
    #[error("{path}: {message}")]
    Invalid {
        /// The file or directory.
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The operating system refused a write.
    #[error("{path}: {message}")]
    Write {
        /// The file or directory.
        path: String,
        /// The OS error.
        message: String,
    },
}

impl ResultsError {
    /// True for problems with the input (exit code 2) rather than failures to write.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, ResultsError::Invalid { .. })
    }
}

fn invalid(path: &Path, message: impl Into<String>) -> ResultsError {
    ResultsError::Invalid {
        path: path.display().to_string(),
        message: message.into(),
    }
}

fn write_err(path: &Path, message: impl Into<String>) -> ResultsError {
    ResultsError::Write {
        path: path.display().to_string(),
        message: message.into(),
    }
}

fn checksum(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// One output row: cell id, axis values, then the policy's metrics.
pub fn row_value(cell: &str, coords: &[(String, Value)], row: &PolicyRow) -> Value {
    let mut m = Map::new();
    m.insert("cell".into(), Value::String(cell.to_string()));
    let axes: Map<String, Value> = coords.iter().cloned().collect();
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

/// A cell's rows as found in one data file.
struct Found {
    /// 1-based line (JSONL) or row (CSV, the header is row 1) of the cell's first row.
    at: usize,
    /// The exact bytes of the cell's rows.
    text: String,
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

    /// Records the rows of the finished cell `id` at enumeration position `index`.
    pub fn insert(&mut self, index: usize, id: &str, rows: Vec<Value>) {
        let mut jsonl = String::new();
        for r in &rows {
            jsonl.push_str(&r.to_string());
            jsonl.push('\n');
        }
        let csv = self.csv_rows(&rows).unwrap_or_default();
        self.rows.insert(index, CellRows::new(id, rows, jsonl, csv));
    }

    /// Adds every cell of `other` this one lacks; a cell both hold must have equal rows, else
    /// its index is returned.
    pub fn absorb(&mut self, other: Results) -> Result<Vec<usize>, usize> {
        let mut duplicated = Vec::new();
        for (i, rows) in other.rows {
            match self.rows.get(&i) {
                Some(existing) if existing.values != rows.values => return Err(i),
                Some(_) => duplicated.push(i),
                None => {
                    self.rows.insert(i, rows);
                }
            }
        }
        Ok(duplicated)
    }

    /// Enumeration positions of the finished cells, in order.
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.rows.keys().copied()
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

    fn header(&self) -> Vec<String> {
        let mut header = vec!["cell".to_string()];
        header.extend(self.axes.iter().cloned());
        header.extend(self.metrics.iter().cloned());
        header
    }

    /// The CSV text: `cell`, the axes, then the metric columns.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.header())?;
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        let mut s = String::from_utf8(bytes).expect("csv of utf-8 is utf-8");
        for c in self.rows.values() {
            s.push_str(&c.csv);
        }
        Ok(s)
    }

    /// The checksums of every cell's rows, in enumeration order.
    pub fn checksums(&self) -> Vec<CellChecksum> {
        self.rows.values().map(|c| c.sum.clone()).collect()
    }

    /// Writes the three files, the manifest last (the commit point): `manifest`'s
    /// `cells_done`, `complete` and `committed` are set from these rows. Temporary files an
    /// interrupted earlier write left behind are deleted.
    pub fn write(&self, dir: &Path, manifest: &Manifest) -> Result<(), ResultsError> {
        std::fs::create_dir_all(dir).map_err(|e| write_err(dir, format!("cannot create: {e}")))?;
        let csv = self
            .to_csv()
            .map_err(|e| write_err(&dir.join(RESULTS_CSV), e.to_string()))?;
        let mut m = manifest.clone();
        m.cells_done = self.len();
        m.complete = self.len() == m.cells_in_shard;
        m.committed = Some(self.checksums());
        let mut man = serde_json::to_string_pretty(&m).expect("manifest serialises");
        man.push('\n');
        for (name, text) in [
            (RESULTS_JSONL, self.to_jsonl()),
            (RESULTS_CSV, csv),
            (MANIFEST, man),
        ] {
            let p = dir.join(name);
            write_atomic(&p, text.as_bytes())
                .map_err(|e| write_err(&p, format!("cannot write: {e}")))?;
            sync_dir(dir).map_err(|e| write_err(dir, format!("cannot sync: {e}")))?;
        }
        remove_temp_files(dir, &FILES)
            .map_err(|e| write_err(dir, format!("cannot remove temporary files: {e}")))?;
        Ok(())
    }

    /// Reads a results directory: its manifest and the rows it commits, each cell's rows
    /// checked against the manifest's checksums in both data files. Rows of cells the
    /// manifest does not commit (a batch a kill interrupted) are left out.
    pub fn read(dir: &Path) -> Result<(Manifest, Results), ResultsError> {
        let mp = dir.join(MANIFEST);
        let text = read_text(&mp).map_err(|e| invalid(&mp, e.reason()))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| invalid(&mp, format!("not a specsim manifest: {e}")))?;
        let index: BTreeMap<&str, usize> = manifest
            .cell_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let rp = dir.join(RESULTS_JSONL);
        let text = read_text(&rp).map_err(|e| invalid(&rp, e.reason()))?;
        let mut results = Results::new(&manifest.axes);
        let mut jsonl_cells: BTreeMap<String, Found> = BTreeMap::new();
        let mut current: Option<(usize, String, Vec<Value>, Found)> = None;
        let mut groups = Vec::new();
        for (n, line) in text.split_inclusive('\n').enumerate() {
            let v: Value = serde_json::from_str(line)
                .map_err(|e| invalid(&rp, format!("line {}: not JSON: {e}", n + 1)))?;
            let id = v["cell"]
                .as_str()
                .ok_or_else(|| invalid(&rp, format!("line {}: missing field `cell`", n + 1)))?
                .to_string();
            let &i = index.get(id.as_str()).ok_or_else(|| {
                invalid(
                    &rp,
                    format!("line {}: cell {id} is not a cell of this sweep", n + 1),
                )
            })?;
            match &mut current {
                Some((ci, _, rows, found)) if *ci == i => {
                    rows.push(v);
                    found.text.push_str(line);
                }
                _ => {
                    groups.extend(current.take());
                    let found = Found {
                        at: n + 1,
                        text: line.to_string(),
                    };
                    current = Some((i, id, vec![v], found));
                }
            }
        }
        groups.extend(current);
        let committed = manifest.committed.as_ref().map(|c| {
            c.iter()
                .map(|x| (x.cell.as_str(), x))
                .collect::<BTreeMap<&str, &CellChecksum>>()
        });
        for (i, id, rows, found) in groups {
            if let Some(prev) = jsonl_cells.get(&id) {
                return Err(invalid(
                    &rp,
                    format!(
                        "line {}: cell {id} again (its rows start on line {}): rows were moved or copied by hand; restore the file or rerun the sweep into a new --out",
                        found.at, prev.at
                    ),
                ));
            }
            let keep = match &committed {
                None => true,
                Some(c) => match c.get(id.as_str()) {
                    None => false,
                    Some(sum) => {
                        if checksum(found.text.as_bytes()) != sum.jsonl {
                            return Err(corrupted(&rp, "line", found.at, &id));
                        }
                        true
                    }
                },
            };
            if keep {
                results.insert(i, &id, rows);
            }
            jsonl_cells.insert(id, found);
        }
        if let Some(c) = &manifest.committed {
            for sum in c {
                if !jsonl_cells.contains_key(&sum.cell) {
                    return Err(deleted(&rp, &sum.cell));
                }
            }
            let cp = dir.join(RESULTS_CSV);
            let csv_cells = read_csv_cells(&cp, &results.header())?;
            let mut seen = BTreeSet::new();
            for sum in c {
                let found = csv_cells
                    .get(&sum.cell)
                    .ok_or_else(|| deleted(&cp, &sum.cell))?;
                if checksum(found.text.as_bytes()) != sum.csv {
                    return Err(corrupted(&cp, "row", found.at, &sum.cell));
                }
                seen.insert(sum.cell.as_str());
            }
            if manifest.cells_done != c.len() {
                return Err(invalid(
                    &mp,
                    format!(
                        "cells_done is {} but {} cells are committed: the manifest was edited by hand; rerun the sweep into a new --out",
                        manifest.cells_done,
                        c.len()
                    ),
                ));
            }
        }
        Ok((manifest, results))
    }
}

fn corrupted(file: &Path, unit: &str, at: usize, cell: &str) -> ResultsError {
    invalid(
        file,
        format!(
            "{unit} {at}: the rows of cell {cell} differ from the ones {MANIFEST} committed (checksum mismatch): edited or corrupted by hand? Restore the file, or rerun the sweep into a new --out"
        ),
    )
}

fn deleted(file: &Path, cell: &str) -> ResultsError {
    invalid(
        file,
        format!(
            "cell {cell} is committed in {MANIFEST} but has no rows here: deleted by hand? Restore the file, or rerun the sweep into a new --out"
        ),
    )
}

/// The records of each cell of a `results.csv`, with the exact bytes of each cell's
/// consecutive records.
fn read_csv_cells(path: &Path, header: &[String]) -> Result<BTreeMap<String, Found>, ResultsError> {
    let text = read_text(path).map_err(|e| invalid(path, e.reason()))?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let got = r
        .headers()
        .map_err(|e| invalid(path, format!("row 1: not CSV: {e}")))?
        .clone();
    if got.iter().ne(header.iter().map(String::as_str)) {
        return Err(invalid(
            path,
            "row 1: the header is not the columns this sweep writes (cell, the axes, the metrics): edited by hand? Restore the file, or rerun the sweep into a new --out",
        ));
    }
    let mut cells: BTreeMap<String, Found> = BTreeMap::new();
    let mut record = csv::ByteRecord::new();
    let mut start = r.position().byte() as usize;
    let mut row = 1;
    let mut current: Option<(String, Found)> = None;
    loop {
        let more = r
            .read_byte_record(&mut record)
            .map_err(|e| invalid(path, format!("row {}: not CSV: {e}", row + 1)))?;
        if !more {
            break;
        }
        row += 1;
        let end = r.position().byte() as usize;
        let bytes = &text[start..end];
        start = end;
        let id = String::from_utf8_lossy(record.get(0).unwrap_or_default()).into_owned();
        match &mut current {
            Some((c, found)) if *c == id => found.text.push_str(bytes),
            _ => {
                if let Some((c, found)) = current.take() {
                    close_cell(&mut cells, c, found, path)?;
                }
                current = Some((
                    id,
                    Found {
                        at: row,
                        text: bytes.to_string(),
                    },
                ));
            }
        }
    }
    if let Some((c, found)) = current {
        close_cell(&mut cells, c, found, path)?;
    }
    Ok(cells)
}

/// Files the consecutive records of cell `c`; a cell whose records appeared before, apart
/// from these, is an error.
fn close_cell(
    cells: &mut BTreeMap<String, Found>,
    c: String,
    found: Found,
    path: &Path,
) -> Result<(), ResultsError> {
    if let Some(prev) = cells.get(&c) {
        return Err(invalid(
            path,
            format!(
                "row {}: cell {c} again (its rows start on row {}): rows were moved or copied by hand; restore the file or rerun the sweep into a new --out",
                found.at, prev.at
            ),
        ));
    }
    cells.insert(c, found);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(ids: &[&str]) -> Manifest {
        Manifest {
            tool: "specsim".into(),
            version: "0".into(),
            scenario: "t".into(),
            scenario_hash: "h".into(),
            axes: vec!["width".into()],
            cells_total: ids.len(),
            shard: "1/1".into(),
            cells_in_shard: ids.len(),
            cells_done: 0,
            complete: false,
            cell_ids: ids.iter().map(|s| s.to_string()).collect(),
            committed: None,
        }
    }

    fn row(cell: &str, w: u32, policy: &str) -> Value {
        json!({"cell": cell, "axes": {"width": w}, "policy": policy, "iter_latency_s": 1.5})
    }

    fn written() -> (tempfile::TempDir, Results) {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Results::new(&["width".to_string()]);
        r.insert(
            0,
            "aa",
            vec![row("aa", 1, "none"), row("aa", 1, "speccache")],
        );
        r.insert(
            1,
            "bb",
            vec![row("bb", 3, "none"), row("bb", 3, "speccache")],
        );
        r.write(dir.path(), &manifest(&["aa", "bb", "cc"])).unwrap();
        (dir, r)
    }

    #[test]
    fn written_results_read_back_with_their_checksums() {
        let (dir, r) = written();
        let (m, back) = Results::read(dir.path()).unwrap();
        assert_eq!(m.cells_done, 2);
        assert!(!m.complete);
        assert_eq!(m.committed.as_ref().unwrap().len(), 2);
        assert_eq!(back.to_jsonl(), r.to_jsonl());
        assert_eq!(back.to_csv().unwrap(), r.to_csv().unwrap());
    }

    #[test]
    fn a_row_edited_by_hand_is_named_by_file_and_row() {
        let (dir, _) = written();
        let p = dir.path().join(RESULTS_CSV);
        let text = std::fs::read_to_string(&p).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[3] = lines[3].replace("1.5", "0.5");
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        let e = Results::read(dir.path()).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "{}: row 4: the rows of cell bb differ from the ones manifest.json committed",
                p.display()
            )),
            "{e}"
        );
        let (dir, _) = written();
        let p = dir.path().join(RESULTS_JSONL);
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replacen("1.5", "2.5", 1)).unwrap();
        let e = Results::read(dir.path()).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "{}: line 1: the rows of cell aa differ",
                p.display()
            )),
            "{e}"
        );
    }

    #[test]
    fn deleted_rows_and_uncommitted_rows() {
        let (dir, _) = written();
        let p = dir.path().join(RESULTS_JSONL);
        let text = std::fs::read_to_string(&p).unwrap();
        let kept: String = text.split_inclusive('\n').take(2).collect();
        std::fs::write(&p, &kept).unwrap();
        let e = Results::read(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("cell bb is committed in manifest.json but has no rows here"),
            "{e}"
        );
        // Rows of a cell the manifest does not commit (a kill between renames) are ignored.
        let (dir, _) = written();
        let p = dir.path().join(RESULTS_JSONL);
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(&(row("cc", 5, "none").to_string() + "\n"));
        std::fs::write(&p, text).unwrap();
        let (m, r) = Results::read(dir.path()).unwrap();
        assert_eq!((m.cells_done, r.len()), (2, 2));
        assert!(!r.has(2));
    }
}
