// controller-serial.md §Commands and §Events: one row per frame TYPE.
// Adding a frame is one row here plus its member in the Frame union.

export type PilotState = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';
export type LockState = 'locked' | 'unlocked' | 'failed';
export type Capability = 'RFID' | 'LOCK' | 'METER' | '3PH';
export type ConfigKey = 'METER_MS' | 'WATCHDOG_MS' | 'FALLBACK_A';
export type NakReason = 'BADCONN' | 'BADVALUE' | 'BADKEY' | 'NOLOCK' | 'FAULTED' | 'BUSY';

export const PILOT_STATES: readonly PilotState[] = ['A', 'B', 'C', 'D', 'E', 'F'];
export const LOCK_STATES: readonly LockState[] = ['locked', 'unlocked', 'failed'];
export const CAPABILITIES: readonly Capability[] = ['RFID', 'LOCK', 'METER', '3PH'];
export const CONFIG_KEYS: readonly ConfigKey[] = ['METER_MS', 'WATCHDOG_MS', 'FALLBACK_A'];
export const NAK_REASONS: readonly NakReason[] = ['BADCONN', 'BADVALUE', 'BADKEY', 'NOLOCK', 'FAULTED', 'BUSY'];
export const PP_CAPACITIES: readonly number[] = [0, 13, 20, 32, 63, 70];

/** Agent -> controller. Every command carries a sequence number. */
export type CommandFrame =
  | { type: 'INFO'; seq: number }
  | { type: 'STATUS'; seq: number }
  | { type: 'ENABLE'; seq: number; connector: number; amps: number }
  | { type: 'DISABLE'; seq: number; connector: number }
  | { type: 'UNLOCK'; seq: number; connector: number }
  | { type: 'READ'; seq: number; connector: number }
  | { type: 'CONFIG'; seq: number; key: string; value: string }
  | { type: 'PING'; seq: number }
  | { type: 'RESET'; seq: number };

/** Controller -> agent. Values a field leaves empty ("not available") are null. */
export type EventFrame =
  | {
      type: 'HELLO';
      proto: number;
      firmware: string;
      connectors: number;
      serial: string;
      caps: Capability[];
      uptimeSeconds: number;
    }
  | { type: 'CP'; connector: number; state: PilotState }
  | { type: 'PP'; connector: number; amps: number }
  | { type: 'RELAY'; connector: number; closed: boolean }
  | { type: 'LOCK'; connector: number; state: LockState }
  | {
      type: 'METER';
      connector: number;
      energyWh: number | null;
      powerW: number | null;
      voltageV: [number | null, number | null, number | null];
      currentA: [number | null, number | null, number | null];
      temperatureC: number | null;
    }
  | { type: 'RFID'; uid: string }
  | { type: 'FAULT'; connector: number; code: string }
  | { type: 'FAULTCLR'; connector: number; code: string }
  | { type: 'ACK'; seq: number }
  | { type: 'NAK'; seq: number; reason: string };

export type Frame = CommandFrame | EventFrame;
export type FrameType = Frame['type'];
export type FrameOf<T extends FrameType> = Extract<Frame, { type: T }>;

/** A field parser returns the value, or undefined when the text is not valid for the field. */
type FieldParser<V> = (text: string) => V | undefined;

const DECIMAL_INT = /^(0|[1-9][0-9]*)$/;
const SIGNED_DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const AMPS = /^(0|[1-9][0-9]*)(\.[0-9])?$/;

export const field = {
  seq: ((t) => {
    if (!DECIMAL_INT.test(t)) return undefined;
    const n = Number(t);
    return n >= 1 && n <= 65535 ? n : undefined;
  }) as FieldParser<number>,
  /** Connector number; 0 is the station. */
  connector: ((t) => (DECIMAL_INT.test(t) && t.length <= 3 ? Number(t) : undefined)) as FieldParser<number>,
  uint: ((t) => (DECIMAL_INT.test(t) && t.length <= 15 ? Number(t) : undefined)) as FieldParser<number>,
  /** Up to one fraction digit (ENABLE amps): 0, or 6.0..80.0 is checked by the receiver, not the codec. */
  amps: ((t) => (AMPS.test(t) ? Number(t) : undefined)) as FieldParser<number>,
  decimal: ((t) => (SIGNED_DECIMAL.test(t) && t.length <= 16 ? Number(t) : undefined)) as FieldParser<number>,
  /** Empty means "not available". */
  optionalDecimal: ((t) => (t === '' ? null : SIGNED_DECIMAL.test(t) && t.length <= 16 ? Number(t) : undefined)) as FieldParser<
    number | null
  >,
  optionalUint: ((t) => (t === '' ? null : DECIMAL_INT.test(t) && t.length <= 15 ? Number(t) : undefined)) as FieldParser<
    number | null
  >,
  pilot: ((t) => (PILOT_STATES as readonly string[]).includes(t) ? (t as PilotState) : undefined) as FieldParser<PilotState>,
  lock: ((t) => (LOCK_STATES as readonly string[]).includes(t) ? (t as LockState) : undefined) as FieldParser<LockState>,
  relay: ((t) => (t === '0' ? false : t === '1' ? true : undefined)) as FieldParser<boolean>,
  ppAmps: ((t) => (DECIMAL_INT.test(t) && PP_CAPACITIES.includes(Number(t)) ? Number(t) : undefined)) as FieldParser<number>,
  /** Upper-case hex of 8, 14 or 20 digits. */
  uid: ((t) => (/^([0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$/.test(t) ? t : undefined)) as FieldParser<string>,
  caps: ((t) => {
    if (t === '') return [] as Capability[];
    const parts = t.split('|');
    if (!parts.every((p) => (CAPABILITIES as readonly string[]).includes(p))) return undefined;
    return parts as Capability[];
  }) as FieldParser<Capability[]>,
  /** Codes and keys: upper-case words, digits and `_` (a reason a newer controller adds still decodes). */
  word: ((t) => (/^[A-Z0-9_]{1,32}$/.test(t) ? t : undefined)) as FieldParser<string>,
  /** Free text without separators (versions, serial numbers, config values). */
  text: ((t) => (t.length > 0 && t.length <= 64 ? t : undefined)) as FieldParser<string>,
};

export interface FrameSpec {
  direction: 'command' | 'event';
  /** Field names in wire order. */
  fields: readonly string[];
  /** Decodes the split fields (already the right count) or returns undefined for a bad value. */
  decode(f: readonly string[]): Frame | undefined;
  /** Field texts in wire order. */
  encode(frame: Frame): string[];
}

/** Amps with one fraction digit at most, without trailing zeros: 16 -> "16", 7.5 -> "7.5". */
export function formatAmps(amps: number): string {
  return String(Math.round(amps * 10) / 10);
}

/**
 * Fixed-point text for METER values, as in vectors.txt (V and degC 1 digit, A 2 digits, Wh and W integers):
 * String() would write computed floats as `0.30000000000000004` or `1e-7`, which the decoder rejects.
 */
function fixed(n: number | null, digits: number): string {
  return n === null ? '' : n.toFixed(digits);
}

function all<T extends readonly unknown[]>(...values: T): { [K in keyof T]: Exclude<T[K], undefined> } | undefined {
  return values.some((v) => v === undefined) ? undefined : (values as { [K in keyof T]: Exclude<T[K], undefined> });
}

function seqOnly<T extends 'INFO' | 'STATUS' | 'PING' | 'RESET'>(type: T): FrameSpec {
  return {
    direction: 'command',
    fields: ['seq'],
    decode: (f) => {
      const seq = field.seq(f[0]!);
      return seq === undefined ? undefined : ({ type, seq } as Frame);
    },
    encode: (fr) => [String((fr as { seq: number }).seq)],
  };
}

function seqConnector<T extends 'DISABLE' | 'UNLOCK' | 'READ'>(type: T): FrameSpec {
  return {
    direction: 'command',
    fields: ['seq', 'connector'],
    decode: (f) => {
      const v = all(field.seq(f[0]!), field.connector(f[1]!));
      return v && ({ type, seq: v[0], connector: v[1] } as Frame);
    },
    encode: (fr) => {
      const c = fr as { seq: number; connector: number };
      return [String(c.seq), String(c.connector)];
    },
  };
}

function connectorCode<T extends 'FAULT' | 'FAULTCLR'>(type: T): FrameSpec {
  return {
    direction: 'event',
    fields: ['connector', 'code'],
    decode: (f) => {
      const v = all(field.connector(f[0]!), field.word(f[1]!));
      return v && ({ type, connector: v[0], code: v[1] } as Frame);
    },
    encode: (fr) => {
      const e = fr as { connector: number; code: string };
      return [String(e.connector), e.code];
    },
  };
}

export const FRAME_TABLE: Readonly<Record<FrameType, FrameSpec>> = {
  INFO: seqOnly('INFO'),
  STATUS: seqOnly('STATUS'),
  PING: seqOnly('PING'),
  RESET: seqOnly('RESET'),
  DISABLE: seqConnector('DISABLE'),
  UNLOCK: seqConnector('UNLOCK'),
  READ: seqConnector('READ'),
  ENABLE: {
    direction: 'command',
    fields: ['seq', 'connector', 'amps'],
    decode: (f) => {
      const v = all(field.seq(f[0]!), field.connector(f[1]!), field.amps(f[2]!));
      return v && { type: 'ENABLE', seq: v[0], connector: v[1], amps: v[2] };
    },
    encode: (fr) => {
      const c = fr as FrameOf<'ENABLE'>;
      return [String(c.seq), String(c.connector), formatAmps(c.amps)];
    },
  },
  CONFIG: {
    direction: 'command',
    fields: ['seq', 'key', 'value'],
    decode: (f) => {
      const v = all(field.seq(f[0]!), field.word(f[1]!), field.text(f[2]!));
      return v && { type: 'CONFIG', seq: v[0], key: v[1], value: v[2] };
    },
    encode: (fr) => {
      const c = fr as FrameOf<'CONFIG'>;
      return [String(c.seq), c.key, c.value];
    },
  },
  HELLO: {
    direction: 'event',
    fields: ['proto', 'fw', 'connectors', 'serial', 'caps', 'uptime'],
    decode: (f) => {
      const v = all(field.uint(f[0]!), field.text(f[1]!), field.connector(f[2]!), field.text(f[3]!), field.caps(f[4]!), field.uint(f[5]!));
      return (
        v && { type: 'HELLO', proto: v[0], firmware: v[1], connectors: v[2], serial: v[3], caps: v[4], uptimeSeconds: v[5] }
      );
    },
    encode: (fr) => {
      const h = fr as FrameOf<'HELLO'>;
      return [String(h.proto), h.firmware, String(h.connectors), h.serial, h.caps.join('|'), String(h.uptimeSeconds)];
    },
  },
  CP: {
    direction: 'event',
    fields: ['connector', 'state'],
    decode: (f) => {
      const v = all(field.connector(f[0]!), field.pilot(f[1]!));
      return v && { type: 'CP', connector: v[0], state: v[1] };
    },
    encode: (fr) => {
      const e = fr as FrameOf<'CP'>;
      return [String(e.connector), e.state];
    },
  },
  PP: {
    direction: 'event',
    fields: ['connector', 'amps'],
    decode: (f) => {
      const v = all(field.connector(f[0]!), field.ppAmps(f[1]!));
      return v && { type: 'PP', connector: v[0], amps: v[1] };
    },
    encode: (fr) => {
      const e = fr as FrameOf<'PP'>;
      return [String(e.connector), String(e.amps)];
    },
  },
  RELAY: {
    direction: 'event',
    fields: ['connector', 'closed'],
    decode: (f) => {
      const v = all(field.connector(f[0]!), field.relay(f[1]!));
      return v && { type: 'RELAY', connector: v[0], closed: v[1] };
    },
    encode: (fr) => {
      const e = fr as FrameOf<'RELAY'>;
      return [String(e.connector), e.closed ? '1' : '0'];
    },
  },
  LOCK: {
    direction: 'event',
    fields: ['connector', 'state'],
    decode: (f) => {
      const v = all(field.connector(f[0]!), field.lock(f[1]!));
      return v && { type: 'LOCK', connector: v[0], state: v[1] };
    },
    encode: (fr) => {
      const e = fr as FrameOf<'LOCK'>;
      return [String(e.connector), e.state];
    },
  },
  METER: {
    direction: 'event',
    fields: ['connector', 'wh', 'w', 'v1', 'v2', 'v3', 'a1', 'a2', 'a3', 'temp'],
    decode: (f) => {
      const d = field.optionalDecimal;
      const v = all(
        field.connector(f[0]!),
        field.optionalUint(f[1]!),
        d(f[2]!),
        d(f[3]!),
        d(f[4]!),
        d(f[5]!),
        d(f[6]!),
        d(f[7]!),
        d(f[8]!),
        d(f[9]!),
      );
      return (
        v && {
          type: 'METER',
          connector: v[0],
          energyWh: v[1],
          powerW: v[2],
          voltageV: [v[3], v[4], v[5]],
          currentA: [v[6], v[7], v[8]],
          temperatureC: v[9],
        }
      );
    },
    encode: (fr) => {
      const m = fr as FrameOf<'METER'>;
      return [
        String(m.connector),
        fixed(m.energyWh, 0),
        fixed(m.powerW, 0),
        ...m.voltageV.map((v) => fixed(v, 1)),
        ...m.currentA.map((a) => fixed(a, 2)),
        fixed(m.temperatureC, 1),
      ];
    },
  },
  RFID: {
    direction: 'event',
    fields: ['uid'],
    decode: (f) => {
      const uid = field.uid(f[0]!);
      return uid === undefined ? undefined : { type: 'RFID', uid };
    },
    encode: (fr) => [(fr as FrameOf<'RFID'>).uid],
  },
  FAULT: connectorCode('FAULT'),
  FAULTCLR: connectorCode('FAULTCLR'),
  ACK: {
    direction: 'event',
    fields: ['seq'],
    decode: (f) => {
      const seq = field.seq(f[0]!);
      return seq === undefined ? undefined : { type: 'ACK', seq };
    },
    encode: (fr) => [String((fr as FrameOf<'ACK'>).seq)],
  },
  NAK: {
    direction: 'event',
    fields: ['seq', 'reason'],
    decode: (f) => {
      const v = all(field.seq(f[0]!), field.word(f[1]!));
      return v && { type: 'NAK', seq: v[0], reason: v[1] };
    },
    encode: (fr) => {
      const n = fr as FrameOf<'NAK'>;
      return [String(n.seq), n.reason];
    },
  },
};

export function isFrameType(t: string): t is FrameType {
  return Object.prototype.hasOwnProperty.call(FRAME_TABLE, t);
}
