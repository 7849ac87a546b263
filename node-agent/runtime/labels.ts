// Labels every runtime puts on what it creates, so discover() can find this node's sandboxes
// and containers again after the agent restarts (and never touch anything it did not make).
export const LABEL_MANAGED = 'io.skiff.managed';
export const LABEL_NODE = 'io.skiff.node';
export const LABEL_POD_UID = 'io.skiff.pod-uid';
export const LABEL_POD_NAME = 'io.skiff.pod-name';
export const LABEL_POD_NAMESPACE = 'io.skiff.pod-namespace';
export const LABEL_CONTAINER_NAME = 'io.skiff.container-name';

/** The selector discover() lists with: managed by Skiff, and on this node when one is named. */
export function managedSelector(nodeName: string): Record<string, string> {
  return nodeName ? { [LABEL_MANAGED]: 'true', [LABEL_NODE]: nodeName } : { [LABEL_MANAGED]: 'true' };
}

export function sandboxLabels(
  nodeName: string,
  cfg: { podUid: string; podName: string; podNamespace: string; labels: Record<string, string> },
): Record<string, string> {
  return {
    ...cfg.labels,
    ...managedSelector(nodeName),
    [LABEL_POD_UID]: cfg.podUid,
    [LABEL_POD_NAME]: cfg.podName,
    [LABEL_POD_NAMESPACE]: cfg.podNamespace,
  };
}

export function containerLabels(
  nodeName: string,
  sandbox: { podUid: string; podName: string; podNamespace: string },
  cfg: { name: string; labels: Record<string, string> },
): Record<string, string> {
  return {
    ...cfg.labels,
    ...managedSelector(nodeName),
    [LABEL_POD_UID]: sandbox.podUid,
    [LABEL_POD_NAME]: sandbox.podName,
    [LABEL_POD_NAMESPACE]: sandbox.podNamespace,
    [LABEL_CONTAINER_NAME]: cfg.name,
  };
}

/** CRI timestamps are nanoseconds since the epoch (as decimal strings); 0 means "not reached". */
export function nanosToIso(ns: string | number | bigint): string {
  const n = BigInt(ns);
  if (n <= 0n) return '';
  return new Date(Number(n / 1_000_000n)).toISOString();
}
