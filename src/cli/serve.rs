//! `specsim serve-site` and `specsim serve-llm`: local stand-ins on loopback.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::{load_scenario, CliError, EXIT_BAD_INPUT, EXIT_FAILURE};
use crate::data::fit::profile::{Profile, ProfileDoc};
use crate::live::llm_server::replay::{self, Replay};
use crate::live::llm_server::{self, LlmStandIn};
use crate::live::server::Running;
use crate::live::site_server::proxy::{self, Proxy};
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
    #[arg(conflicts_with_all = ["graph", "upstream"])]
    scenario: Option<PathBuf>,
    /// Serve this graph file (docs/scenario.md edge-list JSON) instead of a scenario's site.
    #[arg(long, conflicts_with = "upstream")]
    graph: Option<PathBuf>,
    /// Be a delaying reverse proxy in front of this web server (e.g. nginx on
    /// http://127.0.0.1:8090) instead of serving a graph: every response is forwarded as it
    /// is, after a delay from --latency or --profile.
    #[arg(long)]
    upstream: Option<String>,
    /// Page delay distribution, JSON seconds (default: the scenario's `fetch`, or 0 with
    /// --graph or --upstream), e.g. '{"dist":"lognormal","median":0.01,"sigma":0.3}'.
    #[arg(long, conflicts_with = "profile")]
    latency: Option<String>,
    /// Page delay from a fetch profile written by `specsim fit --out` (its `profile` field),
    /// e.g. traces/profiles/fetch/har_requests.json.
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Multiply every page delay by this factor (> 0).
    #[arg(long)]
    latency_scale: Option<f64>,
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
    /// Where each page's buttons lead, from `specsim crawl --buttons` (for a crawled site
    /// whose pages link to URLs the graph leaves out).
    #[arg(long)]
    buttons: Option<PathBuf>,
    /// Replay the target's latencies in recorded order from this file: thefastest.ai
    /// measurements.jsonl (`total_time`) or an llmperf results .json (`end_to_end_latency_s`);
    /// wraps around at the end.
    #[arg(long)]
    target_replay: Option<PathBuf>,
    /// With a .jsonl --target-replay: the model whose name contains this text (exactly one).
    #[arg(long, requires = "target_replay")]
    target_replay_model: Option<String>,
    /// Replay the draft's latencies in recorded order from this file (as --target-replay).
    #[arg(long)]
    draft_replay: Option<PathBuf>,
    /// With a .jsonl --draft-replay: the model whose name contains this text (exactly one).
    #[arg(long, requires = "draft_replay")]
    draft_replay_model: Option<String>,
    /// With .jsonl replays: only rows measured from this region (cdg, iad, sea).
    #[arg(long)]
    replay_region: Option<String>,
    /// Multiply every replayed latency by this factor (> 0), e.g. 0.5 for an LLM twice as
    /// fast.
    #[arg(long, default_value_t = 1.0)]
    replay_scale: f64,
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

/// The page-delay distribution of --latency or --profile, scaled by --latency-scale.
fn page_delay(a: &ServeSiteArgs) -> Result<Option<Dist>, CliError> {
    let spec: Option<(String, DistSpec)> = match (&a.latency, &a.profile) {
        (Some(l), _) => Some(("--latency".into(), parse_json("--latency", l)?)),
        (None, Some(f)) => {
            let name = f.display().to_string();
            let text = std::fs::read_to_string(f)
                .map_err(|e| bad(format!("{name}: cannot read the profile: {e}")))?;
            let doc: ProfileDoc = serde_json::from_str(&text).map_err(|e| {
                bad(format!(
                    "{name}: not a profile written by `specsim fit` ({e})"
                ))
            })?;
            match doc.profile {
                Profile::Latency(d) => Some((format!("{name}: profile"), d)),
                Profile::Llm(_) => {
                    return Err(bad(format!(
                        "{name}: profile: an LLM profile (ttft, tpot, output_tokens); a page delay needs a plain latency profile, e.g. from `specsim fit --from har`"
                    )))
                }
            }
        }
        (None, None) => None,
    };
    let Some((what, spec)) = spec else {
        return Ok(None);
    };
    let mut p = Problems::new();
    let d = spec.build(&what, &mut p).ok_or_else(|| {
        let m: Vec<String> = p.items().iter().map(|x| x.to_string()).collect();
        bad(m.join("\n"))
    })?;
    Ok(Some(d))
}

fn check_scale(scale: Option<f64>) -> Result<f64, CliError> {
    match scale {
        None => Ok(1.0),
        Some(s) if s.is_finite() && s > 0.0 => Ok(s),
        Some(s) => Err(bad(format!(
            "--latency-scale: must be a finite number > 0, got {s}"
        ))),
    }
}

pub fn serve_site(a: ServeSiteArgs) -> Result<(), CliError> {
    let delay = page_delay(&a)?;
    let scale = check_scale(a.latency_scale)?;
    if let Some(up) = &a.upstream {
        let fetch = delay.unwrap_or(Dist::Constant(0.0));
        let proxy = Proxy::new(up, fetch, scale, a.net.seed.unwrap_or(42))
            .map_err(|e| bad(e.to_string()))?;
        let bind = format!("{}:{}", a.net.bind, a.net.port);
        let running = proxy::serve(proxy, &bind, a.net.workers as usize).map_err(|e| CliError {
            code: EXIT_FAILURE,
            message: e.to_string(),
        })?;
        return announce(running, &format!("forwarding to {up}"));
    }
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
    if let Some(d) = delay {
        fetch = d;
    }
    let pages = site.page_count();
    let standin = SiteStandIn {
        site,
        fetch,
        scale,
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
    if !(a.replay_scale.is_finite() && a.replay_scale > 0.0) {
        return Err(bad(format!(
            "--replay-scale: must be a finite number > 0, got {}",
            a.replay_scale
        )));
    }
    let region = a.replay_region.as_deref();
    let replay = |file: &Option<PathBuf>,
                  model: &Option<String>|
     -> Result<Option<Replay>, CliError> {
        let Some(f) = file else {
            return Ok(None);
        };
        let mut r = replay::read(f, model.as_deref(), region).map_err(|e| bad(e.to_string()))?;
        r.scale = a.replay_scale;
        eprintln!("replaying {} (x {})", r.source, r.scale);
        Ok(Some(r))
    };
    let target_replay = replay(&a.target_replay, &a.target_replay_model)?;
    let draft_replay = replay(&a.draft_replay, &a.draft_replay_model)?;
    if draft_replay.is_some() && draft.is_none() {
        return Err(bad(format!(
            "--draft-replay: {} has no draft (its accuracy is needed; add `drafts` or --accuracy)",
            sc.source
        )));
    }
    let buttons = match &a.buttons {
        Some(f) => Some(Arc::new(read_buttons(f, sc.model.site.page_count())?)),
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
        buttons,
        target_replay,
        draft_replay,
        warned: Arc::new(AtomicBool::new(false)),
    };
    let bind = format!("{}:{}", a.net.bind, a.net.port);
    let running =
        llm_server::serve(standin, &bind, a.net.workers as usize).map_err(|e| CliError {
            code: EXIT_FAILURE,
            message: e.to_string(),
        })?;
    announce(running, "answering Chat Completions")
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ButtonsFile {
    specsim_buttons: u32,
    pages: Vec<Vec<Option<u32>>>,
}

/// Reads a `crawl --buttons` file for a site of `pages` pages.
fn read_buttons(f: &std::path::Path, pages: usize) -> Result<Vec<Vec<Option<u32>>>, CliError> {
    let name = f.display().to_string();
    let text = std::fs::read_to_string(f).map_err(|e| bad(format!("{name}: cannot read: {e}")))?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    let b: ButtonsFile = serde_path_to_error::deserialize(de)
        .map_err(|e| bad(format!("{name}: {}: {}", e.path(), e.inner())))?;
    if b.specsim_buttons != 1 {
        return Err(bad(format!(
            "{name}: specsim_buttons: version {} is not supported (1 is)",
            b.specsim_buttons
        )));
    }
    if b.pages.len() != pages {
        return Err(bad(format!(
            "{name}: pages: {} rows, but the scenario's site has {pages} pages (crawl and scenario must be the same site)",
            b.pages.len()
        )));
    }
    for (i, row) in b.pages.iter().enumerate() {
        if let Some(v) = row.iter().flatten().find(|&&v| v as usize >= pages) {
            return Err(bad(format!(
                "{name}: pages[{i}]: page {v} does not exist (the site has pages 0..{})",
                pages - 1
            )));
        }
    }
    Ok(b.pages)
}
