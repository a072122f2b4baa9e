# Study 1b tables (docs/studies.md): jq -r -s -L scripts/studies -f THIS results.jsonl
# Gain = speedup(speccache) - speedup(cache) in the same cell; "kept at D = 4 s" is the
# gain at a 4 s draft over the gain at the fastest draft on the grid.
include "lib";
def D: "drafts[0].latency.latency.median";
def F: "fetch.median";
. as $all
| ([.[].axes[D]] | unique) as $ds
| ([.[].axes[F]] | unique) as $fs
| def at($p; $d; $f): $all | row($p; {(D): $d, (F): $f});
  def gain($d; $f): at("speccache"; $d; $f).speedup - at("cache"; $d; $f).speedup;
"## Headline, per fetch time (think time T = 8 s; speccache, gains over `cache`)", "",
md_table(["fetch median F", "`cache` floor", "speedup, D = \($ds[0]) s", "speedup, D = 4 s",
          "gain kept at D = 4 s", "oracle", "web reduction, D = \($ds[0]) s", "oracle web reduction", "oracle hidden web"];
  [$fs[] as $f
   | [ "\($f) s", (at("cache"; $ds[0]; $f).speedup | times),
       (at("speccache"; $ds[0]; $f) | ratio_ci("speedup")),
       (at("speccache"; 4; $f) | ratio_ci("speedup")),
       (gain(4; $f) / gain($ds[0]; $f) | pct),
       (at("oracle"; $ds[0]; $f).speedup | times),
       (at("speccache"; $ds[0]; $f) | ratio_ci("web_reduction")),
       (at("oracle"; $ds[0]; $f) | ratio_ci("web_reduction")),
       (at("oracle"; $ds[0]; $f).hidden_web_fraction | pct) ]]),
"",
($fs[] as $f
 | "## speccache at fetch median F = \($f) s", "",
   md_table(["draft latency D (median)", "speedup [95 % CI]", "gain over `cache`", "hit rate", "full hits",
             "late drafts / session", "web reduction [95 % CI]", "hidden web fraction"];
     [$ds[] as $d | at("speccache"; $d; $f)
      | ["\($d) s", ratio_ci("speedup"), (gain($d; $f) | fixed(3)), (.hit_rate | pct),
         (.full_hit_rate | pct), (.drafts_late_per_session | fixed(2)), ratio_ci("web_reduction"),
         (.hidden_web_fraction | pct)]]),
   "")
