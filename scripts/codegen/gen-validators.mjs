// OCPP 1.6 payload validators compiled at build time with ajv's standalone code
// (https://ajv.js.org/standalone), so the agent neither loads ajv nor compiles schemas at start:
// the generated code needs only src/ocpp/rpc/formats.ts (the two formats, and a string length
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

// ajv runtime helper -> the expression the generated code uses instead (a parameter of each
// action's factory, passed from formats.ts by validators.ts).
const RUNTIME = {
  'ajv/dist/runtime/ucs2length': { expr: 'ucs2length' },
};

/**
 * Returns the generated files for `actions` (rows [action, initiator, profile]) whose schema files
 * are `<folder>/<Action>.json` and `<folder>/<Action>Response.json` under schemaDir:
 * `validators/<Action>.cjs`, one per action, and `validators.ts`, which requires an action's file on
 * its first use. Only the actions a start-up uses are parsed then: the whole set is half a megabyte
 * of code, a measurable part of start-up on a slow board. CommonJS, so a first use stays synchronous.
 */
export function generateValidators(actions, folderOf, schemaDir, banner) {
  const ajv = makeAjv();
  const files = {};
  const getters = [];
  for (const [action, , profile] of actions) {
    for (const [direction, suffix] of [['request', ''], ['response', 'Response']]) {
      const file = `${folderOf(profile)}/${action}${suffix}.json`;
      ajv.addSchema(normalizeSchema(JSON.parse(readFileSync(join(schemaDir, file), 'utf8'))), `${action}.${direction}`);
    }
    let code = standaloneCode(ajv, { request: `${action}.request`, response: `${action}.response` });
    // The runtime helpers and the formats are the factory's parameters (formats.ts is an ES module).
    code = code.replace(/require\("([^"]+)"\)\.default/g, (_m, mod) => {
      const local = RUNTIME[mod];
      if (local === undefined) throw new Error(`standalone code needs an unmapped runtime module ${mod}`);
      return local.expr;
    });
    if (/\brequire\(/.test(code)) throw new Error('standalone code still contains require()');
    code = code.replace(/^"use strict";/, '').replace(/export const (request|response) = /g, 'const $1 = ');
    if (/\bexport\b/.test(code.replace(/"(?:[^"\\]|\\.)*"/g, ''))) throw new Error(`standalone code of ${action} still exports`);
    files[`validators/${action}.cjs`] =
      banner +
      `// ajv ${ajvVersion()} standalone validators of the OCPP 1.6 ${action} request and response, required by ../validators.ts.\n` +
      `'use strict';\n` +
      `module.exports = (ocppFormats, ucs2length) => {\n` +
      `${code.replace(/;(?=(const |function ))/g, ';\n')}\n` +
      `return { request, response };\n};\n`;
    getters.push(`  get ${action}() {\n    return load('${action}');\n  },`);
  }
  files['validators.ts'] =
    banner +
    `// ajv ${ajvVersion()} standalone validators of every OCPP 1.6 request and response (options in scripts/codegen/gen-validators.mjs),\n` +
    `// one CommonJS file per action in validators/, required on the action's first use.\n` +
    `import { createRequire } from 'node:module';\n` +
    `import type { ErrorObject } from 'ajv';\n` +
    `import { ocppFormats, ucs2length } from '../../rpc/formats.js';\n\n` +
    `export interface CompiledValidator {\n  (data: unknown): boolean;\n  errors?: ErrorObject[] | null;\n}\n\n` +
    `export interface ActionValidators {\n  readonly request: CompiledValidator;\n  readonly response: CompiledValidator;\n}\n\n` +
    `type ActionValidatorsFactory = (formats: typeof ocppFormats, length: typeof ucs2length) => ActionValidators;\n\n` +
    `const require = createRequire(import.meta.url);\n` +
    `const loaded = new Map<string, ActionValidators>();\n\n` +
    `function load(action: string): ActionValidators {\n` +
    `  let validators = loaded.get(action);\n` +
    `  if (validators === undefined) {\n` +
    `    validators = (require(\`./validators/\${action}.cjs\`) as ActionValidatorsFactory)(ocppFormats, ucs2length);\n` +
    `    loaded.set(action, validators);\n  }\n  return validators;\n}\n\n` +
    `/** Action -> compiled request and response validators (each action's file is required on first access). */\n` +
    `export const VALIDATORS: { readonly [action: string]: ActionValidators } = {\n` +
    `${getters.join('\n')}\n};\n`;
  return files;
}

function ajvVersion() {
  return createRequire(import.meta.url)('ajv/package.json').version;
}
