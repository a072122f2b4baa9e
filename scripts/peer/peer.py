"""An independent SimPy model of the SpecCache system (docs/model.md), the peer of specsim.

It reads a specsim scenario file and simulates the same system from the written rules, with
its own code and its own random numbers (Python's `random`), so its results agree with
specsim's within sampling error, not digit for digit. The site is generated once from the
scenario, as specsim does; each replication walks its own sessions. Common random numbers
across policies come from memo tables: the target's, stages' and draft's latencies per
(session, iteration), the fetch time per (session, step, page) and the draft's list per
(session, iteration) are drawn once per replication and read by every policy.

Rules (docs/model.md): a session fetches its start page, then each iteration the target
thinks T; `random` prefetches k links at the start, `oracle` the next page, `speccache`'s draft
answers after D with a ranked list that enters the cache worst rank first (a cached page is an
LRU use) and is fetched best first; a draft answering after the target decided is cancelled.
The target's page is a hit (cached, complete), a partial hit (in flight: wait) or a miss
(demand fetch); a session's prefetches still queued for a fetch slot are cancelled when its
target decides; extra stages run after the observation. Fetch slots are FIFO with demand
priority (a queued prefetch the target waits on is promoted).

Usage: python peer.py SCENARIO.json [--replications N] [--seed S] [--write-site GRAPH.json]
Prints one JSON object: per policy, per replication metrics, and the CPU time spent on the
replications (`cpu_s`) and, before them, on reading or generating the site (`cpu_site_s`).
"""

import argparse
import json
import math
import random
import sys
import time
from collections import OrderedDict, deque

import simpy

POLICIES = ["none", "cache", "random", "speccache", "oracle"]


# ---------------------------------------------------------------- distributions


def sampler(spec, where):
    """A function rng -> float for a distribution spec (seconds or counts)."""
    kind = spec["dist"]
    if kind == "constant":
        v = float(spec["value"])
        return lambda r: v
    if kind == "uniform":
        lo, hi = float(spec["low"]), float(spec["high"])
        return lambda r: r.uniform(lo, hi)
    if kind == "exponential":
        rate = 1.0 / float(spec["mean"])
        return lambda r: r.expovariate(rate)
    if kind == "lognormal":
        mu, sigma = math.log(float(spec["median"])), float(spec["sigma"])
        return lambda r: r.lognormvariate(mu, sigma)
    if kind == "gamma":
        k, theta = float(spec["shape"]), float(spec["scale"])
        return lambda r: r.gammavariate(k, theta)
    if kind == "normal":
        m, s = float(spec["mean"]), float(spec["std"])

        def trunc(r):
            for _ in range(64):
                x = r.gauss(m, s)
                if x >= 0:
                    return x
            return 0.0

        return trunc
    sys.exit(f"peer: {where}: distribution `{kind}` is not implemented by the peer model")


def count(sample, r, lo):
    v = round(sample(r))
    return max(int(v), lo)


def llm(spec, where):
    """A function rng -> (latency seconds, tokens) for an LLM profile."""
    tokens = sampler(spec["output_tokens"], where) if "output_tokens" in spec else None
    if "latency" in spec:
        lat = sampler(spec["latency"], where)
        return lambda r: (lat(r), count(tokens, r, 1) if tokens else 0)
    ttft, tpot = sampler(spec["ttft"], where), sampler(spec["tpot"], where)

    def call(r):
        n = count(tokens, r, 1)
        return ttft(r) + tpot(r) * (n - 1), n

    return call


# ---------------------------------------------------------------- site and walker


def hierarchical_site(spec, r):
    """Breadth-first tree with cross links (docs/scenario.md, generator `hierarchical`)."""
    n = max(int(spec["pages"]), 2)
    degree = sampler(spec["out_degree"], "site.out_degree")
    cross_p = float(spec.get("cross_link_prob", 0.0))
    links = [[] for _ in range(n)]
    queue = deque([0])
    created = 1
    while queue:
        u = queue.popleft()
        d = min(count(degree, r, 1), n - 1)
        mine = links[u]
        seen = set()
        for _ in range(d):
            if created < n and not r.random() < cross_p:
                mine.append(created)
                seen.add(created)
                queue.append(created)
                created += 1
                continue
            for _ in range(16):
                v = r.randrange(created)
                if v != u and v not in seen:
                    mine.append(v)
                    seen.add(v)
                    break
    return links[:created]


def read_site(path):
    """Out-links from a specsim graph file (docs/scenario.md), in edge order."""
    with open(path) as fh:
        g = json.load(fh)
    n = max(len(g.get("pages", [])), 1 + max((max(e) for e in g["edges"]), default=0))
    links = [[] for _ in range(n)]
    for a, b in g["edges"]:
        links[a].append(b)
    return links


def write_site(links, path):
    with open(path, "w") as fh:
        json.dump({"root": 0, "edges": [[u, v] for u, out in enumerate(links) for v in out]}, fh)


def walk(agent, links, r):
    """One session's pages: a list of (page, is_back), and whether it ends with an answer."""
    rounds = min(count(agent["rounds"], r, 1), agent["max_rounds"])
    final = agent["final_answer"]
    visits = rounds - (1 if final else 0)
    history = [0]
    visited = {0}
    steps = []
    for _ in range(visits):
        u = history[-1]
        out = links[u]
        if len(history) > 1 and (not out or r.random() < agent["back_prob"]):
            history.pop()
            steps.append(history[-1])
            continue
        if not out:
            break
        if agent["avoid_visited"]:
            v = None
            for _ in range(8):
                c = out[r.randrange(len(out))]
                if c not in visited:
                    v = c
                    break
            if v is None:
                fresh = [x for x in out if x not in visited] or out
                v = fresh[r.randrange(len(fresh))]
        else:
            v = out[r.randrange(len(out))]
        visited.add(v)
        history.append(v)
        steps.append(v)
    return steps, final


def pick_distinct(out, k, exclude, r):
    pool = [x for x in dict.fromkeys(out) if x != exclude]
    return r.sample(pool, min(k, len(pool)))


# ---------------------------------------------------------------- one run


class Fetch:
    __slots__ = ("page", "session", "demand", "cache", "in_cache", "state", "requested",
                 "started", "done", "waiters", "duration")

    def __init__(self, page, session, demand, cache, now, duration):
        self.page, self.session, self.demand = page, session, demand
        self.cache, self.in_cache = cache, cache is not None
        self.state = "queued"
        self.requested = self.started = now
        self.done = None
        self.waiters = 0
        self.duration = duration


class Entry:
    __slots__ = ("fetch", "ready", "web", "unused")

    def __init__(self, fetch, unused):
        self.fetch, self.ready, self.web, self.unused = fetch, False, 0.0, unused


class Run:
    """One policy over one replication's sessions."""

    def __init__(self, sys_, policy, rep):
        self.s, self.policy, self.rep = sys_, policy, rep
        self.env = simpy.Environment()
        sc = sys_.scenario
        self.width = sc["width"]
        self.capacity = sc["cache"]["capacity"]
        shared = sc["cache"].get("scope", "session") == "shared"
        n = len(rep.trajectories)
        if policy == "none":
            self.caches = None
        elif shared:
            one = OrderedDict()
            self.caches = [one] * n
        else:
            self.caches = [OrderedDict() for _ in range(n)]
        fetcher = sc.get("fetcher", {})
        self.slots = fetcher.get("slots")
        self.priority = fetcher.get("demand_priority", True)
        self.cancel_stale = fetcher.get("cancel_stale", True)
        self.busy = 0
        self.demand_q, self.background_q = deque(), deque()
        self.m = dict(iterations=0, visits=0, hits=0, partial_hits=0, iteration_latency=0.0,
                      session_latency=0.0, sessions=0, prefetch_issued=0, prefetch_used=0,
                      prefetch_wasted=0, prefetch_cancelled=0, drafts_late=0)

    # -- fetch pool and cache

    def drop(self, e):
        if e.unused:
            self.m["prefetch_wasted"] += 1
        if not e.ready and e.fetch is not None:
            e.fetch.in_cache = False

    def insert(self, cache, page, entry):
        if self.capacity == 0:
            self.drop(entry)
            return
        old = cache.pop(page, None)
        if old is not None:
            self.drop(old)
        elif len(cache) >= self.capacity:
            _, victim = cache.popitem(last=False)
            self.drop(victim)
        cache[page] = entry

    def new_fetch(self, s, page, step, demand, cache):
        f = Fetch(page, s, demand, cache, self.env.now, self.s.fetch_time(self.rep, s, step, page))
        f.done = self.env.event()
        return f

    def admit(self, f):
        if self.slots is None or self.busy < self.slots:
            self.busy += 1
            self.start(f)
        elif f.demand and self.priority:
            self.demand_q.append(f)
        else:
            self.background_q.append(f)

    def start(self, f):
        f.state = "running"
        f.started = self.env.now
        t = self.env.timeout(f.duration)
        t.callbacks.append(lambda _ev, f=f: self.fetch_done(f))

    def fetch_done(self, f):
        f.state = "done"
        web = self.env.now - f.requested
        if f.in_cache:
            e = f.cache.get(f.page)
            if e is not None and e.fetch is f:
                e.ready, e.web = True, web
        nxt = None
        while self.demand_q or self.background_q:
            q = self.demand_q if self.demand_q else self.background_q
            c = q.popleft()
            if c.state == "queued":
                nxt = c
                break
        if nxt is not None:
            self.start(nxt)
        else:
            self.busy -= 1
        f.done.succeed(web)

    def prefetch(self, s, page, step):
        cache = self.caches[s]
        if page in cache:
            cache.move_to_end(page)  # a prediction of a cached page is a use
            return
        self.m["prefetch_issued"] += 1
        f = self.new_fetch(s, page, step, False, cache)
        self.insert(cache, page, Entry(f, True))
        self.admit(f)

    def prefetch_ranked(self, s, picks, step):
        cache = self.caches[s]
        for p in reversed(picks):  # enters worst rank first
            if p in cache:
                cache.move_to_end(p)
                continue
            self.insert(cache, p, Entry(None, False))
        for p in picks:  # fetched best rank first
            e = cache.get(p)
            if e is None or e.fetch is not None:
                continue
            self.m["prefetch_issued"] += 1
            f = self.new_fetch(s, p, step, False, cache)
            e.fetch, e.unused = f, True
            self.admit(f)

    def drop_stale(self, s):
        if not self.cancel_stale:
            return
        for f in list(self.demand_q) + list(self.background_q):
            if f.state != "queued" or f.session != s or f.demand or f.waiters:
                continue
            f.state = "cancelled"
            if f.in_cache:
                f.cache.pop(f.page, None)
                f.in_cache = False
                self.m["prefetch_cancelled"] += 1

    # -- a session

    def visit(self, s, page, step):
        """Looks `page` up and starts its fetch if needed: (outcome, fetch to wait on)."""
        cache = self.caches[s] if self.caches is not None else None
        e = None
        if cache is not None:
            e = cache.get(page)
            if e is not None:
                cache.move_to_end(page)
                if e.unused:
                    e.unused = False
                    self.m["prefetch_used"] += 1
        if e is not None and e.ready:
            return "hit", None
        if e is not None:
            f, outcome = e.fetch, "partial"
            if f.state == "queued" and self.priority:
                self.demand_q.append(f)  # promoted
        else:
            f, outcome = self.new_fetch(s, page, step, True, cache), "miss"
            if cache is not None:
                self.insert(cache, page, Entry(f, False))
            self.admit(f)
        f.waiters += 1
        return outcome, f

    def session(self, s):
        env, sy, rep = self.env, self.s, self.rep
        steps, final = rep.trajectories[s]
        arrival = env.now
        _, f = self.visit(s, 0, 0)
        if f is not None:
            yield f.done
        page = 0
        iterations = len(steps) + (1 if final else 0)
        for i in range(iterations):
            t0 = env.now
            think = sy.target(rep, s, i)
            nxt = steps[i] if i < len(steps) else None
            pending = None
            if self.policy == "random":
                for p in pick_distinct(sy.links[page], self.width, None, rep.rng):
                    self.prefetch(s, p, i + 1)
            elif self.policy == "oracle" and nxt is not None:
                self.prefetch(s, nxt, i + 1)
            elif self.policy == "speccache":
                d = sy.draft(rep, s, i)
                pending = env.timeout(d)
                u = page

                def answered(_ev, s=s, i=i, u=u, nxt=nxt):
                    if self.drafts_pending.get(s) is not _ev:
                        return  # cancelled: the target decided first
                    del self.drafts_pending[s]
                    self.prefetch_ranked(s, sy.draft_list(rep, s, i, u, nxt), i + 1)

                pending.callbacks.append(answered)
                self.drafts_pending[s] = pending
            yield env.timeout(think)
            if pending is not None and self.drafts_pending.pop(s, None) is not None:
                self.m["drafts_late"] += 1
            m = self.m
            if nxt is None:  # the answer
                self.drop_stale(s)
                m["iterations"] += 1
                m["iteration_latency"] += env.now - t0
                continue
            outcome, f = self.visit(s, nxt, i + 1)
            self.drop_stale(s)
            if f is not None:
                yield f.done
            page = nxt
            stages = sy.stages(rep, s, i)
            if stages > 0:
                yield env.timeout(stages)
            m["iterations"] += 1
            m["visits"] += 1
            if outcome == "hit":
                m["hits"] += 1
            elif outcome == "partial":
                m["partial_hits"] += 1
            m["iteration_latency"] += env.now - t0
        self.m["sessions"] += 1
        self.m["session_latency"] += env.now - arrival

    def run(self):
        self.drafts_pending = {}
        for s in range(len(self.rep.trajectories)):
            self.env.process(self.session(s))
        self.env.run()
        if self.caches is not None:
            for c in {id(c): c for c in self.caches}.values():
                self.m["prefetch_wasted"] += sum(1 for e in c.values() if e.unused)
        return self.m


# ---------------------------------------------------------------- the system


class Replication:
    def __init__(self, sys_, index):
        self.rng = random.Random(sys_.seed * 1_000_003 + index)
        sc = sys_.scenario
        self.trajectories = [walk(sys_.agent, sys_.links, self.rng)
                             for _ in range(sc["sessions"])]
        # memo tables: common random numbers across policies
        self.memo_target, self.memo_stages, self.memo_draft = {}, {}, {}
        self.memo_fetch, self.memo_list = {}, {}


class System:
    def __init__(self, scenario, seed):
        self.scenario, self.seed = scenario, seed
        for key, want in [("arrivals", {"process": "all_at_start"})]:
            if scenario.get(key, want) != want:
                sys.exit(f"peer: `{key}` other than {want} is not implemented")
        site = scenario["site"]
        if scenario.get("cache", {}).get("eviction", "lru") != "lru":
            sys.exit("peer: only LRU eviction is implemented")
        if scenario.get("cache", {}).get("list_order", "worst_first") != "worst_first":
            sys.exit("peer: only list_order worst_first is implemented")
        if scenario.get("lookup_cost", 0) != 0:
            sys.exit("peer: only lookup_cost 0 is implemented")
        if len(scenario.get("drafts", [])) > 1:
            sys.exit("peer: at most one draft is implemented")
        if site["generator"] == "hierarchical":
            self.links = hierarchical_site(site, random.Random(seed))
        elif site["generator"] == "file" and site.get("root", 0) == 0:
            self.links = read_site(site["path"])
        else:
            sys.exit("peer: only `hierarchical` sites and graph files rooted at 0 are implemented")
        a = scenario["agent"]
        self.agent = dict(rounds=sampler(a["rounds"], "agent.rounds"),
                          max_rounds=a.get("max_rounds", 10), back_prob=a.get("back_prob", 0.0),
                          avoid_visited=a.get("avoid_visited", False),
                          final_answer=a.get("final_answer", True))
        self._fetch = sampler(scenario["fetch"], "fetch")
        self._target = llm(scenario["target"], "target")
        self._stages = [llm(st["latency"], "stages") for st in scenario.get("stages", [])]
        self._draft = None
        self.accuracy = None
        if scenario.get("drafts"):
            d = scenario["drafts"][0]
            self._draft = llm(d["latency"], "drafts[0].latency")
            acc = d["accuracy"]
            if "cumulative" in acc:
                self.accuracy = list(acc["cumulative"])
            else:
                top1, decay = acc["top1"], acc.get("decay", 0.5)
                miss, q, table = 1.0, top1, []
                for _ in range(scenario["width"]):
                    miss *= 1 - q
                    q *= decay
                    table.append(1 - miss)
                self.accuracy = table
        self.width = scenario["width"]

    def target(self, rep, s, i):
        key = (s, i)
        v = rep.memo_target.get(key)
        if v is None:
            v = rep.memo_target[key] = self._target(rep.rng)[0]
        return v

    def stages(self, rep, s, i):
        key = (s, i)
        v = rep.memo_stages.get(key)
        if v is None:
            v = rep.memo_stages[key] = sum(st(rep.rng)[0] for st in self._stages)
        return v

    def draft(self, rep, s, i):
        key = (s, i)
        v = rep.memo_draft.get(key)
        if v is None:
            v = rep.memo_draft[key] = self._draft(rep.rng)[0]
        return v

    def fetch_time(self, rep, s, step, page):
        key = (s, step, page)
        v = rep.memo_fetch.get(key)
        if v is None:
            v = rep.memo_fetch[key] = self._fetch(rep.rng)
        return v

    def draft_list(self, rep, s, i, u, truth):
        key = (s, i)
        v = rep.memo_list.get(key)
        if v is not None:
            return v
        r, k, out = rep.rng, self.width, self.links[u]
        if k >= len(out) and truth in out:
            v = list(out)
        else:
            rank = None
            if truth is not None:
                x = r.random()
                table = self.accuracy
                for j in range(k):
                    if x < (table[min(j, len(table) - 1)] if table else 0.0):
                        rank = j
                        break
            wrong = k - (1 if rank is not None else 0)
            v = pick_distinct(out, wrong, truth, r)
            if rank is not None:
                v.insert(min(rank, len(v)), truth)
        rep.memo_list[key] = v
        return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--replications", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--write-site", metavar="PATH",
                    help="only generate the scenario's site and write it as a graph file")
    args = ap.parse_args()
    with open(args.scenario) as fh:
        sc = json.load(fh)
    if args.write_site:
        seed = args.seed if args.seed is not None else sc.get("seed", 42)
        write_site(hierarchical_site(sc["site"], random.Random(seed)), args.write_site)
        return
    sc.setdefault("width", 3)
    sc.setdefault("cache", {}).setdefault("capacity", 10)
    reps = args.replications or sc.get("replications", 20)
    seed = args.seed if args.seed is not None else sc.get("seed", 42)
    policies = [p for p in POLICIES if p in sc.get("policies", POLICIES) or p == "none"]
    cpu0 = time.process_time()
    system = System(sc, seed)
    cpu_site = time.process_time() - cpu0
    cpu0 = time.process_time()
    runs = {p: [] for p in policies}
    for r in range(reps):
        rep = Replication(system, r)
        for p in policies:
            runs[p].append(Run(system, p, rep).run())
    cpu = time.process_time() - cpu0
    print(json.dumps({"replications": reps, "cpu_site_s": cpu_site, "cpu_s": cpu, "runs": runs}))


if __name__ == "__main__":
    main()
