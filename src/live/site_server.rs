//! `specsim serve-site`: a site's link graph served as HTML pages over HTTP on loopback, each
//! page answered after a delay drawn from its fetch-latency profile.
//!
//! Page `n` lives at `/p/n` and links to its out-links in the graph's order, each labelled
//! with the page's name (or `Page n`); `/` redirects to the root page. The delay of page `n`
//! is drawn once from the stream `(seed, page n, fetch)`, so it is the same on every request
//! and in every run with the same seed (the common random numbers of the simulator). A page
//! with a size in bytes is padded to that size with an HTML comment.
//!
//! [`proxy`] serves a real site instead: a delaying reverse proxy in front of a web server.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

pub mod proxy;

use super::server::Running;
use super::LiveError;
use crate::sim::dist::Dist;
use crate::sim::rng::{Purpose, StreamKey};
use crate::sim::site::{PageId, Site};

/// Largest padding added to reach a page's size.
const MAX_PAD: u64 = 4 << 20;

/// The button label of a page: its name, or `Page n`.
pub fn label(site: &Site, page: PageId) -> String {
    let name = &site.page(page).name;
    if name.is_empty() {
        format!("Page {page}")
    } else {
        name.clone()
    }
}

/// The URL path of a page.
pub fn page_path(page: PageId) -> String {
    format!("/p/{page}")
}

/// The page a URL path names (`/` is the root).
pub fn page_of_path(site: &Site, path: &str) -> Option<PageId> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    if path == "/" || path.is_empty() {
        return Some(site.root());
    }
    let n: PageId = path
        .strip_prefix("/p/")?
        .trim_end_matches('/')
        .parse()
        .ok()?;
    ((n as usize) < site.page_count()).then_some(n)
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML of a page.
pub fn render(site: &Site, page: PageId) -> String {
    let title = escape(&label(site, page));
    let mut s = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body><h1>{title}</h1>\n<p>Page {page} of a site served by specsim; it links to {} pages.</p>\n<ul>\n",
        site.links(page).len()
    );
    for &v in site.links(page) {
        s.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>\n",
            page_path(v),
            escape(&label(site, v))
        ));
    }
    s.push_str("</ul>\n");
    let want = site.page(page).bytes.min(MAX_PAD) as usize;
    let closing = "</body></html>\n";
    if want > s.len() + closing.len() + 9 {
        let pad = want - s.len() - closing.len() - 9;
        s.push_str("<!-- ");
        s.extend(std::iter::repeat_n('x', pad));
        s.push_str(" -->");
    }
    s.push_str(closing);
    s
}

/// What `serve-site` serves.
#[derive(Clone, Debug)]
pub struct SiteStandIn {
    /// The site.
    pub site: Arc<Site>,
    /// Default fetch latency (pages may override it).
    pub fetch: Dist,
    /// Every delay is multiplied by this (1 serves the profile as it is).
    pub scale: f64,
    /// Seed of the delays.
    pub seed: u64,
}

impl SiteStandIn {
    /// The delay of `page`.
    pub fn delay(&self, page: PageId) -> Duration {
        let d = self.site.fetch_override(page).unwrap_or(&self.fetch);
        let mut rng = StreamKey::root(self.seed).rng(u64::from(page), 0, Purpose::Fetch);
        Duration::from_secs_f64((d.sample(&mut rng) * self.scale).clamp(0.0, 3600.0))
    }
}

async fn respond(State(st): State<Arc<SiteStandIn>>, uri: Uri) -> Response {
    let html = [(header::CONTENT_TYPE, "text/html; charset=utf-8")];
    let path = uri.path();
    match page_of_path(&st.site, path) {
        Some(p) if path == "/" => {
            (StatusCode::FOUND, [(header::LOCATION, page_path(p))]).into_response()
        }
        Some(p) => {
            tokio::time::sleep(st.delay(p)).await;
            (html, render(&st.site, p)).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            html,
            format!("<h1>no page at {}</h1>", escape(path)),
        )
            .into_response(),
    }
}

/// Starts serving `standin` on `bind`.
pub fn serve(standin: SiteStandIn, bind: &str, workers: usize) -> Result<Running, LiveError> {
    let router = Router::new()
        .fallback(respond)
        .with_state(Arc::new(standin));
    Running::start(bind, workers, router)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::html;
    use crate::scenario::problems::Problems;
    use crate::sim::site::{GraphFile, PageSpec};

    fn site() -> Site {
        GraphFile {
            root: 0,
            pages: vec![
                PageSpec {
                    name: "Home & <Co>".into(),
                    bytes: 3000,
                    fetch: None,
                },
                PageSpec::default(),
                PageSpec::default(),
            ],
            edges: vec![[0, 2], [0, 1], [1, 0]],
        }
        .build("site", &mut Problems::new())
        .unwrap()
    }

    #[test]
    fn rendered_pages_parse_back_to_the_graph() {
        let s = site();
        let base = url::Url::parse("http://127.0.0.1:9/p/0").unwrap();
        let h = render(&s, 0);
        assert!(
            h.len() >= 3000 && h.len() < 3100,
            "padded to size: {}",
            h.len()
        );
        let p = html::parse(&h, &base);
        assert_eq!(p.title, "Home & <Co>");
        let got: Vec<(String, String)> = p.links.into_iter().map(|l| (l.url, l.label)).collect();
        assert_eq!(
            got,
            vec![
                ("http://127.0.0.1:9/p/2".to_string(), "Page 2".to_string()),
                ("http://127.0.0.1:9/p/1".to_string(), "Page 1".to_string()),
            ]
        );
        assert_eq!(page_of_path(&s, "/p/2"), Some(2));
        assert_eq!(page_of_path(&s, "/"), Some(0));
        assert_eq!(page_of_path(&s, "/p/3"), None);
        assert_eq!(page_of_path(&s, "/x"), None);
    }

    #[test]
    fn delays_are_per_page_and_seeded() {
        let st = SiteStandIn {
            site: Arc::new(site()),
            fetch: Dist::Uniform(rand::distr::Uniform::new(0.0, 1.0).unwrap()),
            scale: 1.0,
            seed: 3,
        };
        assert_eq!(st.delay(1), st.delay(1));
        assert_ne!(st.delay(1), st.delay(2));
    }
}
