"""What a notebook needs to know about the build it runs in: where its figures and claims go.

Every analysis notebook takes ``build_dir`` as a parameter (the build passes an absolute path) and
creates ``ctx = NotebookContext.for_notebook(build_dir, "02-staffing")``. Figures land in
``<build_dir>/figures/``, claims in ``<build_dir>/claims/<notebook>.json``, figure data next to the
figures as CSV.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from heartbeats_analysis.paths import reports_dir
from heartbeats_analysis.report.claims import ClaimsRegistry


@dataclass
class NotebookContext:
    build_dir: Path
    notebook: str
    claims: ClaimsRegistry = field(default_factory=ClaimsRegistry)

    @classmethod
    def for_notebook(cls, build_dir: str | Path, notebook: str, agency: str = "ferguson") -> NotebookContext:
        folder = Path(build_dir) if str(build_dir) else reports_dir() / agency / "_build"
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
