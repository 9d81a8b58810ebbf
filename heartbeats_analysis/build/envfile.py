"""environment.yml for conda users, generated from pyproject.toml so the two cannot drift.

`python -m heartbeats_analysis.build.envfile --write` regenerates it; a test checks it is current.
"""

from __future__ import annotations

import sys
import tomllib

from heartbeats_analysis.paths import PROJECT_ROOT

PYPROJECT = PROJECT_ROOT / "pyproject.toml"
ENVIRONMENT_YML = PROJECT_ROOT / "environment.yml"


def render() -> str:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    python = project["project"]["requires-python"].removeprefix(">=")
    dependencies = project["project"]["dependencies"]
    dev = project.get("dependency-groups", {}).get("dev", [])
    lines = [
        "# Generated from pyproject.toml by `make env-file`; do not edit by hand (a test checks it).",
        "# Exact versions are locked in uv.lock; conda users get the same lower bounds from PyPI.",
        "name: heartbeats",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python>={python}",
        "  - pip",
        "  - pip:",
        "      - -e .",
    ]
    lines += [f'      - "{requirement}"' for requirement in [*dependencies, *dev]]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if "--write" in argv:
        ENVIRONMENT_YML.write_text(render(), encoding="utf-8")
        return 0
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
