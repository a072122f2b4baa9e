//! OpenTelemetry traces in: the spans an instrumented agent exports (OTLP JSON, the GenAI
//! semantic conventions or the OpenInference dialect, HTTP client spans) turned into a
//! specsim trace. The rules (sessions, iterations, which model is the target, where time
//! that is neither LLM nor web goes) are documented in `docs/otel.md`.
//!
//! Every nanosecond of a session is accounted for exactly once: a session's window is cut
//! at the target calls into iterations, and each instant of an iteration goes to the first
//! of target call, other LLM call (an extra stage), web action, or *other* that covers it.
//! So a replay under policy `none` reproduces each recorded session latency to the
//! nanosecond.

pub mod sessions;
pub mod spans;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::io::output::write_atomic;
use crate::io::trace::{
    DraftCall, Header, IterationLine, LlmCall, PageRef, SessionLine, StageCall, TraceAction,
    TraceLine,
};
use sessions::{RawSession, WebAction};
use spans::{ReadStats, Span};

/// The root page of a session that fetched nothing before its first target call.
pub const NO_START_PAGE: &str = "about:blank";

/// An import that failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OtelError {
    /// A file could not be read or written.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        message: String,
    },
    /// Bad content: the file, the line of the request object, and the span when known.
    #[error("{file}:{line}: {}{message}", span_prefix(.ids))]
    At {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// Trace and span id (hex).
        ids: Option<(String, String)>,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The input as a whole does not fit the options (no target calls, unknown model).
    #[error("{0}")]
    Input(String),
}

fn span_prefix(ids: &Option<(String, String)>) -> String {
    match ids {
        Some((t, s)) => format!("trace {t} span {s}: "),
        None => String::new(),
    }
}

impl OtelError {
    /// An error at `line` of `file`, naming the span when known.
    pub fn at(
        file: &str,
        line: usize,
        ids: Option<(String, String)>,
        message: impl Into<String>,
    ) -> OtelError {
        OtelError::At {
            file: file.to_string(),
            line,
            ids,
            message: message.into(),
        }
    }
}

/// How to read the spans.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportOptions {
    /// The target model (default: the model with the most calls).
    pub target_model: Option<String>,
    /// Draft models, in the order of the trace's `drafts` entries.
    pub draft_models: Vec<String>,
    /// Out-degree of pages whose spans carry no `specsim.page.out_degree`.
    pub out_degree: Option<u32>,
    /// The header's `graph` (a graph file relative to the trace).
    pub graph: Option<String>,
}

/// Documented rules that were applied, with how often (see `docs/otel.md`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rules {
    /// Spans seen twice (same trace and span id): the first is kept.
    pub duplicate_spans: u64,
    /// Spans whose parent is not in the input: treated as roots.
    pub spans_with_missing_parent: u64,
    /// LLM spans inside another LLM span (two instrumentations of one call): not counted.
    pub nested_llm_spans: u64,
    /// HTTP client spans inside an LLM call (the API request): part of the call.
    pub http_spans_in_llm_calls: u64,
    /// LLM calls outside every `invoke_agent` span of their trace: not imported.
    pub calls_outside_sessions: u64,
    /// Web actions outside every `invoke_agent` span of their trace: not imported.
    pub actions_outside_sessions: u64,
    /// Sessions without a target call: not imported.
    pub sessions_without_target: u64,
    /// Target calls followed by no web action before the next target call: merged into the
    /// next iteration (their time stays target time).
    pub thinking_steps_merged: u64,
    /// Target calls that started before an earlier one ended: their union is target time.
    pub overlapping_target_calls: u64,
    /// Iterations (and session starts) with several web actions: the last started is the
    /// page, all of them are web time.
    pub several_web_actions: u64,
    /// Draft calls not recorded (a second call of one draft model in an iteration, a call
    /// before the first target call, or a model after a missing one).
    pub draft_calls_not_recorded: u64,
    /// LLM time of other models before the first target call, kept as other time, s.
    pub llm_s_before_first_target: f64,
    /// LLM time of other models and web time in answer iterations, kept as other time, s.
    pub answer_stage_and_web_s: f64,
}

/// What an import read and wrote, and where each second of the sessions went.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    /// Input files.
    pub files: usize,
    /// Request objects read.
    pub requests: u64,
    /// Spans read.
    pub spans: u64,
    /// Distinct trace ids.
    pub traces: u64,
    /// Sessions written.
    pub sessions: u64,
    /// Iterations written.
    pub iterations: u64,
    /// Of which answers.
    pub answers: u64,
    /// The target model.
    pub target_model: String,
    /// The draft models.
    pub draft_models: Vec<String>,
    /// LLM calls per model (every session).
    pub calls_by_model: BTreeMap<String, u64>,
    /// Web actions imported.
    pub web_actions: u64,
    /// Web actions with an HTTP status >= 400.
    pub http_errors: u64,
    /// Response body bytes, where recorded.
    pub response_bytes: u64,
    /// Pages (visits and roots) with a recorded out-degree.
    pub pages_with_out_degree: u64,
    /// Pages given `--out-degree`.
    pub pages_default_out_degree: u64,
    /// Pages whose out-degree is unknown.
    pub pages_unknown_out_degree: u64,
    /// Total session time, s.
    pub session_s: f64,
    /// Of which target calls, s.
    pub target_s: f64,
    /// Of which other models' calls (extra stages), s.
    pub stages_s: f64,
    /// Of which web actions (root fetches included), s.
    pub web_s: f64,
    /// Of which neither LLM nor web (the trace's `other_s`), s.
    pub other_s: f64,
    /// Rules applied.
    pub rules: Rules,
    /// Span attributes the importer does not read, with how many spans carried each.
    pub ignored_attributes: BTreeMap<String, u64>,
}

/// An imported trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The trace lines, header first.
    pub lines: Vec<TraceLine>,
    /// What was read and where the time went.
    pub summary: ImportSummary,
}

impl Imported {
    /// Writes the trace to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<(), OtelError> {
        let mut text = String::new();
        for l in &self.lines {
            let s = serde_json::to_string(l).map_err(|e| OtelError::Io {
                file: path.display().to_string(),
                message: e.to_string(),
            })?;
            text.push_str(&s);
            text.push('\n');
        }
        write_atomic(path, text.as_bytes()).map_err(|e| OtelError::Io {
            file: path.display().to_string(),
            message: format!("cannot write: {e}"),
        })
    }
}

/// Reads OTLP JSON files and builds the trace.
pub fn import(files: &[PathBuf], opts: &ImportOptions) -> Result<Imported, OtelError> {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut stats = ReadStats::default();
    let mut spans = Vec::new();
    for (i, f) in files.iter().enumerate() {
        spans::read_file(f, i, &names[i], &mut stats, &mut spans)?;
    }
    import_spans(spans, &names, stats, opts)
}

/// Builds the trace of spans already read (`files` names their files).
pub fn import_spans(
    spans: Vec<Span>,
    files: &[String],
    stats: ReadStats,
    opts: &ImportOptions,
) -> Result<Imported, OtelError> {
    let mut summary = ImportSummary {
        files: files.len(),
        requests: stats.requests,
        spans: spans.len() as u64,
        ignored_attributes: stats.ignored_attributes,
        draft_models: opts.draft_models.clone(),
        ..Default::default()
    };
    let (raw, traces) = sessions::sessions(spans, files, &mut summary.rules)?;
    summary.traces = traces;
    // Calls per model, and their total time (the tie-break of the default target).
    let mut time_by_model: BTreeMap<String, u64> = BTreeMap::new();
    for c in raw.iter().flat_map(|s| &s.calls) {
        *summary
            .calls_by_model
            .entry(c.model().to_string())
            .or_insert(0) += 1;
        *time_by_model.entry(c.model().to_string()).or_insert(0) += c.end - c.start;
    }
    if summary.calls_by_model.is_empty() {
        return Err(OtelError::Input(format!(
            "{}: no LLM call spans found ({} spans read): an LLM call is a span with \
             gen_ai.operation.name chat, text_completion or generate_content, or with \
             openinference.span.kind LLM",
            files.join(", "),
            summary.spans
        )));
    }
    let seen_text = summary
        .calls_by_model
        .iter()
        .map(|(m, n)| format!("{m} ({n} calls)"))
        .collect::<Vec<_>>()
        .join(", ");
    let seen = || seen_text.clone();
    let any_call = |name: &str| raw.iter().flat_map(|s| &s.calls).any(|c| c.is(name));
    let target = match &opts.target_model {
        Some(t) if any_call(t) => t.clone(),
        Some(t) => {
            return Err(OtelError::Input(format!(
                "--target-model: no LLM call of model `{t}`; models seen: {}",
                seen()
            )))
        }
        None => summary
            .calls_by_model
            .iter()
            .max_by(|a, b| {
                (a.1, time_by_model[a.0])
                    .cmp(&(b.1, time_by_model[b.0]))
                    .then_with(|| b.0.cmp(a.0))
            })
            .map(|(m, _)| m.clone())
            .unwrap_or_default(),
    };
    for d in &opts.draft_models {
        if *d == target {
            return Err(OtelError::Input(format!(
                "--draft-model `{d}` is the target model; choose another with --target-model"
            )));
        }
        if !any_call(d) {
            return Err(OtelError::Input(format!(
                "--draft-model: no LLM call of model `{d}`; models seen: {}",
                seen()
            )));
        }
    }
    summary.target_model = target.clone();
    let mut header = Header::new(format!("specsim import otel {}", env!("CARGO_PKG_VERSION")));
    header
        .meta
        .insert("target_model".into(), target.clone().into());
    if !opts.draft_models.is_empty() {
        header
            .meta
            .insert("draft_models".into(), opts.draft_models.clone().into());
    }
    header.graph = opts.graph.clone();
    let mut lines = vec![TraceLine::Header(header)];
    let roles = Roles {
        target: &target,
        drafts: &opts.draft_models,
    };
    for s in &raw {
        match build_session(s, &roles, opts, &mut summary) {
            Some(mut l) => lines.append(&mut l),
            None => summary.rules.sessions_without_target += 1,
        }
    }
    if summary.sessions == 0 {
        return Err(OtelError::Input(format!(
            "no session has a call of the target model `{target}` ({} sessions); models seen: {}",
            raw.len(),
            seen()
        )));
    }
    Ok(Imported { lines, summary })
}

struct Roles<'a> {
    target: &'a str,
    drafts: &'a [String],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Target,
    Draft(usize),
    Stage,
}

impl Roles<'_> {
    fn of(&self, c: &sessions::LlmCall) -> Role {
        if c.is(self.target) {
            Role::Target
        } else if let Some(d) = self.drafts.iter().position(|d| c.is(d)) {
            Role::Draft(d)
        } else {
            Role::Stage
        }
    }
}

/// Where the time of one window `[a, b)` went, nanoseconds.
#[derive(Default)]
struct Split {
    target: u64,
    /// Per stage call (index into the session's calls) with time here.
    stages: BTreeMap<usize, u64>,
    web: u64,
    other: u64,
}

/// Partitions `[a, b)`: each instant goes to a target call, else the earliest-started
/// other-model call, else a web action, else other.
fn split(a: u64, b: u64, s: &RawSession, role: &[Role]) -> Split {
    // (time, +1 start / -1 end, class 0 target 1 stage 2 web, index)
    let mut ev: Vec<(u64, i8, u8, usize)> = Vec::new();
    let clip = |x: u64, y: u64| (x.max(a), y.min(b));
    for (i, c) in s.calls.iter().enumerate() {
        let class = match role[i] {
            Role::Target => 0,
            Role::Stage => 1,
            Role::Draft(_) => continue,
        };
        let (x, y) = clip(c.start, c.end);
        if x < y {
            ev.push((x, 1, class, i));
            ev.push((y, -1, class, i));
        }
    }
    for (i, w) in s.actions.iter().enumerate() {
        let (x, y) = clip(w.start, w.end);
        if x < y {
            ev.push((x, 1, 2, i));
            ev.push((y, -1, 2, i));
        }
    }
    ev.sort_unstable();
    let mut out = Split::default();
    let (mut targets, mut webs) = (0i64, 0i64);
    let mut stages: BTreeSet<(u64, usize)> = BTreeSet::new();
    let mut t = a;
    let mut k = 0;
    loop {
        let next = ev.get(k).map_or(b, |e| e.0);
        let d = next - t;
        if d > 0 {
            if targets > 0 {
                out.target += d;
            } else if let Some(&(_, i)) = stages.first() {
                *out.stages.entry(i).or_insert(0) += d;
            } else if webs > 0 {
                out.web += d;
            } else {
                out.other += d;
            }
        }
        t = next;
        if k >= ev.len() {
            break;
        }
        while k < ev.len() && ev[k].0 == t {
            let (_, delta, class, i) = ev[k];
            match class {
                0 => targets += i64::from(delta),
                1 if delta > 0 => {
                    stages.insert((s.calls[i].start, i));
                }
                1 => {
                    stages.remove(&(s.calls[i].start, i));
                }
                _ => webs += i64::from(delta),
            }
            k += 1;
        }
    }
    out
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// The page of a window: the last web action started in it.
fn page_of<'a>(actions: &[&'a WebAction], rules: &mut Rules) -> Option<&'a WebAction> {
    if actions.len() > 1 {
        rules.several_web_actions += 1;
    }
    actions.last().copied()
}

/// The trace lines of one session (`None` when it has no target call).
fn build_session(
    s: &RawSession,
    roles: &Roles<'_>,
    opts: &ImportOptions,
    sum: &mut ImportSummary,
) -> Option<Vec<TraceLine>> {
    let role: Vec<Role> = s.calls.iter().map(|c| roles.of(c)).collect();
    let targets: Vec<usize> = (0..s.calls.len())
        .filter(|&i| role[i] == Role::Target)
        .collect();
    let first = *targets.first()?;
    // Iteration boundaries: a target call opens an iteration when a web action started
    // since the previous boundary; otherwise it is a thinking step of the current one.
    let action_starts: Vec<u64> = s.actions.iter().map(|a| a.start).collect();
    let since = |from: u64, to: u64| {
        action_starts.partition_point(|&x| x < to) > action_starts.partition_point(|&x| x < from)
    };
    let mut bounds = vec![s.calls[first].start.max(s.start)];
    let mut latest_end = s.calls[first].end;
    for &i in &targets[1..] {
        let c = &s.calls[i];
        let b = *bounds.last().expect("one bound at least");
        if c.start < latest_end {
            sum.rules.overlapping_target_calls += 1;
        }
        latest_end = latest_end.max(c.end);
        if since(b, c.start) {
            bounds.push(c.start.min(s.end));
        } else {
            sum.rules.thinking_steps_merged += 1;
        }
    }
    let n = bounds.len();
    let window = |j: usize| (bounds[j], if j + 1 < n { bounds[j + 1] } else { s.end });
    let in_window = |x: u64, (a, b): (u64, u64), last: bool| x >= a && (x < b || (last && x == b));
    let degree = |w: Option<&WebAction>, sum: &mut ImportSummary| match w.and_then(|w| w.out_degree)
    {
        Some(d) => {
            sum.pages_with_out_degree += 1;
            Some(d)
        }
        None if opts.out_degree.is_some() => {
            sum.pages_default_out_degree += 1;
            opts.out_degree
        }
        None => {
            sum.pages_unknown_out_degree += 1;
            None
        }
    };
    for w in &s.actions {
        sum.web_actions += 1;
        sum.http_errors += u64::from(w.status.is_some_and(|c| c >= 400));
        sum.response_bytes += w.bytes.unwrap_or(0);
    }
    // Before the first target call: the root fetch, and other time carried into
    // iteration 0.
    let pre = split(s.start, bounds[0], s, &role);
    let pre_actions: Vec<&WebAction> = s.actions.iter().filter(|a| a.start < bounds[0]).collect();
    let root_action = page_of(&pre_actions, &mut sum.rules);
    let root = PageRef::Name(root_action.map_or(NO_START_PAGE.to_string(), |a| a.url.clone()));
    let pre_llm: u64 = pre.stages.values().sum();
    sum.rules.llm_s_before_first_target += secs(pre_llm);
    sum.rules.draft_calls_not_recorded += s
        .calls
        .iter()
        .zip(&role)
        .filter(|(c, r)| matches!(r, Role::Draft(_)) && c.start < bounds[0])
        .count() as u64;
    let session_line = SessionLine {
        session: s.id.clone(),
        task: String::new(),
        site: String::new(),
        root: root.clone(),
        root_fetch_s: Some(secs(pre.web)),
        root_links: None,
        root_out_degree: if root_action.is_some() {
            degree(root_action, sum)
        } else {
            opts.out_degree
        },
        started_at: Some(secs(s.start)),
    };
    let mut carried = pre.other + pre_llm;
    let mut totals = (0u64, 0u64, pre.web, 0u64); // target, stages, web, other
    let mut visited: BTreeSet<String> = BTreeSet::new();
    if root_action.is_some() {
        visited.insert(match &root {
            PageRef::Name(n) => n.clone(),
            PageRef::Id(i) => i.to_string(),
        });
    }
    let mut lines = vec![TraceLine::Session(session_line)];
    for j in 0..n {
        let w = window(j);
        let last = j + 1 == n;
        let sp = split(w.0, w.1, s, &role);
        let acts: Vec<&WebAction> = s
            .actions
            .iter()
            .filter(|a| in_window(a.start, w, last))
            .collect();
        let page = page_of(&acts, &mut sum.rules);
        let mine = |i: &usize| in_window(s.calls[*i].start, w, last);
        let tokens = |f: fn(&sessions::LlmCall) -> Option<u64>| {
            let v: Vec<u64> = targets
                .iter()
                .filter(|i| mine(i))
                .filter_map(|&i| f(&s.calls[i]))
                .collect();
            (!v.is_empty()).then(|| v.iter().sum())
        };
        let target = LlmCall {
            latency_s: secs(sp.target),
            output_tokens: tokens(|c| c.output_tokens),
            input_tokens: tokens(|c| c.input_tokens),
        };
        // One entry per draft model, in order, up to the first without a call here.
        let mut drafts = Vec::new();
        let mut missing = false;
        for d in 0..roles.drafts.len() {
            let calls: Vec<usize> = (0..s.calls.len())
                .filter(|i| role[*i] == Role::Draft(d) && mine(i))
                .collect();
            match calls.first() {
                Some(&i) if !missing => {
                    let c = &s.calls[i];
                    drafts.push(DraftCall {
                        latency_s: secs(c.end - c.start),
                        output_tokens: c.output_tokens,
                        predictions: Vec::new(),
                    });
                    sum.rules.draft_calls_not_recorded += calls.len() as u64 - 1;
                }
                _ => {
                    missing = true;
                    sum.rules.draft_calls_not_recorded += calls.len() as u64;
                }
            }
        }
        let stage_ns: u64 = sp.stages.values().sum();
        let mut it = IterationLine {
            session: s.id.clone(),
            iteration: j as u32,
            action: TraceAction::Answer,
            page: None,
            links: None,
            out_degree: None,
            target: Some(target),
            stages: Vec::new(),
            fetch_s: None,
            drafts,
            outcome: None,
            iteration_s: None,
            exposed_web_s: None,
            other_s: None,
        };
        let mut other = sp.other + std::mem::take(&mut carried);
        match page {
            Some(p) => {
                it.action = if visited.contains(&p.url) {
                    TraceAction::Back
                } else {
                    TraceAction::Click
                };
                visited.insert(p.url.clone());
                it.page = Some(PageRef::Name(p.url.clone()));
                it.out_degree = degree(Some(p), sum);
                it.fetch_s = Some(secs(sp.web));
                // Stage calls that started here, and any earlier one with time here.
                for (i, c) in s.calls.iter().enumerate() {
                    let here = sp.stages.get(&i).copied();
                    if role[i] == Role::Stage && (here.is_some() || mine(&i)) {
                        it.stages.push(StageCall {
                            name: c.model().to_string(),
                            latency_s: secs(here.unwrap_or(0)),
                        });
                    }
                }
                totals.1 += stage_ns;
                totals.2 += sp.web;
            }
            None => {
                // The answer: no observation, so no stages or fetch; that time is other.
                sum.rules.answer_stage_and_web_s += secs(stage_ns + sp.web);
                other += stage_ns + sp.web;
                sum.answers += 1;
            }
        }
        totals.0 += sp.target;
        totals.3 += other;
        it.other_s = Some(secs(other));
        sum.iterations += 1;
        lines.push(TraceLine::Iteration(it));
    }
    sum.sessions += 1;
    sum.session_s += secs(s.end - s.start);
    sum.target_s += secs(totals.0);
    sum.stages_s += secs(totals.1);
    sum.web_s += secs(totals.2);
    sum.other_s += secs(totals.3);
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::spans::{Attrs, Loc};
    use super::*;
    use crate::io::replay::Replay;
    use crate::io::trace::parse_trace;
    use proptest::prelude::*;

    fn span(id: u64, parent: Option<u64>, a: u64, b: u64, attrs: Attrs) -> Span {
        Span {
            at: Loc { file: 0, line: 1 },
            trace: "ab".repeat(16),
            id: format!("{id:016x}"),
            parent: parent.map(|p| format!("{p:016x}")),
            name: "s".into(),
            kind: 3,
            start: a,
            end: b,
            attrs,
        }
    }

    /// (kind 0 target call / 1 other model / 2 draft / 3 HTTP fetch / 4 other span, start, length)
    fn spans_of(items: &[(u8, u64, u64)], length: u64) -> Vec<Span> {
        let mut v = vec![span(
            1,
            None,
            1_000,
            1_000 + length,
            Attrs {
                operation: Some("invoke_agent".into()),
                ..Default::default()
            },
        )];
        for (i, &(kind, at, len)) in items.iter().enumerate() {
            let a = 1_000 + at.min(length);
            let b = (a + len).min(1_000 + length);
            let chat = |m: &str| Attrs {
                operation: Some("chat".into()),
                request_model: Some(m.into()),
                output_tokens: Some(3),
                ..Default::default()
            };
            let attrs = match kind {
                0 => chat("t"),
                1 => chat("critic"),
                2 => chat("d"),
                3 => Attrs {
                    http_method: Some("GET".into()),
                    url: Some(format!("https://x/{}", i % 4)),
                    ..Default::default()
                },
                _ => Attrs::default(),
            };
            v.push(span(i as u64 + 2, Some(1), a, b, attrs));
        }
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever the spans, a session's recorded latency (root fetch + target + fetch +
        /// stages + other) is its window, to the nanosecond.
        #[test]
        fn every_nanosecond_of_a_session_is_kept(
            mut items in proptest::collection::vec((0u8..5, 0u64..10_000, 0u64..3_000), 1..40),
            length in 1u64..12_000,
        ) {
            items.push((0, length / 3, 100)); // at least one target call
            items.push((2, length / 3, 10)); // and one draft call
            let opts = ImportOptions { target_model: Some("t".into()), draft_models: vec!["d".into()], ..Default::default() };
            let imported = import_spans(spans_of(&items, length), &["f".into()], ReadStats::default(), &opts).unwrap();
            let text: String = imported.lines.iter().map(|l| serde_json::to_string(l).unwrap() + "\n").collect();
            let trace = parse_trace(text.as_bytes(), "t.jsonl").unwrap();
            let replay = Replay::from_trace(&trace, None).unwrap();
            prop_assert_eq!(replay.recorded_session_latency(0), length);
            let s = &imported.summary;
            prop_assert!((s.target_s + s.stages_s + s.web_s + s.other_s - s.session_s).abs() < 1e-9);
        }
    }
}
