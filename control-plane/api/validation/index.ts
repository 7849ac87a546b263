// Validation of whole objects, for create, update and apply: returns every violation as a
// FieldCause (empty when valid), so the caller raises one Invalid error listing them all.
import type { AnyObject, KindInfo } from '../../../proto/api/kinds.js';
import type { FieldCause } from '../../../proto/gen/skiff/v1/api.js';
import type { Deployment, ReplicaSet } from '../../../proto/gen/skiff/v1/apps.js';
import { Pod as PodMsg, type Node, type Pod, type Service } from '../../../proto/gen/skiff/v1/core.js';
import { applyDefaults } from '../defaults.js';
import type { EndpointSlice } from '../../../proto/gen/skiff/v1/discovery.js';
import type { Lease } from '../../../proto/gen/skiff/v1/coordination.js';
import type { ConfigMap, Secret } from '../../../proto/gen/skiff/v1/config.js';
import { validateDeployment, validateReplicaSet, validateSelectorUnchanged } from './apps.js';
import type { HorizontalPodAutoscaler } from '../../../proto/gen/skiff/v1/autoscaling.js';
import { validateHorizontalPodAutoscaler } from './autoscaling.js';
import { Causes } from './causes.js';
import { validateConfigMap, validateConfigMapUpdate, validateSecret, validateSecretUpdate } from './config.js';
import { validateObjectMeta } from './meta.js';
import { validateEndpointSlice, validateEndpointSliceUpdate } from './discovery.js';
import { validatePodSpec } from './pod.js';
import { validateEnforceLabel } from './pod-security.js';
import { validatePodUpdate } from './pod-update.js';
import { validateService, validateServiceUpdate } from './service.js';
import { parseCidr } from '../../../proto/api/cidr.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../../proto/gen/skiff/v1/storage.js';
import {
  validatePersistentVolume, validatePersistentVolumeClaim, validatePersistentVolumeClaimUpdate, validatePersistentVolumeUpdate,
  validateStorageClass, validateStorageClassUpdate,
} from './storage.js';

import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '../../../proto/gen/skiff/v1/rbac.js';
import { validateBindingUpdate, validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from './rbac.js';
import type { CertificateSigningRequest } from '../../../proto/gen/skiff/v1/certificates.js';
import { validateCertificateSigningRequest, validateCertificateSigningRequestUpdate } from './certificates.js';

export { Causes } from './causes.js';

export function validateObject(info: KindInfo, o: AnyObject, source = ''): FieldCause[] {
  const c = new Causes(source);
  validateObjectMeta(info, o.metadata, c);
  switch (info.kind) {
    case 'Pod':
      validatePodSpec((o as Pod).spec, 'spec', c);
      break;
    case 'Deployment':
      validateDeployment(o as Deployment, c);
      break;
    case 'ReplicaSet':
      validateReplicaSet(o as ReplicaSet, c);
      break;
    case 'Service':
      validateService(o as Service, c);
      break;
    case 'EndpointSlice':
      validateEndpointSlice(o as EndpointSlice, c);
      break;
    case 'PersistentVolumeClaim':
      validatePersistentVolumeClaim(o as PersistentVolumeClaim, c);
      break;
    case 'PersistentVolume':
      validatePersistentVolume(o as PersistentVolume, c);
      break;
    case 'StorageClass':
      validateStorageClass(o as StorageClass, c);
      break;
    case 'ConfigMap':
      validateConfigMap(o as ConfigMap, c);
      break;
    case 'Secret':
      validateSecret(o as Secret, c);
      break;
    case 'Node':
      (o as Node).spec?.taints.forEach((t, i) => {
        if (!t.key) c.add(`spec.taints[${i}].key`, 'required');
        if (!['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
          c.add(`spec.taints[${i}].effect`, `unsupported value "${t.effect}": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`);
        }
      });
      validateNodeCidrs(o as Node, c);
      break;
    case 'Namespace':
      validateEnforceLabel(o.metadata?.labels, c);
      break;
    case 'HorizontalPodAutoscaler':
      validateHorizontalPodAutoscaler(o as HorizontalPodAutoscaler, c);
      break;
    case 'Role':
      validateRole(o as Role, c);
      break;
    case 'ClusterRole':
      validateClusterRole(o as ClusterRole, c);
      break;
    case 'RoleBinding':
      validateRoleBinding(o as RoleBinding, c);
      break;
    case 'ClusterRoleBinding':
      validateClusterRoleBinding(o as ClusterRoleBinding, c);
      break;
    case 'CertificateSigningRequest':
      validateCertificateSigningRequest(o as CertificateSigningRequest, c);
      break;
    case 'Lease': {
      const d = (o as Lease).spec?.leaseDurationSeconds;
      if (d !== undefined && d <= 0) c.add('spec.leaseDurationSeconds', 'must be greater than 0');
      break;
    }
    default:
      break;
  }
  return c.list;
}

/** Rules that compare an update with the stored object, on top of validateObject. */
export function validateUpdate(info: KindInfo, o: AnyObject, old: AnyObject, source = ''): FieldCause[] {
  const c = new Causes(source);
  if (info.kind === 'Deployment' || info.kind === 'ReplicaSet') {
    validateSelectorUnchanged((o as Deployment).spec?.selector, (old as Deployment).spec?.selector, c);
  }
  if (info.kind === 'Service') validateServiceUpdate(o as Service, old as Service, c);
  if (info.kind === 'EndpointSlice') validateEndpointSliceUpdate(o as EndpointSlice, old as EndpointSlice, c);
  if (info.kind === 'PersistentVolumeClaim') validatePersistentVolumeClaimUpdate(o as PersistentVolumeClaim, old as PersistentVolumeClaim, c);
  if (info.kind === 'PersistentVolume') validatePersistentVolumeUpdate(o as PersistentVolume, old as PersistentVolume, c);
  if (info.kind === 'StorageClass') validateStorageClassUpdate(o as StorageClass, old as StorageClass, c);
  if (info.kind === 'ConfigMap') validateConfigMapUpdate(o as ConfigMap, old as ConfigMap, c);
  if (info.kind === 'Secret') validateSecretUpdate(o as Secret, old as Secret, c);
  if (info.kind === 'RoleBinding' || info.kind === 'ClusterRoleBinding') validateBindingUpdate(o as RoleBinding, old as RoleBinding, c);
  if (info.kind === 'CertificateSigningRequest') validateCertificateSigningRequestUpdate(o as CertificateSigningRequest, old as CertificateSigningRequest, c);
  if (info.kind === 'Pod') {
    // Both compared as today's defaults see them: a pod stored before a default existed (or
    // written without defaults) must not look changed where no one changed it.
    const defaulted = (p: Pod): Pod => {
      const d = PodMsg.fromPartial(p);
      applyDefaults(info, d);
      return d;
    };
    validatePodUpdate(defaulted(o as Pod), defaulted(old as Pod), c);
  }
  if (info.kind === 'Node') {
    // As Kubernetes: a node's range is set once (by its agent or the node IPAM controller);
    // routes and pod IPs already depend on it.
    const was = (old as Node).spec?.podCIDR ?? '';
    const now = (o as Node).spec?.podCIDR ?? '';
    if (was && now !== was) c.add('spec.podCIDR', `node updates may not change podCIDR except from "" to valid (it is "${was}")`);
  }
  return [...validateObject(info, o, source), ...c.list];
}

function validateNodeCidrs(n: Node, c: Causes): void {
  const spec = n.spec;
  if (!spec) return;
  if (spec.podCIDR) {
    const r = parseCidr(spec.podCIDR);
    if (typeof r === 'string') c.add('spec.podCIDR', r);
  }
  spec.podCIDRs.forEach((x, i) => {
    const r = parseCidr(x);
    if (typeof r === 'string') c.add(`spec.podCIDRs[${i}]`, r);
  });
  if (spec.podCIDRs.length > 1) c.add('spec.podCIDRs', 'only one IPv4 range is supported (no dual-stack)');
  if (spec.podCIDRs.length > 0 && spec.podCIDRs[0] !== spec.podCIDR) {
    c.add('spec.podCIDRs[0]', `must equal spec.podCIDR "${spec.podCIDR}"`);
  }
}
