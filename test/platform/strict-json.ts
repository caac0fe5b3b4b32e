// A JSON reader for tests that also reports duplicate object keys, which JSON.parse silently
// resolves (the last one wins) and other readers reject or resolve differently.
export interface StrictParse {
  value: unknown;
  /** Every key met twice in one object, as `path.key`. */
  duplicates: string[];
}

export function parseStrictJson(text: string): StrictParse {
  const duplicates: string[] = [];
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at ${i} in ${text.slice(0, 200)}`);
  };
  const string = (): string => {
    const start = i;
    if (text[i] !== '"') fail('string expected');
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') return i++, obj;
      for (;;) {
        ws();
        const key = string();
        if (seen.has(key)) duplicates.push(`${path}${key}`);
        seen.add(key);
        ws();
        if (text[i++] !== ':') fail('colon expected');
        obj[key] = value(`${path}${key}.`);
        ws();
        const sep = text[i++];
        if (sep === '}') return obj;
        if (sep !== ',') fail('comma expected');
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') return i++, arr;
      for (;;) {
        arr.push(value(`${path}[].`));
        ws();
        const sep = text[i++];
        if (sep === ']') return arr;
        if (sep !== ',') fail('comma expected');
      }
    }
    if (c === '"') return string();
    const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 64));
    if (!m) return fail('value expected');
    i += m[0].length;
    return JSON.parse(m[0]) as unknown;
  };
  const result = value('');
  ws();
  if (i !== text.length) fail('trailing text');
  return { value: result, duplicates };
}
