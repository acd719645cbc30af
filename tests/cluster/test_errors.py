"""Bad input on a cluster: one-line errors, the same as one process where one process has one."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from toksmith.cluster import compare_on_cluster, count_on_cluster, engine, parse_cluster
from toksmith.cluster.engine import check_versions, connect, run_tasks
from toksmith.errors import UserError
from toksmith.metrics import compare_corpus, count_corpus
from toksmith.tokenizers import load_tokenizer, load_tokenizers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_scheduler_fails_naming_its_address():
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    with pytest.raises(UserError) as error, connect(address, timeout_s=1.0):
        pass
    assert address in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("text", ["local:0", "local:x", "tcp://nohost", "http://a:1", "x"])
def test_a_malformed_cluster_value_is_refused(text):
    with pytest.raises(UserError, match="expected local:N"):
        parse_cluster(text)


def test_mixed_toksmith_versions_are_refused_naming_both():
    with pytest.raises(UserError) as error:
        check_versions("0.1.0", {"tcp://10.0.0.1:4000": "0.1.0", "tcp://10.0.0.2:4000": "0.0.9"})
    message = str(error.value)
    assert "tcp://10.0.0.2:4000" in message and "0.0.9" in message and "0.1.0" in message
    check_versions("0.1.0", {"tcp://10.0.0.1:4000": "0.1.0"})  # the same version passes


def test_a_worker_with_another_version_stops_the_run_before_any_task(
    threads_address, monkeypatch, tmp_path
):
    monkeypatch.setattr(engine, "worker_version", lambda: "0.0.1-old")
    with pytest.raises(UserError, match=r"runs toksmith 0\.0\.1-old but this client runs"):
        compare_on_cluster(["cl100k_base"], _small_file(tmp_path), cluster=threads_address)


def _small_file(folder: Path) -> Path:
    path = folder / "small.txt"
    path.write_text("Hello world\nzweite Zeile\n", encoding="utf-8")
    return path


def test_a_worker_that_cannot_read_the_tokenizer_names_itself_and_the_path(
    dask_address, tiny_bpe, tmp_path
):
    copy = tmp_path / "gone" / "tokenizer.json"
    copy.parent.mkdir()
    shutil.copy(tiny_bpe, copy)
    load_tokenizer(str(copy))  # the client has it loaded (cached); the workers must read it
    copy.unlink()
    with pytest.raises(UserError) as error:
        compare_on_cluster([str(copy)], _small_file(tmp_path), cluster=dask_address)
    message = str(error.value)
    assert message.startswith("worker tcp://")
    assert str(copy) in message and "\n" not in message


def test_invalid_utf8_in_a_later_shard_fails_as_in_one_process(dask_address, tmp_path, tiny_bpe):
    path = tmp_path / "bad.txt"
    good = b"".join(b"line number %d\n" % i for i in range(3000))
    path.write_bytes(good + b"oops \xc3\x28\n" + good)
    tokenizers = [str(tiny_bpe)]
    with pytest.raises(UserError) as one:
        compare_corpus(load_tokenizers(tokenizers), path)
    with pytest.raises(UserError) as many:
        compare_on_cluster(tokenizers, path, cluster=dask_address, shard_bytes=4096)
    assert str(many.value) == str(one.value)
    assert f"at byte {len(good) + 5}" in str(one.value)


def test_a_bad_jsonl_record_fails_as_in_one_process(dask_address, tmp_path, tiny_bpe):
    path = tmp_path / "docs.jsonl"
    lines = [json.dumps({"text": f"document {i}"}) for i in range(2000)]
    lines[1700] = json.dumps({"body": "no text field"})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UserError) as one:
        count_corpus(load_tokenizers([str(tiny_bpe)]), path)
    with pytest.raises(UserError) as many:
        count_on_cluster([str(tiny_bpe)], path, cluster=dask_address, shard_bytes=8000)
    assert str(many.value) == str(one.value)
    assert "line 1701" in str(one.value)


def test_stdin_cannot_be_sharded():
    with pytest.raises(UserError, match="stdin"):
        compare_on_cluster(["cl100k_base"], "-", cluster="local:1")


def test_ctrl_c_cancels_every_task(threads_address):
    import time

    from distributed import Client

    def slow(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    def interrupt(message: str, fraction: float) -> None:
        raise KeyboardInterrupt

    with Client(threads_address) as client:
        with pytest.raises(KeyboardInterrupt):
            for _ in run_tasks(client, slow, [0.01] + [5.0] * 6, progress=interrupt):
                pass
        deadline = time.monotonic() + 10
        while client.run_on_scheduler(_task_count) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.run_on_scheduler(_task_count) == 0


def _task_count(dask_scheduler) -> int:  # noqa: ANN001 - Dask passes the scheduler
    return len(dask_scheduler.tasks)
