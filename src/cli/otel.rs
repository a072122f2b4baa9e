//! `specsim import otel`: OpenTelemetry spans (OTLP JSON) of an instrumented agent as a trace.

use std::path::PathBuf;

use super::{CliError, EXIT_BAD_INPUT, EXIT_FAILURE};
use crate::io::otel::{import, ImportOptions, ImportSummary, OtelError};

#[derive(Debug, clap::Args)]
pub struct OtelArgs {
    /// OTLP JSON files (one ExportTraceServiceRequest per line, as `specsim collect` and the
    /// OpenTelemetry Collector's file exporter write them).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The trace to write (JSON Lines, docs/trace.md).
    #[arg(long)]
    out: PathBuf,
    /// The target model (default: the model with the most calls; ties: the most time).
    #[arg(long)]
    target_model: Option<String>,
    /// A draft model whose calls are recorded as draft calls (repeatable, in draft order).
    #[arg(long)]
    draft_model: Vec<String>,
    /// Out-degree of pages whose spans carry no `specsim.page.out_degree` attribute.
    #[arg(long)]
    out_degree: Option<u32>,
    /// A site graph file (docs/scenario.md edge list, page names = URLs) for the trace's
    /// header, as a path relative to the trace.
    #[arg(long)]
    graph: Option<String>,
    /// Also write the import summary (JSON).
    #[arg(long)]
    summary: Option<PathBuf>,
}

impl From<OtelError> for CliError {
    fn from(e: OtelError) -> Self {
        let code = match &e {
            OtelError::Io { message, .. } if message.starts_with("cannot write") => EXIT_FAILURE,
            _ => EXIT_BAD_INPUT,
        };
        CliError {
            code,
            message: e.to_string(),
        }
    }
}

/// The summary as printed on stderr: where every second of the sessions went.
pub fn describe(s: &ImportSummary) -> Vec<String> {
    let pct = |x: f64| {
        if s.session_s > 0.0 {
            100.0 * x / s.session_s
        } else {
            0.0
        }
    };
    let mut out = vec![
        format!(
            "{} sessions, {} iterations ({} answers) from {} spans in {} traces; target model `{}`",
            s.sessions, s.iterations, s.answers, s.spans, s.traces, s.target_model
        ),
        format!(
            "session time {:.3} s = target {:.3} s ({:.1} %) + other models {:.3} s ({:.1} %) + web {:.3} s ({:.1} %) + other {:.3} s ({:.1} %)",
            s.session_s,
            s.target_s,
            pct(s.target_s),
            s.stages_s,
            pct(s.stages_s),
            s.web_s,
            pct(s.web_s),
            s.other_s,
            pct(s.other_s)
        ),
    ];
    let models: Vec<String> = s
        .calls_by_model
        .iter()
        .map(|(m, n)| format!("{m} {n}"))
        .collect();
    out.push(format!("LLM calls by model: {}", models.join(", ")));
    out.push(format!(
        "web actions {} ({} HTTP errors); page out-degree recorded {}, from --out-degree {}, unknown {}",
        s.web_actions,
        s.http_errors,
        s.pages_with_out_degree,
        s.pages_default_out_degree,
        s.pages_unknown_out_degree
    ));
    let r = &s.rules;
    let counts = [
        (r.duplicate_spans, "duplicate spans dropped"),
        (
            r.spans_with_missing_parent,
            "spans with a missing parent (treated as roots)",
        ),
        (
            r.nested_llm_spans,
            "LLM spans nested in LLM spans (not counted twice)",
        ),
        (
            r.http_spans_in_llm_calls,
            "HTTP spans inside LLM calls (part of the call)",
        ),
        (
            r.calls_outside_sessions,
            "LLM calls outside every invoke_agent span (dropped)",
        ),
        (
            r.actions_outside_sessions,
            "web actions outside every invoke_agent span (dropped)",
        ),
        (
            r.sessions_without_target,
            "sessions without a target call (dropped)",
        ),
        (
            r.thinking_steps_merged,
            "target calls without a web action merged into the next iteration",
        ),
        (
            r.overlapping_target_calls,
            "overlapping target calls (their union is target time)",
        ),
        (
            r.several_web_actions,
            "iterations with several web actions (the last is the page)",
        ),
        (r.draft_calls_not_recorded, "draft calls not recorded"),
    ];
    for (n, what) in counts {
        if n > 0 {
            out.push(format!("rule: {n} {what}"));
        }
    }
    if r.llm_s_before_first_target > 0.0 {
        out.push(format!(
            "rule: {:.3} s of other models' calls before the first target call kept as other time",
            r.llm_s_before_first_target
        ));
    }
    if r.answer_stage_and_web_s > 0.0 {
        out.push(format!(
            "rule: {:.3} s of other calls and web time in answer iterations kept as other time",
            r.answer_stage_and_web_s
        ));
    }
    if !s.ignored_attributes.is_empty() {
        out.push(format!(
            "{} attribute keys not read (listed in --summary)",
            s.ignored_attributes.len()
        ));
    }
    out
}

pub fn run(a: OtelArgs) -> Result<(), CliError> {
    let opts = ImportOptions {
        target_model: a.target_model,
        draft_models: a.draft_model,
        out_degree: a.out_degree,
        graph: a.graph,
    };
    let imported = import(&a.files, &opts)?;
    imported.write(&a.out)?;
    if let Some(p) = &a.summary {
        let text = serde_json::to_string_pretty(&imported.summary)
            .map_err(|e| super::failure(e.to_string()))?;
        crate::io::output::write_atomic(p, format!("{text}\n").as_bytes())
            .map_err(|e| super::failure(format!("{}: cannot write: {e}", p.display())))?;
    }
    eprintln!("wrote {}", a.out.display());
    for l in describe(&imported.summary) {
        eprintln!("{l}");
    }
    Ok(())
}
