// Raw frame text for a log line (malformed, oversized or ignored frames): truncated, and
// withheld whole when it may carry a secret (a ChangeConfiguration of AuthorizationKey, a
// password, a private key), since such text is never parsed far enough to redact a field.
const SECRET_HINT = /authorizationkey|password|privatekey|private key|basicauth/i;

export function frameTextForLog(text: string, limit: number): string {
  if (SECRET_HINT.test(text)) return `[withheld: ${text.length} characters that may hold a secret]`;
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}
