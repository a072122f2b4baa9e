//! `specsim serve-site` and `specsim serve-llm`: local stand-ins on loopback.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use super::{load_scenario, CliError, EXIT_BAD_INPUT, EXIT_FAILURE};
use crate::live::llm_server::{self, LlmStandIn};
use crate::live::server::Running;
use crate::live::site_server::{self, SiteStandIn};
use crate::scenario::problems::Problems;
use crate::sim::dist::{Dist, DistSpec};
use crate::sim::draft::{AccuracySpec, Draft};
use crate::sim::site::GraphFile;

fn bad(message: String) -> CliError {
    CliError {
        code: EXIT_BAD_INPUT,
        message,
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeSiteArgs {
    /// Scenario whose site and fetch latency are served (default: the embedded default).
    #[arg(conflicts_with = "graph")]
    scenario: Option<PathBuf>,
    /// Serve this graph file (docs/scenario.md edge-list JSON) instead of a scenario's site.
    #[arg(long)]
    graph: Option<PathBuf>,
    /// Page delay distribution, JSON seconds (default: the scenario's `fetch`, or 0 with
    /// --graph), e.g. '{"dist":"lognormal","median":0.01,"sigma":0.3}'.
    #[arg(long)]
    latency: Option<String>,
    #[command(flatten)]
    net: Net,
}

#[derive(Debug, clap::Args)]
pub struct ServeLlmArgs {
    /// Scenario with the site, the walker (hidden goal paths), the target's latency and the
    /// first draft's latency and accuracy (default: the embedded default).
    scenario: Option<PathBuf>,
    /// Model name answered as the target.
    #[arg(long, default_value = "target")]
    target_model: String,
    /// Model name answered as the draft.
    #[arg(long, default_value = "draft")]
    draft_model: String,
    /// Override the draft's accuracy, JSON, e.g. '{"cumulative":[0.6,0.75,0.83]}'.
    #[arg(long)]
    accuracy: Option<String>,
    /// Require `Authorization: Bearer $VAR` (the key read from this environment variable).
    #[arg(long)]
    require_key_env: Option<String>,
    #[command(flatten)]
    net: Net,
}

#[derive(Debug, clap::Args)]
struct Net {
    /// Address to bind (loopback by default; anything else exposes the server).
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Port; 0 picks a free one. The URL is printed on stdout's first line.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Seed of the delays and choices (default: the scenario's seed). The site itself is
    /// always built with the scenario's seed, so serve-site and serve-llm agree on it.
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (concurrent requests).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    workers: u32,
}

fn announce(running: Running, what: &str) -> Result<(), CliError> {
    let addr = running.addr();
    let mut out = std::io::stdout().lock();
    writeln!(out, "http://{addr}/")
        .and_then(|_| out.flush())
        .map_err(|e| CliError {
            code: EXIT_FAILURE,
            message: format!("cannot write to stdout: {e}"),
        })?;
    drop(out);
    eprintln!("{what} on http://{addr}/ (Ctrl-C to stop)");
    running.wait();
    Ok(())
}

fn parse_json<T: serde::de::DeserializeOwned>(flag: &str, s: &str) -> Result<T, CliError> {
    serde_json::from_str(s).map_err(|e| bad(format!("{flag}: not valid here ({e}), got {s:?}")))
}

pub fn serve_site(a: ServeSiteArgs) -> Result<(), CliError> {
    let (site, mut fetch, seed) = match &a.graph {
        Some(g) => {
            let file = GraphFile::read(g).map_err(|e| bad(format!("{}: {e}", g.display())))?;
            let mut p = Problems::new();
            let site = file
                .build(&g.display().to_string(), &mut p)
                .ok_or_else(|| {
                    let m: Vec<String> = p.items().iter().map(|x| x.to_string()).collect();
                    bad(m.join("\n"))
                })?;
            (Arc::new(site), Dist::Constant(0.0), 42)
        }
        None => {
            let sc = load_scenario(a.scenario.as_deref(), None)?;
            (sc.model.site.clone(), sc.model.fetch.clone(), sc.seed)
        }
    };
    if let Some(l) = &a.latency {
        let spec: DistSpec = parse_json("--latency", l)?;
        let mut p = Problems::new();
        fetch = spec.build("--latency", &mut p).ok_or_else(|| {
            let m: Vec<String> = p.items().iter().map(|x| x.to_string()).collect();
            bad(m.join("\n"))
        })?;
    }
    let pages = site.page_count();
    let standin = SiteStandIn {
        site,
        fetch,
        seed: a.net.seed.unwrap_or(seed),
    };
    let bind = format!("{}:{}", a.net.bind, a.net.port);
    let running =
        site_server::serve(standin, &bind, a.net.workers as usize).map_err(|e| CliError {
            code: EXIT_FAILURE,
            message: e.to_string(),
        })?;
    announce(running, &format!("serving {pages} pages"))
}

pub fn serve_llm(a: ServeLlmArgs) -> Result<(), CliError> {
    let sc = load_scenario(a.scenario.as_deref(), None)?;
    let agent = sc.agent.clone().ok_or_else(|| {
        bad(format!(
            "{}: agent: serve-llm needs a walker (`site` and `agent`) to draw hidden goal paths",
            sc.source
        ))
    })?;
    let mut draft: Option<Draft> = sc.model.drafts.first().cloned();
    if let Some(acc) = &a.accuracy {
        let spec: AccuracySpec = parse_json("--accuracy", acc)?;
        let mut p = Problems::new();
        let acc = spec.build("--accuracy", &mut p).ok_or_else(|| {
            let m: Vec<String> = p.items().iter().map(|x| x.to_string()).collect();
            bad(m.join("\n"))
        })?;
        let llm = draft
            .as_ref()
            .map_or_else(|| crate::sim::llm::Llm::constant(0.0), |d| d.llm.clone());
        draft = Some(Draft::new("draft", llm, acc));
    }
    let require_key = match &a.require_key_env {
        Some(var) => Some(std::env::var(var).map_err(|_| {
            bad(format!(
                "--require-key-env: environment variable {var} is not set"
            ))
        })?),
        None => None,
    };
    let standin = LlmStandIn {
        site: sc.model.site.clone(),
        agent,
        target: sc.model.target.clone(),
        draft,
        target_model: a.target_model,
        draft_model: a.draft_model,
        seed: a.net.seed.unwrap_or(sc.seed),
        require_key,
    };
    let bind = format!("{}:{}", a.net.bind, a.net.port);
    let running =
        llm_server::serve(standin, &bind, a.net.workers as usize).map_err(|e| CliError {
            code: EXIT_FAILURE,
            message: e.to_string(),
        })?;
    announce(running, "answering Chat Completions")
}
