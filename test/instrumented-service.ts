/**
 * The stand-in service's recorded `/metrics` expositions (test/fixtures/instrumented-service/, made
 * by its record.py) replayed as promtool input series on the real scrape timeline.
 *
 * Why the replay keeps the rules' semantics: a rule only ever sees samples (value, timestamp) of
 * the series a scrape returned; `rate()`, `for` and staleness depend on nothing else. The recorder
 * sent each scrape interval's requests at once, then scraped: counters count events, so that scrape
 * returned exactly what a scrape at the end of a real 30 s interval of the same traffic returns.
 * Here scrape k is given timestamp k x 30 s, the real scrape interval: every sample, its labels
 * (those of the exposition plus those Prometheus attaches to the target) and every gap between
 * samples is what Prometheus would store. A phase is recorded for a few intervals that must each
 * add the same count to every counter (checked here); the timeline continues that phase with the
 * same per-interval counts for its real length, as the same traffic would. Series appear when the
 * service first exports them (absent, `_`, before), exactly as in the recording.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { InputSeries } from './promtool';

export const FIXTURES = path.join(__dirname, 'fixtures', 'instrumented-service');

/** Requests of one 30 s scrape interval (see scenarios.json's comment). */
export interface Traffic {
  readonly ok?: number;
  readonly slow?: number;
  readonly error?: number;
  readonly clientError?: number;
  readonly probes?: number;
  readonly probeDelay?: number;
}

export interface Phase {
  readonly minutes: number;
  readonly traffic: Traffic;
}

export interface TrafficScenario {
  readonly description: string;
  readonly phases: readonly Phase[];
}

export interface ScenarioSettings {
  readonly scrapeIntervalSeconds: number;
  readonly recordedIntervalsPerPhase: number;
  readonly slowSeconds: number;
  readonly scenarios: { readonly [name: string]: TrafficScenario };
}

/** scenarios.json. */
export function scenarioSettings(): ScenarioSettings {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, 'scenarios.json'), 'utf8'));
}

type Labels = { readonly [label: string]: string };

/** One counter sample of an exposition. */
interface Sample {
  readonly metric: string;
  readonly labels: Labels;
  readonly value: number;
}

/** One recorded scrape: the phase whose traffic preceded it (-1: none yet) and its counter samples by series. */
interface Scrape {
  readonly phase: number;
  readonly samples: ReadonlyMap<string, Sample>;
}

/**
 * The counter samples of a text exposition: `_total`, `_bucket` and `_count` (a histogram's `_sum`
 * is a float total of latencies that differs between two runs of the same traffic; no rule reads it).
 */
export function parseExposition(text: string): Map<string, Sample> {
  const samples = new Map<string, Sample>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const key = line.slice(0, space);
    const brace = key.indexOf('{');
    const metric = brace < 0 ? key : key.slice(0, brace);
    if (!/_(total|bucket|count)$/.test(metric)) continue;
    const labels: { [label: string]: string } = {};
    if (brace >= 0) {
      for (const m of key.slice(brace + 1, -1).matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[m[1]] = m[2].replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    samples.set(key, { metric, labels, value: Number(line.slice(space + 1)) });
  }
  return samples;
}

/** A recording: `<scenario>.prom`, one exposition per scrape after a `# === scrape <k> phase <p|->` line. */
export function loadRecording(scenario: string, dir = FIXTURES): Scrape[] {
  const file = path.join(dir, `${scenario}.prom`);
  const cached = recordings.get(file);
  if (cached !== undefined) return cached;
  const scrapes = parseRecording(fs.readFileSync(file, 'utf8'));
  recordings.set(file, scrapes);
  return scrapes;
}

/** Parsed recordings by file: the tests read each several times. */
const recordings = new Map<string, Scrape[]>();

function parseRecording(text: string): Scrape[] {
  const parts = text.split(/^# === scrape \d+ phase (\S+)\n/m);
  const scrapes: Scrape[] = [];
  for (let i = 1; i < parts.length; i += 2) {
    scrapes.push({ phase: parts[i] === '-' ? -1 : Number(parts[i]), samples: parseExposition(parts[i + 1]) });
  }
  return scrapes;
}

/** What one scrape interval of each phase adds to each series (a series missing from a phase: absent during it). */
export interface PhaseCounts {
  /** Series exported during the phase, to what one interval adds to them. */
  readonly deltas: ReadonlyMap<string, number>;
}

/** Per phase, what each interval adds; throws unless every recorded interval of a phase adds the same. */
export function phaseCounts(scenario: string, settings: ScenarioSettings, dir = FIXTURES): PhaseCounts[] {
  const scrapes = loadRecording(scenario, dir);
  const phases = settings.scenarios[scenario].phases;
  const expected = 1 + phases.length * settings.recordedIntervalsPerPhase;
  if (scrapes.length !== expected || scrapes[0].phase !== -1) {
    throw new Error(`${scenario}.prom: expected ${expected} scrapes, the first before any traffic; re-record it (record.py)`);
  }
  return phases.map((_phase, p) => {
    let deltas: Map<string, number> | undefined;
    for (let k = 1; k < scrapes.length; k++) {
      if (scrapes[k].phase !== p) continue;
      const d = new Map([...scrapes[k].samples].map(([key, s]) => [key, s.value - (scrapes[k - 1].samples.get(key)?.value ?? 0)]));
      if ([...scrapes[k - 1].samples.keys()].some((key) => !d.has(key))) throw new Error(`${scenario}.prom: a series vanished at scrape ${k}`);
      if (deltas !== undefined && JSON.stringify([...deltas]) !== JSON.stringify([...d])) {
        throw new Error(`${scenario}.prom: the intervals of phase ${p} differ (scrape ${k}); re-record it (record.py)`);
      }
      deltas = d;
    }
    return { deltas: deltas! };
  });
}

/** The Python that sees Debian's python3-fastapi, python3-uvicorn and python3-prometheus-client: `$PYTHON3`, else /usr/bin/python3. */
export function python3(): string {
  return process.env.PYTHON3 || '/usr/bin/python3';
}

/**
 * Records `scenarios` afresh into `dir` with record.py, in the background (about 1 to 2 s each).
 * Rejects, saying what to install, when the stand-in's Python packages are missing.
 */
export function recordScenarios(dir: string, scenarios: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(python3(), [path.join(FIXTURES, 'record.py'), '--out', dir, ...scenarios], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`${python3()}: ${e.message}`)); });
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status === 0) return resolve();
      if (/ModuleNotFoundError|ImportError/.test(output)) {
        return reject(new Error(`${python3()} cannot import what the stand-in service needs; its tests never skip. Install them with `
          + '`apt-get update && apt-get install -y --no-install-recommends python3-fastapi python3-uvicorn python3-prometheus-client`, '
          + `or set PYTHON3 to a Python that has them.\n${output}`));
      }
      reject(new Error(`record.py failed (${status}):\n${output}`));
    });
  });
}

/** The labels Prometheus attaches to every series of the scraped pod (ServiceMonitor target labels). */
export function targetLabels(namespace: string): Labels {
  return {
    namespace, service: 'knowledge-service', job: 'knowledge-service', endpoint: 'metrics', container: 'knowledge-service',
    pod: 'knowledge-service-6c9f7d8b4-x7k2p', instance: '10.42.1.17:8001',
  };
}

/** `metric{a="1", b="2"}`, label values escaped as PromQL strings. */
function selector(metric: string, labels: Labels): string {
  const quote = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${metric}{${Object.entries(labels).map(([k, v]) => `${k}="${quote(v)}"`).join(', ')}}`;
}

/**
 * The recording of `scenario` as promtool input series, one sample per scrape interval over the
 * whole length of its phases (sample 0: before any traffic), with the target labels added.
 */
export function replaySeries(scenario: string, settings: ScenarioSettings, target: Labels): InputSeries[] {
  const counts = phaseCounts(scenario, settings);
  const last = loadRecording(scenario).at(-1)!.samples;
  const perMinute = 60 / settings.scrapeIntervalSeconds;
  return [...last].map(([key, sample]) => {
    const values: string[] = ['_'];
    let value = 0;
    settings.scenarios[scenario].phases.forEach((phase, p) => {
      const delta = counts[p].deltas.get(key);
      for (let i = 0; i < phase.minutes * perMinute; i++) {
        // Not exported during the phase: not created yet (a counter, once created, stays; phaseCounts checks it).
        if (delta === undefined) {
          values.push('_');
        } else {
          value += delta;
          values.push(String(value));
        }
      }
    });
    return { series: selector(sample.metric, { ...sample.labels, ...target }), values: values.join(' ') };
  });
}

/** Seconds from the start of `scenario` to the start of its phase `p`. */
export function phaseStart(scenario: TrafficScenario, p: number): number {
  return scenario.phases.slice(0, p).reduce((s, phase) => s + phase.minutes * 60, 0);
}

/** Length of `scenario` in seconds. */
export function scenarioLength(scenario: TrafficScenario): number {
  return phaseStart(scenario, scenario.phases.length);
}

/**
 * Per interval of phase `p`, the sum over the series matching `match` of what the interval adds:
 * what a ratio of rates over a window inside the phase computes.
 */
export function phaseSum(scenario: string, settings: ScenarioSettings, p: number, match: (s: Sample) => boolean): number {
  const last = loadRecording(scenario).at(-1)!.samples;
  let sum = 0;
  for (const [key, delta] of phaseCounts(scenario, settings)[p].deltas) {
    if (match(last.get(key)!)) sum += delta;
  }
  return sum;
}
