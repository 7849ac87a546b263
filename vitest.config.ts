import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{proto,control-plane,node-agent,cli,test,bench}/**/*.test.{ts,tsx}'],
    exclude: ['node_modules', 'dist'],
    // Integration tests start real etcd/containerd processes: keep them off each other's CPU.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/setup/global-etcd.ts'],
  },
});
