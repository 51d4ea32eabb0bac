"""User-facing errors: bad input is reported as one clear line, never a traceback."""

from __future__ import annotations

from collections.abc import Iterable


class UserError(Exception):
    """A mistake in what the user gave us (data, options, settings); the CLI exits with code 2."""

    exit_code = 2


class ContractError(UserError):
    """An input table breaks the data contract: names the file, the column and the problem."""

    def __init__(
        self, file: str, problem: str, column: str | None = None, examples: Iterable = ()
    ) -> None:
        self.file, self.column, self.problem = file, column, problem
        self.examples = [repr(e) for e in list(examples)[:5]]
        where = f"{file}: column '{column}'" if column else file
        tail = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        super().__init__(f"{where}: {problem}{tail}")
