//! Validation of a parsed scenario file, one part at a time. Each function checks one part,
//! records every problem under its field path and returns the validated value (or `None`).
//! The order of the checks is the order problems are reported in.

use std::sync::Arc;

use crate::io::replay::Replay;
use crate::scenario::file::{ArrivalSpec, ScenarioFile};
use crate::scenario::limits::{MAX_REPLICATIONS, MAX_ROUNDS, MAX_SESSIONS};
use crate::scenario::load::{LoadedTrace, Loader, References};
use crate::scenario::problems::{index, join, Problems};
use crate::scenario::Arrivals;
use crate::sim::draft::Draft;
use crate::sim::llm::Llm;
use crate::sim::model::{check_rules, Model};
use crate::sim::policy::Policy;
use crate::sim::rng::StreamKey;
use crate::sim::site::Site;
use crate::sim::time::secs_to_nanos;
use crate::sim::trajectory::Agent;

/// Everything a [`crate::scenario::Scenario`] holds besides what it copies from the file.
pub(super) struct Parts {
    pub model: Model,
    pub agent: Option<Agent>,
    pub replay: Option<Arc<Replay>>,
    pub policies: Vec<Policy>,
    pub requested: Vec<Policy>,
    pub arrivals: Arrivals,
    pub sessions: u32,
}

/// Validates every part of `file`; `None` when any problem was recorded.
pub(super) fn validate(
    file: &ScenarioFile,
    refs: References,
    loader: &dyn Loader,
    p: &mut Problems,
) -> Option<Parts> {
    counts(file, p);
    let arrivals = arrivals(&file.arrivals, p);
    let (policies, requested) = policies(file, p);
    let trace = trajectories(file, refs.trace, p);
    let site = site(file, trace.as_ref(), refs.graph, loader, p);
    let fetch = file.fetch.build("fetch", p);
    let agent = match (&file.agent, &trace) {
        (Some(spec), None) => spec.build("agent", p).map(Some),
        (_, Some(_)) => Some(None),
        (None, None) => None,
    };
    let (target, stages, drafts) = llms(file, p);
    if !p.is_empty() {
        return None;
    }
    let drafts_called = drafts.len();
    let model = Model {
        site: site?,
        fetch: fetch?,
        target: target?,
        stages,
        drafts,
        rules: super::file::rules_of(
            file.width,
            &file.cache,
            &file.fetcher,
            secs_to_nanos(file.lookup_cost),
            drafts_called,
        ),
    };
    let sessions = match &trace {
        // The trace decides the sessions; `sessions` reports how many are replayed.
        Some(t) => {
            let n = u32::try_from(t.replay.trajectories.len()).unwrap_or(u32::MAX);
            let cap = file.trajectories.as_ref().and_then(|t| t.sessions);
            cap.map_or(n, |c| c.min(n))
        }
        None => file.sessions,
    };
    Some(Parts {
        model,
        agent: agent?,
        replay: trace.map(|t| t.replay),
        policies,
        requested,
        arrivals: arrivals?,
        sessions,
    })
}

/// Replications, sessions, width, fetch slots, lookup cost.
fn counts(file: &ScenarioFile, p: &mut Problems) {
    if file.replications < 2 {
        p.push(
            "replications",
            format!(
                "must be at least 2 to form a confidence interval, got {}",
                file.replications
            ),
        );
    }
    if file.replications > MAX_REPLICATIONS {
        p.push(
            "replications",
            format!(
                "must be at most {MAX_REPLICATIONS} (a limit of this build, docs/scenario.md), got {}",
                file.replications
            ),
        );
    }
    if file.sessions == 0 {
        p.push("sessions", "must be at least 1, got 0");
    }
    if file.sessions > MAX_SESSIONS {
        p.push(
            "sessions",
            format!(
                "must be at most {MAX_SESSIONS} per replication (a limit of this build, docs/scenario.md), got {}",
                file.sessions
            ),
        );
    }
    // What scenario files and live configurations share: width, drafts, fetch slots.
    check_rules(
        file.width,
        file.drafts.len(),
        file.policies.contains(&Policy::Speccache),
        file.fetcher.rules(),
        p,
    );
    if let Some(a) = &file.agent {
        if a.max_rounds > MAX_ROUNDS {
            p.push(
                "agent.max_rounds",
                format!(
                    "must be at most {MAX_ROUNDS} (a limit of this build, docs/scenario.md), got {}",
                    a.max_rounds
                ),
            );
        }
    }
    p.non_negative("lookup_cost", file.lookup_cost);
}

/// The arrival process.
fn arrivals(spec: &ArrivalSpec, p: &mut Problems) -> Option<Arrivals> {
    match spec {
        ArrivalSpec::AllAtStart => Some(Arrivals::AllAtStart),
        ArrivalSpec::Poisson { rate_per_s } => {
            if !p.positive("arrivals.rate_per_s", *rate_per_s) {
                return None;
            }
            let exp = rand_distr::Exp::new(*rate_per_s).ok()?;
            Some(Arrivals::Random(crate::sim::dist::Dist::Exponential(exp)))
        }
        ArrivalSpec::Interval { every_s } => p
            .non_negative("arrivals.every_s", *every_s)
            .then(|| Arrivals::Interval(secs_to_nanos(*every_s))),
        ArrivalSpec::Gaps { gap } => gap.build("arrivals.gap", p).map(Arrivals::Random),
    }
}

/// The policies to run (`none` first) and those the file asked for; drafts they need.
fn policies(file: &ScenarioFile, p: &mut Problems) -> (Vec<Policy>, Vec<Policy>) {
    if file.policies.is_empty() {
        p.push(
            "policies",
            "must name at least one of none, cache, random, speccache, oracle",
        );
    }
    let mut run = vec![Policy::None];
    run.extend(
        Policy::ALL[1..]
            .iter()
            .filter(|q| file.policies.contains(q)),
    );
    let requested = run
        .iter()
        .copied()
        .filter(|q| file.policies.contains(q))
        .collect();
    (run, requested)
}

/// Where sessions come from: the trace (loaded), or the walker (`None`). Checks that
/// exactly one of `trajectories` and `site` + `agent` is given.
fn trajectories(
    file: &ScenarioFile,
    loaded: Option<(
        std::path::PathBuf,
        Result<LoadedTrace, crate::io::trace::TraceError>,
    )>,
    p: &mut Problems,
) -> Option<LoadedTrace> {
    let Some(src) = &file.trajectories else {
        for (field, given) in [
            ("site", file.site.is_some()),
            ("agent", file.agent.is_some()),
        ] {
            if !given {
                p.push(
                    field,
                    "missing: give a `site` and an `agent`, or `trajectories` naming a trace",
                );
            }
        }
        return None;
    };
    if file.site.is_some() {
        p.push(
            "site",
            "remove it: the sessions come from `trajectories.trace`, whose pages and links are the site",
        );
    }
    if file.agent.is_some() {
        p.push(
            "agent",
            "remove it: the sessions come from `trajectories.trace`, not from the walker",
        );
    }
    if src.sessions == Some(0) {
        p.push(
            "trajectories.sessions",
            "must be at least 1, or absent for every session of the trace, got 0",
        );
    }
    match loaded? {
        (full, Ok(t)) if t.replay.trajectories.is_empty() => {
            p.push(
                "trajectories.trace",
                format!("{}: the trace has no sessions", full.display()),
            );
            None
        }
        (_, Ok(t)) => Some(t),
        (_, Err(e)) => {
            p.push("trajectories.trace", e.to_string());
            None
        }
    }
}

/// The site: the trace's, or the one `site` describes (generated through the loader).
fn site(
    file: &ScenarioFile,
    trace: Option<&LoadedTrace>,
    graph: Option<(
        std::path::PathBuf,
        Result<Arc<crate::sim::site::GraphFile>, crate::sim::site::GraphFileError>,
    )>,
    loader: &dyn Loader,
    p: &mut Problems,
) -> Option<Arc<Site>> {
    if let Some(t) = trace {
        return Some(Arc::clone(&t.site));
    }
    let spec = file.site.as_ref()?;
    let seed = file.site_seed.unwrap_or(file.seed);
    let key = (serde_json::to_string(spec).unwrap_or_default(), seed);
    let graph = graph
        .as_ref()
        .map(|(full, g)| (full.as_path(), g.as_ref().map(|g| &**g)));
    loader.site(&key, &mut || {
        spec.build_loaded("site", graph, StreamKey::root(seed), p)
    })
}

/// The target, the extra stages and the drafts.
fn llms(file: &ScenarioFile, p: &mut Problems) -> (Option<Llm>, Vec<Llm>, Vec<Draft>) {
    let target = file.target.build("target", p);
    let stages = file
        .stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.latency.build(&join(&index("stages", i), "latency"), p))
        .collect();
    let drafts = file
        .drafts
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.build(&index("drafts", i), p))
        .collect();
    (target, stages, drafts)
}
