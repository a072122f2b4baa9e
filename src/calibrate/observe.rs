//! The observe file of `specsim calibrate`: what was observed (report fields per policy, with
//! an uncertainty) and which scenario fields to infer (field paths with ranges), parsed and
//! checked against the scenario. A live trace can stand in for the observations.
//!
//! ```json
//! {
//!   "observations": [
//!     {"name": "SpecCache hit rate", "policy": "speccache", "metric": "hit_rate",
//!      "value": 0.833, "sd": 0.012}
//!   ],
//!   "parameters": [
//!     {"name": "back-tracking", "path": "agent.back_prob", "min": 0, "max": 0.3}
//!   ]
//! }
//! ```
//! The format is documented in `docs/calibrate.md`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::io::input::read_text;
use crate::io::report::PolicyRow;
use crate::io::trace::{read_trace, TraceAction};
use crate::live::validate::live_measured;
use crate::scenario::problems::{index, Problems};
use crate::scenario::{Scenario, ScenarioFile};
use crate::sim::policy::Policy;
use crate::sweep::{set_path, SiteCache};

/// The observe file as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObserveFile {
    /// Free text for humans.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// What was observed.
    pub observations: Vec<ObservationSpec>,
    /// What to infer (more may come from `--param`).
    #[serde(default)]
    pub parameters: Vec<ParameterSpec>,
}

/// How an observed value constrains the simulated one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The simulated value should equal it (within the uncertainties).
    #[default]
    Equal,
    /// The simulated value should not exceed it ("up to").
    AtMost,
    /// The simulated value should not fall below it.
    AtLeast,
}

/// One observation as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservationSpec {
    /// Label (default: `policy metric`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The policy whose report row holds the metric.
    pub policy: String,
    /// A numeric field of the report's policy row (`docs/report.md`), or
    /// `reference_web_reduction`.
    pub metric: String,
    /// The observed value, in the report's unit (fractions for rates).
    pub value: f64,
    /// Its standard deviation (measurement error plus how far the model may be off), same
    /// unit; absent = 0: only the simulation's own uncertainty counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    /// `equal` (default), `at_most` or `at_least`.
    #[serde(default)]
    pub bound: Bound,
    /// Where the value comes from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// How a parameter's value is spread over a range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Evenly.
    #[default]
    Linear,
    /// Evenly in the logarithm (for factors and speeds).
    Log,
}

/// One parameter as written: exactly one of `path`, `set` and `multiply`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSpec {
    /// Label (default: the path).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The field set to the parameter's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Fields set to a coefficient times the value (`{"a[0]": 0.75, "a[1]": 1}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Map<String, Value>>,
    /// Fields multiplied by the value (their scenario value times it): a speed factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiply: Option<Vec<String>>,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// `linear` (default) or `log`.
    #[serde(default)]
    pub scale: Scale,
    /// Only this many evenly spaced values (in the scale), ends included. Fields that
    /// rebuild something large per value (the site's out-degree) need few levels: every
    /// distinct site of a wave is kept in memory while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<u32>,
    /// Whole numbers only.
    #[serde(default)]
    pub integer: bool,
    /// Why this range.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// A metric the calibration can compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Metric {
    /// A numeric field of the report's policy row.
    Row {
        /// Field name.
        field: String,
        /// Compared on the log scale (ratios of sums).
        log: bool,
        /// The row has `field_ci_lo` / `field_ci_hi`.
        ci: bool,
    },
    /// The web-overhead reduction as the reference code books it (see
    /// [`crate::calibrate::judge::reference_web_reduction`]).
    ReferenceWebReduction,
}

/// The name of the derived reference-booked reduction.
pub const REFERENCE_WEB_REDUCTION: &str = "reference_web_reduction";

/// Row fields compared on the log scale: ratios of sums with log-scale intervals.
const LOG_FIELDS: [&str; 3] = ["speedup", "web_reduction", "web_reduction_instant_prefetch"];

impl Metric {
    /// The metric named `name`, or `None` when the report has no such numeric field.
    pub fn parse(name: &str) -> Option<Metric> {
        if name == REFERENCE_WEB_REDUCTION {
            return Some(Metric::ReferenceWebReduction);
        }
        let fields = metric_fields();
        if !fields.iter().any(|f| f == name) {
            return None;
        }
        Some(Metric::Row {
            field: name.to_string(),
            log: LOG_FIELDS.contains(&name),
            ci: row_fields().iter().any(|f| *f == format!("{name}_ci_lo")),
        })
    }

    /// Compared on the log scale.
    pub fn is_log(&self) -> bool {
        match self {
            Metric::Row { log, .. } => *log,
            Metric::ReferenceWebReduction => true,
        }
    }

    /// The simulation reports an uncertainty for it.
    pub fn has_ci(&self) -> bool {
        match self {
            Metric::Row { ci, .. } => *ci,
            Metric::ReferenceWebReduction => true,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Metric::Row { field, .. } => field,
            Metric::ReferenceWebReduction => REFERENCE_WEB_REDUCTION,
        }
    }
}

fn row_fields() -> Vec<String> {
    match serde_json::to_value(PolicyRow::default()) {
        Ok(Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The report fields an observation may name: every numeric field of a policy row but the
/// interval bounds, then `reference_web_reduction`.
pub fn metric_fields() -> Vec<String> {
    let row = serde_json::to_value(PolicyRow::default()).unwrap_or(Value::Null);
    let mut out: Vec<String> = row
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| {
            (v.is_number() || v.is_null())
                && !k.ends_with("_ci_lo")
                && !k.ends_with("_ci_hi")
                && k.as_str() != "policy"
        })
        .map(|(k, _)| k.clone())
        .collect();
    out.push(REFERENCE_WEB_REDUCTION.to_string());
    out
}

/// A checked observation.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// Label.
    pub name: String,
    /// Policy whose row holds the metric.
    pub policy: Policy,
    /// The metric.
    pub metric: Metric,
    /// Observed value.
    pub value: f64,
    /// Its standard deviation (0 = exact).
    pub sd: f64,
    /// How it constrains the simulation.
    pub bound: Bound,
    /// Where it comes from.
    pub source: String,
}

/// How a parameter reaches the scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// Each field is set to coefficient times the value.
    Set(Vec<(String, f64)>),
    /// Each field is its scenario value times the value.
    Multiply(Vec<(String, f64)>),
}

/// A checked parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// Label.
    pub name: String,
    /// The fields it sets.
    pub target: Target,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Spacing.
    pub scale: Scale,
    /// Allowed values, evenly spaced, ends included.
    pub levels: Option<u32>,
    /// Whole numbers only.
    pub integer: bool,
}

impl Parameter {
    /// The field paths it sets.
    pub fn paths(&self) -> Vec<String> {
        match &self.target {
            Target::Set(v) | Target::Multiply(v) => v.iter().map(|(p, _)| p.clone()).collect(),
        }
    }

    /// The value at position `u` in [0, 1] of its range (snapped to its levels, rounded when
    /// integer).
    pub fn value_at(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let u = match self.levels {
            Some(l) if l >= 2 => (u * f64::from(l - 1)).round() / f64::from(l - 1),
            _ => u,
        };
        let x = match self.scale {
            Scale::Linear => self.min + u * (self.max - self.min),
            Scale::Log => (self.min.ln() + u * (self.max.ln() - self.min.ln())).exp(),
        };
        let x = x.clamp(self.min, self.max);
        if self.integer {
            x.round().clamp(self.min.ceil(), self.max.floor())
        } else {
            x
        }
    }

    /// The position in [0, 1] of `x` in its range.
    pub fn position(&self, x: f64) -> f64 {
        let u = match self.scale {
            Scale::Linear => (x - self.min) / (self.max - self.min),
            Scale::Log => (x.ln() - self.min.ln()) / (self.max.ln() - self.min.ln()),
        };
        u.clamp(0.0, 1.0)
    }

    /// The fields and the JSON values they take at value `x`.
    pub fn assign(&self, x: f64) -> Vec<(String, Value)> {
        let num = |v: f64| {
            if self.integer && v.fract() == 0.0 && v.abs() < 9.0e15 {
                Value::from(v as i64)
            } else {
                Value::from(v)
            }
        };
        match &self.target {
            Target::Set(v) => v.iter().map(|(p, c)| (p.clone(), num(c * x))).collect(),
            Target::Multiply(v) => v
                .iter()
                .map(|(p, base)| (p.clone(), Value::from(base * x)))
                .collect(),
        }
    }
}

/// The checked observations and parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Observe {
    /// Where they came from.
    pub source: String,
    /// The observe file's text (or a description of the trace), for the inputs' hash.
    pub text: String,
    /// Observations.
    pub observations: Vec<Observation>,
    /// Parameters.
    pub parameters: Vec<Parameter>,
}

/// A problem with the observations or parameters: the file (or flag) and every problem.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(file, problems))]
pub struct ObserveError {
    /// The observe file, trace or flag.
    pub file: String,
    /// Every problem, at its field path.
    pub problems: Vec<crate::scenario::problems::Problem>,
}

fn render(file: &str, problems: &[crate::scenario::problems::Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{file}: {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn fail(file: &str, path: impl Into<String>, message: impl Into<String>) -> ObserveError {
    let mut p = Problems::new();
    p.push(path, message);
    ObserveError {
        file: file.to_string(),
        problems: p.into_vec(),
    }
}

/// Parses `--param PATH=MIN:MAX[:log]`.
pub fn parse_param_flag(text: &str) -> Result<ParameterSpec, ObserveError> {
    let bad = |m: String| fail("--param", text, m);
    let (path, range) = text
        .split_once('=')
        .ok_or_else(|| bad("expected PATH=MIN:MAX or PATH=MIN:MAX:log".into()))?;
    let parts: Vec<&str> = range.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad("expected PATH=MIN:MAX or PATH=MIN:MAX:log".into()));
    }
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|_| bad(format!("`{s}` is not a number")))
    };
    let scale = match parts.get(2).map(|s| s.trim()) {
        None | Some("linear") => Scale::Linear,
        Some("log") => Scale::Log,
        Some(o) => return Err(bad(format!("scale `{o}`: expected linear or log"))),
    };
    Ok(ParameterSpec {
        name: String::new(),
        path: Some(path.trim().to_string()),
        set: None,
        multiply: None,
        min: num(parts[0])?,
        max: num(parts[1])?,
        scale,
        levels: None,
        integer: false,
        source: String::new(),
    })
}

/// The value at `path` (`drafts[0].accuracy.cumulative[2]`) of a scenario's JSON.
pub fn get_path<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut pointer = String::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        pointer.push('/');
        pointer.push_str(key);
        for idx in rest.split('[').skip(1) {
            pointer.push('/');
            pointer.push_str(idx.trim_end_matches(']'));
        }
    }
    root.pointer(&pointer)
}

/// The path of the field holding `path`'s field: `a.b[2]` → `a.b`, `a.b.c` → `a.b`; `None`
/// for a top-level field.
pub fn parent_path(path: &str) -> Option<&str> {
    let i = path.rfind(['.', '['])?;
    Some(&path[..i])
}

/// Reads the observations (an observe file, or a live trace: `.jsonl`) and adds the
/// parameters given as flags; checks everything against `base`, the scenario's JSON.
pub fn load(
    path: &Path,
    flags: &[ParameterSpec],
    base: &Value,
    scenario_source: &str,
    base_dir: Option<&Path>,
) -> Result<Observe, ObserveError> {
    let file = path.display().to_string();
    let is_trace = path.extension().is_some_and(|e| e == "jsonl");
    let (spec, text) = if is_trace {
        let spec = trace_observations(path)?;
        let text = serde_json::to_string(&spec).expect("observations serialise");
        (spec, text)
    } else {
        let text = read_text(path).map_err(|e| fail(&file, "file", e.reason()))?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        let spec: ObserveFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let at = e.path().to_string();
            let inner = e.into_inner();
            let at = if inner.is_syntax() || inner.is_eof() || at == "." {
                format!("line {} column {}", inner.line(), inner.column())
            } else {
                at
            };
            let mut m = inner.to_string();
            if let Some(i) = m.find(" at line ") {
                m.truncate(i);
            }
            fail(&file, at, m)
        })?;
        (spec, text)
    };
    let mut text = text;
    if !flags.is_empty() {
        text.push_str(&serde_json::to_string(flags).expect("flags serialise"));
    }
    check(&file, &spec, flags, base, scenario_source, base_dir, text)
}

/// The observations a live trace measured, for its policy: hit rate (binomial standard
/// error), mean iteration latency and exposed web time per iteration (standard errors of
/// the mean).
pub fn trace_observations(path: &Path) -> Result<ObserveFile, ObserveError> {
    let file = path.display().to_string();
    let trace = read_trace(path).map_err(|e| fail(&file, "trace", e.to_string()))?;
    let policy = trace.header.policy.clone().ok_or_else(|| {
        fail(
            &file,
            "header.policy",
            "missing: only traces written by `specsim live` record what they measured",
        )
    })?;
    let m = live_measured(&trace).map_err(|e| fail(&file, "trace", e.to_string()))?;
    let n = m.latencies.len();
    if n < 2 {
        return Err(fail(
            &file,
            "trace",
            format!("{n} iteration(s): at least 2 are needed to estimate an uncertainty"),
        ));
    }
    let mean_se = |xs: &[f64]| {
        let k = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / k;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0);
        (mean, (var / k).sqrt())
    };
    // Exposed web time per iteration: visits carry theirs, answers none.
    let mut exposed = m.exposed.clone();
    let answers = trace
        .sessions
        .iter()
        .flat_map(|s| s.iterations.iter())
        .filter(|(_, it)| it.action == TraceAction::Answer)
        .count();
    exposed.extend(std::iter::repeat_n(0.0, answers));
    let (lat, lat_se) = mean_se(&m.latencies);
    let (exp, exp_se) = mean_se(&exposed);
    let source = format!("measured in {file}");
    let obs = |metric: &str, value: f64, sd: f64| ObservationSpec {
        name: String::new(),
        policy: policy.clone(),
        metric: metric.into(),
        value,
        sd: Some(sd),
        bound: Bound::Equal,
        source: source.clone(),
    };
    let mut observations = vec![
        obs("iter_latency_s", lat, lat_se),
        obs("exposed_web_s", exp, exp_se),
    ];
    if policy != "none" && m.visits > 0 {
        let h = m.hit_rate();
        let se = (h * (1.0 - h) / m.visits as f64).sqrt();
        // A rate of exactly 0 or 1 has a zero binomial error: one visit's worth instead.
        let se = se.max(0.5 / m.visits as f64);
        observations.insert(0, obs("hit_rate", h, se));
    }
    Ok(ObserveFile {
        description: format!("measured by the live run in {file}"),
        observations,
        parameters: Vec::new(),
    })
}

fn check(
    file: &str,
    spec: &ObserveFile,
    flags: &[ParameterSpec],
    base: &Value,
    scenario_source: &str,
    base_dir: Option<&Path>,
    text: String,
) -> Result<Observe, ObserveError> {
    let mut p = Problems::new();
    let mut observations = Vec::new();
    if spec.observations.is_empty() {
        p.push("observations", "is empty: give at least one observation");
    }
    for (i, o) in spec.observations.iter().enumerate() {
        let at = index("observations", i);
        let policy = Policy::ALL.iter().copied().find(|x| x.name() == o.policy);
        if policy.is_none() {
            p.push(
                format!("{at}.policy"),
                format!(
                    "`{}` is not a policy (allowed: {})",
                    o.policy,
                    Policy::ALL.map(|x| x.name()).join(", ")
                ),
            );
        }
        let metric = Metric::parse(&o.metric);
        if metric.is_none() {
            p.push(
                format!("{at}.metric"),
                format!(
                    "`{}` is not a metric of the report (docs/report.md); allowed: {}",
                    o.metric,
                    metric_fields().join(", ")
                ),
            );
        }
        if !o.value.is_finite() {
            p.push(
                format!("{at}.value"),
                format!("must be finite, got {}", o.value),
            );
        }
        let sd = o.sd.unwrap_or(0.0);
        if !(sd.is_finite() && sd >= 0.0) {
            p.push(
                format!("{at}.sd"),
                format!("must be finite and >= 0, got {sd}"),
            );
        }
        let (Some(policy), Some(metric)) = (policy, metric) else {
            continue;
        };
        if metric.is_log() && o.value <= 0.0 {
            p.push(
                format!("{at}.value"),
                format!(
                    "`{}` is a ratio compared on the log scale: must be > 0, got {}",
                    metric.name(),
                    o.value
                ),
            );
        }
        if sd == 0.0 && !metric.has_ci() && o.bound == Bound::Equal {
            p.push(
                format!("{at}.sd"),
                format!(
                    "`{}` has no confidence interval in the report, so the simulation's uncertainty is unknown: give `sd` > 0",
                    metric.name()
                ),
            );
        }
        if metric == Metric::ReferenceWebReduction && policy == Policy::None {
            p.push(
                format!("{at}.policy"),
                "`reference_web_reduction` compares a prefetching policy with `cache`: not `none`",
            );
        }
        observations.push(Observation {
            name: if o.name.is_empty() {
                format!("{} {}", o.policy, o.metric)
            } else {
                o.name.clone()
            },
            policy,
            metric,
            value: o.value,
            sd,
            bound: o.bound,
            source: o.source.clone(),
        });
    }
    let mut parameters = Vec::new();
    let all: Vec<(String, &ParameterSpec)> = spec
        .parameters
        .iter()
        .enumerate()
        .map(|(i, s)| (index("parameters", i), s))
        .chain(
            flags
                .iter()
                .map(|s| (format!("--param {}", s.path.clone().unwrap_or_default()), s)),
        )
        .collect();
    if all.is_empty() {
        p.push(
            "parameters",
            "is empty: give at least one parameter to infer (in the file or with --param PATH=MIN:MAX)",
        );
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    for (at, s) in &all {
        if let Some(param) = parameter(at, s, base, &mut p) {
            for path in param.paths() {
                if let Some((_, other)) = seen.iter().find(|(q, _)| *q == path) {
                    p.push(
                        at.clone(),
                        format!(
                            "field `{path}` is set by {other} too: a field can have one parameter"
                        ),
                    );
                }
                seen.push((path, at.clone()));
            }
            parameters.push((at.clone(), param));
        }
    }
    if !p.is_empty() {
        return Err(ObserveError {
            file: file.to_string(),
            problems: p.into_vec(),
        });
    }
    // Every parameter at both ends of its range must give a valid scenario.
    let sites = SiteCache::default();
    for (at, param) in &parameters {
        for (end, x) in [("min", param.value_at(0.0)), ("max", param.value_at(1.0))] {
            let mut v = base.clone();
            let mut ok = true;
            for (path, value) in param.assign(x) {
                if let Err(e) = set_path(&mut v, &path, value) {
                    p.push(at.clone(), e.to_string());
                    ok = false;
                }
            }
            if !ok {
                break;
            }
            let built = ScenarioFile::from_value(v, scenario_source)
                .and_then(|f| Scenario::build_with(f, scenario_source, base_dir, &sites));
            if let Err(e) = built {
                p.push(
                    format!("{at}.{end}"),
                    format!("at {x} the scenario is invalid: {}", e.problems_text()),
                );
            }
        }
    }
    if !p.is_empty() {
        return Err(ObserveError {
            file: file.to_string(),
            problems: p.into_vec(),
        });
    }
    Ok(Observe {
        source: file.to_string(),
        text,
        observations,
        parameters: parameters.into_iter().map(|(_, x)| x).collect(),
    })
}

fn parameter(at: &str, s: &ParameterSpec, base: &Value, p: &mut Problems) -> Option<Parameter> {
    let before = p.items().len();
    let given = [s.path.is_some(), s.set.is_some(), s.multiply.is_some()]
        .iter()
        .filter(|&&b| b)
        .count();
    if given != 1 {
        p.push(
            at,
            "give exactly one of `path` (a field), `set` (fields with coefficients) and `multiply` (fields scaled)",
        );
        return None;
    }
    if !(s.min.is_finite() && s.max.is_finite()) {
        p.push(
            at,
            format!("min and max must be finite, got {} and {}", s.min, s.max),
        );
    } else if s.min >= s.max {
        p.push(
            at,
            format!(
                "empty range: min {} must be below max {} (to fix a field, edit the scenario)",
                s.min, s.max
            ),
        );
    }
    if s.scale == Scale::Log && s.min <= 0.0 {
        p.push(
            format!("{at}.min"),
            format!("a log scale needs min > 0, got {}", s.min),
        );
    }
    if let Some(l) = s.levels {
        if l < 2 {
            p.push(
                format!("{at}.levels"),
                format!("must be at least 2 (both ends), got {l}"),
            );
        }
    }
    if s.integer && s.min.ceil() > s.max.floor() {
        p.push(
            at,
            format!("no whole number between {} and {}", s.min, s.max),
        );
    }
    // Each field must exist (or be an optional field of an existing object) and, for
    // `multiply`, hold a number.
    let exists = |path: &str, p: &mut Problems| {
        let mut v = base.clone();
        match set_path(&mut v, path, Value::from(0.0)) {
            Err(e) => {
                p.push(at, e.to_string());
                false
            }
            Ok(()) => true,
        }
    };
    let target = if let Some(path) = &s.path {
        exists(path, p);
        Target::Set(vec![(path.clone(), 1.0)])
    } else if let Some(set) = &s.set {
        if set.is_empty() {
            p.push(format!("{at}.set"), "is empty: name at least one field");
        }
        let mut v = Vec::new();
        for (path, c) in set {
            match c.as_f64() {
                Some(c) if c.is_finite() => {
                    exists(path, p);
                    v.push((path.clone(), c));
                }
                _ => p.push(
                    format!("{at}.set.{path}"),
                    format!("the coefficient must be a finite number, got {c}"),
                ),
            }
        }
        Target::Set(v)
    } else {
        let list = s.multiply.as_deref().unwrap_or_default();
        if list.is_empty() {
            p.push(
                format!("{at}.multiply"),
                "is empty: name at least one field",
            );
        }
        let mut v = Vec::new();
        for path in list {
            if !exists(path, p) {
                continue;
            }
            match get_path(base, path).and_then(Value::as_f64) {
                Some(x) => v.push((path.clone(), x)),
                None => p.push(
                    format!("{at}.multiply"),
                    format!("field `{path}` holds no number in the scenario: nothing to multiply (give it a value first)"),
                ),
            }
        }
        Target::Multiply(v)
    };
    if p.items().len() > before {
        return None;
    }
    let name = if !s.name.is_empty() {
        s.name.clone()
    } else {
        match &target {
            Target::Set(v) if v.len() == 1 => v[0].0.clone(),
            Target::Multiply(_) => format!(
                "factor on {}",
                s.multiply.as_deref().unwrap_or_default().join(", ")
            ),
            Target::Set(v) => v
                .iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    };
    Some(Parameter {
        name,
        target,
        min: s.min,
        max: s.max,
        scale: s.scale,
        levels: s.levels,
        integer: s.integer,
    })
}

/// The coordinates of a sweep cell that sets `assignments` on `base`: one `(path, value)`
/// per field, except that fields sharing a parent (the entries of a cumulative accuracy
/// table, the median and sigma of one distribution) are set together as their parent, so
/// that the sweep checks them as one value rather than one at a time.
pub fn coordinates(base: &Value, assignments: &[(String, Value)]) -> Vec<(String, Value)> {
    let parent_of = |p: &str| parent_path(p).unwrap_or("").to_string();
    let mut groups: Vec<(String, Vec<&(String, Value)>)> = Vec::new();
    for a in assignments {
        let parent = parent_of(&a.0);
        match groups
            .iter_mut()
            .find(|(g, _)| !g.is_empty() && *g == parent)
        {
            Some((_, members)) => members.push(a),
            None => groups.push((parent, vec![a])),
        }
    }
    let mut out = Vec::new();
    for (parent, members) in groups {
        if members.len() == 1 || parent.is_empty() {
            out.extend(members.into_iter().cloned());
            continue;
        }
        let mut v = base.clone();
        for (path, value) in &members {
            let _ = set_path(&mut v, path, value.clone());
        }
        match get_path(&v, &parent) {
            Some(whole) => out.push((parent, whole.clone())),
            None => out.extend(members.into_iter().cloned()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_read_and_parents() {
        let v = json!({"a": {"b": [1, {"c": 2}]}, "w": 3});
        assert_eq!(get_path(&v, "a.b[0]"), Some(&json!(1)));
        assert_eq!(get_path(&v, "a.b[1].c"), Some(&json!(2)));
        assert_eq!(get_path(&v, "w"), Some(&json!(3)));
        assert_eq!(get_path(&v, "a.x"), None);
        assert_eq!(parent_path("a.b[1].c"), Some("a.b[1]"));
        assert_eq!(parent_path("a.b[1]"), Some("a.b"));
        assert_eq!(parent_path("w"), None);
    }

    #[test]
    fn values_snap_to_levels_and_integers() {
        let p = Parameter {
            name: "x".into(),
            target: Target::Set(vec![("x".into(), 1.0)]),
            min: 1.0,
            max: 100.0,
            scale: Scale::Log,
            levels: Some(3),
            integer: false,
        };
        assert!((p.value_at(0.0) - 1.0).abs() < 1e-12);
        assert!((p.value_at(0.3) - 10.0).abs() < 1e-9, "{}", p.value_at(0.3));
        assert!((p.value_at(1.0) - 100.0).abs() < 1e-9);
        assert!((p.position(10.0) - 0.5).abs() < 1e-12);
        let q = Parameter {
            integer: true,
            levels: None,
            scale: Scale::Linear,
            min: 1.0,
            max: 5.0,
            ..p
        };
        assert_eq!(q.value_at(0.49), 3.0);
        assert_eq!(q.assign(3.0), vec![("x".into(), json!(3))]);
    }

    #[test]
    fn fields_of_one_parent_become_one_coordinate() {
        let base = json!({"d": {"acc": {"cumulative": [0.5, 0.6, 0.7]}}, "width": 3,
                          "site": {"deg": {"median": 81, "sigma": 0.6}}});
        let c = coordinates(
            &base,
            &[
                ("d.acc.cumulative[0]".into(), json!(0.3)),
                ("width".into(), json!(2)),
                ("d.acc.cumulative[2]".into(), json!(0.4)),
                ("site.deg.sigma".into(), json!(1.0)),
            ],
        );
        assert_eq!(
            c,
            vec![
                ("d.acc.cumulative".into(), json!([0.3, 0.6, 0.4])),
                ("width".into(), json!(2)),
                ("site.deg.sigma".into(), json!(1.0)),
            ]
        );
    }

    #[test]
    fn metrics_are_report_fields() {
        assert!(metric_fields().contains(&"hit_rate".to_string()));
        assert!(!metric_fields().iter().any(|m| m.ends_with("_ci_lo")));
        assert_eq!(
            Metric::parse("speedup"),
            Some(Metric::Row {
                field: "speedup".into(),
                log: true,
                ci: true
            })
        );
        assert_eq!(Metric::parse("hit_rte"), None);
        assert!(!Metric::parse("prefetches_per_session").unwrap().has_ci());
        assert_eq!(
            Metric::parse("reference_web_reduction"),
            Some(Metric::ReferenceWebReduction)
        );
    }

    #[test]
    fn param_flags_parse() {
        let s = parse_param_flag("agent.back_prob=0:0.3").unwrap();
        assert_eq!(s.path.as_deref(), Some("agent.back_prob"));
        assert_eq!((s.min, s.max, s.scale), (0.0, 0.3, Scale::Linear));
        assert_eq!(
            parse_param_flag("fetch.median=1:10:log").unwrap().scale,
            Scale::Log
        );
        let e = parse_param_flag("width=1-5").unwrap_err().to_string();
        assert!(
            e.contains("--param: width=1-5: expected PATH=MIN:MAX"),
            "{e}"
        );
    }
}
