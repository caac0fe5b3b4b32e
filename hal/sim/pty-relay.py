#!/usr/bin/env python3
# Fallback for pty-pair.ts when socat is not installed: two raw pseudo-terminals
# whose masters are relayed byte for byte, slaves published as symlinks.
# Usage: pty-relay.py <agent-link> <controller-link>. Exits (removing the links)
# on SIGTERM/SIGINT or when stdin reaches EOF (the parent died: no orphan).
import errno
import os
import select
import signal
import sys
import tty


def main() -> int:
    if len(sys.argv) != 3:
        sys.stderr.write("usage: pty-relay.py <agent-link> <controller-link>\n")
        return 2
    links = sys.argv[1:3]
    ends = []  # (master fd, slave fd, link path, slave name)
    for link in links:
        master, slave = os.openpty()
        # Raw: no echo, no CR/LF translation, no line editing, 8-bit clean.
        tty.setraw(slave)
        os.set_blocking(master, False)
        # Keeping the slave open means a client closing it never makes the master
        # read fail with EIO, and bytes written before the client opens are kept.
        name = os.ttyname(slave)
        if os.path.islink(link):
            os.unlink(link)
        os.symlink(name, link)
        ends.append((master, slave, link, name))

    def cleanup() -> None:
        for _master, _slave, link, name in ends:
            try:
                # Only remove our own link: a restarted relay may own the path now.
                if os.path.islink(link) and os.readlink(link) == name:
                    os.unlink(link)
            except OSError:
                pass

    def on_signal(_signum, _frame):
        cleanup()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    sys.stdout.write("READY %s %s\n" % (ends[0][3], ends[1][3]))
    sys.stdout.flush()

    stdin_fd = sys.stdin.fileno()
    watch_stdin = True
    masters = [ends[0][0], ends[1][0]]
    try:
        while True:
            rlist = masters + ([stdin_fd] if watch_stdin else [])
            ready, _, _ = select.select(rlist, [], [])
            if watch_stdin and stdin_fd in ready:
                if not os.read(stdin_fd, 4096):
                    return 0  # parent gone
            for i, src in enumerate(masters):
                if src not in ready:
                    continue
                try:
                    data = os.read(src, 4096)
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.EINTR, errno.EIO):
                        continue
                    raise
                if not data:
                    continue
                dst = masters[1 - i]
                try:
                    os.write(dst, data)
                except OSError as e:
                    # Nobody reads the other side and its buffer is full: drop,
                    # as a UART nobody listens to would.
                    if e.errno not in (errno.EAGAIN, errno.EIO):
                        raise
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
