"""What a notebook needs to know about the build it runs in: where its figures and claims go.

Every analysis notebook takes ``build_dir`` as a parameter (the build passes an absolute path) and
creates ``ctx = NotebookContext.for_notebook(build_dir, "02-staffing")``. Figures land in
``<build_dir>/figures/``, claims in ``<build_dir>/claims/<notebook>.json``, figure data next to the
figures as CSV. Run by hand (``build_dir`` left empty) it writes into ``.scratch/<agency>`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from heartbeats_analysis.paths import require_project_root, scratch_dir
from heartbeats_analysis.report.claims import ClaimsRegistry

ANALYSIS_NOTEBOOKS = ("02-staffing", "03-crime", "04-stops", "05-force", "06-calls", "08-threshold")
MODEL_NOTEBOOK = "07-program-model"
BRIEF_NOTEBOOK = "90-brief"
CLAIMS_READ: dict[str, tuple[str, ...]] = {
    MODEL_NOTEBOOK: ("02-staffing", "04-stops", "05-force", "06-calls", "08-threshold"),
    BRIEF_NOTEBOOK: (*ANALYSIS_NOTEBOOKS, MODEL_NOTEBOOK),
}
"""The notebooks whose claims a later notebook reads, and only those: the build starts it once they have run and
reruns it when their claims change. The model does not read the crime analysis, so the two run side by side."""


@dataclass
class NotebookContext:
    build_dir: Path
    notebook: str
    claims: ClaimsRegistry = field(default_factory=ClaimsRegistry)

    @classmethod
    def for_notebook(cls, build_dir: str | Path, notebook: str, agency: str = "ferguson") -> NotebookContext:
        """The build passes ``build_dir``. A hand run (JupyterLab, empty build_dir) writes into the scratch
        folder ``.scratch/<agency>`` instead, outside reports/ (whose agency folders are published briefs),
        and says where in its first output."""
        if str(build_dir):
            folder = Path(build_dir)
        else:
            require_project_root()
            folder = scratch_dir() / agency
            print(f"Hand run (no build_dir): figures, tables and claims go to {folder.resolve()}, not into reports/.")
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder.resolve(), notebook)

    @property
    def figures_dir(self) -> Path:
        return self.build_dir / "figures"

    @property
    def tables_dir(self) -> Path:
        return self.build_dir / "tables"

    @property
    def claims_dir(self) -> Path:
        return self.build_dir / "claims"

    def save_claims(self) -> Path:
        return self.claims.save(self.claims_dir / f"{self.notebook}.json")

    def earlier_claims(self) -> ClaimsRegistry:
        """Claims saved in this build by the notebooks this one reads (CLAIMS_READ; a notebook not listed there
        reads every claim saved so far). Never another notebook's, even one that has run: what this notebook
        finds cannot depend on which notebook running beside it finished first."""
        read = CLAIMS_READ.get(self.notebook)
        if read is None:
            return ClaimsRegistry.load_all(self.claims_dir)
        merged = ClaimsRegistry()
        for name in sorted(read):  # the order load_all merges in: by file name
            path = self.claims_dir / f"{name}.json"
            if path.is_file():
                merged.merge(ClaimsRegistry.load(path))
        return merged
