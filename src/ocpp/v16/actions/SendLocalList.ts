// OCPP 1.6 §5.15 SendLocalList: a Full or Differential update of the local authorization
// list, validated whole and applied atomically (Failed / VersionMismatch leave the old list).
import type { LocalListUpdate } from '../../../domain/authorization/local-list.js';
import { parseIdTagInfo } from '../id-tag-info.js';
import type { IncomingHandler } from './context.js';

export const SendLocalList: IncomingHandler<'SendLocalList'> = (req, { authorization }) => {
  const entries: Array<LocalListUpdate['entries'][number]> = [];
  for (const e of req.localAuthorizationList ?? []) {
    if (!e.idTagInfo) {
      entries.push({ idTag: e.idTag, info: null });
      continue;
    }
    const info = parseIdTagInfo(e.idTagInfo);
    if (!info) return { status: 'Failed' };
    entries.push({ idTag: e.idTag, info });
  }
  return { status: authorization.localList.update({ type: req.updateType, version: req.listVersion, entries }).status };
};
