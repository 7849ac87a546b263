// PersistentVolumeClaim, PersistentVolume and StorageClass rules (Kubernetes' storage
// validation, narrowed to what Skiff's provisioner and binder can carry out): a mode or
// provisioner nothing here acts on is refused with its field path instead of accepted and ignored.
import { isAbsolute } from 'node:path';
import type { NodeSelector, PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../../proto/gen/skiff/v1/storage.js';
import { parseQuantity, QuantityError } from '../../../proto/api/quantity.js';
import { ACCESS_MODES_SUPPORTED, LOCAL_PATH_PROVISIONER, NO_PROVISIONER } from '../../../proto/api/storage.js';
import { Causes, join } from './causes.js';
import { dns1123Subdomain } from './names.js';

const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
const PROVISIONERS = [LOCAL_PATH_PROVISIONER, NO_PROVISIONER];
const SELECTOR_OPS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'];

const notIn = (v: string, allowed: string[]): string => `unsupported value "${v}": supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`;

function storageQuantity(v: string | undefined, path: string, c: Causes): void {
  if (v === undefined) return c.add(path, 'required');
  try {
    if (parseQuantity(v).value <= 0) c.add(path, `Invalid value: "${v}": must be greater than zero`);
  } catch (e) {
    c.add(path, e instanceof QuantityError ? e.message : `Invalid value: "${v}": quantities must match the regular expression`);
  }
}

function onlyStorage(m: Record<string, string>, path: string, c: Causes): void {
  for (const k of Object.keys(m)) if (k !== 'storage') c.add(`${path}[${k}]`, notIn(k, ['storage']));
}

function accessModes(modes: string[], path: string, c: Causes): void {
  if (modes.length === 0) return c.add(path, 'required: at least 1 access mode is required');
  modes.forEach((m, i) => {
    if (!ACCESS_MODES_SUPPORTED.includes(m)) {
      c.add(`${path}[${i}]`, `${notIn(m, ACCESS_MODES_SUPPORTED)} (a local-path volume is one directory on one node: it cannot be shared between nodes)`);
    }
  });
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) c.add(path, 'may not use ReadWriteOncePod with other access modes');
}

function volumeMode(v: string | undefined, path: string, c: Causes): void {
  if (v !== undefined && v !== 'Filesystem') c.add(path, `${notIn(v, ['Filesystem'])} (raw block volumes are not supported)`);
}

function className(v: string | undefined, path: string, c: Causes): void {
  if (!v) return;
  const why = dns1123Subdomain(v);
  if (why) c.add(path, why);
}

export function validateNodeSelector(sel: NodeSelector | undefined, path: string, c: Causes): void {
  if (!sel) return c.add(path, 'required');
  const tp = join(path, 'nodeSelectorTerms');
  if (sel.nodeSelectorTerms.length === 0) c.add(tp, 'must have at least one node selector term');
  sel.nodeSelectorTerms.forEach((t, i) => {
    const ep = `${tp}[${i}].matchExpressions`;
    if (t.matchExpressions.length === 0) c.add(ep, 'required: a term with no expressions matches no node');
    t.matchExpressions.forEach((r, j) => {
      const rp = `${ep}[${j}]`;
      if (!r.key) c.add(join(rp, 'key'), 'required');
      if (!SELECTOR_OPS.includes(r.operator)) return c.add(join(rp, 'operator'), notIn(r.operator, SELECTOR_OPS));
      if ((r.operator === 'In' || r.operator === 'NotIn') && r.values.length === 0) {
        c.add(join(rp, 'values'), 'must be specified when `operator` is \'In\' or \'NotIn\'');
      }
      if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && r.values.length > 0) {
        c.add(join(rp, 'values'), 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\'');
      }
      if ((r.operator === 'Gt' || r.operator === 'Lt') && (r.values.length !== 1 || !/^-?\d+$/.test(r.values[0] ?? ''))) {
        c.add(join(rp, 'values'), 'must be specified single integer value when `operator` is \'Lt\' or \'Gt\'');
      }
    });
  });
}

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim, c: Causes): void {
  const s = pvc.spec;
  if (!s) return c.add('spec', 'required');
  accessModes(s.accessModes, 'spec.accessModes', c);
  storageQuantity(s.resources?.requests.storage, 'spec.resources.requests[storage]', c);
  if (s.resources) {
    onlyStorage(s.resources.requests, 'spec.resources.requests', c);
    onlyStorage(s.resources.limits, 'spec.resources.limits', c);
    if (s.resources.limits.storage !== undefined) storageQuantity(s.resources.limits.storage, 'spec.resources.limits[storage]', c);
  }
  className(s.storageClassName, 'spec.storageClassName', c);
  volumeMode(s.volumeMode, 'spec.volumeMode', c);
  if (s.volumeName) {
    const why = dns1123Subdomain(s.volumeName);
    if (why) c.add('spec.volumeName', why);
  }
}

/** Kubernetes: a claim's spec is immutable but for binding fields filled once. */
export function validatePersistentVolumeClaimUpdate(next: PersistentVolumeClaim, old: PersistentVolumeClaim, c: Causes): void {
  const n = next.spec;
  const o = old.spec;
  if (!n || !o) return;
  if (JSON.stringify(n.accessModes) !== JSON.stringify(o.accessModes)) c.add('spec.accessModes', 'field is immutable');
  if (o.volumeName && n.volumeName !== o.volumeName) c.add('spec.volumeName', `field is immutable once set (bound to "${o.volumeName}")`);
  if (o.storageClassName !== undefined && n.storageClassName !== o.storageClassName) c.add('spec.storageClassName', 'field is immutable once set');
  if (n.volumeMode !== o.volumeMode) c.add('spec.volumeMode', 'field is immutable');
  if (n.resources?.requests.storage !== o.resources?.requests.storage) {
    c.add('spec.resources.requests[storage]', 'field is immutable: volume expansion is not supported by the local-path provisioner');
  }
  if (n.resources?.limits.storage !== o.resources?.limits.storage) c.add('spec.resources.limits[storage]', 'field is immutable');
}

export function validatePersistentVolume(pv: PersistentVolume, c: Causes): void {
  const s = pv.spec;
  if (!s) return c.add('spec', 'required');
  storageQuantity(s.capacity.storage, 'spec.capacity[storage]', c);
  onlyStorage(s.capacity, 'spec.capacity', c);
  accessModes(s.accessModes, 'spec.accessModes', c);
  if (!RECLAIM_POLICIES.includes(s.persistentVolumeReclaimPolicy)) {
    c.add('spec.persistentVolumeReclaimPolicy', notIn(s.persistentVolumeReclaimPolicy, RECLAIM_POLICIES));
  }
  className(s.storageClassName, 'spec.storageClassName', c);
  volumeMode(s.volumeMode, 'spec.volumeMode', c);
  const sources = [s.local && 'local', s.hostPath && 'hostPath'].filter(Boolean);
  if (sources.length === 0) c.add('spec', 'must specify a volume type: local or hostPath');
  if (sources.length > 1) c.add('spec', 'may not specify more than 1 volume type');
  for (const [src, p] of [['local', s.local?.path], ['hostPath', s.hostPath?.path]] as const) {
    if (p === undefined) continue;
    if (!p) c.add(`spec.${src}.path`, 'required');
    else if (!isAbsolute(p)) c.add(`spec.${src}.path`, `Invalid value: "${p}": must be an absolute path`);
    else if (p.split('/').includes('..')) c.add(`spec.${src}.path`, `Invalid value: "${p}": must not contain '..'`);
  }
  if (s.hostPath?.type && !['', 'DirectoryOrCreate', 'Directory'].includes(s.hostPath.type)) {
    c.add('spec.hostPath.type', notIn(s.hostPath.type, ['', 'DirectoryOrCreate', 'Directory']));
  }
  if (s.local && !s.nodeAffinity) c.add('spec.nodeAffinity', 'Local volumes require node affinity');
  if (s.nodeAffinity) validateNodeSelector(s.nodeAffinity.required, 'spec.nodeAffinity.required', c);
  if (s.claimRef) {
    if (!s.claimRef.name) c.add('spec.claimRef.name', 'required');
    if (!s.claimRef.namespace) c.add('spec.claimRef.namespace', 'required');
  }
}

export function validatePersistentVolumeUpdate(next: PersistentVolume, old: PersistentVolume, c: Causes): void {
  const n = next.spec;
  const o = old.spec;
  if (!n || !o) return;
  if (JSON.stringify([n.local, n.hostPath]) !== JSON.stringify([o.local, o.hostPath])) c.add('spec', 'the volume source (local, hostPath) is immutable');
  if (JSON.stringify(n.nodeAffinity) !== JSON.stringify(o.nodeAffinity)) c.add('spec.nodeAffinity', 'field is immutable');
  if (n.volumeMode !== o.volumeMode) c.add('spec.volumeMode', 'field is immutable');
}

export function validateStorageClass(sc: StorageClass, c: Causes): void {
  if (!sc.provisioner) c.add('provisioner', 'required');
  else if (!PROVISIONERS.includes(sc.provisioner)) {
    c.add('provisioner', `${notIn(sc.provisioner, PROVISIONERS)} (Skiff runs no external provisioners)`);
  }
  if (sc.reclaimPolicy !== undefined && !RECLAIM_POLICIES.includes(sc.reclaimPolicy)) c.add('reclaimPolicy', notIn(sc.reclaimPolicy, RECLAIM_POLICIES));
  const mode = sc.volumeBindingMode;
  if (mode !== undefined && !BINDING_MODES.includes(mode)) c.add('volumeBindingMode', notIn(mode, BINDING_MODES));
  if (sc.provisioner === LOCAL_PATH_PROVISIONER) {
    if (mode === 'Immediate') {
      c.add('volumeBindingMode', `Invalid value: "Immediate": the ${LOCAL_PATH_PROVISIONER} provisioner makes a volume on the node of the claim's first pod, so it needs "WaitForFirstConsumer"`);
    }
    if (Object.keys(sc.parameters).length > 0) c.add('parameters', `the ${LOCAL_PATH_PROVISIONER} provisioner takes no parameters`);
  }
  if (sc.provisioner === NO_PROVISIONER && Object.keys(sc.parameters).length > 0) c.add('parameters', `the ${NO_PROVISIONER} provisioner takes no parameters`);
}

export function validateStorageClassUpdate(next: StorageClass, old: StorageClass, c: Causes): void {
  for (const f of ['provisioner', 'reclaimPolicy', 'volumeBindingMode'] as const) {
    if (next[f] !== old[f]) c.add(f, 'field is immutable');
  }
  if (JSON.stringify(next.parameters) !== JSON.stringify(old.parameters)) c.add('parameters', 'field is immutable');
}
