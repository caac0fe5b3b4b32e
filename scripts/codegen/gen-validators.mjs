// OCPP 1.6 payload validators compiled at build time with ajv's standalone code
// (https://ajv.js.org/standalone), so the agent neither loads ajv nor compiles schemas at start:
// the generated module needs only src/ocpp/rpc/formats.ts (the two formats, and a string length
// in code points where ajv's code would require its runtime helper). Used by gen-ocpp.mjs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv, _ } from 'ajv';
import standaloneCodeModule from 'ajv/dist/standalone/index.js';

const standaloneCode = standaloneCodeModule.default;

/**
 * Make a vendored schema loadable by ajv 8 without touching the file: drop the draft-04 `id` /
 * draft-06 `$id` / `$schema` header (ajv 8 would reject draft-04 and we compile each schema alone),
 * and drop `additionalProperties` placed on non-object types (a quirk of the 2019:12 edition).
 */
export function normalizeSchema(raw) {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TypeError('schema is not an object');
  const clean = (node) => {
    if (Array.isArray(node)) return node.map(clean);
    if (typeof node !== 'object' || node === null) return node;
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'additionalProperties' && node.type !== undefined && node.type !== 'object') continue;
      out[k] = clean(v);
    }
    return out;
  };
  const { $schema: _s, id: _id, $id: _dollarId, ...rest } = raw;
  return clean(rest);
}

/**
 * The ajv options the validators are compiled with. Formats are placeholders here (always valid):
 * the generated code calls the real functions through `code.formats`.
 */
function makeAjv() {
  return new Ajv({
    allErrors: false,
    strict: true,
    // multipleOf: 0.1 on limits: 7.3 / 0.1 = 72.99999999999999 fails a plain check (ajv issue #2353).
    multipleOfPrecision: 9,
    formats: { 'date-time': () => true, uri: () => true },
    keywords: ['javaType'], // annotation in the security-whitepaper schemas
    code: { source: true, esm: true, formats: _`ocppFormats` },
  });
}

// ajv runtime helper -> the expression the generated code uses instead (imported from formats.ts).
const RUNTIME = {
  'ajv/dist/runtime/ucs2length': { expr: 'ucs2length', from: '../../rpc/formats.js' },
};

/**
 * Returns the text of validators.ts for `actions` (rows [action, initiator, profile]) whose schema
 * files are `<folder>/<Action>.json` and `<folder>/<Action>Response.json` under schemaDir.
 */
export function generateValidators(actions, folderOf, schemaDir, banner) {
  const ajv = makeAjv();
  const refs = {};
  const rows = [];
  for (const [action, , profile] of actions) {
    const names = {};
    for (const [direction, suffix] of [['request', ''], ['response', 'Response']]) {
      const file = `${folderOf(profile)}/${action}${suffix}.json`;
      const id = `${action}.${direction}`;
      ajv.addSchema(normalizeSchema(JSON.parse(readFileSync(join(schemaDir, file), 'utf8'))), id);
      const exportName = `${action}_${direction}`;
      refs[exportName] = id;
      names[direction] = exportName;
    }
    rows.push(`  ${action}: { request: ${names.request}, response: ${names.response} },`);
  }
  let code = standaloneCode(ajv, refs);
  // ES module output still `require`s ajv's runtime helpers: make them imports.
  const used = new Set(['ocppFormats']);
  code = code.replace(/require\("([^"]+)"\)\.default/g, (_m, mod) => {
    const local = RUNTIME[mod];
    if (local === undefined) throw new Error(`standalone code needs an unmapped runtime module ${mod}`);
    used.add(local.expr);
    return local.expr;
  });
  if (/\brequire\(/.test(code)) throw new Error('standalone code still contains require()');
  return (
    `// @ts-nocheck -- ajv standalone output below is plain JavaScript; the exported map at the end is typed.\n` +
    banner +
    `// ajv ${ajvVersion()} standalone validators of every OCPP 1.6 request and response (options in scripts/codegen/gen-validators.mjs).\n` +
    `import type { ErrorObject } from 'ajv';\n` +
    `import { ${[...used].sort().join(', ')} } from '../../rpc/formats.js';\n\n` +
    `${code.replace(/^"use strict";/, '').replace(/;(?=(export |const |function ))/g, ';\n')}\n\n` +
    `export interface CompiledValidator {\n  (data: unknown): boolean;\n  errors?: ErrorObject[] | null;\n}\n\n` +
    `/** Action -> compiled request and response validators. */\n` +
    `export const VALIDATORS: { readonly [action: string]: { readonly request: CompiledValidator; readonly response: CompiledValidator } } = {\n` +
    `${rows.join('\n')}\n};\n`
  );
}

function ajvVersion() {
  return createRequire(import.meta.url)('ajv/package.json').version;
}
