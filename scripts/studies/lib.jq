# Helpers for the study tables (scripts/studies/tables/*.jq): fixed-precision numbers and
# row lookups in a sweep's results.jsonl read with `jq -s`.

# A number with exactly $n decimals ("1.300"); "n/a" for null.
def fixed($n):
  if . == null then "n/a"
  else (pow(10; $n)) as $p
  | ((. * $p) | round) as $i
  | (if $i < 0 then "-" else "" end) as $sign
  | ($i | fabs | tostring) as $s
  | (if ($s | length) <= $n then ([range(0; $n - ($s | length) + 1)] | map("0") | join("")) + $s
     else $s end) as $t
  | if $n == 0 then $sign + $t
    else $sign + $t[0:($t | length) - $n] + "." + $t[($t | length) - $n:] end
  end;

# A fraction as a percentage with one decimal ("85.0 %").
def pct: if . == null then "n/a" else (. * 100 | fixed(1)) + " %" end;

# A ratio with three decimals and an x ("1.313x").
def times: if . == null then "all hidden" else fixed(3) + "x" end;

# A ratio field with its interval: "1.313x [1.308, 1.318]".
def ratio_ci($f):
  if .[$f] == null then "all hidden"
  else (.[$f] | times) + " [" + (.[$f + "_ci_lo"] | fixed(3)) + ", " + (.[$f + "_ci_hi"] | fixed(3)) + "]"
  end;

# The half-width of the interval of field $f, relative to the value (a fraction).
def rel_half_width($f):
  if .[$f] == null or .[$f + "_ci_lo"] == null then null
  else (.[$f + "_ci_hi"] - .[$f + "_ci_lo"]) / 2 / .[$f] end;

# The row of $policy in the cell whose axes include every key of $axes (numbers compared
# as numbers).
def row($policy; $axes):
  map(select(.policy == $policy
      and (. as $r | $axes | to_entries | all(.value == $r.axes[.key]))))
  | if length == 0 then error("no row for \($policy) at \($axes)") else .[0] end;

# A Markdown table from a header list and a list of row lists.
def md_table($header; $rows):
  ("| " + ($header | join(" | ")) + " |"),
  ("|" + ($header | map("---") | join("|")) + "|"),
  ($rows[] | "| " + (map(tostring) | join(" | ")) + " |");
