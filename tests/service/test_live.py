"""The service under uvicorn on a loopback port: concurrency, hostile requests over real
connections, and micro-batching. Every note is invented."""
import asyncio
import http.client
import json
import socket
from concurrent.futures import ThreadPoolExecutor

from service_notes import NOTE, make_clinical_nlp
from test_api import HOSTILE

from spacy_medical.io.exports import NoteRecord


def _post(port, path, body, headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_400_concurrent_requests_on_8_threads_get_their_own_notes(live_server):
    texts = [NOTE, "Cough and asthma.", "No complaints today.", "Takes aspirin for chest pain."]

    def call(i):
        note = {"note_id": f"C{i:04d}", "text": texts[i % len(texts)]}
        status, body = _post(live_server.port, "/annotate", json.dumps(note), {"Content-Type": "application/json"})
        return i, status, json.loads(body)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(400)))
    assert all(status == 200 for _, status, _ in answers)
    assert [record["note_id"] for _, _, record in answers] == [f"C{i:04d}" for i in range(400)]
    # Each answer is the annotation of its own note, not a neighbour's.
    for i, _, record in answers:
        expected = {0: 7, 1: 2, 2: 0, 3: 2}[i % 4]
        assert len(record["entities"]) == expected, (i, record)


def test_hostile_requests_never_get_a_5xx_nor_a_dropped_connection(live_server):
    statuses = []
    for _, body, headers, status, _ in HOSTILE:
        got, answer = _post(live_server.port, "/annotate", body, {k: v for k, v in headers.items() if v})
        statuses.append(got)
        assert got == status and json.loads(answer)["detail"]
    # Bytes that are not HTTP at all: the server answers 400 and stays up.
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as raw:
        raw.sendall(b"\x00\xffGARBAGE / HTTP/9\r\n\r\n")
        assert raw.recv(200).startswith(b"HTTP/1.1 400")
    # A body sent in chunks (no Content-Length) over the limit is refused while it streams.
    connection = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
    chunks = (b'{"note_id": "big", "text": "' + b"a" * 50_000 for _ in range(6))
    connection.request("POST", "/annotate", body=chunks, headers={"Content-Type": "application/json"},
                       encode_chunked=True)
    assert connection.getresponse().status == 413
    connection.close()
    assert all(400 <= s < 500 for s in statuses)
    status, body = _post(live_server.port, "/annotate", json.dumps({"note_id": "after", "text": "asthma"}),
                         {"Content-Type": "application/json"})
    assert status == 200 and json.loads(body)["note_id"] == "after"


def test_concurrent_requests_share_micro_batches():
    from spacy_medical.service.worker import InferenceWorker

    # A long wait makes the grouping certain: all 8 requests are queued within it.
    worker = InferenceWorker(make_clinical_nlp(), max_batch_notes=64, max_wait_s=0.5)

    async def eight_requests():
        jobs = [worker.annotate([NoteRecord(row=1, note_id=f"B{i}", text=f"Cough {i} days.")]) for i in range(8)]
        return await asyncio.gather(*jobs)

    answers = asyncio.run(eight_requests())
    worker.close()
    assert [a[0]["note_id"] for a in answers] == [f"B{i}" for i in range(8)]
    assert worker.batches <= 2
