"""Set-up and packaging: the README's commands, CI, the installed wheel, lint,
and the start-up path staying free of heavy imports."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick)


def test_readme_has_exactly_two_setup_commands():
    commands = readme_commands()
    assert len(commands) == 2
    main_job, tests = commands
    assert main_job.endswith("dlprep quiz")
    assert "pytest" in tests
    for command in commands:
        # Never an unpinned torch: that pulls several GB of CUDA packages.
        for torch_req in re.findall(r"torch\S*", command):
            assert torch_req == "torch==2.13.0"


def test_ci_runs_the_readme_test_command_and_nothing_else():
    lines = [
        ln
        for ln in (ROOT / ".ci" / "run").read_text().splitlines()
        if ln.strip() and not ln.startswith("#") and not ln.startswith("set ")
    ]
    assert lines == [readme_commands()[1]]


def test_cli_start_up_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from dlprep.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('torch', 'numpy', 'sqlite_utils', 'rich.markdown', 'yaml') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_read_commands_do_not_import_torch_or_numpy(tmp_path):
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from dlprep.cli import app\n"
        "for args in (['topics'], ['cards', '--json'], ['card', 'alpha'], ['show', '--list']):\n"
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 0, (args, r.output)\n"
        "print(','.join(m for m in ('torch', 'numpy') if m in sys.modules))\n"
    )
    env = {
        "DLPREP_HOME": str(tmp_path),
        "DLPREP_BUNDLED_BANK": str(ROOT / "tests" / "fixtures" / "bank"),
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == ""


@pytest.mark.slow
def test_installed_wheel_finds_its_bank_from_another_directory(tmp_path):
    pytest.importorskip("hatchling")
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = dist.glob("dlprep-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if n.startswith("dlprep/questions/")}
    assert {p.name for p in (ROOT / "questions").glob("*.yaml")} <= shipped
    assert "dlprep/demos/sigmoid_derivative.py" in names
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import json, dlprep.paths as p\n"
        "from dlprep.core.bank import load_bank\n"
        "b = load_bank()\n"
        "print(json.dumps([str(p.bundled_bank_dir()), len(b.cards), len(b.topics)]))\n"
    )
    env = {"PYTHONPATH": str(target), "DLPREP_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    import json

    bank_dir, n_cards, n_topics = json.loads(out.stdout)
    assert bank_dir == str(target / "dlprep" / "questions")
    from dlprep.core.bank import load_bank

    bank = load_bank()
    assert (n_cards, n_topics) == (len(bank.cards), len(bank.topics))
    assert not (tmp_path / "home").exists()  # loading the bank writes nothing


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff not installed")
    out = subprocess.run([ruff, "check", "dlprep", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
