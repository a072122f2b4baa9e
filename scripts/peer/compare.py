"""specsim against its SimPy peer (peer.py) on one scenario: first the metrics, then the speed.

0. Both simulate one site: a generated site is written by the peer as a graph file first.
1. Agreement: both run the scenario's replications; for every policy, the mean iteration
   latency, the hit rate and the speedup over `none` (each a mean over replications) must
   differ by less than 3 standard errors of the difference (the two are independent samples:
   different code, different random numbers). A failed check exits 1 before any speed is
   quoted.
2. Speed: iterations simulated (all policies, all replications) per CPU-second of each.
   specsim is a fresh process, timed by its own CPU time (user + system, process start, site
   loading and report included), single-threaded, on `--factor` times the replications
   so that the fixed costs do not dominate; the same-size run is printed too. The peer is
   timed on its replications alone (its site loading left out), which favours the peer: the
   whole-process ratio is a lower bound. The marginal rate of specsim (the large run minus
   the same-size run, so process start and site loading cancel) is timed like the peer, and
   its ratio is quoted as well. The speed is measured in `--rounds` rounds (default 5),
   each the peer then specsim, and the medians of the rounds' ratios are printed last: the
   host's speed drifts over minutes, a round takes seconds.

Usage: python compare.py SPECSIM_BINARY SCENARIO.json [--replications N] [--factor F]
       [--rounds R]
"""

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Two-sided 95 % Student-t quantiles by degrees of freedom (for the peer's intervals).
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
       9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 19: 2.093, 20: 2.086, 24: 2.064,
       29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t95(n):
    df = n - 1
    best = min((k for k in T95 if k >= df), default=None)
    return T95[best] if best is not None else 1.960


def mean_se(xs):
    n = len(xs)
    m = sum(xs) / n
    if n < 2:
        return m, float("nan")
    var = sum((x - m) ** 2 for x in xs) / (n - 1)
    return m, math.sqrt(var / n)


def run_specsim(binary, scenario, replications):
    """The report of a fresh single-threaded `specsim run`, and its CPU seconds."""
    sc = dict(scenario, replications=replications)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(sc, fh)
        path = fh.name
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([binary, "run", path, "--json", "--threads", "1"],
                             check=True, capture_output=True, text=True).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        os.unlink(path)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(out), cpu


def run_peer(scenario_path, replications):
    out = subprocess.run([sys.executable, os.path.join(HERE, "peer.py"), scenario_path,
                          "--replications", str(replications)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def peer_metrics(peer):
    """Per policy: (mean, standard error) of iteration latency, hit rate and speedup."""
    runs = peer["runs"]
    base = runs["none"]
    out = {}
    for p, rs in runs.items():
        it = [r["iteration_latency"] / r["iterations"] for r in rs]
        hit = [(r["hits"] + r["partial_hits"]) / r["visits"] if r["visits"] else 0.0 for r in rs]
        sp = [b["session_latency"] / r["session_latency"] for r, b in zip(rs, base)]
        out[p] = {"iter_latency_s": mean_se(it), "hit_rate": mean_se(hit),
                  "speedup": mean_se(sp)}
    return out


def specsim_metrics(report):
    n = report["replications"]
    out = {}
    for row in report["policies"]:
        m = {}
        for f in ("iter_latency_s", "hit_rate", "speedup"):
            half = row[f + "_ci_hi"] - row[f]
            m[f] = (row[f], half / t95(n) if n > 1 else float("nan"))
        out[row["policy"]] = m
    return out


def main():
    work = tempfile.mkdtemp(prefix="specsim-peer-")
    try:
        compare(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare(work):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specsim")
    ap.add_argument("scenario")
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--factor", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5,
                    help="speed rounds, each the peer then specsim (the median is quoted)")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error(f"--rounds must be at least 1, got {args.rounds}")
    with open(args.scenario) as fh:
        scenario = json.load(fh)
    scenario.pop("sweep", None)
    n = args.replications
    if scenario["site"].get("generator") == "hierarchical":
        # One site for both: a generated site is one random instance, and with a shared
        # cache its shape (the start page's out-degree) moves hit rates more than the
        # replications' sampling error. The peer generates it; both read the graph file.
        site = os.path.join(work, "site.json")
        subprocess.run([sys.executable, os.path.join(HERE, "peer.py"), args.scenario,
                        "--write-site", site], check=True)
        scenario["site"] = {"generator": "file", "path": site}

    # 1. Agreement.
    peer = run_peer_file(scenario, n, work)
    report, cpu_same = run_specsim(args.specsim, scenario, n)
    ours, theirs = specsim_metrics(report), peer_metrics(peer)
    print(f"Agreement on {args.scenario}, {n} replications each "
          "(mean; difference in standard errors of the difference; |z| < 3 passes):")
    print(f"  {'policy':<10} {'metric':<15} {'specsim':>10} {'SimPy peer':>10} {'z':>7}")
    failed = 0
    for p, m in ours.items():
        for f, (a, sa) in m.items():
            b, sb = theirs[p][f]
            se = math.sqrt(sa ** 2 + sb ** 2)
            if se > 0:
                z = (a - b) / se
                ok = abs(z) < 3
            else:  # both exact (e.g. oracle's hit rate 1, none's speedup 1)
                z = 0.0 if abs(a - b) < 1e-9 else float("inf")
                ok = abs(a - b) < 1e-9
            failed += not ok
            print(f"  {p:<10} {f:<15} {a:>10.4f} {b:>10.4f} {z:>7.2f}{'' if ok else '  FAIL'}")
    if failed:
        print(f"{failed} metric(s) disagree: speeds not quoted", file=sys.stderr)
        sys.exit(1)
    print("  all agree within sampling error")

    # 2. Speed, in rounds: the peer, then specsim's two runs, alternately. This VM's speed
    # drifts by up to 40 % over minutes, and a round takes seconds, so each round's ratio
    # compares the two at one host speed; the median over rounds is the figure to quote.
    print(f"Speed (iterations of every policy per CPU-second, one thread), {args.rounds} "
          f"round(s), load average {os.getloadavg()[0]:.2f}:")
    whole, like = [], []
    for r in range(args.rounds):
        if r > 0:
            peer = run_peer_file(scenario, n, work)
            report, cpu_same = run_specsim(args.specsim, scenario, n)
        w, m = speed_round(args, scenario, peer, report, cpu_same, r + 1)
        whole.append(w)
        like.append(m)
    if args.rounds > 1:
        mw, ml = statistics.median(whole), statistics.median(like)
        print(f"  median over {args.rounds} rounds: {mw:,.0f}x (whole process; range "
              f"{min(whole):,.0f}-{max(whole):,.0f}x); {ml:,.0f}x (marginal; range "
              f"{min(like):,.0f}-{max(like):,.0f}x); load average {os.getloadavg()[0]:.2f}")


def run_peer_file(scenario, n, work):
    """The peer on `scenario` with `n` replications, through a scenario file in `work`."""
    path = os.path.join(work, "peer-scenario.json")
    with open(path, "w") as fh:
        json.dump(dict(scenario, replications=n), fh)
    return run_peer(path, n)


def speed_round(args, scenario, peer, report, cpu_same, round_no):
    """One round: the peer's rate against specsim's whole-process and marginal rates."""
    n = args.replications
    peer_iters = sum(r["iterations"] for rs in peer["runs"].values() for r in rs)
    peer_rate = peer_iters / peer["cpu_s"]
    same_iters = sum(r["iterations"] for r in report["policies"])
    big, cpu_big = run_specsim(args.specsim, scenario, n * args.factor)
    big_iters = sum(r["iterations"] for r in big["policies"])
    rate = big_iters / cpu_big
    if args.rounds > 1:
        print(f" round {round_no}:")
    print(f"  SimPy peer: {peer_iters} iterations in {peer['cpu_s']:.3f} CPU s "
          f"= {peer_rate:,.0f} iterations/CPU-s (site loading, {peer['cpu_site_s']:.3f} s, "
          "left out)")
    print(f"  specsim:    {big_iters} iterations ({n * args.factor} replications) in "
          f"{cpu_big:.3f} CPU s = {rate:,.0f} iterations/CPU-s")
    print(f"  specsim, same {n} replications as the peer: {same_iters} iterations in "
          f"{cpu_same:.3f} CPU s = {same_iters / cpu_same:,.0f} iterations/CPU-s "
          "(process start and site loading dominate)")
    # The fixed costs (process start, site loading) cancel in the difference of the two
    # runs; what scales with the replications (simulation, report pooling) stays. This is
    # how the peer is timed (its site loading left out), so the two rates compare directly.
    marginal = (big_iters - same_iters) / max(cpu_big - cpu_same, 1e-9)
    print(f"  specsim, marginal (the {n * args.factor}-replication run minus the "
          f"{n}-replication run: fixed costs left out, as for the peer): "
          f"{marginal:,.0f} iterations/CPU-s")
    print(f"  ratio: {rate / peer_rate:,.0f}x (whole process); "
          f"{marginal / peer_rate:,.0f}x (marginal, like for like)")
    return rate / peer_rate, marginal / peer_rate

if __name__ == "__main__":
    main()
