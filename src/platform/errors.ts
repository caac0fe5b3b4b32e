// The one way src/ turns a thrown value into text for logs and error messages: anything can be
// thrown in JavaScript, so a non-Error is stringified rather than crashing the handler.

/** `err.message` for an Error, `String(err)` for anything else. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
