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
    /// What produced the trace (`specsim live 0.2.0`, `import wikispeedia`, ...).
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
    /// A site graph file (the edge-list JSON of `docs/scenario.md`), relative to the trace
    /// file: numeric page ids index its pages, page names match its page names, and its
    /// links are every page's out-links. Added in version 1, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<String>,
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
    /// Number of out-links of the start page, when only the count is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_out_degree: Option<u32>,
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
    /// Time of the iteration on the session's critical path that was neither an LLM call
    /// nor the page fetch (gaps, other tools, the agent's own code), seconds; for
    /// iteration 0 it includes the session's time before its first target call apart from
    /// the root fetch. Added in version 1, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_s: Option<f64>,
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
            graph: None,
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

/// A trace that failed to load: the file, and for bad content the line and field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TraceError {
    /// The file could not be read.
    #[error("{file}: cannot read trace: {message}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        message: String,
    },
    /// A line is malformed or inconsistent with the lines before it.
    #[error("{file}:{line}: {field}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The field at fault (dotted path, e.g. `target.latency_s`; `type` for the line kind).
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

impl TraceError {
    /// An error at `line`, `field` of `file`.
    pub fn at(
        file: &str,
        line: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> TraceError {
        TraceError::Invalid {
            file: file.to_string(),
            line,
            field: field.into(),
            message: message.into(),
        }
    }

    /// The line number, for `Invalid` errors.
    pub fn line(&self) -> Option<usize> {
        match self {
            TraceError::Invalid { line, .. } => Some(*line),
            TraceError::Io { .. } => None,
        }
    }

    /// The field, for `Invalid` errors.
    pub fn field(&self) -> Option<&str> {
        match self {
            TraceError::Invalid { field, .. } => Some(field),
            TraceError::Io { .. } => None,
        }
    }
}

/// A validated trace: the header and each session with its iterations, with line numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Where it was read from.
    pub file: String,
    /// The header line.
    pub header: Header,
    /// Sessions in order of their session lines.
    pub sessions: Vec<TracedSession>,
}

/// One session of a [`Trace`].
#[derive(Clone, Debug, PartialEq)]
pub struct TracedSession {
    /// Line number of the session line.
    pub line: usize,
    /// The session line.
    pub session: SessionLine,
    /// Its iterations in order (index `i` is iteration `i`), with their line numbers.
    pub iterations: Vec<(usize, IterationLine)>,
}

impl TracedSession {
    /// True if the session ended with an `answer` iteration.
    pub fn answered(&self) -> bool {
        self.iterations
            .last()
            .is_some_and(|(_, it)| it.action == TraceAction::Answer)
    }
}

/// Reads and validates a trace file (see [`parse_trace`]).
///
/// Only a regular file within the input size cap is read ([`crate::io::input`]): a device
/// such as `/dev/zero` or a FIFO is refused before a byte is read.
pub fn read_trace(path: &std::path::Path) -> Result<Trace, TraceError> {
    let file = path.display().to_string();
    let f = crate::io::input::open(path).map_err(|e| TraceError::Io {
        file: file.clone(),
        message: match e {
            crate::io::input::InputError::Io { message, .. } => message,
            other => other.reason(),
        },
    })?;
    parse_trace(f, &file)
}

/// Parses and validates trace lines from `input`; `file` names it in errors.
///
/// Checks, each reported with its line and field: a `header` first, of format
/// `specsim-trace` and a version this reader knows; known line types and fields, required
/// fields present; unique session ids; iterations numbered 0, 1, ... per session, after
/// their session line, none after an `answer`; `click`/`back` name a page and `answer` does
/// not; a `back` goes to a page visited earlier in the session; every latency is >= 0.
/// Blank lines are skipped.
pub fn parse_trace<R: std::io::BufRead>(input: R, file: &str) -> Result<Trace, TraceError> {
    let mut header: Option<Header> = None;
    let mut sessions: Vec<TracedSession> = Vec::new();
    let mut index: std::collections::BTreeMap<String, usize> = Default::default();
    let mut visited: Vec<std::collections::BTreeSet<PageRef>> = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let ln = n + 1;
        let line = line.map_err(|e| TraceError::Io {
            file: file.to_string(),
            message: format!("line {ln}: {e}"),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let err = |field: &str, message: String| TraceError::at(file, ln, field, message);
        let value: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
            let mut m = e.to_string();
            if let Some(i) = m.find(" at line ") {
                m.truncate(i);
            }
            err(
                "(line)",
                format!("not valid JSON: {m} (column {})", e.column()),
            )
        })?;
        let serde_json::Value::Object(mut obj) = value else {
            return Err(err("(line)", "must be a JSON object".into()));
        };
        let kind = match obj.remove("type") {
            Some(serde_json::Value::String(s)) => s,
            Some(v) => {
                return Err(err(
                    "type",
                    format!("must be one of header, session, iteration, got {v}"),
                ))
            }
            None => {
                return Err(err(
                    "type",
                    "missing field (one of header, session, iteration)".into(),
                ))
            }
        };
        match (kind.as_str(), &header) {
            ("header", None) => {
                check_version(&obj).map_err(|p| err(&p.field, p.message))?;
                let h: Header = from_obj(obj).map_err(|p| err(&p.field, p.message))?;
                if h.format != TRACE_FORMAT {
                    return Err(err(
                        "format",
                        format!("must be `{TRACE_FORMAT}`, got `{}`", h.format),
                    ));
                }
                header = Some(h);
            }
            ("header", Some(_)) => {
                return Err(err(
                    "type",
                    "a second header; a trace has exactly one, on its first line".into(),
                ))
            }
            (_, None) if kind == "session" || kind == "iteration" => {
                return Err(err(
                    "type",
                    format!("the first line must be the header, got a `{kind}` line"),
                ))
            }
            ("session", Some(_)) => {
                let s: SessionLine = from_obj(obj).map_err(|p| err(&p.field, p.message))?;
                if s.session.is_empty() {
                    return Err(err("session", "must be a non-empty id".into()));
                }
                if let Some(&i) = index.get(&s.session) {
                    return Err(err(
                        "session",
                        format!(
                            "duplicate session id `{}` (first on line {})",
                            s.session, sessions[i].line
                        ),
                    ));
                }
                if let Some(x) = s.root_fetch_s {
                    non_negative("root_fetch_s", x).map_err(|p| err(&p.field, p.message))?;
                }
                if let Some(d) = s.root_out_degree {
                    out_degree("root_out_degree", d).map_err(|p| err(&p.field, p.message))?;
                }
                index.insert(s.session.clone(), sessions.len());
                visited.push([s.root.clone()].into_iter().collect());
                sessions.push(TracedSession {
                    line: ln,
                    session: s,
                    iterations: Vec::new(),
                });
            }
            ("iteration", Some(_)) => {
                let it: IterationLine = from_obj(obj).map_err(|p| err(&p.field, p.message))?;
                let Some(&si) = index.get(&it.session) else {
                    return Err(err(
                        "session",
                        format!(
                            "unknown session `{}`: no session line for it before this line",
                            it.session
                        ),
                    ));
                };
                let sess = &mut sessions[si];
                if sess.answered() {
                    return Err(err(
                        "iteration",
                        format!(
                            "session `{}` already answered (line {}); no iteration may follow",
                            it.session,
                            sess.iterations.last().map_or(0, |x| x.0)
                        ),
                    ));
                }
                let expected = sess.iterations.len() as u32;
                if it.iteration != expected {
                    return Err(err(
                        "iteration",
                        format!(
                            "out of order: session `{}` expects iteration {expected} next, got {}",
                            it.session, it.iteration
                        ),
                    ));
                }
                check_iteration(&it, &visited[si]).map_err(|p| err(&p.field, p.message))?;
                if let Some(p) = &it.page {
                    visited[si].insert(p.clone());
                }
                sess.iterations.push((ln, it));
            }
            (other, _) => {
                return Err(err(
                    "type",
                    format!("must be one of header, session, iteration, got `{other}`"),
                ))
            }
        }
    }
    let Some(header) = header else {
        return Err(TraceError::at(
            file,
            1,
            "type",
            "empty trace: the first line must be a header",
        ));
    };
    Ok(Trace {
        file: file.to_string(),
        header,
        sessions,
    })
}

/// A problem with one field of a line; the caller adds the file and the line.
#[derive(Debug)]
struct FieldProblem {
    field: String,
    message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

fn check_version(obj: &serde_json::Map<String, serde_json::Value>) -> Result<(), FieldProblem> {
    match obj.get("version").map(serde_json::Value::as_u64) {
        None => Err(bad("version", "missing field")),
        Some(Some(v)) if (1..=u64::from(TRACE_VERSION)).contains(&v) => Ok(()),
        Some(_) => Err(bad(
            "version",
            format!(
                "unsupported version {}: this specsim reads versions 1..={TRACE_VERSION} (a newer specsim may read it)",
                obj["version"]
            ),
        )),
    }
}

fn from_obj<T: serde::de::DeserializeOwned>(
    obj: serde_json::Map<String, serde_json::Value>,
) -> Result<T, FieldProblem> {
    serde_path_to_error::deserialize(serde_json::Value::Object(obj)).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let mut message = e.into_inner().to_string();
        if message.contains("untagged enum PageRef") {
            message =
                "must be a page: an integer id (0 to 4294967295) or a string (URL or name)".into();
        }
        // "missing field `x`" names the field; the path stops at its parent.
        let missing = message
            .split('`')
            .nth(1)
            .filter(|_| message.starts_with("missing field"));
        let field = match missing {
            Some(f) => crate::scenario::problems::join(&path, f),
            None if path.is_empty() => "(line)".into(),
            None => path,
        };
        bad(field, message)
    })
}

fn out_degree(field: &str, d: u32) -> Result<(), FieldProblem> {
    use crate::scenario::limits::MAX_OUT_DEGREE;
    if d <= MAX_OUT_DEGREE {
        Ok(())
    } else {
        Err(bad(field, format!(
            "must be at most {MAX_OUT_DEGREE} (the most links a replayed page may have, a limit of this build: docs/scenario.md), got {d}"
        )))
    }
}

fn non_negative(field: &str, x: f64) -> Result<(), FieldProblem> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(bad(
            field,
            format!("must be a latency in seconds >= 0, got {x}"),
        ))
    }
}

fn check_iteration(
    it: &IterationLine,
    visited: &std::collections::BTreeSet<PageRef>,
) -> Result<(), FieldProblem> {
    let nn = |field: String, x: f64| non_negative(&field, x);
    match (it.action, &it.page) {
        (TraceAction::Answer, Some(_)) => {
            return Err(bad(
                "page",
                "an `answer` iteration visits no page; remove `page`",
            ))
        }
        (TraceAction::Click | TraceAction::Back, None) => {
            return Err(bad(
                "page",
                format!(
                    "missing field: a `{}` iteration must name the page it visits",
                    if it.action == TraceAction::Click {
                        "click"
                    } else {
                        "back"
                    }
                ),
            ))
        }
        (TraceAction::Back, Some(p)) if !visited.contains(p) => {
            return Err(bad(
                "page",
                format!(
                    "`back` to {} which the session never visited",
                    page_label(p)
                ),
            ))
        }
        _ => {}
    }
    if let Some(d) = it.out_degree {
        out_degree("out_degree", d)?;
    }
    if let Some(t) = &it.target {
        nn("target.latency_s".into(), t.latency_s)?;
    }
    for (i, s) in it.stages.iter().enumerate() {
        nn(format!("stages[{i}].latency_s"), s.latency_s)?;
    }
    if let Some(x) = it.fetch_s {
        nn("fetch_s".into(), x)?;
    }
    for (i, d) in it.drafts.iter().enumerate() {
        nn(format!("drafts[{i}].latency_s"), d.latency_s)?;
    }
    if let Some(x) = it.iteration_s {
        nn("iteration_s".into(), x)?;
    }
    if let Some(x) = it.exposed_web_s {
        nn("exposed_web_s".into(), x)?;
    }
    if let Some(x) = it.other_s {
        nn("other_s".into(), x)?;
    }
    if let Some(o) = &it.outcome {
        if !["hit", "partial_hit", "miss"].contains(&o.as_str()) {
            return Err(bad(
                "outcome",
                format!("must be one of hit, partial_hit, miss, got `{o}`"),
            ));
        }
    }
    Ok(())
}

/// A page as shown in messages: `page 3` or `"/about"`.
pub fn page_label(p: &PageRef) -> String {
    match p {
        PageRef::Id(i) => format!("page {i}"),
        PageRef::Name(s) => format!("`{s}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"{"type":"header","format":"specsim-trace","version":1}"#;
    const SESSION: &str = r#"{"type":"session","session":"s1","root":"/"}"#;

    fn check(lines: &[&str]) -> Result<Trace, TraceError> {
        parse_trace(lines.join("\n").as_bytes(), "bad.jsonl")
    }

    fn fails(lines: &[&str], line: usize, field: &str, needle: &str) {
        let e = check(lines).unwrap_err();
        assert_eq!(e.line(), Some(line), "{e}");
        assert_eq!(e.field(), Some(field), "{e}");
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("bad.jsonl:{line}: {field}: ")),
            "{text}"
        );
        assert!(text.contains(needle), "{text} should contain {needle}");
    }

    #[test]
    fn a_valid_trace_is_read_with_line_numbers() {
        let t = check(&[
            HEAD,
            "",
            SESSION,
            r#"{"type":"iteration","session":"s1","iteration":0,"action":"click","page":"/a"}"#,
            r#"{"type":"iteration","session":"s1","iteration":1,"action":"back","page":"/"}"#,
            r#"{"type":"iteration","session":"s1","iteration":2,"action":"answer"}"#,
        ])
        .unwrap();
        assert_eq!(t.sessions.len(), 1);
        assert_eq!(t.sessions[0].line, 3);
        let lines: Vec<usize> = t.sessions[0].iterations.iter().map(|x| x.0).collect();
        assert_eq!(lines, vec![4, 5, 6]);
        assert!(t.sessions[0].answered());
    }

    #[test]
    fn malformed_lines_name_file_line_and_field() {
        let it0 =
            r#"{"type":"iteration","session":"s1","iteration":0,"action":"click","page":"/a"}"#;
        fails(
            &[r#"{"type":"header","format":"specsim-trace","version":2}"#],
            1,
            "version",
            "unsupported version 2",
        );
        fails(
            &[r#"{"type":"header","format":"specsim-trace"}"#],
            1,
            "version",
            "missing",
        );
        fails(
            &[r#"{"type":"header","format":"other","version":1}"#],
            1,
            "format",
            "specsim-trace",
        );
        fails(&[SESSION], 1, "type", "first line must be the header");
        fails(
            &[HEAD, r#"{"type":"session","session":"s1"}"#],
            2,
            "root",
            "missing field `root`",
        );
        fails(
            &[
                HEAD,
                SESSION,
                r#"{"type":"iteration","session":"s1","iteration":0,"action":"click","page":"/a","target":{"output_tokens":3}}"#,
            ],
            3,
            "target.latency_s",
            "missing field `latency_s`",
        );
        fails(
            &[
                HEAD,
                SESSION,
                r#"{"type":"iteration","session":"s1","iteration":0,"action":"click","page":"/a","fetch_s":-0.5}"#,
            ],
            3,
            "fetch_s",
            "got -0.5",
        );
        fails(
            &[
                HEAD,
                SESSION,
                r#"{"type":"iteration","session":"s1","iteration":0,"action":"click","page":"/a","drafts":[{"latency_s":0.1},{"latency_s":-1}]}"#,
            ],
            3,
            "drafts[1].latency_s",
            ">= 0",
        );
        fails(
            &[
                HEAD,
                SESSION,
                r#"{"type":"iteration","session":"s1","iteration":0,"action":"click","page":"/a","fetch":1}"#,
            ],
            3,
            "fetch",
            "unknown field `fetch`",
        );
        fails(
            &[
                HEAD,
                SESSION,
                r#"{"type":"iteration","session":"s1","iteration":1,"action":"click","page":"/a"}"#,
            ],
            3,
            "iteration",
            "expects iteration 0 next, got 1",
        );
        fails(
            &[
                HEAD,
                SESSION,
                r#"{"type":"iteration","session":"s2","iteration":0,"action":"click","page":"/a"}"#,
            ],
            3,
            "session",
            "unknown session `s2`",
        );
        fails(
            &[
                HEAD,
                SESSION,
                it0,
                r#"{"type":"iteration","session":"s1","iteration":1,"action":"back","page":"/b"}"#,
            ],
            4,
            "page",
            "never visited",
        );
        fails(
            &[
                HEAD,
                SESSION,
                r#"{"type":"iteration","session":"s1","iteration":0,"action":"answer"}"#,
                it0,
            ],
            4,
            "iteration",
            "already answered",
        );
        fails(
            &[HEAD, SESSION, SESSION],
            3,
            "session",
            "duplicate session id `s1` (first on line 2)",
        );
        fails(&[HEAD, "{not json"], 2, "(line)", "not valid JSON");
        fails(
            &[HEAD, r#"{"type":"session","session":"s1","root":-1}"#],
            2,
            "root",
            "must be a page: an integer id",
        );
        fails(
            &[
                HEAD,
                SESSION,
                r#"{"type":"iteration","session":"s1","iteration":0,"action":"click","page":"/a","target":{"latency_s":"slow"}}"#,
            ],
            3,
            "target.latency_s",
            "invalid type: string \"slow\", expected f64",
        );
        fails(&[HEAD, r#"{"type":"step"}"#], 2, "type", "got `step`");
        // Issue 14: such degrees allocated placeholder pages until memory ran out.
        fails(
            &[
                HEAD,
                r#"{"type":"session","session":"s1","root":"/","root_out_degree":4294967295}"#,
            ],
            2,
            "root_out_degree",
            "must be at most 100000",
        );
        fails(
            &[
                HEAD,
                SESSION,
                r#"{"type":"iteration","session":"s1","iteration":0,"action":"click","page":"/a","out_degree":4294967295}"#,
            ],
            3,
            "out_degree",
            "got 4294967295",
        );
        fails(
            &[
                HEAD,
                SESSION,
                r#"{"type":"iteration","session":"s1","iteration":0,"action":"jump","page":"/a"}"#,
            ],
            3,
            "action",
            "unknown variant `jump`",
        );
    }

    fn keys(v: &serde_json::Value) -> std::collections::BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn the_json_schema_lists_exactly_the_fields_of_the_types() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/trace.schema.json")).unwrap();
        let defs = &schema["$defs"];
        let mut h = Header::new("x");
        h.policy = Some("speccache".into());
        h.width = Some(3);
        h.cache_capacity = Some(10);
        h.meta.insert("k".into(), "v".into());
        h.graph = Some("g.json".into());
        let s = SessionLine {
            session: "s".into(),
            task: "t".into(),
            site: "w".into(),
            root: PageRef::Id(0),
            root_fetch_s: Some(1.0),
            root_links: Some(vec![]),
            root_out_degree: Some(3),
            started_at: Some(1.0),
        };
        let it = IterationLine {
            session: "s".into(),
            iteration: 0,
            action: TraceAction::Click,
            page: Some(PageRef::Id(1)),
            links: Some(vec![]),
            out_degree: Some(2),
            target: Some(LlmCall {
                latency_s: 1.0,
                output_tokens: Some(1),
                input_tokens: Some(1),
            }),
            stages: vec![StageCall {
                name: "e".into(),
                latency_s: 1.0,
            }],
            fetch_s: Some(1.0),
            drafts: vec![DraftCall {
                latency_s: 1.0,
                output_tokens: Some(1),
                predictions: vec![PageRef::Id(1)],
            }],
            outcome: Some("hit".into()),
            iteration_s: Some(1.0),
            exposed_web_s: Some(0.0),
            other_s: Some(0.5),
        };
        let line = |l: TraceLine| serde_json::to_value(l).unwrap();
        let iv = line(TraceLine::Iteration(it));
        for (def, value) in [
            ("header", line(TraceLine::Header(h))),
            ("session", line(TraceLine::Session(s))),
            ("llm_call", iv["target"].clone()),
            ("stage_call", iv["stages"][0].clone()),
            ("draft_call", iv["drafts"][0].clone()),
            ("iteration", iv.clone()),
        ] {
            assert_eq!(keys(&defs[def]["properties"]), keys(&value), "$defs.{def}");
        }
    }

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
                root_out_degree: None,
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
                other_s: None,
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
