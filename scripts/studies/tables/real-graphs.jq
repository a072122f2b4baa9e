# Study 5 tables (docs/studies.md): jq -r -s -L scripts/studies -f THIS results.jsonl
# of scenarios/studies/real-graphs.json (axes: the trace, the width).
include "lib";
def TR: "trajectories.trace";
def K: "width";
def name: if test("wikispeedia") then "Wikispeedia humans" elif test("speedrun") then "wiki_speedrun LLM agents" else . end;
. as $all
| ([.[].axes[TR]] | unique | sort_by(test("speedrun"))) as $trs
| ([.[].axes[K]] | unique) as $ks
| def at($p; $t; $k): $all | row($p; {(TR): $t, (K): $k});
"## Headline (width 3 unless stated)", "",
md_table([""] + ($trs | map(name));
  [ ["iterations (every replication)"] + [$trs[] as $t | "\(at("none"; $t; 3).iterations)"],
    ["`cache` hit rate (revisits)"] + [$trs[] as $t | at("cache"; $t; 3).hit_rate | pct],
    ["`random` hit rate, width \($ks | map(tostring) | join(" / "))"]
      + [$trs[] as $t | [$ks[] as $k | at("random"; $t; $k).hit_rate * 100 | fixed(1)] | join(" / ") + " %"],
    ["`random` full hits, width \($ks | map(tostring) | join(" / "))"]
      + [$trs[] as $t | [$ks[] as $k | at("random"; $t; $k).full_hit_rate * 100 | fixed(1)] | join(" / ") + " %"],
    ["`speccache` hit rate (full hits)"] + [$trs[] as $t | at("speccache"; $t; 3) | "\(.hit_rate | pct) (\(.full_hit_rate | pct))"],
    ["`speccache` hit rate, width \($ks | map(tostring) | join(" / "))"]
      + [$trs[] as $t | [$ks[] as $k | at("speccache"; $t; $k).hit_rate * 100 | fixed(1)] | join(" / ") + " %"],
    ["`speccache` speedup [95 % CI]"] + [$trs[] as $t | at("speccache"; $t; 3) | ratio_ci("speedup")],
    ["`speccache` web reduction [95 % CI]"] + [$trs[] as $t | at("speccache"; $t; 3) | ratio_ci("web_reduction")],
    ["`speccache` hidden web fraction"] + [$trs[] as $t | at("speccache"; $t; 3).hidden_web_fraction | pct],
    ["`speccache` prefetches wasted / session, width \($ks | map(tostring) | join(" / "))"]
      + [$trs[] as $t | [$ks[] as $k | at("speccache"; $t; $k).prefetch_wasted_per_session | fixed(1)] | join(" / ")],
    ["`oracle` speedup (full hits)"] + [$trs[] as $t | at("oracle"; $t; 3) | "\(.speedup | times) (\(.full_hit_rate | pct))"],
    ["`oracle` web reduction"] + [$trs[] as $t | at("oracle"; $t; 3) | ratio_ci("web_reduction")],
    ["web share of `none`"] + [$trs[] as $t | at("none"; $t; 3).web_share | pct] ]),
"",
($trs[] as $t
 | "## \($t | name), every width", "",
   md_table(["width", "policy", "hit rate", "full hits", "speedup [95 % CI]", "web reduction [95 % CI]",
             "hidden web fraction", "prefetches wasted / session"];
     [$ks[] as $k | ("random", "speccache") as $p | at($p; $t; $k)
      | ["\($k)", $p, (.hit_rate | pct), (.full_hit_rate | pct), ratio_ci("speedup"), ratio_ci("web_reduction"),
         (.hidden_web_fraction | pct), (.prefetch_wasted_per_session | fixed(1))]]),
   "")
