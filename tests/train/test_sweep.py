from __future__ import annotations

import json

import pytest

from toksmith.cli import main
from toksmith.errors import UserError
from toksmith.train.sweep import SweepPoint, choose_vocab_sizes, parse_vocab_sizes


def test_parse_vocab_sizes_understands_k_suffixes():
    assert parse_vocab_sizes("8k, 16k,32000,1ki") == [1024, 8000, 16000, 32000]
    with pytest.raises(UserError):
        parse_vocab_sizes("8k,lots")


def test_smallest_vocabulary_within_one_percent_of_the_best_is_chosen():
    points = [
        SweepPoint(1000, "eng", 0, 0, 3.00),
        SweepPoint(2000, "eng", 0, 0, 3.97),
        SweepPoint(4000, "eng", 0, 0, 4.00),
        SweepPoint(1000, "tur", 0, 0, 2.00),
        SweepPoint(2000, "tur", 0, 0, 2.50),
        SweepPoint(4000, "tur", 0, 0, 3.00),
    ]
    choices = {c.language: c for c in choose_vocab_sizes(points, tolerance=0.01)}
    assert choices["eng"].chosen_vocab_size == 2000  # 3.97 >= 0.99 * 4.00
    assert choices["eng"].best_vocab_size == 4000
    assert choices["tur"].chosen_vocab_size == 4000  # 2.50 < 0.99 * 3.00


def test_sweep_command_reports_and_plots(tmp_path, topics_split, capsys):
    train, held_out = topics_split
    plot = tmp_path / "sweep.png"
    status = main([
        "sweep", "--vocab-sizes", "500,1000,2000", "--corpus", str(train), "--eval",
        str(held_out), "--out-dir", str(tmp_path / "runs"), "--plot", str(plot),
        "--format", "json",
    ])  # fmt: skip
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    by_size = {p["vocab_size"]: p["bytes_per_token"] for p in report["points"]}
    assert by_size[500] < by_size[1000] < by_size[2000]
    assert report["choices"][0]["chosen_vocab_size"] == 2000
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["1000", "2000", "500"]
