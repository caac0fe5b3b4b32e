// What the compiled validators (src/ocpp/v16/generated/validators.ts) call: the two JSON-schema
// formats the OCPP 1.6 schemas use (strict RFC 3339 date-time, lenient uri) and the string length
// of minLength/maxLength, so they need nothing from ajv at run time.

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** RFC 3339 §5.6 date-time: full-date "T" full-time, offset required, ranges checked (leap years too). */
export function isRfc3339DateTime(text: string): boolean {
  const m = DATE_TIME.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number, number, number, number, number, number,
  ];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (days === undefined || day < 1 || day > days) return false;
  if (hour > 23 || minute > 59 || second > 60) return false; // 60: leap second (RFC 3339 §5.7)
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return true;
}

/** Lenient `uri`: a scheme (RFC 3986 §3.1) followed by non-blank text; the CSMS owns the details. */
export function isLenientUri(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(text);
}

/** Format name -> check, looked up by the generated validators. */
export const ocppFormats: { readonly [format: string]: (text: string) => boolean } = {
  'date-time': isRfc3339DateTime,
  uri: isLenientUri,
};

/** String length in Unicode code points (JSON Schema minLength/maxLength; a surrogate pair is one). */
export function ucs2length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
