// Pod Security Admission (Kubernetes' Pod Security Standards) over the fields Skiff's PodSpec
// has. A namespace picks its level with the pod-security.kubernetes.io/enforce label.
//
// Checked, as Kubernetes does:
//   baseline:   privileged containers, hostPath volumes, hostNetwork, hostPorts.
//   restricted: baseline, plus runAsNonRoot must be true and allowPrivilegeEscalation false
//               on every container (init ones too).
// Skiff's PodSpec has no hostPID/hostIPC, capabilities, seccompProfile, AppArmor, SELinux,
// procMount or sysctls fields, so those checks have nothing to look at (the agent never adds
// capabilities nor disables the runtime's default seccomp profile).
import type { Container, PodSpec } from '../../../proto/gen/skiff/v1/core.js';
import { Causes, join } from './causes.js';

export const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';
export const LEVELS = ['privileged', 'baseline', 'restricted'] as const;
export type PodSecurityLevel = (typeof LEVELS)[number];

/**
 * Namespaces the cluster's own parts use keep full privileges without a label. Every other
 * namespace without the label, "default" included, is "baseline": host access is opted into
 * per namespace, never granted by omission.
 */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

export function isLevel(v: string): v is PodSecurityLevel {
  return (LEVELS as readonly string[]).includes(v);
}

/** The level a namespace enforces (its label, else the default for its name). */
export function namespaceLevel(name: string, labels: Record<string, string> | undefined): PodSecurityLevel {
  const v = labels?.[ENFORCE_LABEL];
  if (v !== undefined && isLevel(v)) return v;
  return SYSTEM_NAMESPACES.has(name) ? 'privileged' : 'baseline';
}

/** Namespace labels: an enforce label must name a level (as Kubernetes' admission refuses). */
export function validateEnforceLabel(labels: Record<string, string> | undefined, c: Causes): void {
  const v = labels?.[ENFORCE_LABEL];
  if (v !== undefined && !isLevel(v)) {
    c.add(`metadata.labels[${ENFORCE_LABEL}]`, `unsupported value "${v}": supported values: ${LEVELS.map((l) => `"${l}"`).join(', ')}`);
  }
}

/**
 * Adds a cause for every field of the pod spec at `path` that the level forbids. Messages read
 * `Forbidden: ... not allowed by the "baseline" pod security level of namespace "x"`.
 */
export function checkPodSecurity(s: PodSpec | undefined, path: string, level: PodSecurityLevel, namespace: string, c: Causes): void {
  if (!s || level === 'privileged') return;
  const by = `by the "${level}" pod security level of namespace "${namespace}"`;
  const forbid = (field: string, what: string): void => c.add(field, `Forbidden: ${what} ${what.endsWith('s') ? 'are' : 'is'} not allowed ${by}`);
  if (s.hostNetwork) forbid(join(path, 'hostNetwork'), 'host networking');
  s.volumes.forEach((v, i) => {
    if (v.hostPath) forbid(`${path}.volumes[${i}].hostPath`, 'hostPath volumes');
  });
  const containers: [Container, string][] = [
    ...s.initContainers.map((ct, i): [Container, string] => [ct, `${path}.initContainers[${i}]`]),
    ...s.containers.map((ct, i): [Container, string] => [ct, `${path}.containers[${i}]`]),
  ];
  for (const [ct, cp] of containers) {
    if (ct.securityContext?.privileged) forbid(join(cp, 'securityContext.privileged'), 'privileged containers');
    ct.ports.forEach((p, i) => {
      if (p.hostPort) forbid(`${cp}.ports[${i}].hostPort`, 'hostPorts');
    });
  }
  if (level !== 'restricted') return;
  const podNonRoot = s.securityContext?.runAsNonRoot;
  for (const [ct, cp] of containers) {
    const nonRoot = ct.securityContext?.runAsNonRoot ?? podNonRoot;
    if (nonRoot !== true) {
      c.add(join(cp, 'securityContext.runAsNonRoot'), `Forbidden: must be true (here or in spec.securityContext) ${by}`);
    }
    if (ct.securityContext?.runAsUser === 0) c.add(join(cp, 'securityContext.runAsUser'), `Forbidden: 0 (root) is not allowed ${by}`);
    if (ct.securityContext?.allowPrivilegeEscalation !== false) {
      c.add(join(cp, 'securityContext.allowPrivilegeEscalation'), `Forbidden: must be false ${by}`);
    }
  }
  if (s.securityContext?.runAsUser === 0) c.add(join(path, 'securityContext.runAsUser'), `Forbidden: 0 (root) is not allowed ${by}`);
}
