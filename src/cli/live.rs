//! `specsim live`: run the agent for real and record a trace.

use std::path::PathBuf;

use super::{CliError, EXIT_FAILURE};
use crate::io::trace::TraceWriter;
use std::sync::Arc;

use crate::live::chat::ChatClient;
use crate::live::config::{LiveConfig, LiveSetup};
use crate::live::exec::{Chat, Clients, Threads};
use crate::live::retry::Stop;
use crate::live::web::Fetcher;
use crate::live::world;
use crate::live::LiveError;
use crate::sim::policy::Policy;

/// Exit code after Ctrl-C (128 + SIGINT), the trace so far written.
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// Live configuration file (JSON, docs/live.md).
    config: PathBuf,
    /// Write the trace here (JSON Lines, flushed line by line).
    #[arg(long, short = 'o')]
    trace: PathBuf,
    /// Override the configuration's policy (none, cache, random, speccache).
    #[arg(long, value_parser = parse_policy)]
    policy: Option<Policy>,
    /// Override the number of sessions (tasks `task 0`, `task 1`, ... unless `tasks` is set;
    /// with `tasks`, runs the first N).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    sessions: Option<u32>,
    /// Override the start URL.
    #[arg(long)]
    site: Option<String>,
    /// Override the base URL of the target and of every draft (handy with serve-llm).
    #[arg(long)]
    llm: Option<String>,
    /// Override the seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override how many sessions run at the same time.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    parallel: Option<u32>,
    /// No per-session progress lines (warnings and the summary still go to stderr).
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn parse_policy(s: &str) -> Result<Policy, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("expected none, cache, random or speccache, got {s:?}"))
}

fn bad(e: LiveError) -> CliError {
    CliError::classified(e.is_bad_input(), e)
}

pub fn run(a: LiveArgs) -> Result<(), CliError> {
    let source = a.config.display().to_string();
    let mut cfg = LiveConfig::read(&a.config).map_err(bad)?;
    if let Some(p) = a.policy {
        cfg.policy = p;
    }
    if let Some(n) = a.sessions {
        if cfg.tasks.is_empty() {
            cfg.sessions = n;
        } else {
            cfg.tasks.truncate(n as usize);
        }
    }
    if let Some(s) = a.site {
        cfg.site = s;
    }
    if let Some(u) = a.llm {
        cfg.target.base_url = u.clone();
        for d in &mut cfg.drafts {
            d.base_url = u.clone();
        }
    }
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    if let Some(n) = a.parallel {
        cfg.parallel = n;
    }
    let setup = cfg.build(&source).map_err(bad)?;
    let stop = Stop::new();
    // Clients read the API keys: create them before the trace file, so a bad key leaves no
    // empty trace behind.
    let clients = clients(&setup, &stop).map_err(bad)?;
    let file = std::fs::File::create(&a.trace).map_err(|e| CliError {
        code: EXIT_FAILURE,
        message: format!("{}: cannot create the trace: {e}", a.trace.display()),
    })?;
    let writer =
        TraceWriter::new(std::io::BufWriter::new(file), world::header(&setup)).map_err(|e| {
            CliError {
                code: EXIT_FAILURE,
                message: format!("{}: cannot write the trace: {e}", a.trace.display()),
            }
        })?;
    let on_signal = stop.clone();
    if let Err(e) = ctrlc::set_handler(move || on_signal.raise()) {
        eprintln!("warning: Ctrl-C will not save the trace: {e}");
    }
    let summary = world::run(setup, Threads::new(clients), writer, stop, !a.quiet, false)
        .map_err(|e| CliError {
            code: EXIT_FAILURE,
            message: e.to_string(),
        })?
        .summary;
    eprintln!("{}", summary.describe());
    if summary.interrupted {
        eprintln!(
            "interrupted: the trace so far is in {} (the iteration in progress is not recorded)",
            a.trace.display()
        );
        return Err(CliError {
            code: EXIT_INTERRUPTED,
            message: "interrupted by Ctrl-C".into(),
        });
    }
    if summary.failed > 0 {
        return Err(CliError {
            code: EXIT_FAILURE,
            message: format!(
                "{} of {} sessions failed (the trace holds what they did before): {}",
                summary.failed,
                summary.sessions,
                summary.errors.first().cloned().unwrap_or_default()
            ),
        });
    }
    Ok(())
}

/// The real clients of a live configuration (API keys read from the environment now).
fn clients(setup: &LiveSetup, stop: &Stop) -> Result<Clients, LiveError> {
    let f = &setup.file;
    let chat = |e, path: &str| -> Result<Arc<dyn Chat>, LiveError> {
        ChatClient::new(
            e,
            path,
            f.backoff.clone(),
            f.seed,
            setup.proxy.clone(),
            stop.clone(),
        )
        .map(|c| Arc::new(c) as Arc<dyn Chat>)
        .map_err(LiveError::from)
    };
    Ok(Clients {
        target: chat(&setup.target, "target")?,
        drafts: setup
            .drafts
            .iter()
            .enumerate()
            .map(|(i, e)| chat(e, &format!("drafts[{i}]")))
            .collect::<Result<_, _>>()?,
        web: Arc::new(Fetcher::new(setup, stop.clone())),
    })
}
