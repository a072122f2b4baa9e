# Cost of speculation per second of session latency saved, from a sweep's results.jsonl.
# Usage: jq -r -s -f scripts/studies/cost.jq results/studies/cost/results.jsonl
# Per cell, each policy P is paired with `none` of the same cell (same trajectories and samples):
#   saved_s       = session_latency_s(none) - session_latency_s(P)
#   extra_fetches = prefetches_per_session(P) + demand_fetches_per_session(P)
#                   - demand_fetches_per_session(none)
#   fetches_per_s_saved = extra_fetches / saved_s
#   tokens_per_s_saved  = draft_tokens_per_session(P) / saved_s
#   mb_per_s_saved      = (bytes_per_session(P) - bytes_per_session(none)) / 1e6 / saved_s
# Output: a Markdown table, one row per cell and policy other than `none`.
def r2: . * 100 | round / 100;
def r1: . * 10 | round / 10;
(.[0].axes | keys_unsorted) as $axes
| ("| " + ($axes | join(" | ")) + " | policy | saved s/session | extra fetches/session | fetches per s saved | draft tokens per s saved | MB per s saved |"),
  ("|" + ([range(0; ($axes | length) + 6)] | map("---") | join("|")) + "|"),
  ( group_by(.cell) | sort_by(.[0].axes | [.[]]) | .[]
    | (map(select(.policy == "none"))[0]) as $none
    | .[] | select(.policy != "none")
    | (($none.session_latency_s - .session_latency_s)) as $saved
    | ((.prefetches_per_session + .demand_fetches_per_session) - $none.demand_fetches_per_session) as $extra
    | "| " + ([.axes[] | tostring] | join(" | ")) + " | " + .policy
      + " | " + ($saved | r2 | tostring)
      + " | " + ($extra | r2 | tostring)
      + " | " + (if $saved > 0 then ($extra / $saved | r2 | tostring) else "n/a" end)
      + " | " + (if $saved > 0 then (.draft_tokens_per_session / $saved | r1 | tostring) else "n/a" end)
      + " | " + (if $saved > 0 then ((.bytes_per_session - $none.bytes_per_session) / 1e6 / $saved | r2 | tostring) else "n/a" end)
      + " |" )
