#!/usr/bin/env python3
# The receiving end of --console-socket, as containerd's shim and conmon are: listen on PATH,
# take the pty master that the runtime sends (SCM_RIGHTS), and copy what the container writes
# to it into OUT until the terminal closes. Prints "ready" once listening.
import os, socket, sys

path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
_, fds, _, _ = socket.recv_fds(conn, 1024, 1)
conn.close()
srv.close()
with open(out, "wb") as f:
    while True:
        try:
            data = os.read(fds[0], 4096)
        except OSError:  # EIO: the last holder of the terminal's other side is gone
            break
        if not data:
            break
        f.write(data)
        f.flush()
