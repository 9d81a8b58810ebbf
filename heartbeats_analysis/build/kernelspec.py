"""Register the project's Jupyter kernel ("heartbeats") inside .venv.

The kernel runs the venv's Python and logs only errors: ipykernel otherwise warns on every start
that it uses TCP on localhost, which would clutter every build's output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager

from heartbeats_analysis.paths import KERNEL_NAME


def install(prefix: str = sys.prefix) -> Path:
    spec = {
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.log_level=ERROR",
        ],
        "display_name": "Python (heartbeats)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    source = Path(prefix) / "share" / "heartbeats-kernelspec"
    source.mkdir(parents=True, exist_ok=True)
    (source / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return Path(KernelSpecManager().install_kernel_spec(str(source), KERNEL_NAME, prefix=prefix))


if __name__ == "__main__":
    print(f"Installed the {KERNEL_NAME!r} kernel in {install()}")
