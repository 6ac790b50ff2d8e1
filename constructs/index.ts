// The public surface of the KCP construct library: named exports only.
export { APP_LABEL, recommendedLabels, selectorLabels } from './labels';
export type { LabelSet, RecommendedLabelOptions } from './labels';
export { COLOUR_LABEL, Microservice } from './microservice';
export type {
  AutoscalingOptions, ContainerResources, MicroserviceProps, ProbeTimings, ResourceQuantities, WorkloadVariant,
} from './microservice';
export { PodSecurityLevel, SecureNamespace } from './namespace';
export type { SecureNamespaceProps } from './namespace';
export { TlsIngress } from './ingress';
export type { TlsIngressProps } from './ingress';
export {
  DEFAULT_RUN_AS, hardenPodTemplate, restrictedContainerSecurity, restrictedPodSecurity,
} from './security';
export type { PodTemplateOptions, RestrictedSecurityOptions } from './security';
export {
  PropsError, assertValid, checkDnsLabel, checkDnsSubdomain, checkImageTag, checkInteger, checkPort, checkQuantity,
  parseQuantity,
} from './validation';
export { Colour, IdleSize, ReleaseStrategy, otherColour } from './release-strategy';
export type { BlueGreenOptions, RollingOptions } from './release-strategy';
export { SMOKE_TEST_APP, SmokeTest } from './smoke-test';
export type { SmokeTestProps } from './smoke-test';
