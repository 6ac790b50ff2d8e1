#!/bin/sh
# Post-deploy verification of a promote: asks Prometheus whether each promoted component's new colour
# meets its SLOs over the plan's window, with the queries and thresholds of <dir>/verify-plan.tsv
# (written by `npm run synth` from the SLO definitions of the alerts; see synth/verify-plan.ts).
# POSIX sh, curl, jq and awk only (the deploy image alpine/k8s has them).
#
#   sh scripts/verify.sh <dir>
#
# Outcomes, one line per check, then a summary:
#   exit 0  every promoted component met every objective (or nothing is promoted: nothing to judge);
#   exit 1  an objective was breached: the line names the component, the SLO, the value and the
#           threshold, and $VERIFY_ENV (default verify.env) gets RELEASE_COMPONENTS=<the components>,
#           which the rollback job reads (.gitlab-ci.yml release:rollback-after-verify);
#   exit 2  Prometheus could not be asked, or refused a query: no verdict, which is not a pass (and no
#           component to roll back);
#   exit 3  no breach, but too little traffic in the window for a verdict on at least one check:
#           inconclusive, not a pass (the CI job shows a warning and starts no rollback; retry it later).
#
# Environment: PROMETHEUS_URL (required, e.g. http://prometheus-operated.monitoring.svc:9090),
# VERIFY_WAIT_SECONDS (default: the plan's window; waited before asking, so that the window holds
# only traffic after the deploy moved it), VERIFY_ENV (verify.env), VERIFY_TIMEOUT_SECONDS (20 per query).
set -eu

TAB=$(printf '\t')
die() { printf '%s\n' "$*" >&2; exit 1; }
no_verdict() { printf '%s\n' "$*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: sh scripts/verify.sh <dir>"
dir=${1%/}
plan=$dir/verify-plan.tsv
[ -f "$plan" ] || die "$plan not found: the verification follows the plan written next to the manifests by npm run synth"
: "${PROMETHEUS_URL:?is not set: the verification asks this Prometheus (e.g. http://prometheus-operated.monitoring.svc:9090)}"
# (a URL given with a trailing slash would ask //api/v1/query)
PROMETHEUS_URL=${PROMETHEUS_URL%/}
report=${VERIFY_ENV:-verify.env}
: > "$report"

window=$(sed -n "s/^window$TAB\([^$TAB]*\)$TAB.*/\1/p" "$plan")
window_seconds=$(sed -n "s/^window$TAB[^$TAB]*$TAB//p" "$plan")
[ -n "$window" ] && [ -n "$window_seconds" ] || die "$plan names no window"

# Whether any check judges a promoted component; if none, there is nothing to wait for.
if ! grep -q "^check$TAB[^$TAB]*$TAB[^$TAB]*${TAB}promoted$TAB" "$plan"; then
  echo "verify: nothing is promoted in $dir: nothing to verify"
  exit 0
fi
wait_seconds=${VERIFY_WAIT_SECONDS:-$window_seconds}
if [ "$wait_seconds" -gt 0 ]; then
  echo "verify: waiting ${wait_seconds}s, so that the ${window} window holds only traffic the new colour served"
  sleep "$wait_seconds"
fi

# The value of an instant query's first sample ("none" when the result is empty).
query() {
  answer=$(curl -sS --max-time "${VERIFY_TIMEOUT_SECONDS:-20}" -G --data-urlencode "query=$1" "$PROMETHEUS_URL/api/v1/query") \
    || no_verdict "verify: Prometheus at $PROMETHEUS_URL did not answer; no verdict (this is not a pass)"
  value=$(printf '%s' "$answer" | jq -r 'if .status == "success" then (.data.result[0].value[1] // "none") else "error: \(.error // "unknown")" end' 2>/dev/null) \
    || no_verdict "verify: Prometheus at $PROMETHEUS_URL answered something that is not its API's JSON; no verdict (this is not a pass)"
  case $value in error:*) no_verdict "verify: Prometheus refused the query ($value): $1" ;; esac
  printf '%s' "$value"
}
# awk's verdicts on numbers (POSIX sh has no floating point).
above() { awk -v v="$1" -v t="$2" 'BEGIN { exit !(v + 0 > t + 0) }'; }
percent() { awk -v v="$1" 'BEGIN { printf "%.4g%%", v * 100 }'; }
events() { awk -v v="$1" 'BEGIN { printf "%d", v + 0.5 }'; }

breached=
inconclusive=0
while IFS=$TAB read -r kind component colour phase slo threshold min_events ratio_query events_query; do
  [ "$kind" = check ] || continue
  if [ "$phase" != promoted ]; then
    echo "verify: $component ($colour, $phase): not promoted, nothing to verify ($slo)"
    continue
  fi
  n=$(query "$events_query")
  case $n in none | NaN) n=0 ;; esac
  n=$(events "$n")
  if [ "$n" -lt "$min_events" ]; then
    echo "verify: $component ($colour): $slo: inconclusive, $n events in ${window}, fewer than the $min_events a verdict needs"
    inconclusive=1
    continue
  fi
  ratio=$(query "$ratio_query")
  case $ratio in none | NaN)
    echo "verify: $component ($colour): $slo: inconclusive, $n events in ${window} but no ratio (the series do not match)"
    inconclusive=1
    continue ;;
  esac
  if above "$ratio" "$threshold"; then
    echo "verify: $component ($colour): $slo: BREACHED, $(percent "$ratio") of $n events bad in ${window}, above the threshold $(percent "$threshold")"
    case " $breached " in *" $component "*) ;; *) breached="${breached:+$breached }$component" ;; esac
  else
    echo "verify: $component ($colour): $slo: ok, $(percent "$ratio") of $n events bad in ${window}, within the threshold $(percent "$threshold")"
  fi
done < "$plan"

if [ -n "$breached" ]; then
  printf 'RELEASE_COMPONENTS=%s\n' "$breached" > "$report"
  echo "verify: FAILED: $breached breached an objective; roll back (release:rollback-after-verify reads $report)"
  exit 1
fi
if [ "$inconclusive" -eq 1 ]; then
  echo "verify: INCONCLUSIVE: too little traffic for a verdict on every check; nothing breached, nothing rolled back; retry the job once the new colour has served more"
  exit 3
fi
echo "verify: passed: every promoted component met its objectives over ${window}"
