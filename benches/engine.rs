//! Throughput of the simulator, per core: everything the replications of a workload do for
//! their policy set (each workload's trajectories and arrivals, the samples shared by its
//! policies, every policy's run and its metrics), every replication of the scenario one after
//! another as one unit, on a simulator reused across replications as `specsim run` reuses one
//! per worker, so events/s and iterations/s are what a sweep or a `specsim run` gets. An
//! event is one delivery of the event loop (every fetch completion counts, observed or not).
//! Also the raw engine (push then pop).
//!
//! Workloads:
//! - `default`: the embedded default scenario (50 sessions of 3-10 iterations, five policies);
//! - `sessions400`: the 400-session workload of issue 15 (400 sessions x 10 iterations,
//!   lognormal latencies, median out-degree 81, `none` + `speccache`, a cache per session and
//!   unlimited fetch slots);
//! - `sessions400_shared`: the same sessions sharing one cache of 1,000 pages, so that they
//!   interact and all 400 run through one event queue;
//! - `default_two`: the default scenario with `sessions400`'s two policies, `none` and
//!   `speccache`: 50 sessions against 400 on the same policy mix.
//!
//! `SPECSIM_BENCH_PROFILE=<workload>[:<replications>]` skips criterion and runs that many
//! replications of one workload, then prints its events and iterations: the fixed program to
//! count instructions with `valgrind --tool=callgrind` (README, Performance).
//!
//! `SPECSIM_BENCH_PAIR=<a>,<b>[:<seconds>]` skips criterion and times the two workloads'
//! units alternately, one unit of `a` then one of `b`, for that many seconds (default 20),
//! and prints the median of the paired ratios of their events/s (b over a) with its
//! interquartile range. A unit takes milliseconds, and host contention on this VM changes
//! over seconds to minutes, so the two halves of a pair run at the same host speed: the
//! figure the 400-session target is stated in (`sessions400` over `default`), read without
//! the drift that moves separate criterion runs by up to 40 %.

use criterion::{BatchSize, Criterion, Throughput};
use serde_json::{json, Value};
use specsim::runner::{run_replication_with, simulator};
use specsim::scenario::{Scenario, ScenarioFile, DEFAULT_SCENARIO};
use specsim::sim::engine::Engine;
use specsim::sim::sampled::Sim;
use specsim::sim::time::SimTime;

/// The default scenario with `edit` applied.
fn scenario(edit: impl FnOnce(&mut Value)) -> Scenario {
    let mut v: Value = serde_json::from_str(DEFAULT_SCENARIO).expect("default parses");
    edit(&mut v);
    let file = ScenarioFile::from_value(v, "bench").expect("bench scenario parses");
    Scenario::build(file, "bench", None).expect("bench scenario is valid")
}

/// The workloads, by name.
fn workloads() -> Vec<(&'static str, Scenario)> {
    let sessions400 = |v: &mut Value| {
        v["replications"] = json!(10);
        v["sessions"] = json!(400);
        v["agent"]["rounds"] = json!({"dist": "constant", "value": 10});
        v["policies"] = json!(["none", "speccache"]);
    };
    vec![
        ("default", scenario(|_| {})),
        (
            "default_two",
            scenario(|v| v["policies"] = json!(["none", "speccache"])),
        ),
        ("sessions400", scenario(sessions400)),
        (
            "sessions400_shared",
            scenario(|v| {
                sessions400(v);
                v["cache"] = json!({"capacity": 1000, "eviction": "lru", "scope": "shared"});
            }),
        ),
    ]
}

/// The workload called `name`.
fn named(name: &str) -> (&'static str, Scenario) {
    workloads()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("unknown workload `{name}`"))
}

/// Events and iterations of replication `r`, summed over its policies.
fn counts(sim: &mut Sim<'_>, sc: &Scenario, r: u32) -> (u64, u64) {
    run_replication_with(sim, sc, r)
        .iter()
        .fold((0, 0), |(e, i), m| (e + m.events, i + m.iterations))
}

/// Events and iterations of replications `0..n`, summed over their policies.
fn counts_of(sim: &mut Sim<'_>, sc: &Scenario, n: u32) -> (u64, u64) {
    (0..n).fold((0, 0), |(e, i), r| {
        let (de, di) = counts(sim, sc, r);
        (e + de, i + di)
    })
}

/// The benchmark's unit of work: every replication of `sc`, one after another on `sim`.
fn run_unit(sim: &mut Sim<'_>, sc: &Scenario) {
    for r in 0..sc.replications {
        std::hint::black_box(run_replication_with(sim, sc, r));
    }
}

/// One unit of work is every replication of the workload, one after another on one
/// simulator: distinct workloads, as `specsim run` meets them (repeating one replication
/// would let caches and branch predictors learn it).
fn replications(c: &mut Criterion) {
    for (name, sc) in workloads() {
        let mut sim = simulator(&sc);
        let (events, iterations) = counts_of(&mut sim, &sc, sc.replications);
        let mut g = c.benchmark_group(format!("{name}_replications"));
        g.throughput(Throughput::Elements(events));
        g.bench_function("events", |b| b.iter(|| run_unit(&mut sim, &sc)));
        g.throughput(Throughput::Elements(iterations));
        g.bench_function("iterations", |b| b.iter(|| run_unit(&mut sim, &sc)));
        g.finish();
    }
}

fn full_run(c: &mut Criterion) {
    let sc = Scenario::default_scenario();
    let mut g = c.benchmark_group("default_scenario_full_run");
    g.sample_size(10);
    g.bench_function("specsim_run", |b| {
        b.iter(|| std::hint::black_box(specsim::runner::run(&sc)))
    });
    g.finish();
}

fn engine_push_pop(c: &mut Criterion) {
    let n = 100_000u64;
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(n));
    g.bench_function("schedule_then_pop_100k", |b| {
        b.iter_batched(
            Engine::<u32>::new,
            |mut e| {
                for i in 0..n {
                    e.schedule_at(SimTime(i.wrapping_mul(2_654_435_761) % 1_000_000), i as u32);
                }
                while let Some(x) = e.pop() {
                    std::hint::black_box(x);
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// The callgrind driver: `SPECSIM_BENCH_PROFILE=default:20` runs replications 0..20.
fn profile(spec: &str) {
    let (name, reps) = spec.split_once(':').unwrap_or((spec, "1"));
    let reps: u32 = reps.parse().expect("replications is a number");
    let (_, sc) = named(name);
    let (mut events, mut iterations) = (0, 0);
    let mut sim = simulator(&sc);
    for r in 0..reps {
        let (e, i) = counts(&mut sim, &sc, r);
        events += e;
        iterations += i;
    }
    println!("{name}: {reps} replications, {events} events, {iterations} iterations");
}

/// The value at fraction `q` of `sorted` (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[i - 1]
}

/// The paired driver: `SPECSIM_BENCH_PAIR=default,sessions400:20`.
fn pair(spec: &str) {
    let (names, secs) = spec.split_once(':').unwrap_or((spec, "20"));
    let secs: f64 = secs.parse().expect("seconds is a number");
    let (a, b) = names.split_once(',').expect("two workloads, `a,b`");
    let ((a, sc_a), (b, sc_b)) = (named(a), named(b));
    let (mut sim_a, mut sim_b) = (simulator(&sc_a), simulator(&sc_b));
    // Counting a unit's events is also each simulator's warm-up.
    let events_a = counts_of(&mut sim_a, &sc_a, sc_a.replications).0;
    let events_b = counts_of(&mut sim_b, &sc_b, sc_b.replications).0;
    // Events per second of one unit.
    let rate = |sim: &mut Sim<'_>, sc: &Scenario, events: u64| {
        let start = std::time::Instant::now();
        run_unit(sim, sc);
        events as f64 / start.elapsed().as_secs_f64()
    };
    let (mut ra, mut rb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let start = std::time::Instant::now();
    while ratios.is_empty() || start.elapsed().as_secs_f64() < secs {
        let x = rate(&mut sim_a, &sc_a, events_a);
        let y = rate(&mut sim_b, &sc_b, events_b);
        ra.push(x);
        rb.push(y);
        ratios.push(y / x);
    }
    for v in [&mut ra, &mut rb, &mut ratios] {
        v.sort_by(f64::total_cmp);
    }
    let m = |v: &[f64]| quantile(v, 0.5) / 1e6;
    println!(
        "{} / {}, {} pairs over {secs} s: events/s ratio median {:.1} % (interquartile \
         {:.1}-{:.1} %); {} median {:.2} M events/s (best {:.2} M), {} median {:.2} M (best {:.2} M)",
        b,
        a,
        ratios.len(),
        100.0 * quantile(&ratios, 0.5),
        100.0 * quantile(&ratios, 0.25),
        100.0 * quantile(&ratios, 0.75),
        a,
        m(&ra),
        ra[ra.len() - 1] / 1e6,
        b,
        m(&rb),
        rb[rb.len() - 1] / 1e6,
    );
}

fn main() {
    if let Ok(spec) = std::env::var("SPECSIM_BENCH_PROFILE") {
        profile(&spec);
        return;
    }
    if let Ok(spec) = std::env::var("SPECSIM_BENCH_PAIR") {
        pair(&spec);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    replications(&mut c);
    full_run(&mut c);
    engine_push_pop(&mut c);
    c.final_summary();
}
