//! `specsim crawl`: a site's link graph, as the live agent sees it, into a graph file.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::{failure, CliError, EXIT_BAD_INPUT};
use crate::io::output::write_atomic;
use crate::live::config::{origin_of, LiveConfig, WebSpec};
use crate::live::crawl::{buttons_json, graph_json, CrawlError, CrawlSpec, Crawler};
use crate::live::retry::{BackoffSpec, Stop};

fn bad(message: String) -> CliError {
    CliError {
        code: EXIT_BAD_INPUT,
        message,
    }
}

#[derive(Debug, clap::Args)]
pub struct CrawlArgs {
    /// Start URL (page 0 of the graph); its origin is allowed.
    url: String,
    /// Write the graph file here (docs/scenario.md format), atomically.
    #[arg(long)]
    out: PathBuf,
    /// Also write, per page, where each of the agent's buttons leads (page index, or null
    /// when the graph leaves it out); `serve-llm --buttons` reads it.
    #[arg(long)]
    buttons: Option<PathBuf>,
    /// Take `allowed_origins` and the `web` section (max_buttons, max_page_bytes, timeouts,
    /// user agent, ...) from this live configuration, so the graph has the agent's buttons.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Another allowed origin, e.g. https://docs.example.org (repeatable).
    #[arg(long = "allow")]
    allow: Vec<String>,
    /// Most pages in the graph.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    max_pages: u64,
    /// Seconds between two requests at least (robots.txt's Crawl-delay wins when longer).
    #[arg(long, default_value_t = 1.0)]
    delay: f64,
    /// Buttons per page at most (the agent's `web.max_buttons`; default 200, or --config's).
    #[arg(long)]
    max_buttons: Option<u32>,
    /// Print progress every N pages on stderr (0: never).
    #[arg(long, default_value_t = 100)]
    progress: usize,
}

pub fn run(a: CrawlArgs) -> Result<(), CliError> {
    let start = match Url::parse(&a.url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => u,
        Ok(u) => {
            return Err(bad(format!(
                "URL: must be http or https, got scheme `{}`",
                u.scheme()
            )))
        }
        Err(e) => return Err(bad(format!("URL: {:?} is not a URL ({e})", a.url))),
    };
    if !a.delay.is_finite() || a.delay < 0.0 {
        return Err(bad(format!(
            "--delay: must be a number of seconds >= 0, got {}",
            a.delay
        )));
    }
    let (mut web, backoff, mut allow) = match &a.config {
        Some(c) => {
            let cfg = LiveConfig::read(c).map_err(|e| bad(e.to_string()))?;
            (cfg.web, cfg.backoff, cfg.allowed_origins)
        }
        None => (WebSpec::default(), BackoffSpec::default(), Vec::new()),
    };
    allow.extend(a.allow.iter().cloned());
    let mut origins = vec![origin_of(&start)];
    for o in &allow {
        match Url::parse(o) {
            Ok(u) if u.has_host() => origins.push(origin_of(&u)),
            _ => {
                return Err(bad(format!(
                    "--allow: must be an origin such as https://example.org, got {o:?}"
                )))
            }
        }
    }
    if let Some(b) = a.max_buttons {
        web.max_buttons = b;
    }
    let spec = CrawlSpec {
        start,
        origins,
        max_pages: a.max_pages as usize,
        delay: Duration::from_secs_f64(a.delay),
        web,
        backoff,
    };
    let stop = Stop::new();
    let on_signal = stop.clone();
    if let Err(e) = ctrlc::set_handler(move || on_signal.raise()) {
        eprintln!("warning: Ctrl-C will not stop the crawl cleanly: {e}");
    }
    let mut crawler = Crawler::new(spec, stop);
    crawler.progress_every = a.progress;
    let crawl = crawler.crawl().map_err(|e| match e {
        CrawlError::Interrupted => CliError {
            code: super::live::EXIT_INTERRUPTED,
            message: "interrupted by Ctrl-C; nothing written".into(),
        },
        e => failure(e.to_string()),
    })?;
    write_atomic(&a.out, graph_json(&crawl.graph).as_bytes())
        .map_err(|e| failure(format!("{}: cannot write the graph: {e}", a.out.display())))?;
    if let Some(b) = &a.buttons {
        write_atomic(b, buttons_json(&crawl.buttons).as_bytes())
            .map_err(|e| failure(format!("{}: cannot write the buttons: {e}", b.display())))?;
    }
    let s = &crawl.stats;
    let left: Vec<String> = s
        .links_left_out
        .iter()
        .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
        .collect();
    eprintln!(
        "crawled {} pages ({} bytes, median out-degree {} over pages with links), {} requests; {} buttons, {} edges{}; wrote {}",
        s.pages,
        s.bytes,
        crawl
            .graph
            .build("graph", &mut crate::scenario::problems::Problems::new())
            .map_or(0.0, |site| site.median_out_degree()),
        s.requests,
        s.buttons,
        s.edges,
        if left.is_empty() {
            String::new()
        } else {
            format!(" (left out: {})", left.join(", "))
        },
        a.out.display()
    );
    for f in &s.failures {
        eprintln!("  failed: {f}");
    }
    Ok(())
}
