"""The parser: the command table, lazy imports, and the same options everywhere."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from toksmith.cli import COMMANDS, build_parser, main, registered_commands

KNOWN_FORMATS = {"table", "json", "csv", "md", "html", "text"}


def subparsers_of(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def leaf_parsers(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> dict[str, argparse.ArgumentParser]:
    """Every parser that runs a command, by its command line (``bridge score``)."""
    children = subparsers_of(parser)
    if not children:
        return {prefix.strip(): parser}
    found = {}
    for name, child in children.items():
        found.update(leaf_parsers(child, f"{prefix} {name}"))
    return found


def test_top_level_help_lists_exactly_the_registered_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    # command lines are indented by 4; their wrapped help continues further in
    listed = [
        line.split()[0]
        for line in out.splitlines()
        if line.startswith("    ") and not line.startswith("     ")
    ]
    assert listed == list(COMMANDS)
    assert registered_commands(build_parser()) == list(COMMANDS)


def test_command_table_help_is_the_help_each_command_registers():
    full = build_parser()
    for action in full._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
    assert helps == {name: help_text for name, (_, help_text) in COMMANDS.items()}


def test_count_imports_no_trainer_bridge_web_or_audit_module(tmp_path):
    code = (
        "import sys\n"
        "from toksmith.cli import main\n"
        "status = main(['count', 'hello', '-t', 'cl100k_base', '--format', 'json'])\n"
        "loaded = [m for m in sys.modules if m.split('.')[:2] in (['toksmith', 'train'],"
        " ['toksmith', 'bridge'], ['toksmith', 'web'], ['toksmith', 'audit'])]\n"
        "print('LOADED', status, sorted(loaded))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False,
        cwd=tmp_path,
    )  # fmt: skip
    assert "LOADED 0 []" in done.stdout, done.stderr


def test_every_option_of_every_subcommand_has_help():
    missing = []
    for command, parser in leaf_parsers(build_parser()).items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not action.help:
                missing.append(f"{command} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_format_names_are_one_set_and_tokenizer_option_is_one_definition():
    for command, parser in leaf_parsers(build_parser()).items():
        for action in parser._actions:
            if "--format" in action.option_strings:
                assert set(action.choices) <= KNOWN_FORMATS, command
                assert action.default is None, f"{command}: --format is inferred from -o"
            if "-t" in action.option_strings:
                assert action.option_strings == ["-t", "--tokenizer"], command
                assert action.dest == "tokenizers", command
