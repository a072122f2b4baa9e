# Study 3 check tables (docs/studies.md): jq -r -s -L scripts/studies -f THIS results.jsonl
# of scenarios/studies/shared-sessions-rates.json: three arrival rates, each with the slots that
# give `none` the same load per slot. Mean gap = 0.871 x arrivals.gap.scale (the fitted shape).
include "lib";
def S: "arrivals.gap.scale";
def W: "fetcher.slots";
. as $all
| [.[] | select(.policy == "none")] | sort_by(-(.fetch_load * 100 | round), .axes[W])
| "## Same load per slot of `none`, three arrival rates (shared cache, stale prefetches cancelled)", "",
  md_table(["`none` rho", "mean gap", "slots", "`none` session s", "`none` queue s/iteration",
            "`cache` speedup [95 % CI]", "speccache speedup [95 % CI]", "speccache rho", "speccache queue s/iteration"];
    [.[] | . as $no | {(S): .axes[S], (W): .axes[W]} as $at
     | ($all | row("cache"; $at)) as $ca | ($all | row("speccache"; $at)) as $s
     | [($no.fetch_load | fixed(2)), "\(0.871 * $at[S] | fixed(0)) s", "\($at[W])",
        ($no.session_latency_s | fixed(1)), ($no.queue_s | fixed(2)), ($ca | ratio_ci("speedup")),
        ($s | ratio_ci("speedup")), ($s.fetch_load | fixed(2) + (if $s.fetch_overloaded then " †" else "" end)),
        ($s.queue_s | fixed(2))]])
