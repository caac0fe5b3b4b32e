// `status`: per connector pilot, OCPP status, transaction and energy; CSMS link and security
// profile; controller link; queue depth; clock offset; certificate expiry; flash bytes; uptime;
// versions. Never carries a password: the host report has no field for one.
import { onlyArgs } from './args.js';
import type { DiagCommand } from './types.js';

export const status: DiagCommand = {
  name: 'status',
  summary: 'connectors, CSMS and controller links, queue, clock, versions',
  run: (args, { host }) => {
    onlyArgs('status', args, []);
    return host.status();
  },
};
