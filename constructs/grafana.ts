/**
 * Grafana dashboards as typed code: a small model of the dashboard JSON (schema version 39) with a
 * builder that lays panels out and numbers them, and a ConfigMap the Grafana sidecar of
 * kube-prometheus-stack loads (label `grafana_dashboard: "1"`).
 */
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LabelSet } from './labels';
import { assertValid, checkDnsSubdomain, PropsError } from './validation';

/** A reference to a Grafana data source. */
export interface DataSourceRef {
  readonly type: 'prometheus';
  readonly uid: string;
}

/** The `datasource` template variable every panel queries through. */
export const PROMETHEUS_DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** Units of panel values (Grafana unit ids). */
export enum PanelUnit {
  REQUESTS_PER_SECOND = 'reqps',
  /** A ratio from 0 to 1, shown as a percentage. */
  PERCENT_UNIT = 'percentunit',
  SECONDS = 's',
  BYTES = 'bytes',
  /** CPU cores. */
  CORES = 'short',
  /** A plain count (pods, replicas). */
  COUNT = 'none',
}

/** One PromQL query of a panel. */
export interface PanelQuery {
  /** PromQL; may use the dashboard's variables (`$namespace`, `$service`) and `$__rate_interval`. */
  readonly expr: string;
  /** Series legend, e.g. `{{service}} p95`. */
  readonly legend: string;
}

/** What a time-series panel shows. */
export interface TimeSeriesPanelOptions {
  readonly title: string;
  /** Tooltip of the panel title. */
  readonly description: string;
  readonly unit: PanelUnit;
  readonly queries: readonly PanelQuery[];
  /** Lower bound of the y axis. @default - automatic */
  readonly min?: number;
  /** Upper bound of the y axis. @default - automatic */
  readonly max?: number;
}

/** A query template variable. */
export interface QueryVariableOptions {
  /** Variable name, used as `$name` in queries. */
  readonly name: string;
  readonly label: string;
  /** Grafana query, e.g. `label_values(up, namespace)`. */
  readonly query: string;
  /** Value selected when the dashboard opens. @default - the first value */
  readonly defaultValue?: string;
  /** Whether several values (and "All") can be selected. @default false */
  readonly multi?: boolean;
}

/** Dashboard JSON types (the subset this library writes). */
export interface DashboardJson {
  readonly uid: string;
  readonly title: string;
  readonly tags: readonly string[];
  readonly timezone: 'utc' | 'browser';
  readonly editable: boolean;
  readonly graphTooltip: number;
  readonly refresh: string;
  readonly schemaVersion: number;
  readonly version: number;
  readonly time: { readonly from: string; readonly to: string };
  readonly annotations: { readonly list: readonly unknown[] };
  readonly templating: { readonly list: readonly VariableJson[] };
  readonly panels: readonly PanelJson[];
}

/** A template variable as Grafana stores it. */
export interface VariableJson {
  readonly name: string;
  readonly label: string;
  readonly type: 'datasource' | 'query';
  readonly query: string | { readonly query: string; readonly refId: string };
  /** Data source the query runs against. @default - none (a datasource variable) */
  readonly datasource?: DataSourceRef;
  /** The query as shown in the editor. @default - none */
  readonly definition?: string;
  /** Selected value when the dashboard loads. @default - Grafana picks the first */
  readonly current?: { readonly text: string; readonly value: string };
  /** Offer an "All" option. @default false */
  readonly includeAll?: boolean;
  /** Value of the "All" option. @default - every value joined */
  readonly allValue?: string;
  /** Allow several values at once. @default false */
  readonly multi?: boolean;
  /** When to reload the values (1: on dashboard load, 2: on time range change). @default - never */
  readonly refresh?: number;
  /** Sort order of the values (1: alphabetical ascending). @default - query order */
  readonly sort?: number;
  /** 0: shown, 1: label hidden, 2: variable hidden. */
  readonly hide: number;
}

/** A panel as Grafana stores it. */
export interface PanelJson {
  readonly id: number;
  readonly type: 'timeseries';
  readonly title: string;
  readonly description: string;
  readonly datasource: DataSourceRef;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly fieldConfig: {
    readonly defaults: { readonly unit: string; readonly min?: number; readonly max?: number };
    readonly overrides: readonly unknown[];
  };
  readonly options: { readonly legend: { readonly displayMode: 'list'; readonly placement: 'bottom'; readonly showLegend: boolean } };
  readonly targets: ReadonlyArray<{
    readonly refId: string;
    readonly datasource: DataSourceRef;
    readonly expr: string;
    readonly legendFormat: string;
  }>;
}

/** Properties of a {@link Dashboard}. */
export interface DashboardProps {
  /** Stable dashboard uid (at most 40 characters): Grafana links and provisioning key on it. */
  readonly uid: string;
  readonly title: string;
  /** @default - none */
  readonly tags?: readonly string[];
  /** Auto-refresh interval. @default '30s' */
  readonly refresh?: string;
  /** Time range shown when opened. @default 'now-6h' */
  readonly from?: string;
  /** Panels per row (each panel is 24 / columns wide). @default 2 */
  readonly columns?: number;
}

/**
 * A dashboard under construction: template variables and time-series panels, laid out left to
 * right in rows of `columns`, numbered in the order they are added. Not a construct; see
 * {@link GrafanaDashboard} to deploy one.
 */
export class Dashboard {
  /** Stable uid. */
  public readonly uid: string;
  private readonly props: DashboardProps;
  private readonly variables: VariableJson[] = [{
    name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', hide: 0,
  }];
  private readonly panels: PanelJson[] = [];

  constructor(props: DashboardProps) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(props.uid)) {
      throw new PropsError('Dashboard', 'uid', props.uid, 'must be 1 to 40 letters, digits, "-" or "_"');
    }
    const columns = props.columns ?? 2;
    if (!Number.isInteger(columns) || columns < 1 || 24 % columns !== 0) {
      throw new PropsError('Dashboard', 'columns', props.columns, 'must divide the 24-column grid (1, 2, 3, 4, 6, 8, 12 or 24)');
    }
    this.uid = props.uid;
    this.props = props;
  }

  /** Adds a query variable, usable as `$<name>` in later queries. */
  public addVariable(o: QueryVariableOptions): void {
    if (this.variables.some((v) => v.name === o.name)) throw new PropsError('Dashboard', 'variable', o.name, 'must be unique');
    this.variables.push({
      name: o.name,
      label: o.label,
      type: 'query',
      datasource: PROMETHEUS_DATASOURCE,
      query: { query: o.query, refId: `${o.name}-query` },
      definition: o.query,
      current: o.defaultValue === undefined ? undefined : { text: o.defaultValue, value: o.defaultValue },
      includeAll: o.multi ?? false,
      // "All" as a regex rather than every value enumerated, so matchers stay short.
      allValue: o.multi ? '.+' : undefined,
      multi: o.multi ?? false,
      refresh: 2, // on time-range change
      sort: 1,
      hide: 0,
    });
  }

  /** Adds a time-series panel in the next free grid cell. */
  public addPanel(o: TimeSeriesPanelOptions): void {
    if (o.queries.length === 0) throw new PropsError('Dashboard', `panel ${o.title} queries`, [], 'must not be empty');
    const columns = this.props.columns ?? 2;
    const index = this.panels.length;
    const w = Math.floor(24 / columns);
    const h = 8;
    this.panels.push({
      id: index + 1,
      type: 'timeseries',
      title: o.title,
      description: o.description,
      datasource: PROMETHEUS_DATASOURCE,
      gridPos: { x: (index % columns) * w, y: Math.floor(index / columns) * h, w, h },
      fieldConfig: { defaults: { unit: o.unit, min: o.min, max: o.max }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true } },
      targets: o.queries.map((q, i) => ({
        refId: String.fromCharCode(65 + i),
        datasource: PROMETHEUS_DATASOURCE,
        expr: q.expr,
        legendFormat: q.legend,
      })),
    });
  }

  /** Every PromQL query of the panels, in order. */
  public queries(): string[] {
    return this.panels.flatMap((p) => p.targets.map((t) => t.expr));
  }

  /** The dashboard model Grafana imports. */
  public toJson(): DashboardJson {
    return {
      uid: this.uid,
      title: this.props.title,
      tags: [...(this.props.tags ?? [])],
      timezone: 'utc',
      editable: false,
      graphTooltip: 1, // shared crosshair
      refresh: this.props.refresh ?? '30s',
      schemaVersion: 39,
      version: 1,
      time: { from: this.props.from ?? 'now-6h', to: 'now' },
      annotations: { list: [] },
      templating: { list: [...this.variables] },
      panels: [...this.panels],
    };
  }
}

/** Properties of a {@link GrafanaDashboard}. */
export interface GrafanaDashboardProps {
  /** Exact ConfigMap name. */
  readonly name: string;
  /** The dashboard. */
  readonly dashboard: Dashboard;
  /** Further labels of the ConfigMap. @default - none */
  readonly labels?: LabelSet;
}

/**
 * A ConfigMap holding one dashboard as `<uid>.json`, labelled `grafana_dashboard: "1"` so the
 * Grafana dashboard sidecar (kube-prometheus-stack) loads it. The sidecar must watch this
 * namespace (`grafana.sidecar.dashboards.searchNamespace`).
 */
export class GrafanaDashboard extends Construct {
  /** Label (and value) the Grafana sidecar looks for. */
  public static readonly SIDECAR_LABEL: LabelSet = { grafana_dashboard: '1' };
  /** The ConfigMap. */
  public readonly configMap: kplus.ConfigMap;

  constructor(scope: Construct, id: string, props: GrafanaDashboardProps) {
    super(scope, id);
    assertValid(`GrafanaDashboard ${props.name ?? id}`, 'name', props.name, checkDnsSubdomain(props.name));
    this.configMap = new kplus.ConfigMap(this, 'Resource', {
      metadata: { name: props.name, labels: { ...props.labels, ...GrafanaDashboard.SIDECAR_LABEL } },
      // JSON.stringify leaves unset (undefined) optional fields out.
      data: { [`${props.dashboard.uid}.json`]: `${JSON.stringify(props.dashboard.toJson(), null, 2)}\n` },
    });
  }
}

