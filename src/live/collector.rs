//! `specsim collect`: an OTLP/HTTP trace receiver on loopback. Every batch an exporter
//! posts to `/v1/traces` (protobuf or JSON, optionally gzip) is decoded with the
//! `opentelemetry-proto` types and appended to an OTLP JSON file, one
//! `ExportTraceServiceRequest` per line (the format of the Collector's file exporter, which
//! `specsim import otel` reads).
//!
//! A batch is acknowledged (200) only once its line is written and synced to disk; a failed
//! write is rolled back and answered 500, so the exporter retries and nothing acknowledged
//! is lost. Bad requests get 400 (undecodable body), 413 (body over the cap, before or after
//! decompression), 415 (a content type other than `application/x-protobuf` or
//! `application/json`, or an unknown content encoding); the server never stops on them.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

use super::server::Running;
use super::LiveError;
use crate::io::otel::spans::decode_request;

/// Default cap on a request body, compressed or not, bytes.
pub const DEFAULT_MAX_BODY: usize = 16 << 20;

/// Counts of what the receiver did.
#[derive(Debug, Default)]
pub struct Counters {
    /// Batches written and acknowledged.
    pub accepted: AtomicU64,
    /// Spans in them.
    pub spans: AtomicU64,
    /// Requests refused (4xx) or not written (5xx).
    pub refused: AtomicU64,
}

struct Sink {
    file: Mutex<File>,
    path: PathBuf,
    max_body: usize,
    counters: Arc<Counters>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

fn refuse(sink: &Sink, code: StatusCode, message: String) -> Response {
    sink.counters.refused.fetch_add(1, Ordering::Relaxed);
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// The body's media type, from `Content-Type` (parameters such as `charset` ignored).
fn media_type(headers: &HeaderMap) -> Result<Encoding, String> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"))
        .unwrap_or("");
    let media = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        _ => Err(format!(
            "unsupported Content-Type `{raw}`: OTLP/HTTP bodies are application/x-protobuf or application/json"
        )),
    }
}

/// The body without its content coding, at most `cap` bytes.
fn decoded_body(headers: &HeaderMap, body: &[u8], cap: usize) -> Result<Vec<u8>, Response413or415> {
    let coding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| {
            v.to_str()
                .unwrap_or("(not text)")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    match coding.as_str() {
        "" | "identity" => Ok(body.to_vec()),
        "gzip" | "x-gzip" => {
            let mut out = Vec::new();
            let mut dec = flate2::read::GzDecoder::new(body).take(cap as u64 + 1);
            dec.read_to_end(&mut out).map_err(|e| {
                Response413or415::Bad(format!("the gzip body cannot be decompressed: {e}"))
            })?;
            if out.len() > cap {
                return Err(Response413or415::TooLarge(format!(
                    "the body decompresses to more than the cap of {cap} bytes"
                )));
            }
            Ok(out)
        }
        other => Err(Response413or415::Unsupported(format!(
            "unsupported Content-Encoding `{other}` (gzip or none)"
        ))),
    }
}

enum Response413or415 {
    TooLarge(String),
    Unsupported(String),
    Bad(String),
}

fn decode(enc: Encoding, body: &[u8]) -> Result<ExportTraceServiceRequest, String> {
    match enc {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(body)
            .map_err(|e| format!("not an OTLP ExportTraceServiceRequest (protobuf): {e}")),
        Encoding::Json => {
            let v: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| format!("not valid JSON: {e}"))?;
            decode_request(v)
                .map_err(|e| format!("not an OTLP ExportTraceServiceRequest (JSON): {e}"))
        }
    }
}

/// Appends one line and syncs it; on failure the file is cut back to where it was.
fn append(sink: &Sink, line: &[u8]) -> std::io::Result<()> {
    let mut f = sink
        .file
        .lock()
        .map_err(|_| std::io::Error::other("the output file lock is poisoned"))?;
    let at = f.seek(SeekFrom::End(0))?;
    let result = f.write_all(line).and_then(|_| f.sync_data());
    if result.is_err() {
        let _ = f.set_len(at);
    }
    result
}

/// Bytes of an over-cap body read and discarded before answering 413, so that a client still
/// sending gets the answer rather than a broken pipe; past this the connection is dropped.
const DRAIN_MAX: usize = 64 << 20;

/// How reading a body ended.
enum Received {
    Body(Bytes),
    TooLarge,
    Failed(String),
}

/// Reads a body of at most `cap` bytes; a longer one is drained (up to [`DRAIN_MAX`]).
async fn read_capped(mut body: Body, cap: usize) -> Received {
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => return Received::Failed(format!("cannot read the body: {e}")),
        };
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen <= cap {
                buf.extend_from_slice(&data);
            } else if seen > DRAIN_MAX {
                return Received::TooLarge;
            }
        }
    }
    if seen > cap {
        Received::TooLarge
    } else {
        Received::Body(Bytes::from(buf))
    }
}

async fn traces(State(sink): State<Arc<Sink>>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_capped(body, sink.max_body).await {
        Received::Body(b) => b,
        Received::TooLarge => {
            return refuse(
                &sink,
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than the cap of {} bytes", sink.max_body),
            )
        }
        Received::Failed(m) => return refuse(&sink, StatusCode::BAD_REQUEST, m),
    };
    let enc = match media_type(&headers) {
        Ok(e) => e,
        Err(m) => return refuse(&sink, StatusCode::UNSUPPORTED_MEDIA_TYPE, m),
    };
    let raw = match decoded_body(&headers, &body, sink.max_body) {
        Ok(b) => b,
        Err(Response413or415::TooLarge(m)) => {
            return refuse(&sink, StatusCode::PAYLOAD_TOO_LARGE, m)
        }
        Err(Response413or415::Unsupported(m)) => {
            return refuse(&sink, StatusCode::UNSUPPORTED_MEDIA_TYPE, m)
        }
        Err(Response413or415::Bad(m)) => return refuse(&sink, StatusCode::BAD_REQUEST, m),
    };
    let request = match decode(enc, &raw) {
        Ok(r) => r,
        Err(m) => return refuse(&sink, StatusCode::BAD_REQUEST, m),
    };
    let spans: usize = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    if !request.resource_spans.is_empty() {
        let mut line = match serde_json::to_vec(&request) {
            Ok(l) => l,
            Err(e) => {
                return refuse(
                    &sink,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot encode the batch as JSON: {e}"),
                )
            }
        };
        line.push(b'\n');
        let s2 = Arc::clone(&sink);
        let written = tokio::task::spawn_blocking(move || append(&s2, &line)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("error: {}: cannot append a batch: {e}", sink.path.display());
                return refuse(
                    &sink,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot write the batch: {e}"),
                );
            }
            Err(e) => {
                return refuse(
                    &sink,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the write task failed: {e}"),
                )
            }
        }
    }
    sink.counters.accepted.fetch_add(1, Ordering::Relaxed);
    sink.counters
        .spans
        .fetch_add(spans as u64, Ordering::Relaxed);
    let response = ExportTraceServiceResponse::default();
    match enc {
        Encoding::Protobuf => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            response.encode_to_vec(),
        )
            .into_response(),
        Encoding::Json => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{}".to_string(),
        )
            .into_response(),
    }
}

/// Opens `path` for appending. A last line without its newline was never acknowledged (a
/// write cut short): it is removed, and its length returned.
pub fn open_output(path: &Path) -> std::io::Result<(File, u64)> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    let len = f.metadata()?.len();
    let mut dropped = 0;
    if len > 0 {
        let mut text = Vec::new();
        f.seek(SeekFrom::Start(0))?;
        f.read_to_end(&mut text)?;
        if text.last() != Some(&b'\n') {
            let keep = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            f.set_len(keep as u64)?;
            f.sync_data()?;
            dropped = len - keep as u64;
        }
    }
    Ok((f, dropped))
}

/// Starts receiving on `bind`, appending to `out`; returns the server and its counters.
pub fn serve(
    out: &Path,
    bind: &str,
    workers: usize,
    max_body: usize,
) -> Result<(Running, Arc<Counters>, u64), LiveError> {
    let (file, dropped) = open_output(out).map_err(|source| LiveError::Open {
        file: out.display().to_string(),
        source,
    })?;
    let counters = Arc::new(Counters::default());
    let sink = Arc::new(Sink {
        file: Mutex::new(file),
        path: out.to_path_buf(),
        max_body,
        counters: Arc::clone(&counters),
    });
    let router = Router::new()
        .route("/v1/traces", post(traces))
        .layer(DefaultBodyLimit::disable()) // read_capped enforces the cap
        .with_state(sink);
    let running = Running::start(bind, workers, router)?;
    Ok((running, counters, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn request(spans: usize) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: (0..spans)
                        .map(|i| Span {
                            trace_id: vec![1; 16],
                            span_id: vec![i as u8 + 1; 8],
                            name: format!("s{i}"),
                            start_time_unix_nano: 1_000,
                            end_time_unix_nano: 2_000,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn post(url: &str, ctype: &str, encoding: Option<&str>, body: &[u8]) -> (u16, String) {
        let mut r = ureq::post(url).set("Content-Type", ctype);
        if let Some(e) = encoding {
            r = r.set("Content-Encoding", e);
        }
        match r.send_bytes(body) {
            Ok(resp) => (resp.status(), resp.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(code, resp)) => (code, resp.into_string().unwrap_or_default()),
            Err(e) => panic!("transport error: {e}"),
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn batches_are_appended_and_bad_requests_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("spans.jsonl");
        let (server, counters, _) = serve(&out, "127.0.0.1:0", 2, 4096).unwrap();
        let url = format!("http://{}/v1/traces", server.addr());
        let pb = request(2).encode_to_vec();
        assert_eq!(post(&url, "application/x-protobuf", None, &pb).0, 200);
        let json = serde_json::to_vec(&request(1)).unwrap();
        assert_eq!(
            post(&url, "application/json; charset=utf-8", None, &json),
            (200, "{}".into())
        );
        assert_eq!(
            post(&url, "application/x-protobuf", Some("gzip"), &gzip(&pb)).0,
            200
        );
        // Wrong type, wrong coding, malformed bodies, too large before and after gzip.
        let (code, msg) = post(&url, "text/plain", None, b"hi");
        assert_eq!(code, 415, "{msg}");
        assert!(
            msg.contains("unsupported Content-Type `text/plain`"),
            "{msg}"
        );
        assert_eq!(post(&url, "application/json", Some("br"), &json).0, 415);
        let (code, msg) = post(&url, "application/x-protobuf", None, b"\xff\xff\xff");
        assert_eq!(code, 400, "{msg}");
        assert!(msg.contains("protobuf"), "{msg}");
        let (code, msg) = post(&url, "application/json", None, b"{\"resourceSpans\": 3}");
        assert_eq!(code, 400, "{msg}");
        assert!(msg.contains("resourceSpans"), "{msg}");
        assert_eq!(
            post(&url, "application/json", Some("gzip"), b"not gzip").0,
            400
        );
        assert_eq!(
            post(&url, "application/json", None, &vec![b' '; 5000]).0,
            413
        );
        let bomb = gzip(&vec![b' '; 100_000]);
        assert!(bomb.len() < 4096);
        let (code, msg) = post(&url, "application/json", Some("gzip"), &bomb);
        assert_eq!(code, 413, "{msg}");
        assert!(
            msg.contains("decompresses to more than the cap of 4096 bytes"),
            "{msg}"
        );
        // Still serving after all that.
        assert_eq!(post(&url, "application/json", None, &json).0, 200);
        server.stop();
        assert_eq!(counters.accepted.load(Ordering::Relaxed), 4);
        assert_eq!(counters.spans.load(Ordering::Relaxed), 6);
        assert_eq!(counters.refused.load(Ordering::Relaxed), 7);
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        for l in &lines {
            let back = decode_request(serde_json::from_str(l).unwrap()).unwrap();
            assert!(back.resource_spans[0].scope_spans[0].spans[0].trace_id == vec![1; 16]);
        }
        assert!(lines[0].contains("\"traceId\":\"01010101010101010101010101010101\""));
        assert!(lines[0].contains("\"startTimeUnixNano\":\"1000\""));
    }

    proptest::proptest! {
        /// Arbitrary bodies are refused with a message, never a panic.
        #[test]
        fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = decode(Encoding::Protobuf, &bytes);
            let _ = decode(Encoding::Json, &bytes);
        }
    }

    #[test]
    fn an_unacknowledged_partial_line_is_dropped_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("spans.jsonl");
        std::fs::write(&out, "{\"resourceSpans\":[]}\n{\"resou").unwrap();
        let (_, dropped) = open_output(&out).unwrap();
        assert_eq!(dropped, 7);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "{\"resourceSpans\":[]}\n"
        );
    }
}
