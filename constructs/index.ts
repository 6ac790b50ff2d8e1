// The public surface of the KCP construct library: named exports only.
export { APP_LABEL, recommendedLabels, selectorLabels } from './labels';
export type { LabelSet, RecommendedLabelOptions } from './labels';
export { Microservice } from './microservice';
export type {
  ContainerResources, MicroserviceProps, ProbeTimings, ResourceQuantities, WorkloadVariant,
} from './microservice';
export { PodSecurityLevel, SecureNamespace } from './namespace';
export type { SecureNamespaceProps } from './namespace';
export { TlsIngress } from './ingress';
export type { TlsIngressProps } from './ingress';
export {
  DEFAULT_RUN_AS, hardenPodTemplate, restrictedContainerSecurity, restrictedPodSecurity,
} from './security';
export type { RestrictedSecurityOptions } from './security';
export {
  PropsError, assertValid, checkDnsLabel, checkDnsSubdomain, checkImageTag, checkInteger, checkPort, checkQuantity,
  parseQuantity,
} from './validation';
