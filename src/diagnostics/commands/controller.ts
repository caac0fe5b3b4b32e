// `controller`: one raw controller command for board bring-up (controller-serial.md
// §Commands): the type and its fields; the driver adds the sequence number and checks
// the fields through the codec, and the answer waits for the ACK (or NAK).
import { DiagError } from '../protocol.js';
import { onlyArgs, optionalStringList, requireString } from './args.js';
import type { DiagCommand } from './types.js';
import { errorText } from '../../platform/errors.js';

export const controller: DiagCommand = {
  name: 'controller',
  summary: 'send a raw controller command (board bring-up), e.g. READ 1',
  run: async (args, { host }) => {
    onlyArgs('controller', args, ['type', 'fields']);
    const type = requireString('controller', args, 'type', 16).toUpperCase();
    const fields = optionalStringList('controller', args, 'fields', 8, 64);
    try {
      await host.controllerRaw(type, fields);
    } catch (err) {
      if (err instanceof DiagError) throw err;
      const message = errorText(err);
      // A RangeError is the codec refusing the fields (the caller's mistake); a NAK is the
      // controller refusing the command (hal's ControllerNakError, matched by name: src/ does not load hal/).
      const code = err instanceof RangeError ? 'bad_args' : err instanceof Error && err.name === 'ControllerNakError' ? 'rejected' : 'failed';
      throw new DiagError(code, message);
    }
    return { type, fields, acked: true };
  },
};
