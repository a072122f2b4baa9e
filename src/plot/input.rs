//! Reading what figures draw: run reports (`specsim run --out`) and sweep results
//! (`results.jsonl` of `specsim sweep`). Plots never rerun a simulation.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::PlotError;
use crate::io::report::{Distribution, PolicyRow, Report};

/// The fields of a policy row that figures read (a subset of [`PolicyRow`], same names and
/// units). JSON has no NaN: a `null` written for an undefined interval (one replication)
/// reads back as NaN, and is then not drawn.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PlotRow {
    pub policy: String,
    #[serde(deserialize_with = "nan_if_null")]
    pub iter_latency_s: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub iter_latency_s_ci_lo: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub iter_latency_s_ci_hi: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub target_s: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub stages_s: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub exposed_web_s: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub hidden_web_s: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub hit_rate: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub hit_rate_ci_lo: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub hit_rate_ci_hi: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub full_hit_rate: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub partial_hit_rate: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub speedup: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub speedup_ci_lo: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub speedup_ci_hi: f64,
    #[serde(deserialize_with = "required_option")]
    pub web_reduction: Option<f64>,
    #[serde(deserialize_with = "required_option")]
    pub web_reduction_ci_lo: Option<f64>,
    #[serde(deserialize_with = "required_option")]
    pub web_reduction_ci_hi: Option<f64>,
}

fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// An `Option` that must be present (as a number or `null`): a missing column is an error.
fn required_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)
}

impl From<&PolicyRow> for PlotRow {
    fn from(r: &PolicyRow) -> Self {
        PlotRow {
            policy: r.policy.clone(),
            iter_latency_s: r.iter_latency_s,
            iter_latency_s_ci_lo: r.iter_latency_s_ci_lo,
            iter_latency_s_ci_hi: r.iter_latency_s_ci_hi,
            target_s: r.target_s,
            stages_s: r.stages_s,
            exposed_web_s: r.exposed_web_s,
            hidden_web_s: r.hidden_web_s,
            hit_rate: r.hit_rate,
            hit_rate_ci_lo: r.hit_rate_ci_lo,
            hit_rate_ci_hi: r.hit_rate_ci_hi,
            full_hit_rate: r.full_hit_rate,
            partial_hit_rate: r.partial_hit_rate,
            speedup: r.speedup,
            speedup_ci_lo: r.speedup_ci_lo,
            speedup_ci_hi: r.speedup_ci_hi,
            web_reduction: r.web_reduction,
            web_reduction_ci_lo: r.web_reduction_ci_lo,
            web_reduction_ci_hi: r.web_reduction_ci_hi,
        }
    }
}

/// What the report figures need of a [`Report`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PlotReport {
    pub scenario: String,
    pub seed: u64,
    pub replications: u32,
    pub sessions: u32,
    pub policies: Vec<PlotRow>,
    pub distributions: Vec<Distribution>,
}

impl From<&Report> for PlotReport {
    fn from(r: &Report) -> Self {
        PlotReport {
            scenario: r.scenario.clone(),
            seed: r.seed,
            replications: r.replications,
            sessions: r.sessions,
            policies: r.policies.iter().map(PlotRow::from).collect(),
            distributions: r.distributions.clone(),
        }
    }
}

impl PlotReport {
    /// Checks that there is something to draw; `source` names the input in errors.
    pub fn validate(&self, source: &str) -> Result<(), PlotError> {
        if self.policies.is_empty() {
            return Err(PlotError::input(source, "the report has no policy rows"));
        }
        for d in &self.distributions {
            for (name, v) in [
                ("iter_latency_percentiles_s", &d.iter_latency_percentiles_s),
                (
                    "session_latency_percentiles_s",
                    &d.session_latency_percentiles_s,
                ),
            ] {
                if v.len() != 101 {
                    return Err(PlotError::input(
                        source,
                        format!(
                            "distributions[{}].{name}: {} values, expected 101 (percentiles 0..=100)",
                            d.policy,
                            v.len()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The value of a sweep axis in one cell.
#[derive(Clone, Debug, PartialEq)]
pub enum AxisValue {
    Num(f64),
    Text(String),
}

impl AxisValue {
    /// The axis value of a JSON value, as `results.jsonl` records it: numbers and strings
    /// as themselves, anything else as a category named by its JSON.
    pub fn from_json(v: &serde_json::Value) -> AxisValue {
        match v {
            serde_json::Value::Number(n) => AxisValue::Num(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => AxisValue::Text(s.clone()),
            other => AxisValue::Text(other.to_string()),
        }
    }

    pub fn as_num(&self) -> Option<f64> {
        match self {
            AxisValue::Num(x) => Some(*x),
            AxisValue::Text(_) => None,
        }
    }
}

impl fmt::Display for AxisValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AxisValue::Num(x) => write!(f, "{}", super::frame::short_number(*x)),
            AxisValue::Text(s) => f.write_str(s),
        }
    }
}

/// A cell's axes in the order the file lists them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Axes(pub Vec<(String, AxisValue)>);

impl Axes {
    pub fn get(&self, path: &str) -> Option<&AxisValue> {
        self.0.iter().find(|(k, _)| k == path).map(|(_, v)| v)
    }
}

impl<'de> Deserialize<'de> for Axes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Axes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object mapping axis paths to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Axes, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, serde_json::Value>()? {
                    out.push((k, AxisValue::from_json(&v)));
                }
                Ok(Axes(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// One line of a sweep's `results.jsonl`: a cell's axes and one policy's row.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SweepRow {
    /// The cell's identifier (`specsim sweep` writes a 16-hex-digit hash; numbers are
    /// accepted too).
    #[serde(deserialize_with = "cell_id")]
    pub cell: String,
    pub axes: Axes,
    #[serde(flatten)]
    pub row: PlotRow,
}

impl SweepRow {
    /// A row from a sweep held in memory (what `specsim sweep --plots` passes).
    pub fn new(cell: impl Into<String>, axes: Vec<(String, AxisValue)>, row: &PolicyRow) -> Self {
        SweepRow {
            cell: cell.into(),
            axes: Axes(axes),
            row: PlotRow::from(row),
        }
    }
}

fn cell_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(de::Error::custom(format!(
            "cell: {other} is not a cell identifier (a string or a number)"
        ))),
    }
}

/// Rows of a sweep held in memory as JSON values (as `specsim sweep` builds them).
pub fn rows_from_values<'a>(
    values: impl IntoIterator<Item = &'a serde_json::Value>,
) -> Result<Vec<SweepRow>, PlotError> {
    let mut rows = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        let row: SweepRow = serde_json::from_value(v.clone())
            .map_err(|e| PlotError::input(format!("sweep row {}", i + 1), e.to_string()))?;
        rows.push(row);
    }
    normalise_axes(rows, "sweep rows")
}

/// Label of an axis a row does not set (a sweep case that leaves the base value).
pub const UNSET_AXIS: &str = "(base)";

/// Gives every row every axis, in order of first appearance: a row without an axis (sweep
/// cases may set different fields) gets [`UNSET_AXIS`]. Errors on no rows.
fn normalise_axes(mut rows: Vec<SweepRow>, shown: &str) -> Result<Vec<SweepRow>, PlotError> {
    if rows.is_empty() {
        return Err(PlotError::input(
            shown,
            "no rows: the file holds no results",
        ));
    }
    let mut names: Vec<String> = Vec::new();
    for r in &rows {
        for (k, _) in &r.axes.0 {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    for r in &mut rows {
        let axes = names
            .iter()
            .map(|k| {
                let v = r
                    .axes
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| AxisValue::Text(UNSET_AXIS.to_string()));
                (k.clone(), v)
            })
            .collect();
        r.axes = Axes(axes);
    }
    Ok(rows)
}

/// What a results path holds.
#[derive(Clone, Debug)]
pub enum Results {
    Report(PlotReport),
    Sweep(Vec<SweepRow>),
}

/// Reads a run report (JSON), a sweep directory or a sweep's `results.jsonl`.
pub fn read_results(path: &Path) -> Result<Results, PlotError> {
    let file: PathBuf = if path.is_dir() {
        path.join("results.jsonl")
    } else {
        path.to_path_buf()
    };
    let shown = file.display().to_string();
    if file.extension().is_some_and(|e| e == "csv") {
        return Err(PlotError::input(
            &shown,
            "plots read results.jsonl, not the CSV: pass the sweep directory or its results.jsonl",
        ));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| {
        PlotError::input(
            &shown,
            format!("cannot read: {e} (expected a run report JSON, a sweep directory or its results.jsonl)"),
        )
    })?;
    if text.trim().is_empty() {
        return Err(PlotError::input(&shown, "no rows: the file is empty"));
    }
    // A report is one JSON object with `policies`; a sweep is one object per line.
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text) {
        if map.contains_key("policies") || !map.contains_key("cell") {
            let de = &mut serde_json::Deserializer::from_str(&text);
            let report: PlotReport = serde_path_to_error::deserialize(de).map_err(|e| {
                let at = e.path().to_string();
                let inner = e.into_inner();
                PlotError::input(
                    &shown,
                    format!(
                        "not a run report: {}{inner} (write one with `specsim run --out FILE`)",
                        if at == "." {
                            String::new()
                        } else {
                            format!("{at}: ")
                        }
                    ),
                )
            })?;
            report.validate(&shown)?;
            return Ok(Results::Report(report));
        }
    }
    read_sweep_text(&text, &shown).map(Results::Sweep)
}

/// Parses the lines of a `results.jsonl`; `shown` names the file in errors.
pub fn read_sweep_text(text: &str, shown: &str) -> Result<Vec<SweepRow>, PlotError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: SweepRow = serde_json::from_str(line).map_err(|e| {
            PlotError::input(
                format!("{shown}:{}", i + 1),
                format!(
                    "{e} (each line holds `cell`, `axes` and every policy-row field, as `specsim sweep` writes)"
                ),
            )
        })?;
        rows.push(row);
    }
    normalise_axes(rows, shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_json(extra: &str) -> String {
        let mut fields = vec![r#""policy":"speccache""#.to_string()];
        for f in [
            "iter_latency_s",
            "iter_latency_s_ci_lo",
            "iter_latency_s_ci_hi",
            "target_s",
            "stages_s",
            "exposed_web_s",
            "hidden_web_s",
            "hit_rate",
            "hit_rate_ci_lo",
            "hit_rate_ci_hi",
            "full_hit_rate",
            "partial_hit_rate",
            "speedup",
            "speedup_ci_lo",
            "speedup_ci_hi",
            "web_reduction",
            "web_reduction_ci_lo",
        ] {
            fields.push(format!(r#""{f}":1.5"#));
        }
        fields.push(extra.to_string());
        format!(
            r#"{{"cell":0,"axes":{{"width":3,"cache.eviction":"lru"}},{}}}"#,
            fields.join(",")
        )
    }

    #[test]
    fn sweep_line_reads_axes_in_order_and_nulls_as_nan() {
        let rows = read_sweep_text(
            &row_json(r#""web_reduction_ci_hi":null,"speedup_extra":2"#),
            "r.jsonl",
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].axes.0[0].0, "width");
        assert_eq!(rows[0].axes.get("width"), Some(&AxisValue::Num(3.0)));
        assert_eq!(
            rows[0].axes.get("cache.eviction"),
            Some(&AxisValue::Text("lru".into()))
        );
        assert_eq!(rows[0].row.web_reduction_ci_hi, None);
        assert_eq!(rows[0].row.speedup, 1.5);
    }

    #[test]
    fn missing_field_names_line_and_field() {
        let text = format!(
            "{}\n{}\n",
            row_json(r#""web_reduction_ci_hi":1"#),
            row_json(r#""x":1"#)
        );
        let e = read_sweep_text(&text, "r.jsonl").unwrap_err().to_string();
        assert!(e.contains("r.jsonl:2"), "{e}");
        assert!(e.contains("web_reduction_ci_hi"), "{e}");
    }

    #[test]
    fn cell_ids_are_strings_and_missing_axes_are_base() {
        let a = row_json(r#""web_reduction_ci_hi":1"#)
            .replace(r#""cell":0"#, r#""cell":"d105700aee4e9529""#);
        let b = row_json(r#""web_reduction_ci_hi":1"#).replace(
            r#""axes":{"width":3,"cache.eviction":"lru"}"#,
            r#""axes":{"width":[1,2],"seed":7}"#,
        );
        let rows = read_sweep_text(&format!("{a}\n{b}\n"), "r.jsonl").unwrap();
        assert_eq!(rows[0].cell, "d105700aee4e9529");
        assert_eq!(rows[1].cell, "0");
        let names: Vec<&str> = rows[1].axes.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["width", "cache.eviction", "seed"]);
        assert_eq!(
            rows[1].axes.get("width"),
            Some(&AxisValue::Text("[1,2]".into()))
        );
        assert_eq!(
            rows[1].axes.get("cache.eviction"),
            Some(&AxisValue::Text(UNSET_AXIS.into()))
        );
        assert_eq!(
            rows[0].axes.get("seed"),
            Some(&AxisValue::Text(UNSET_AXIS.into()))
        );
    }

    #[test]
    fn empty_is_an_error() {
        let e = read_sweep_text("\n\n", "r.jsonl").unwrap_err().to_string();
        assert!(e.contains("no rows"), "{e}");
    }
}
