// Status LEDs: charger indication -> per-LED pattern (steady, blink, flash), with a CSMS-offline
// overlay and one-shot signals (card answers, entering a fault). Pins come from the installer
// config; time from the injected timers, so tests drive it with a fake clock. OCPP BlinkRepeat
// and LightIntensity (1.6 §9.1) arrive through setBlinkRepeat / setLightIntensity.
import type { HalLogger } from '../log.js';
import { SILENT_LOGGER } from '../log.js';
import { REAL_TIMERS, type HalTimers } from '../timers.js';
import { noopGpioLine, type BinaryValue, type GpioLine, type GpioLineFactory } from './gpio-line.js';

export type LedPattern =
  | { readonly kind: 'steady'; readonly on: boolean }
  /** On for half the period, then off for half, starting on. */
  | { readonly kind: 'blink'; readonly periodMs: number }
  /** `times` pulses, then the LED returns to its base pattern (signals only). */
  | { readonly kind: 'flash'; readonly times: number; readonly onMs: number; readonly offMs: number };

export const LED_ON: LedPattern = { kind: 'steady', on: true };
export const LED_OFF: LedPattern = { kind: 'steady', on: false };

export function blink(periodMs: number): LedPattern {
  if (!Number.isFinite(periodMs) || periodMs < 2) throw new RangeError(`blink period ${periodMs} ms: expected >= 2`);
  return { kind: 'blink', periodMs };
}

export function flash(times: number, onMs = 150, offMs = 150): LedPattern {
  if (!Number.isInteger(times) || times < 1) throw new RangeError(`flash ${times} times: expected an integer >= 1`);
  if (!(onMs >= 1 && offMs >= 1)) throw new RangeError('flash on/off times must be >= 1 ms');
  return { kind: 'flash', times, onMs, offMs };
}

/** What the charger shows (the station's overall state, not one connector's). */
export type ChargerIndication = 'available' | 'preparing' | 'charging' | 'suspended' | 'faulted' | 'unavailable';
/** `fault`: shown once when the charger enters `faulted`, before its steady scene. */
export type LedSignal = 'cardAccepted' | 'cardRejected' | 'fault';

/** Signals whose flashes repeat BlinkRepeat times: the ones that ask for attention. */
const REPEATED_SIGNALS: readonly LedSignal[] = ['cardRejected', 'fault'];
export const DEFAULT_BLINK_REPEAT = 3;

export const CHARGER_INDICATIONS: readonly ChargerIndication[] = [
  'available',
  'preparing',
  'charging',
  'suspended',
  'faulted',
  'unavailable',
];

/** LED name -> pattern; an LED a scene does not name is off. Names not configured are ignored. */
export type LedScene = Readonly<Record<string, LedPattern>>;

export type LedScenes = Readonly<Record<ChargerIndication | LedSignal | 'csmsOffline', LedScene>>;

/** Defaults for a green/red/blue board; other LED names need `scenes` in the options. */
export const DEFAULT_LED_SCENES: LedScenes = {
  available: { green: LED_ON },
  preparing: { green: blink(1000) },
  charging: { blue: LED_ON },
  suspended: { blue: blink(2000) },
  faulted: { red: LED_ON },
  unavailable: { red: blink(2000) },
  // Overlay: drives only LEDs the charger state leaves off, so it never hides that state.
  csmsOffline: { red: blink(1000) },
  cardAccepted: { green: flash(3) },
  cardRejected: { red: flash(DEFAULT_BLINK_REPEAT) },
  fault: { red: flash(DEFAULT_BLINK_REPEAT) },
};

export interface LedPinConfig {
  pin: number;
  /** The LED lights when the pin is low. */
  activeLow?: boolean;
}

/** Installer config shape: `{ "green": 17, "red": { "pin": 27, "activeLow": true } }`. */
export type LedConfig = Readonly<Record<string, number | LedPinConfig>>;

export type LedTimers = Pick<HalTimers, 'setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval'>;

export interface StatusLedsOptions {
  leds: LedConfig;
  /** Exports a line per LED (a GpioBackend's `open`). */
  open: GpioLineFactory;
  timers?: LedTimers;
  logger?: HalLogger;
  /** Replaces default scenes one by one. */
  scenes?: Partial<LedScenes>;
  /** Shown until the first setState() (default `unavailable`: state not known yet). */
  initialIndication?: ChargerIndication;
  /** Default false: at boot the CSMS link is not up yet. */
  csmsOnline?: boolean;
}

type Handle = ReturnType<LedTimers['setTimeout']>;

interface Led {
  name: string;
  pin: number;
  activeLow: boolean;
  line: GpioLine;
  pattern: LedPattern | undefined;
  timer: Handle | undefined;
  /** Logical state the pattern asks for. */
  lit: boolean;
  /** Light last written to the line (lit and not dimmed to 0), before activeLow inversion. */
  shown: boolean | undefined;
  writeFailed: boolean;
}

export class StatusLeds {
  private readonly leds: Led[] = [];
  private readonly timers: LedTimers;
  private readonly logger: HalLogger;
  private readonly scenes: LedScenes;
  private indication: ChargerIndication;
  private csmsOnline: boolean;
  private activeSignal: { scene: LedScene; timer: Handle } | undefined;
  private blinkRepeat = DEFAULT_BLINK_REPEAT;
  /** Percent of full brightness; on/off lines can show only 0 (dark) or 100. */
  private intensity = 100;
  private stopped = false;

  constructor(opts: StatusLedsOptions) {
    this.timers = opts.timers ?? REAL_TIMERS;
    this.logger = opts.logger ?? SILENT_LOGGER;
    this.scenes = { ...DEFAULT_LED_SCENES, ...opts.scenes };
    this.indication = opts.initialIndication ?? 'unavailable';
    this.csmsOnline = opts.csmsOnline ?? false;
    for (const [name, cfg] of Object.entries(opts.leds)) {
      const { pin, activeLow = false } = typeof cfg === 'number' ? { pin: cfg } : cfg;
      let line: GpioLine;
      try {
        line = opts.open(pin, 'out');
      } catch (err) {
        this.logger.warn({ led: name, pin, err: String(err) }, 'cannot open LED line: LED disabled');
        line = noopGpioLine();
      }
      this.leds.push({ name, pin, activeLow, line, pattern: undefined, timer: undefined, lit: false, shown: undefined, writeFailed: false });
    }
    this.apply();
  }

  /** The indication currently shown (under any overlay or signal). */
  get state(): ChargerIndication {
    return this.indication;
  }

  setState(indication: ChargerIndication): void {
    const entering = indication === 'faulted' && this.indication !== 'faulted';
    this.indication = indication;
    // The fault announces itself, unless a card signal is showing (its answer must not be cut off).
    if (entering && this.activeSignal === undefined) this.signal('fault');
    else this.apply();
  }

  /** OCPP BlinkRepeat: pulses of the attention signals (card rejected, fault). */
  setBlinkRepeat(times: number): void {
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`BlinkRepeat ${times}: expected an integer >= 1`);
    this.blinkRepeat = times;
  }

  /**
   * OCPP LightIntensity in percent; returns what the LEDs can honour. GPIO lines have no PWM:
   * 0 is dark, anything above is full brightness (100).
   */
  setLightIntensity(percent: number): number {
    if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new RangeError(`LightIntensity ${percent}: expected 0..100`);
    this.intensity = percent > 0 ? 100 : 0;
    if (!this.stopped) for (const led of this.leds) this.write(led, led.lit);
    return this.intensity;
  }

  setCsmsOnline(online: boolean): void {
    this.csmsOnline = online;
    this.apply();
  }

  /** One-shot: the signal's LEDs flash, the others go dark, then the current state returns. */
  signal(which: LedSignal): void {
    if (this.stopped) return;
    if (this.activeSignal !== undefined) this.timers.clearTimeout(this.activeSignal.timer);
    const scene = REPEATED_SIGNALS.includes(which) ? withRepeat(this.scenes[which], this.blinkRepeat) : this.scenes[which];
    let totalMs = 0;
    for (const p of Object.values(scene)) {
      const ms = p.kind === 'flash' ? p.times * (p.onMs + p.offMs) : 0;
      totalMs = Math.max(totalMs, ms);
    }
    // A signal scene without flashes still shows for a moment instead of vanishing unseen.
    const timer = this.timers.setTimeout(() => {
      this.activeSignal = undefined;
      this.apply();
    }, totalMs > 0 ? totalMs : 1000);
    this.activeSignal = { scene, timer };
    // Restart from the first pulse even if the same signal is still flashing.
    for (const led of this.leds) {
      this.cancel(led);
      led.pattern = undefined;
    }
    this.apply();
  }

  /** All LEDs off, lines released; later calls do nothing. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.activeSignal !== undefined) this.timers.clearTimeout(this.activeSignal.timer);
    this.activeSignal = undefined;
    for (const led of this.leds) {
      this.cancel(led);
      this.write(led, false);
      try {
        led.line.unexport();
      } catch (err) {
        this.logger.warn({ led: led.name, pin: led.pin, err: String(err) }, 'LED unexport failed');
      }
    }
  }

  private desired(led: Led): LedPattern {
    if (this.activeSignal !== undefined) return this.activeSignal.scene[led.name] ?? LED_OFF;
    const base = this.scenes[this.indication][led.name];
    if (base !== undefined && !samePattern(base, LED_OFF)) return base;
    if (!this.csmsOnline) return this.scenes.csmsOffline[led.name] ?? LED_OFF;
    return base ?? LED_OFF;
  }

  private apply(): void {
    if (this.stopped) return;
    for (const led of this.leds) {
      const next = this.desired(led);
      // An unchanged pattern keeps running, so a blink does not restart its phase on unrelated changes.
      if (led.pattern !== undefined && samePattern(led.pattern, next)) continue;
      this.cancel(led);
      led.pattern = next;
      this.run(led, next);
    }
  }

  private run(led: Led, p: LedPattern): void {
    switch (p.kind) {
      case 'steady':
        this.write(led, p.on);
        return;
      case 'blink': {
        let on = true;
        this.write(led, on);
        led.timer = this.timers.setInterval(() => {
          on = !on;
          this.write(led, on);
        }, p.periodMs / 2);
        return;
      }
      case 'flash': {
        let remaining = p.times;
        const pulse = (on: boolean): void => {
          this.write(led, on);
          if (on) {
            led.timer = this.timers.setTimeout(() => pulse(false), p.onMs);
          } else if (--remaining > 0) {
            led.timer = this.timers.setTimeout(() => pulse(true), p.offMs);
          } else {
            led.timer = undefined;
          }
        };
        pulse(true);
        return;
      }
    }
  }

  private cancel(led: Led): void {
    if (led.timer === undefined) return;
    // One handle kind per pattern: intervals for blink, timeouts for flash.
    if (led.pattern?.kind === 'blink') this.timers.clearInterval(led.timer);
    else this.timers.clearTimeout(led.timer);
    led.timer = undefined;
  }

  private write(led: Led, lit: boolean): void {
    led.lit = lit;
    const shown = lit && this.intensity > 0;
    if (led.shown === shown) return;
    led.shown = shown;
    const value: BinaryValue = shown !== led.activeLow ? 1 : 0;
    try {
      led.line.writeSync(value);
    } catch (err) {
      if (!led.writeFailed) {
        led.writeFailed = true;
        this.logger.warn({ led: led.name, pin: led.pin, err: String(err) }, 'LED write failed');
      }
    }
  }
}

/** The scene with each flash pulsing `times` times (same on/off timing). */
function withRepeat(scene: LedScene, times: number): LedScene {
  const out: Record<string, LedPattern> = {};
  for (const [name, p] of Object.entries(scene)) out[name] = p.kind === 'flash' ? { ...p, times } : p;
  return out;
}

function samePattern(a: LedPattern, b: LedPattern): boolean {
  switch (a.kind) {
    case 'steady':
      return b.kind === 'steady' && a.on === b.on;
    case 'blink':
      return b.kind === 'blink' && a.periodMs === b.periodMs;
    case 'flash':
      // The same signal still running (a state change mid-signal must not restart its pulses).
      return a === b;
  }
}
