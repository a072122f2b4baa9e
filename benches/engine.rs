//! Throughput of the event loop: simulated events and iterations per second on the default
//! scenario (one replication, every policy), and raw engine push/pop.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use specsim::runner::workload;
use specsim::scenario::Scenario;
use specsim::sim::engine::Engine;
use specsim::sim::sampled::{Sim, Workload};
use specsim::sim::time::SimTime;

fn default_scenario(c: &mut Criterion) {
    let sc = Scenario::default_scenario();
    let (traj, arrivals, key) = workload(&sc, 0);
    let work = Workload {
        trajectories: &traj,
        arrivals: &arrivals,
        key,
    };
    let mut sim = Sim::new(&sc.model);
    let (mut events, mut iterations) = (0, 0);
    for &p in &sc.policies {
        let m = sim.run(p, work);
        events += m.events;
        iterations += m.iterations;
    }
    let mut g = c.benchmark_group("default_scenario_one_replication");
    g.throughput(Throughput::Elements(events));
    g.bench_function("events", |b| {
        b.iter(|| {
            for &p in &sc.policies {
                std::hint::black_box(sim.run(p, work).events);
            }
        })
    });
    g.throughput(Throughput::Elements(iterations));
    g.bench_function("iterations", |b| {
        b.iter(|| {
            for &p in &sc.policies {
                std::hint::black_box(sim.run(p, work).iterations);
            }
        })
    });
    g.finish();
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

criterion_group!(benches, default_scenario, engine_push_pop);
criterion_main!(benches);
