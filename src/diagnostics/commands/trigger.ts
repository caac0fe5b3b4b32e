// `trigger`: send BootNotification, StatusNotification or Heartbeat now, as a TriggerMessage
// from the CSMS would (OCPP 1.6 §5.17), for checking the CSMS link on site.
import { TRIGGER_KINDS } from '../host.js';
import { oneOf, onlyArgs, optionalInt } from './args.js';
import type { DiagCommand } from './types.js';

export const trigger: DiagCommand = {
  name: 'trigger',
  summary: 'send BootNotification, StatusNotification or Heartbeat now',
  run: async (args, { host }) => {
    onlyArgs('trigger', args, ['message', 'connector']);
    const message = oneOf('trigger', args, 'message', TRIGGER_KINDS);
    const connector = optionalInt('trigger', args, 'connector', 0, 100);
    await host.trigger(message, connector);
    return { message, sent: true };
  },
};
