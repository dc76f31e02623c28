"""Child-process entry point: ``python -m dlprep.demos.runner PATH --device D [--json]``.

Loads one demo module from its file, picks the device, runs it, and prints
its table and conclusion (or JSON). Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

from dlprep.demos.base import DemoResult
from dlprep.demos.registry import read_info


def resolve_device(requested: str) -> str:
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for, but torch sees no CUDA GPU here")
    if requested == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise RuntimeError("device mps was asked for, but this machine has no Apple GPU available to torch")
    return requested


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"dlprep_demo_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"{path}: cannot load demo")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def demo_table(columns: list, rows: list[list], width: int):
    """The demo's table, laid out so that no value and no word is ever cut.

    Values (a number, or a row of weights such as ``0.54 0.46 0 0``) stay on
    one line; headers wrap between words. A table too wide for the terminal
    is transposed when it has fewer rows than columns (8 metrics over 4 sizes
    read better as 8 rows), else its columns are narrowed down to their
    longest word; if even that does not fit, each row is shown as a list of
    "header  value" lines.
    """
    from rich.console import Console, Group
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    from dlprep.layout import column_range, fit_widths

    cells = [[str(c) for c in columns]] + [[str(v) for v in row] for row in rows]
    console = Console(width=max(width, 1))

    def table(grid: list[list[str]], wraps, natural: bool = False) -> Table | None:
        """``wraps(r, c)``: may cell (r, c) wrap between words (only headers may)."""
        n = len(grid[0])
        ranges = []
        for c in range(n):
            lows, highs = zip(*(column_range([row[c]], wraps(r, c)) for r, row in enumerate(grid)), strict=True)
            ranges.append((max(lows), max(highs)))
        t = Table(box=None, header_style="bold")
        for head in grid[0]:
            t.add_column(Text(head), overflow="fold", width=1)
        overhead = Measurement.get(console, console.options.update_width(10**6), t).maximum - n
        if natural:
            if sum(hi for _, hi in ranges) + overhead > width:
                return None
            widths = [hi for _, hi in ranges]
        else:
            widths = fit_widths([lo for lo, _ in ranges], [hi for _, hi in ranges], width - overhead)
            if widths is None:
                return None
        for col, w in zip(t.columns, widths, strict=True):
            col.width = w
        for row in grid[1:]:
            t.add_row(*[Text(v) for v in row])
        return t

    def header_row(r: int, c: int) -> bool:
        return r == 0

    def header_column(r: int, c: int) -> bool:
        return c == 0 and r > 0

    flipped = [list(col) for col in zip(*cells, strict=True)]
    as_is = table(cells, header_row, natural=True)
    if as_is is not None:
        return as_is
    transposed = table(flipped, header_column) if len(rows) + 1 < len(columns) else None
    laid_out = transposed or table(cells, header_row) or table(flipped, header_column)
    if laid_out is not None:
        return laid_out
    blocks = []
    for row in cells[1:]:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(overflow="fold")
        grid.add_column(no_wrap=True)
        for head, value in zip(cells[0], row, strict=True):
            grid.add_row(Text(head, style="bold"), Text(value))
        blocks += [grid, Text("")]
    return Group(*blocks[:-1])


def render(info, device: str, result: DemoResult, seconds: float) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    console.print(Text(f"{info.title}", style="bold"))
    console.print(Text(f"demo {info.id} · topic {info.topic} · device {device}", style="dim"))
    console.print(demo_table(result.columns, result.rows, console.width))
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))
    console.print(Text("=> " + result.conclusion, style="bold green"))
    console.print(Text(f"({seconds:.1f}s)", style="dim"))


class _NoStatus:
    def update(self, text: str) -> None:
        pass

    def stop(self) -> None:
        pass

    def __enter__(self) -> _NoStatus:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _status(text: str, quiet: bool):
    """A spinner on stderr while torch imports and the demo runs (terminals only)."""
    from rich.console import Console

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        return _NoStatus()
    return console.status(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlprep-demo")
    parser.add_argument("path", type=Path)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    info = read_info(args.path, bundled=False)
    if info is None:
        sys.stderr.write(f"error: {args.path}: not a demo module (needs TOPIC, TITLE and run)\n")
        return 2
    with _status(f"{info.id}: importing torch", quiet=args.json) as status:
        try:
            import torch  # noqa: F401
        except ImportError:
            status.stop()
            sys.stderr.write("error: demos need torch: pip install 'dlprep[demos]'\n")
            return 1
        try:
            device = resolve_device(args.device)
        except RuntimeError as exc:
            status.stop()
            sys.stderr.write(f"error: {exc}\n")
            return 2
        status.update(f"{info.id}: running on {device}")
        start = time.perf_counter()
        try:
            result = load(args.path).run(device)
        except KeyboardInterrupt:
            status.stop()
            sys.stderr.write("interrupted\n")
            return 130
        seconds = time.perf_counter() - start
    if args.json:
        sys.stdout.write(
            json.dumps(
                {
                    "id": info.id,
                    "topic": info.topic,
                    "title": info.title,
                    "device": device,
                    "seconds": round(seconds, 3),
                    **result.to_dict(),
                },
                indent=2,
            )
            + "\n"
        )
    else:
        render(info, device, result, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
