// What the `skiff up --nodes 3` e2e test and the multinode benchmark share: the CLI run as a
// user would (its own HOME, names prefixed so parallel runs do not collide) and the workload
// they spread over the nodes.
import { spawn } from 'node:child_process';
import { REPO_ROOT } from './images.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the built CLI at cliPath with HOME=home and SKIFF_UP_NAME_PREFIX=prefix. */
export function skiffRunner(cliPath: string, home: () => string, prefix: string): (args: string[]) => Promise<CliRun> {
  return (args) => new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cliPath, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: home(), SKIFF_UP_NAME_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

/** A Deployment "spread" of hello:1 with a readiness probe, behind a NodePort Service. */
export function spreadManifest(registry: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: spread, labels: {app: spread}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: hello
        image: ${registry}/skiff/hello:1
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /health, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: spread}
spec:
  type: NodePort
  selector: {app: spread}
  ports: [{name: http, port: 80, targetPort: http}]
`;
}
