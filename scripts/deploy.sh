#!/bin/sh
# Deploys one environment's folder of dist/ to the cluster of the current kubectl context, with the
# checks a blue/green release needs around `kubectl apply`. It follows the folder's deploy-plan.tsv
# (written by `npm run synth`, see release/deploy-plan.ts) and uses only POSIX sh, kubectl and jq,
# which the deploy image has.
#
#   sh scripts/deploy.sh apply <dir>
#       1. gate: refuses, applying nothing, when the folder moves traffic to a colour that does not run
#          its image at the scale serving now, or (after promote) whose smoke test has not passed;
#       2. spec.replicas hand-over, both ways, when a Deployment's autoscaler is added or removed;
#       3. server-side apply of the folder;
#       4. prune: deletes the objects of the deploy set (the plan's label) that the folder no longer has;
#       5. waits for every Deployment to finish rolling out, and for every Argo Rollout to be
#          Healthy, or paused for a blue/green promotion; an aborted one (Degraded) fails the job.
#   sh scripts/deploy.sh smoke <dir>
#       waits for the folder's smoke-test Jobs; a failed one is logged, then deleted (so that it does
#       not keep the standard KubeJobFailed alert firing), and the job fails.
#   sh scripts/deploy.sh observe <dir> [<component>...]
#       prints SERVING_<COMPONENT>=<ready pods of the colour serving now> for the named blue/green
#       components, or all of them (a dotenv report for `release stage` and `release rollback`).
#   sh scripts/deploy.sh break-glass <dir> <release state file> <component>...
#       moves traffic back to the previous colour now, without a review: scales it to the size serving
#       if it is on standby, waits for its pods, switches the Service. Writes break-glass.env for the
#       job that records it (`npm run release -- <env> <component> break-glass --serving <n>`).
#
# Environment: ROLLOUT_TIMEOUT (default 10m), SMOKE_POLL_SECONDS (10), BREAK_GLASS_READY_SECONDS (90),
# BREAK_GLASS_POLL_SECONDS (2), ARGO_ROLLOUT_SECONDS (1800), ARGO_ROLLOUT_POLL_SECONDS (10).
set -eu

MANAGER=soundcore-kcp-ci
HANDOVER_MANAGER=soundcore-kcp-replicas-handover
BREAK_GLASS_MANAGER=soundcore-kcp-break-glass
TAB=$(printf '\t')
NL='
'

die() { printf '%s\n' "$*" >&2; exit 1; }
usage() {
  die "usage: sh scripts/deploy.sh apply <dir> | smoke <dir> | observe <dir> [<component>...] | break-glass <dir> <release state file> <component>..."
}

[ $# -ge 2 ] || usage
cmd=$1
dir=${2%/}
shift 2
plan=$dir/deploy-plan.tsv
[ -f "$plan" ] || die "$plan not found: the deploy follows the plan written next to the manifests by npm run synth"
ns=$(sed -n "s/^namespace$TAB//p" "$plan")
[ -n "$ns" ] || die "$plan names no namespace"

k() { kubectl -n "$ns" "$@"; }
# `kubectl get <args> -o json`, or the script stops naming the call. Every read goes through a variable
# before jq: in a pipe, kubectl's failure would hide behind jq's status (POSIX sh has no pipefail), and
# an empty answer would read as "not in the cluster".
get_json() {
  got=$(k get "$@" -o json) || die "kubectl get $* failed; the deploy stops here, changing nothing more"
  printf '%s' "$got"
}
# Fails unless $2 is a whole number (what jq read for $1).
number() {
  case $2 in '' | *[!0-9]*) die "$1: expected a number from the cluster, got \"$2\"" ;; esac
}
# The fields of the plan's lines of one kind (the first field dropped).
lines() { sed -n "s/^$1$TAB//p" "$plan"; }
problems=
problem() { problems="$problems$NL  - $*"; }
# Fails with every problem found, when there are any.
refuse_if_problems() {
  [ -z "$problems" ] && return 0
  printf 'deploy refused, nothing applied to %s:%s\n' "$ns" "$problems" >&2
  exit 1
}
# The namespace's Services and Deployments, read once (one API call each, whatever the folder's size)
# into tables of the facts the deploy needs, one line per object (no field is ever empty: "-"):
#   services:    name  selector (k=v,...)  break-glass owns a field (true|false)  traffic moved at (epoch s|-)
#   deployments: name  spec.replicas  images (space-separated)  rolled out (true|false)  ready  pods
#                spec.replicas applied by the CI (true|false)  other owners of spec.replicas (a,b|-)
services=
deployments=
read_cluster() {
  json=$(get_json services)
  services=$(printf '%s' "$json" | jq -r --arg bg "$BREAK_GLASS_MANAGER" '.items[] | [.metadata.name,
    ((.spec.selector // {}) | to_entries | map("\(.key)=\(.value)") | join(",") | if . == "" then "-" else . end),
    any(.metadata.managedFields[]?; .manager == $bg),
    ((.metadata.annotations // {})["deploy.soundcore-kcp.com/traffic-moved-at"] // "-" | split(" ")[0])] | @tsv')
  json=$(get_json deployments.apps)
  deployments=$(printf '%s' "$json" | jq -r --arg m "$MANAGER" '.items[] | [.metadata.name, (.spec.replicas // 1),
    ([.spec.template.spec.containers[].image] | join(" ")),
    ((.status.observedGeneration // 0) >= .metadata.generation and (.status.updatedReplicas // 0) == (.status.replicas // 0)),
    (.status.readyReplicas // 0), (.status.replicas // 0),
    any(.metadata.managedFields[]?; .manager == $m and .operation == "Apply" and .fieldsV1["f:spec"]["f:replicas"] != null),
    ([.metadata.managedFields[]? | select(.manager != $m and .fieldsV1["f:spec"]["f:replicas"] != null) | .manager] | join(",") | if . == "" then "-" else . end)
    ] | @tsv')
  # each Deployment's metadata.generation before the apply (an Argo Rollout's wait tells its own
  # release from one the folder does not touch)
  generations=$(printf '%s' "$json" | jq -r '.items[] | [.metadata.name, .metadata.generation] | @tsv')
}
# The row of table $1 for the object named $2 (nothing, status 1, when it is not in the cluster).
# (builtins only: the gate and the hand-over ask for dozens of rows, and each fork costs more than a scan)
row() {
  found=
  while IFS= read -r l; do
    case $l in "$2$TAB"*) found="$found$l$NL" ;; esac
  done <<EOF
$1
EOF
  [ -n "$found" ] && printf '%s' "$found"
}
# The value of key $2 in a selector written k=v,k2=v2 ($1), or nothing.
selector_value() {
  case ",$1," in
    *",$2="*) v=${1#*"$2="}; v=${v%%,*}; printf '%s' "$v" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# 1. Traffic gates
gate() {
  while IFS=$TAB read -r svc key colour target image _other_colour other evidence; do
    [ -n "$svc" ] || continue
    if ! live=$(row "$services" "$svc"); then
      echo "gate: service/$svc is not in the cluster yet (nothing serves, no traffic moves)"
      continue
    fi
    IFS=$TAB read -r _name selector broken _moved <<EOF
$live
EOF
    now=$(selector_value "$selector" "$key")
    [ "$now" = "$colour" ] && continue
    if [ "$broken" = true ]; then
      problem "service/$svc: break-glass moved its traffic to $now; this folder moves it to $colour: merge the change that records the break-glass (release/break-glass-...) first"
      continue
    fi
    echo "gate: service/$svc moves traffic from $now to $colour ($target)"
    if ! dep=$(row "$deployments" "$target"); then
      problem "service/$svc: traffic would move to $target, which is not in the cluster: deploy the change that creates it first"
      continue
    fi
    serving=0
    if current=$(row "$deployments" "$other"); then
      IFS=$TAB read -r _name _replicas _images _rolled serving _pods _ours _others <<EOF
$current
EOF
    fi
    IFS=$TAB read -r _name _replicas images rolled ready total _ours _others <<EOF
$dep
EOF
    case " $images " in
      *" $image "*)
        if [ "$rolled" != true ] || [ "$ready" != "$total" ]; then
          problem "service/$svc: $target has not finished rolling out ($ready of $total pods ready)"
        fi
        ;;
      *) problem "service/$svc: $target runs $images, not $image: deploy the change that stages it first (stage and promote are never applied in one step)" ;;
    esac
    # (capacity is checked after the folder without this Service is applied: it may scale the target up)
    moves="$moves$svc$TAB$target$TAB$serving$TAB$other$NL"
    case $evidence in
      smoke:*)
        instance=${evidence#smoke:}
        json=$(get_json jobs.batch -l "app.kubernetes.io/instance=$instance")
        counts=$(printf '%s' "$json" | jq -r '[
          ([.items[] | select(any(.status.conditions[]?; .type == "Complete" and .status == "True"))] | length),
          ([.items[] | select(any(.status.conditions[]?; .type == "Failed" and .status == "True")) | .metadata.name] | join(" ") | if . == "" then "-" else . end),
          (.items | length)] | @tsv')
        IFS=$TAB read -r passed failed found <<EOF
$counts
EOF
        if [ "$failed" != - ]; then
          problem "service/$svc: the smoke test of $instance failed (job $failed): roll back, fix, stage a new tag"
        elif [ "$found" = 0 ]; then
          problem "service/$svc: no smoke-test Job of $instance in the cluster (not run, or removed 72 h after it finished): stage again"
        elif [ "$passed" = 0 ]; then
          problem "service/$svc: the smoke test of $instance has not passed yet ($found job(s) running): wait for smoke-test:production"
        fi
        ;;
    esac
  done <<EOF
$(lines traffic)
EOF
}

# A folder that shrinks the colour a Service's traffic left (finalize) before the bake time has passed
# since the deploy that moved the traffic: refused. The time is the Service's annotation, stamped by
# that deploy; a Service without it (moved before the stamp existed) is not held.
bake_gate() {
  now_s=$(date -u +%s)
  while IFS=$TAB read -r svc idle size minutes; do
    [ -n "$svc" ] || continue
    live=$(row "$services" "$svc") || continue
    moved=$(printf '%s' "$live" | cut -f4)
    [ "$moved" != - ] || continue
    number "service/$svc traffic-moved-at" "$moved"
    dep=$(row "$deployments" "$idle") || continue
    running=$(printf '%s' "$dep" | cut -f2)
    [ "$size" -lt "$running" ] || continue
    until_s=$(( moved + minutes * 60 ))
    if [ "$now_s" -lt "$until_s" ]; then
      problem "service/$svc: its traffic moved $(( (now_s - moved) / 60 )) min ago; $idle keeps its $running pods for the bake time ($minutes min), so that a rollback needs no new pods: deploy this in $(( (until_s - now_s + 59) / 60 )) min"
    fi
  done <<EOF
$(lines bake)
EOF
}

# ---------------------------------------------------------------------------------------------
# 2. spec.replicas hand-over (Kubernetes docs, "Server-Side Apply", "Transferring ownership")
forced=
handover() {
  while IFS=$TAB read -r name replicas; do
    [ -n "$name" ] || continue
    live=$(row "$deployments" "$name") || continue
    IFS=$TAB read -r _name current _images _rolled _ready _pods ours others <<EOF
$live
EOF
    [ "$others" != - ] || others=
    if [ "$replicas" = autoscaled ]; then
      # The folder stops setting spec.replicas. Applied as it is, the field would be removed and the
      # Deployment reset to 1 pod: another manager takes the field over at its current value first.
      if [ "$ours" = true ]; then
        echo "hand-over: deployment/$name keeps its $current pods; its autoscaler owns spec.replicas from now on"
        printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s","namespace":"%s"},"spec":{"replicas":%s}}\n' \
          "$name" "$ns" "$current" | kubectl apply --server-side --field-manager="$HANDOVER_MANAGER" -f -
      fi
    elif [ "$ours" != true ] && [ -n "$others" ]; then
      # The folder sets spec.replicas that an autoscaler (or the hand-over) owned: the apply takes it over.
      if [ "$replicas" -lt "$current" ]; then
        problem "deployment/$name: runs $current pods (spec.replicas owned by $others); the folder fixes it at $replicas: set replicas to at least $current, or scale it down first"
      else
        forced="$forced $name"
      fi
    fi
  done <<EOF
$(lines deployment)
EOF
}

take_over_replicas() {
  for name in $forced; do
    json=$(get_json horizontalpodautoscalers.autoscaling)
    for hpa in $(printf '%s' "$json" | jq -r --arg n "$name" '.items[] | select(.spec.scaleTargetRef.kind == "Deployment" and .spec.scaleTargetRef.name == $n) | .metadata.name'); do
      echo "hand-over: deleting horizontalpodautoscaler/$hpa before deployment/$name takes its spec.replicas back"
      k delete horizontalpodautoscaler.autoscaling "$hpa"
    done
    for f in "$dir"/*-deployment-"$name".yaml; do
      kubectl apply --server-side --field-manager="$MANAGER" --force-conflicts -f "$f"
    done
  done
}

# ---------------------------------------------------------------------------------------------
# 4. Prune: the objects of the deploy set that the folder no longer has
prune() {
  spec=$(lines prune)
  selector=${spec%%"$TAB"*}
  resources=${spec#*"$TAB"}
  keep=$(mktemp)
  lines object > "$keep"
  # <kind>.<group>/<name> of every labelled object whose kind and name are not an `object` line
  json=$(get_json "$resources" -l "$selector")
  extra=$(printf '%s' "$json" | jq -r --rawfile keep "$keep" '($keep | split("\n")) as $keep
    | .items[] | select(([.kind, .metadata.name] | join("\t")) as $o | $keep | index([$o]) | not)
    | "\(.kind | ascii_downcase)\(.apiVersion | if test("/") then "." + split("/")[0] else "" end)/\(.metadata.name)"')
  rm -f "$keep"
  if [ -z "$extra" ]; then
    echo "prune: nothing to delete ($selector)"
    return 0
  fi
  echo "prune: deleting what the folder no longer has ($selector):"
  # shellcheck disable=SC2086
  k delete $extra
}

# Releases what break-glass took once the folder agrees with it (the apply succeeded, so every value
# it owns is now the folder's too): a later release then moves traffic without a conflict.
release_break_glass() {
  for svc in $(lines traffic | cut -f1); do
    live=$(row "$services" "$svc") || continue
    case $live in *"${TAB}true") ;; *) continue ;; esac
    echo "break-glass: service/$svc is recorded in git; releasing what break-glass set on it and its colours"
    printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"%s","namespace":"%s"}}\n' "$svc" "$ns" \
      | kubectl apply --server-side --field-manager="$BREAK_GLASS_MANAGER" -f -
    # (the colours' scale: an HPA's bounds, or a fixed Deployment's replicas; the folder set the same values)
    for d in $(traffic_line "$svc" | cut -f5,8 | tr '\t' ' '); do
      if lines deployment | grep -qx "$d${TAB}autoscaled"; then
        printf '{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"%s","namespace":"%s"}}\n' "$d" "$ns"
      else
        printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s","namespace":"%s"}}\n' "$d" "$ns"
      fi | kubectl apply --server-side --field-manager="$BREAK_GLASS_MANAGER" -f -
    done
  done
}

# Traffic moves in two steps. First everything but the Services that move traffic is applied (a
# rollback raises the previous colour to the scale serving, a promote has it already) and each target
# must have at least as many ready pods as the colour serving had at the gate; only then is the whole
# folder applied, which moves the Services. A target that does not get there in time leaves traffic
# where it is.
move_traffic_safely() {
  files=
  for f in "$dir"/*.yaml; do
    keep=1
    while IFS=$TAB read -r svc _rest; do
      case ${f##*/} in *-service-"$svc".yaml) [ -n "$svc" ] && keep= ;; esac
    done <<EOF
$moves
EOF
    [ -z "$keep" ] || files="$files -f $f"
  done
  echo "traffic moves: applying everything but the Services that move traffic first"
  # shellcheck disable=SC2086
  kubectl apply --server-side --field-manager="$MANAGER" $files
  deadline=$(( $(date +%s) + ${TRAFFIC_READY_SECONDS:-600} ))
  while IFS=$TAB read -r svc target serving other; do
    [ -n "$svc" ] || continue
    await_ready "$target" "$serving" "$deadline" "${TRAFFIC_POLL_SECONDS:-5}" \
      || die "traffic not moved: service/$svc still on $other: $target has $ready ready pods, $other served with $serving (traffic never moves to fewer pods; a promote staged below that scale: abort with rollback, then stage again with --serving $serving)"
    echo "traffic moves: service/$svc -> $target ($ready ready pods, $other served with $serving)"
  done <<EOF
$moves
EOF
}

apply_folder() {
  read_cluster
  moves=
  gate
  bake_gate
  handover
  refuse_if_problems
  take_over_replicas
  [ -z "$moves" ] || move_traffic_safely
  kubectl apply --server-side --field-manager="$MANAGER" -f "$dir"
  # the moment traffic moved, for the bake time of the finalize that follows (bake_gate)
  while IFS=$TAB read -r svc _rest; do
    [ -n "$svc" ] || continue
    k annotate --overwrite service "$svc" "deploy.soundcore-kcp.com/traffic-moved-at=$(date -u +%s) $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done <<EOF
$moves
EOF
  release_break_glass
  for d in $(lines deployment | cut -f1); do
    k rollout status "deployment/$d" --timeout="${ROLLOUT_TIMEOUT:-10m}"
  done
  await_argo_rollouts
  # (after the rollouts: what the folder replaces keeps serving until its successor is ready)
  prune
}

# The phase of an Argo Rollout as the controller reports it, the way `kubectl argo rollouts status`
# reads it (argo-rollouts utils/rollout/rolloututil.go, GetRolloutPhase): Progressing while the
# controller has not observed the Rollout's generation, nor (workloadRef) the Deployment's generation
# the folder just applied (the annotation rollout.argoproj.io/workload-generation and
# status.workloadObservedGeneration); otherwise status.phase and status.message (for Paused, the
# reason of its first pause condition: BlueGreenPause, CanaryPauseStep, ...).
# Prints "<phase><TAB><message>", the phase Promotion for a pause only a promotion ends; $2 is the
# Deployment's metadata.generation, or "-".
rollout_phase() {
  printf '%s' "$1" | jq -r --arg dgen "$2" '
    (.status // {}) as $s | (.metadata.annotations // {})["rollout.argoproj.io/workload-generation"] as $wgen
    | if ((($s.observedGeneration // "") | tonumber? // null) as $o | $o != null and $o < .metadata.generation) then "Progressing\twaiting for rollout spec update to be observed"
      elif $dgen != "-" and ($wgen != $dgen or (($s.workloadObservedGeneration // "") != $wgen)) then "Progressing\twaiting for rollout spec update to be observed for the reference workload"
      elif $s.phase == "Paused" then
        (($s.pauseConditions // [])[0].reason // $s.message // "") as $why
        | ((.spec.strategy.canary.steps // [])[$s.currentStepIndex // -1].pause // {}) as $step
        # (a blue/green before promotion, or a canary step `pause: {}` without a duration: the
        # controller waits for `kubectl argo rollouts promote`, however long)
        | if $why == "BlueGreenPause" or ($why == "CanaryPauseStep" and ($step | has("duration") | not) and $s.currentStepIndex != null)
          then "Promotion\t\($why)" else "Paused\t\($why)" end
      else "\($s.phase // "Progressing")\t\($s.message // "")" end'
}

# Waits for each Argo Rollout of the folder: the controller, not this script, takes it through its
# steps and analyses. Healthy passes; a pause only a promotion ends (blue/green BlueGreenPause, a
# canary step without a duration) passes and says how to promote; Degraded (aborted by a failed
# analysis, or past its progress deadline) fails when this apply changed the Rollout's Deployment,
# and is reported without failing when it is left from an earlier release the folder does not touch;
# Progressing and a canary's timed pause are waited for, up to ARGO_ROLLOUT_SECONDS.
await_argo_rollouts() {
  while IFS=$TAB read -r r workload; do
    [ -n "$r" ] || continue
    deadline=$(( $(date +%s) + ${ARGO_ROLLOUT_SECONDS:-1800} ))
    while :; do
      ro=$(get_json rollout.argoproj.io "$r")
      dgen=-
      if [ "$workload" != - ]; then
        dgen=$(get_json deployment "$workload" | jq -r '.metadata.generation')
        number "deployment/$workload metadata.generation" "$dgen"
      fi
      state=$(rollout_phase "$ro" "$dgen")
      phase=${state%%"$TAB"*}
      message=${state#*"$TAB"}
      case $phase in
        Healthy)
          echo "rollout/$r is Healthy"
          break ;;
        Degraded)
          before=$(row "$generations" "$workload" | cut -f2) || before=
          if [ "$workload" != - ] && [ "$before" = "$dgen" ]; then
            # (Argo keeps an aborted Rollout Degraded until a new revision: not this folder's doing)
            echo "rollout/$r is still Degraded from an earlier release this folder does not change ($message); fix or roll it back with its own change" >&2
            break
          fi
          case $message in
            RolloutAborted*) die "rollout/$r is Degraded: $message (the controller aborted it and traffic is back on the stable revision; see kubectl argo rollouts get rollout $r -n $ns)" ;;
            *) die "rollout/$r is Degraded: $message (see kubectl argo rollouts get rollout $r -n $ns)" ;;
          esac ;;
        Promotion)
          echo "rollout/$r: the new revision is up and waits to be promoted ($message; kubectl argo rollouts promote $r -n $ns)"
          break ;;
      esac
      [ "$(date +%s)" -lt "$deadline" ] \
        || die "rollout/$r is still $phase${message:+ ($message)} after ${ARGO_ROLLOUT_SECONDS:-1800} s"
      sleep "${ARGO_ROLLOUT_POLL_SECONDS:-10}"
    done
  done <<EOF
$(lines rollout)
EOF
}

# ---------------------------------------------------------------------------------------------
smoke() {
  for job in $(lines job); do
    while :; do
      if ! state=$(k get job "$job" -o json 2>/dev/null); then
        die "job/$job is not in the cluster: run the deploy of this commit first"
      fi
      result=$(printf '%s' "$state" | jq -r 'first(.status.conditions[]? | select(.status == "True" and (.type == "Complete" or .type == "Failed")) | .type) // "running"')
      case $result in
        Complete) echo "smoke test passed: job/$job"; break ;;
        Failed)
          echo "smoke test FAILED: job/$job; its log:"
          k logs "job/$job" --all-containers=true || true
          # Deleted once logged: a failed Job kept for its 72 h TTL would keep KubeJobFailed firing.
          k delete job "$job"
          die "smoke test failed: job/$job (logged above, then deleted). Abort the release: npm run release -- <env> <component> rollback"
          ;;
      esac
      sleep "${SMOKE_POLL_SECONDS:-10}"
    done
  done
}

# ---------------------------------------------------------------------------------------------
traffic_line() {
  lines traffic | while IFS=$TAB read -r svc rest; do
    if [ "$svc" = "$1" ]; then printf '%s\t%s\n' "$svc" "$rest"; fi
  done
}

observe() {
  [ $# -gt 0 ] || set -- $(lines traffic | cut -f1)
  read_cluster
  for c; do
    t=$(traffic_line "$c")
    [ -n "$t" ] || die "observe: $c is not a blue/green component of $dir"
    IFS=$TAB read -r svc key colour target _image other_colour other _evidence <<EOF
$t
EOF
    # A component that cannot be observed is named and left out: a release of another one (or a
    # rollback of this one, which keeps its recorded size) must not wait for it.
    if ! live=$(row "$services" "$svc"); then echo "observe: service/$svc is not in the cluster; $c left out" >&2; continue; fi
    now=$(selector_value "$(printf '%s' "$live" | cut -f2)" "$key")
    if [ "$now" = "$colour" ]; then d=$target; elif [ "$now" = "$other_colour" ]; then d=$other; else
      echo "observe: service/$svc selects \"$now\", neither $colour nor $other_colour; $c left out" >&2; continue
    fi
    if ! live=$(row "$deployments" "$d"); then echo "observe: deployment/$d is not in the cluster; $c left out" >&2; continue; fi
    # the scale it serves with: what its HPA asks for, or more pods if more are ready (never only the ready ones)
    IFS=$TAB read -r _name wanted _images _rolled ready _pods _ours _others <<EOF
$live
EOF
    n=$wanted
    [ "$ready" -le "$n" ] || n=$ready
    printf 'SERVING_%s=%s\n' "$(printf '%s' "$c" | tr 'a-z-' 'A-Z_')" "$n"
  done
}

# The replicas a Deployment is meant to serve with: the larger of what it asks for (its HPA's choice)
# and what is ready. A failing release has few ready pods; sizing by those alone would move all the
# traffic onto as few pods.
wanted_replicas() {
  json=$(get_json deployment "$1")
  n=$(printf '%s' "$json" | jq '[(.spec.replicas // 1), (.status.readyReplicas // 0)] | max')
  number "deployment/$1 replicas" "$n"
  printf '%s' "$n"
}

ready_replicas() {
  json=$(get_json deployment "$1")
  n=$(printf '%s' "$json" | jq '.status.readyReplicas // 0')
  number "deployment/$1 ready replicas" "$n"
  printf '%s' "$n"
}

# Polls deployment $1 every $4 s until it has at least $2 ready pods (status 0) or the epoch second
# $3 has passed (status 1). The last count read is left in $ready, for the caller's message.
await_ready() {
  # (explicit exits: under `||` the shell does not stop on a failed command itself)
  ready=$(ready_replicas "$1") || exit 1
  while [ "$ready" -lt "$2" ]; do
    [ "$(date +%s)" -lt "$3" ] || return 1
    sleep "$4"
    ready=$(ready_replicas "$1") || exit 1
  done
}

break_glass() {
  [ $# -ge 2 ] || usage
  state_file=$1
  shift
  [ -f "$state_file" ] || die "break-glass: $state_file not found"
  started=$(date +%s)
  : > break-glass.env
  # First every named component is checked; nothing moves unless all of them can.
  todo=
  for c; do
    t=$(traffic_line "$c")
    [ -n "$t" ] || die "break-glass: $c is not a blue/green component of $dir"
    IFS=$TAB read -r svc key colour target _image other_colour other _evidence <<EOF
$t
EOF
    facts=$(jq -r --arg c "$c" '.[$c] // empty | (if .active == "blue" then "green" else "blue" end) as $idle
      | .tags[$idle] as $back | [.phase, .active, .tags[.active], $idle, $back, any((.failed // [])[]; . == $back)] | @tsv' "$state_file")
    [ -n "$facts" ] || die "break-glass: $c has no release state in $state_file"
    IFS=$TAB read -r phase active bad back_colour back failed <<EOF
$facts
EOF
    case $phase in
      stable | promoted) ;;
      staged) die "break-glass: $c is staged, traffic has not moved: abort with the release job (rollback)" ;;
      *) die "break-glass: $c is $phase: traffic is already back on the previous colour" ;;
    esac
    [ "$back" != "$bad" ] || die "break-glass: both colours of $c run $bad, there is no previous version"
    [ "$failed" != true ] || die "break-glass: the other colour of $c runs $back, which was rolled back as failed"
    json=$(get_json service "$svc")
    now=$(printf '%s' "$json" | jq -r --arg k "$key" '.spec.selector[$k] // ""')
    [ "$now" = "$active" ] || die "break-glass: service/$svc selects $now, but the release state says $active serves: deploy main first, or move it by hand"
    if [ "$back_colour" = "$colour" ]; then back_d=$target; bad_d=$other; else back_d=$other; bad_d=$target; fi
    todo="$todo$c$TAB$svc$TAB$key$TAB$active$TAB$bad$TAB$back_colour$TAB$back$TAB$back_d$TAB$bad_d$NL"
  done
  while IFS=$TAB read -r c svc key active bad back_colour back back_d bad_d; do
    [ -n "$c" ] || continue
    serving=$(wanted_replicas "$bad_d")
    ready=$(ready_replicas "$back_d")
    echo "break-glass: $c: $bad serves with $serving pods on $active; $back on $back_colour has $ready ready"
    if [ "$ready" -lt "$serving" ]; then
      if hpa=$(k get horizontalpodautoscaler.autoscaling "$back_d" -o json 2>/dev/null); then
        # (never below either colour's maximum: the colour taking traffic must still scale out)
        bad_max=0
        if bad_hpa=$(k get horizontalpodautoscaler.autoscaling "$bad_d" -o json 2>/dev/null); then
          bad_max=$(printf '%s' "$bad_hpa" | jq '.spec.maxReplicas // 0')
        fi
        max=$(printf '%s' "$hpa" | jq --argjson n "$serving" --argjson b "$bad_max" '[.spec.maxReplicas, $n, $b] | max')
        number "horizontalpodautoscaler/$back_d maxReplicas" "$max"
        printf '{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"%s","namespace":"%s"},"spec":{"minReplicas":%s,"maxReplicas":%s}}\n' \
          "$back_d" "$ns" "$serving" "$max" | kubectl apply --server-side --field-manager="$BREAK_GLASS_MANAGER" --force-conflicts -f -
      else
        printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s","namespace":"%s"},"spec":{"replicas":%s}}\n' \
          "$back_d" "$ns" "$serving" | kubectl apply --server-side --field-manager="$BREAK_GLASS_MANAGER" --force-conflicts -f -
      fi
      deadline=$(( $(date +%s) + ${BREAK_GLASS_READY_SECONDS:-90} ))
      await_ready "$back_d" "$serving" "$deadline" "${BREAK_GLASS_POLL_SECONDS:-2}" \
        || die "break-glass: $back_d has $ready of $serving pods ready after ${BREAK_GLASS_READY_SECONDS:-90} s; traffic left on $active"
      echo "break-glass: $back_d has $ready ready pods ($(( $(date +%s) - started )) s)"
    fi
    printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"%s","namespace":"%s"},"spec":{"selector":{"%s":"%s"}}}\n' \
      "$svc" "$ns" "$key" "$back_colour" | kubectl apply --server-side --field-manager="$BREAK_GLASS_MANAGER" --force-conflicts -f -
    echo "break-glass: service/$svc: traffic $active ($bad) -> $back_colour ($back) after $(( $(date +%s) - started )) s"
    printf 'BREAK_GLASS_SERVING_%s=%s\n' "$(printf '%s' "$c" | tr 'a-z-' 'A-Z_')" "$serving" >> break-glass.env
  done <<EOF
$todo
EOF
}

case $cmd in
  apply) [ $# -eq 0 ] || usage; apply_folder ;;
  smoke) [ $# -eq 0 ] || usage; smoke ;;
  observe) observe "$@" ;;
  break-glass) break_glass "$@" ;;
  *) usage ;;
esac
