# Study 3 check tables (docs/studies.md): jq -r -s -L scripts/studies -f THIS results.jsonl
# of scenarios/studies/shared-sessions-count.json: the session count per replication swept at
# 16, 32 and 128 fetch slots. rho = fetch_load, with a dagger when fetch_overloaded.
include "lib";
def W: "fetcher.slots";
def N: "sessions";
def rho: if .fetch_load == null then "n/a" else (.fetch_load | fixed(2)) + (if .fetch_overloaded then " †" else "" end) end;
. as $all
| ([.[].axes[W]] | unique) as $ws
| ([.[].axes[N]] | unique) as $ns
| $ws[] as $w
| "## \($w) fetch slots", "",
  md_table(["sessions per replication", "`none` session s", "`none` rho", "`none` queue s/iteration",
            "`cache` hit rate", "`cache` speedup [95 % CI]", "`cache` rho",
            "speccache session s", "speccache hit rate", "speccache speedup [95 % CI]", "speccache rho",
            "cancelled / session"];
    [$ns[] as $n | ($all | row("none"; {(W): $w, (N): $n})) as $no
     | ($all | row("cache"; {(W): $w, (N): $n})) as $ca | ($all | row("speccache"; {(W): $w, (N): $n})) as $s
     | ["\($n)", ($no.session_latency_s | fixed(1)), ($no | rho), ($no.queue_s | fixed(2)),
        ($ca.hit_rate | pct), ($ca | ratio_ci("speedup")), ($ca | rho),
        ($s.session_latency_s | fixed(1)), ($s.hit_rate | pct), ($s | ratio_ci("speedup")), ($s | rho),
        ($s.prefetch_cancelled_per_session | fixed(1))]]),
  ""
