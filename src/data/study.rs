//! The latency-variability study of the paper's section 2: for each model (and by region
//! and day where recorded), the median, p95, coefficient of variation and max/min ratio
//! of repeated, same-size requests.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::data::fit::quantile_sorted;
use crate::data::fit::samples::DataError;
use crate::data::sources::{llmperf, thefastest};

/// One successful request, from any source.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// Model endpoint (thefastest) or provider file (llmperf).
    pub model: String,
    /// Region the request came from, if recorded.
    pub region: Option<String>,
    /// Day, `YYYY-MM-DD`, if recorded.
    pub day: Option<String>,
    /// Time to first token, seconds.
    pub ttft: f64,
    /// End-to-end latency, seconds.
    pub total: f64,
    /// Output tokens.
    pub tokens: f64,
}

/// Observations and failures read from measurement files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observations {
    /// Successful requests.
    pub ok: Vec<Observation>,
    /// Failed requests per model.
    pub failed: BTreeMap<String, usize>,
}

/// Reads thefastest.ai `*.jsonl` files and llmperf `*.json` files or directories.
pub fn load(paths: &[PathBuf], cmd: Option<&str>) -> Result<Observations, DataError> {
    let mut obs = Observations::default();
    for p in paths {
        let jsonl = p.extension().is_some_and(|e| e == "jsonl" || e == "ndjson");
        if jsonl {
            for m in thefastest::read(p)? {
                if cmd.is_some_and(|c| m.cmd != c) {
                    continue;
                }
                if m.failed() {
                    *obs.failed.entry(m.model.clone()).or_default() += 1;
                    continue;
                }
                obs.ok.push(Observation {
                    model: m.model,
                    region: Some(m.region),
                    day: Some(m.day),
                    ttft: m.ttft,
                    total: m.total,
                    tokens: m.tokens,
                });
            }
        } else {
            for prov in llmperf::read(std::slice::from_ref(p))? {
                if prov.failed_total() > 0 {
                    *obs.failed.entry(prov.name.clone()).or_default() += prov.failed_total();
                }
                obs.ok.extend(prov.ok.iter().map(|r| Observation {
                    model: prov.name.clone(),
                    region: None,
                    day: None,
                    ttft: r.ttft,
                    total: r.e2e,
                    tokens: r.output_tokens,
                }));
            }
        }
    }
    Ok(obs)
}

/// The latency studied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// End-to-end latency of the request.
    Total,
    /// Time to first token.
    Ttft,
}

/// How observations are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row per model, with the spread of medians across regions and days.
    Model,
    /// One row per model and region.
    ModelRegion,
    /// One row per model and day.
    ModelDay,
}

/// One row of the study. Times in seconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudyRow {
    /// Model.
    pub model: String,
    /// Region (with `model-region` grouping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Day (with `model-day` grouping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    /// Successful requests.
    pub n: usize,
    /// Failed requests (per model; only on `model` rows).
    pub failed: usize,
    /// Median, seconds (linear interpolation between order statistics).
    pub median: f64,
    /// 95th percentile, seconds (same interpolation).
    pub p95: f64,
    /// Mean, seconds.
    pub mean: f64,
    /// Coefficient of variation: sample standard deviation / mean (NaN for n < 2).
    pub cv: f64,
    /// Fastest request, seconds.
    pub min: f64,
    /// Slowest request, seconds.
    pub max: f64,
    /// Slowest / fastest.
    pub max_min: f64,
    /// Largest / smallest per-region median (`model` rows with 2+ regions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_spread: Option<f64>,
    /// Largest / smallest per-day median (`model` rows with 2+ days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_spread: Option<f64>,
}

/// Statistics of one group of latencies.
fn row(model: &str, region: Option<&str>, day: Option<&str>, xs: &mut [f64]) -> StudyRow {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let cv = if n < 2 {
        f64::NAN
    } else {
        (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() / mean
    };
    StudyRow {
        model: model.into(),
        region: region.map(Into::into),
        day: day.map(Into::into),
        n,
        failed: 0,
        median: quantile_sorted(xs, 0.5),
        p95: quantile_sorted(xs, 0.95),
        mean,
        cv,
        min: xs[0],
        max: xs[n - 1],
        max_min: xs[n - 1] / xs[0],
        region_spread: None,
        day_spread: None,
    }
}

/// Ratio of the largest to the smallest group median, for 2+ groups.
fn spread(groups: &BTreeMap<String, Vec<f64>>) -> Option<f64> {
    if groups.len() < 2 {
        return None;
    }
    let medians: Vec<f64> = groups
        .values()
        .map(|v| {
            let mut v = v.clone();
            v.sort_by(f64::total_cmp);
            quantile_sorted(&v, 0.5)
        })
        .collect();
    let lo = medians.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = medians.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    Some(hi / lo)
}

/// The study table, rows sorted by model (then region or day).
pub fn study(obs: &Observations, metric: Metric, by: GroupBy) -> Vec<StudyRow> {
    type Key = (String, Option<String>, Option<String>);
    let mut groups: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    let mut regions: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    let mut days: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for o in &obs.ok {
        let x = match metric {
            Metric::Total => o.total,
            Metric::Ttft => o.ttft,
        };
        let key = match by {
            GroupBy::Model => (o.model.clone(), None, None),
            GroupBy::ModelRegion => (o.model.clone(), o.region.clone(), None),
            GroupBy::ModelDay => (o.model.clone(), None, o.day.clone()),
        };
        groups.entry(key).or_default().push(x);
        if let Some(r) = &o.region {
            regions
                .entry(o.model.clone())
                .or_default()
                .entry(r.clone())
                .or_default()
                .push(x);
        }
        if let Some(d) = &o.day {
            days.entry(o.model.clone())
                .or_default()
                .entry(d.clone())
                .or_default()
                .push(x);
        }
    }
    groups
        .into_iter()
        .map(|((model, region, day), mut xs)| {
            let mut r = row(&model, region.as_deref(), day.as_deref(), &mut xs);
            if by == GroupBy::Model {
                r.failed = obs.failed.get(&model).copied().unwrap_or(0);
                r.region_spread = regions.get(&model).and_then(spread);
                r.day_spread = days.get(&model).and_then(spread);
            }
            r
        })
        .collect()
}

/// The rows with the largest max/min ratio and the largest CV among rows of at least
/// `min_n` requests.
pub fn extremes(rows: &[StudyRow], min_n: usize) -> (Option<&StudyRow>, Option<&StudyRow>) {
    let eligible = || rows.iter().filter(|r| r.n >= min_n.max(2) && r.min > 0.0);
    (
        eligible().max_by(|a, b| a.max_min.total_cmp(&b.max_min)),
        eligible().max_by(|a, b| a.cv.total_cmp(&b.cv)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(model: &str, region: &str, day: &str, total: f64) -> Observation {
        Observation {
            model: model.into(),
            region: Some(region.into()),
            day: Some(day.into()),
            ttft: total / 2.0,
            total,
            tokens: 20.0,
        }
    }

    #[test]
    fn statistics_of_a_known_group() {
        let o = Observations {
            ok: vec![
                obs("m", "iad", "2024-04-15", 1.0),
                obs("m", "iad", "2024-04-16", 2.0),
                obs("m", "sea", "2024-04-16", 3.0),
                obs("m", "sea", "2024-04-16", 10.0),
            ],
            failed: [("m".to_string(), 1)].into_iter().collect(),
        };
        let rows = study(&o, Metric::Total, GroupBy::Model);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!((r.n, r.failed), (4, 1));
        assert_eq!(r.median, 2.5);
        assert!((r.p95 - 8.95).abs() < 1e-12); // 3 + 0.85 * 7
        assert_eq!(r.max_min, 10.0);
        // mean 4, sample sd sqrt(50/3) = 4.0825
        assert!((r.cv - (50.0f64 / 3.0).sqrt() / 4.0).abs() < 1e-12);
        // region medians: iad 1.5, sea 6.5; day medians: 1.0 and 3.0
        assert!((r.region_spread.unwrap() - 6.5 / 1.5).abs() < 1e-12);
        assert!((r.day_spread.unwrap() - 3.0).abs() < 1e-12);
        let by_region = study(&o, Metric::Ttft, GroupBy::ModelRegion);
        assert_eq!(by_region.len(), 2);
        assert_eq!(by_region[1].region.as_deref(), Some("sea"));
        assert_eq!(by_region[1].median, 3.25);
        let (mm, cv) = extremes(&rows, 2);
        assert_eq!(mm.unwrap().model, "m");
        assert_eq!(cv.unwrap().model, "m");
        assert!(extremes(&rows, 5).0.is_none());
    }
}
