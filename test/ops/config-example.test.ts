// config.example.json, the file an integrator copies, goes through the agent's real loader and
// shows every setting the loader knows, so it cannot drift from src/config/agent-config.ts;
// docs/configuration.md shows the same example.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAgentConfig } from '../../src/config/agent-config.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const FILE = join(ROOT, 'config.example.json');

function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keyPaths(v, prefix === '' ? k : `${prefix}.${k}`));
}

describe('config.example.json', () => {
  it('is accepted by the agent configuration loader', () => {
    const cfg = loadAgentConfig(FILE);
    expect(cfg.chargePointId).toMatch(/^CP-/);
    expect(cfg.controller.simulated).toBe(false);
  });

  it('names every setting the loader has (no default left unseen)', () => {
    const raw = JSON.parse(readFileSync(FILE, 'utf8')) as unknown;
    const loaded = loadAgentConfig(FILE);
    // leds is a free-form map; its entries are examples, not settings.
    const settings = (v: unknown): string[] => keyPaths(v).filter((p) => !p.startsWith('leds.')).concat('leds').sort();
    expect([...new Set(settings(raw))]).toEqual([...new Set(settings(loaded))]);
  });

  it('is the example docs/configuration.md shows', () => {
    const doc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    const block = /```json\n([\s\S]*?)\n```/.exec(doc);
    expect(block).not.toBeNull();
    expect(JSON.parse(block![1]!)).toEqual(JSON.parse(readFileSync(FILE, 'utf8')));
  });
});
