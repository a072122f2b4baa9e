//! Reading OTLP JSON: `ExportTraceServiceRequest` objects (one per line, as the Collector's
//! file exporter writes them) decoded with the `opentelemetry-proto` types, and each span
//! reduced to what the importer reads: ids, times and the documented attributes.

use std::collections::BTreeMap;
use std::path::Path;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use serde_json::Value;

use super::OtelError;

/// `SpanKind` values of the OTLP protocol.
pub const KIND_SERVER: i32 = 2;

/// Attributes the importer reads (everything else is counted and ignored).
pub const KNOWN: &[&str] = &[
    "gen_ai.operation.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
    "openinference.span.kind",
    "llm.model_name",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "http.request.method",
    "http.method",
    "url.full",
    "http.url",
    "http.response.status_code",
    "http.status_code",
    "http.response.body.size",
    "http.response_content_length",
    "specsim.page.url",
    "specsim.page.out_degree",
];

/// Where a span was read: file index and 1-based line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    /// Index into the list of input files.
    pub file: usize,
    /// Line of the request object that held the span.
    pub line: usize,
}

/// The attributes of a span that the importer reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attrs {
    /// `gen_ai.operation.name`.
    pub operation: Option<String>,
    /// `openinference.span.kind`.
    pub oi_kind: Option<String>,
    /// `gen_ai.request.model`.
    pub request_model: Option<String>,
    /// `gen_ai.response.model`.
    pub response_model: Option<String>,
    /// `llm.model_name` (OpenInference).
    pub oi_model: Option<String>,
    /// `gen_ai.usage.input_tokens` (or `prompt_tokens`, or `llm.token_count.prompt`).
    pub input_tokens: Option<u64>,
    /// `gen_ai.usage.output_tokens` (or `completion_tokens`, or `llm.token_count.completion`).
    pub output_tokens: Option<u64>,
    /// `http.request.method` or `http.method`.
    pub http_method: Option<String>,
    /// `url.full` or `http.url`.
    pub url: Option<String>,
    /// `http.response.status_code` or `http.status_code`.
    pub status: Option<u64>,
    /// `http.response.body.size` or `http.response_content_length`.
    pub body_size: Option<u64>,
    /// `specsim.page.url`: the page a tool span fetched.
    pub page_url: Option<String>,
    /// `specsim.page.out_degree`: the fetched page's number of links.
    pub out_degree: Option<u32>,
}

/// One span as the importer sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// Where it was read.
    pub at: Loc,
    /// Trace id, 32 lowercase hex digits.
    pub trace: String,
    /// Span id, 16 lowercase hex digits.
    pub id: String,
    /// Parent span id, when the span has one.
    pub parent: Option<String>,
    /// Span name.
    pub name: String,
    /// OTLP span kind (0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer).
    pub kind: i32,
    /// Start, Unix nanoseconds.
    pub start: u64,
    /// End, Unix nanoseconds (>= start).
    pub end: u64,
    /// The attributes read.
    pub attrs: Attrs,
}

/// What reading found besides the spans.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadStats {
    /// Request objects read.
    pub requests: u64,
    /// Attribute keys not read by the importer, with how many spans carried each.
    pub ignored_attributes: BTreeMap<String, u64>,
}

/// OTLP JSON writes enums as integers; some producers write their names. Names are turned
/// into numbers so the protobuf types accept both.
fn normalise_enums(v: &mut Value) {
    const KINDS: [&str; 6] = [
        "SPAN_KIND_UNSPECIFIED",
        "SPAN_KIND_INTERNAL",
        "SPAN_KIND_SERVER",
        "SPAN_KIND_CLIENT",
        "SPAN_KIND_PRODUCER",
        "SPAN_KIND_CONSUMER",
    ];
    const CODES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
    let Some(rs) = v.get_mut("resourceSpans").and_then(Value::as_array_mut) else {
        return;
    };
    for r in rs {
        let Some(ss) = r.get_mut("scopeSpans").and_then(Value::as_array_mut) else {
            continue;
        };
        for s in ss {
            let Some(spans) = s.get_mut("spans").and_then(Value::as_array_mut) else {
                continue;
            };
            for span in spans {
                if let Some(k) = span.get_mut("kind") {
                    if let Some(i) = k.as_str().and_then(|n| KINDS.iter().position(|x| *x == n)) {
                        *k = Value::from(i);
                    }
                }
                if let Some(c) = span.get_mut("status").and_then(|st| st.get_mut("code")) {
                    if let Some(i) = c.as_str().and_then(|n| CODES.iter().position(|x| *x == n)) {
                        *c = Value::from(i);
                    }
                }
            }
        }
    }
}

/// Decodes one OTLP JSON object into a request; errors name the field path.
pub fn decode_request(mut v: Value) -> Result<ExportTraceServiceRequest, String> {
    if !v.is_object() {
        return Err("must be a JSON object (an ExportTraceServiceRequest)".into());
    }
    normalise_enums(&mut v);
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A value as text (strings as they are, numbers and booleans printed).
fn text(v: &Any) -> Option<String> {
    match v {
        Any::StringValue(s) => Some(s.clone()),
        Any::IntValue(i) => Some(i.to_string()),
        Any::DoubleValue(d) => Some(d.to_string()),
        Any::BoolValue(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A non-negative integer: an int, an integral double, or a numeric string.
fn count(v: &Any) -> Option<u64> {
    match v {
        Any::IntValue(i) => u64::try_from(*i).ok(),
        Any::DoubleValue(d) if d.fract() == 0.0 && *d >= 0.0 && *d < 9.0e15 => Some(*d as u64),
        Any::StringValue(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn describe(v: &Any) -> String {
    match v {
        Any::StringValue(s) => format!("the string {s:?}"),
        Any::IntValue(i) => format!("the integer {i}"),
        Any::DoubleValue(d) => format!("the number {d}"),
        Any::BoolValue(b) => format!("the boolean {b}"),
        Any::ArrayValue(_) => "an array".into(),
        Any::KvlistValue(_) => "a key-value list".into(),
        Any::BytesValue(_) => "bytes".into(),
        Any::StringValueStrindex(_) => "a string-table index".into(),
    }
}

fn read_attrs(
    kvs: &[KeyValue],
    ignored: &mut BTreeMap<String, u64>,
) -> Result<Attrs, (String, String)> {
    let mut a = Attrs::default();
    for kv in kvs {
        let Some(v) = kv.value.as_ref().and_then(|v| v.value.as_ref()) else {
            continue;
        };
        let key = kv.key.as_str();
        if !KNOWN.contains(&key) {
            *ignored.entry(kv.key.clone()).or_insert(0) += 1;
            continue;
        }
        let bad = |what: &str| {
            Err((
                key.to_string(),
                format!("must be {what}, got {}", describe(v)),
            ))
        };
        let s = || text(v);
        match key {
            "gen_ai.operation.name" => a.operation = s(),
            "openinference.span.kind" => a.oi_kind = s().map(|x| x.to_ascii_uppercase()),
            "gen_ai.request.model" => a.request_model = s(),
            "gen_ai.response.model" => a.response_model = s(),
            "llm.model_name" => a.oi_model = s(),
            "http.request.method" | "http.method" => a.http_method = s(),
            "url.full" | "http.url" => a.url = a.url.take().or_else(s),
            "specsim.page.url" => a.page_url = s(),
            "gen_ai.usage.input_tokens"
            | "gen_ai.usage.prompt_tokens"
            | "llm.token_count.prompt" => match count(v) {
                Some(n) => a.input_tokens = Some(n),
                None => return bad("a token count (a non-negative integer)"),
            },
            "gen_ai.usage.output_tokens"
            | "gen_ai.usage.completion_tokens"
            | "llm.token_count.completion" => match count(v) {
                Some(n) => a.output_tokens = Some(n),
                None => return bad("a token count (a non-negative integer)"),
            },
            "http.response.status_code" | "http.status_code" => match count(v) {
                Some(n) => a.status = Some(n),
                None => return bad("an HTTP status code (an integer)"),
            },
            "http.response.body.size" | "http.response_content_length" => match count(v) {
                Some(n) => a.body_size = Some(n),
                None => return bad("a size in bytes (a non-negative integer)"),
            },
            "specsim.page.out_degree" => match count(v).and_then(|n| u32::try_from(n).ok()) {
                Some(n) => a.out_degree = Some(n),
                None => return bad("a number of links (an integer from 0 to 4294967295)"),
            },
            _ => {}
        }
    }
    Ok(a)
}

/// Reads every span of the OTLP JSON file at `path` (file index `file` in error locations;
/// `name` names it in messages). The file holds JSON objects separated by whitespace: one
/// per line as the Collector writes them, or pretty-printed.
pub fn read_file(
    path: &Path,
    file: usize,
    name: &str,
    stats: &mut ReadStats,
    out: &mut Vec<Span>,
) -> Result<(), OtelError> {
    let bytes = std::fs::read(path).map_err(|e| OtelError::Io {
        file: name.to_string(),
        message: e.to_string(),
    })?;
    let line_of = |offset: usize| {
        1 + bytes[..offset.min(bytes.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    };
    let mut stream = serde_json::Deserializer::from_slice(&bytes).into_iter::<Value>();
    loop {
        // The object starts at the first non-blank byte after the previous one.
        let from = stream.byte_offset();
        let start = from
            + bytes[from..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
        let line = line_of(start);
        let value = match stream.next() {
            None => break,
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                let mut m = e.to_string();
                if let Some(i) = m.find(" at line ") {
                    m.truncate(i);
                }
                return Err(OtelError::at(
                    name,
                    e.line().max(1),
                    None,
                    format!("not valid JSON: {m} (column {})", e.column()),
                ));
            }
        };
        let request = decode_request(value).map_err(|m| {
            OtelError::at(
                name,
                line,
                None,
                format!("not an OTLP ExportTraceServiceRequest: {m}"),
            )
        })?;
        stats.requests += 1;
        collect_spans(&request, Loc { file, line }, name, stats, out)?;
    }
    Ok(())
}

/// Adds the spans of one request to `out`, checking ids and times.
pub fn collect_spans(
    request: &ExportTraceServiceRequest,
    at: Loc,
    name: &str,
    stats: &mut ReadStats,
    out: &mut Vec<Span>,
) -> Result<(), OtelError> {
    for rs in &request.resource_spans {
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                let trace = hex(&s.trace_id);
                let id = hex(&s.span_id);
                let ids = Some((trace.clone(), id.clone()));
                let err = |m: String| OtelError::at(name, at.line, ids.clone(), m);
                if s.trace_id.len() != 16 || s.trace_id.iter().all(|&b| b == 0) {
                    return Err(err(format!(
                        "traceId: must be 16 bytes (32 hex digits), not all zero, got `{trace}`"
                    )));
                }
                if s.span_id.len() != 8 || s.span_id.iter().all(|&b| b == 0) {
                    return Err(err(format!(
                        "spanId: must be 8 bytes (16 hex digits), not all zero, got `{id}`"
                    )));
                }
                if !s.parent_span_id.is_empty() && s.parent_span_id.len() != 8 {
                    return Err(err(format!(
                        "parentSpanId: must be empty or 8 bytes (16 hex digits), got `{}`",
                        hex(&s.parent_span_id)
                    )));
                }
                if s.start_time_unix_nano == 0 {
                    return Err(err(
                        "startTimeUnixNano: missing or 0 (Unix nanoseconds expected)".into(),
                    ));
                }
                if s.end_time_unix_nano < s.start_time_unix_nano {
                    return Err(err(format!(
                        "span `{}` ends before it starts: endTimeUnixNano {} < startTimeUnixNano {}",
                        s.name, s.end_time_unix_nano, s.start_time_unix_nano
                    )));
                }
                let attrs = read_attrs(&s.attributes, &mut stats.ignored_attributes)
                    .map_err(|(k, m)| err(format!("attribute `{k}` of span `{}`: {m}", s.name)))?;
                out.push(Span {
                    at,
                    trace,
                    id,
                    parent: (!s.parent_span_id.is_empty()).then(|| hex(&s.parent_span_id)),
                    name: s.name.clone(),
                    kind: s.kind,
                    start: s.start_time_unix_nano,
                    end: s.end_time_unix_nano,
                    attrs,
                });
            }
        }
    }
    Ok(())
}
