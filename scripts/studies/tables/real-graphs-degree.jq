# Study 5: the out-degree of the pages Wikispeedia players act on (docs/studies.md):
# jq -r -s -L scripts/studies -f THIS GRAPH.json TRACE.jsonl. A click or back is decided on
# the session's current page: its root for the first action, else the page the previous
# action reached. Medians are the lower middle value.
include "lib";
def median: sort | .[(length - 1) / 2 | floor];
(.[0]) as $graph
| (reduce $graph.edges[] as $e ({}; .[$e[0] | tostring] += 1)) as $deg
| ([$graph.pages | to_entries[] | {key: .value.name, value: ($deg[.key | tostring] // 0)}] | from_entries) as $by_name
| [.[1:][] | select(.type == "session" or .type == "iteration")] as $lines
| [foreach $lines[] as $l ({cur: null};
     if $l.type == "session" then {cur: $l.root}
     else {cur: $l.page, acted: $by_name[.cur]} end;
     select(has("acted")) | .acted)] as $acted
| "## Out-degree of the Wikispeedia graph", "",
  md_table(["pages", "links", "median out-degree, pages with links", "actions", "median out-degree of the pages acted on"];
    [[ "\($graph.pages | length)", "\($graph.edges | length)", "\([$deg[]] | median)",
       "\($acted | length)", "\($acted | median)" ]])
