#!/usr/bin/env python3
"""The bookkeeping of scripts/validation/run.sh (Python 3 standard library only).

    protocol.py calibrate  --trace NONE.jsonl ... --out BASE.json --facts CALIBRATION.json
    protocol.py plan       --base BASE.json --live LIVE.json --grid quick|full --speeds 1,0.5 --dir WORK
    protocol.py predictions --dir WORK --out predictions.csv
    protocol.py summary    --dir WORK --out summary.csv --ci summary_ci.csv
    protocol.py figure     --summary summary.csv --ci summary_ci.csv --out FIGURE.svg  (matplotlib)

Definitions (docs/validation.md):
- mean iteration latency: mean `iteration_s` over every iteration (answers included);
  predicted: the report's `iter_latency_s`.
- speedup over none: sum of session latencies of `none` / the same of the configuration, a
  session's latency being its start page's fetch plus its iterations; predicted: the
  report's `speedup` (paired per replication).
- hit rate: (hits + partial hits) / page visits; predicted: the report's `hit_rate`.
- exposed web time: mean `exposed_web_s` per iteration (answers count 0); predicted: the
  report's `exposed_web_s`.
Live intervals: 95 % percentile bootstrap over sessions (2000 resamples, seed 2026; for the
speedup, sessions of the two runs are resampled in pairs, by session name).
"""

import argparse
import copy
import csv
import json
import math
import os
import random
import sys

METRICS = ["mean iteration latency", "speedup over none", "hit rate", "exposed web time"]


def fail(msg):
    print(f"protocol.py: {msg}", file=sys.stderr)
    sys.exit(2)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")


def write_text(path, text):
    """Atomic write: a temporary file beside the target, then a rename."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def write_json(path, value):
    write_text(path, json.dumps(value, indent=2) + "\n")


# ---------------------------------------------------------------- traces


def read_trace(path):
    """Sessions of a live trace: name -> {root_fetch, iterations: [line, ...]} in file order."""
    sessions = {}
    order = []
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    v = json.loads(line)
                except ValueError as e:
                    fail(f"{path}:{n}: not JSON ({e})")
                if "iteration" in v:
                    s = sessions.get(v["session"])
                    if s is None:
                        fail(f"{path}:{n}: iteration of session {v['session']!r} before its session line")
                    s["iterations"].append(v)
                elif "session" in v:
                    sessions[v["session"]] = {
                        "root": v.get("root"),
                        "root_fetch": v.get("root_fetch_s") or 0.0,
                        "root_links": v.get("root_links") or [],
                        "iterations": [],
                    }
                    order.append(v["session"])
    except OSError as e:
        fail(f"{path}: {e}")
    for s in sessions.values():
        s["iterations"].sort(key=lambda it: it["iteration"])
    return [(name, sessions[name]) for name in order]


def session_latency(s):
    return s["root_fetch"] + sum(it.get("iteration_s") or 0.0 for it in s["iterations"])


def live_metrics(sessions):
    """Point values of one run (see the module docs)."""
    its = [it for _, s in sessions for it in s["iterations"]]
    visits = [it for it in its if it.get("outcome") is not None]
    hits = sum(1 for it in visits if it["outcome"] in ("hit", "partial_hit"))
    n = len(its)
    return {
        "mean iteration latency": sum(it.get("iteration_s") or 0.0 for it in its) / n if n else float("nan"),
        "hit rate": hits / len(visits) if visits else float("nan"),
        "exposed web time": sum(it.get("exposed_web_s") or 0.0 for it in its) / n if n else float("nan"),
        "session latency sum": sum(session_latency(s) for _, s in sessions),
    }


def bootstrap(values_of, n_items, reps=2000, seed=2026):
    """95 % percentile interval of values_of(indices) over resampled item indices."""
    rng = random.Random(seed)
    out = []
    for _ in range(reps):
        idx = [rng.randrange(n_items) for _ in range(n_items)]
        v = values_of(idx)
        if v is not None and math.isfinite(v):
            out.append(v)
    if not out:
        return (float("nan"), float("nan"))
    out.sort()
    return (out[int(0.025 * (len(out) - 1))], out[int(0.975 * (len(out) - 1))])


def live_with_ci(sessions, baseline):
    """Live values and bootstrap intervals of the four metrics; `baseline` is the none run."""
    point = live_metrics(sessions)
    by_name = dict(baseline)
    pairs = [(s, by_name[name]) for name, s in sessions if name in by_name]
    if not pairs:
        fail("the run and its none baseline share no session names")
    base_sum = sum(session_latency(b) for _, b in pairs)
    run_sum = sum(session_latency(s) for s, _ in pairs)
    point["speedup over none"] = base_sum / run_sum if run_sum > 0 else float("nan")
    only = [s for _, s in sessions]

    def metric_of(name):
        def f(idx):
            m = live_metrics([("", only[i]) for i in idx])
            return m[name]

        return f

    def speedup_of(idx):
        r = sum(session_latency(pairs[i][0]) for i in idx)
        b = sum(session_latency(pairs[i][1]) for i in idx)
        return b / r if r > 0 else None

    ci = {name: bootstrap(metric_of(name), len(only)) for name in ["mean iteration latency", "hit rate", "exposed web time"]}
    ci["speedup over none"] = bootstrap(speedup_of, len(pairs))
    return point, ci


# ---------------------------------------------------------------- calibration


def estimate_walker(sessions, graph):
    """Rounds, back-tracking and avoid_visited of the walker, from the paths of a run.

    A `back` action returns to the page before the current one in the session's history (the
    live agent's back action, as the walker's). back_prob = backs / decisions made with a page
    to go back to. avoid_visited: the value under which the forward clicks are more
    likely, each click being uniform over the page's links (false) or over its links not yet
    visited, when there are any (true).
    """
    ix = {p["name"]: i for i, p in enumerate(graph["pages"])}
    links = {}
    for a, b in graph["edges"]:
        links.setdefault(a, []).append(b)

    def page_id(ref):
        if isinstance(ref, int):
            return ref
        if ref in ix:
            return ix[ref]
        # The crawl may have been made through another port: match path and query.
        tail = ref.split("/", 3)[3] if ref.count("/") >= 3 else ref
        for name, i in ix.items():
            if name.split("/", 3)[3:] == [tail]:
                return i
        return None

    rounds, backs, can_back, unknown = [], 0, 0, 0
    ll = {False: 0.0, True: 0.0}
    floor = math.log(1e-6)
    for _, s in sessions:
        its = s["iterations"]
        rounds.append(len(its))
        root = page_id(s["root"]) if s["root"] is not None else None
        history = [root]
        visited = {root}
        for it in its:
            action = it.get("action")
            if action not in ("click", "back") or it.get("page") is None:
                continue
            p = page_id(it["page"])
            if p is None:
                unknown += 1
            if len(history) > 1:
                can_back += 1
                if action == "back":
                    backs += 1
                    history.pop()
                    continue
            u = history[-1]
            out = links.get(u, []) if u is not None else []
            if out and p is not None:
                ll[False] += math.log(1 / len(out)) if p in out else floor
                fresh = [v for v in out if v not in visited]
                pool = fresh if fresh else out
                ll[True] += math.log(1 / len(pool)) if p in pool else floor
            visited.add(p)
            history.append(p)
    return {
        "sessions": len(sessions),
        "rounds": rounds,
        "backs": backs,
        "decisions_with_a_page_to_go_back_to": can_back,
        "back_prob": backs / can_back if can_back else 0.0,
        "loglik_avoid_visited": {"false": ll[False], "true": ll[True]},
        "avoid_visited": ll[True] >= ll[False],
        "clicks_on_pages_not_in_the_graph": unknown,
    }


def profile_of(path):
    doc = read_json(path)
    if "profile" not in doc:
        fail(f"{path}: no `profile` (not written by `specsim fit --out`?)")
    return doc


def cmd_calibrate(a):
    sessions = read_trace(a.trace)
    if not sessions:
        fail(f"{a.trace}: no sessions")
    graph = read_json(a.graph)
    walker = estimate_walker(sessions, graph)
    fetch, target, draft = profile_of(a.fetch), profile_of(a.target), profile_of(a.draft)
    target_llm = target["profile"]
    if "dist" in target_llm:
        target_llm = {"latency": target_llm}
    draft_llm = draft["profile"]
    if "dist" in draft_llm:
        draft_llm = {"latency": draft_llm}
    # The draft's measurements are replayed x draft_scale in the calibration run.
    draft_llm = scale_llm(draft_llm, a.draft_scale)
    base = {
        "name": f"calibrated from {os.path.basename(a.trace)}",
        "description": "Written by scripts/validation/protocol.py calibrate: the crawled graph, "
        "fetch and target latency fitted by `specsim fit` from the none run's trace, the walker "
        "estimated from its paths; the draft's latency from its recorded measurements and its "
        "accuracy as the stand-in is set (neither is observable in a none run).",
        "seed": a.seed,
        "replications": a.replications,
        "sessions": len(sessions),
        "site": {"generator": "file", "path": os.path.relpath(os.path.abspath(a.graph), os.path.dirname(os.path.abspath(a.out)))},
        "fetch": fetch["profile"],
        "agent": {
            "rounds": {"dist": "empirical", "samples": [float(r) for r in walker["rounds"]]},
            "max_rounds": a.max_rounds,
            "back_prob": walker["back_prob"],
            "avoid_visited": walker["avoid_visited"],
            "final_answer": True,
        },
        "target": target_llm,
        "drafts": [{"name": "draft", "latency": draft_llm, "accuracy": {"cumulative": json.loads(a.accuracy)}}],
        "policies": ["none"],
        "width": 3,
        "cache": {"capacity": 10, "eviction": "lru", "scope": "session"},
    }
    facts = {
        "trace": os.path.basename(a.trace),
        "walker": walker,
        "fetch": {"file": os.path.basename(a.fetch), "n": fetch.get("n"), "profile": fetch["profile"]},
        "target": {"file": os.path.basename(a.target), "n": target.get("n"), "profile": target["profile"]},
        "draft": {"file": os.path.basename(a.draft), "n": draft.get("n"), "scale": a.draft_scale, "source": draft.get("source")},
    }
    write_json(a.out, base)
    write_json(a.facts, facts)
    print(
        f"calibrated: {len(sessions)} sessions, rounds mean {sum(walker['rounds']) / len(walker['rounds']):.2f}, "
        f"back_prob {walker['back_prob']:.3f} ({walker['backs']}/{walker['decisions_with_a_page_to_go_back_to']}), "
        f"avoid_visited {str(walker['avoid_visited']).lower()}",
        file=sys.stderr,
    )


# ---------------------------------------------------------------- plan


def scale_dist(d, f):
    """A DistSpec with every value multiplied by f (f > 0)."""
    d = copy.deepcopy(d)
    kind = d["dist"]
    if kind == "constant":
        d["value"] *= f
    elif kind == "uniform":
        d["low"] *= f
        d["high"] *= f
    elif kind in ("exponential", "normal"):
        d["mean"] *= f
        if kind == "normal":
            d["std"] *= f
    elif kind == "lognormal":
        d["median"] *= f
    elif kind in ("gamma", "weibull", "pareto"):
        d["scale"] *= f
    elif kind == "empirical":
        d["samples"] = [x * f for x in d["samples"]]
    elif kind == "mixture":
        for c in d["components"]:
            c["dist"] = scale_dist(c["dist"], f)
    else:
        fail(f"cannot scale a {kind!r} distribution")
    return d


def scale_llm(llm, f):
    out = dict(llm)
    for k in ("latency", "ttft", "tpot"):
        if k in out:
            out[k] = scale_dist(out[k], f)
    return out


def speed_name(s):
    return f"llm{s:g}"


def grid(kind, speeds):
    """(name, policy, width, cache, speed) of every configuration, in run order."""
    out = []
    if kind == "quick":
        s = speeds[0]
        return [
            (f"speccache-w3-c10-{speed_name(s)}", "speccache", 3, 10, s),
            (f"random-w3-c3-{speed_name(s)}", "random", 3, 3, s),
        ]
    for s in speeds:
        for c in (3, 10):
            out.append((f"cache-c{c}-{speed_name(s)}", "cache", 0, c, s))
        for p in ("random", "speccache"):
            for w in (1, 3, 5):
                for c in (3, 10):
                    out.append((f"{p}-w{w}-c{c}-{speed_name(s)}", p, w, c, s))
    return out


def cmd_plan(a):
    base = read_json(a.base)
    live = read_json(a.live)
    speeds = [float(x) for x in a.speeds.split(",")]
    os.makedirs(os.path.join(a.dir, "predict"), exist_ok=True)
    os.makedirs(os.path.join(a.dir, "live"), exist_ok=True)
    rows = []
    configs = grid(a.grid, speeds)
    # The none runs: the calibration run (first speed) and one baseline per other speed.
    nones = [(f"none-{speed_name(s)}", "none", 0, 0, s) for s in speeds]
    for name, policy, width, cache, speed in nones + configs:
        sc = copy.deepcopy(base)
        sc["name"] = f"{name}: predicted from the calibration"
        sc["site"]["path"] = os.path.relpath(
            os.path.join(os.path.dirname(os.path.abspath(a.base)), base["site"]["path"]),
            os.path.abspath(os.path.join(a.dir, "predict")),
        )
        # The calibration is at the first speed; other speeds scale the LLM latencies.
        f = speed / speeds[0]
        sc["target"] = scale_llm(base["target"], f)
        sc["drafts"] = [dict(d, latency=scale_llm(d["latency"], f)) for d in base["drafts"]]
        sc["policies"] = ["none"] if policy == "none" else ["none", policy]
        sc["width"] = max(width, 1)
        sc["cache"] = dict(base["cache"], capacity=max(cache, 1))
        write_json(os.path.join(a.dir, "predict", f"{name}.json"), sc)
        lc = copy.deepcopy(live)
        lc["policy"] = policy
        lc["width"] = max(width, 1)
        lc["cache"] = dict(lc.get("cache", {}), capacity=max(cache, 1))
        write_json(os.path.join(a.dir, "live", f"{name}.config.json"), lc)
        rows.append([name, policy, str(width) if width else "", str(cache) if cache else "", f"{speed:g}"])
    write_text(os.path.join(a.dir, "configs.tsv"), "".join("\t".join(r) + "\n" for r in rows))
    # For the shell: name and speed only (no empty fields).
    write_text(os.path.join(a.dir, "runs.txt"), "".join(f"{r[0]} {r[4]}\n" for r in rows))
    print(f"planned {len(rows)} configurations ({len(nones)} none runs) in {a.dir}", file=sys.stderr)


def read_configs(d):
    out = []
    with open(os.path.join(d, "configs.tsv")) as f:
        for line in f:
            name, policy, width, cache, speed = line.rstrip("\n").split("\t")
            out.append((name, policy, width, cache, speed))
    return out


def predicted(report, policy):
    rows = {p["policy"]: p for p in report["policies"]}
    p = rows[policy]
    none = rows["none"]

    def ci(field):
        return (p.get(f"{field}_ci_lo", float("nan")), p.get(f"{field}_ci_hi", float("nan")))

    speed = p.get("speedup", 1.0) if policy != "none" else 1.0
    speed_ci = ci("speedup") if policy != "none" else (1.0, 1.0)
    return (
        {
            "mean iteration latency": p["iter_latency_s"],
            "speedup over none": speed,
            "hit rate": p["hit_rate"],
            "exposed web time": p["exposed_web_s"],
        },
        {
            "mean iteration latency": ci("iter_latency_s"),
            "speedup over none": speed_ci,
            "hit rate": ci("hit_rate"),
            "exposed web time": ci("exposed_web_s"),
        },
        none,
    )


def fmt(x):
    return "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.6g}"


def cmd_predictions(a):
    lines = [["config", "policy", "width", "cache", "llm", "metric", "predicted", "predicted_lo", "predicted_hi"]]
    for name, policy, width, cache, speed in read_configs(a.dir):
        report = read_json(os.path.join(a.dir, "predict", f"{name}.report.json"))
        value, ci, _ = predicted(report, policy)
        for m in METRICS:
            if policy == "none" and m in ("speedup over none", "hit rate"):
                continue
            lines.append([name, policy, width, cache, speed, m, fmt(value[m]), fmt(ci[m][0]), fmt(ci[m][1])])
    write_csv(a.out, lines)


def write_csv(path, rows):
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    write_text(path, buf.getvalue())


def cmd_summary(a):
    configs = read_configs(a.dir)
    traces = {name: read_trace(os.path.join(a.dir, "live", f"{name}.jsonl")) for name, *_ in configs}
    baseline = {speed: traces[name] for name, policy, _, _, speed in configs if policy == "none"}
    first_speed = configs[0][4]
    head = ["config", "policy", "width", "cache", "llm", "metric", "predicted", "live", "rel_error"]
    out = [head]
    check = [head]
    cis = [["config", "metric", "predicted_lo", "predicted_hi", "live_lo", "live_hi"]]
    for name, policy, width, cache, speed in configs:
        if policy == "none" and speed == first_speed:
            # The calibration run itself: a consistency check (in sample), not a prediction.
            report = read_json(os.path.join(a.dir, "predict", f"{name}.report.json"))
            value, _, _ = predicted(report, policy)
            live, _ = live_with_ci(traces[name], traces[name])
            for m in ("mean iteration latency", "exposed web time"):
                p, l = value[m], live[m]
                check.append([name, policy, width, cache, speed, m, fmt(p), fmt(l), fmt((p - l) / l if l else float("nan"))])
            continue
        report = read_json(os.path.join(a.dir, "predict", f"{name}.report.json"))
        value, pci, _ = predicted(report, policy)
        live, lci = live_with_ci(traces[name], baseline[speed])
        for m in METRICS:
            if policy == "none" and m in ("speedup over none", "hit rate"):
                continue
            p, l = value[m], live[m]
            rel = (p - l) / l if l else float("nan")
            out.append([name, policy, width, cache, speed, m, fmt(p), fmt(l), fmt(rel)])
            cis.append([name, m, fmt(pci[m][0]), fmt(pci[m][1]), fmt(lci[m][0]), fmt(lci[m][1])])
    write_csv(a.out, out)
    if a.ci:
        write_csv(a.ci, cis)
    if a.calibration_check:
        write_csv(a.calibration_check, check)
        for r in check[1:]:
            print(f"calibration run, in sample: {r[5]} predicted {r[6]}, live {r[7]} ({float(r[8]) * 100:+.2f} %)", file=sys.stderr)
    worst = {}
    for r in out[1:]:
        if r[8]:
            m = r[5]
            err = abs(float(r[6]) - float(r[7])) if m == "hit rate" else abs(float(r[8]))
            if m not in worst or err > worst[m][0]:
                worst[m] = (err, r[0])
    for m, (err, cfg) in sorted(worst.items()):
        unit = " points" if m == "hit rate" else " %"
        shown = err * 100
        print(f"largest error, {m}: {shown:.2f}{unit} ({cfg})", file=sys.stderr)


def cmd_figure(a):
    """Predicted against live per metric, y = x, 95 % intervals (matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        matplotlib.rcParams["svg.hashsalt"] = "specsim"
        import matplotlib.pyplot as plt
    except ImportError:
        fail("matplotlib is not installed (Debian: apt-get install python3-matplotlib)")
    with open(a.summary) as f:
        rows = list(csv.DictReader(f))
    with open(a.ci) as f:
        ci = {(r["config"], r["metric"]): r for r in csv.DictReader(f)}
    colours = {"none": "#555555", "cache": "#1b9e77", "random": "#d95f02", "speccache": "#7570b3"}
    speeds = sorted({r["llm"] for r in rows}, key=float, reverse=True)
    markers = dict(zip(speeds, ["o", "s", "^", "D"]))
    fig, axes = plt.subplots(2, 2, figsize=(9, 8.5))
    for ax, metric in zip(axes.flat, METRICS):
        pts = [r for r in rows if r["metric"] == metric]
        lo, hi = float("inf"), float("-inf")
        for r in pts:
            x, y = float(r["live"]), float(r["predicted"])
            c = ci.get((r["config"], metric), {})

            def err(v, key_lo, key_hi):
                try:
                    return [[max(v - float(c[key_lo]), 0)], [max(float(c[key_hi]) - v, 0)]]
                except (KeyError, ValueError):
                    return None

            xe, ye = err(x, "live_lo", "live_hi"), err(y, "predicted_lo", "predicted_hi")
            ax.errorbar(
                x, y, xerr=xe, yerr=ye,
                fmt=markers.get(r["llm"], "o"), color=colours.get(r["policy"], "black"),
                ms=5, elinewidth=0.8, capsize=2, alpha=0.85,
            )
            lo = min([lo, x, y] + ([x - xe[0][0]] if xe else []) + ([y - ye[0][0]] if ye else []))
            hi = max([hi, x, y] + ([x + xe[1][0]] if xe else []) + ([y + ye[1][0]] if ye else []))
        if pts:
            pad = (hi - lo) * 0.05 or 0.01
            lim = (lo - pad, hi + pad)
            ax.plot(lim, lim, color="black", lw=0.8, ls="--")
            ax.set_xlim(lim)
            ax.set_ylim(lim)
            ax.set_aspect("equal")
        unit = {"mean iteration latency": " (s)", "exposed web time": " (s)"}.get(metric, "")
        ax.set_title(metric)
        ax.set_xlabel("live" + unit)
        ax.set_ylabel("predicted" + unit)
    handles = [plt.Line2D([], [], color=c, marker="o", ls="", label=p) for p, c in colours.items()]
    handles += [plt.Line2D([], [], color="black", marker=m, ls="", label=f"LLM x{s}") for s, m in markers.items()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    fig.suptitle("specsim prediction vs live run (95 % intervals; dashed: y = x)")
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    fig.savefig(a.out, metadata={"Date": None} if a.out.endswith(".svg") else None)
    print(f"wrote {a.out}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("calibrate")
    c.add_argument("--trace", required=True)
    c.add_argument("--graph", required=True)
    c.add_argument("--fetch", required=True)
    c.add_argument("--target", required=True)
    c.add_argument("--draft", required=True)
    c.add_argument("--draft-scale", type=float, default=1.0, help="the draft replay's scale in the calibration run")
    c.add_argument("--accuracy", required=True, help="JSON list, the stand-in draft's cumulative accuracy")
    c.add_argument("--max-rounds", type=int, required=True)
    c.add_argument("--replications", type=int, default=20)
    c.add_argument("--seed", type=int, default=2026)
    c.add_argument("--out", required=True)
    c.add_argument("--facts", required=True)
    p = sub.add_parser("plan")
    p.add_argument("--base", required=True)
    p.add_argument("--live", required=True)
    p.add_argument("--grid", choices=["quick", "full"], required=True)
    p.add_argument("--speeds", required=True)
    p.add_argument("--dir", required=True)
    r = sub.add_parser("predictions")
    r.add_argument("--dir", required=True)
    r.add_argument("--out", required=True)
    s = sub.add_parser("summary")
    s.add_argument("--dir", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--ci")
    s.add_argument("--calibration-check")
    g = sub.add_parser("figure")
    g.add_argument("--summary", required=True)
    g.add_argument("--ci", required=True)
    g.add_argument("--out", required=True)
    a = ap.parse_args()
    commands = {
        "calibrate": cmd_calibrate,
        "plan": cmd_plan,
        "predictions": cmd_predictions,
        "summary": cmd_summary,
        "figure": cmd_figure,
    }
    commands[a.cmd](a)


if __name__ == "__main__":
    main()
