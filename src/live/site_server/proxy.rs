//! `specsim serve-site --upstream URL`: a delaying reverse proxy in front of a real web server,
//! so a real site (real HTML, real sizes) is served with the latency of a measured profile.
//!
//! Every `GET` or `HEAD` is forwarded to the upstream (same path and query, no redirects
//! followed, `Accept-Encoding: identity`), the whole body is buffered, and the response
//! (status, `Content-Type`, `Location`, `Last-Modified`, `ETag`, `Cache-Control`, the body
//! byte for byte) is sent `delay` after the request arrived, or as soon as the upstream has
//! answered when that took longer. The delay of the `n`-th request (counting from 0) for a
//! path and query is drawn from the stream `(seed, path and query, n)`: a run that makes the
//! same requests in the same order per path sees the same delays. A `Location` pointing at the
//! upstream's origin is rewritten to a path, so redirects stay on the proxy.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use url::Url;

use super::super::server::Running;
use super::super::LiveError;
use crate::sim::dist::Dist;
use crate::sim::rng::{Purpose, StreamKey};

/// Largest upstream body the proxy buffers; a larger one is answered with 502.
pub const MAX_BODY: u64 = 64 << 20;

/// Stream tag of the proxy's delays under the seed.
const PROXY_TAG: u64 = 0x0070_726f_7879; // "proxy"

/// Response headers passed through from the upstream (the length is recomputed).
const PASSED: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::LAST_MODIFIED,
    header::ETAG,
    header::CACHE_CONTROL,
];

/// What the proxy forwards to and how it delays.
#[derive(Debug)]
pub struct Proxy {
    upstream: Url,
    fetch: Dist,
    scale: f64,
    seed: u64,
    agent: ureq::Agent,
    counts: Mutex<HashMap<String, u64>>,
}

/// FNV-1a of a string: a fixed, documented hash (std's hasher may change between releases).
pub fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A buffered upstream response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    /// HTTP status.
    pub status: u16,
    /// Headers passed through (name, value).
    pub headers: Vec<(HeaderName, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// An `--upstream` that cannot be proxied.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Not a URL.
    #[error("--upstream: {upstream:?} is not a URL ({source})")]
    NotAUrl {
        /// As given.
        upstream: String,
        /// Why.
        #[source]
        source: url::ParseError,
    },
    /// Neither http nor https.
    #[error("--upstream: {upstream:?}: only http and https upstreams are allowed")]
    Scheme {
        /// As given.
        upstream: String,
    },
    /// A query or fragment.
    #[error("--upstream: {upstream:?}: give an origin with an optional path prefix, no query or fragment")]
    NotAnOrigin {
        /// As given.
        upstream: String,
    },
}

impl Proxy {
    /// A proxy to `upstream` (`http://host:port`, optionally with a path prefix), delaying
    /// each response by a draw from `fetch` times `scale`, keyed by `seed`.
    pub fn new(upstream: &str, fetch: Dist, scale: f64, seed: u64) -> Result<Proxy, UpstreamError> {
        let given = || upstream.to_string();
        let mut url = Url::parse(upstream).map_err(|source| UpstreamError::NotAUrl {
            upstream: given(),
            source,
        })?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(UpstreamError::Scheme { upstream: given() });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(UpstreamError::NotAnOrigin { upstream: given() });
        }
        if !url.path().ends_with('/') {
            let p = format!("{}/", url.path());
            url.set_path(&p);
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .redirects(0)
            .build();
        Ok(Proxy {
            upstream: url,
            fetch,
            scale,
            seed,
            agent,
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// The delay of the `n`-th request for `target` (path and query).
    pub fn delay(&self, target: &str, n: u64) -> Duration {
        let mut rng = StreamKey::root(self.seed)
            .child(PROXY_TAG)
            .child(fnv(target))
            .rng(n, 0, Purpose::Fetch);
        Duration::from_secs_f64((self.fetch.sample(&mut rng) * self.scale).clamp(0.0, 3600.0))
    }

    /// Counts a request for `target` and returns its delay.
    fn next_delay(&self, target: &str) -> Duration {
        let n = {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            let c = counts.entry(target.to_string()).or_insert(0);
            *c += 1;
            *c - 1
        };
        self.delay(target, n)
    }

    /// The upstream URL of a request target (`/path?query`).
    pub fn upstream_url(&self, target: &str) -> Result<Url, String> {
        self.upstream
            .join(target.trim_start_matches('/'))
            .map_err(|e| format!("cannot forward {target:?}: {e}"))
    }

    /// Fetches `target` from the upstream (blocking).
    pub fn forward(&self, head: bool, target: &str) -> Result<Upstream, String> {
        let url = self.upstream_url(target)?;
        let req = if head {
            self.agent.head(url.as_str())
        } else {
            self.agent.get(url.as_str())
        };
        let resp = match req.set("Accept-Encoding", "identity").call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => {
                return Err(format!(
                    "upstream {url}: {}",
                    crate::live::web::transport(&t)
                ))
            }
        };
        let status = resp.status();
        let mut headers = Vec::new();
        for name in PASSED {
            if let Some(v) = resp.header(name.as_str()) {
                let v = if name == header::LOCATION {
                    self.local_location(v)
                } else {
                    v.to_string()
                };
                headers.push((name, v));
            }
        }
        let mut body = Vec::new();
        resp.into_reader()
            .take(MAX_BODY + 1)
            .read_to_end(&mut body)
            .map_err(|e| format!("upstream {url}: reading the body failed: {e}"))?;
        if body.len() as u64 > MAX_BODY {
            return Err(format!(
                "upstream {url}: the body is larger than {MAX_BODY} bytes"
            ));
        }
        Ok(Upstream {
            status,
            headers,
            body,
        })
    }

    /// A `Location` under the upstream's origin and path prefix becomes a path on the proxy.
    fn local_location(&self, location: &str) -> String {
        let prefix = self.upstream.path();
        match self.upstream.join(location) {
            Ok(u) if u.origin() == self.upstream.origin() && u.path().starts_with(prefix) => {
                let mut s = format!("/{}", &u.path()[prefix.len()..]);
                if let Some(q) = u.query() {
                    s.push('?');
                    s.push_str(q);
                }
                s
            }
            _ => location.to_string(),
        }
    }
}

fn bad_gateway(message: String) -> Response {
    eprintln!("warning: {message}");
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

async fn respond(State(proxy): State<Arc<Proxy>>, method: Method, uri: Uri) -> Response {
    let arrived = Instant::now();
    let head = method == Method::HEAD;
    if method != Method::GET && !head {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "only GET and HEAD are forwarded\n",
        )
            .into_response();
    }
    let target = uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    let delay = proxy.next_delay(&target);
    let p = Arc::clone(&proxy);
    let t = target.clone();
    let fetched = tokio::task::spawn_blocking(move || p.forward(head, &t)).await;
    tokio::time::sleep_until((arrived + delay).into()).await;
    let up = match fetched {
        Ok(Ok(up)) => up,
        Ok(Err(m)) => return bad_gateway(m),
        Err(e) => return bad_gateway(format!("forwarding {target} failed: {e}")),
    };
    let status = StatusCode::from_u16(up.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut resp = (status, up.body).into_response();
    for (name, v) in up.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

/// Starts the proxy on `bind`.
pub fn serve(proxy: Proxy, bind: &str, workers: usize) -> Result<Running, LiveError> {
    let router = Router::new().fallback(respond).with_state(Arc::new(proxy));
    Running::start(bind, workers, router)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_depend_on_seed_path_and_count_only() {
        let d = Dist::Uniform(rand::distr::Uniform::new(0.0, 1.0).unwrap());
        let a = Proxy::new("http://127.0.0.1:9", d.clone(), 1.0, 5).unwrap();
        let b = Proxy::new("http://127.0.0.1:9", d.clone(), 1.0, 5).unwrap();
        let c = Proxy::new("http://127.0.0.1:9", d, 1.0, 6).unwrap();
        assert_eq!(a.delay("/x.html", 0), b.delay("/x.html", 0));
        assert_ne!(a.delay("/x.html", 0), a.delay("/x.html", 1));
        assert_ne!(a.delay("/x.html", 0), a.delay("/y.html", 0));
        assert_ne!(a.delay("/x.html", 0), c.delay("/x.html", 0));
        // The counter advances per path: the second request of a path gets draw 1.
        assert_eq!(a.next_delay("/x.html"), a.delay("/x.html", 0));
        assert_eq!(a.next_delay("/y.html"), a.delay("/y.html", 0));
        assert_eq!(a.next_delay("/x.html"), a.delay("/x.html", 1));
    }

    #[test]
    fn upstream_urls_and_locations() {
        let p = Proxy::new("http://127.0.0.1:9/docs", Dist::Constant(0.0), 1.0, 1).unwrap();
        assert_eq!(
            p.upstream_url("/a/b.html?q=1").unwrap().as_str(),
            "http://127.0.0.1:9/docs/a/b.html?q=1"
        );
        assert_eq!(p.local_location("http://127.0.0.1:9/docs/a/"), "/a/");
        assert_eq!(p.local_location("/docs/x?y"), "/x?y");
        assert_eq!(p.local_location("/other/"), "/other/");
        assert_eq!(
            p.local_location("https://elsewhere.org/"),
            "https://elsewhere.org/"
        );
        assert!(Proxy::new("ftp://h/", Dist::Constant(0.0), 1.0, 1).is_err());
        assert!(Proxy::new("not a url", Dist::Constant(0.0), 1.0, 1).is_err());
        assert!(Proxy::new("http://h/?q", Dist::Constant(0.0), 1.0, 1).is_err());
    }

    /// An upstream in this process answering `/a.html` (HTML), `/dir` (a redirect to `/dir/`
    /// with an absolute Location) and anything else with 404.
    fn upstream() -> (String, std::thread::JoinHandle<()>, Arc<tiny_http::Server>) {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let (s, base) = (Arc::clone(&server), url.clone());
        let h = |k: &str, v: &str| tiny_http::Header::from_bytes(k, v).unwrap();
        let thread = std::thread::spawn(move || {
            while let Ok(req) = s.recv() {
                let resp = match req.url() {
                    "/a.html?x=1" => tiny_http::Response::from_data(vec![b'<'; 70_001])
                        .with_header(h("Content-Type", "text/html; charset=utf-8"))
                        .with_header(h("ETag", "\"e1\"")),
                    "/dir" => tiny_http::Response::from_data(Vec::new())
                        .with_status_code(301)
                        .with_header(h("Location", &format!("{base}/dir/"))),
                    _ => tiny_http::Response::from_data(b"gone".to_vec())
                        .with_status_code(404)
                        .with_header(h("Content-Type", "text/plain")),
                };
                let _ = req.respond(resp);
            }
        });
        (url, thread, server)
    }

    #[test]
    fn responses_pass_through_after_the_delay() {
        let (url, thread, server) = upstream();
        let proxy = Proxy::new(&url, Dist::Constant(0.05), 1.0, 1).unwrap();
        let running = serve(proxy, "127.0.0.1:0", 2).unwrap();
        let base = format!("http://{}", running.addr());
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        let t0 = Instant::now();
        let r = agent.get(&format!("{base}/a.html?x=1")).call().unwrap();
        assert!(t0.elapsed() >= Duration::from_millis(50), "delayed");
        assert_eq!(r.status(), 200);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(r.header("etag"), Some("\"e1\""));
        let mut body = Vec::new();
        r.into_reader().read_to_end(&mut body).unwrap();
        assert_eq!(body.len(), 70_001);
        let r = agent.get(&format!("{base}/dir")).call().unwrap();
        assert_eq!((r.status(), r.header("location")), (301, Some("/dir/")));
        match agent.get(&format!("{base}/nope")).call() {
            Err(ureq::Error::Status(404, r)) => {
                assert_eq!(r.into_string().unwrap(), "gone");
            }
            other => panic!("expected 404, got {other:?}"),
        }
        match agent.post(&format!("{base}/a.html")).call() {
            Err(ureq::Error::Status(code, _)) => assert_eq!(code, 405),
            other => panic!("expected 405, got {other:?}"),
        }
        running.stop();
        server.unblock();
        thread.join().unwrap();
        // An upstream that refuses connections gives 502 with the reason.
        let proxy = Proxy::new("http://127.0.0.1:1", Dist::Constant(0.0), 1.0, 1).unwrap();
        let running = serve(proxy, "127.0.0.1:0", 1).unwrap();
        match agent.get(&format!("http://{}/x", running.addr())).call() {
            Err(ureq::Error::Status(502, r)) => {
                let m = r.into_string().unwrap();
                assert!(m.starts_with("upstream http://127.0.0.1:1/x: "), "{m}");
            }
            other => panic!("expected 502, got {other:?}"),
        }
        running.stop();
    }
}
