// The built-in StorageClass "local-path", made at start when missing (as k3s ships its
// local-path class): claims without a class get it, and its volumes are directories on the node
// of the claim's first pod. A user may change its default-class annotation or delete it; it is
// only re-created when missing at the next start.
import { ApiError } from '../../proto/api/errors.js';
import { KINDS } from '../../proto/api/kinds.js';
import { DEFAULT_CLASS_ANNOTATION, DEFAULT_STORAGE_CLASS, LOCAL_PATH_PROVISIONER } from '../../proto/api/storage.js';
import { StorageClass } from '../../proto/gen/skiff/v1/storage.js';
import type { Store } from '../storage/store.js';
import { applyDefaults } from './defaults.js';

export function defaultStorageClass(): StorageClass {
  const sc = StorageClass.fromPartial({
    metadata: { name: DEFAULT_STORAGE_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
  applyDefaults(KINDS.StorageClass, sc);
  return sc;
}

export async function ensureDefaultStorageClass(store: Store): Promise<void> {
  try {
    await store.get('StorageClass', '', DEFAULT_STORAGE_CLASS);
    return;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'NotFound')) throw e;
  }
  try {
    await store.create('StorageClass', defaultStorageClass());
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'AlreadyExists')) throw err;
  }
}
