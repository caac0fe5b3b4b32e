# Test stand-in for PID 1's notification socket: receives sd_notify datagrams, closes any
# file descriptors passed along (systemd-notify's BARRIER=1 waits for that), prints each
# message on one line ("|" for newlines). Used by test/diagnostics/sd-notify.test.ts.
import array
import os
import socket
import sys

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("listening", flush=True)
while True:
    msg, anc, _flags, _addr = s.recvmsg(8192, socket.CMSG_SPACE(64 * 4))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(msg.decode("utf-8", "replace").strip().replace("\n", "|"), flush=True)
