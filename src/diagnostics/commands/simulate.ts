// `simulate`: drive the built-in simulated controller (plug in, card, charge, pause, unplug)
// for demos and bring-up without an EV; unavailable with a real controller.
import { DiagError } from '../protocol.js';
import type { SimulateAction } from '../host.js';
import { oneOf, onlyArgs, optionalInt, requireInt, requireString } from './args.js';
import type { DiagCommand } from './types.js';
import { errorText } from '../../platform/errors.js';

const ACTIONS = ['plug', 'charge', 'pause', 'unplug', 'card'] as const;

export const simulate: DiagCommand = {
  name: 'simulate',
  summary: 'simulated controller: plug, card, charge, pause, unplug',
  run: (args, { host }) => {
    const action = oneOf('simulate', args, 'action', ACTIONS);
    let request: SimulateAction;
    if (action === 'card') {
      onlyArgs('simulate', args, ['action', 'uid']);
      request = { action, uid: requireString('simulate', args, 'uid', 20) };
    } else if (action === 'plug') {
      onlyArgs('simulate', args, ['action', 'connector', 'cableAmps', 'evMaxAmps']);
      request = { action, connector: requireInt('simulate', args, 'connector', 1, 100) };
      const cable = optionalInt('simulate', args, 'cableAmps', 1, 100);
      const ev = optionalInt('simulate', args, 'evMaxAmps', 0, 100);
      if (cable !== undefined) request.cableAmps = cable;
      if (ev !== undefined) request.evMaxAmps = ev;
    } else {
      onlyArgs('simulate', args, ['action', 'connector']);
      request = { action, connector: requireInt('simulate', args, 'connector', 1, 100) };
    }
    const sim = host.simulate;
    if (!sim) throw new DiagError('unavailable', 'the simulated controller is not in use (controller.simulated is false)');
    try {
      sim(request);
    } catch (err) {
      // The simulator refuses impossible steps (no EV to unplug, bad UID): the caller's mistake.
      throw new DiagError('rejected', errorText(err));
    }
    return { ...request };
  },
};
