# Study 2 tables (docs/studies.md): jq -r -s -L scripts/studies -f THIS results.jsonl
# Matrices of capacity (rows) x width (columns), one per policy, metric and list order.
include "lib";
def C: "cache.capacity";
def K: "width";
def O: "cache.list_order";
. as $all
| ([.[].axes[C]] | unique) as $cs
| ([.[].axes[K]] | unique) as $ks
| ([.[].axes[O]] | unique | sort_by(. != "worst_first")) as $os
| def at($p; $c; $k; $o): $all | row($p; {(C): $c, (K): $k, (O): $o});
  def matrix($title; $p; $o; f):
    "### \($title): \($p), list order \($o)", "",
    md_table(["capacity \\ width"] + ($ks | map("k = \(.)"));
      [$cs[] as $c | ["C = \($c)"] + [$ks[] as $k | at($p; $c; $k; $o) | f]]),
    "";
($os[] as $o
 | "## List order `\($o)`", "",
   matrix("Hit rate (full hits)"; "random"; $o; "\(.hit_rate | pct) (\(.full_hit_rate | pct))"),
   matrix("Hit rate (full hits)"; "speccache"; $o; "\(.hit_rate | pct) (\(.full_hit_rate | pct))"),
   matrix("Speedup"; "random"; $o; .speedup | times),
   matrix("Speedup [95 % CI]"; "speccache"; $o; ratio_ci("speedup")),
   matrix("Prefetches wasted per session"; "speccache"; $o; .prefetch_wasted_per_session | fixed(1))),
"## References (no prefetch list: the list order does not apply)", "",
md_table(["capacity", "`cache` hit rate", "`cache` speedup", "`oracle` hit rate (full)", "`oracle` speedup"];
  [$cs[] as $c | at("cache"; $c; $ks[0]; $os[0]) as $ca | at("oracle"; $c; $ks[0]; $os[0]) as $orc
   | ["C = \($c)", ($ca.hit_rate | pct), ($ca.speedup | times),
      "\($orc.hit_rate | pct) (\($orc.full_hit_rate | pct))", ($orc.speedup | times)]])
