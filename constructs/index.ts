// The public surface of the KCP construct library: named exports only.
export { APP_LABEL, recommendedLabels, selectorLabels } from './labels';
export type { LabelSet, RecommendedLabelOptions } from './labels';
export { Microservice } from './microservice';
export type {
  ContainerResources, MicroserviceProps, ProbeTimings, ResourceQuantities, WorkloadVariant,
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
export type { RestrictedSecurityOptions } from './security';
export {
  PropsError, assertValid, checkCidr, checkDnsLabel, checkDnsSubdomain, checkImageTag, checkInteger, checkPodLabels, checkPort,
  checkQuantity, parseQuantity,
} from './validation';
