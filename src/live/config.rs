//! The live configuration file (`docs/live.md`): a serde mirror with unknown fields rejected,
//! validated into a [`LiveSetup`] that names every problem with its field path.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::retry::BackoffSpec;
use super::LiveError;
use crate::scenario::problems::{index, join, Problems};
use crate::scenario::{CacheSpec, FetcherSpec};
use crate::sim::model::check_rules;
use crate::sim::policy::Policy;

/// A live configuration as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    /// Start URL of every session.
    pub site: String,
    /// Other origins (`https://host:port`) pages may be fetched from.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// One task per session.
    #[serde(default)]
    pub tasks: Vec<String>,
    /// Number of sessions when `tasks` is absent (tasks are then `task 0`, `task 1`, ...).
    #[serde(default = "default_sessions")]
    pub sessions: u32,
    /// `none`, `cache`, `random` or `speccache`.
    #[serde(default = "default_policy")]
    pub policy: Policy,
    /// Prefetch width `k`.
    #[serde(default = "default_width")]
    pub width: u32,
    /// The action-observation cache (as in scenario files).
    #[serde(default)]
    pub cache: CacheSpec,
    /// The fetch pool (as in scenario files): concurrent fetch slots, demand priority.
    #[serde(default)]
    pub fetcher: FetcherSpec,
    /// Most iterations per session, the answer included (default 10).
    #[serde(default = "default_rounds")]
    pub max_rounds: u32,
    /// Seed of the random policy's picks and of the backoff jitter.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The target LLM.
    pub target: EndpointSpec,
    /// Draft LLMs (`speccache` needs at least one).
    #[serde(default)]
    pub drafts: Vec<EndpointSpec>,
    /// Page fetching.
    #[serde(default)]
    pub web: WebSpec,
    /// Retry backoff for pages and LLM calls.
    #[serde(default)]
    pub backoff: BackoffSpec,
    /// Times the target is asked again when its reply names no valid button (default 1).
    #[serde(default = "default_unparseable")]
    pub unparseable_retries: u32,
    /// Sessions run at the same time (default 1); a new one starts when one ends.
    #[serde(default = "default_parallel")]
    pub parallel: u32,
    /// HTTP(S) proxy for every request, e.g. `http://user:pass@proxy:3128` (default none;
    /// proxy environment variables are not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
}

/// An OpenAI-compatible Chat Completions endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// Base URL; `/chat/completions` is appended (e.g. `https://api.openai.com/v1`).
    pub base_url: String,
    /// Model name sent in every request.
    pub model: String,
    /// Name of the environment variable holding the API key (absent: no key is sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// `max_tokens` of each request (default 512; `null` leaves it out, e.g. for models that
    /// want `max_completion_tokens`, which `extra` can set).
    #[serde(default = "default_max_tokens")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature (default 0; `null` leaves it out, for models that refuse it).
    #[serde(default = "default_temperature")]
    pub temperature: Option<f64>,
    /// More request fields, merged into every request body (e.g.
    /// `{"max_completion_tokens": 2000, "reasoning_effort": "low"}`).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Whole-request timeout, seconds (default 120).
    #[serde(default = "default_llm_timeout")]
    pub timeout_s: f64,
    /// Connect timeout, seconds (default 10).
    #[serde(default = "default_connect")]
    pub connect_timeout_s: f64,
    /// Retries after a transient failure (default 4).
    #[serde(default = "default_llm_retries")]
    pub retries: u32,
}

/// Page fetching parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSpec {
    /// Whole-request timeout (body included), seconds (default 30).
    #[serde(default = "default_web_timeout")]
    pub timeout_s: f64,
    /// Connect timeout, seconds (default 10).
    #[serde(default = "default_connect")]
    pub connect_timeout_s: f64,
    /// Retries after a transient failure (default 2).
    #[serde(default = "default_web_retries")]
    pub retries: u32,
    /// Bytes of a page body read at most; the rest is dropped (default 2 MB).
    #[serde(default = "default_max_bytes")]
    pub max_page_bytes: u64,
    /// Redirects followed per fetch (default 5).
    #[serde(default = "default_redirects")]
    pub max_redirects: u32,
    /// Buttons offered per page at most, in document order (default 200).
    #[serde(default = "default_buttons")]
    pub max_buttons: u32,
    /// Characters of page text put in a prompt at most (default 4000).
    #[serde(default = "default_chars")]
    pub max_page_chars: u32,
    /// `User-Agent` header.
    #[serde(default = "default_agent")]
    pub user_agent: String,
}

fn default_sessions() -> u32 {
    1
}
fn default_policy() -> Policy {
    Policy::Speccache
}
fn default_width() -> u32 {
    3
}
fn default_rounds() -> u32 {
    10
}
fn default_seed() -> u64 {
    42
}
fn default_parallel() -> u32 {
    1
}
fn default_unparseable() -> u32 {
    1
}
fn default_max_tokens() -> Option<u32> {
    Some(512)
}
fn default_temperature() -> Option<f64> {
    Some(0.0)
}
fn default_llm_timeout() -> f64 {
    120.0
}
fn default_connect() -> f64 {
    10.0
}
fn default_llm_retries() -> u32 {
    4
}
fn default_web_timeout() -> f64 {
    30.0
}
fn default_web_retries() -> u32 {
    2
}
fn default_max_bytes() -> u64 {
    2_000_000
}
fn default_redirects() -> u32 {
    5
}
fn default_buttons() -> u32 {
    200
}
fn default_chars() -> u32 {
    4000
}
fn default_agent() -> String {
    format!("specsim-live/{}", env!("CARGO_PKG_VERSION"))
}

impl Default for WebSpec {
    fn default() -> Self {
        WebSpec {
            timeout_s: default_web_timeout(),
            connect_timeout_s: default_connect(),
            retries: default_web_retries(),
            max_page_bytes: default_max_bytes(),
            max_redirects: default_redirects(),
            max_buttons: default_buttons(),
            max_page_chars: default_chars(),
            user_agent: default_agent(),
        }
    }
}

/// `url` with any password replaced by `REDACTED`, for traces, logs and errors. Text that is
/// not a URL is returned unchanged.
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            if u.set_password(Some("REDACTED")).is_err() {
                return "[a URL with credentials]".to_string();
            }
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The scheme, host and port of a URL, as `scheme://host:port`.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A validated endpoint.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `{base_url}/chat/completions`.
    pub url: Url,
    /// The spec it came from.
    pub spec: EndpointSpec,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
}

/// A validated live configuration.
#[derive(Clone, Debug)]
pub struct LiveSetup {
    /// The file as parsed.
    pub file: LiveConfig,
    /// Start URL.
    pub start: Url,
    /// Origins pages may come from (the start URL's first).
    pub origins: Vec<String>,
    /// One task per session.
    pub tasks: Vec<String>,
    /// The target endpoint.
    pub target: Endpoint,
    /// Draft endpoints.
    pub drafts: Vec<Endpoint>,
    /// The proxy every request goes through.
    pub proxy: Option<ureq::Proxy>,
}

fn secs(p: &mut Problems, path: &str, v: f64) -> Duration {
    if p.positive(path, v) {
        Duration::from_secs_f64(v.min(1e6))
    } else {
        Duration::ZERO
    }
}

fn endpoint(spec: &EndpointSpec, path: &str, p: &mut Problems) -> Option<Endpoint> {
    let before = p.items().len();
    let url = match Url::parse(spec.base_url.trim_end_matches('/')) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Url::parse(&format!(
            "{}/chat/completions",
            u.as_str().trim_end_matches('/')
        ))
        .ok(),
        Ok(u) => {
            p.push(
                join(path, "base_url"),
                format!("must be an http or https URL, got scheme `{}`", u.scheme()),
            );
            None
        }
        Err(e) => {
            p.push(
                join(path, "base_url"),
                format!(
                    "is not a URL ({e}), got {:?}; e.g. https://api.openai.com/v1",
                    spec.base_url
                ),
            );
            None
        }
    };
    if spec.model.trim().is_empty() {
        p.push(
            join(path, "model"),
            "must name a model, got an empty string",
        );
    }
    if let Some(v) = &spec.api_key_env {
        if v.is_empty() || v.contains('=') || v.contains('\0') {
            p.push(
                join(path, "api_key_env"),
                format!("must be the name of an environment variable, got {v:?}"),
            );
        }
    }
    if let Some(t) = spec.temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        p.push(
            join(path, "temperature"),
            format!("must be in [0, 2] or null, got {t}"),
        );
    }
    for k in ["model", "messages"] {
        if spec.extra.contains_key(k) {
            p.push(
                join(&join(path, "extra"), k),
                "is set by specsim; remove it from `extra`",
            );
        }
    }
    if spec
        .extra
        .get("stream")
        .is_some_and(|v| v != &serde_json::Value::Bool(false))
    {
        p.push(
            join(&join(path, "extra"), "stream"),
            "streaming responses are not supported; remove it (latency is measured to the full reply)",
        );
    }
    if spec.max_tokens == Some(0) {
        p.push(join(path, "max_tokens"), "must be at least 1, got 0");
    }
    let timeout = secs(p, &join(path, "timeout_s"), spec.timeout_s);
    let connect_timeout = secs(p, &join(path, "connect_timeout_s"), spec.connect_timeout_s);
    (p.items().len() == before).then(|| Endpoint {
        url: url.expect("checked"),
        spec: spec.clone(),
        timeout,
        connect_timeout,
    })
}

impl LiveConfig {
    /// Reads a configuration file; errors name the file and the field or line.
    pub fn read(path: &Path) -> Result<LiveConfig, LiveError> {
        let text = std::fs::read_to_string(path).map_err(|source| LiveError::Read {
            file: path.display().to_string(),
            what: "live config",
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses JSON text.
    pub fn parse(text: &str, source: &str) -> Result<LiveConfig, LiveError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let (at, mut m) = crate::scenario::file::json_error_at(e);
            if m.starts_with("unknown field `api_key`") {
                m.push_str(" (keys never go in files: put it in an environment variable and name that in `api_key_env`)");
            }
            LiveError::Parse {
                file: source.to_string(),
                at,
                message: m,
            }
        })
    }

    /// Validates the configuration, reporting every problem as `source: field: message`.
    pub fn build(self, source: &str) -> Result<LiveSetup, LiveError> {
        let mut p = Problems::new();
        let start = match Url::parse(&self.site) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Some(u),
            Ok(u) => {
                p.push(
                    "site",
                    format!("must be an http or https URL, got scheme `{}`", u.scheme()),
                );
                None
            }
            Err(e) => {
                p.push("site", format!("is not a URL ({e}), got {:?}", self.site));
                None
            }
        };
        let mut origins: Vec<String> = start.iter().map(origin_of).collect();
        for (i, o) in self.allowed_origins.iter().enumerate() {
            match Url::parse(o) {
                Ok(u) if u.has_host() => origins.push(origin_of(&u)),
                _ => p.push(
                    index("allowed_origins", i),
                    format!("must be an origin such as https://example.org, got {o:?}"),
                ),
            }
        }
        if self.policy == Policy::Oracle {
            p.push(
                "policy",
                "`oracle` needs the true next page, which a live run cannot know; use none, cache, random or speccache",
            );
        }
        check_rules(
            self.width,
            self.drafts.len(),
            self.policy == Policy::Speccache,
            self.fetcher.rules(),
            &mut p,
        );
        if self.parallel == 0 {
            p.push("parallel", "must be at least 1, got 0");
        }
        if self.max_rounds == 0 {
            p.push("max_rounds", "must be at least 1, got 0");
        }
        if self.tasks.is_empty() && self.sessions == 0 {
            p.push(
                "sessions",
                "must be at least 1 when `tasks` is absent, got 0",
            );
        }
        if self.web.max_page_bytes == 0 {
            p.push("web.max_page_bytes", "must be at least 1, got 0");
        }
        if self.web.max_buttons == 0 {
            p.push("web.max_buttons", "must be at least 1, got 0");
        }
        secs(&mut p, "web.timeout_s", self.web.timeout_s);
        secs(&mut p, "web.connect_timeout_s", self.web.connect_timeout_s);
        self.backoff.check("backoff", &mut p);
        let proxy = self.proxy.as_ref().and_then(|u| match ureq::Proxy::new(u) {
            Ok(x) => Some(x),
            Err(e) => {
                p.push(
                    "proxy",
                    format!("is not a proxy URL ({e}); e.g. http://proxy.example:3128"),
                );
                None
            }
        });
        let target = endpoint(&self.target, "target", &mut p);
        let drafts: Vec<_> = self
            .drafts
            .iter()
            .enumerate()
            .filter_map(|(i, d)| endpoint(d, &index("drafts", i), &mut p))
            .collect();
        if !p.is_empty() {
            return Err(LiveError::Invalid {
                file: source.to_string(),
                problems: p.into_vec(),
            });
        }
        let tasks = if self.tasks.is_empty() {
            (0..self.sessions).map(|i| format!("task {i}")).collect()
        } else {
            self.tasks.clone()
        };
        Ok(LiveSetup {
            start: start.expect("checked"),
            origins,
            tasks,
            target: target.expect("checked"),
            drafts,
            proxy,
            file: self,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_named() {
        let c = LiveConfig::parse(
            r#"{"site": "ftp://x", "policy": "oracle", "width": 0,
                "target": {"base_url": "nope", "model": "", "timeout_s": 0,
                           "extra": {"stream": true}}}"#,
            "live.json",
        )
        .unwrap();
        let e = c.build("live.json").unwrap_err().to_string();
        let want = [
            "live.json: site: must be an http or https URL, got scheme `ftp`",
            "live.json: policy: `oracle` needs the true next page",
            "live.json: width: must be at least 1",
            "live.json: target.base_url: is not a URL",
            "live.json: target.model: must name a model",
            "live.json: target.timeout_s: must be a finite number > 0, got 0",
            "live.json: target.extra.stream: streaming responses are not supported",
        ];
        for w in want {
            assert!(e.contains(w), "missing {w:?} in:\n{e}");
        }
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url("http://user:s3cret@host:8081/v1"),
            "http://user:REDACTED@host:8081/v1"
        );
        assert!(!redact_url("https://u:pw@x.org/").contains("pw"));
        assert_eq!(redact_url("http://host/v1"), "http://host/v1");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn unknown_fields_and_defaults() {
        let e = LiveConfig::parse(
            r#"{"site": "http://a", "target": {"base_url": "http://b", "model": "m", "api_key": "sk"}}"#,
            "c.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("c.json: target.api_key: unknown field `api_key`"),
            "{e}"
        );
        assert!(e.ends_with("name that in `api_key_env`)"), "{e}");
        let s = LiveConfig::parse(
            r#"{"site": "http://a:8080/x", "sessions": 2, "policy": "none",
                "target": {"base_url": "http://b/v1/", "model": "m"}}"#,
            "c.json",
        )
        .unwrap()
        .build("c.json")
        .unwrap();
        assert_eq!(s.target.url.as_str(), "http://b/v1/chat/completions");
        assert_eq!(s.tasks, vec!["task 0", "task 1"]);
        assert_eq!(s.origins, vec!["http://a:8080"]);
        assert_eq!(s.file.web.max_page_bytes, 2_000_000);
    }
}
