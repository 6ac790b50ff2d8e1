/**
 * A minute-by-minute model of what the Kubernetes controllers make of the project's manifests, for
 * feeding kube-state-metrics' series (`kube-state-metrics.ts`) to the upstream kube-prometheus rules.
 * `apply()` is `kubectl apply` of synthesized objects (create or update, never delete: objects that
 * left dist/ stay until something deletes them), `deploy()` the pipeline's apply and prune;
 * `advance()` runs the controllers once a minute and
 * records one scrape per minute. Only what the upstream rules can see is modelled; every behaviour
 * is Kubernetes 1.28's, simplified to whole minutes, as stated where it is modelled:
 *
 * - **Pods** start in the minute they are created (Pending, container `ContainerCreating`) and are
 *   Running and Ready the next minute: the project's readiness probes start after 5 s and pass every
 *   5 s, so a healthy pod is ready well within a minute. A {@link PodBehaviour} makes a version's
 *   pods never ready, crash-loop, or wait for an image that cannot be pulled.
 * - **Deployment controller** (`RollingUpdate` with the manifest's `maxSurge`, `maxUnavailable: 0`):
 *   old pods are removed only while the available pods stay at least `spec.replicas` (unready old
 *   pods go first), new pods are created up to `spec.replicas + maxSurge`; a scale-down removes the
 *   extra pods at once. `status.replicas` counts every pod, `updatedReplicas` those of the current
 *   template, `available` = `ready` (minReadySeconds 0), `unavailable` = replicas - available.
 *   `observedGeneration` catches up with `metadata.generation` within the minute (the controller
 *   reacts in seconds); `generation` grows on every spec change, the HPA's scale writes included.
 *   `Available` is True while available >= replicas - maxUnavailable; `Progressing` turns False
 *   (ProgressDeadlineExceeded) after 10 minutes without progress (`progressDeadlineSeconds` 600).
 *   A manifest without `spec.replicas` creates 1 replica and never changes the count afterwards
 *   (server-side apply leaves the field to the HPA).
 * - **HPA controller** (per minute instead of every 15 s): `currentReplicas` is the target's
 *   `status.replicas`; above `maxReplicas` it scales to the maximum at once, below `minReplicas` to
 *   the minimum, otherwise to `ceil(current × utilisation / target)` (within a 10 % tolerance it
 *   keeps `current`), scale-downs held back by the manifest's `behavior.scaleDown`
 *   (stabilisation window: the highest recommendation of the window; at most `value` pods per
 *   `periodSeconds`) and scale-ups limited by `behavior.scaleUp`. With no traffic the utilisation is
 *   {@link IDLE_CPU_UTILIZATION}, so an idle HPA sits at its `minReplicas`.
 * - **Disruption controller**: `expectedPods` is the `spec.replicas` of the Deployment owning the
 *   selected pods, `desiredHealthy` = expected - maxUnavailable (>= 0), `currentHealthy` the ready
 *   selected pods, `disruptionsAllowed` = current - desired (>= 0).
 * - **Job controller**: a Job starts its pod at once; how it ends (and after how long) is the
 *   scenario's {@link JobRun}. Failed: condition Failed (reason), `status.failed` pods; Complete:
 *   condition Complete, `succeeded` 1 and `completionTime`. `ttlSecondsAfterFinished` deletes it
 *   with its pods; so does {@link Cluster.delete}.
 * - **Scrapes of the project's pods** (`up`, for the upstream TargetDown): every running pod behind a
 *   Service the ServiceMonitor selects is a target (the endpoints' ready and not-ready addresses both
 *   are); it answers (`up` 1) unless its behaviour says it never becomes ready.
 */
import { createHash } from 'crypto';
import type { Obj } from './helpers';
import { matches } from './helpers';
import {
  ClusterObjects, DeploymentObject, HpaObject, JobObject, kubeStateMetrics, KSM_TARGET_LABELS, Labels, PdbObject,
  PodObject, ReplicaSetObject, Sample, scrape,
} from './kube-state-metrics';
import type { InputSeries } from './promtool';

/** CPU utilisation (percent of the request) of pods that serve no traffic. */
export const IDLE_CPU_UTILIZATION = 5;

/** How the pods of one Deployment version behave (default: ready a minute after creation). */
export interface PodBehaviour {
  /** The readiness probe never passes: Running, not Ready, and the pod answers no scrape. */
  readonly neverReady?: boolean;
  /** The container keeps waiting with this reason (`ImagePullBackOff`: Pending; `CrashLoopBackOff`: Running). */
  readonly waitingReason?: 'ImagePullBackOff' | 'CrashLoopBackOff';
}

/** How a Job ends: after `minutes`, complete or failed (with its reason and failed pod count). */
export interface JobRun {
  readonly minutes: number;
  readonly outcome: 'Complete' | 'Failed';
  readonly reason?: 'BackoffLimitExceeded' | 'DeadlineExceeded';
  readonly failedPods?: number;
}

/** The scenario's knobs. */
export interface ClusterOptions {
  /** How each Job ends. */
  readonly jobRun: (jobName: string) => JobRun;
  /** Behaviour of the pods of `deployment` running `image`. @default - healthy */
  readonly pods?: (deployment: string, image: string) => PodBehaviour | undefined;
  /** CPU utilisation of the pods an HPA scales, at `minute`. @default IDLE_CPU_UTILIZATION */
  readonly cpuUtilization?: (hpa: string, minute: number) => number;
  /** The most pods the namespace admits for `deployment` (a quota, say). @default - no limit */
  readonly podLimit?: (deployment: string) => number | undefined;
  /** The deployment controller ignores `deployment` at `minute` (its status stops changing). @default - never */
  readonly controllerStalled?: (deployment: string, minute: number) => boolean;
}

/** Characters Kubernetes uses in generated names (`rand.SafeEncodeString`). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

function safeId(seed: string, length: number): string {
  const digest = createHash('sha256').update(seed).digest();
  return Array.from(digest.subarray(0, length), (b) => SAFE[b % SAFE.length]).join('');
}

function uid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

interface Pod {
  readonly name: string;
  readonly uid: string;
  readonly labels: Labels;
  readonly owner: { readonly kind: string; readonly name: string };
  readonly createdAt: number;
  readonly containers: readonly { readonly name: string; readonly image: string }[];
  /** The template hash of its ReplicaSet (Deployment pods). */
  readonly templateHash?: string;
  phase: PodObject['phase'];
  ready: boolean;
  waitingReason?: string;
}

interface Deployment {
  manifest: Obj;
  generation: number;
  observedGeneration: number;
  replicas: number;
  templateHash: string;
  lastProgress: number;
  readonly replicaSets: ReplicaSetObject[];
  pods: Pod[];
}

interface Hpa {
  manifest: Obj;
  generation: number;
  current: number;
  desired: number;
  /** Recommendations by minute, for the scale-down stabilisation window. */
  readonly recommendations: { readonly minute: number; readonly replicas: number }[];
  /** Scale-down events by minute, for the scale-down rate policy. */
  readonly scaleDowns: { readonly minute: number; readonly pods: number }[];
}

interface Job {
  readonly manifest: Obj;
  readonly createdAt: number;
  readonly run: JobRun;
  pods: Pod[];
  finishedAt?: number;
}

/** A series and its value per minute (undefined: absent at that scrape). */
interface Timeline {
  readonly metric: string;
  readonly labels: Labels;
  readonly values: (number | undefined)[];
}

/** The model of one namespace; see the file comment. */
export class Cluster {
  private now = 0;
  private podCounter = 0;
  private readonly deployments = new Map<string, Deployment>();
  private readonly hpas = new Map<string, Hpa>();
  private readonly pdbs = new Map<string, { manifest: Obj; generation: number }>();
  private readonly jobs = new Map<string, Job>();
  private readonly services = new Map<string, Obj>();
  private readonly serviceMonitors = new Map<string, Obj>();
  private readonly series = new Map<string, Timeline>();

  constructor(public readonly namespace: string, private readonly options: ClusterOptions) {}

  /** The current minute (the next scrape's). */
  public get minute(): number {
    return this.now;
  }

  /** `kubectl apply`: creates or updates each object of this namespace; deletes nothing. */
  public apply(objects: readonly Obj[]): void {
    for (const o of objects) {
      const name = o.metadata.name;
      switch (o.kind) {
        case 'Deployment': this.applyDeployment(o); break;
        case 'HorizontalPodAutoscaler': {
          const h = this.hpas.get(name);
          if (h === undefined) {
            this.hpas.set(name, { manifest: o, generation: 1, current: 0, desired: 0, recommendations: [], scaleDowns: [] });
          } else if (JSON.stringify(h.manifest.spec) !== JSON.stringify(o.spec)) {
            h.manifest = o;
            h.generation += 1;
          }
          break;
        }
        case 'PodDisruptionBudget': {
          const p = this.pdbs.get(name);
          if (p === undefined) this.pdbs.set(name, { manifest: o, generation: 1 });
          else if (JSON.stringify(p.manifest.spec) !== JSON.stringify(o.spec)) Object.assign(p, { manifest: o, generation: p.generation + 1 });
          break;
        }
        case 'Job':
          // a Job's pod template is immutable: the project renames a changed Job, so an existing one is unchanged
          if (!this.jobs.has(name)) this.jobs.set(name, { manifest: o, createdAt: this.now, run: this.options.jobRun(name), pods: [] });
          break;
        case 'Service': this.services.set(name, o); break;
        case 'ServiceMonitor': this.serviceMonitors.set(name, o); break;
        default: break;
      }
    }
  }

  /**
   * What the pipeline's deploy does (`scripts/deploy.sh apply`): `apply()`, then a prune that deletes
   * the objects labelled `label` (the deploy set) that `objects` no longer has, with their pods.
   */
  public deploy(objects: readonly Obj[], label: { readonly key: string; readonly value: string }): void {
    this.apply(objects);
    const kept = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
    const stores: Array<[string, Map<string, { readonly manifest: Obj } | Obj>]> = [
      ['Deployment', this.deployments], ['HorizontalPodAutoscaler', this.hpas], ['PodDisruptionBudget', this.pdbs], ['Job', this.jobs],
      ['Service', this.services], ['ServiceMonitor', this.serviceMonitors],
    ];
    for (const [kind, store] of stores) {
      for (const [name, entry] of store) {
        const manifest: Obj = 'kind' in entry ? entry : entry.manifest;
        if (manifest.metadata.labels?.[label.key] === label.value && !kept.has(`${kind}/${name}`)) store.delete(name);
      }
    }
  }

  /** `kubectl delete <kind> <name>` (with the default background cascade: its pods go too). */
  public delete(kind: 'Job', name: string): void {
    if (!this.jobs.delete(name)) throw new Error(`no ${kind} ${name} to delete`);
  }

  /** Runs the controllers and records one scrape per minute, `minutes` times. */
  public advance(minutes: number): void {
    for (let i = 0; i < minutes; i++) {
      this.reconcile();
      this.record();
      this.now += 1;
    }
  }

  /** Every recorded series as promtool input series (1 m apart from minute 0; stale once gone). */
  public inputSeries(): InputSeries[] {
    return [...this.series.values()].map((t) => ({ series: seriesName(t.metric, t.labels), values: expand(t.values, this.now) }));
  }

  /** What KSM sees now (for tests of the model itself). */
  public objects(): ClusterObjects {
    const ns = this.namespace;
    const podObject = (p: Pod): PodObject => ({
      namespace: ns, name: p.name, uid: p.uid, owner: p.owner, phase: p.phase, ready: p.ready,
      containers: p.containers.map((c) => ({ name: c.name, waitingReason: p.waitingReason })),
    });
    const deployments: DeploymentObject[] = [...this.deployments.values()].map((d) => {
      const ready = d.pods.filter((p) => p.ready).length;
      const updated = d.pods.filter((p) => p.templateHash === d.templateHash).length;
      const complete = updated === d.replicas && d.pods.length === d.replicas && ready === d.replicas;
      // a stalled controller updates no condition: they stay as it last wrote them (rolled out)
      const stalled = this.options.controllerStalled?.(d.manifest.metadata.name, this.now) === true;
      const stuck = !stalled && !complete && this.now - d.lastProgress >= 10;
      const strategy = d.manifest.spec.strategy?.rollingUpdate ?? {};
      return {
        namespace: ns, name: d.manifest.metadata.name, generation: d.generation, specReplicas: d.replicas,
        status: {
          observedGeneration: d.observedGeneration, replicas: d.pods.length, updatedReplicas: updated, readyReplicas: ready, availableReplicas: ready,
          unavailableReplicas: Math.max(d.pods.length - ready, 0),
          conditions: [
            stalled || ready >= d.replicas - scaled(strategy.maxUnavailable ?? '25%', d.replicas, false)
              ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }
              : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
            stuck ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }
              : { type: 'Progressing', status: 'True', reason: complete || stalled ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated' },
          ],
        },
      };
    });
    const hpas: HpaObject[] = [...this.hpas.values()].map((h) => ({
      namespace: ns, name: h.manifest.metadata.name, generation: h.generation, minReplicas: h.manifest.spec.minReplicas ?? 1, maxReplicas: h.manifest.spec.maxReplicas,
      metrics: cpuTargets(h.manifest).map((u) => ({ resource: 'cpu', averageUtilization: u })),
      status: { currentReplicas: h.current, desiredReplicas: h.desired },
    }));
    const pdbs: PdbObject[] = [...this.pdbs.values()].map((p) => ({ ...this.pdbStatus(p.manifest), generation: p.generation }));
    const jobs: JobObject[] = [...this.jobs.values()].map((j) => {
      const spec = j.manifest.spec;
      const finished = j.finishedAt !== undefined;
      const failed = j.run.outcome === 'Failed';
      return {
        namespace: ns, name: j.manifest.metadata.name, owners: [],
        // the API server defaults both to 1 for a non-indexed Job
        parallelism: spec.parallelism ?? 1, completions: spec.completions ?? 1, activeDeadlineSeconds: spec.activeDeadlineSeconds,
        status: {
          active: finished ? 0 : 1,
          succeeded: finished && !failed ? 1 : 0,
          failed: finished && failed ? j.run.failedPods ?? 1 : 0,
          startTime: j.createdAt * 60,
          completionTime: finished && !failed ? j.finishedAt! * 60 : undefined,
          conditions: !finished ? [] : failed
            ? [{ type: 'Failed', status: 'True', reason: j.run.reason ?? 'BackoffLimitExceeded' }]
            : [{ type: 'Complete', status: 'True' }],
        },
      };
    });
    return {
      deployments,
      replicaSets: [...this.deployments.values()].flatMap((d) => d.replicaSets),
      pods: [...[...this.deployments.values()].flatMap((d) => d.pods), ...[...this.jobs.values()].flatMap((j) => j.pods)].map(podObject),
      hpas, pdbs, jobs,
    };
  }

  private applyDeployment(o: Obj): void {
    const name = o.metadata.name;
    const hash = safeId(JSON.stringify(o.spec.template), 10);
    const d = this.deployments.get(name);
    if (d === undefined) {
      this.deployments.set(name, {
        manifest: o, generation: 1, observedGeneration: 1, replicas: o.spec.replicas ?? 1, templateHash: hash,
        lastProgress: this.now, replicaSets: [this.replicaSet(name, hash)], pods: [],
      });
      return;
    }
    const replicas = o.spec.replicas ?? d.replicas;
    if (hash !== d.templateHash || replicas !== d.replicas) {
      d.generation += 1;
      d.lastProgress = this.now;
      if (hash !== d.templateHash && !d.replicaSets.some((rs) => rs.name === `${name}-${hash}`)) d.replicaSets.push(this.replicaSet(name, hash));
    }
    d.manifest = o;
    d.templateHash = hash;
    d.replicas = replicas;
  }

  private replicaSet(deployment: string, hash: string): ReplicaSetObject {
    return { namespace: this.namespace, name: `${deployment}-${hash}`, owner: { kind: 'Deployment', name: deployment } };
  }

  private newPod(owner: { kind: string; name: string }, template: Obj['spec'], templateHash?: string): Pod {
    this.podCounter += 1;
    const name = `${owner.name}-${safeId(`${owner.name}/${this.podCounter}`, 5)}`;
    return {
      name, uid: uid(`${this.namespace}/${name}/${this.podCounter}`), labels: template.metadata?.labels ?? {}, owner, createdAt: this.now,
      templateHash,
      containers: (template.spec.containers as Array<{ name: string; image: string }>).map((c) => ({ name: c.name, image: c.image })),
      phase: 'Pending', ready: false, waitingReason: 'ContainerCreating',
    };
  }

  private behaviour(deployment: string, pod: Pod): PodBehaviour {
    return this.options.pods?.(deployment, pod.containers[0].image) ?? {};
  }

  private reconcile(): void {
    for (const [name, d] of this.deployments) this.reconcileDeployment(name, d);
    for (const h of this.hpas.values()) this.reconcileHpa(h);
    for (const [name, j] of this.jobs) this.reconcileJob(name, j);
  }

  private reconcileDeployment(name: string, d: Deployment): void {
    // pods created in an earlier minute have started
    for (const p of d.pods) {
      if (p.createdAt >= this.now) continue;
      const b = this.behaviour(name, p);
      const wasReady = p.ready;
      if (b.waitingReason === 'ImagePullBackOff') {
        Object.assign(p, { phase: 'Pending', ready: false, waitingReason: 'ImagePullBackOff' });
      } else if (b.waitingReason === 'CrashLoopBackOff') {
        Object.assign(p, { phase: 'Running', ready: false, waitingReason: 'CrashLoopBackOff' });
      } else {
        Object.assign(p, { phase: 'Running', ready: b.neverReady !== true, waitingReason: undefined });
      }
      if (p.ready && !wasReady) d.lastProgress = this.now;
    }
    if (this.options.controllerStalled?.(name, this.now) === true) return;
    d.observedGeneration = d.generation;
    const spec = d.replicas;
    const strategy = d.manifest.spec.strategy?.rollingUpdate ?? {};
    const surge = scaled(strategy.maxSurge ?? '25%', spec, true);
    const maxUnavailable = scaled(strategy.maxUnavailable ?? '25%', spec, false);
    const isNew = (p: Pod) => p.templateHash === d.templateHash;
    const before = d.pods.length;
    // old pods: unready ones go at once, ready ones while the available pods stay >= spec - maxUnavailable
    let removable = d.pods.filter((p) => p.ready).length - (spec - maxUnavailable);
    const old = d.pods.filter((p) => !isNew(p)).sort((a, b) => Number(a.ready) - Number(b.ready));
    const removed = new Set<Pod>();
    for (const p of old) {
      if (!p.ready) removed.add(p);
      else if (removable > 0) { removed.add(p); removable -= 1; }
    }
    // a scale-down of the current template removes its extra pods (unready first) at once
    const current = d.pods.filter(isNew).sort((a, b) => Number(a.ready) - Number(b.ready));
    const extra = current.length - spec;
    for (const p of current.slice(0, Math.max(extra, 0))) removed.add(p);
    d.pods = d.pods.filter((p) => !removed.has(p));
    // new pods up to spec + surge in total (and within the namespace's limit)
    const limit = this.options.podLimit?.(name) ?? Infinity;
    const room = Math.min(spec + surge, limit) - d.pods.length;
    const create = Math.min(room, spec - d.pods.filter(isNew).length);
    for (let i = 0; i < create; i++) d.pods.push(this.newPod({ kind: 'ReplicaSet', name: `${name}-${d.templateHash}` }, d.manifest.spec.template, d.templateHash));
    if (d.pods.length !== before || removed.size > 0) d.lastProgress = this.now;
  }

  private reconcileHpa(h: Hpa): void {
    const spec = h.manifest.spec;
    const target = this.deployments.get(spec.scaleTargetRef.name);
    if (target === undefined) return;
    const min: number = spec.minReplicas ?? 1;
    const max: number = spec.maxReplicas;
    const current = target.pods.length;
    const targetUtilization = cpuTargets(h.manifest)[0] ?? 80;
    const utilization = this.options.cpuUtilization?.(h.manifest.metadata.name, this.now) ?? IDLE_CPU_UTILIZATION;
    h.current = current;
    let desired: number;
    if (current === 0) return;
    if (current > max) {
      desired = max;
    } else if (current < min) {
      desired = min;
    } else {
      const ratio = utilization / targetUtilization;
      const recommendation = Math.abs(ratio - 1) <= 0.1 ? current : Math.ceil(current * ratio);
      h.recommendations.push({ minute: this.now, replicas: recommendation });
      desired = recommendation;
      if (recommendation < current) {
        const down = spec.behavior?.scaleDown ?? {};
        const window = (down.stabilizationWindowSeconds ?? 300) / 60;
        desired = Math.max(...h.recommendations.filter((r) => r.minute > this.now - window).map((r) => r.replicas));
        desired = Math.min(desired, current);
        for (const policy of (down.policies ?? []) as Array<{ type: string; value: number; periodSeconds: number }>) {
          if (policy.type !== 'Pods') continue;
          const recent = h.scaleDowns.filter((s) => s.minute > this.now - policy.periodSeconds / 60).reduce((n, s) => n + s.pods, 0);
          desired = Math.max(desired, current - Math.max(policy.value - recent, 0));
        }
      } else if (recommendation > current) {
        const up = (spec.behavior?.scaleUp?.policies ?? []) as Array<{ type: string; value: number }>;
        const cap = up.length === 0 ? Infinity
          : Math.max(...up.map((p) => (p.type === 'Pods' ? current + p.value : Math.ceil(current * (1 + p.value / 100)))));
        desired = Math.min(desired, cap);
      }
      desired = Math.min(Math.max(desired, min), max);
    }
    if (desired < current) h.scaleDowns.push({ minute: this.now, pods: current - desired });
    h.desired = desired;
    if (desired !== target.replicas) {
      // the scale subresource writes spec.replicas: a new generation the controller acts on next minute
      target.replicas = desired;
      target.generation += 1;
      target.lastProgress = this.now;
    }
  }

  private reconcileJob(name: string, j: Job): void {
    const ttl = j.manifest.spec.ttlSecondsAfterFinished;
    if (j.finishedAt !== undefined && ttl !== undefined && this.now >= j.finishedAt + ttl / 60) {
      this.jobs.delete(name);
      return;
    }
    if (j.pods.length === 0) {
      j.pods.push(this.newPod({ kind: 'Job', name }, j.manifest.spec.template));
      return;
    }
    for (const p of j.pods) if (p.phase === 'Pending' && p.createdAt < this.now) Object.assign(p, { phase: 'Running', ready: true, waitingReason: undefined });
    if (j.finishedAt === undefined && this.now >= j.createdAt + j.run.minutes) {
      j.finishedAt = this.now;
      if (j.run.outcome === 'Complete') {
        for (const p of j.pods) Object.assign(p, { phase: 'Succeeded', ready: false });
      } else {
        // each retry's pod failed (backoffLimit + 1 pods in all)
        const failedPods = j.run.failedPods ?? 1;
        for (const p of j.pods) Object.assign(p, { phase: 'Failed', ready: false });
        while (j.pods.length < failedPods) {
          const p = this.newPod({ kind: 'Job', name }, j.manifest.spec.template);
          Object.assign(p, { phase: 'Failed', ready: false, waitingReason: undefined });
          j.pods.push(p);
        }
      }
    }
  }

  private pdbStatus(manifest: Obj): Omit<PdbObject, 'generation'> {
    const selector = manifest.spec.selector.matchLabels as Labels;
    const owners = [...this.deployments.values()].filter((d) => d.pods.some((p) => matches(selector, p.labels)));
    const pods = owners.flatMap((d) => d.pods).filter((p) => matches(selector, p.labels));
    const expected = owners.reduce((n, d) => n + d.replicas, 0);
    const maxUnavailable = manifest.spec.maxUnavailable;
    const desired = maxUnavailable !== undefined
      ? Math.max(expected - scaled(maxUnavailable, expected, true), 0)
      : scaled(manifest.spec.minAvailable, expected, true);
    const healthy = pods.filter((p) => p.ready).length;
    return {
      namespace: this.namespace, name: manifest.metadata.name,
      status: { currentHealthy: healthy, desiredHealthy: desired, expectedPods: expected, disruptionsAllowed: Math.max(healthy - desired, 0) },
    };
  }

  /** `up` of each pod the ServiceMonitors make a target (see the file comment). */
  private scrapeTargets(): Sample[] {
    const samples: Sample[] = [];
    for (const sm of this.serviceMonitors.values()) {
      const port: string = sm.spec.endpoints[0].port;
      for (const svc of this.services.values()) {
        if (!matches(sm.spec.selector.matchLabels, svc.metadata.labels)) continue;
        const svcPort = (svc.spec.ports as Array<{ name: string; targetPort: number }>).find((p) => p.name === port);
        if (svcPort === undefined) continue;
        for (const [deployment, d] of this.deployments) {
          for (const p of d.pods.filter((pod) => pod.phase === 'Running' && matches(svc.spec.selector, pod.labels))) {
            samples.push({
              metric: 'up',
              labels: {
                job: svc.metadata.labels[sm.spec.jobLabel] ?? svc.metadata.name, namespace: this.namespace, service: svc.metadata.name,
                pod: p.name, container: p.containers[0].name, endpoint: port, instance: `${p.name}:${svcPort.targetPort}`,
                ...Object.fromEntries(((sm.spec.podTargetLabels ?? []) as string[]).filter((l) => p.labels[l] !== undefined).map((l) => [l, p.labels[l]])),
              },
              value: this.behaviour(deployment, p).neverReady === true || p.waitingReason !== undefined ? 0 : 1,
            });
          }
        }
      }
    }
    return samples;
  }

  private record(): void {
    this.recordScrape(kubeStateMetrics(this.objects()), KSM_TARGET_LABELS);
    this.recordScrape(this.scrapeTargets(), {});
  }

  /** Stores one scrape of a target (its samples as Prometheus stores them: see `scrape`). */
  private recordScrape(samples: readonly Sample[], targetLabels: Labels): void {
    for (const s of samples) {
      // a cheap key: each series' labels are always built in one order (promtool gets sorted names)
      const key = s.metric + JSON.stringify(s.labels);
      let t = this.series.get(key);
      if (t === undefined) {
        t = { metric: s.metric, labels: scrape([s], targetLabels)[0].labels, values: [] };
        this.series.set(key, t);
      }
      t.values[this.now] = s.value;
    }
  }
}

/** The CPU utilisation targets of an HPA manifest. */
function cpuTargets(hpa: Obj): number[] {
  return ((hpa.spec.metrics ?? []) as Array<{ type: string; resource?: { name: string; target: { averageUtilization?: number } } }>)
    .filter((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target.averageUtilization !== undefined)
    .map((m) => m.resource!.target.averageUtilization!);
}

/** An int-or-percent against `total` (Kubernetes' `GetScaledValueFromIntOrPercent`). */
function scaled(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const percent = Number(value.replace(/%$/, '')) / 100;
  return roundUp ? Math.ceil(percent * total) : Math.floor(percent * total);
}

/** `metric{a="x", ...}` with the labels sorted (a stable series key and promtool's series syntax). */
export function seriesName(metric: string, labels: Labels): string {
  const body = Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(', ');
  return `${metric}{${body}}`;
}

/**
 * promtool's expanding notation for per-minute values up to `end` (exclusive): runs of one value
 * as `vxN`, absent minutes as `_`, and a `stale` marker at the first scrape after a series
 * disappears (what Prometheus writes when a scrape no longer has it).
 */
function expand(values: readonly (number | undefined)[], end: number): string {
  const tokens: string[] = [];
  let seen = false;
  let i = 0;
  while (i < end) {
    const v = values[i];
    let j = i + 1;
    while (j < end && values[j] === v) j++;
    const n = j - i;
    if (v === undefined) {
      if (seen) {
        tokens.push('stale');
        if (n > 1) tokens.push(`_x${n - 1}`);
      } else {
        tokens.push(`_x${n}`);
      }
    } else {
      seen = true;
      tokens.push(n === 1 ? String(v) : `${v}x${n - 1}`);
    }
    i = j;
  }
  return tokens.join(' ');
}
