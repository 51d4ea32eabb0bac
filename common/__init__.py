"""What every stage may import: user errors and exit codes, atomic writes, the progress
protocol and strict TOML settings."""

from common.atomic import atomic_dir, atomic_file, write_parquet
from common.errors import ContractError, ExitCode, LockHeld, OutputExists, UserError
from common.progress import Say, silent

__all__ = [
    "ContractError",
    "ExitCode",
    "LockHeld",
    "OutputExists",
    "Say",
    "UserError",
    "atomic_dir",
    "atomic_file",
    "silent",
    "write_parquet",
]
