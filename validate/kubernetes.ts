/**
 * The Kubernetes API the manifests are written for, and how the schemas of the `kubernetes-models`
 * npm package map onto it.
 *
 * `kubernetes-models` 4.5.1 is generated from the Kubernetes **v1.33.0** OpenAPI document merged
 * with older releases' documents, so that removed APIs (extensions/v1beta1, policy/v1beta1, ...) keep
 * their models (see its CHANGELOG, "Update schema version to v1.33.0", and scripts/generate.ts). Its
 * README badge still says 1.27.1; the schemas themselves contain 1.29–1.33 fields such as
 * `appArmorProfile`. The cluster runs **1.28**, so the gate narrows those schemas to 1.28:
 *
 * - only the apiVersion/kind pairs that Kubernetes 1.28 serves are accepted ({@link KUBERNETES_KINDS});
 * - fields that the 1.33 schemas know but 1.28 does not are reported ({@link FIELD_DELTAS});
 * - fields that 1.28 has but the compiled validators cannot see are accepted ({@link FIELD_DELTAS}).
 *
 * Both tables were derived by comparing the package's validators with the Kubernetes v1.28.0 OpenAPI
 * definitions, type by type; test/gate/schema.test.ts proves every entry still matches the package.
 */

/** The Kubernetes minor version the manifests target. */
export const KUBERNETES_VERSION = '1.28';

/** The npm package and version whose schemas the gate uses, and what they were generated from. */
export const SCHEMA_SOURCE = {
  package: 'kubernetes-models',
  version: '4.5.1',
  generatedFrom: 'Kubernetes v1.33.0 OpenAPI (merged with removed APIs of older releases), narrowed to 1.28 by the gate',
} as const;

/**
 * apiVersion -> kinds served by Kubernetes 1.28 (GA and default-on beta APIs) that `kubernetes-models`
 * has a schema for. Alpha APIs and APIs removed before 1.28 (extensions/v1beta1, policy/v1beta1,
 * batch/v1beta1, autoscaling/v2beta2, ...) and APIs added after it (flowcontrol/v1,
 * admissionregistration/v1 ValidatingAdmissionPolicy, networking/v1 ServiceCIDR, ...) are absent on
 * purpose: the 1.28 API server would reject them.
 */
export const KUBERNETES_KINDS: { readonly [apiVersion: string]: readonly string[] } = {
  'v1': [
    'Binding', 'ComponentStatus', 'ConfigMap', 'Endpoints', 'Event', 'LimitRange', 'Namespace', 'Node',
    'PersistentVolume', 'PersistentVolumeClaim', 'Pod', 'PodTemplate', 'ReplicationController', 'ResourceQuota',
    'Secret', 'Service', 'ServiceAccount',
  ],
  'admissionregistration.k8s.io/v1': ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'],
  'apiextensions.k8s.io/v1': ['CustomResourceDefinition'],
  'apiregistration.k8s.io/v1': ['APIService'],
  'apps/v1': ['ControllerRevision', 'DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet'],
  'authentication.k8s.io/v1': ['SelfSubjectReview', 'TokenRequest', 'TokenReview'],
  'authorization.k8s.io/v1': ['LocalSubjectAccessReview', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SubjectAccessReview'],
  'autoscaling/v1': ['HorizontalPodAutoscaler', 'Scale'],
  'autoscaling/v2': ['HorizontalPodAutoscaler'],
  'batch/v1': ['CronJob', 'Job'],
  'certificates.k8s.io/v1': ['CertificateSigningRequest'],
  'coordination.k8s.io/v1': ['Lease'],
  'discovery.k8s.io/v1': ['EndpointSlice'],
  'events.k8s.io/v1': ['Event'],
  'flowcontrol.apiserver.k8s.io/v1beta2': ['FlowSchema', 'PriorityLevelConfiguration'],
  'flowcontrol.apiserver.k8s.io/v1beta3': ['FlowSchema', 'PriorityLevelConfiguration'],
  'networking.k8s.io/v1': ['Ingress', 'IngressClass', 'NetworkPolicy'],
  'node.k8s.io/v1': ['RuntimeClass'],
  'policy/v1': ['Eviction', 'PodDisruptionBudget'],
  'rbac.authorization.k8s.io/v1': ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'],
  'scheduling.k8s.io/v1': ['PriorityClass'],
  'storage.k8s.io/v1': ['CSIDriver', 'CSINode', 'CSIStorageCapacity', 'StorageClass', 'VolumeAttachment'],
};

/** Built-in kinds that are cluster-scoped (everything else in {@link KUBERNETES_KINDS} is namespaced). */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'APIService', 'CertificateSigningRequest', 'ClusterRole', 'ClusterRoleBinding', 'ComponentStatus', 'CSIDriver',
  'CSINode', 'CustomResourceDefinition', 'FlowSchema', 'IngressClass', 'MutatingWebhookConfiguration', 'Namespace',
  'Node', 'PersistentVolume', 'PriorityClass', 'PriorityLevelConfiguration', 'RuntimeClass', 'SelfSubjectAccessReview',
  'SelfSubjectReview', 'SelfSubjectRulesReview', 'StorageClass', 'SubjectAccessReview', 'TokenReview',
  'ValidatingWebhookConfiguration', 'VolumeAttachment',
]);

/** How one schema type of `kubernetes-models` differs from the same type in Kubernetes 1.28. */
export interface FieldDelta {
  /** The model module below `kubernetes-models/`, e.g. `v1/SecurityContext`. */
  readonly type: string;
  /** Fields the package's (1.33) schema has but Kubernetes 1.28 does not: reported as errors. */
  readonly notIn128?: readonly string[];
  /**
   * Fields Kubernetes 1.28 has but the package's compiled validator never looks at (its generator
   * drops properties named `description` and `x-kubernetes-*`, and 1.28-only fields that later
   * releases removed): accepted without a type check rather than reported as unknown.
   */
  readonly unchecked?: readonly string[];
}

/** Every manifest type whose fields differ between `kubernetes-models` 4.5.1 and Kubernetes 1.28. */
export const FIELD_DELTAS: readonly FieldDelta[] = [
  // Pod templates: what a workload manifest can hit.
  { type: 'v1/SecurityContext', notIn128: ['appArmorProfile'] },
  { type: 'v1/PodSecurityContext', notIn128: ['appArmorProfile', 'seLinuxChangePolicy', 'supplementalGroupsPolicy'] },
  { type: 'v1/PodSpec', notIn128: ['resources'] },
  { type: 'v1/Lifecycle', notIn128: ['stopSignal'] },
  { type: 'v1/LifecycleHandler', notIn128: ['sleep'] },
  { type: 'v1/VolumeMount', notIn128: ['recursiveReadOnly'] },
  { type: 'v1/Volume', notIn128: ['image'] },
  { type: 'v1/VolumeProjection', notIn128: ['clusterTrustBundle'] },
  { type: 'v1/PodAffinityTerm', notIn128: ['matchLabelKeys', 'mismatchLabelKeys'] },
  { type: 'v1/ResourceClaim', notIn128: ['request'] },
  { type: 'v1/PodResourceClaim', notIn128: ['resourceClaimName', 'resourceClaimTemplateName'], unchecked: ['source'] },
  { type: 'v1/PersistentVolumeClaimSpec', notIn128: ['volumeAttributesClassName'] },
  { type: 'v1/PersistentVolumeSpec', notIn128: ['volumeAttributesClassName'] },
  { type: 'v1/ServiceSpec', notIn128: ['trafficDistribution'] },
  { type: 'batch/v1/JobSpec', notIn128: ['managedBy', 'successPolicy'] },
  { type: 'autoscaling/v2/HPAScalingRules', notIn128: ['tolerance'] },
  { type: 'coordination.k8s.io/v1/LeaseSpec', notIn128: ['preferredHolder', 'strategy'] },
  { type: 'storage.k8s.io/v1/CSIDriverSpec', notIn128: ['nodeAllocatableUpdatePeriodSeconds'] },
  { type: 'authorization.k8s.io/v1/ResourceAttributes', notIn128: ['fieldSelector', 'labelSelector'] },
  { type: 'apiextensions.k8s.io/v1/CustomResourceDefinitionVersion', notIn128: ['selectableFields'] },
  { type: 'apiextensions.k8s.io/v1/ValidationRule', notIn128: ['optionalOldSelf'] },
  // Status types: set by controllers, listed so that a copied live object is judged correctly.
  { type: 'apps/v1/DeploymentStatus', notIn128: ['terminatingReplicas'] },
  { type: 'apps/v1/ReplicaSetStatus', notIn128: ['terminatingReplicas'] },
  { type: 'v1/PodStatus', notIn128: ['observedGeneration'] },
  { type: 'v1/PodCondition', notIn128: ['observedGeneration'] },
  { type: 'v1/ContainerStatus', notIn128: ['allocatedResourcesStatus', 'stopSignal', 'user', 'volumeMounts'] },
  { type: 'v1/LoadBalancerIngress', notIn128: ['ipMode'] },
  { type: 'v1/NodeStatus', notIn128: ['features', 'runtimeHandlers'] },
  { type: 'v1/NodeSystemInfo', notIn128: ['swap'] },
  { type: 'v1/PersistentVolumeClaimStatus', notIn128: ['currentVolumeAttributesClassName', 'modifyVolumeStatus'] },
  { type: 'discovery.k8s.io/v1/EndpointHints', notIn128: ['forNodes'] },
  { type: 'storage.k8s.io/v1/VolumeError', notIn128: ['errorCode'] },
  // Fields 1.28 has that the compiled validators cannot see.
  { type: 'scheduling.k8s.io/v1/PriorityClass', unchecked: ['description'] },
  { type: 'apiextensions.k8s.io/v1/CustomResourceColumnDefinition', unchecked: ['description'] },
  { type: 'apiextensions.k8s.io/v1/ExternalDocumentation', unchecked: ['description'] },
  {
    type: 'apiextensions.k8s.io/v1/JSONSchemaProps',
    unchecked: [
      'description', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string', 'x-kubernetes-list-map-keys',
      'x-kubernetes-list-type', 'x-kubernetes-map-type', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-validations',
    ],
  },
  { type: 'flowcontrol.apiserver.k8s.io/v1beta2/PriorityLevelConfigurationSpec', unchecked: ['exempt'] },
];
