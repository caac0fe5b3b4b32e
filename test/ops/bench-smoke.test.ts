// The in-process benchmarks run against the compiled tree with small sizes, so a change of a
// domain or store shape that breaks them fails here and not first in `npm run bench` (three of
// them stopped at a TypeError after the domain got its own vocabulary). Figures are not checked:
// speed belongs to the benchmarks themselves.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

function runBench(name: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'test/bench', `${name}.bench.mjs`)], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe('benchmarks still run (small sizes)', () => {
  it.each([
    ['local-list', { BENCH_LIST_ENTRIES: '500', BENCH_LOOKUPS: '200', BENCH_ROUNDS: '1' }, /offline decision \(list or cache\): median/],
    ['replay', { BENCH_MESSAGES: '200' }, /CSMS received \d+ Start, \d+ MeterValues, \d+ Stop/],
    ['clock-restamp', { BENCH_MESSAGES: '200' }, /clock sync correction: \d+ queued messages corrected/],
    ['certificates', { BENCH_ROUNDS: '1' }, /CSR/],
  ] as const)('%s', async (name, env, lastFigure) => {
    const { code, out } = await runBench(name, env);
    expect(out).toMatch(lastFigure);
    expect(code, out.slice(-2000)).toBe(0);
  }, 150_000);
});
