//! `specsim crawl`: a site's link graph as the live agent sees it, written in the graph-file
//! format of `docs/scenario.md` (pages named by URL, with their sizes in bytes).
//!
//! Rules (documented in `docs/live.md`):
//! - breadth first from the start URL, links in document order, one request at a time with a
//!   politeness delay between requests (the larger of `delay` and robots.txt's `Crawl-delay`);
//! - only URLs inside the allowed origins are requested; robots.txt of each origin is read
//!   first and honoured (a 4xx robots.txt allows everything; a 5xx or unreachable one
//!   disallows the origin, as RFC 9309 asks);
//! - a page's links are the agent's buttons: parsed by [`super::html::parse`] from at most
//!   `max_page_bytes` of the body, outside the allowed origins left out, at most
//!   `max_buttons` in document order (the rules of [`super::web`]);
//! - redirects are followed within the allowed origins; a page keeps the URL it was linked
//!   by, as the agent names it; only successful responses the agent parses as HTML (a
//!   `Content-Type` naming html or xml, or none) become pages, in the order they were
//!   fetched; links to anything else (other types, errors, robots-excluded, past the page
//!   limit) are left out of the graph and counted;
//! - a page's size is its whole body in bytes.
//!
//! The output depends only on what the site serves: same site, same graph, byte for byte.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::time::{Duration, Instant};

use serde::Serialize;
use url::Url;

use super::config::{origin_of, WebSpec};
use super::html;
use super::retry::{next_step, BackoffSpec, Next, Stop};
use super::web::{get, transport, Attempt};
use crate::sim::rng::{Purpose, StreamKey};
use crate::sim::site::{GraphFile, PageSpec};

/// Largest body read to measure a page's size; larger pages are recorded with this size.
pub const MAX_SIZE: u64 = 256 << 20;

/// The product token matched against robots.txt `User-agent` lines.
pub const ROBOTS_AGENT: &str = "specsim";

/// What to crawl and how.
#[derive(Clone, Debug)]
pub struct CrawlSpec {
    /// Start URL (page 0).
    pub start: Url,
    /// Allowed origins (`scheme://host[:port]`), the start's included.
    pub origins: Vec<String>,
    /// Most pages in the graph.
    pub max_pages: usize,
    /// Least time between two requests.
    pub delay: Duration,
    /// Fetching and link rules, as the agent's `web` section.
    pub web: WebSpec,
    /// Retry waits.
    pub backoff: BackoffSpec,
}

/// Why a URL is not a page of the graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Left {
    /// The response is not HTML.
    NotHtml,
    /// The request failed (HTTP error, redirect refused, transport error).
    Failed,
    /// robots.txt disallows it.
    Robots,
    /// The page limit was reached before it was fetched.
    PastLimit,
}

/// Counts of a crawl.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CrawlStats {
    /// Pages (HTML) in the graph.
    pub pages: usize,
    /// Sum of the pages' sizes, bytes.
    pub bytes: u64,
    /// Requests made (robots.txt and retries included).
    pub requests: u64,
    /// Buttons over all pages.
    pub buttons: usize,
    /// Buttons that became edges.
    pub edges: usize,
    /// Distinct URLs left out of the graph, by reason.
    pub left_out: BTreeMap<String, usize>,
    /// Buttons leading to URLs left out, by reason.
    pub links_left_out: BTreeMap<String, usize>,
    /// Up to 10 failures, `url: message`.
    pub failures: Vec<String>,
}

/// A crawled site.
#[derive(Clone, Debug, PartialEq)]
pub struct Crawl {
    /// The graph file (pages named by URL, sizes in bytes).
    pub graph: GraphFile,
    /// Per page, the agent's buttons in order: the page each leads to, or `None` when the
    /// graph leaves it out.
    pub buttons: Vec<Vec<Option<u32>>>,
    /// Counts.
    pub stats: CrawlStats,
}

/// A fatal crawl error.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// The start page cannot be a page of the graph.
    #[error("{url}: the start URL {why}")]
    Start {
        /// The URL.
        url: String,
        /// What went wrong.
        why: String,
    },
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
}

enum Fetched {
    Html { bytes: u64, links: Vec<String> },
    Other(Left, String),
}

struct Robots {
    rules: Option<texting_robots::Robot>,
    /// Everything disallowed (robots.txt unreachable or 5xx).
    closed: bool,
}

/// The crawler's state: one HTTP agent, robots.txt per origin, the request clock.
pub struct Crawler {
    spec: CrawlSpec,
    agent: ureq::Agent,
    robots: BTreeMap<String, Robots>,
    last: Option<Instant>,
    stop: Stop,
    requests: u64,
    key: StreamKey,
    /// Print progress on stderr every this many pages (0: never).
    pub progress_every: usize,
}

impl Crawler {
    /// A crawler for `spec`; `stop` (Ctrl-C) ends it between requests.
    pub fn new(spec: CrawlSpec, stop: Stop) -> Crawler {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs_f64(spec.web.connect_timeout_s))
            .timeout(Duration::from_secs_f64(spec.web.timeout_s))
            .redirects(0)
            .user_agent(&spec.web.user_agent)
            .build();
        Crawler {
            spec,
            agent,
            robots: BTreeMap::new(),
            last: None,
            stop,
            requests: 0,
            key: StreamKey::root(0).child(0x0063_7261_776c), // "crawl"
            progress_every: 0,
        }
    }

    fn allowed_origin(&self, url: &Url) -> bool {
        self.spec.origins.contains(&origin_of(url))
    }

    /// Waits out the politeness delay, then counts a request.
    fn pace(&mut self) -> Result<(), CrawlError> {
        let robots_delay = self
            .robots
            .values()
            .filter_map(|r| r.rules.as_ref().and_then(|r| r.delay))
            .fold(0.0f64, |a, d| a.max(f64::from(d)));
        let delay = self
            .spec
            .delay
            .max(Duration::from_secs_f64(robots_delay.clamp(0.0, 3600.0)));
        if let Some(last) = self.last {
            let wait = delay.saturating_sub(last.elapsed());
            if !wait.is_zero() && !self.stop.sleep(wait) {
                return Err(CrawlError::Interrupted);
            }
        }
        if self.stop.raised() {
            return Err(CrawlError::Interrupted);
        }
        self.last = Some(Instant::now());
        self.requests += 1;
        Ok(())
    }

    /// Whether robots.txt lets the crawler fetch `url` (reading it on first use).
    fn robots_allow(&mut self, url: &Url) -> Result<bool, CrawlError> {
        let origin = origin_of(url);
        if !self.robots.contains_key(&origin) {
            let r = self.read_robots(url)?;
            self.robots.insert(origin.clone(), r);
        }
        let r = &self.robots[&origin];
        Ok(!r.closed
            && r.rules
                .as_ref()
                .is_none_or(|rules| rules.allowed(url.as_str())))
    }

    fn read_robots(&mut self, url: &Url) -> Result<Robots, CrawlError> {
        let Ok(robots_url) = url.join("/robots.txt") else {
            return Ok(Robots {
                rules: None,
                closed: false,
            });
        };
        self.pace()?;
        let open = |rules| Robots {
            rules,
            closed: false,
        };
        match self.agent.get(robots_url.as_str()).call() {
            Ok(resp) => {
                let mut body = Vec::new();
                let _ = resp.into_reader().take(512 << 10).read_to_end(&mut body);
                match texting_robots::Robot::new(ROBOTS_AGENT, &body) {
                    Ok(r) => Ok(open(Some(r))),
                    Err(e) => {
                        eprintln!("warning: {robots_url}: unreadable robots.txt ({e}); everything allowed");
                        Ok(open(None))
                    }
                }
            }
            Err(ureq::Error::Status(code, _)) if (400..500).contains(&code) => Ok(open(None)),
            Err(e) => {
                let why = match e {
                    ureq::Error::Status(code, _) => format!("HTTP {code}"),
                    ureq::Error::Transport(t) => transport(&t),
                };
                eprintln!(
                    "warning: {robots_url}: {why}; the origin is treated as disallowed (RFC 9309)"
                );
                Ok(Robots {
                    rules: None,
                    closed: true,
                })
            }
        }
    }

    /// Fetches `url`, following redirects within the allowed origins, retrying transient
    /// failures.
    fn fetch(&mut self, url: &str, nonce: u64) -> Result<Fetched, CrawlError> {
        let mut current = match Url::parse(url) {
            Ok(u) => u,
            Err(e) => return Ok(Fetched::Other(Left::Failed, format!("not a URL: {e}"))),
        };
        let mut rng = self.key.rng(nonce, 0, Purpose::Other);
        let (mut redirects, mut attempt) = (0, 0);
        loop {
            self.pace()?;
            match self.attempt(&current) {
                Attempt::Done(f) => return Ok(f),
                Attempt::Fatal(m) => return Ok(Fetched::Other(Left::Failed, m)),
                Attempt::Redirect(to) => {
                    redirects += 1;
                    if redirects > self.spec.web.max_redirects {
                        let m = format!("more than {} redirects", self.spec.web.max_redirects);
                        return Ok(Fetched::Other(Left::Failed, m));
                    }
                    if !self.allowed_origin(&to) {
                        let m = format!("redirect refused: {to} is outside the allowed origins");
                        return Ok(Fetched::Other(Left::Failed, m));
                    }
                    if !self.robots_allow(&to)? {
                        return Ok(Fetched::Other(Left::Robots, format!("redirect to {to}")));
                    }
                    current = to;
                }
                Attempt::Retry(m, ra) => {
                    let retries = self.spec.web.retries;
                    match next_step(&self.spec.backoff, retries, attempt, ra, &mut rng) {
                        Next::Wait(d) => {
                            if !self.stop.sleep(d) {
                                return Err(CrawlError::Interrupted);
                            }
                        }
                        Next::GiveUp(why) => {
                            return Ok(Fetched::Other(Left::Failed, format!("{m}; {why}")))
                        }
                    }
                    attempt += 1;
                }
            }
        }
    }

    fn attempt(&self, url: &Url) -> Attempt<Fetched> {
        let resp = match get(&self.agent, url) {
            Ok(r) => r,
            Err(a) => return a,
        };
        // The agent's rule (web.rs): parsed as HTML when the type names html or xml, or is
        // absent.
        let ctype = resp.header("content-type").map(str::to_string);
        let html_like = ctype
            .as_deref()
            .is_none_or(|c| c.contains("html") || c.contains("xml"));
        let mut body = Vec::new();
        if let Err(e) = resp.into_reader().take(MAX_SIZE).read_to_end(&mut body) {
            return Attempt::Retry(format!("reading the body failed: {e}"), None);
        }
        if !html_like {
            let t = ctype.unwrap_or_default();
            return Attempt::Done(Fetched::Other(Left::NotHtml, format!("content type {t}")));
        }
        let bytes = body.len() as u64;
        body.truncate(self.spec.web.max_page_bytes.min(usize::MAX as u64) as usize);
        let text = String::from_utf8_lossy(&body);
        let links = self.buttons(&text, url);
        Attempt::Done(Fetched::Html { bytes, links })
    }

    /// The agent's buttons of a page: its links within the allowed origins, at most
    /// `max_buttons`, in document order.
    pub fn buttons(&self, html_text: &str, base: &Url) -> Vec<String> {
        let mut links: Vec<String> = html::parse(html_text, base)
            .links
            .into_iter()
            .map(|l| l.url)
            .filter(|u| Url::parse(u).is_ok_and(|u| self.allowed_origin(&u)))
            .collect();
        links.truncate(self.spec.web.max_buttons as usize);
        links
    }

    /// Crawls breadth first from the start URL.
    pub fn crawl(&mut self) -> Result<Crawl, CrawlError> {
        let start = {
            let mut s = self.spec.start.clone();
            s.set_fragment(None);
            s.to_string()
        };
        // Every URL met, in the order met, with what became of it.
        let mut known: BTreeMap<String, Option<Result<u32, Left>>> = BTreeMap::new();
        let mut queue = VecDeque::from([start.clone()]);
        known.insert(start.clone(), None);
        let mut pages: Vec<(String, u64, Vec<String>)> = Vec::new();
        let mut failures = Vec::new();
        while let Some(url) = queue.pop_front() {
            let fate = if pages.len() >= self.spec.max_pages {
                Err(Left::PastLimit)
            } else {
                let parsed = Url::parse(&url).ok();
                let allowed = match &parsed {
                    Some(u) => self.robots_allow(u)?,
                    None => true,
                };
                if !allowed {
                    Err(Left::Robots)
                } else {
                    match self.fetch(&url, pages.len() as u64)? {
                        Fetched::Html { bytes, links } => {
                            for l in &links {
                                if !known.contains_key(l) {
                                    known.insert(l.clone(), None);
                                    queue.push_back(l.clone());
                                }
                            }
                            pages.push((url.clone(), bytes, links));
                            if self.progress_every > 0 && pages.len() % self.progress_every == 0 {
                                eprintln!(
                                    "crawl: {} pages, {} URLs waiting",
                                    pages.len(),
                                    queue.len()
                                );
                            }
                            Ok(pages.len() as u32 - 1)
                        }
                        Fetched::Other(why, m) => {
                            if why == Left::Failed && failures.len() < 10 {
                                failures.push(format!("{url}: {m}"));
                            }
                            Err(why)
                        }
                    }
                }
            };
            if url == start {
                if let Err(why) = &fate {
                    return Err(CrawlError::Start {
                        url,
                        why: match why {
                            Left::NotHtml => "is not an HTML page".into(),
                            Left::Failed => format!(
                                "could not be fetched: {}",
                                failures.first().cloned().unwrap_or_default()
                            ),
                            Left::Robots => "is disallowed by robots.txt".into(),
                            Left::PastLimit => "is past the page limit (--max-pages 0?)".into(),
                        },
                    });
                }
            }
            known.insert(url, Some(fate));
        }
        let mut stats = CrawlStats {
            pages: pages.len(),
            bytes: pages.iter().map(|p| p.1).sum(),
            requests: self.requests,
            failures,
            ..CrawlStats::default()
        };
        for fate in known.values() {
            if let Some(Err(why)) = fate {
                *stats.left_out.entry(reason(why)).or_insert(0) += 1;
            }
        }
        let mut edges = Vec::new();
        let mut buttons = Vec::with_capacity(pages.len());
        for (u, (_, _, links)) in pages.iter().enumerate() {
            let mut row = Vec::with_capacity(links.len());
            for l in links {
                stats.buttons += 1;
                match &known[l] {
                    Some(Ok(v)) => {
                        edges.push([u as u32, *v]);
                        row.push(Some(*v));
                    }
                    Some(Err(why)) => {
                        *stats.links_left_out.entry(reason(why)).or_insert(0) += 1;
                        row.push(None);
                    }
                    None => unreachable!("every queued URL is decided before the loop ends"),
                }
            }
            buttons.push(row);
        }
        stats.edges = edges.len();
        let graph = GraphFile {
            root: 0,
            pages: pages
                .into_iter()
                .map(|(name, bytes, _)| PageSpec {
                    name,
                    bytes,
                    fetch: None,
                })
                .collect(),
            edges,
        };
        Ok(Crawl {
            graph,
            buttons,
            stats,
        })
    }
}

fn reason(l: &Left) -> String {
    serde_json::to_value(l)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The graph file as text: one page per line, the edges of one page per line.
pub fn graph_json(g: &GraphFile) -> String {
    let mut s = format!("{{\"root\": {},\n \"pages\": [\n", g.root);
    for (i, p) in g.pages.iter().enumerate() {
        let sep = if i + 1 < g.pages.len() { "," } else { "" };
        let v = serde_json::json!({"name": p.name, "bytes": p.bytes});
        s.push_str(&format!("  {v}{sep}\n"));
    }
    s.push_str(" ],\n \"edges\": [\n");
    let mut rows: Vec<String> = Vec::new();
    let mut i = 0;
    while i < g.edges.len() {
        let from = g.edges[i][0];
        let mut j = i;
        while j < g.edges.len() && g.edges[j][0] == from {
            j += 1;
        }
        let row: Vec<String> = g.edges[i..j]
            .iter()
            .map(|e| format!("[{},{}]", e[0], e[1]))
            .collect();
        rows.push(format!("  {}", row.join(",")));
        i = j;
    }
    s.push_str(&rows.join(",\n"));
    if !rows.is_empty() {
        s.push('\n');
    }
    s.push_str(" ]\n}\n");
    s
}

/// The buttons file (`crawl --buttons`): per page, the page each button leads to, or `null`.
pub fn buttons_json(buttons: &[Vec<Option<u32>>]) -> String {
    let mut s = String::from("{\"specsim_buttons\": 1,\n \"pages\": [\n");
    for (i, row) in buttons.iter().enumerate() {
        let sep = if i + 1 < buttons.len() { "," } else { "" };
        s.push_str(&format!(
            "  {}{sep}\n",
            serde_json::to_string(row).unwrap_or_default()
        ));
    }
    s.push_str(" ]\n}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::problems::Problems;

    #[test]
    fn graph_text_reads_back() {
        let g = GraphFile {
            root: 0,
            pages: vec![
                PageSpec {
                    name: "http://h/".into(),
                    bytes: 10,
                    fetch: None,
                },
                PageSpec {
                    name: "http://h/\"q\"".into(),
                    bytes: 0,
                    fetch: None,
                },
            ],
            edges: vec![[0, 1], [0, 0], [1, 0]],
        };
        let text = graph_json(&g);
        let back: GraphFile = serde_json::from_str(&text).unwrap();
        assert_eq!(back, g);
        assert!(back.build("g", &mut Problems::new()).is_some());
        assert_eq!(
            text.lines().count(),
            10,
            "one line per page and per source page: {text}"
        );
        let b = buttons_json(&[vec![Some(1), None], vec![]]);
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["pages"], serde_json::json!([[1, null], []]));
    }
}
