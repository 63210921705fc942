"""The ``xlfuncs`` command as a person meets it: quiet in a pipe, one way of counting facts,
help on every option, and a busy port refused before the server says it is serving."""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from xlfuncs.cli import build_parser, main


@pytest.mark.parametrize("command", [["functions"], ["functions", "--format", "json"],
                                     ["facts"]])
def test_output_into_a_closed_pipe_ends_quietly(command: list[str]) -> None:
    # as `xlfuncs functions | head` when head has exited: the read end is closed before
    # the command writes, so every write fails with EPIPE
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "xlfuncs.cli", *command], stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    finally:
        os.close(write)
    assert done.stderr == ""
    assert done.returncode == 141  # 128 + SIGPIPE, as a Unix tool stopped by it


def _count(pattern: str, text: str) -> int:
    return int(re.search(pattern, text).group(1))


def test_facts_check_and_build_count_facts_alike(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # the article has one range (Cambricon's net profit, RMB 1.85-2.15bn): two rows, one
    # fact; a layer adds one company's fact and replaces one of the article's
    extra = tmp_path / "extra.csv"
    extra.write_text("company,metric,value,unit,currency,period_start,period_end,as_of,"
                     "qualifier,source\nAcme,revenue,5,bn,USD,,,,=,note\n"
                     "Zhipu,revenue,312.4,m,CNY,2025-01-01,2025-12-31,,=,filing\n",
                     encoding="utf-8")
    for data, expected, last in (([], 29, "xlfuncs/data/facts.csv: 29 facts in 30 rows"),
                                 (["--data", str(extra)], 30, "layered: 30 facts in 31 rows")):
        assert main(["facts", "--check", *data]) == 0
        checked = capsys.readouterr().out.splitlines()[-1]
        assert main(["build", *data, "--out", str(tmp_path / "w.xlsx"), "--force"]) == 0
        built = capsys.readouterr().out
        assert _count(r"(\d+) facts", checked) == _count(r"(\d+) facts", built) == expected
        assert checked.startswith(last)


def test_every_option_has_help_text() -> None:
    def options(parser: argparse.ArgumentParser, where: str):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from options(sub, f"{where} {name}")
            elif action.option_strings:
                yield where, action

    found = list(options(build_parser(), "xlfuncs"))
    assert len(found) > 20
    for where, action in found:
        assert action.help and action.help != argparse.SUPPRESS, (where, action.option_strings)


def test_serve_on_a_busy_port_fails_before_it_says_serving(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xlwings_server")
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")

    def started(*args: object) -> None:  # had the check let it through: fail, not exec
        raise AssertionError("the server was started on a busy port")

    monkeypatch.setattr(os, "execve", started)
    with socket.socket() as other:  # another server on a port of loopback
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        status = main(["serve", "--port", str(port), "--project", str(tmp_path / "p")])
    out, err = capsys.readouterr()
    assert status == 2 and "serving" not in out
    assert err.startswith(f"xlfuncs serve: cannot listen on 127.0.0.1 port {port} (")
    assert "--port" in err and err.count("\n") == 1
