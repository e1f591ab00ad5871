/**
 * deploy/prometheus checked by the real promtool: the scrape and federation configs, the rules,
 * and the rules' own unit tests (rules.test.yml).
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findPrometheus, PROMETHEUS_INSTALL_HINT, promtool } from './testing/prometheus.js';

const deploy = fileURLToPath(new URL('../../../deploy/prometheus/', import.meta.url));
const bins = findPrometheus();
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** `file` (with rules.yml beside it) in a temp directory, `edit`ed. */
async function copyOf(file: string, edit: (text: string) => string = (t) => t): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'opamp-promconfig-'));
  dirs.push(dir);
  await copyFile(join(deploy, 'rules.yml'), join(dir, 'rules.yml'));
  await writeFile(join(dir, file), edit(await readFile(join(deploy, file), 'utf8')));
  return join(dir, file);
}

describe('deploy/prometheus', () => {
  it('has Prometheus to check it with when running in CI', () => {
    if (process.env.CI === 'true') expect(bins, PROMETHEUS_INSTALL_HINT).not.toBeNull();
    else if (bins === null) console.warn(`skipping the promtool checks: ${PROMETHEUS_INSTALL_HINT}`);
  });

  it.runIf(bins)('rules.yml: valid, and its unit tests (rules.test.yml) pass', async () => {
    const check = await promtool(bins!, ['check', 'rules', join(deploy, 'rules.yml')]);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    const tests = await promtool(bins!, ['test', 'rules', join(deploy, 'rules.test.yml')]);
    expect(tests.code, tests.output).toBe(0);
  });

  it.runIf(bins)('federation.yml and prometheus-static.yml: valid configs', async () => {
    for (const file of ['federation.yml', 'prometheus-static.yml']) {
      const check = await promtool(bins!, ['check', 'config', await copyOf(file)]);
      expect(check.code, `${file}: ${check.output}`).toBe(0);
    }
  });

  it.runIf(bins)('prometheus.yml (Kubernetes discovery): a valid config', async () => {
    let check = await promtool(bins!, ['check', 'config', await copyOf('prometheus.yml')]);
    if (/field kubernetes_sd_configs not found/.test(check.output)) {
      // Debian's build of Prometheus leaves Kubernetes discovery out; upstream builds have it.
      // Check everything else with the discovery block replaced by a static target.
      const block = /^ {4}kubernetes_sd_configs:\n {6}- role: pod\n/gm;
      const source = await readFile(join(deploy, 'prometheus.yml'), 'utf8');
      expect(source.match(block)).toHaveLength(4);
      const file = await copyOf('prometheus.yml', (t) =>
        t.replace(block, "    static_configs:\n      - targets: ['127.0.0.1:9']\n"),
      );
      check = await promtool(bins!, ['check', 'config', file]);
    }
    expect(check.code, check.output).toBe(0);
    expect(check.output).toContain('is valid prometheus config file syntax');
  });
});
