// Types for the parts of gen-validators.mjs that tests import.
export function normalizeSchema(raw: unknown): Record<string, unknown>;
export function generateValidators(
  actions: ReadonlyArray<readonly [action: string, initiator: string, profile: string]>,
  folderOf: (profile: string) => string,
  schemaDir: string,
  banner: string,
): Record<string, string>;
