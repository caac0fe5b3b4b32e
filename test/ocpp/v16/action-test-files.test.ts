// Every OCPP 1.6 action the charger handles (actions/ registry) or sends (outgoing/ registry)
// has its own test file named after it; 'NotSupported' / 'NotSent' entries need none. A test
// file not named after an action of its registry is a typo and fails too.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INCOMING_ACTIONS } from '../../../src/ocpp/v16/actions/index.js';
import { OUTGOING_ACTIONS } from '../../../src/ocpp/v16/outgoing/index.js';

const HERE = new URL('.', import.meta.url).pathname;

function check(registry: Readonly<Record<string, unknown>>, dir: string): { missing: string[]; stray: string[] } {
  const implemented = Object.entries(registry)
    .filter(([, entry]) => entry !== 'NotSupported' && entry !== 'NotSent')
    .map(([action]) => action);
  const missing = implemented.filter((a) => !existsSync(join(HERE, dir, `${a}.test.ts`)));
  const stray = readdirSync(join(HERE, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -'.test.ts'.length))
    .filter((name) => !Object.hasOwn(registry, name));
  return { missing, stray };
}

describe('one test file per action', () => {
  it('CSMS-initiated: test/ocpp/v16/actions/<Action>.test.ts', () => {
    expect(check(INCOMING_ACTIONS, 'actions')).toEqual({ missing: [], stray: [] });
  });

  it('charger-initiated: test/ocpp/v16/outgoing/<Action>.test.ts', () => {
    expect(check(OUTGOING_ACTIONS, 'outgoing')).toEqual({ missing: [], stray: [] });
  });
});
