// skiff compose ps: one row per service of the project, like `docker compose ps` but per
// service (its replicas) rather than per container: NAME, IMAGE, SERVICE kind, REPLICAS
// (ready/desired), STATUS and PORTS ("IP:8080->5000/tcp" per LoadBalancer ingress address).
import { line, type Ctx } from '../context.js';
import { formatTable, type Table } from '../render/table.js';
import { prepareName, type ComposeGlobals } from './project-name.js';
import { readProject, serviceNames, snapshotOf, type ProjectObjects } from './snapshot.js';
import { portsText, serviceState } from './status.js';

export function psTable(objs: ProjectObjects): Table {
  return {
    headers: ['SERVICE', 'KIND', 'IMAGE', 'REPLICAS', 'STATUS', 'PORTS'],
    rows: serviceNames(objs).map((name) => {
      const snap = snapshotOf(objs, name);
      const st = serviceState(snap);
      const image = snap.deployment?.spec?.template?.spec?.containers[0]?.image ?? snap.pods[0]?.spec?.containers[0]?.image ?? '';
      return [name, snap.kind, image, `${st.ready}/${st.desired}`, st.text, portsText(snap.services)];
    }),
  };
}

export async function composePs(ctx: Ctx, g: ComposeGlobals): Promise<number> {
  const { name, namespace } = prepareName(g);
  const objs = await readProject(ctx.api(), namespace, name);
  const t = psTable(objs);
  if (t.rows.length === 0) {
    line(ctx.stderr, `no services of project ${name} are running (namespace ${namespace})`);
    return 0;
  }
  line(ctx.stdout, formatTable(t));
  return 0;
}
