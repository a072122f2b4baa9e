//! The page fetcher: HTTP(S) GET with timeouts, retries, a body size cap, redirects followed
//! only within the allowed origins, and HTML parsed into an observation.
//!
//! Rules (documented in `docs/live.md`):
//! - a URL outside the allowed origins is never requested ([`WebError::Origin`]);
//! - redirects are followed by hand (at most `max_redirects`), each hop checked against the
//!   allowed origins: a redirect off-origin fails the fetch;
//! - connection errors, timeouts, 429 and 5xx are retried with backoff (`Retry-After`
//!   honoured); other 4xx fail at once;
//! - a body longer than `max_page_bytes` is cut there and parsed as far as it goes;
//! - non-HTML content yields its text (if textual) and no links.

use std::io::Read;
use std::time::Duration;

use url::Url;

use super::config::{origin_of, LiveSetup, WebSpec};
use super::html::{self, Parsed};
use super::retry::{next_step, parse_retry_after, BackoffSpec, Next, Stop};
use crate::sim::rng::{Purpose, StreamKey};

/// A fetched, parsed page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// URL after same-origin redirects.
    pub url: String,
    /// Title, text and links (links outside the allowed origins removed, at most
    /// `max_buttons`).
    pub parsed: Parsed,
    /// Body bytes read.
    pub bytes: u64,
    /// The body was longer than `max_page_bytes` and was cut.
    pub truncated: bool,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebError {
    /// The URL is outside the allowed origins.
    #[error("{url}: refused: origin {origin} is not allowed (allowed: {allowed}; add it to `allowed_origins`)")]
    Origin {
        /// The URL.
        url: String,
        /// Its origin.
        origin: String,
        /// The allowed origins.
        allowed: String,
    },
    /// HTTP failure after retries.
    #[error("{url}: {message}")]
    Failed {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
}

/// Fetches pages for one live run.
#[derive(Clone, Debug)]
pub struct Fetcher {
    agent: ureq::Agent,
    spec: WebSpec,
    backoff: BackoffSpec,
    origins: Vec<String>,
    key: StreamKey,
    stop: Stop,
}

/// What one GET came to: a result, a redirect to follow, a failure worth retrying (with the
/// server's Retry-After) or one that is final. Shared by the agent's fetcher and the crawler.
pub(crate) enum Attempt<T> {
    Done(T),
    Redirect(Url),
    Retry(String, Option<Duration>),
    Fatal(String),
}

/// Sends a GET for `url`: the response when its status is neither an error nor a redirect,
/// else the [`Attempt`] it comes to (429 and 5xx, and transport errors, are retried).
pub(crate) fn get<T>(agent: &ureq::Agent, url: &Url) -> Result<ureq::Response, Attempt<T>> {
    let resp = match agent.get(url.as_str()).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => {
            let ra = parse_retry_after(r.header("retry-after"));
            let m = format!("HTTP {code} {}", r.status_text());
            return Err(if code == 429 || code >= 500 {
                Attempt::Retry(m, ra)
            } else {
                Attempt::Fatal(m)
            });
        }
        Err(ureq::Error::Transport(t)) => return Err(Attempt::Retry(transport(&t), None)),
    };
    let code = resp.status();
    if (300..400).contains(&code) {
        return Err(match resp.header("location").map(|l| url.join(l)) {
            Some(Ok(to)) => Attempt::Redirect(to),
            _ => Attempt::Fatal(format!("HTTP {code} without a usable Location header")),
        });
    }
    Ok(resp)
}

impl Fetcher {
    /// A fetcher for `setup`; `stop` cuts backoff waits short.
    pub fn new(setup: &LiveSetup, stop: Stop) -> Fetcher {
        let spec = setup.file.web.clone();
        Fetcher::with(
            spec,
            setup.file.backoff.clone(),
            setup.origins.clone(),
            setup.file.seed,
            setup.proxy.clone(),
            stop,
        )
    }

    /// A fetcher from its parts.
    pub fn with(
        spec: WebSpec,
        backoff: BackoffSpec,
        origins: Vec<String>,
        seed: u64,
        proxy: Option<ureq::Proxy>,
        stop: Stop,
    ) -> Fetcher {
        let mut agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs_f64(spec.connect_timeout_s))
            .timeout(Duration::from_secs_f64(spec.timeout_s))
            .redirects(0)
            .user_agent(&spec.user_agent);
        if let Some(p) = proxy {
            agent = agent.proxy(p);
        }
        let agent = agent.build();
        Fetcher {
            agent,
            spec,
            backoff,
            origins,
            key: StreamKey::root(seed).child(0x0077_6562), // "web"
            stop,
        }
    }

    fn allowed(&self, url: &Url) -> Result<(), WebError> {
        let origin = origin_of(url);
        if self.origins.contains(&origin) {
            Ok(())
        } else {
            Err(WebError::Origin {
                url: url.to_string(),
                origin,
                allowed: self.origins.join(", "),
            })
        }
    }

    /// Whether a link may be offered (and fetched).
    pub fn allows(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|u| self.allowed(&u).is_ok())
    }

    /// Fetches and parses `url`; `nonce` varies the backoff jitter between fetches.
    pub fn fetch(&self, url: &str, nonce: u64) -> Result<Page, WebError> {
        let fail = |message: String| WebError::Failed {
            url: url.to_string(),
            message,
        };
        let mut current = Url::parse(url).map_err(|e| fail(format!("not a URL: {e}")))?;
        let mut rng = self.key.rng(nonce, 0, Purpose::Other);
        let mut redirects = 0;
        let mut attempt = 0;
        loop {
            self.allowed(&current)?;
            match self.attempt(&current) {
                Attempt::Done(p) => return Ok(p),
                Attempt::Redirect(to) => {
                    redirects += 1;
                    if redirects > self.spec.max_redirects {
                        return Err(fail(format!(
                            "more than {} redirects (web.max_redirects)",
                            self.spec.max_redirects
                        )));
                    }
                    if let Err(e) = self.allowed(&to) {
                        return Err(fail(format!("redirect refused: {e}")));
                    }
                    current = to;
                }
                Attempt::Fatal(m) => return Err(fail(m)),
                Attempt::Retry(m, ra) => {
                    match next_step(&self.backoff, self.spec.retries, attempt, ra, &mut rng) {
                        Next::Wait(d) => {
                            if !self.stop.sleep(d) {
                                return Err(fail(format!("{m}; interrupted")));
                            }
                        }
                        Next::GiveUp(why) => return Err(fail(format!("{m}; {why}"))),
                    }
                    attempt += 1;
                }
            }
        }
    }

    fn attempt(&self, url: &Url) -> Attempt<Page> {
        let resp = match get(&self.agent, url) {
            Ok(r) => r,
            Err(a) => return a,
        };
        let html_like = resp
            .header("content-type")
            .is_none_or(|c| c.contains("html") || c.contains("xml"));
        let texty = resp
            .header("content-type")
            .is_none_or(|c| c.starts_with("text/") || c.contains("html") || c.contains("xml"));
        let cap = self.spec.max_page_bytes;
        let mut body = Vec::new();
        if let Err(e) = resp.into_reader().take(cap + 1).read_to_end(&mut body) {
            return Attempt::Retry(format!("reading the body failed: {e}"), None);
        }
        let truncated = body.len() as u64 > cap;
        body.truncate(cap as usize);
        let bytes = body.len() as u64;
        let text = String::from_utf8_lossy(&body);
        let mut parsed = if html_like {
            html::parse(&text, url)
        } else if texty {
            Parsed {
                text: text.split_whitespace().collect::<Vec<_>>().join(" "),
                ..Parsed::default()
            }
        } else {
            Parsed::default()
        };
        parsed.links.retain(|l| self.allows(&l.url));
        parsed.links.truncate(self.spec.max_buttons as usize);
        Attempt::Done(Page {
            url: url.to_string(),
            parsed,
            bytes,
            truncated,
        })
    }
}

/// A transport error's message: its kind and cause, never request headers.
pub(crate) fn transport(t: &ureq::Transport) -> String {
    let mut m = format!("{}", t.kind());
    if let Some(msg) = t.message() {
        m.push_str(": ");
        m.push_str(msg);
    }
    m
}
