# Study 5, the humans' own think times (docs/studies.md): jq -r -s -L scripts/studies -f THIS
# REPORT.json TRACE.jsonl, with REPORT the `specsim run` report of the real-graphs scenario at
# width 3 replaying TRACE (Wikispeedia imported with its durations).
include "lib";
(.[0]) as $report
| [.[1:][] | select(.type == "iteration") | .target.latency_s | select(. != null)] | sort as $think
| ($report.policies | map({key: .policy, value: .}) | from_entries) as $p
| "## Wikispeedia humans with their own think times (width 3)", "",
  md_table(["think time per click, median", "`none` web share", "`speccache` hit rate (full hits)",
            "`speccache` web reduction [95 % CI]", "`speccache` hidden web fraction", "`speccache` speedup [95 % CI]",
            "`oracle` speedup"];
    [[ "\($think[($think | length) / 2 | floor] | fixed(1)) s (\($think | length) clicks)",
       ($p.none.web_share | pct), "\($p.speccache.hit_rate | pct) (\($p.speccache.full_hit_rate | pct))",
       ($p.speccache | ratio_ci("web_reduction")), ($p.speccache.hidden_web_fraction | pct),
       ($p.speccache | ratio_ci("speedup")), ($p.oracle.speedup | times) ]])
