// The authorizer chain (kube-apiserver's --authorization-mode): each mode in order may allow;
// the first that does wins, and a request no mode allows is Forbidden with the reason of the
// last mode that gave one. Members of system:masters are always allowed, as in Kubernetes.
import { errors } from '../../proto/api/errors.js';
import { KIND_NAMES, KINDS } from '../../proto/api/kinds.js';
import type { Identity } from '../api/auth.js';
import { forbiddenMessage, type Attributes, type Decision } from './attributes.js';
import type { NodeGraphView } from './graph.js';
import { checkEscalation, writesRbac } from './escalation.js';
import { nodeAuthorize } from './node.js';
import { rbacAuthorize, type RbacSnapshot } from './rbac.js';

export const AUTHORIZATION_MODES = ['AlwaysAllow', 'Node', 'RBAC'] as const;
export type AuthorizationMode = (typeof AUTHORIZATION_MODES)[number];

/** The group whose members may do everything (kube-apiserver's privileged group). */
export const MASTERS_GROUP = 'system:masters';

/** --authorization-mode: a comma list of AlwaysAllow, Node, RBAC; throws on anything else. */
export function parseAuthorizationModes(text: string): AuthorizationMode[] {
  const modes = text.split(',').map((m) => m.trim()).filter(Boolean);
  if (modes.length === 0) throw new Error('--authorization-mode needs at least one mode: AlwaysAllow, Node, RBAC');
  for (const m of modes) {
    if (!(AUTHORIZATION_MODES as readonly string[]).includes(m)) {
      throw new Error(`--authorization-mode: unknown mode "${m}"; supported: ${AUTHORIZATION_MODES.join(', ')}`);
    }
  }
  if (new Set(modes).size !== modes.length) throw new Error(`--authorization-mode lists a mode twice: ${text}`);
  return modes as AuthorizationMode[];
}

export interface AuthorizerState {
  rbac: RbacSnapshot;
  graph: NodeGraphView;
}

/** The decision of the chain (pure over the state). */
export function authorize(modes: readonly AuthorizationMode[], state: AuthorizerState, who: Identity, a: Attributes): Decision {
  if (who.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: `member of group "${MASTERS_GROUP}"` };
  const d = chain(modes, state, who, a);
  // RBAC objects: the write itself, and then no rule the caller does not hold (Kubernetes' escalation check).
  if (!d.allowed || !writesRbac(a) || modes.includes('AlwaysAllow')) return d;
  return checkEscalation(state.rbac, who, a, (x) => chain(modes, state, who, x).allowed);
}

function chain(modes: readonly AuthorizationMode[], state: AuthorizerState, who: Identity, a: Attributes): Decision {
  let reason = '';
  for (const mode of modes) {
    const d = mode === 'AlwaysAllow' ? { allowed: true, reason: 'AlwaysAllow' } : mode === 'Node' ? nodeAuthorize(state.graph, who, a) : rbacAuthorize(state.rbac, who, a);
    if (d.allowed) return d;
    if (d.reason) reason = d.reason;
  }
  return { allowed: false, reason };
}

const kindOfResource = new Map<string, string>(KIND_NAMES.map((k) => [`${KINDS[k].plural}|${KINDS[k].apiVersion.includes('/') ? KINDS[k].apiVersion.split('/')[0] : ''}`, k]));

/** The Forbidden error of a refused request, in kube-apiserver's words. */
export function forbidden(who: Identity, a: Attributes, reason: string): Error {
  const kind = a.type === 'resource' ? (kindOfResource.get(`${a.resource}|${a.apiGroup}`) ?? '') : '';
  return errors.forbidden(forbiddenMessage(who.name, a, reason), kind, a.type === 'resource' ? a.name : '');
}

/** The chain bound to its state; check throws Forbidden. undefined modes: authorization is off. */
export class Authorizer {
  constructor(
    readonly modes: readonly AuthorizationMode[],
    private readonly state: AuthorizerState,
    /** Resolves once the caches the state reads have seen every write etcd had when called. */
    private readonly catchUp: () => Promise<void> = () => Promise.resolve(),
  ) {}

  authorize(who: Identity, a: Attributes): Decision {
    return authorize(this.modes, this.state, who, a);
  }

  check(who: Identity, a: Attributes): void {
    const d = this.authorize(who, a);
    if (!d.allowed) throw forbidden(who, a, d.reason);
  }

  /**
   * check, but a refusal is decided again once the caches have caught up with etcd, so a
   * binding (or a pod bound to a node) written just before is honoured: read-your-writes for
   * the caller who just wrote it. Allowed requests never wait.
   */
  async checkFresh(who: Identity, a: Attributes): Promise<void> {
    if (this.authorize(who, a).allowed) return;
    await this.catchUp();
    this.check(who, a);
  }
}
