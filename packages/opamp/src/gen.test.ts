import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const script = join(packageDir, 'scripts', 'gen-proto.mjs');
const genDir = join(packageDir, 'gen');
const work = mkdtempSync(join(tmpdir(), 'opamp-gen-'));

function run(...args: string[]): { ok: boolean; output: string } {
  try {
    return {
      ok: true,
      output: execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', stdio: 'pipe' }),
    };
  } catch (err) {
    const failure = err as { stderr?: string };
    return { ok: false, output: String(failure.stderr) };
  }
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('generated protobuf code', () => {
  it('records the hash of the current .proto files', () => {
    expect(run('--check')).toEqual({ ok: true, output: 'generated code is up to date\n' });
  });

  it('is reported stale when a .proto changes without regenerating', () => {
    const protoCopy = join(work, 'proto');
    cpSync(join(packageDir, 'proto'), protoCopy, { recursive: true });
    const opampProto = join(protoCopy, 'opamp.proto');
    writeFileSync(opampProto, `${readFileSync(opampProto, 'utf8')}\nmessage Extra {}\n`);
    const result = run('--check', '--proto', protoCopy, '--out', genDir);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('stale generated code (opamp.js, opamp.d.ts)');
  });

  it('is reported stale when the generated files are missing', () => {
    expect(run('--check', '--out', join(work, 'nothing')).ok).toBe(false);
  });

  it('equals a fresh regeneration byte for byte', { timeout: 60_000 }, () => {
    const out = join(work, 'regen');
    expect(run('--out', out).ok).toBe(true);
    for (const name of ['opamp.js', 'opamp.d.ts']) {
      expect(readFileSync(join(out, name), 'utf8'), name).toBe(readFileSync(join(genDir, name), 'utf8'));
    }
  });

  it('imports protobufjs in a form Node ESM resolves', () => {
    const js = readFileSync(join(genDir, 'opamp.js'), 'utf8');
    expect(js).toContain('import $protobuf from "protobufjs/minimal.js";');
    expect(readFileSync(join(genDir, 'opamp.d.ts'), 'utf8')).toContain('import Long from "long";');
  });
});
