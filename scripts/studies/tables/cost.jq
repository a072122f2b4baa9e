# Study 4 tables (docs/studies.md): jq -r -s -L scripts/studies -f THIS results.jsonl
# Cost of speculation per second of session latency saved. Per cell, each policy P is paired
# with `none` of the same cell (same trajectories and samples):
#   saved_s       = session_latency_s(none) - session_latency_s(P)
#   extra_fetches = prefetches_per_session(P) + demand_fetches_per_session(P)
#                   - demand_fetches_per_session(none)
#   fetches_per_s_saved = extra_fetches / saved_s
#   tokens_per_s_saved  = draft_tokens_per_session(P) / saved_s
#   mb_per_s_saved      = (bytes_per_session(P) - bytes_per_session(none)) / 1e6 / saved_s
#   marginal fetches per s saved (width k to the next width k') =
#       (extra_fetches(k') - extra_fetches(k)) / (saved_s(k') - saved_s(k))
include "lib";
def K: "width";
def A: "drafts[0].accuracy.top1";
def cost($none):
  ($none.session_latency_s - .session_latency_s) as $saved
  | ((.prefetches_per_session + .demand_fetches_per_session) - $none.demand_fetches_per_session) as $extra
  | {saved: $saved, extra: $extra,
     fetches: (if $saved > 0 then $extra / $saved else null end),
     tokens: (if $saved > 0 then .draft_tokens_per_session / $saved else null end),
     mb: (if $saved > 0 then (.bytes_per_session - $none.bytes_per_session) / 1e6 / $saved else null end)};
. as $all
| ([.[].axes[K]] | unique) as $ks
| ([.[].axes[A]] | unique) as $accs
| def at($p; $k; $a): $all | row($p; {(K): $k, (A): $a});
  def c($p; $k; $a): at($p; $k; $a) | cost($all | row("none"; {(K): $k, (A): $a}));
at("none"; $ks[0]; 0.7) as $none
| "## Top-1 accuracy 0.7 (baseline `none`: session \($none.session_latency_s | fixed(1)) s, \($none.demand_fetches_per_session | fixed(2)) fetches)", "",
  md_table(["width", "speccache speedup [95 % CI]", "saved s", "extra fetches", "fetches per s saved",
            "marginal fetches per s saved", "draft tokens per s saved", "random: saved s", "random: fetches per s saved"];
    [range(0; $ks | length) as $i | $ks[$i] as $k | c("speccache"; $k; 0.7) as $s | c("random"; $k; 0.7) as $r
     | [ "\($k)", (at("speccache"; $k; 0.7) | ratio_ci("speedup")), ($s.saved | fixed(1)), ($s.extra | fixed(1)),
         ($s.fetches | fixed(2)),
         (if $i == 0 then "" else (c("speccache"; $ks[$i - 1]; 0.7)) as $p
            | "\(($s.extra - $p.extra) / ($s.saved - $p.saved) | fixed(1)) (from k = \($ks[$i - 1]))" end),
         ($s.tokens | fixed(1)), ($r.saved | fixed(1)), ($r.fetches | fixed(2)) ]]),
  "",
  "## Width 3, by draft top-1 accuracy", "",
  md_table(["top-1 accuracy", "speccache speedup [95 % CI]", "hit rate", "saved s", "extra fetches",
            "fetches per s saved", "draft tokens per s saved"];
    [$accs[] as $a | c("speccache"; 3; $a) as $s | at("speccache"; 3; $a) as $row
     | [ "\($a)", ($row | ratio_ci("speedup")), ($row.hit_rate | pct), ($s.saved | fixed(1)),
         ($s.extra | fixed(1)), ($s.fetches | fixed(2)), ($s.tokens | fixed(1)) ]]),
  "",
  "## The oracle (width and accuracy do not apply)", "",
  (c("oracle"; $ks[0]; 0.7) as $o
   | md_table(["oracle speedup [95 % CI]", "saved s", "extra fetches"];
       [[(at("oracle"; $ks[0]; 0.7) | ratio_ci("speedup")), ($o.saved | fixed(1)), ($o.extra | fixed(2))]])),
  "",
  "## Every cell", "",
  md_table(["width", "top-1 accuracy", "policy", "saved s/session", "extra fetches/session",
            "fetches per s saved", "draft tokens per s saved", "MB per s saved"];
    [$ks[] as $k | $accs[] as $a | ("random", "speccache", "oracle") as $p | c($p; $k; $a) as $x
     | ["\($k)", "\($a)", $p, ($x.saved | fixed(2)), ($x.extra | fixed(2)), ($x.fetches | fixed(2)),
        ($x.tokens | fixed(1)), ($x.mb | fixed(2))]])
