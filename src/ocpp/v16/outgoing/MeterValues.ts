// OCPP 1.6 §4.7 MeterValues: readings as SampledValues (meter-values.ts). A transaction's
// values go through the ordered outbox (transaction-messages.ts) with its transactionId;
// clock-aligned values of an idle connector go out directly when online (else dropped);
// a TriggerMessage gets the current reading with context Trigger.
import type { RequestOf } from '../actions/types.js';
import type { MeterValue } from '../generated/types.js';
import { buildMeterValue } from '../meter-values.js';
import { errorText } from '../../../platform/errors.js';
import { type OutgoingAction, type OutgoingContext } from './context.js';

export function meterValuesRequest(connectorId: number, meterValue: MeterValue[], transactionId?: number): RequestOf<'MeterValues'> {
  const req: RequestOf<'MeterValues'> = { connectorId, meterValue };
  if (transactionId !== undefined) req.transactionId = transactionId;
  return req;
}

/** Clock-aligned values of a connector without a transaction: not transaction messages, so never queued. */
export async function sendIdleMeterValues(ctx: OutgoingContext, connector: number, values: MeterValue[]): Promise<void> {
  if (!ctx.canSend()) return;
  await ctx.rpc.call('MeterValues', meterValuesRequest(connector, values)).catch((err: unknown) => ctx.log.warn({ err: errorText(err), connector }, 'MeterValues failed'));
}

/** TriggerMessage: the current reading of one connector, or of every one, with the running transaction's id. */
async function triggerMeterValues(ctx: OutgoingContext, connectorId?: number): Promise<void> {
  const { station } = ctx;
  const list = connectorId ? [connectorId] : station.evseIds();
  for (const c of list) {
    const reading = await station.readMeter(c); // what flows now, not the last periodic report
    if (!reading) continue;
    const tx = station.transaction(c);
    const value = buildMeterValue(reading, ctx.config.getList('MeterValuesSampledData'), ctx.clock.now(), 'Trigger', station.offeredCurrent(c));
    const req = meterValuesRequest(c, [value], tx ? ctx.csmsTransactionId(tx.localId) : undefined);
    await ctx.rpc.call('MeterValues', req).catch((err: unknown) => ctx.log.warn({ err: errorText(err) }, 'MeterValues failed'));
  }
}

export const MeterValues: OutgoingAction<'MeterValues'> = { action: 'MeterValues', trigger: triggerMeterValues };
