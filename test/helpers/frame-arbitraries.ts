// fast-check generators for controller-serial.md frames: every value is one the wire can
// carry exactly (decimals at the digits the encoder writes), so encode -> decode is lossless.
import fc from 'fast-check';
import {
  CAPABILITIES,
  LOCK_STATES,
  PILOT_STATES,
  PP_CAPACITIES,
  type Frame,
} from '../../hal/controller/protocol/frame-table.js';

const seq = fc.integer({ min: 1, max: 65535 });
const connector = fc.integer({ min: 0, max: 999 });
const word = fc.stringMatching(/^[A-Z0-9_]{1,32}$/);
/** Printable ASCII without the separators `,` `*` `$`. */
const TEXT_CHARS = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).filter(
  (c) => !',*$'.includes(c),
);
const text = fc.string({ unit: fc.constantFrom(...TEXT_CHARS), minLength: 1, maxLength: 64 });
const uint = fc.integer({ min: 0, max: 999_999_999_999 });
/** A decimal with `digits` fraction digits, as the METER encoder writes it. */
const fixedDecimal = (digits: number, min: number, max: number) =>
  fc.integer({ min: min * 10 ** digits, max: max * 10 ** digits }).map((n) => n / 10 ** digits);
const orNull = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });

export const commandFrameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ type: fc.constantFrom('INFO', 'STATUS', 'PING', 'RESET'), seq }),
  fc.record({ type: fc.constantFrom('DISABLE', 'UNLOCK', 'READ'), seq, connector }),
  fc.record({ type: fc.constant('ENABLE'), seq, connector, amps: fc.integer({ min: 0, max: 800 }).map((n) => n / 10) }),
  fc.record({ type: fc.constant('CONFIG'), seq, key: word, value: text }),
) as fc.Arbitrary<Frame>;

export const eventFrameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    type: fc.constant('HELLO'),
    proto: fc.integer({ min: 0, max: 99 }),
    firmware: text,
    connectors: connector,
    serial: text,
    caps: fc.subarray([...CAPABILITIES]),
    uptimeSeconds: uint,
  }),
  fc.record({ type: fc.constant('CP'), connector, state: fc.constantFrom(...PILOT_STATES) }),
  fc.record({ type: fc.constant('PP'), connector, amps: fc.constantFrom(...PP_CAPACITIES) }),
  fc.record({ type: fc.constant('RELAY'), connector, closed: fc.boolean() }),
  fc.record({ type: fc.constant('LOCK'), connector, state: fc.constantFrom(...LOCK_STATES) }),
  fc.record({
    type: fc.constant('METER'),
    connector,
    energyWh: orNull(uint),
    powerW: orNull(fc.integer({ min: -50_000, max: 500_000 })),
    voltageV: fc.tuple(orNull(fixedDecimal(1, 0, 500)), orNull(fixedDecimal(1, 0, 500)), orNull(fixedDecimal(1, 0, 500))),
    currentA: fc.tuple(orNull(fixedDecimal(2, 0, 100)), orNull(fixedDecimal(2, 0, 100)), orNull(fixedDecimal(2, 0, 100))),
    temperatureC: orNull(fixedDecimal(1, -40, 150)),
  }),
  fc.record({
    type: fc.constant('RFID'),
    uid: fc.constantFrom(8, 14, 20).chain((n) => fc.stringMatching(new RegExp(`^[0-9A-F]{${n}}$`))),
  }),
  fc.record({ type: fc.constantFrom('FAULT', 'FAULTCLR'), connector, code: word }),
  fc.record({ type: fc.constant('ACK'), seq }),
  fc.record({ type: fc.constant('NAK'), seq, reason: word }),
) as fc.Arbitrary<Frame>;

export const frameArb: fc.Arbitrary<Frame> = fc.oneof(commandFrameArb, eventFrameArb);
