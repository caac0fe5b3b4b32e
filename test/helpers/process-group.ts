// Children started through a wrapper that forks (libfaketime's `faketime` forks and waits, so a
// signal to it never reaches the agent): run them in their own process group and stop the group.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export function spawnInGroup(cmd: string, args: string[], opts: SpawnOptions): ChildProcess {
  return spawn(cmd, args, { ...opts, detached: true });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

/** SIGTERM to every process of the group, SIGKILL after graceMs; resolves once none is left. */
export async function stopGroup(child: ChildProcess, graceMs = 5_000): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined || !groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGTERM');
  const killAt = Date.now() + graceMs;
  while (groupAlive(pgid)) {
    if (Date.now() >= killAt) signalGroup(pgid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
  }
}
