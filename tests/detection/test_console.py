"""The console module: nothing cut when output is piped, MLflow quiet unless --verbose."""

from __future__ import annotations

import logging

from detection import console


def test_piped_tables_are_neither_wrapped_nor_truncated(capsys) -> None:
    long = "x" * 300
    shown = console.table("wide")
    shown.add_column("cell")
    shown.add_row(long)
    console.out().print(shown)
    console.out().print(f"a long line {long}")
    printed = capsys.readouterr().out
    assert long in printed and f"a long line {long}" in printed


def test_mlflow_info_logging_only_with_verbose(monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_LOGGING_LEVEL", raising=False)
    monkeypatch.setattr(logging.getLogger("mlflow"), "level", logging.getLogger("mlflow").level)
    console.configure(verbose=False)
    assert logging.getLogger("mlflow").level == logging.WARNING
    console.configure(verbose=True)
    assert logging.getLogger("mlflow").level == logging.INFO
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "ERROR")  # the user's own setting wins
    console.configure(verbose=False)
    assert logging.getLogger("mlflow").level == logging.ERROR


def test_kernel_note_only_while_the_numba_cache_is_cold(tmp_path, monkeypatch) -> None:
    said: list[str] = []
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    console.note_kernels(said.append)
    assert len(said) == 1 and "compiling the numba kernels" in said[0]
    (tmp_path / "kernels.f-1.nbi").write_bytes(b"")
    console.note_kernels(said.append)
    assert len(said) == 1
