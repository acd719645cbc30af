"""The accounting commands through their parsers: cost, prices, billing check/commit/verify."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from toksmith.cli import billing, cost
from toksmith.cli.common import OneLineErrorParser, resolve_format
from toksmith.errors import UserError

TRACE = [
    "The question asks how a Merkle tree lets an auditor check hidden reasoning tokens.",
    "Each block of hidden tokens becomes a leaf; the root commits to all of them at once.",
    "An opened block comes with the sibling hashes on its path, which lead to the root.",
    "If the provider changed a block after committing, its path would not reach the root.",
] * 3


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Parse and run like toksmith.cli.main does (UserError → one line, exit 2)."""
    parser = OneLineErrorParser(prog="toksmith")
    subcommands = parser.add_subparsers(dest="command")
    cost.register(subcommands)
    billing.register(subcommands)
    try:
        args: argparse.Namespace = parser.parse_args(argv)
        resolve_format(args)
        status = int(args.run(args) or 0)
    except UserError as error:
        print(f"toksmith: error: {error}", file=__import__("sys").stderr)
        status = 2
    except SystemExit as exit:
        status = int(exit.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def test_cost_json_shows_the_arithmetic(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["cost", "Hello, world", "-m", "gpt-4o", "-m", "claude-sonnet-4-5",
                          "--output-tokens", "800", "--format", "json"], capsys)  # fmt: skip
    assert status == 0
    data = json.loads(out)
    assert data["prices"]["package"] == "litellm" and data["prices"]["snapshot_date"]
    for model in data["models"]:
        assert model["total_usd"] == pytest.approx(sum(p["usd"] for p in model["parts"]))
        for part in model["parts"]:
            tokens = part["tokens"] if part["tokens"] is not None else part["estimated_tokens"]
            assert part["usd"] == pytest.approx(tokens * part["usd_per_token"])
    kinds = {m["model"]: m["count_kind"] for m in data["models"]}
    assert kinds == {"gpt-4o": "exact", "claude-sonnet-4-5": "estimate"}


def test_cost_of_a_conversation_uses_the_chat_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chat = tmp_path / "chat.json"
    chat.write_text(json.dumps([{"role": "user", "content": "What is a token?"}]))
    status, out, _ = run(["cost", "--messages", str(chat), "-m", "gpt-4o", "--format", "json"],
                         capsys)  # fmt: skip
    assert status == 0
    plain_status, plain_out, _ = run(["cost", "What is a token?", "-m", "gpt-4o", "--format",
                                      "json"], capsys)  # fmt: skip
    with_template = json.loads(out)["models"][0]["parts"][0]["tokens"]
    content_only = json.loads(plain_out)["models"][0]["parts"][0]["tokens"]
    assert with_template > content_only  # the chat template's overhead is billed too


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["cost", "hi", "-m", "gpt-4oo"], "did you mean"),
     (["cost", "hi", "-m", "gpt-4o", "--output-tokens", "-3"], "expected a number"),
     (["cost", "hi", "-m", "gpt-4o", "--output-tokens", "many"], "expected a whole number"),
     (["cost", "-m", "gpt-4o"], "exactly one of")],
)  # fmt: skip
def test_bad_cost_input_is_one_line_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(argv, capsys)
    assert status == 2 and message in err and err.count("\n") == 1


def test_prices_search_lists_models_with_source_and_date(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(["prices", "--search", "claude-sonnet-4-5", "--format", "json"], capsys)
    assert status == 0
    data = json.loads(out)
    assert data["models"] and all("claude-sonnet-4-5" in m["model"] for m in data["models"])
    assert data["prices"]["version"]


def test_billing_check_flags_an_impossible_claim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "answer.txt"
    text.write_text("Forty-two.")
    status, out, _ = run(["billing", "check", "--text", str(text), "--claimed", "412",
                          "--format", "json"], capsys)  # fmt: skip
    assert status == 0 and json.loads(out)["verdict"] == "impossible"


def write_trace(path: Path, steps: list[str]) -> None:
    path.write_text("".join(json.dumps({"text": step}) + "\n" for step in steps))


def test_commit_then_verify_and_tampering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace, other = tmp_path / "hidden.jsonl", tmp_path / "other.jsonl"
    write_trace(trace, TRACE)
    write_trace(other, [step.replace("root", "top") for step in TRACE])
    prompt, answer = tmp_path / "p.txt", tmp_path / "a.txt"
    prompt.write_text("How can an auditor check hidden reasoning tokens with a Merkle tree?")
    answer.write_text("The provider commits to blocks of tokens; proofs show opened blocks belong.")
    commitment = tmp_path / "commitment.json"
    status, _, _ = run(["billing", "commit", "--trace", str(trace), "-o", str(commitment),
                        "--block-size", "16"], capsys)  # fmt: skip
    assert status == 0 and json.loads(commitment.read_text())["merkle_root"]
    verify = [
        "billing",
        "verify",
        "--commitment",
        str(commitment),
        "--prompt",
        str(prompt),
        "--answer",
        str(answer),
        "--seed",
        "3",
        "--openings",
        "4",
        "--format",
        "json",
    ]
    status, out, _ = run([*verify, "--trace-server", str(trace)], capsys)
    result = json.loads(out)
    assert result["failed_check"] is None and status == (0 if result["accepted"] else 1)
    status, _, err = run([*verify, "--trace-server", str(other)], capsys)
    assert status == 2 and "rejected" in err
    data = json.loads(commitment.read_text())
    data["merkle_root"] = "00" * 32
    commitment.write_text(json.dumps(data))
    status, _, err = run([*verify, "--trace-server", str(trace)], capsys)
    assert status == 2 and "commitment digest" in err


def test_a_trace_of_the_wrong_shape_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "hidden.jsonl"
    trace.write_text('{"text": "fine"}\n{"steps": 3}\n')
    status, _, err = run(["billing", "commit", "--trace", str(trace), "-o",
                          str(tmp_path / "c.json")], capsys)  # fmt: skip
    assert status == 2 and "line 2" in err and not (tmp_path / "c.json").exists()
