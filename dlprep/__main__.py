import sys

try:
    from dlprep.cli import main
except ModuleNotFoundError as exc:  # run from a source tree without its dependencies installed
    sys.stderr.write(f"error: dlprep needs {exc.name!r}, which is not installed: pip install -e . (see README)\n")
    sys.exit(1)

main()
