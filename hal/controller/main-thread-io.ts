// serialport's Unix binding reads and writes the device in libuv's thread pool: every frame
// out costs a pool thread wakeup and a main-thread wakeup for its completion, every frame in
// two of each (the read, then the read that finds nothing more). The device is open
// non-blocking (O_NONBLOCK), so the same read(2)/write(2) return at once on the main thread;
// when there is nothing to read or no room to write, they wait on serialport's own poller
// (epoll), as serialport does. Open, termios, poller, close and the stream's error handling
// stay serialport's: this binding only changes where the two system calls run, and it also
// keeps serial I/O going while other work (DNS, fs, zlib) fills the thread pool.
import { readSync, writeSync } from 'node:fs';
import { SerialPort } from '../serialport.js';

interface PollerLike {
  once(event: 'readable' | 'writable', callback: (err: Error | null) => void): unknown;
}

/** The parts of serialport's Unix port binding this module uses (LinuxPortBinding, DarwinPortBinding). */
interface UnixPortLike {
  fd: number | null;
  poller: PollerLike;
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
  write(buffer: Buffer): Promise<void>;
  drain(): Promise<void>;
}

interface BindingLike {
  open(options: object): Promise<object>;
  list(): Promise<unknown[]>;
}

/** What serialport's unixRead/unixWrite treat as "try again when the poller says so". */
const RETRY = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);
/** And as the device gone (the stream closes the port on any read error either way). */
const DISCONNECT = new Set(['EBADF', 'ENXIO', 'UNKNOWN']);

function isUnixPort(port: object): port is UnixPortLike {
  const p = port as Partial<UnixPortLike>;
  return typeof p.fd === 'number' && typeof p.poller?.once === 'function' && typeof p.read === 'function' && typeof p.write === 'function';
}

/** serialport's stream ignores a canceled read (port closing) instead of treating it as a disconnect. */
const notOpen = (): Error => Object.assign(new Error('Port is not open'), { canceled: true });

function waitFor(poller: PollerLike, event: 'readable' | 'writable'): Promise<void> {
  return new Promise((resolve, reject) => {
    poller.once(event, (err) => (err ? reject(err) : resolve()));
  });
}

/** Rethrows a system call error unless it means "not now"; marks it as a disconnect like serialport does. */
function retryable(err: unknown): true {
  const e = err as NodeJS.ErrnoException & { disconnect?: boolean };
  if (RETRY.has(e.code ?? '')) return true;
  if (DISCONNECT.has(e.code ?? '') || e.errno === -1) e.disconnect = true;
  throw e;
}

function runIoOnMainThread(port: UnixPortLike): void {
  let writing: Promise<void> = Promise.resolve();
  port.read = async (buffer, offset, length) => {
    for (;;) {
      const fd = port.fd;
      if (fd === null) throw notOpen();
      try {
        const bytesRead = readSync(fd, buffer, offset, length, null);
        if (bytesRead > 0) return { buffer, bytesRead };
      } catch (err) {
        retryable(err);
      }
      // Nothing there (or 0 bytes, which serialport also reads again): wait on the poller.
      await waitFor(port.poller, 'readable');
    }
  };
  port.write = (buffer) => {
    const run = async (): Promise<void> => {
      let offset = 0;
      while (offset < buffer.length) {
        const fd = port.fd;
        if (fd === null) throw new Error('Port is not open');
        try {
          const written = writeSync(fd, buffer, offset, buffer.length - offset);
          offset += written;
          if (written > 0) continue;
        } catch (err) {
          retryable(err);
        }
        await waitFor(port.poller, 'writable');
      }
    };
    writing = run();
    return writing;
  };
  // serialport's drain waits for its own pending write, which this binding bypasses.
  const drain = port.drain.bind(port);
  port.drain = async () => {
    await writing.catch(() => undefined);
    await drain();
  };
}

let binding: BindingLike | null = null;

/** serialport's detected binding, with read and write on the main thread for Unix ports. */
export function mainThreadBinding(): unknown {
  if (binding) return binding;
  const base = SerialPort.binding as unknown as BindingLike;
  binding = {
    list: () => base.list(),
    open: async (options) => {
      const port = await base.open(options);
      if (isUnixPort(port)) runIoOnMainThread(port);
      return port;
    },
  };
  return binding;
}
