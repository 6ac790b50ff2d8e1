/**
 * A live cluster for the deploy tests, as `kubectl get <kind> <name> -o json` would print it: the
 * objects of an environment's folder as they are once applied (metadata the API server adds, the
 * field managers of server-side apply, the status the controllers write), with the differences a
 * scenario needs (the image a colour runs, its ready pods, which colour a Service selects, smoke-Job
 * results, who owns spec.replicas). The shapes follow test/fixtures/kubectl/staged/ (from a 1.28
 * cluster, see its README); the recorder answers from the files written here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { KubeObject } from '../synth/output';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** What a scenario changes in the cluster relative to the applied objects. */
export interface ClusterScenario {
  /** Ready pods of a Deployment. @default its replicas (spec.replicas, or its HPA's minimum) */
  readonly ready?: { readonly [deployment: string]: number };
  /** The image a Deployment's pods run. @default the folder's */
  readonly images?: { readonly [deployment: string]: string };
  /** Deployments whose rollout has not finished (a new ReplicaSet still coming up). */
  readonly rollingOut?: readonly string[];
  /** The colour a Service selects (`version`). @default the folder's */
  readonly selects?: { readonly [service: string]: string };
  /** Services a deploy stamped with the time it moved their traffic (epoch seconds). */
  readonly movedAt?: { readonly [service: string]: number };
  /** Services whose selector break-glass took over. */
  readonly breakGlass?: readonly string[];
  /** Smoke-test Jobs: name -> result, with the labels of the folder's Job of that name or `instance`. */
  readonly jobs?: { readonly [name: string]: { readonly result: 'Complete' | 'Failed' | 'running'; readonly instance: string; readonly labels?: { [k: string]: string } } };
  /**
   * Who owns each Deployment's spec.replicas. @default `apply` when the folder sets it, else `autoscaler`
   * (`apply`: the CI's server-side apply; `autoscaler`: the HPA controller through the scale subresource)
   */
  readonly replicasOwner?: { readonly [deployment: string]: 'apply' | 'autoscaler' };
  /** Live spec.replicas of a Deployment. @default the folder's, or its HPA's minimum */
  readonly replicas?: { readonly [deployment: string]: number };
  /** Objects that are in the cluster but not in the folder (left from an earlier one). */
  readonly extra?: readonly KubeObject[];
  /**
   * What the Argo Rollouts controller reports for a Rollout. @default Healthy, its generation and its
   * Deployment's observed (`stale`: the controller has not yet seen the Deployment the folder applied)
   */
  readonly rollouts?: { readonly [rollout: string]: { readonly phase: 'Healthy' | 'Progressing' | 'Paused' | 'Degraded'; readonly message?: string; readonly pauseReason?: string; readonly stepIndex?: number; readonly stale?: boolean } };
  /** Objects of the folder that are not in the cluster yet. */
  readonly missing?: readonly string[];
}

const NOW = '2026-12-03T12:00:00Z';
const MANAGER = 'soundcore-kcp-ci';

function entry(manager: string, operation: 'Apply' | 'Update', apiVersion: string, fields: Json, subresource?: string): Json {
  return { apiVersion, fieldsType: 'FieldsV1', fieldsV1: fields, manager, operation, ...(subresource ? { subresource } : {}), time: NOW };
}

/** Writes the cluster's objects into `dir` as `<kind>-<name>.json` (the recorder's fixtures). */
export function writeCluster(dir: string, objects: readonly KubeObject[], scenario: ClusterScenario = {}): void {
  // (a fresh cluster: nothing of an earlier scenario is left, except logs a test put there first)
  if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json'))) fs.rmSync(path.join(dir, f));
  fs.mkdirSync(dir, { recursive: true });
  const hpaMin = new Map<string, number>();
  for (const o of objects as Json[]) {
    if (o.kind === 'HorizontalPodAutoscaler') hpaMin.set(o.spec.scaleTargetRef.name, o.spec.minReplicas);
  }
  let uid = 0;
  const live = (o: Json): Json => {
    const copy: Json = JSON.parse(JSON.stringify(o));
    copy.metadata = {
      ...copy.metadata, creationTimestamp: '2026-11-20T09:00:00Z', generation: 3, resourceVersion: String(48_000_000 + uid),
      uid: `00000000-0000-4000-8000-${String(++uid).padStart(12, '0')}`,
      managedFields: [entry(MANAGER, 'Apply', copy.apiVersion, { 'f:metadata': { 'f:labels': {} }, ...(copy.spec ? { 'f:spec': {} } : {}) })],
    };
    return copy;
  };
  const write = (o: Json) => fs.writeFileSync(path.join(dir, `${o.kind.toLowerCase()}-${o.metadata.name}.json`), `${JSON.stringify(o, null, 4)}\n`);

  for (const o of [...objects, ...(scenario.extra ?? [])] as Json[]) {
    if (scenario.missing?.includes(o.metadata.name) || o.kind === 'Job') continue;
    const l = live(o);
    if (o.kind === 'Deployment') {
      const name: string = o.metadata.name;
      const owner = scenario.replicasOwner?.[name] ?? (o.spec.replicas !== undefined ? 'apply' : 'autoscaler');
      const replicas = scenario.replicas?.[name] ?? o.spec.replicas ?? hpaMin.get(name) ?? 1;
      l.spec.replicas = replicas;
      l.spec.revisionHistoryLimit = 10;
      if (owner === 'apply') l.metadata.managedFields[0].fieldsV1['f:spec']['f:replicas'] = {};
      else l.metadata.managedFields.push(entry('kube-controller-manager', 'Update', 'apps/v1', { 'f:spec': { 'f:replicas': {} } }, 'scale'));
      const image = scenario.images?.[name];
      if (image !== undefined) l.spec.template.spec.containers[0].image = image;
      const ready = scenario.ready?.[name] ?? replicas;
      const rolling = scenario.rollingOut?.includes(name) ?? false;
      l.metadata.annotations = { ...l.metadata.annotations, 'deployment.kubernetes.io/revision': '2' };
      // (1.28 Deployment controller: status after a rollout, or during one with a new ReplicaSet coming up)
      l.status = {
        availableReplicas: ready, observedGeneration: rolling ? 2 : 3, readyReplicas: ready, replicas: rolling ? replicas + 1 : replicas,
        updatedReplicas: rolling ? 1 : replicas,
        conditions: [
          { type: 'Available', status: ready >= replicas ? 'True' : 'False', reason: ready >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
            message: ready >= replicas ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.', lastTransitionTime: NOW, lastUpdateTime: NOW },
          { type: 'Progressing', status: 'True', reason: rolling ? 'ReplicaSetUpdated' : 'NewReplicaSetAvailable',
            message: rolling ? `ReplicaSet "${name}-7d9c6b5f4" is progressing.` : `ReplicaSet "${name}-7d9c6b5f4" has successfully progressed.`,
            lastTransitionTime: NOW, lastUpdateTime: NOW },
        ],
      };
    }
    if (o.kind === 'Service') {
      const colour = scenario.selects?.[o.metadata.name];
      if (colour !== undefined) l.spec.selector = { ...l.spec.selector, version: colour };
      l.spec = { ...l.spec, clusterIP: `10.96.${uid}.10`, clusterIPs: [`10.96.${uid}.10`], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', sessionAffinity: 'None' };
      const moved = scenario.movedAt?.[o.metadata.name];
      if (moved !== undefined) {
        l.metadata.annotations = { ...l.metadata.annotations, 'deploy.soundcore-kcp.com/traffic-moved-at': `${moved} ${new Date(moved * 1000).toISOString().slice(0, 19)}Z` };
      }
      if (scenario.breakGlass?.includes(o.metadata.name)) {
        l.metadata.managedFields.push(entry('soundcore-kcp-break-glass', 'Apply', 'v1', { 'f:spec': { 'f:selector': { 'f:version': {} } } }));
      }
      l.status = { loadBalancer: {} };
    }
    if (o.kind === 'Rollout') {
      // (Argo Rollouts v1.8 controller: status.observedGeneration is a string; with a workloadRef the
      // controller stamps the Deployment's generation on the Rollout and reports it as observed)
      const r = scenario.rollouts?.[o.metadata.name] ?? { phase: 'Healthy' };
      const deploymentGeneration = String(r.stale ? 2 : 3);
      l.metadata.annotations = { ...l.metadata.annotations, 'rollout.argoproj.io/revision': '4', 'rollout.argoproj.io/workload-generation': deploymentGeneration };
      l.status = {
        phase: r.phase, message: r.message ?? '', observedGeneration: '3', workloadObservedGeneration: deploymentGeneration,
        currentPodHash: '6f8d9c7b5', stableRS: r.phase === 'Healthy' ? '6f8d9c7b5' : '5c4b3a291', replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2,
        ...(r.pauseReason !== undefined ? { pauseConditions: [{ reason: r.pauseReason, startTime: NOW }] } : {}),
        ...(r.stepIndex !== undefined ? { currentStepIndex: r.stepIndex } : {}),
      };
    }
    if (o.kind === 'HorizontalPodAutoscaler') {
      l.status = { currentReplicas: o.spec.minReplicas, desiredReplicas: o.spec.minReplicas, currentMetrics: [] };
    }
    write(l);
  }
  // Jobs: from the folder where it has them, with the result the scenario gives
  for (const [name, job] of Object.entries(scenario.jobs ?? {})) {
    const spec = (objects as Json[]).find((o) => o.kind === 'Job' && o.metadata.name === name);
    const l = live(spec ?? { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, labels: {} }, spec: {} });
    l.metadata.labels = { ...l.metadata.labels, ...job.labels, 'app.kubernetes.io/instance': job.instance };
    // (1.28 Job controller: conditions Complete or Failed with a reason, counts, uncountedTerminatedPods)
    l.status = job.result === 'running' ? { active: 1, ready: 1, startTime: NOW, uncountedTerminatedPods: {} }
      : job.result === 'Complete'
        ? { completionTime: NOW, succeeded: 1, ready: 0, startTime: NOW, uncountedTerminatedPods: {},
          conditions: [{ type: 'Complete', status: 'True', lastProbeTime: NOW, lastTransitionTime: NOW }] }
        : { failed: 3, ready: 0, startTime: NOW, uncountedTerminatedPods: {},
          conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastProbeTime: NOW, lastTransitionTime: NOW }] };
    write(l);
  }
}
