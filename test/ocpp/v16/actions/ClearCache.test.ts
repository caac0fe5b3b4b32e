// OCPP 1.6 §5.4 ClearCache against the real agent and the DevCsms (TC_061): Accepted and the
// cache is empty (a cached card is asked about again); Rejected while the cache is disabled.
import { describe, expect, it } from 'vitest';
import type { Harness } from '../../../helpers/agent-harness.js';
import { useAgentFixture } from '../../../helpers/action-fixture.js';
import { waitFor } from '../../../helpers/wait.js';

const CARD = '04A2B3C4';
const fx = useAgentFixture();

async function swipe(x: Harness): Promise<boolean> {
  const results: boolean[] = [];
  const off = x.agent.station.subscribe({ authorizationDecided: ({ idToken: { value: _tag }, accepted: accepted }) => results.push(accepted) });
  x.sim.swipeCard(CARD);
  await waitFor(() => results.length > 0, 10_000, 'card result');
  off();
  return results[0]!;
}

describe('ClearCache (OCPP 1.6 §5.4)', () => {
  it('Accepted: the cache is emptied, so a cached card is authorized by the CSMS again (TC_061)', async () => {
    const h = await fx.start({ ocppConfig: { LocalPreAuthorize: 'true' } });
    let m = h.mark();
    expect(await swipe(h)).toBe(true); // learnt from Authorize.conf
    expect(h.callsSince(m, 'Authorize')).toHaveLength(1);
    expect(h.agent.authorization.cache.get(CARD)?.status).toBe('Accepted');

    // No transaction yet (no plug): the same card again is authorized again, now from the cache.
    m = h.mark();
    expect(await swipe(h)).toBe(true);
    expect(h.callsSince(m, 'Authorize')).toEqual([]);

    expect(await h.call('ClearCache', {})).toEqual({ status: 'Accepted' });
    expect(h.agent.authorization.cache.size).toBe(0);
    m = h.mark();
    expect(await swipe(h)).toBe(true);
    expect(h.callsSince(m, 'Authorize')).toHaveLength(1);
  });

  it('AuthorizationCacheEnabled false: Rejected, nothing cleared', async () => {
    const h = await fx.start();
    h.agent.authorization.cache.put('KEPT', { status: 'Accepted' });
    expect(await h.call('ChangeConfiguration', { key: 'AuthorizationCacheEnabled', value: 'false' })).toEqual({ status: 'Accepted' });
    expect(await h.call('ClearCache', {})).toEqual({ status: 'Rejected' });
    expect(h.agent.authorization.cache.get('KEPT')).not.toBeNull();
  });
});
