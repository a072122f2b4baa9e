# Study 1a tables (docs/studies.md): jq -r -s -L scripts/studies -f THIS results.jsonl
# Gain = speedup(speccache) - speedup(cache) in the same cell (cache: revisits only, the
# floor). "Half the gain gone" interpolates linearly between grid points; "gain below 0.02"
# is the first draft latency on the grid with a gain under 0.02.
include "lib";
def D: "drafts[0].latency.latency.median";
def T: "target.latency.median";
. as $all
| ([.[].axes[D]] | unique) as $ds
| ([.[].axes[T]] | unique) as $ts
| def spec($d; $t): $all | row("speccache"; {(D): $d, (T): $t});
  def floor($t): $all | row("cache"; {(D): $ds[0], (T): $t}).speedup;
  def gain($d; $t): spec($d; $t).speedup - floor($t);
  def half($t):
    (gain($ds[0]; $t) / 2) as $h
    | [range(0; ($ds | length) - 1) | . as $i
       | select(gain($ds[$i]; $t) >= $h and gain($ds[$i + 1]; $t) < $h)
       | $ds[$i] + (gain($ds[$i]; $t) - $h) / (gain($ds[$i]; $t) - gain($ds[$i + 1]; $t))
         * ($ds[$i + 1] - $ds[$i])]
    | first // null;
  def below($t): [$ds[] | select(gain(.; $t) < 0.02)] | first // null;
"## Headline, per think time (speccache, gains over `cache`)", "",
md_table(["think time T (median)", "speedup, D = \($ds[0]) s", "`cache` floor", "oracle",
          "half the gain gone at", "gain below 0.02 at",
          "web reduction, D = \($ds[0]) s", "web reduction, D = 4 s", "hidden web, D = \($ds[0]) s"];
  [$ts[] as $t
   | [ "\($t) s", (spec($ds[0]; $t) | ratio_ci("speedup")), (floor($t) | times),
       ($all | row("oracle"; {(D): $ds[0], (T): $t}).speedup | times),
       (half($t) | if . == null then "beyond \($ds[-1]) s" else "D = \(fixed(1)) s (\(. / $t | fixed(2)) T)" end),
       (below($t) | if . == null then "beyond \($ds[-1]) s" else "D = \(.) s (\(. / $t | fixed(2)) T)" end),
       (spec($ds[0]; $t) | ratio_ci("web_reduction")),
       (spec(4; $t) | ratio_ci("web_reduction")),
       (spec($ds[0]; $t).hidden_web_fraction | pct) ]]),
"",
($ts[] as $t
 | "## speccache at think time T = \($t) s", "",
   md_table(["draft latency D (median)", "speedup [95 % CI]", "gain over `cache`", "hit rate", "full hits",
             "late drafts / session", "web reduction [95 % CI]", "hidden web fraction"];
     [$ds[] as $d | spec($d; $t)
      | ["\($d) s", ratio_ci("speedup"), (gain($d; $t) | fixed(3)), (.hit_rate | pct),
         (.full_hit_rate | pct), (.drafts_late_per_session | fixed(2)), ratio_ci("web_reduction"),
         (.hidden_web_fraction | pct)]]),
   "")
