"""Throughput and latency of `spacy-medical serve` against the batch annotator, same notes, same run.

1. Batch baseline: `annotate()` (the `spacy-medical annotate` job: CSV in, JSONL out) on N notes,
   one process.
2. Service: `spacy-medical serve` started as its own process on a loopback port; 8 client threads
   (one keep-alive connection each) post the same N notes, one note per request. words/s of both
   and their ratio (target: service >= 0.7x batch). Rounds are interleaved; the best of each counts.
3. Load test: R requests (default 2,000) at concurrency 16, each a note cut to 500 words: p50/p95/
   max latency, errors (non-200 answers or broken connections) and the server's RSS sampled
   every 10% of the requests plus its peak (VmHWM), to show it stays flat.

Notes are ACI-Bench reference notes (cycled), read from ../shared/corpora. Writes
metrics/service_throughput.json. Run on demand; never as a test.

Usage: python bench/service_throughput.py [--model en_medical_sm|PATH|tiny] [--n-notes 400]
       [--requests 2000] [--rounds 2]
"""
import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _notes import resolve_model, write_export  # noqa: E402

from spacy_medical.batch import annotate  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_status(pid: int, key: str) -> float:
    """A memory line of /proc/PID/status (VmRSS, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Clients:
    """Client threads, each with its own keep-alive connection, posting one note per request."""

    def __init__(self, port: int, concurrency: int) -> None:
        self.port = port
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(concurrency)
        self.lock = threading.Lock()
        self.reconnects = 0

    def _connection(self) -> http.client.HTTPConnection:
        if getattr(self.local, "connection", None) is None:
            self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        return self.local.connection

    def post(self, note: Dict[str, str]) -> Tuple[bool, float]:
        """RETURNS (Tuple[bool, float]): whether the right record came back, and the latency.

        A kept-alive connection that the server closed while idle (uvicorn closes them after
        5 s) fails before any answer: like urllib3, the request is sent again once on a new
        connection, and counted in `reconnects`, not as an error."""
        start = time.perf_counter()
        for attempt in (1, 2):
            reused = getattr(self.local, "connection", None) is not None
            try:
                connection = self._connection()
                connection.request("POST", "/annotate", body=json.dumps(note), headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                body = response.read()
                return response.status == 200 and json.loads(body)["note_id"] == note["note_id"], time.perf_counter() - start
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.local.connection = None
                if not reused or attempt == 2:
                    break
                with self.lock:
                    self.reconnects += 1
            except (OSError, http.client.HTTPException, ValueError):
                self.local.connection = None
                break
        return False, time.perf_counter() - start

    def run(self, notes: List[Dict[str, str]]) -> List[Tuple[bool, float]]:
        return list(self.pool.map(self.post, notes))


def start_server(model: str, port: int, max_chars: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "spacy_medical.cli", "serve", "--model", model, "--port", str(port),
               "--max-chars", str(max_chars)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1200):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
    raise SystemExit("the server did not start in 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="en_medical_sm")
    parser.add_argument("--n-notes", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--words", type=int, default=500, help="Words per note of the load test")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=Path("metrics/service_throughput.json"))
    args = parser.parse_args()
    # The machine's load (other users of the CPUs) before and after: the ratios are of one run.
    load_average = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        model = resolve_model(args.model, Path(tmp))
        src = Path(tmp) / "export.csv"
        texts = write_export(src, args.n_notes)
        port = free_port()
        server = start_server(model, port, max_chars=max(len(t) for t in texts) + 1)
        words = sum(len(t.split()) for t in texts)
        try:
            clients = Clients(port, args.clients)
            notes = [{"note_id": f"SYN{i:07d}", "text": t} for i, t in enumerate(texts)]
            clients.run(notes[: args.clients * 4])  # warm-up: connections, first batches
            batch_s, service_s, service_errors = [], [], 0
            import spacy

            nlp = spacy.load(model)
            list(nlp.pipe(texts[:20]))  # warm-up
            for _ in range(args.rounds):
                start = time.perf_counter()
                result = annotate(src, Path(tmp) / "out.jsonl", model=nlp, progress=False)
                batch_s.append(time.perf_counter() - start)
                assert result.annotated == args.n_notes, result.accounting
                start = time.perf_counter()
                answers = clients.run(notes)
                service_s.append(time.perf_counter() - start)
                service_errors += sum(not ok for ok, _ in answers)
            del nlp
            # Load test: notes cut to --words words, at --concurrency.
            load = Clients(port, args.concurrency)
            cut = [" ".join(t.split()[: args.words]) for t in texts if len(t.split()) >= args.words] or texts
            load_notes = [{"note_id": f"L{i:06d}", "text": cut[i % len(cut)]} for i in range(args.requests)]
            rss, latencies, errors = [proc_status(server.pid, "VmRSS")], [], 0
            step = max(1, args.requests // 10)
            load_start = time.perf_counter()
            for begin in range(0, args.requests, step):
                answers = load.run(load_notes[begin:begin + step])
                latencies += [latency for _, latency in answers]
                errors += sum(not ok for ok, _ in answers)
                rss.append(proc_status(server.pid, "VmRSS"))
            load_s = time.perf_counter() - load_start
            peak = proc_status(server.pid, "VmHWM")
            load_average.append(os.getloadavg()[0])
        finally:
            server.terminate()
            server.wait(30)
    batch_wps, service_wps = words / min(batch_s), words / min(service_s)
    quantiles = statistics.quantiles(latencies, n=100)
    report = {
        "model": args.model if model == args.model else "tiny (blank + entity_ruler)",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "notes": args.n_notes, "words": words, "rounds": args.rounds, "clients": args.clients,
        "batch_words_per_s": round(batch_wps), "service_words_per_s": round(service_wps),
        "service_over_batch": round(service_wps / batch_wps, 3), "throughput_errors": service_errors,
        "throughput_reconnects": clients.reconnects, "load_average_1min": [round(x, 1) for x in load_average],
        "load": {
            "requests": args.requests, "concurrency": args.concurrency, "words_per_note": args.words,
            "p50_ms": round(quantiles[49] * 1000, 1), "p95_ms": round(quantiles[94] * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1), "errors": errors, "reconnects": load.reconnects,
            "requests_per_s": round(args.requests / load_s, 1),
            "server_rss_mb_every_10pct": [round(r) for r in rss], "server_peak_rss_mb": round(peak),
        },
    }
    print(json.dumps(report, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
