// V8 settings for the agent process, imported first by cli.ts so they hold before the agent's
// modules load. No optimizing compiler (TurboFan): on an idle agent it is about 9 MiB of resident
// memory (its code pages, compiler zones and optimized code: 1.6x a bare node instead of 1.4x) and
// at start it spends CPU a slow board does not have compiling module-resolution code that runs only
// then. The agent handles a few frames a second; the interpreter with the baseline compiler
// (Sparkplug) does that easily. `node --opt dist/src/cli.js ...` keeps TurboFan on.
import { setFlagsFromString } from 'node:v8';

const asked = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
if (!asked.some((a) => a === '--opt' || a === '--turbofan')) setFlagsFromString('--no-opt');
