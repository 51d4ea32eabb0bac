"""What every stage may import: user errors and exit codes, atomic writes, the progress protocol."""
