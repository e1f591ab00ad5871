import { defineConfig } from 'vitest/config';

// vitest 5 reports failures with Object.groupBy / Map.groupBy, which Node 20 lacks (Node 21+).
// Without these the reporter itself crashes on the first failing test and hides its cause.
type GroupBy = <T, K>(items: Iterable<T>, key: (item: T, index: number) => K) => Map<K, T[]>;
const statics = {
  object: Object as unknown as Record<string, unknown>,
  map: Map as unknown as Record<string, unknown>,
};
if (typeof statics.map.groupBy !== 'function') {
  const groupBy: GroupBy = (items, key) => {
    const out = new Map();
    let i = 0;
    for (const item of items) {
      const k = key(item, i++);
      const list = out.get(k);
      if (list) list.push(item);
      else out.set(k, [item]);
    }
    return out;
  };
  statics.map.groupBy = groupBy;
  statics.object.groupBy = <T>(items: Iterable<T>, key: (item: T, index: number) => PropertyKey) =>
    Object.assign(Object.create(null), Object.fromEntries(groupBy(items, key)));
}

// Workspace packages export their TypeScript sources under the "source" condition,
// so tests run against src/ without a build step.
const resolve = { conditions: ['source', 'module', 'node', 'import', 'default'] };

export default defineConfig({
  resolve,
  ssr: { resolve: { conditions: resolve.conditions, externalConditions: ['source'] } },
  test: {
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    coverage: {
      provider: 'v8',
      include: ['apps/*/src/**/*.ts', 'packages/*/src/**/*.ts'],
      exclude: ['**/*.test.ts', '**/main.ts', '**/src/testing/**', 'packages/testkit/**'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 80 },
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{apps,packages,bench}/*/src/**/*.test.ts', 'bench/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/*.e2e.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{apps,packages}/*/src/**/*.int.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['{apps,packages,bench}/**/src/**/*.e2e.test.ts', 'bench/src/**/*.e2e.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
