"""`vault serve`: the HTTP service, in process (FastAPI's TestClient), on the tiny model pair."""

import hashlib
import json
import logging
import threading
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from vault import serve  # noqa: E402
from vault.audit import iter_rows, keyed_hash, verify_audit  # noqa: E402
from vault.models import load_pair  # noqa: E402
from vault.pipeline import RunOptions, run  # noqa: E402
from vault.policy import load_policy  # noqa: E402

KEY_HEX = "ab" * 32
KEY = bytes.fromhex(KEY_HEX)
TEXT = "Write to mia.berg@example.com or call +44 20 7946 0958 about SSN 536-22-8410.\nThanks, Anna\n"
# Values planted where no log line, error, metric label or audit row may repeat them.
PLANTED = ["Qwzx Planted Vrenna", "519-34-7782", "zq.planted@example.org"]


@pytest.fixture(scope="module")
def pair(tiny_pair_dirs):
    return load_pair(tiny_pair_dirs["draft"], tiny_pair_dirs["oracle"])


def options(tmp_path, **kw) -> serve.ServeOptions:
    kw.setdefault("policies", [load_policy("default"), load_policy("strict")])
    return serve.ServeOptions(audit_dir=tmp_path / "audit", key=KEY, **kw)


def client(opts, pair) -> TestClient:
    return TestClient(serve.create_app(opts, pair))


def vault_redact(tmp_path, pair, name: str, data: bytes, policy: str = "default") -> bytes:
    """What `vault redact` writes for a file holding `data`."""
    root = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}"
    (root / "in").mkdir(parents=True)
    (root / "in" / name).write_bytes(data)
    key_file = root / "key"
    key_file.write_text(KEY_HEX)
    key_file.chmod(0o600)
    summary = run(RunOptions(root / "in", root / "out", load_policy(policy), audit_dir=root / "audit", key_file=key_file),
                  pair=pair)
    assert summary.counts["redacted"] == 1, summary.problems
    (out,) = [p for p in (root / "out").rglob("*") if p.is_file()]
    return out.read_bytes()


CASES = {
    "text": ("doc.txt", TEXT),
    "csv": ("doc.csv", "name,email,phone\nAnna Berg,mia.berg@example.com,+44 20 7946 0958\n"),
    "json": ("doc.json", json.dumps({"patient": {"name": "Anna Berg", "ssn": "536-22-8410", "visits": [3, "Leeds"]}}, indent=2) + "\n"),
}


def test_a_response_equals_vault_redact_on_the_same_text_byte_for_byte(tmp_path, pair):
    with client(options(tmp_path), pair) as c:
        for fmt, (name, text) in CASES.items():
            for policy in ("default", "strict"):
                r = c.post("/v1/redact", json={"text": text, "format": fmt, "policy": policy, "request_id": f"{fmt}-{policy}"})
                assert r.status_code == 200, r.text
                body = r.json()
                assert body["request_id"] == f"{fmt}-{policy}" and body["policy"] == policy
                assert body["text"].encode("utf-8") == vault_redact(tmp_path, pair, name, text.encode(), policy)
                assert body["spans"], "the random tiny oracle tags something in every text"
                for span in body["spans"]:
                    assert {"start", "end", "entity_type", "action", "operator", "rule", "detectors",
                            "oracle_logprob", "oracle_margin"} <= set(span)
                    assert "value_hmac" not in span and "text" not in span
                    if fmt == "text":
                        assert 0 <= span["start"] < span["end"] <= len(text)
        # Several texts in one request: each as its own document, answered in order.
        texts = [CASES["text"][1], "nothing to see here", ""]
        r = c.post("/v1/redact", json={"texts": texts})
        assert r.status_code == 200, r.text
        answers = r.json()["texts"]
        assert len(answers) == 3 and answers[2] == {"text": "", "spans": []}
        assert c.post("/v1/redact", json={"text": ""}).json()["text"] == ""
        assert answers[0]["text"].encode() == vault_redact(tmp_path, pair, "doc.txt", texts[0].encode())


def test_health_readiness_and_metrics(tmp_path, pair):
    app = serve.create_app(options(tmp_path), pair)
    assert TestClient(app).get("/readyz").status_code == 503  # no lifespan yet: models loaded, no worker, no audit
    with TestClient(app) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/readyz").json() == {"status": "ready", "policies": ["default", "strict"]}
        assert c.post("/v1/redact", json={"texts": [TEXT, TEXT]}).status_code == 200
        assert c.post("/v1/redact", json={"text": 3}).status_code == 422
        metrics = c.get("/metrics").text
        assert c.get("/openapi.json").json()["paths"]["/v1/redact"]["post"]["requestBody"]
    assert 'vault_requests_total{code="200",route="/v1/redact"} 1.0' in metrics
    assert 'vault_requests_total{code="422",route="/v1/redact"} 1.0' in metrics
    assert 'vault_documents_total{status="redacted"} 2.0' in metrics
    assert "vault_spans_total{action=" in metrics
    assert "vault_batch_texts_count 1.0" in metrics and "vault_batch_texts_sum 2.0" in metrics
    assert 'vault_request_seconds_count{route="/v1/redact"} 2.0' in metrics
    assert "vault_oracle_passes_total" in metrics and "vault_tokens_total" in metrics
    assert "vault_queue_requests 0.0" in metrics


def test_concurrent_requests_are_gathered_into_one_engine_call(tmp_path, pair, monkeypatch):
    """The first request holds the worker; the five sent meanwhile wait in the queue and go through
    the engine together (no timing: the test waits for the queue to hold them)."""
    calls, gate = [], threading.Event()
    real = serve.Redactor.redact

    def redact(self, texts, *args, **kw):
        calls.append(len(texts))
        if len(calls) == 1:
            gate.wait(60)
        return real(self, texts, *args, **kw)

    monkeypatch.setattr(serve.Redactor, "redact", redact)
    app = serve.create_app(options(tmp_path, max_batch=32), pair)
    service = app.state.service
    answers = {}

    def send(c, i):
        answers[i] = c.post("/v1/redact", json={"text": f"{i}: {TEXT}", "request_id": f"r{i}"})

    with TestClient(app) as c:
        threads = [threading.Thread(target=send, args=(c, 0))]
        threads[0].start()
        while not calls:
            threads[0].join(0.01)
        threads += [threading.Thread(target=send, args=(c, i)) for i in range(1, 6)]
        for t in threads[1:]:
            t.start()
        while service.queue.qsize() < 5:
            threads[1].join(0.01)
        gate.set()
        for t in threads:
            t.join(120)
    assert calls == [1, 5]
    assert all(answers[i].status_code == 200 and answers[i].json()["request_id"] == f"r{i}" for i in range(6))


def test_a_text_the_oracle_did_not_verify_gets_an_error_never_output(tmp_path, pair, monkeypatch):
    from dataclasses import replace

    real = serve.Redactor.redact
    monkeypatch.setattr(serve.Redactor, "redact", lambda self, *a, **kw: [replace(r, verified=False) for r in real(self, *a, **kw)])
    with client(options(tmp_path), pair) as c:
        r = c.post("/v1/redact", json={"texts": ["fine", TEXT], "request_id": "unverified"})
    assert r.status_code == 500
    assert r.json() == {"error": "not fully verified by the oracle: no output (fail closed)", "stage": "verify"}
    rows = [row for run_dir in (tmp_path / "audit").iterdir() if run_dir.is_dir() for row in iter_rows(run_dir, "documents")]
    assert [(row["status"], row["stage"], row["output_sha256"]) for row in rows] == [("failed", "verify", None)] * 2


def test_error_codes(tmp_path, pair):
    keys = tmp_path / "api-keys"
    keys.write_text(f"# callers\nsupport-tool:{hashlib.sha256(b'secret-one').hexdigest()}\n\n")
    opts = options(tmp_path, api_keys=serve.read_api_keys(keys), max_bytes=5_000)
    good = {"Authorization": "Bearer secret-one"}
    with client(opts, pair) as c:
        # 401: no key, a wrong key, a key in the wrong place; /metrics too. Health checks need none.
        assert c.post("/v1/redact", json={"text": "x"}).status_code == 401
        assert c.post("/v1/redact", json={"text": "x"}, headers={"Authorization": "Bearer secret-two"}).status_code == 401
        assert c.post("/v1/redact", json={"text": "x"}, headers={"X-API-Key": "secret-one"}).status_code == 200
        assert c.get("/metrics").status_code == 401 and c.get("/metrics", headers=good).status_code == 200
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
        # 413: a body over --max-bytes; a JSON text past vault redact's nesting limit; too many texts.
        assert c.post("/v1/redact", json={"text": "a" * 6_000}, headers=good).status_code == 413
        nested = "[" * 101 + "]" * 101
        r = c.post("/v1/redact", json={"text": nested, "format": "json"}, headers=good)
        assert r.status_code == 413 and "limit" in r.json()["error"]
        opts.max_texts = 3
        assert c.post("/v1/redact", json={"texts": ["a"] * 4}, headers=good).status_code == 413
        # 422: not JSON, both or neither of text and texts, a wrong type, an unknown field or policy, a bad
        # request id, a format the text is not.
        for bad in (b"{not json", b"[]", json.dumps({"text": "a", "texts": ["b"]}).encode(), b"{}", b'{"texts": []}',
                    json.dumps({"text": 5}).encode(), json.dumps({"text": "a", "colour": "red"}).encode(),
                    json.dumps({"text": "a", "policy": "hipaa-safe-harbor"}).encode(),
                    json.dumps({"text": "a", "policy": "../../etc/policy.yaml"}).encode(),
                    json.dumps({"text": "a", "request_id": "no spaces please"}).encode(),
                    json.dumps({"text": "a", "format": "xml"}).encode(),
                    json.dumps({"text": "{'a': 1}", "format": "json"}).encode(),
                    json.dumps({"text": "a\x00b"}).encode()):
            r = c.post("/v1/redact", content=bad, headers={**good, "Content-Type": "application/json"})
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["stage"] in ("request", "read")
        assert c.get("/v1/redact", headers=good).status_code == 405
        assert c.get("/nowhere", headers=good).status_code == 404
    rows = [row for d in (tmp_path / "audit").iterdir() if d.is_dir() for row in iter_rows(d, "documents")]
    assert [row["doc_path"].split("/")[:2] for row in rows] == [["requests", "support-tool"]]


def test_a_full_queue_is_429_and_a_slow_answer_504(tmp_path, pair):
    app = serve.create_app(options(tmp_path, queue_size=1, timeout_s=0.2), pair)
    service = app.state.service
    release = threading.Event()
    service._work = lambda: release.wait(60)  # a worker that takes nothing: the queue fills
    with TestClient(app) as c:
        r = c.post("/v1/redact", json={"text": TEXT})
        assert r.status_code == 504 and r.json()["stage"] == "timeout"
        r = c.post("/v1/redact", json={"text": TEXT})  # the timed-out request still holds the only place
        assert r.status_code == 429 and r.json()["stage"] == "queue"
        metrics = c.get("/metrics").text
        assert service.queue.get_nowait().future.cancelled()  # never redacted: its caller gave up
        release.set()
    assert 'vault_failures_total{stage="timeout"} 1.0' in metrics
    assert 'vault_requests_total{code="429",route="/v1/redact"} 1.0' in metrics


def test_no_raw_value_in_logs_errors_metrics_or_audit(tmp_path, pair, caplog):
    caplog.set_level(logging.INFO)
    text = " ".join(PLANTED) + "\n" + TEXT
    seen = []
    with client(options(tmp_path, max_bytes=2_000), pair) as c:
        post = lambda body, **kw: seen.append(c.post("/v1/redact", content=json.dumps(body), **kw).text)  # noqa: E731
        assert c.post("/v1/redact", json={"text": text, "request_id": "planted-1"}).status_code == 200
        post({"texts": [text, text]})
        post({"text": text, "format": "json"})  # invalid JSON: the parser's reason names a position only
        post({"text": text, "format": "csv", "policy": PLANTED[0]})
        post({"text": text, PLANTED[1]: PLANTED[2]})  # a planted key
        post({"text": [text]})  # a wrong type: pydantic would echo the input
        post({"text": text, "request_id": PLANTED[0]})
        post({"text": text * 40})  # 413
        post({"text": text}, headers={"X-Request-Id": PLANTED[2]})
        seen.append(c.get(f"/v1/{PLANTED[0]}?q={PLANTED[1]}").text)
        seen.append(c.post(f"/v1/redact?{PLANTED[2]}", json={"text": 1}).text)
        metrics = c.get("/metrics").text
    audit = [json.dumps(row) for d in (tmp_path / "audit").iterdir() if d.is_dir()
             for table in ("documents", "spans") for row in iter_rows(d, table)]
    listings = [p.read_text() for p in (tmp_path / "audit").rglob("*.json")]
    assert len(audit) > 3
    # The server's log: every record but the test client's own (httpx logs the URLs it asks for).
    logs = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith("httpx"))
    streams = {"errors": "\n".join(seen), "logs": logs, "metrics": metrics, "audit": "\n".join(audit + listings)}
    for where, stream in streams.items():
        for value in PLANTED + [v.split()[1] for v in PLANTED[:1]]:
            assert value not in stream, (where, value)
    assert "POST /v1/redact 200" in logs and "GET other 404" in logs


def test_a_served_session_is_a_run_of_the_signed_audit(tmp_path, pair):
    from click.testing import CliRunner

    from vault.cli import main

    opts = options(tmp_path, checkpoint_every=2)
    with client(opts, pair) as c:
        for i in range(3):
            assert c.post("/v1/redact", json={"texts": [TEXT, f"{i}"], "request_id": f"req-{i}"}).status_code == 200
        run_dir = Path(c.app.state.service.audit.run_dir)
        assert json.loads((run_dir / "run.json").read_text())["parts"], "checkpointed while serving"
    check = verify_audit(tmp_path / "audit", KEY)
    assert check.ok, check.problems
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["totals"]["redacted"] == 6 and manifest["totals"]["requests"] == 3
    assert manifest["meta"]["policies"].keys() == {"default", "strict"}
    rows = list(iter_rows(run_dir, "documents"))
    assert [r["doc_path"] for r in rows] == [f"requests/local/req-{i}/{j}" for i in range(3) for j in range(2)]
    assert rows[0]["input_path_hmac"] == keyed_hash(KEY, TEXT) and rows[0]["input_sha256"] is None
    assert all(r["status"] == "redacted" and r["output_sha256"] for r in rows)
    # A second session links to the first; `vault audit verify` and `vault audit report` read both.
    with client(opts, pair) as c:
        assert c.post("/v1/redact", json={"text": TEXT}).status_code == 200
    key_file = tmp_path / "key"
    key_file.write_text(KEY_HEX)
    key_file.chmod(0o600)
    result = CliRunner().invoke(main, ["audit", "verify", str(tmp_path / "audit"), "--key-file", str(key_file)])
    assert result.exit_code == 0 and "2 runs" in result.output and ": intact" in result.output, result.output
    result = CliRunner().invoke(main, ["audit", "report", str(run_dir), "--key-file", str(key_file),
                                       "--out", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    assert "req-0" in (tmp_path / "report.html").read_text()


def test_without_api_keys_only_loopback_is_served(tmp_path):
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        serve.check_bind(host, None)
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.org"):
        with pytest.raises(serve.UsageError, match="loopback only"):
            serve.check_bind(host, None)
    serve.check_bind("0.0.0.0", {"a" * 64: "caller"})
    bad = tmp_path / "keys"
    bad.write_text("support-tool:my-secret-key-in-clear\n")
    with pytest.raises(serve.UsageError) as exc:
        serve.read_api_keys(bad)
    assert "my-secret" not in str(exc.value) and "line 1" in str(exc.value)


def test_the_command_refuses_a_public_host_without_keys_before_loading_anything(tmp_path):
    from click.testing import CliRunner

    from vault.cli import main

    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--audit-dir", str(tmp_path / "audit")])
    assert result.exit_code == 2 and "loopback only" in result.output
    assert not (tmp_path / "audit").exists()


def test_sigterm_under_load_loses_no_answered_request(tmp_path, tiny_pair_dirs):
    """A real `vault serve` on 127.0.0.1 (a free port), four clients sending, SIGTERM while they do: every
    answered request is in the audit, and the audit verifies."""
    import os
    import re
    import signal
    import subprocess
    import sys

    import httpx

    key_file = tmp_path / "key"
    key_file.write_text(KEY_HEX)
    key_file.chmod(0o600)
    log_file = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vault.cli", "serve", "--port", "0", "--audit-dir", str(tmp_path / "audit"),
         "--key-file", str(key_file), "--draft", str(tiny_pair_dirs["draft"]), "--oracle", str(tiny_pair_dirs["oracle"]),
         "--checkpoint-every", "1000"],
        stderr=log_file, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        port = None
        while port is None:  # a file, not a pipe: a pipe nobody reads would stop the server's log, then the server
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            found = re.search(r"running on http://127\.0\.0\.1:(\d+)", (tmp_path / "serve.log").read_text())
            port = int(found.group(1)) if found else None
            if port is None:
                threading.Event().wait(0.2)
        answered, lock = [], threading.Lock()

        def client(n):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as c:
                for i in range(1000):
                    try:
                        r = c.post("/v1/redact", json={"text": f"{n}.{i} {TEXT}", "request_id": f"c{n}-{i}"})
                    except httpx.HTTPError:
                        return  # the server has stopped listening
                    if r.status_code != 200:
                        return
                    with lock:
                        answered.append(r.json()["request_id"])

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        while len(answered) < 8:
            threads[0].join(0.05)
            assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(300)
        # uvicorn shuts down gracefully, then ends by the signal it caught, as a SIGTERMed process does.
        assert proc.wait(300) in (0, -signal.SIGTERM), (tmp_path / "serve.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        log_file.close()
    assert verify_audit(tmp_path / "audit", KEY).ok
    (run_dir,) = [d for d in (tmp_path / "audit").iterdir() if d.is_dir()]
    assert (run_dir / "manifest.json").exists(), "closed on SIGTERM"
    recorded = {r["doc_path"].split("/")[2] for r in iter_rows(run_dir, "documents")}
    assert set(answered) <= recorded


def test_an_uploaded_file_comes_back_as_vault_redact_writes_it(tmp_path, pair):
    files = {"people.csv": b"\xef\xbb\xbfname;email\r\nAnna Berg;mia.berg@example.com\r\n",
             "notes.md": TEXT.encode(), "records.jsonl": b'{"ssn": "536-22-8410"}\n\n{"n": 4111111111111111}\n'}
    with client(options(tmp_path, max_bytes=4_000), pair) as c:
        for name, data in files.items():
            fmt = name.rsplit(".", 1)[1]
            r = c.post(f"/v1/files?format={fmt}&policy=strict", content=data, headers={"X-Request-Id": f"file-{fmt}"})
            assert r.status_code == 200, r.text
            assert r.content == vault_redact(tmp_path, pair, name, data, "strict")
            assert r.headers["x-request-id"] == f"file-{fmt}"
        assert c.post("/v1/files?format=csv", content=b"a,b\x00\n").status_code == 422  # binary
        assert c.post("/v1/files?format=csv", content=b"\xff\xfe").status_code == 422  # UTF-16
        assert c.post("/v1/files?format=pdf", content=b"%PDF").status_code == 422
        assert c.post("/v1/files", content=b"text").status_code == 422
        assert c.post("/v1/files?format=txt&policy=other", content=b"text").status_code == 422
        assert c.post("/v1/files?format=txt", content=b"x" * 5_000).status_code == 413
    rows = [row for d in (tmp_path / "audit").iterdir() if d.is_dir() for row in iter_rows(d, "documents")]
    assert {r["doc_path"] for r in rows} == {"requests/local/file-csv", "requests/local/file-md", "requests/local/file-jsonl"}
    assert keyed_hash(KEY, files["notes.md"].decode()) in {r["input_path_hmac"] for r in rows}


def test_vault_bench_serve_reports_the_load_beside_vault_redact(tmp_path, tiny_pair_dirs):
    """A small bounded load (24 requests, 4 clients) on the tiny pair: the report's shape, and no error.
    No timing is asserted: the machine is shared."""
    from vault.bench import serve as bench_serve

    data = tmp_path / "data"
    data.mkdir()
    (data / "everyday.jsonl").write_text("".join(json.dumps({"text": f"{i}: {TEXT}", "spans": []}) + "\n" for i in range(5)))
    lines = []
    result = bench_serve(24, 4, data_dir=data, extra=["--draft", str(tiny_pair_dirs["draft"]), "--oracle", str(tiny_pair_dirs["oracle"])],
                         log=lines.append)
    assert result["errors"] == {} and result["requests"] == 24
    assert result["serve"]["engine_calls"] >= 1 and result["serve"]["average_batch_texts"] >= 1
    for key in ("texts_per_second", "latency_p50", "latency_p95", "latency_p99", "peak_rss_mb"):
        assert result["serve"][key] is not None
    assert result["redact"]["texts_per_second"] > 0 and result["throughput_vs_redact"] > 0
    assert "p99" in lines[-1]
