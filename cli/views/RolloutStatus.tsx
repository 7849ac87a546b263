// `skiff rollout status` on a terminal: per ReplicaSet of the Deployment, bars for desired,
// updated (current), ready and available replicas, and the pods that are not ready with why.
// Exits when the rollout completes, fails (progress deadline, crash loop in the new
// ReplicaSet) or the timeout passes.
import { Box, Text, useApp } from 'ink';
import React, { useEffect, useRef, useState } from 'react';
import type { ApiError } from '../../proto/api/errors.js';
import { evaluateRollout, type ReplicaSetProgress, type RolloutSnapshot, type RolloutState } from '../render/rollout.js';

export type SnapshotSubscribe = (
  onSnapshot: (s: RolloutSnapshot) => void,
  onEnd: (err: ApiError | undefined) => void,
) => () => void;

export interface RolloutResult {
  code: number;
  message: string;
}

export interface RolloutStatusProps {
  name: string;
  subscribe: SnapshotSubscribe;
  onDone: (r: RolloutResult) => void;
  /** 0: no timeout. */
  timeoutMs?: number;
  barWidth?: number;
}

export function bar(value: number, max: number, width: number): string {
  const m = Math.max(max, 1);
  const filled = Math.min(width, Math.round((Math.min(value, m) / m) * width));
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

function Bar(p: { label: string; value: number; max: number; width: number }): React.JSX.Element {
  const full = p.value >= p.max;
  return (
    <Text>
      {'    '}
      {p.label.padEnd(10)}
      <Text color={full ? 'green' : 'yellow'}>{bar(p.value, p.max, p.width)}</Text> {p.value}/{p.max}
    </Text>
  );
}

// Bars are scaled to the Deployment's replicas, so the new set filling up and the old one
// draining read as one picture.
function ReplicaSetBlock(p: { rs: ReplicaSetProgress; width: number; max: number }): React.JSX.Element {
  const { rs, width, max } = p;
  return (
    <Box flexDirection="column">
      <Text>
        {'  '}
        <Text bold>{rs.name}</Text> revision {rs.revision || '?'}
        {rs.isNew ? ' (new)' : ' (old)'}
      </Text>
      <Bar label="desired" value={rs.desired} max={max} width={width} />
      <Bar label="current" value={rs.current} max={max} width={width} />
      <Bar label="ready" value={rs.ready} max={max} width={width} />
      <Bar label="available" value={rs.available} max={max} width={width} />
    </Box>
  );
}

export function RolloutStatus(props: RolloutStatusProps): React.JSX.Element {
  const { name, subscribe, onDone, timeoutMs = 0, barWidth = 20 } = props;
  const { exit } = useApp();
  const [state, setState] = useState<RolloutState>(() => evaluateRollout(name, { deployment: undefined, replicaSets: [], pods: [] }));
  const [final, setFinal] = useState<RolloutResult | undefined>();
  const doneRef = useRef(false);

  useEffect(() => {
    let stop: () => void = () => undefined;
    const finish = (r: RolloutResult): void => {
      if (doneRef.current) return;
      doneRef.current = true;
      // The outcome is known: stop watching now rather than when Ink unmounts.
      if (timer) clearTimeout(timer);
      stop();
      setFinal(r);
      onDone(r);
    };
    const timer = timeoutMs > 0
      ? setTimeout(() => finish({ code: 1, message: `timed out waiting for deployment "${name}" to roll out` }), timeoutMs)
      : undefined;
    stop = subscribe(
      (snap) => {
        if (doneRef.current) return;
        const s = evaluateRollout(name, snap);
        setState(s);
        if (s.phase === 'complete') finish({ code: 0, message: s.message });
        else if (s.phase === 'failed') finish({ code: 1, message: s.message });
      },
      (err) => finish({ code: 1, message: err ? `error (${err.code}): ${err.describe()}` : 'the watch ended before the rollout finished' }),
    );
    return () => {
      if (timer) clearTimeout(timer);
      stop();
    };
  }, [subscribe]);

  // Exit only once the final state is committed, so the last frame shows the outcome.
  // Ink throttles renders: exiting in the same tick can drop the last frame, so let it draw.
  useEffect(() => {
    if (!final) return;
    const t = setTimeout(() => exit(), 50);
    return () => clearTimeout(t);
  }, [final]);

  const color = final ? (final.code === 0 ? 'green' : 'red') : undefined;
  return (
    <Box flexDirection="column">
      <Text bold>
        deployment/{name}: {state.updated}/{state.replicas} updated, {state.ready} ready, {state.available} available
      </Text>
      {state.replicaSets.map((rs) => (
        <ReplicaSetBlock key={rs.name} rs={rs} width={barWidth} max={Math.max(state.replicas, rs.desired, rs.current)} />
      ))}
      {state.notReadyPods.length > 0 && (
        <Box flexDirection="column">
          <Text>  pods not ready:</Text>
          {state.notReadyPods.map((p) => (
            <Text key={p.name}>
              {'    '}
              {p.name}: <Text color={/CrashLoop|Err|BackOff|Error/.test(p.why) ? 'red' : 'yellow'}>{p.why}</Text>
            </Text>
          ))}
        </Box>
      )}
      <Text color={color}>{final ? final.message : state.message}</Text>
    </Box>
  );
}
