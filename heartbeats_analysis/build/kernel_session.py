"""Code that runs inside a pooled kernel (see kernel_pool): warm it up, and wipe it between notebooks.

A notebook run in a reused kernel must come out as if the kernel were new: an empty namespace, the
matplotlib settings a new kernel starts with, no open figures, and execution counts from 1. Imported
modules stay loaded on purpose: that is the time the pool saves. The project's module-level caches
are keyed by file modification time or read only files shipped with the package, so they stay valid.
"""

from __future__ import annotations

import gc
import importlib

# Every module the notebooks import (modules only: a name that is not a module fails the warm-up), so
# none of them pays the import cost.
WARM_MODULES = (
    "heartbeats_analysis.report.style",
    "pandas",
    "scipy.stats",
    "statsmodels.api",
    "IPython.display",
    "heartbeats_analysis.ingest.clean",
    "heartbeats_analysis.ingest.tables",
    "heartbeats_analysis.report.notebook_io",
    "heartbeats_analysis.analysis.staffing",
    "heartbeats_analysis.analysis.crime",
    "heartbeats_analysis.analysis.stops",
    "heartbeats_analysis.analysis.force",
    "heartbeats_analysis.analysis.calls",
    "heartbeats_analysis.model.report",
    "heartbeats_analysis.model.summary",
    "heartbeats_analysis.report.brief",
)

_fresh_rc_params: dict | None = None
_fresh_warning_filters: list | None = None


def warm_up(modules: tuple[str, ...] = WARM_MODULES) -> None:
    """Import every module, then record the starting state; raise ImportError naming each module that
    failed (after the snapshot, so the kernel stays usable and the notebook that imports the module
    shows the same error in its own cell)."""
    failures = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # any error while importing: a missing module, or one that raises
            failures.append(f"{name} ({exc.__class__.__name__}: {exc})")
    take_snapshot()
    # The imported libraries are about 220,000 objects that live as long as the kernel. Frozen, the garbage
    # collector no longer walks them: each wipe between notebooks collects twice (IPython's reset, then ours),
    # and took 0.25-0.3 s, 2 core-seconds per brief; frozen, 0.01-0.02 s. What a notebook allocates is collected
    # as before.
    gc.collect()
    gc.freeze()
    if failures:
        raise ImportError("kernel warm-up could not import " + "; ".join(failures))


def take_snapshot() -> None:
    """Record the settings a notebook's code finds in a new kernel once its imports are done (importing
    applies no style: figures apply it when drawn)."""
    global _fresh_rc_params, _fresh_warning_filters
    import warnings

    import matplotlib

    _fresh_rc_params = dict(matplotlib.rcParams)
    _fresh_warning_filters = list(warnings.filters)


def reset() -> None:
    """Wipe what the last notebook left behind; raise if there is no snapshot to restore (the pool then
    replaces the kernel instead of lending it)."""
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import get_ipython

    if _fresh_rc_params is None or _fresh_warning_filters is None:
        raise RuntimeError("this kernel was never warmed up: there is no starting state to restore")
    plt.close("all")
    # Unvalidated restore, as matplotlib.rc_context does: these values were valid when taken.
    matplotlib.rcParams._update_raw(_fresh_rc_params)
    # resetwarnings() also voids every module's record of warnings already shown, so a warning the last
    # notebook triggered is shown again, as in a new kernel.
    warnings.resetwarnings()
    warnings.filters[:] = _fresh_warning_filters
    warnings.onceregistry.clear()
    shell = get_ipython()
    if shell is not None:
        shell.reset(new_session=True)  # empties the namespace and restarts execution counts at 1
    gc.collect()
