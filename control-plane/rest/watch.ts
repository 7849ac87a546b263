// ?watch=1: Kubernetes' JSON watch stream, one {"type","object"} document per line over a
// chunked response; an error after the stream began (Expired when the resourceVersion is older
// than the history) is an ERROR event carrying a Status, as kube-apiserver sends it.
import type { ServerResponse } from 'node:http';
import { unwrap } from '../../proto/api/kinds.js';
import { toManifest, type JsonObject } from '../../proto/api/manifest.js';
import { serveWatch, type WatchDeps } from '../api/watch.js';
import { boolParam, intParam } from './http.js';
import type { ObjectTarget } from './resources.js';
import { toStatus } from './status.js';
import { buildTableResponse, type IncludeObject } from './table.js';

/** Past this many unsent bytes a watch whose client does not read is ended. */
const MAX_BACKLOG_BYTES = 64 * 1024 * 1024;

export interface WatchFormat {
  /** Set for Table watches (kubectl get -w): each object is a one-row Table. */
  table?: { apiVersion: string; include: IncludeObject; now: () => number };
}

export async function watchObjects(deps: WatchDeps, t: ObjectTarget, q: URLSearchParams, res: ServerResponse, format: WatchFormat): Promise<void> {
  let fieldSelector = q.get('fieldSelector') ?? '';
  if (t.name) fieldSelector = [fieldSelector, `metadata.name=${t.name}`].filter(Boolean).join(',');
  const timeout = intParam(q, 'timeoutSeconds');
  let started = false;
  let columnsSent = false;
  const start = (): void => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
  };
  const send = (doc: JsonObject): void => {
    start();
    res.write(`${JSON.stringify(doc)}\n`);
  };
  const onClose: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  if (timeout !== undefined && timeout > 0) timer = setTimeout(() => onClose.forEach((cb) => cb()), timeout * 1000);
  res.on('close', () => onClose.forEach((cb) => cb()));
  // The headers go out at once so a client sees the watch is established before any event.
  start();
  try {
    await serveWatch(deps, {
      kind: t.info.kind, namespace: t.namespace, labelSelector: q.get('labelSelector') ?? '', fieldSelector,
      resourceVersion: q.get('resourceVersion') ?? '', allowBookmarks: boolParam(q, 'allowWatchBookmarks'),
    }, {
      write: (ev) => {
        const { info, value } = unwrap(ev.object);
        let object: JsonObject = toManifest(info, value);
        if (format.table && ev.type !== 'BOOKMARK') {
          object = buildTableResponse(info, [value], { include: format.table.include, now: format.table.now(), apiVersion: format.table.apiVersion, withColumns: !columnsSent });
          columnsSent = true;
        }
        send({ type: ev.type, object });
      },
      full: () => res.writableLength > MAX_BACKLOG_BYTES,
      onClose: (cb) => onClose.push(cb),
    });
  } catch (e) {
    send({ type: 'ERROR', object: toStatus(e).body });
  } finally {
    clearTimeout(timer);
  }
  res.end();
}
