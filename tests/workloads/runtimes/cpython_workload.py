# One behaviour of a CPython process, for the runtime corpus (tests/MemWatch.IntegrationTests/Runtimes).
# Prints "ready" once in its behaviour, then "figure NAME VALUE" lines: its own account of what it holds.
import mmap
import os
import sys
import threading
import time


def figure(name, value):
    print(f"figure {name} {value}", flush=True)


def blocks():
    figure("allocated_blocks", sys.getallocatedblocks())


def leak():
    kept = []
    print("ready", flush=True)
    i = 0
    while True:
        # About 3 MiB/s of small records (dicts and strings: pymalloc).
        for _ in range(1000):
            kept.append({"id": i, "name": "record-%d" % i})
            i += 1
        blocks()
        time.sleep(0.1)


def pinned():
    # 2.2 million small objects, every 50th kept: the survivors pin nearly every pymalloc arena.
    objects = [("x" * 8, i) for i in range(2_200_000)]
    survivors = objects[::50]
    del objects
    print("ready", flush=True)
    while True:
        blocks()
        figure("survivors", len(survivors))
        time.sleep(1)


def stable():
    kept = [{"id": i} for i in range(300_000)]
    print("ready", flush=True)
    while True:
        blocks()
        figure("kept", len(kept))
        time.sleep(1)


def churn():
    print("ready", flush=True)
    while True:
        # Build and drop: live size constant, pymalloc reuses its pools.
        garbage = [{"id": i, "v": "y" * 16} for i in range(200_000)]
        del garbage
        blocks()
        time.sleep(0.05)


def threads():
    stop = threading.Event()
    started = []
    print("ready", flush=True)
    while True:
        # Threads started and never joined: each waits forever.
        t = threading.Thread(target=stop.wait, daemon=True)
        t.start()
        started.append(t)
        figure("threads", threading.active_count())
        time.sleep(0.2)


def pool():
    stop = threading.Event()
    workers = [threading.Thread(target=lambda: [sum(range(1000)) for _ in iter(lambda: stop.wait(0.05), True)], daemon=True) for _ in range(16)]
    for w in workers:
        w.start()
    print("ready", flush=True)
    while True:
        figure("threads", threading.active_count())
        time.sleep(1)


def shm():
    # A /dev/shm segment touched page by page: RssShmem grows, nothing private does.
    path = sys.argv[2]
    size = 768 << 20
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, size)
    m = mmap.mmap(fd, size)
    print("ready", flush=True)
    touched = 0
    while touched < size:
        for _ in range(256):
            m[touched] = 1
            touched += 4096
        figure("shm_touched", touched)
        time.sleep(0.1)
    while True:
        time.sleep(1)


{"leak": leak, "pinned": pinned, "stable": stable, "churn": churn, "threads": threads, "pool": pool, "shm": shm}[sys.argv[1]]()
