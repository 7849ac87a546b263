// What the `skiff up --nodes 3` e2e test and the multinode benchmark share: the CLI run as a
// user would (its own HOME, names prefixed so parallel runs do not collide) and the workload
// they spread over the nodes.
import { runProgram, type CliRun } from './cli-run.js';

/** The CLI at cliPath run with HOME=home() and SKIFF_UP_NAME_PREFIX=prefix. */
export function skiffRunner(cliPath: string, home: () => string, prefix: string): (args: string[]) => Promise<CliRun> {
  return (args) => runProgram(cliPath, args, { HOME: home(), SKIFF_UP_NAME_PREFIX: prefix });
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
