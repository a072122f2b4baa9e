# Study 3 tables (docs/studies.md): jq -r -s -L scripts/studies -f THIS results.jsonl
# rho = fetch_load: the offered fetch load per slot the run reports (docs/report.md), with a
# dagger when fetch_overloaded. A stale prefetch cancelled in the queue is never served and
# not in rho; "asked" is the load of every fetch the policy asked for, cancelled or not:
#   asked(P) = rho(none) x (prefetches_per_session(P) + demand_fetches_per_session(P))
#              / demand_fetches_per_session(none)
# (every fetch time comes from one distribution, so load is proportional to fetch counts).
include "lib";
def W: "fetcher.slots";
def rho: if .fetch_load == null then "n/a" else (.fetch_load | fixed(2)) + (if .fetch_overloaded then " †" else "" end) end;
def asked($none): $none.fetch_load * (.prefetches_per_session + .demand_fetches_per_session)
  / $none.demand_fetches_per_session;
def half: if .speedup_ci_lo == null then "n/a" else ((.speedup_ci_hi - .speedup_ci_lo) / 2 | fixed(3)) end;
. as $all
| ([.[].axes[W]] | unique) as $ws
| [{scope: "shared", cancel: true}, {scope: "session", cancel: true},
   {scope: "shared", cancel: false}, {scope: "session", cancel: false}] as $cases
| def at($p; $w; $c): $all | row($p; {(W): $w, "cache.scope": $c.scope, "fetcher.cancel_stale": $c.cancel});
($cases[] as $c
 | "## \(if $c.scope == "shared" then "One shared cache (1000 pages)" else "A cache of 10 pages per session" end), stale prefetches \(if $c.cancel then "cancelled (default)" else "kept (`cancel_stale: false`)" end)", "",
   md_table(["slots", "`none` rho", "`none` session s", "`none` queue s/iteration", "`cache` speedup [95 % CI]",
             "`cache` rho", "speccache speedup [95 % CI]", "speccache rho", "speccache asked", "cancelled / session",
             "speccache full hits", "speccache queue s/iteration", "oracle speedup"];
     [$ws[] as $w | at("none"; $w; $c) as $n | at("cache"; $w; $c) as $ca | at("speccache"; $w; $c) as $s
      | ["\($w)", ($n | rho), ($n.session_latency_s | fixed(1)), ($n.queue_s | fixed(2)),
         ($ca | ratio_ci("speedup")), ($ca | rho), ($s | ratio_ci("speedup")), ($s | rho),
         ($s | asked($n) | fixed(2)), ($s.prefetch_cancelled_per_session | fixed(1)),
         ($s.full_hit_rate | pct), ($s.queue_s | fixed(2)), (at("oracle"; $w; $c).speedup | times)]]),
   ""),
"## Hit rates and fetches per session (128 slots, stale prefetches cancelled)", "",
md_table(["cache", "`cache` hit rate", "`cache` fetches / session", "speccache hit rate", "speccache fetches / session",
          "speccache speedup", "`none` fetches / session"];
  [$cases[0:2][] as $c | at("none"; 128; $c) as $n | at("cache"; 128; $c) as $ca | at("speccache"; 128; $c) as $s
   | [$c.scope, ($ca.hit_rate | pct), ($ca.demand_fetches_per_session | fixed(2)), ($s.hit_rate | pct),
      ($s.prefetches_per_session + $s.demand_fetches_per_session | fixed(2)), ($s.speedup | times),
      ($n.demand_fetches_per_session | fixed(2))]]),
"",
"## Confidence intervals: half-width of the speedup's 95 % interval (\(.[0] | "replications and sessions: see the scenario"))", "",
md_table(["cells", "largest half-width, `cache`", "largest half-width, speccache"];
  [[ "`none` rho < 0.9",
     ([$all[] | select(.policy == "cache") | . as $r
       | select(($all | row("none"; $r.axes)).fetch_load < 0.9) | (.speedup_ci_hi - .speedup_ci_lo) / 2] | max | fixed(3)),
     ([$all[] | select(.policy == "speccache") | . as $r
       | select(($all | row("none"; $r.axes)).fetch_load < 0.9) | (.speedup_ci_hi - .speedup_ci_lo) / 2] | max | fixed(3)) ],
   [ "`none` rho >= 0.9",
     ([$all[] | select(.policy == "cache") | . as $r
       | select(($all | row("none"; $r.axes)).fetch_load >= 0.9) | (.speedup_ci_hi - .speedup_ci_lo) / 2] | max | fixed(3)),
     ([$all[] | select(.policy == "speccache") | . as $r
       | select(($all | row("none"; $r.axes)).fetch_load >= 0.9) | (.speedup_ci_hi - .speedup_ci_lo) / 2] | max | fixed(3)) ]])
