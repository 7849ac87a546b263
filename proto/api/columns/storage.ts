// `skiff get` columns of the storage kinds, as kubectl prints them.
import { ACCESS_MODE_SHORT, DEFAULT_CLASS_ANNOTATION } from '../storage.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../gen/skiff/v1/storage.js';
import { age } from './age.js';
import type { Row } from './row.js';

interface Columns<T> {
  headers: string[];
  wide: string[];
  row(o: T, now: number): Row;
  wideRow(o: T, now: number): Row;
}

/** kubectl's access mode list: "RWO", "RWO,RWOP". */
export function accessModesText(modes: readonly string[]): string {
  return modes.map((m) => ACCESS_MODE_SHORT[m] ?? m).join(',');
}

export const persistentVolumeClaims: Columns<PersistentVolumeClaim> = {
  headers: ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'AGE'],
  wide: ['VOLUMEMODE'],
  row: (c, now) => {
    const bound = c.status?.phase === 'Bound';
    return [
      c.metadata?.name ?? '',
      c.status?.phase ?? '',
      c.spec?.volumeName ?? '',
      bound ? (c.status?.capacity.storage ?? '') : '',
      bound ? accessModesText(c.status?.accessModes ?? []) : '',
      c.spec?.storageClassName ?? '<unset>',
      age(c.metadata?.creationTimestamp, now),
    ];
  },
  wideRow: (c) => [c.spec?.volumeMode ?? 'Filesystem'],
};

export const persistentVolumes: Columns<PersistentVolume> = {
  headers: ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'REASON', 'AGE'],
  wide: ['VOLUMEMODE'],
  row: (v, now) => {
    const r = v.spec?.claimRef;
    return [
      v.metadata?.name ?? '',
      v.spec?.capacity.storage ?? '',
      accessModesText(v.spec?.accessModes ?? []),
      v.spec?.persistentVolumeReclaimPolicy ?? '',
      v.metadata?.deletionTimestamp ? 'Terminating' : (v.status?.phase ?? ''),
      r ? `${r.namespace}/${r.name}` : '',
      v.spec?.storageClassName ?? '',
      v.status?.reason ?? '',
      age(v.metadata?.creationTimestamp, now),
    ];
  },
  wideRow: (v) => [v.spec?.volumeMode ?? 'Filesystem'],
};

export const storageClasses: Columns<StorageClass> = {
  headers: ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE'],
  wide: [],
  row: (s, now) => [
    `${s.metadata?.name ?? ''}${s.metadata?.annotations[DEFAULT_CLASS_ANNOTATION] === 'true' ? ' (default)' : ''}`,
    s.provisioner,
    s.reclaimPolicy ?? 'Delete',
    s.volumeBindingMode ?? 'Immediate',
    'false',
    age(s.metadata?.creationTimestamp, now),
  ],
  wideRow: () => [],
};
