/**
 * A real Prometheus server (Debian's /usr/bin/prometheus) scraping live stand-in services
 * (test/fixtures/instrumented-service/service.py), on a timeline compressed by one factor.
 *
 * Why scaling every duration by one factor keeps the rules' semantics. Take the factor f (150:
 * 30 s become 200 ms) and apply it to every duration of the timeline at once: the scrape interval,
 * the rule groups' evaluation interval, every range and offset in the expressions (`[5m]` becomes
 * `[2000ms]`), every `for`, and the lookback delta (`--query.lookback-delta`, which decides when a
 * series without a fresh sample is gone). Keep the traffic *per scrape interval* what it is in the
 * real scenario (the same requests, in the same mix, between two scrapes), i.e. multiply its rate
 * in requests/s by f as well. Then Prometheus stores the same sample values, in the same order, at
 * timestamps divided by f, and:
 * - every counter increase over a window (`increase`, and what `rate` and `irate` divide) is the same,
 *   since the window holds the same samples; `rate`'s extrapolation at the window edges depends
 *   only on ratios of durations (gap to the edge / average gap between samples), also unchanged;
 * - a per-second rate is f times the real one, so a ratio of two rates over the same window (both
 *   alerts on requests: 5xx / all, slower than 0.1 s / all) is exactly the real ratio, and the
 *   threshold compared with it (5 %) keeps its meaning;
 * - `for` is met after the same number of evaluations above the threshold, and pending, firing and
 *   resolution happen at the same evaluation (counted from the start) as on the real timeline;
 * - staleness (a target gone, a series no longer exported) is seen after the same number of
 *   intervals.
 * What is *not* preserved, hence not what these tests rely on:
 * - an absolute rate compared with a constant is f times larger: the seed's
 *   `rate(http_requests_total{status=~"5.."}[5m]) > 0.05` would page f times more easily, and
 *   `rate(container_cpu_usage_seconds_total)` (CPU seconds per second) compared with a limit
 *   would be meaningless (no cAdvisor here: HighCPUUsage, HighMemoryUsage and
 *   DatabasePoolExhausted have no series and stay inert);
 * - values that are durations themselves are not scaled: request latencies (the `le` bucket bounds
 *   are latencies, not timeline durations, and must not change), the scrape timeout (kept at the
 *   scaled interval rather than the scaled 10 s default, for a loaded machine), `time()` and
 *   `$value | humanizeDuration`;
 * - real-time overheads (a scrape, an evaluation, a request take the same milliseconds) are f times
 *   larger relative to the timeline: they shift when samples land by a few milliseconds, which is
 *   why the traffic is spread evenly over each interval (any window then holds the same mix) and
 *   the assertions bound waits generously instead of pinning evaluation instants.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import YAML from 'yaml';
import { parser } from '@prometheus-io/lezer-promql';
import type { RuleGroupSpec } from '../constructs';
import { FIXTURES, python3, Traffic } from './instrumented-service';
import { durationSeconds } from './promtool';

/** The Prometheus server binary: `$PROMETHEUS`, else Debian's. */
export function prometheusPath(): string {
  return process.env.PROMETHEUS || '/usr/bin/prometheus';
}

/** `2.5` -> `2500ms`: a Prometheus duration of whole milliseconds. */
export function msDuration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  if (ms <= 0 || Math.abs(ms - seconds * 1000) > 1e-6) throw new Error(`${seconds} s is not a whole positive number of milliseconds`);
  return `${ms}ms`;
}

/** `expr` with every duration literal (ranges, subquery steps, offsets) divided by `factor`. */
export function scaleExprDurations(expr: string, factor: number): string {
  const spans: { from: number; to: number }[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) throw new Error(`cannot parse ${JSON.stringify(expr)} at ${node.from}`);
      if (node.name === 'NumberDurationLiteralInDurationContext') spans.push({ from: node.from, to: node.to });
    },
  });
  let out = expr;
  for (const { from, to } of spans.sort((a, b) => b.from - a.from)) {
    out = out.slice(0, from) + msDuration(durationSeconds(expr.slice(from, to)) / factor) + out.slice(to);
  }
  return out;
}

/** `expr` with its duration literals replaced by `D`: what scaling must leave unchanged. */
export function withoutDurations(expr: string): string {
  const spans: { from: number; to: number }[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.name === 'NumberDurationLiteralInDurationContext') spans.push({ from: node.from, to: node.to });
    },
  });
  let out = expr;
  for (const { from, to } of spans.sort((a, b) => b.from - a.from)) out = `${out.slice(0, from)}D${out.slice(to)}`;
  return out;
}

/** The rule groups with every duration (group interval, `for`, ranges and offsets) divided by `factor`; nothing else changes. */
export function scaleRuleGroups(groups: readonly RuleGroupSpec[], factor: number): RuleGroupSpec[] {
  return groups.map((group) => ({
    ...group,
    ...(group.interval !== undefined ? { interval: msDuration(durationSeconds(group.interval) / factor) } : {}),
    rules: (group.rules ?? []).map((rule) => ({
      ...rule,
      expr: scaleExprDurations(String(rule.expr), factor),
      ...(rule.for !== undefined ? { for: msDuration(durationSeconds(rule.for) / factor) } : {}),
    })),
  }));
}

/** `n` distinct TCP ports free on 127.0.0.1 right now (held together while chosen, so distinct). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Stops `child`: SIGTERM, SIGKILL after `graceMs`; resolves once it has exited. */
export function stop(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** A running stand-in service (a fresh pod): its process and base URL. */
export interface LiveService {
  readonly process: ChildProcess;
  readonly url: string;
  readonly port: number;
}

/** Starts service.py on `port` (0: any free port, as record.py does); rejects, saying what to install, if it cannot. */
export function startService(port = 0, timeoutMs = 20_000): Promise<LiveService> {
  return new Promise((resolve, reject) => {
    const child = spawn(python3(), [path.join(FIXTURES, 'service.py'), '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let done = false;
    const fail = (message: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      if (/ModuleNotFoundError|ImportError/.test(output)) {
        message = `${python3()} cannot import what the stand-in service needs; its tests never skip. Install them with `
          + '`apt-get update && apt-get install -y --no-install-recommends python3-fastapi python3-uvicorn python3-prometheus-client`, '
          + `or set PYTHON3 to a Python that has them.\n${output}`;
      }
      reject(new Error(message));
    };
    const timer = setTimeout(() => fail(`service.py did not start within ${timeoutMs} ms:\n${output}`), timeoutMs);
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(output);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ process: child, url: m[1], port: Number(m[2]) });
      }
    });
    child.on('error', (e) => fail(`${python3()}: ${e.message}`));
    child.on('exit', (status) => fail(`service.py exited (${status}):\n${output}`));
  });
}

/** GET `url`: status and body (agent: keep-alive connections). */
export function get(url: string, agent?: http.Agent, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** One scrape target: a live service and the labels Prometheus attaches to it (as its ServiceMonitor would). */
export interface Target {
  readonly name: string;
  readonly port: number;
  readonly labels: { readonly [label: string]: string };
  /** Path of the exposition. @default '/metrics' */
  readonly path?: string;
  /**
   * Keep the exposition's labels where they clash with the target's (kube-prometheus-stack scrapes
   * kube-state-metrics and blackbox results so). @default false
   */
  readonly honorLabels?: boolean;
}

/** A Prometheus server started by `startPrometheus`. */
export interface LivePrometheus {
  readonly process: ChildProcess;
  readonly url: string;
  /** The server's log so far. */
  log(): string;
}

/**
 * Starts Prometheus on 127.0.0.1:`port` (nothing else listens), with its data in `dir`, scraping
 * `targets` every `scrapeInterval` and evaluating `groups` (already scaled); resolves when /-/ready
 * answers. Flags: no admin API, no lifecycle API, no remote-write receiver (their defaults).
 *
 * Prometheus 2.42 hands targets to its scrapers on a fixed 5 s tick (the discovery and scrape
 * managers' update throttles, not configurable), so the first scrape comes about 5 s after the
 * start, whatever the scrape interval: start it first, and the services meanwhile.
 */
export async function startPrometheus(port: number, dir: string, groups: readonly RuleGroupSpec[], targets: readonly Target[], timing: {
  readonly scrapeInterval: string;
  readonly evaluationInterval: string;
  readonly lookbackDelta: string;
}, timeoutMs = 20_000): Promise<LivePrometheus> {
  fs.writeFileSync(path.join(dir, 'rules.yaml'), YAML.stringify({ groups }));
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), YAML.stringify({
    global: { scrape_interval: timing.scrapeInterval, scrape_timeout: timing.scrapeInterval, evaluation_interval: timing.evaluationInterval },
    rule_files: ['rules.yaml'],
    scrape_configs: targets.map((t) => ({
      job_name: t.name,
      ...(t.path !== undefined ? { metrics_path: t.path } : {}),
      ...(t.honorLabels === true ? { honor_labels: true } : {}),
      static_configs: [{ targets: [`127.0.0.1:${t.port}`], labels: t.labels }],
    })),
  }));
  {
    const child = spawn(prometheusPath(), [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--query.lookback-delta=${timing.lookbackDelta}`,
      '--log.level=warn',
    ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    const spawned = new Promise<Error | undefined>((resolve) => {
      child.once('error', (e) => resolve(new Error(
        `${prometheusPath()}: ${e.message}. Install the Debian package: apt-get update && apt-get install -y --no-install-recommends prometheus`)));
      child.once('spawn', () => resolve(undefined));
    });
    const spawnError = await spawned;
    if (spawnError) throw spawnError;
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && child.exitCode === null) {
      const ready = await get(`${url}/-/ready`, undefined, 1000).then((r) => r.status === 200, () => false);
      if (ready) return { process: child, url, log: () => output };
      await sleep(50);
    }
    await stop(child);
    throw new Error(`prometheus did not become ready on ${url} within ${timeoutMs} ms:\n${output}`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One request of an interval's traffic: a path of the service (scenarios.json's kinds). */
function requestPaths(traffic: Traffic, slowSeconds: number): string[] {
  const api = '/api/v1/knowledge/articles';
  const kinds: [number, (i: number) => string][] = [
    [traffic.ok ?? 0, (i) => `${api}/a${i}`],
    [traffic.slow ?? 0, (i) => `${api}/s${i}?delay=${slowSeconds}`],
    [traffic.error ?? 0, (i) => `${api}/e${i}?status=${i % 2 === 0 ? 500 : 503}`],
    [traffic.clientError ?? 0, (i) => `${api}/missing${i}?status=404`],
    [traffic.probes ?? 9, () => `/health?delay=${traffic.probeDelay ?? 0}`],
  ];
  // Each kind spread evenly over the interval, so that any stretch of requests has the interval's mix.
  const placed = kinds.flatMap(([count, make], k) => Array.from({ length: count }, (_v, i) => ({ at: (i + 0.5) / count, k, path: make(i) })));
  return placed.sort((a, b) => a.at - b.at || a.k - b.k).map((p) => p.path);
}

/** Traffic sent to one service; `stop()` waits up to 1 s for the requests in flight, then abandons the rest. */
export interface TrafficDriver {
  /** Requests sent so far, by status. */
  readonly statuses: Map<number, number>;
  readonly errors: string[];
  /** Requests due by now on the scenario's schedule (answered ones are in `statuses`). */
  planned(): number;
  stop(): Promise<void>;
}

/**
 * Sends `traffic` (one scrape interval's requests, scenarios.json's format) every `intervalMs`,
 * spread evenly over the interval; catches up after a stall of the event loop rather than drop requests.
 */
export function driveTraffic(baseUrl: string, traffic: Traffic, slowSeconds: number, intervalMs: number): TrafficDriver {
  const paths = requestPaths(traffic, slowSeconds);
  // Enough connections for a few hundred requests/s (8 would hold the driver back to about 170/s here).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const statuses = new Map<number, number>();
  const errors: string[] = [];
  const pending = new Set<Promise<void>>();
  const start = Date.now();
  let sent = 0;
  let stopped = false;
  const tick = () => {
    const due = Math.floor(((Date.now() - start) / intervalMs) * paths.length);
    for (; sent < due; sent++) {
      const p = get(baseUrl + paths[sent % paths.length], agent).then(
        (r) => { statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1); },
        (e: Error) => { if (!stopped) errors.push(e.message); },
      ).finally(() => pending.delete(p));
      pending.add(p);
    }
  };
  const timer = setInterval(tick, 5);
  return {
    statuses,
    errors,
    planned: () => Math.floor(((Date.now() - start) / intervalMs) * paths.length),
    stop: async () => {
      clearInterval(timer);
      // Requests still queued when the machine could not keep up are abandoned, not waited for.
      const drained = Promise.all([...pending]);
      await Promise.race([drained, sleep(1000)]);
      stopped = true;
      agent.destroy();
    },
  };
}

/** An alert as /api/v1/alerts returns it. */
export interface ApiAlert {
  readonly labels: { readonly [label: string]: string };
  readonly annotations: { readonly [annotation: string]: string };
  readonly state: 'pending' | 'firing';
  readonly activeAt: string;
  readonly value: string;
}

/** The server's active (pending or firing) alerts, from its own API. */
export async function activeAlerts(prometheusUrl: string): Promise<ApiAlert[]> {
  const r = await get(`${prometheusUrl}/api/v1/alerts`, undefined, 5000);
  const body = JSON.parse(r.body);
  if (r.status !== 200 || body.status !== 'success') throw new Error(`/api/v1/alerts: ${r.status} ${r.body}`);
  return body.data.alerts;
}


/** The file-based exporter stand-ins (test/fixtures/exporter-stand-ins/serve.js), a process of their own. */
export interface ExporterStandIns {
  readonly process: ChildProcess;
  readonly port: number;
}

/** Starts serve.js on `port` with the spec written to `specFile`; resolves once it listens. */
export function startExporters(specFile: string, port: number, timeoutMs = 10_000): Promise<ExporterStandIns> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'exporter-stand-ins', 'serve.js'), specFile, String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`serve.js did not start within ${timeoutMs} ms:\n${output}`)); }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (/listening on/.test(output)) {
        clearTimeout(timer);
        resolve({ process: child, port });
      }
    });
    child.on('exit', (status) => { clearTimeout(timer); reject(new Error(`serve.js exited (${status}):\n${output}`)); });
  });
}

/** Resolves once every target of the server has been scraped at least once (answered or not). */
export async function firstScrapes(server: LivePrometheus, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = JSON.parse((await get(`${server.url}/api/v1/targets?state=active`)).body);
    const targets: { health: string }[] = body.data.activeTargets;
    if (targets.length > 0 && targets.every((t) => t.health !== 'unknown')) return;
    if (Date.now() > deadline) throw new Error(`targets not all scraped within ${timeoutMs} ms: ${JSON.stringify(targets)}\n${server.log()}`);
    await sleep(50);
  }
}

/** Replaces the server's rule groups (rules.yaml in `dir`, then SIGHUP) and resolves once it evaluates them. */
export async function loadRules(server: LivePrometheus, dir: string, groups: readonly RuleGroupSpec[], timeoutMs = 10_000): Promise<void> {
  fs.writeFileSync(path.join(dir, 'rules.yaml'), YAML.stringify({ groups }));
  server.process.kill('SIGHUP');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const loaded = JSON.parse((await get(`${server.url}/api/v1/rules`)).body).data.groups as unknown[];
    if (loaded.length === groups.length) return;
    if (Date.now() > deadline) throw new Error(`rules not loaded within ${timeoutMs} ms:\n${server.log()}`);
    await sleep(20);
  }
}
