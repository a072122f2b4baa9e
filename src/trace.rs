//! The trace format: recorded agent runs as JSON Lines (see `docs/trace.md`).
//!
//! A trace is a sequence of typed lines: one `header`, then for each session a `session`
//! line followed by its `iteration` lines in order. Lines are self-contained so a run that
//! is interrupted leaves a readable prefix. Times are seconds. The format is versioned:
//! readers accept `version <= TRACE_VERSION` and ignore nothing silently (unknown fields
//! are errors, so a typo cannot drop data).

use std::io::Write;

use serde::{Deserialize, Serialize};

/// Current trace format version.
pub const TRACE_VERSION: u32 = 1;

/// The `format` value of every trace header.
pub const TRACE_FORMAT: &str = "specsim-trace";

/// A page as a trace names it: a numeric id in a known site, or a URL/name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PageRef {
    /// Index of a page in the site the header names.
    Id(u32),
    /// URL or page name.
    Name(String),
}

/// One line of a trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TraceLine {
    /// First line: what wrote the trace and how.
    Header(Header),
    /// Start of a session.
    Session(SessionLine),
    /// One iteration of the current session.
    Iteration(IterationLine),
}

/// The header line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always `specsim-trace`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// What produced the trace (`specsim live 0.1.0`, `import wikispeedia`, ...).
    #[serde(default)]
    pub source: String,
    /// Policy the run used, when it was a live run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Prefetch width of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Cache capacity of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_capacity: Option<u32>,
    /// Free-form notes (model names, base URLs; never keys).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

/// A session line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionLine {
    /// Session identifier, unique in the trace.
    pub session: String,
    /// The task or question.
    #[serde(default)]
    pub task: String,
    /// The site (origin URL or graph name).
    #[serde(default)]
    pub site: String,
    /// The start page.
    pub root: PageRef,
    /// Fetch latency of the start page, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_fetch_s: Option<f64>,
    /// Out-links of the start page (ids or URLs), when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_links: Option<Vec<PageRef>>,
    /// Wall-clock start of the session (seconds since the Unix epoch), live runs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<f64>,
}

/// What the target did in an iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceAction {
    /// Followed a link of the current page.
    Click,
    /// Went back to an earlier page.
    Back,
    /// Answered; no page visited.
    Answer,
}

/// One LLM call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmCall {
    /// Latency, seconds.
    pub latency_s: f64,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
}

/// An extra LLM stage's call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageCall {
    /// Stage label.
    #[serde(default)]
    pub name: String,
    /// Latency, seconds.
    pub latency_s: f64,
}

/// A draft's call and its ranked predictions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftCall {
    /// Latency, seconds.
    pub latency_s: f64,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Predicted next pages, best first.
    #[serde(default)]
    pub predictions: Vec<PageRef>,
}

/// An iteration line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IterationLine {
    /// The session it belongs to.
    pub session: String,
    /// Iteration index (0-based, consecutive).
    pub iteration: u32,
    /// What the target did.
    pub action: TraceAction,
    /// The page visited (absent for `answer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageRef>,
    /// Out-links of the visited page, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<PageRef>>,
    /// Number of out-links of the visited page, when only the count is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_degree: Option<u32>,
    /// The target's call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<LlmCall>,
    /// Extra LLM stages, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageCall>,
    /// Fetch + parse latency of the visited page, seconds (absent when never fetched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_s: Option<f64>,
    /// Draft calls, one per draft.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drafts: Vec<DraftCall>,
    /// Live runs: how the observation was served (`hit`, `partial_hit`, `miss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Live runs: wall-clock latency of the whole iteration, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration_s: Option<f64>,
    /// Live runs: web time on the critical path, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_web_s: Option<f64>,
}

impl Header {
    /// A header for the current version.
    pub fn new(source: impl Into<String>) -> Self {
        Header {
            format: TRACE_FORMAT.to_string(),
            version: TRACE_VERSION,
            source: source.into(),
            policy: None,
            width: None,
            cache_capacity: None,
            meta: serde_json::Map::new(),
        }
    }
}

/// Writes trace lines, flushing each so a killed run leaves every finished line intact.
pub struct TraceWriter<W: Write> {
    out: W,
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace with its header.
    pub fn new(mut out: W, header: Header) -> std::io::Result<Self> {
        write_line(&mut out, &TraceLine::Header(header))?;
        Ok(TraceWriter { out })
    }

    /// Appends one line and flushes it.
    pub fn write(&mut self, line: &TraceLine) -> std::io::Result<()> {
        write_line(&mut self.out, line)
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn write_line<W: Write>(out: &mut W, line: &TraceLine) -> std::io::Result<()> {
    let mut s = serde_json::to_string(line).map_err(std::io::Error::other)?;
    s.push('\n');
    out.write_all(s.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let lines = vec![
            TraceLine::Session(SessionLine {
                session: "s1".into(),
                task: "find the admissions page".into(),
                site: "http://127.0.0.1:8080".into(),
                root: PageRef::Name("/".into()),
                root_fetch_s: Some(0.5),
                root_links: None,
                started_at: None,
            }),
            TraceLine::Iteration(IterationLine {
                session: "s1".into(),
                iteration: 0,
                action: TraceAction::Click,
                page: Some(PageRef::Id(3)),
                links: Some(vec![PageRef::Id(4)]),
                out_degree: None,
                target: Some(LlmCall {
                    latency_s: 2.0,
                    output_tokens: Some(100),
                    input_tokens: None,
                }),
                stages: vec![],
                fetch_s: Some(1.0),
                drafts: vec![DraftCall {
                    latency_s: 0.4,
                    output_tokens: None,
                    predictions: vec![PageRef::Id(3), PageRef::Name("/x".into())],
                }],
                outcome: None,
                iteration_s: None,
                exposed_web_s: None,
            }),
        ];
        let mut w = TraceWriter::new(Vec::new(), Header::new("test")).unwrap();
        for l in &lines {
            w.write(l).unwrap();
        }
        let text = String::from_utf8(w.into_inner()).unwrap();
        let back: Vec<TraceLine> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back.len(), 3);
        assert_eq!(&back[1..], &lines[..]);
        assert!(text.starts_with(r#"{"type":"header","format":"specsim-trace","version":1"#));
    }
}
