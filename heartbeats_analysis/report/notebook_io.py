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
        """Claims saved by the notebooks that ran before this one in the same build."""
        return ClaimsRegistry.load_all(self.claims_dir)
