// `skiff describe` sections of the storage kinds, laid out as kubectl's.
import { DEFAULT_CLASS_ANNOTATION } from '../../proto/api/storage.js';
import type { Pod } from '../../proto/gen/skiff/v1/core.js';
import type { NodeSelector, PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../proto/gen/skiff/v1/storage.js';
import { accessModesText } from '../../proto/api/columns/storage.js';

export interface FieldWriter {
  field(label: string, value: string, indent?: number): void;
}

const none = (s: string): string => s || '<none>';

export function describeClaim(w: FieldWriter, c: PersistentVolumeClaim, usedBy: readonly Pod[] | undefined): void {
  w.field('StorageClass', c.spec?.storageClassName ?? '');
  w.field('Status', c.status?.phase ?? '');
  w.field('Volume', c.spec?.volumeName ?? '');
  w.field('Finalizers', `[${c.metadata?.finalizers.join(' ') ?? ''}]`);
  const bound = c.status?.phase === 'Bound';
  w.field('Capacity', bound ? (c.status?.capacity.storage ?? '') : '');
  w.field('Access Modes', bound ? accessModesText(c.status?.accessModes ?? []) : '');
  w.field('Requested', c.spec?.resources?.requests.storage ?? '');
  w.field('VolumeMode', c.spec?.volumeMode ?? 'Filesystem');
  if (usedBy) w.field('Used By', none(usedBy.map((p) => p.metadata?.name ?? '').join('\n')));
}

function selectorText(sel: NodeSelector | undefined): string {
  if (!sel) return '<none>';
  return sel.nodeSelectorTerms
    .map((t, i) => `Term ${i}:  ${t.matchExpressions.map((e) => `${e.key} ${e.operator === 'In' ? 'in' : e.operator}${e.values.length ? ` [${e.values.join(', ')}]` : ''}`).join(', ')}`)
    .join('\n');
}

export function describeVolume(w: FieldWriter, v: PersistentVolume): void {
  const s = v.spec;
  w.field('Finalizers', `[${v.metadata?.finalizers.join(' ') ?? ''}]`);
  w.field('StorageClass', s?.storageClassName ?? '');
  w.field('Status', v.metadata?.deletionTimestamp ? 'Terminating' : (v.status?.phase ?? ''));
  w.field('Claim', s?.claimRef ? `${s.claimRef.namespace}/${s.claimRef.name}` : '');
  w.field('Reclaim Policy', s?.persistentVolumeReclaimPolicy ?? '');
  w.field('Access Modes', accessModesText(s?.accessModes ?? []));
  w.field('VolumeMode', s?.volumeMode ?? 'Filesystem');
  w.field('Capacity', s?.capacity.storage ?? '');
  w.field('Node Affinity', s?.nodeAffinity ? '' : '<none>');
  if (s?.nodeAffinity) {
    w.field('Required Terms', selectorText(s.nodeAffinity.required), 2);
  }
  w.field('Message', v.status?.message ?? '');
  w.field('Source', '');
  if (s?.hostPath) {
    w.field('Type', 'HostPath (bare host directory volume)', 4);
    w.field('Path', s.hostPath.path, 4);
    w.field('HostPathType', s.hostPath.type, 4);
  } else if (s?.local) {
    w.field('Type', 'LocalVolume (a persistent volume backed by local storage on a node)', 4);
    w.field('Path', s.local.path, 4);
  }
}

export function describeStorageClass(w: FieldWriter, sc: StorageClass): void {
  w.field('IsDefaultClass', sc.metadata?.annotations[DEFAULT_CLASS_ANNOTATION] === 'true' ? 'Yes' : 'No');
  w.field('Provisioner', sc.provisioner);
  w.field('Parameters', none(Object.entries(sc.parameters).map(([k, x]) => `${k}=${x}`).join(',')));
  w.field('AllowVolumeExpansion', '<unset>');
  w.field('MountOptions', '<none>');
  w.field('ReclaimPolicy', sc.reclaimPolicy ?? 'Delete');
  w.field('VolumeBindingMode', sc.volumeBindingMode ?? 'Immediate');
}
