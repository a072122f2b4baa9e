//! HAR 1.2 files (HTTP Archive format, saved by browsers' developer tools and WebPageTest):
//! per-request `time` and `timings{blocked,dns,connect,ssl,send,wait,receive}` in
//! milliseconds, and per-page `pageTimings.onLoad`. Samples come out in seconds.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{read_text, Dataset};
use crate::data::fit::samples::{line_of, DataError, Located};

/// The test files of micmro/PerfCascade (the data folder's `har/`).
pub const DATASET: Dataset = Dataset {
    name: "micmro/PerfCascade test HAR files",
    upstream: "https://github.com/micmro/PerfCascade",
    licence: "MIT",
};

/// Which timing to sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    /// Every request's total time (`time`, or the sum of its timings).
    Requests,
    /// Requests whose response is an HTML document (`text/html`).
    Documents,
    /// Each page's `onLoad` time.
    Onload,
}

#[derive(Deserialize)]
struct RawHar<'a> {
    #[serde(borrow)]
    log: RawLog<'a>,
}

#[derive(Deserialize)]
struct RawLog<'a> {
    #[serde(default, borrow)]
    pages: Vec<&'a RawValue>,
    #[serde(borrow)]
    entries: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawPage {
    #[serde(default, rename = "pageTimings")]
    page_timings: RawPageTimings,
}

#[derive(Default, Deserialize)]
struct RawPageTimings {
    #[serde(rename = "onLoad")]
    on_load: Option<f64>,
}

#[derive(Deserialize)]
struct RawEntry {
    time: Option<f64>,
    #[serde(default)]
    timings: RawTimings,
    #[serde(default)]
    response: RawResponse,
}

#[derive(Default, Deserialize)]
struct RawTimings {
    blocked: Option<f64>,
    dns: Option<f64>,
    connect: Option<f64>,
    send: Option<f64>,
    wait: Option<f64>,
    receive: Option<f64>,
}

#[derive(Default, Deserialize)]
struct RawResponse {
    #[serde(default)]
    content: RawContent,
}

#[derive(Default, Deserialize)]
struct RawContent {
    #[serde(default, rename = "mimeType")]
    mime_type: String,
}

/// The samples of one HAR file, seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct HarSamples {
    /// The file.
    pub file: PathBuf,
    /// Request times > 0, with their lines.
    pub requests: Vec<Located>,
    /// Times of requests for HTML documents.
    pub documents: Vec<Located>,
    /// Page onLoad times.
    pub onload: Vec<Located>,
    /// Requests with a zero time (served from a cache, no network).
    pub zero_requests: usize,
    /// Pages without an onLoad time (absent or -1).
    pub pages_without_onload: usize,
}

impl HarSamples {
    /// The samples of one kind.
    pub fn get(&self, what: What) -> &[Located] {
        match what {
            What::Requests => &self.requests,
            What::Documents => &self.documents,
            What::Onload => &self.onload,
        }
    }
}

/// Milliseconds of a HAR timing: `None` for absent or -1 (not applicable).
fn timing(path: &Path, line: usize, name: &str, v: Option<f64>) -> Result<Option<f64>, DataError> {
    match v {
        None => Ok(None),
        Some(-1.0) => Ok(None),
        Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
        Some(x) => Err(DataError::at(
            path,
            line,
            format!("field `{name}` is {x}; HAR timings are milliseconds >= 0, or -1 for not applicable"),
        )),
    }
}

/// Reads one HAR file.
pub fn read_file(path: &Path) -> Result<HarSamples, DataError> {
    let text = read_text(path)?;
    let har: RawHar = serde_json::from_str(&text).map_err(|e| {
        DataError::at(
            path,
            e.line(),
            format!("not a HAR file (expected {{\"log\": {{\"entries\": [...]}}}}): {e}"),
        )
    })?;
    let mut out = HarSamples {
        file: path.to_path_buf(),
        requests: Vec::new(),
        documents: Vec::new(),
        onload: Vec::new(),
        zero_requests: 0,
        pages_without_onload: 0,
    };
    for (i, raw) in har.log.entries.iter().enumerate() {
        let line = line_of(&text, raw);
        let e: RawEntry = super::parse_record(path, line, raw.get(), &format!("log.entries[{i}]"))?;
        let t = &e.timings;
        let parts = [
            ("timings.blocked", t.blocked),
            ("timings.dns", t.dns),
            ("timings.connect", t.connect),
            ("timings.send", t.send),
            ("timings.wait", t.wait),
            ("timings.receive", t.receive),
        ];
        let mut sum = 0.0;
        for (name, v) in parts {
            sum += timing(path, line, &format!("log.entries[{i}].{name}"), v)?.unwrap_or(0.0);
        }
        // `time` is the sum of the timings (ssl is inside connect); use it when present.
        let ms = timing(path, line, &format!("log.entries[{i}].time"), e.time)?.unwrap_or(sum);
        if ms == 0.0 {
            out.zero_requests += 1;
            continue;
        }
        let v = Located {
            line,
            value: ms / 1000.0,
        };
        out.requests.push(v);
        if e.response.content.mime_type.starts_with("text/html") {
            out.documents.push(v);
        }
    }
    for (i, raw) in har.log.pages.iter().enumerate() {
        let line = line_of(&text, raw);
        let p: RawPage = super::parse_record(path, line, raw.get(), &format!("log.pages[{i}]"))?;
        match timing(
            path,
            line,
            &format!("log.pages[{i}].pageTimings.onLoad"),
            p.page_timings.on_load,
        )? {
            Some(ms) if ms > 0.0 => out.onload.push(Located {
                line,
                value: ms / 1000.0,
            }),
            _ => out.pages_without_onload += 1,
        }
    }
    Ok(out)
}

/// Reads HAR files and directories (`*.har` in directories).
pub fn read(paths: &[PathBuf]) -> Result<Vec<HarSamples>, DataError> {
    super::expand(paths, "har")?
        .iter()
        .map(|p| read_file(p))
        .collect()
}
