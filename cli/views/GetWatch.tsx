// `skiff get TYPE -w` on a terminal: one table kept up to date from a watch stream, rows added,
// changed and removed in place, ages ticking.
import { Box, Text, useApp } from 'ink';
import React, { useEffect, useState } from 'react';
import type { ApiError } from '../../proto/api/errors.js';
import { objectKey, unwrap, type AnyObject, type KindInfo } from '../../proto/api/kinds.js';
import type { WatchEvent } from '../../proto/gen/skiff/v1/api.js';
import { buildTable } from '../../proto/api/columns/columns.js';
import { formatTable } from '../render/table.js';

/** Starts the feed; onEnd(undefined) when it ends normally. Returns a function that stops it. */
export type WatchSubscribe = (onEvent: (ev: WatchEvent) => void, onEnd: (err: ApiError | undefined) => void) => () => void;

export interface GetWatchProps {
  info: KindInfo;
  wide: boolean;
  withNamespace: boolean;
  subscribe: WatchSubscribe;
  onEnd?: (err: ApiError | undefined) => void;
  now?: () => number;
  /** Re-render ages this often; 0 turns the ticker off (tests). */
  tickMs?: number;
}

export function GetWatch(props: GetWatchProps): React.JSX.Element {
  const { info, wide, withNamespace, subscribe, onEnd, now = Date.now, tickMs = 1000 } = props;
  const { exit } = useApp();
  const [objects, setObjects] = useState<ReadonlyMap<string, AnyObject>>(new Map());
  const [events, setEvents] = useState(0);
  const [, setTick] = useState(0);
  const [error, setError] = useState<ApiError | undefined>();

  useEffect(() => {
    const stop = subscribe(
      (ev) => {
        if (ev.type === 'BOOKMARK' || !ev.object) return;
        const { value } = unwrap(ev.object);
        const key = objectKey(value);
        setObjects((prev) => {
          const next = new Map(prev);
          if (ev.type === 'DELETED') next.delete(key);
          else next.set(key, value);
          return next;
        });
        setEvents((n) => n + 1);
      },
      (err) => {
        setError(err);
        onEnd?.(err);
        exit();
      },
    );
    return stop;
  }, [subscribe]);

  useEffect(() => {
    if (!tickMs) return;
    const t = setInterval(() => setTick((n) => n + 1), tickMs);
    return () => clearInterval(t);
  }, [tickMs]);

  const table = buildTable(info, [...objects.values()], { wide, withNamespace, now: now() });
  return (
    <Box flexDirection="column">
      {objects.size > 0 ? <Text>{formatTable(table)}</Text> : <Text dimColor>No {info.plural} yet.</Text>}
      {error ? (
        <Text color="red">watch ended: {error.message}</Text>
      ) : (
        <Text dimColor>
          watching {info.plural} ({events} event{events === 1 ? '' : 's'}); Ctrl+C to stop
        </Text>
      )}
    </Box>
  );
}
