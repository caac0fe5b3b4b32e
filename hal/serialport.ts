// serialport's SerialPort class, required from the one file that defines it. The package's entry
// (and its ESM import, which makes Node lex every CommonJS file for named exports) also loads ten
// stream parsers and a mock binding the agent never uses: start-up CPU a slow board feels
// (docs/benchmarks.md, start-up). The class is the same one `import { SerialPort } from 'serialport'` gives.
import { createRequire } from 'node:module';
import type { SerialPort as SerialPortClass } from 'serialport';

interface SerialPortModule {
  SerialPort: typeof SerialPortClass;
}

export const SerialPort = (createRequire(import.meta.url)('serialport/dist/serialport.js') as SerialPortModule).SerialPort;
export type SerialPort = SerialPortClass;
