//! Human labels and units of scenario fields and report metrics, in one place, for figures
//! and tables.
//!
//! A scenario field is named by its path (`cache.capacity`, `drafts[0].latency.latency.median`);
//! the registry is keyed by the path with its list indices generalised (`drafts[]`), so that
//! every draft, stage and mixture component is covered. Units are stated here, field by field,
//! and never guessed from a name: a path the registry does not know is shown as it is, without
//! a unit ([`label`]).
//!
//! Distributions and LLM profiles are described once: `fetch` is a distribution of seconds, so
//! `fetch.median` is "fetch latency, median (s)" and `fetch.sigma` "fetch latency, sigma of
//! ln" without a unit; `target` is an LLM profile, so `target.output_tokens.median` is "target
//! output tokens, median (tokens)".

use std::fmt;

/// A human label and its unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldLabel {
    /// What the value is, e.g. `draft latency, median`.
    pub label: String,
    /// Its unit, e.g. `s`; `None` for a count, a fraction spelled out in the label, a name
    /// or a unitless parameter.
    pub unit: Option<&'static str>,
}

impl FieldLabel {
    fn new(label: impl Into<String>, unit: Option<&'static str>) -> Self {
        FieldLabel {
            label: label.into(),
            unit,
        }
    }

    /// `label (unit)`, or the label alone when there is no unit.
    pub fn with_unit(&self) -> String {
        match self.unit {
            Some(u) => format!("{} ({u})", self.label),
            None => self.label.clone(),
        }
    }
}

impl fmt::Display for FieldLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_unit())
    }
}

/// What a registered path holds.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// One value in this unit.
    Value(Option<&'static str>),
    /// A distribution of values in this unit; the path may go on into its parameters.
    Dist(Option<&'static str>),
    /// An LLM profile; the path may go on into `latency`, `ttft`, `tpot`, `output_tokens`.
    Llm,
}

use Kind::{Dist, Llm, Value};

/// Seconds.
const S: Option<&str> = Some("s");

/// Scenario fields by generalised path (`[]` for any list index). In labels, `{i}` is a
/// list index shown as nothing for the first element and ` 2`, ` 3`, ... after it (one
/// draft is "the draft"); `{n}` is a list index shown 1-based. Placeholders take the
/// path's indices in order.
const FIELDS: &[(&str, &str, Kind)] = &[
    ("name", "scenario name", Value(None)),
    ("seed", "seed", Value(None)),
    ("site_seed", "site seed", Value(None)),
    ("replications", "replications", Value(None)),
    ("sessions", "sessions per replication", Value(None)),
    ("policies", "policies", Value(None)),
    ("width", "prefetch width", Value(Some("links per step"))),
    ("lookup_cost", "cache lookup cost", Value(S)),
    ("cache.capacity", "cache capacity", Value(Some("pages"))),
    ("cache.eviction", "cache eviction", Value(None)),
    ("cache.scope", "cache scope", Value(None)),
    (
        "cache.list_order",
        "draft list order in the cache",
        Value(None),
    ),
    ("fetcher.slots", "concurrent fetch slots", Value(None)),
    (
        "fetcher.demand_priority",
        "demand fetches first",
        Value(None),
    ),
    (
        "fetcher.cancel_stale",
        "stale prefetches cancelled",
        Value(None),
    ),
    ("fetch", "fetch latency", Dist(S)),
    ("target", "target", Llm),
    ("stages[].name", "stage {n} name", Value(None)),
    ("stages[].latency", "stage {n}", Llm),
    ("drafts[].name", "draft{i} name", Value(None)),
    ("drafts[].latency", "draft{i}", Llm),
    (
        "drafts[].accuracy.top1",
        "draft{i} top-1 accuracy",
        Value(None),
    ),
    (
        "drafts[].accuracy.decay",
        "draft{i} accuracy decay",
        Value(None),
    ),
    (
        "drafts[].accuracy.cumulative",
        "draft{i} cumulative top-k accuracy",
        Value(None),
    ),
    (
        "drafts[].accuracy.cumulative[]",
        "draft{i} top-{n} accuracy",
        Value(None),
    ),
    (
        "agent.rounds",
        "rounds per session",
        Dist(Some("iterations")),
    ),
    (
        "agent.max_rounds",
        "most rounds per session",
        Value(Some("iterations")),
    ),
    ("agent.back_prob", "back-click probability", Value(None)),
    ("agent.avoid_visited", "avoid visited pages", Value(None)),
    ("agent.final_answer", "final answer iteration", Value(None)),
    ("site.generator", "site generator", Value(None)),
    ("site.path", "site graph file", Value(None)),
    ("site.pages", "site size", Value(Some("pages"))),
    ("site.out_degree", "site out-degree", Dist(Some("links"))),
    (
        "site.cross_link_prob",
        "cross-link probability",
        Value(None),
    ),
    ("site.page_bytes", "page size", Dist(Some("bytes"))),
    ("trajectories.trace", "replayed trace", Value(None)),
    ("trajectories.sessions", "sessions replayed", Value(None)),
    ("arrivals.process", "arrival process", Value(None)),
    (
        "arrivals.rate_per_s",
        "arrival rate",
        Value(Some("sessions/s")),
    ),
    ("arrivals.every_s", "time between arrivals", Value(S)),
    ("arrivals.gap", "time between arrivals", Dist(S)),
];

/// Parameters of a distribution: `(name, label, whether it carries the values' unit)`.
/// An empty label is the value itself (a constant).
const DIST_PARAMS: &[(&str, &str, bool)] = &[
    ("value", "", true),
    ("low", "minimum", true),
    ("high", "maximum", true),
    ("mean", "mean", true),
    ("std", "standard deviation", true),
    ("median", "median", true),
    ("sigma", "sigma of ln", false),
    ("shape", "shape", false),
    ("scale", "scale", true),
    ("samples", "samples", true),
    ("samples[]", "sample", true),
    ("dist", "distribution", false),
];

/// The distributions of an LLM profile: `(field, label after the owner's, unit)`.
const LLM_PARTS: &[(&str, &str, Option<&str>)] = &[
    ("latency", "latency", S),
    ("ttft", "time to first token", S),
    ("tpot", "time per output token", S),
    ("output_tokens", "output tokens", Some("tokens")),
];

/// The unit of a ratio to no prefetching (policy `none`).
const VS_NONE: &str = "× vs no prefetch";

/// Report metrics (policy-row fields of `docs/report.md`) by name.
const METRICS: &[(&str, &str, Option<&str>)] = &[
    ("speedup", "speedup of session latency", Some(VS_NONE)),
    ("web_reduction", "exposed web time reduction", Some(VS_NONE)),
    (
        "web_reduction_instant_prefetch",
        "web time reduction if prefetches were instant",
        Some(VS_NONE),
    ),
    ("hit_rate", "hit rate", Some("fraction of page visits")),
    (
        "full_hit_rate",
        "full hit rate",
        Some("fraction of page visits"),
    ),
    (
        "partial_hit_rate",
        "partial hit rate",
        Some("fraction of page visits"),
    ),
    (
        "web_share",
        "web share of session latency",
        Some("fraction"),
    ),
    ("iter_latency_s", "iteration latency, mean", S),
    ("iter_latency_p50_s", "iteration latency, median", S),
    ("iter_latency_p95_s", "iteration latency, p95", S),
    ("iter_latency_p99_s", "iteration latency, p99", S),
    ("session_latency_s", "session latency, mean", S),
    ("session_latency_p50_s", "session latency, median", S),
    ("session_latency_p95_s", "session latency, p95", S),
    ("session_latency_p99_s", "session latency, p99", S),
    ("llm_s", "LLM time per iteration", S),
    ("target_s", "target LLM time per iteration", S),
    ("stages_s", "extra-stage LLM time per iteration", S),
    ("exposed_web_s", "exposed web time per iteration", S),
    ("hidden_web_s", "hidden web time per iteration", S),
    ("queue_s", "fetch-slot queueing per iteration", S),
    ("iterations", "iterations", None),
    ("visits", "page visits", None),
    ("prefetches_per_session", "prefetches per session", None),
    (
        "prefetch_used_per_session",
        "used prefetches per session",
        None,
    ),
    (
        "prefetch_wasted_per_session",
        "wasted prefetches per session",
        None,
    ),
    (
        "demand_fetches_per_session",
        "demand fetches per session",
        None,
    ),
    (
        "bytes_per_session",
        "data fetched per session",
        Some("bytes"),
    ),
    ("draft_calls_per_session", "draft calls per session", None),
    (
        "draft_tokens_per_session",
        "draft tokens per session",
        Some("tokens"),
    ),
    (
        "drafts_late_per_session",
        "late draft answers per session",
        None,
    ),
    ("values_drawn", "random values drawn", None),
    ("values_replayed", "values replayed from traces", None),
    ("events", "simulated events", None),
];

/// Quantities of a fitted profile (`fits[].quantity` of `specsim fit`).
const PROFILE_QUANTITIES: &[(&str, &str, Option<&str>)] = &[
    ("latency", "latency", S),
    ("ttft", "time to first token", S),
    ("tpot", "time per output token", S),
    ("output_tokens", "output tokens", Some("tokens")),
    ("e2e", "end-to-end latency", S),
];

/// A path split into its generalised form (`drafts[].accuracy.top1`) and its indices.
fn generalise(path: &str) -> Option<(String, Vec<usize>)> {
    let mut out = String::with_capacity(path.len());
    let mut indices = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find(']')? + open;
        indices.push(rest[open + 1..close].trim().parse().ok()?);
        out.push_str("[]");
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some((out, indices))
}

/// Fills the `{i}` and `{n}` placeholders of `template` with the next indices.
fn fill(template: &str, indices: &mut impl Iterator<Item = usize>) -> String {
    let mut out = String::new();
    let mut rest = template;
    loop {
        let next = [("{i}", false), ("{n}", true)]
            .into_iter()
            .filter_map(|(tag, always)| rest.find(tag).map(|at| (at, tag, always)))
            .min_by_key(|(at, _, _)| *at);
        let Some((at, tag, always)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        let i = indices.next().unwrap_or(0);
        match (always, i) {
            (true, i) => out.push_str(&(i + 1).to_string()),
            (false, 0) => {}
            (false, i) => out.push_str(&format!(" {}", i + 1)),
        }
        rest = &rest[at + tag.len()..];
    }
}

/// The label of the distribution parameter path `rest` of a distribution called `what`.
fn dist_label(
    what: &str,
    unit: Option<&'static str>,
    rest: &str,
    indices: &mut impl Iterator<Item = usize>,
) -> Option<FieldLabel> {
    if rest.is_empty() {
        return Some(FieldLabel::new(what, unit));
    }
    // A mixture component is a distribution of the same values.
    if let Some(inner) = rest.strip_prefix("components[]") {
        let k = indices.next().unwrap_or(0) + 1;
        return match inner {
            ".weight" => Some(FieldLabel::new(
                format!("{what}, weight of mixture component {k}"),
                None,
            )),
            _ => dist_label(
                &format!("{what}, mixture component {k}"),
                unit,
                inner.strip_prefix(".dist")?.trim_start_matches('.'),
                indices,
            ),
        };
    }
    let (_, param, keeps_unit) = DIST_PARAMS.iter().find(|(name, _, _)| *name == rest)?;
    let label = if param.is_empty() {
        what.to_string()
    } else {
        format!("{what}, {param}")
    };
    Some(FieldLabel::new(
        label,
        if *keeps_unit { unit } else { None },
    ))
}

/// The label and unit of a scenario field path; `None` for a path the registry does not
/// know (see [`label`] for the fallback).
pub fn lookup(path: &str) -> Option<FieldLabel> {
    let (general, indices) = generalise(path.trim())?;
    let mut indices = indices.into_iter();
    // The longest registered prefix that the path is, or continues with `.`.
    let (key, template, kind) = FIELDS
        .iter()
        .filter(|(key, _, _)| {
            general == *key
                || general
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
        .max_by_key(|(key, _, _)| key.len())?;
    let rest = general[key.len()..].trim_start_matches('.');
    let what = fill(template, &mut indices);
    match kind {
        Value(unit) => rest.is_empty().then(|| FieldLabel::new(what, *unit)),
        Dist(unit) => dist_label(&what, *unit, rest, &mut indices),
        Llm => {
            let (part, tail) = rest.split_once('.').unwrap_or((rest, ""));
            let (_, name, unit) = LLM_PARTS.iter().find(|(f, _, _)| *f == part)?;
            dist_label(&format!("{what} {name}"), *unit, tail, &mut indices)
        }
    }
}

/// The label and unit of a scenario field path, or the raw path without a unit when the
/// registry does not know it.
pub fn label(path: &str) -> FieldLabel {
    lookup(path).unwrap_or_else(|| FieldLabel::new(path, None))
}

/// The label and unit of a report metric (a policy-row field of `docs/report.md`, with its
/// `_ci_lo` / `_ci_hi` bounds); `None` for an unknown name.
pub fn metric(name: &str) -> Option<FieldLabel> {
    let (base, bound) = match (name.strip_suffix("_ci_lo"), name.strip_suffix("_ci_hi")) {
        (Some(b), _) => (b, Some("lower 95% CI bound of ")),
        (_, Some(b)) => (b, Some("upper 95% CI bound of ")),
        _ => (name, None),
    };
    let (_, label, unit) = METRICS.iter().find(|(n, _, _)| *n == base)?;
    Some(FieldLabel::new(
        format!("{}{label}", bound.unwrap_or_default()),
        *unit,
    ))
}

/// The label and unit of a fitted profile quantity (`latency`, `ttft`, `tpot`,
/// `output_tokens`, `e2e`); `None` for an unknown name.
pub fn profile_quantity(name: &str) -> Option<FieldLabel> {
    PROFILE_QUANTITIES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, label, unit)| FieldLabel::new(*label, *unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(path: &str) -> String {
        label(path).with_unit()
    }

    #[test]
    fn fields_of_the_example_sweeps_have_labels_and_units() {
        assert_eq!(
            shown("drafts[0].latency.latency.median"),
            "draft latency, median (s)"
        );
        assert_eq!(shown("cache.capacity"), "cache capacity (pages)");
        assert_eq!(shown("width"), "prefetch width (links per step)");
        assert_eq!(shown("drafts[0].accuracy.top1"), "draft top-1 accuracy");
        assert_eq!(shown("target.latency.median"), "target latency, median (s)");
        assert_eq!(shown("fetch.median"), "fetch latency, median (s)");
        assert_eq!(
            shown("arrivals.gap.scale"),
            "time between arrivals, scale (s)"
        );
        assert_eq!(shown("cache.scope"), "cache scope");
        assert_eq!(shown("trajectories.trace"), "replayed trace");
    }

    #[test]
    fn units_are_stated_not_guessed() {
        // The old guesser gave `fetcher.slots (s)` (it contains "fetch") and token medians
        // in seconds (the last segment is "median").
        assert_eq!(shown("fetcher.slots"), "concurrent fetch slots");
        assert_eq!(
            shown("target.output_tokens.median"),
            "target output tokens, median (tokens)"
        );
        assert_eq!(
            shown("site.out_degree.median"),
            "site out-degree, median (links)"
        );
        assert_eq!(shown("fetch.sigma"), "fetch latency, sigma of ln");
        assert_eq!(
            shown("target.ttft.shape"),
            "target time to first token, shape"
        );
        assert_eq!(shown("fetch.value"), "fetch latency (s)");
    }

    #[test]
    fn indices_are_generalised() {
        assert_eq!(
            shown("drafts[1].latency.latency.median"),
            "draft 2 latency, median (s)"
        );
        assert_eq!(
            shown("stages[0].latency.ttft.median"),
            "stage 1 time to first token, median (s)"
        );
        assert_eq!(
            shown("drafts[0].accuracy.cumulative[2]"),
            "draft top-3 accuracy"
        );
        assert_eq!(
            shown("fetch.components[1].dist.median"),
            "fetch latency, mixture component 2, median (s)"
        );
        assert_eq!(
            shown("fetch.components[0].weight"),
            "fetch latency, weight of mixture component 1"
        );
    }

    #[test]
    fn unknown_paths_fall_back_to_the_raw_path_without_a_unit() {
        for p in [
            "cache.size",
            "fetch.median.extra",
            "drafts[x].name",
            "target.bogus",
            "",
        ] {
            assert_eq!(lookup(p), None, "{p}");
            assert_eq!(shown(p), p);
        }
    }

    #[test]
    fn metrics_and_profile_quantities() {
        assert_eq!(
            metric("speedup").unwrap().with_unit(),
            "speedup of session latency (× vs no prefetch)"
        );
        assert_eq!(
            metric("hit_rate_ci_hi").unwrap().label,
            "upper 95% CI bound of hit rate"
        );
        assert_eq!(metric("iter_latency_s").unwrap().unit, Some("s"));
        assert_eq!(metric("speedup_extra"), None);
        assert_eq!(
            profile_quantity("output_tokens").unwrap().with_unit(),
            "output tokens (tokens)"
        );
        assert_eq!(profile_quantity("ttft").unwrap().unit, Some("s"));
    }
}
