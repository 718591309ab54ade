"""The observer of ``bench/agent_chat.py``, in its own process so that the load's client cannot delay it.

::

    .venv/bin/python -P bench/agent_probe.py --url http://127.0.0.1:18503 --pid 1234 --out samples.jsonl

Every ``--interval`` seconds (default 0.1) until terminated: ``GET /api/v1/health`` on one kept-alive
connection (latency in ms, status), and the server process's thread count and resident memory
(``/proc/<pid>/status``). One JSON object per line, flushed as it goes.
"""

import argparse
import http.client
import json
import signal
import sys
import time
from urllib.parse import urlsplit


def process_status(pid: int) -> dict:
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("Threads", "VmRSS"):
                values[name] = int(value.split()[0])
    return {"threads": values.get("Threads"), "rss_kb": values.get("VmRSS")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--path", default="/api/v1/health")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    parts = urlsplit(args.url)
    connection = None
    with open(args.out, "a") as out:
        next_at = time.monotonic()
        while True:
            sample = {"t": time.time(), **process_status(args.pid)}
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                connection.request("GET", args.path)
                response = connection.getresponse()
                response.read()
                sample["status"] = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as exc:
                sample["status"], sample["error"] = 0, type(exc).__name__
                connection = None
            sample["ms"] = (time.perf_counter() - started) * 1000
            out.write(json.dumps(sample) + "\n")
            out.flush()
            next_at += args.interval
            time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    main()
