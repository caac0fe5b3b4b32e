# Runs a command with a pseudo-terminal as its stdin/stdout/stderr (so isTTY is true), sends it
# SIGTERM once it printed "agent running" (logged after its signal handlers are installed;
# SIGKILL after 30 s without it), then prints all it wrote and exits with its exit code.
# Used by test/e2e/logging.test.ts.
import os, pty, select, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b''
deadline = time.time() + 30
sent = False
while True:
    if not sent and time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        sent = True
    if not select.select([fd], [], [], 1.0)[0]:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if not sent and b'agent running' in out:
        os.kill(pid, signal.SIGTERM)
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
