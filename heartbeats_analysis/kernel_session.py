"""Code that runs inside a pooled kernel (see kernel_pool): warm it up, and wipe it between notebooks.

A notebook run in a reused kernel must come out as if the kernel were new: an empty namespace, the
matplotlib settings a new kernel starts with, no open figures, and execution counts from 1. Imported
modules stay loaded on purpose: that is the time the pool saves. The project's module-level caches
are keyed by file modification time or read only files shipped with the package, so they stay valid.
"""

from __future__ import annotations

import gc
import importlib

# Every module the notebooks import, so none of them pays the import cost. The project style comes
# first: it selects matplotlib's Agg backend before pyplot is imported, as it does in a new kernel.
WARM_MODULES = (
    "heartbeats_analysis.style",
    "pandas",
    "scipy.stats",
    "statsmodels.api",
    "IPython.display",
    "heartbeats_analysis.clean",
    "heartbeats_analysis.tables",
    "heartbeats_analysis.notebook_io",
    "heartbeats_analysis.analysis.staffing",
    "heartbeats_analysis.analysis.crime",
    "heartbeats_analysis.analysis.stops",
    "heartbeats_analysis.analysis.force",
    "heartbeats_analysis.analysis.calls",
    "heartbeats_analysis.analysis.show",
    "heartbeats_analysis.model.report",
    "heartbeats_analysis.model.summary",
    "heartbeats_analysis.brief",
)

_fresh_rc_params: dict | None = None


def warm_up() -> None:
    global _fresh_rc_params
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the notebook that imports it reports the error, in its own cell
            pass
    import matplotlib

    # Importing sets no style (figures apply it when drawn): these are a new kernel's settings.
    _fresh_rc_params = dict(matplotlib.rcParams)


def reset() -> None:
    """Wipe what the last notebook left behind."""
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import get_ipython

    plt.close("all")
    if _fresh_rc_params is not None:
        # Unvalidated restore, as matplotlib.rc_context does: these values were valid when taken.
        matplotlib.rcParams._update_raw(_fresh_rc_params)
    shell = get_ipython()
    if shell is not None:
        shell.reset(new_session=True)  # empties the namespace and restarts execution counts at 1
    gc.collect()
