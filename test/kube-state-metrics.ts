/**
 * A test-side stand-in for kube-state-metrics (KSM): the series it exports for the API objects the
 * project's manifests lead to (Deployments and their ReplicaSets and Pods, HorizontalPodAutoscalers,
 * PodDisruptionBudgets, Jobs and their Pods), labelled as Prometheus stores them after
 * kube-prometheus scrapes KSM. The objects' status comes from `cluster-model.ts`, which models the
 * controllers; this file only maps objects to series, the way KSM does.
 *
 * Source of every metric name, label and value rule: kubernetes/kube-state-metrics v2 (module
 * `k8s.io/kube-state-metrics/v2`), read in its repository on the main branch:
 * - the reference pages docs/metrics/workload/deployment-metrics.md (commit 06d14813),
 *   horizontalpodautoscaler-metrics.md (04b7f64e), job-metrics.md (076987a5), pod-metrics.md
 *   (04ee634c) and docs/metrics/policy/poddisruptionbudget-metrics.md (0641627f);
 * - how values are derived: internal/store/deployment.go (012b46d2: `kube_deployment_status_condition`
 *   has `reason`, `condition`, `status`), job.go (01ec07a8: `kube_job_failed`/`kube_job_complete` exist
 *   only for a Failed/Complete condition, one series per status true/false/unknown, 1 on the
 *   condition's status; `kube_job_status_failed` carries `reason` once pods failed;
 *   `kube_job_owner` has empty owner labels for a Job nobody owns), horizontalpodautoscaler.go
 *   (060ed075: `spec_target_metric` per metric and target type), utils.go (037d3ecf:
 *   `addConditionMetrics`).
 * Every family used here is marked STABLE in those pages, but `kube_horizontalpodautoscaler_spec_target_metric`
 * (EXPERIMENTAL). Families that no rule of ../shared/reference/kube-prometheus reads and that say nothing
 * about the objects' health are left out, to keep promtool fast: `*_created`, `*_annotations`, `*_labels`
 * (empty without an allowlist), `kube_deployment_spec_paused`, `_spec_strategy_*`, `_status_replicas_ready`,
 * `kube_pod_status_scheduled`, `kube_pod_container_status_waiting` (its `_reason` is kept),
 * `kube_horizontalpodautoscaler_info`, `_status_condition`, `_status_target_metric`, `kube_job_info` and
 * `kube_poddisruptionbudget_status_observed_generation`. So are `kube_pod_info` and
 * `kube_pod_container_resource_requests`/`_limits`: only recording rules read them, and the alerts on
 * those (KubeCPUOvercommit, KubeMemoryOvercommit, KubeQuota*) compare them with node allocatable and
 * ResourceQuota series, objects the project does not create.
 *
 * Scrape labels: kube-prometheus `manifests/kubeStateMetrics-serviceMonitor.yaml` scrapes KSM with
 * `honorLabels: true` and drops the target's `pod`, `service`, `endpoint` and `namespace` labels, so a
 * series keeps KSM's own `namespace`/`pod`/`container` and gets `job="kube-state-metrics"` (its
 * `jobLabel`), `instance` and, when KSM set no `container`, the target's `container`
 * (`kube-rbac-proxy-main`). Prometheus drops labels with empty values, and so does {@link scrape}.
 */

/** Label names to values. */
export interface Labels {
  readonly [name: string]: string;
}

/** One sample of one series, as Prometheus stores it. */
export interface Sample {
  readonly metric: string;
  readonly labels: Labels;
  readonly value: number;
}

/** A status condition of an API object. */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
}

/** What KSM reads of a Deployment. Times are Unix seconds. */
export interface DeploymentObject {
  readonly namespace: string;
  readonly name: string;
  readonly generation: number;
  readonly specReplicas: number;
  readonly status: {
    readonly observedGeneration: number;
    readonly replicas: number;
    readonly updatedReplicas: number;
    readonly readyReplicas: number;
    readonly availableReplicas: number;
    readonly unavailableReplicas: number;
    readonly conditions: readonly Condition[];
  };
}

/** What KSM reads of a ReplicaSet (its owner: the upstream recording rules join on it). */
export interface ReplicaSetObject {
  readonly namespace: string;
  readonly name: string;
  readonly owner: OwnerReference;
}

/** An owner reference (`controller: true`, as controllers set it). */
export interface OwnerReference {
  readonly kind: string;
  readonly name: string;
}

/** A container of a pod, and why it waits, if it does. */
export interface ContainerObject {
  readonly name: string;
  /** `state.waiting.reason` (ContainerCreating, ImagePullBackOff, CrashLoopBackOff, ...); undefined when running or terminated. */
  readonly waitingReason?: string;
}

/** The pod phases KSM reports, in its order. */
export const POD_PHASES = ['Pending', 'Succeeded', 'Failed', 'Unknown', 'Running'] as const;

/** What KSM reads of a Pod. */
export interface PodObject {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly owner: OwnerReference;
  readonly phase: typeof POD_PHASES[number];
  /** The Ready condition (every scheduled pod has one). */
  readonly ready: boolean;
  readonly containers: readonly ContainerObject[];
}

/** What KSM reads of a HorizontalPodAutoscaler (autoscaling/v2, resource metrics only). */
export interface HpaObject {
  readonly namespace: string;
  readonly name: string;
  readonly generation: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Resource metrics and their target utilisation (percent of the request). */
  readonly metrics: readonly { readonly resource: string; readonly averageUtilization: number }[];
  readonly status: {
    readonly currentReplicas: number;
    readonly desiredReplicas: number;
  };
}

/** What KSM reads of a PodDisruptionBudget. */
export interface PdbObject {
  readonly namespace: string;
  readonly name: string;
  readonly generation: number;
  readonly status: {
    readonly currentHealthy: number;
    readonly desiredHealthy: number;
    readonly expectedPods: number;
    readonly disruptionsAllowed: number;
  };
}

/** What KSM reads of a Job. */
export interface JobObject {
  readonly namespace: string;
  readonly name: string;
  /** Owner references; none for a Job applied with kubectl (the smoke test's). */
  readonly owners: readonly OwnerReference[];
  readonly parallelism: number;
  readonly completions: number;
  readonly activeDeadlineSeconds?: number;
  readonly status: {
    readonly active: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly startTime?: number;
    /** Set only when the Job completed successfully. */
    readonly completionTime?: number;
    readonly conditions: readonly Condition[];
  };
}

/** The objects KSM watches, as they are at one scrape. */
export interface ClusterObjects {
  readonly deployments: readonly DeploymentObject[];
  readonly replicaSets: readonly ReplicaSetObject[];
  readonly pods: readonly PodObject[];
  readonly hpas: readonly HpaObject[];
  readonly pdbs: readonly PdbObject[];
  readonly jobs: readonly JobObject[];
}

/** The labels kube-prometheus' scrape of KSM adds (see the file comment). */
export const KSM_TARGET_LABELS: Labels = { job: 'kube-state-metrics', instance: '10.0.0.10:8443', container: 'kube-rbac-proxy-main' };

/** KSM's condition statuses, lower-cased as in its `addConditionMetrics`. */
const CONDITION_STATUSES = ['true', 'false', 'unknown'] as const;

/** One series per status, 1 on the condition's own status (KSM's `addConditionMetrics`). */
function conditionSamples(metric: string, labels: Labels, status: Condition['status']): Sample[] {
  return CONDITION_STATUSES.map((s) => ({ metric, labels: { ...labels, condition: s }, value: s === status.toLowerCase() ? 1 : 0 }));
}

/** Deployment reasons KSM passes through; any other becomes `unknown` (deployment.go `allowedDeploymentReasons`). */
const DEPLOYMENT_REASONS = new Set([
  'ReplicaSetUpdated', 'ReplicaSetCreateError', 'NewReplicaSetCreated', 'FoundNewReplicaSet', 'NewReplicaSetAvailable',
  'ProgressDeadlineExceeded', 'DeploymentPaused', 'DeploymentResumed', 'MinimumReplicasAvailable', 'MinimumReplicasUnavailable', '',
]);

function deploymentSamples(d: DeploymentObject): Sample[] {
  const l = { namespace: d.namespace, deployment: d.name };
  const s = d.status;
  const gauge = (metric: string, value: number): Sample => ({ metric, labels: l, value });
  return [
    gauge('kube_deployment_status_replicas', s.replicas),
    gauge('kube_deployment_status_replicas_available', s.availableReplicas),
    gauge('kube_deployment_status_replicas_unavailable', s.unavailableReplicas),
    gauge('kube_deployment_status_replicas_updated', s.updatedReplicas),
    gauge('kube_deployment_status_observed_generation', s.observedGeneration),
    ...s.conditions.flatMap((c) => CONDITION_STATUSES.map((status) => ({
      metric: 'kube_deployment_status_condition',
      labels: { ...l, reason: DEPLOYMENT_REASONS.has(c.reason ?? '') ? c.reason ?? '' : 'unknown', condition: c.type, status },
      value: status === c.status.toLowerCase() ? 1 : 0,
    }))),
    gauge('kube_deployment_spec_replicas', d.specReplicas),
    gauge('kube_deployment_metadata_generation', d.generation),
  ];
}

function replicaSetSamples(rs: ReplicaSetObject): Sample[] {
  return [
    {
      metric: 'kube_replicaset_owner',
      labels: { namespace: rs.namespace, replicaset: rs.name, owner_kind: rs.owner.kind, owner_name: rs.owner.name, owner_is_controller: 'true' },
      value: 1,
    },
  ];
}

function podSamples(p: PodObject): Sample[] {
  const l = { namespace: p.namespace, pod: p.name, uid: p.uid };
  const samples: Sample[] = [
    { metric: 'kube_pod_owner', labels: { ...l, owner_kind: p.owner.kind, owner_name: p.owner.name, owner_is_controller: 'true' }, value: 1 },
    ...POD_PHASES.map((phase) => ({ metric: 'kube_pod_status_phase', labels: { ...l, phase }, value: phase === p.phase ? 1 : 0 })),
    ...conditionSamples('kube_pod_status_ready', l, p.ready ? 'True' : 'False'),
  ];
  for (const c of p.containers) {
    const cl = { ...l, container: c.name };
    // pod.go: a series only for a waiting container, with its reason (none while running)
    if (c.waitingReason !== undefined) {
      samples.push({ metric: 'kube_pod_container_status_waiting_reason', labels: { ...cl, reason: c.waitingReason }, value: 1 });
    }
  }
  return samples;
}

function hpaSamples(h: HpaObject): Sample[] {
  const l = { namespace: h.namespace, horizontalpodautoscaler: h.name };
  const gauge = (metric: string, value: number): Sample => ({ metric, labels: l, value });
  return [
    gauge('kube_horizontalpodautoscaler_metadata_generation', h.generation),
    gauge('kube_horizontalpodautoscaler_spec_max_replicas', h.maxReplicas),
    gauge('kube_horizontalpodautoscaler_spec_min_replicas', h.minReplicas),
    ...h.metrics.map((m) => ({
      metric: 'kube_horizontalpodautoscaler_spec_target_metric',
      labels: { ...l, metric_name: m.resource, metric_target_type: 'utilization' },
      value: m.averageUtilization,
    })),
    gauge('kube_horizontalpodautoscaler_status_current_replicas', h.status.currentReplicas),
    gauge('kube_horizontalpodautoscaler_status_desired_replicas', h.status.desiredReplicas),
  ];
}

function pdbSamples(p: PdbObject): Sample[] {
  const l = { namespace: p.namespace, poddisruptionbudget: p.name };
  const s = p.status;
  return [
    { metric: 'kube_poddisruptionbudget_status_current_healthy', labels: l, value: s.currentHealthy },
    { metric: 'kube_poddisruptionbudget_status_desired_healthy', labels: l, value: s.desiredHealthy },
    { metric: 'kube_poddisruptionbudget_status_pod_disruptions_allowed', labels: l, value: s.disruptionsAllowed },
    { metric: 'kube_poddisruptionbudget_status_expected_pods', labels: l, value: s.expectedPods },
  ];
}

/** job.go: the reasons `kube_job_status_failed` names; another reason is reported as `reason=""`. */
const JOB_FAILURE_REASONS = ['BackoffLimitExceeded', 'DeadlineExceeded', 'Evicted'];

function jobSamples(j: JobObject): Sample[] {
  const l = { namespace: j.namespace, job_name: j.name };
  const s = j.status;
  const gauge = (metric: string, value: number): Sample => ({ metric, labels: l, value });
  const samples: Sample[] = [
    gauge('kube_job_spec_parallelism', j.parallelism),
    gauge('kube_job_spec_completions', j.completions),
    gauge('kube_job_status_succeeded', s.succeeded),
    gauge('kube_job_status_active', s.active),
  ];
  if (j.activeDeadlineSeconds !== undefined) samples.push(gauge('kube_job_spec_active_deadline_seconds', j.activeDeadlineSeconds));
  const failedCondition = s.conditions.find((c) => c.type === 'Failed');
  if (s.failed === 0) {
    samples.push(gauge('kube_job_status_failed', 0));
  } else {
    const known = failedCondition !== undefined && JOB_FAILURE_REASONS.includes(failedCondition.reason ?? '');
    if (failedCondition !== undefined) {
      for (const reason of JOB_FAILURE_REASONS) {
        samples.push({ metric: 'kube_job_status_failed', labels: { ...l, reason }, value: failedCondition.reason === reason ? 1 : 0 });
      }
    }
    if (!known) samples.push({ metric: 'kube_job_status_failed', labels: { ...l, reason: '' }, value: s.failed });
  }
  if (s.startTime !== undefined) samples.push(gauge('kube_job_status_start_time', s.startTime));
  if (s.completionTime !== undefined) samples.push(gauge('kube_job_status_completion_time', s.completionTime));
  for (const c of s.conditions) {
    if (c.type === 'Complete') samples.push(...conditionSamples('kube_job_complete', l, c.status));
    if (c.type === 'Failed') samples.push(...conditionSamples('kube_job_failed', l, c.status));
  }
  const owners = j.owners.length > 0 ? j.owners : [{ kind: '', name: '' }];
  for (const o of owners) {
    samples.push({
      metric: 'kube_job_owner',
      labels: { ...l, owner_kind: o.kind, owner_name: o.name, owner_is_controller: o.kind === '' ? '' : 'true' },
      value: 1,
    });
  }
  return samples;
}

/** The series KSM exports for `cluster` (its own labels only: see {@link scrape} for the stored ones). */
export function kubeStateMetrics(cluster: ClusterObjects): Sample[] {
  return [
    ...cluster.deployments.flatMap(deploymentSamples),
    ...cluster.replicaSets.flatMap(replicaSetSamples),
    ...cluster.pods.flatMap(podSamples),
    ...cluster.hpas.flatMap(hpaSamples),
    ...cluster.pdbs.flatMap(pdbSamples),
    ...cluster.jobs.flatMap(jobSamples),
  ];
}

/**
 * The samples as Prometheus stores them after scraping a target with `targetLabels` and
 * `honorLabels: true`: a label the sample has wins over the target's, and empty labels are dropped.
 */
export function scrape(samples: readonly Sample[], targetLabels: Labels): Sample[] {
  return samples.map((s) => ({
    ...s,
    labels: Object.fromEntries(Object.entries({ ...targetLabels, ...s.labels }).filter(([, v]) => v !== '')),
  }));
}
