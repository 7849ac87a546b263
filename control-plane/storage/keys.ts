// etcd key layout: <prefix>/registry/<plural>/<namespace>/<name> for namespaced kinds and
// <prefix>/registry/<plural>/<name> for cluster-scoped ones, as the Kubernetes apiserver does.
import type { KindInfo } from '../../proto/api/kinds.js';

export class KeyLayout {
  constructor(readonly prefix = '/skiff') {}

  kindPrefix(info: KindInfo): string {
    return `${this.prefix}/registry/${info.plural}/`;
  }

  /** Prefix of one namespace's objects, or of all of them when namespace is empty. */
  listPrefix(info: KindInfo, namespace: string): string {
    return info.namespaced && namespace ? `${this.kindPrefix(info)}${namespace}/` : this.kindPrefix(info);
  }

  key(info: KindInfo, namespace: string, name: string): string {
    return info.namespaced ? `${this.kindPrefix(info)}${namespace}/${name}` : `${this.kindPrefix(info)}${name}`;
  }
}
