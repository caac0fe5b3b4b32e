// errorText (src/platform/errors.ts) and hal's twin (hal/log.ts): the one way a thrown value
// becomes log text. Anything can be thrown, so a non-Error must give text, never a crash.
import { describe, expect, it } from 'vitest';
import { errorText } from '../../src/platform/errors.js';
import { errorText as halErrorText } from '../../hal/log.js';

describe.each([
  ['src/platform/errors.ts', errorText],
  ['hal/log.ts', halErrorText],
])('errorText (%s)', (_where, text) => {
  it('gives the message of an Error, without the class name or stack', () => {
    expect(text(new RangeError('out of range'))).toBe('out of range');
  });

  it('stringifies anything else that was thrown', () => {
    expect(text('plain string')).toBe('plain string');
    expect(text(42)).toBe('42');
    expect(text(undefined)).toBe('undefined');
    expect(text(null)).toBe('null');
    expect(text({ code: 'X' })).toBe('[object Object]');
  });
});
