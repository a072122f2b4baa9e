//! Quantile tables: a CSV whose columns `p10`, `p25`, ... hold quantiles, one distribution
//! per row, other columns labelling the row. HTTP Archive publishes Speed Index this way
//! (`measure,client,date,p10,p25,p50,p75,p90,timestamp`, seconds).

use std::path::Path;

use super::{read_text, Dataset};
use crate::data::fit::samples::{csv_reader, DataError};

/// HTTP Archive's Speed Index percentiles (via rfordatascience/tidytuesday 2022-11-15).
pub const DATASET: Dataset = Dataset {
    name: "HTTP Archive Speed Index percentiles, 2022 (rfordatascience/tidytuesday 2022-11-15)",
    upstream: "https://github.com/rfordatascience/tidytuesday/tree/master/data/2022/2022-11-15",
    licence: "MIT (tidytuesday); data from HTTP Archive",
};

/// One row of a quantile table.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantileRow {
    /// Line in the file.
    pub line: usize,
    /// The non-quantile columns, `(header, value)`, in file order.
    pub labels: Vec<(String, String)>,
    /// `(probability, value)` pairs, in column order.
    pub points: Vec<(f64, f64)>,
}

impl QuantileRow {
    /// The value of label column `name`, if any.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The labels as `k=v` pairs (skipping `skip`).
    pub fn describe(&self, skip: &[&str]) -> String {
        self.labels
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `p10` -> 0.10, `p99.9` -> 0.999; `None` for other names or probabilities outside (0, 1).
fn probability(header: &str) -> Option<f64> {
    let rest = header
        .strip_prefix('p')
        .or_else(|| header.strip_prefix('P'))?;
    let pct: f64 = rest.parse().ok()?;
    (pct > 0.0 && pct < 100.0).then_some(pct / 100.0)
}

/// Reads a quantile table.
pub fn read(path: &Path) -> Result<Vec<QuantileRow>, DataError> {
    let text = read_text(path)?;
    let (mut rdr, headers) = csv_reader(path, &text)?;
    let probs: Vec<Option<f64>> = headers.iter().map(probability).collect();
    if probs.iter().flatten().count() < 2 {
        return Err(DataError::at(
            path,
            1,
            format!(
                "need at least 2 quantile columns named like p10, p50, p90; the header has: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            DataError::at(path, line, format!("invalid CSV: {e}"))
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let mut row = QuantileRow {
            line,
            labels: Vec::new(),
            points: Vec::new(),
        };
        for ((h, cell), p) in headers.iter().zip(rec.iter()).zip(&probs) {
            match p {
                Some(p) => {
                    let q: f64 = cell.parse().ok().filter(|q: &f64| q.is_finite() && *q > 0.0).ok_or_else(|| {
                        DataError::at(
                            path,
                            line,
                            format!("column `{h}`: `{cell}` is not a quantile value (allowed: a number > 0)"),
                        )
                    })?;
                    row.points.push((*p, q));
                }
                None => row.labels.push((h.to_string(), cell.to_string())),
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(DataError::file(path, "no data rows after the header"));
    }
    Ok(rows)
}

/// The latest row (largest `date` label) of `client`, HTTP Archive's layout.
pub fn latest<'a>(rows: &'a [QuantileRow], client: &str) -> Option<&'a QuantileRow> {
    rows.iter()
        .filter(|r| r.label("client") == Some(client))
        .max_by(|a, b| a.label("date").cmp(&b.label("date")))
}
