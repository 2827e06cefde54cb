# Fills a cache server at about 4 MiB/s with 10 KiB values, and prints the server's own figures:
#   cache_client.py memcached PORT   -> "figure bytes N" / "figure limit_maxbytes N" from memcached's stats
#   cache_client.py redis PORT       -> "figure used_memory N" / "figure maxmemory N" from Redis's INFO memory
# With a third argument "idle" it only reports.
import socket
import sys
import time

kind, port = sys.argv[1], int(sys.argv[2])
fill = len(sys.argv) < 4 or sys.argv[3] != "idle"
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
value = b"v" * 10240


def memcached_stats():
    s.sendall(b"stats\r\n")
    out = {}
    while True:
        line = f.readline().decode().strip()
        if line == "END":
            return out
        parts = line.split()
        if len(parts) == 3:
            out[parts[1]] = parts[2]


def redis_cmd(*args):
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    head = f.readline()
    if head[:1] == b"$":
        n = int(head[1:])
        return f.read(n + 2)[:-2] if n >= 0 else None
    return head


print("ready", flush=True)
i = 0
while True:
    if fill:
        for _ in range(40):
            key = b"key-%d" % i
            i += 1
            if kind == "memcached":
                s.sendall(b"set %s 0 0 %d noreply\r\n%s\r\n" % (key, len(value), value))
            else:
                redis_cmd(b"SET", key, value)
    if kind == "memcached":
        st = memcached_stats()
        print(f"figure bytes {st['bytes']}\nfigure limit_maxbytes {st['limit_maxbytes']}", flush=True)
    else:
        info = redis_cmd(b"INFO", b"memory").decode()
        fields = dict(l.split(":", 1) for l in info.split("\r\n") if ":" in l)
        print(f"figure used_memory {fields['used_memory']}\nfigure maxmemory {fields['maxmemory']}", flush=True)
    time.sleep(0.1)
