"""Packaging traps: a folder missing from the wheel, and a double import."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT

MAPPED = {"ualm_agent": "ualm_agent", "components": "ualm_agent/components", "graphs": "ualm_agent/graphs",
          "prompts": "ualm_agent/prompts"}


def _source_packages() -> set[str]:
    found = set()
    for folder, target in MAPPED.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(str(Path(target) / rel) if str(rel) != "." else target)
    return found


def test_every_package_folder_is_in_the_wheel(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("ualm_agent-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    in_wheel = {str(Path(n).parent) for n in names if n.endswith("__init__.py")}
    assert _source_packages() <= in_wheel, _source_packages() - in_wheel
    # One namespace only: nothing installs as a bare top-level components/graphs/prompts.
    assert not [n for n in names if n.split("/")[0] in {"components", "graphs", "prompts", "tests", "examples"}]
    # Data files travel too, and the console script is declared.
    prompt_files = {p.name for p in (ROOT / "prompts").iterdir() if p.suffix in {".txt", ".md", ".toml"}}
    assert {Path(n).name for n in names if n.startswith("ualm_agent/prompts/")} >= prompt_files
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ualm-agent = ualm_agent.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_no_module_is_imported_twice_under_a_bare_name():
    code = (
        "import sys, ualm_agent.cli, ualm_agent.graphs.reflection, ualm_agent.graphs.tool\n"
        "from ualm_agent import registry\n"
        "registry.all_backends()\n"
        "bare = sorted(m for m in sys.modules if m.split('.')[0] in {'components', 'graphs', 'prompts'})\n"
        "assert not bare, bare\n"
        "import ualm_agent.components as c\n"
        "assert c.__file__.endswith('components/__init__.py'), c.__file__\n"
        "print('ok')\n"
    )
    # Run from the repository root, where a bare `import components` would succeed.
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr


def test_source_never_imports_the_mapped_folders_bare():
    offenders = []
    for folder in ("ualm_agent", "components", "graphs", "prompts", "examples", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                              if n.split(".")[0] in {"components", "graphs", "prompts"}]
    assert not offenders, offenders


def test_checkout_entry_runs_the_cli():
    res = subprocess.run([sys.executable, "cli.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0 and "resume" in res.stdout


def test_help_does_not_import_heavy_modules():
    code = ("import sys; sys.argv=['ualm-agent','--help']\n"
            "from ualm_agent.cli import app\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'transformers', 'onnxruntime', 'langgraph', 'soundfile', 'scipy') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in res.stdout, res.stdout + res.stderr
