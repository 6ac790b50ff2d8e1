// The public surface of the KCP construct library: named exports only.
export { Conventions, findLibraryAnnotation, LIBRARY_ANNOTATIONS } from './conventions';
export type { ConventionsProps, LibraryAnnotation } from './conventions';
export { recommendedLabels, selectorLabels } from './labels';
export type { LabelSet, RecommendedLabelOptions } from './labels';
export { Microservice } from './microservice';
export type {
  AutoscalingOptions, ContainerResources, MetricsOptions, MicroserviceProps, ProbeTimings, ResourceQuantities, WorkloadVariant,
} from './microservice';
export {
  ALLOW_DNS_POLICY, DEFAULT_DENY_POLICY, EndpointRole, NAMESPACE_NAME_LABEL, NetworkPeer, NetworkPort, NetworkProtocol,
  TrafficPeer, ZeroTrustNetwork,
} from './network';
export type { ConnectOptions, INetworkEndpoint, TrafficEdge, TrafficPeerProps, ZeroTrustNetworkProps } from './network';
export { PodSecurityLevel, SecureNamespace } from './namespace';
export type { SecureNamespaceProps } from './namespace';
export { TlsIngress } from './ingress';
export type { TlsIngressProps } from './ingress';
export {
  CredentialsSecret, ExternalSecret, ExternalSecretApiVersion, SecretSource, SecretSourceKind, SecretStoreKind, SecretStoreRef,
} from './secrets';
export type {
  CredentialsSecretProps, ExternalSecretProps, ExternalSecretSourceOptions, ExternalSecretSpec, RemoteRef,
} from './secrets';
export {
  DEFAULT_RUN_AS, hardenPodTemplate, restrictedContainerSecurity, restrictedPodSecurity,
} from './security';
export type { PodTemplateOptions, RestrictedSecurityOptions } from './security';
export {
  PropsError, assertValid, checkCidr, checkDnsLabel, checkDnsSubdomain, checkImageTag, checkInteger, checkLabelKey, checkLabelValue,
  checkPodLabels, checkPort, checkPromDuration, checkQuantity, parseQuantity,
} from './validation';
export {
  Quantity, checkQuantityNotAbove, checkResourceQuantity, compareQuantities, formatQuantity, renderResourceQuantity,
} from './quantity';
export type { QuantityFormat, QuantityParse, ResourceKind } from './quantity';
export { Colour, IdleSize, ReleaseStrategy, otherColour } from './release-strategy';
export type { BlueGreenOptions, RollingOptions } from './release-strategy';
export { SMOKE_TEST_APP, SMOKE_TEST_RESOURCES, SmokeTest, smokeTestInstance } from './smoke-test';
export type { SmokeTestProps, SmokeTestTarget } from './smoke-test';
export {
  KubePrometheusRule, KubeProbe, KubeServiceMonitor,
} from './prometheus-operator';
export type {
  KubePrometheusRuleProps, KubeProbeProps, KubeServiceMonitorProps, ProbeSpec, PrometheusRuleSpec, RuleGroupSpec, RuleSpec, ServiceMonitorEndpoint,
  ServiceMonitorSpec,
} from './prometheus-operator';
export { AlertGroup, AlertSeverity, PrometheusRules, WorkloadMonitor } from './monitoring';
export type { AlertGroupOptions, AlertRule, PrometheusRulesProps, WorkloadMonitorProps } from './monitoring';
export {
  checkRatio, checkRunbookUrlPattern, checkSeconds, HTTP_SERVICE_ALERTS, HttpServiceAlerts, RUNBOOK_PLACEHOLDER, RUNBOOK_SLUGS,
} from './http-alerts';
export type {
  AlertTuning, DurationAlertTuning, HttpServiceAlertName, HttpServiceAlertsProps, HttpServiceAlertTuning,
} from './http-alerts';
export { Dashboard, GrafanaDashboard, PanelUnit, PROMETHEUS_DATASOURCE } from './grafana';
export type {
  DashboardJson, DashboardProps, DataSourceRef, GrafanaDashboardProps, PanelJson, PanelQuery, QueryVariableOptions,
  TimeSeriesPanelOptions, VariableJson,
} from './grafana';
export { serviceOverviewDashboard } from './service-dashboard';
export type { ServiceOverviewOptions } from './service-dashboard';
export { errorRatio, SloBurnRateAlerts, SRE_WORKBOOK_WINDOWS } from './slo';
export type { BurnRateWindow, CounterSelector, ErrorRatioOptions, SloBurnRateAlertsProps, SloDefinition, SloEvents } from './slo';
export { ArgoRollout } from './rollout';
export type { ArgoRolloutProps, RolloutWorkload } from './rollout';
export {
  ANALYSIS_RUN_HISTORY, ARGO_ROLLOUTS_API_VERSION, argoDuration, CanaryStep, CanaryStepKind, checkCanarySteps, DEFAULT_CANARY_STEPS, describeCanarySteps,
  GATEWAY_API_PLUGIN, KubeAnalysisTemplate, KubeRollout, ROLLOUT_REVISION_METRIC_LABEL, ROLLOUT_REVISION_POD_LABEL, RolloutTrafficRouting,
  SLO_ANALYSIS_ARGS,
} from './argo-rollouts';
export { SloAnalysisTemplate } from './slo-analysis';
export type { SloAnalysisMetric, SloAnalysisTemplateProps } from './slo-analysis';
export type {
  AnalysisTemplateSpec, ArgoBlueGreenOptions, ArgoCanaryOptions, ArgoEngine, KubeAnalysisTemplateProps, KubeRolloutProps,
  RolloutAnalysisOptions, RolloutRouteBackend, RolloutSpec,
} from './argo-rollouts';
export { AvailabilityAlerts } from './availability';
export type { AvailabilityAlertsProps, AvailabilityTarget } from './availability';
export { UrlProbe } from './probe';
export type { UrlProbeProps } from './probe';
export { AccessSubject, API_VERBS, NamespaceAccess, resourceOf, rulesAllow, rulesFor } from './access';
export type { ApiRequest, ApiVerb, NamespaceAccessProps, PolicyRule } from './access';
export { NamespaceQuota, podsFootprint, resourceFigures, surgePods } from './quota';
export type { NamespaceQuotaProps, QuotaBudget, QuotaFootprint, ResourceFigures } from './quota';
export { alertsOf, AlertRouting } from './alert-routing';
export type { AlertReceiver, AlertRoute, AlertRoutingProps, EmailTarget, RuleAlert, SecretKey, SlackTarget } from './alert-routing';
export { renderRunbook } from './runbook';
export type { RunbookPage } from './runbook';
export { GatewayHttpRoutes } from './http-route';
export type { GatewayHttpRoutesProps, GatewayReference } from './http-route';
export { checkPathPrefix, MAX_BACKEND_WEIGHT, routeBackends } from './routing';
export type { IHttpRouter, IRouteTarget, RouteBackend, RouteOptions } from './routing';
export { sloVerificationChecks } from './slo-verification';
export type { SloVerificationCheck, SloVerificationOptions } from './slo-verification';
