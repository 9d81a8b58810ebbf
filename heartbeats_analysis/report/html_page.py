"""What every HTML page of the report shares: its templates, its style sheet and its security policy.

A module of constants only, so that the brief notebook (which writes the two-page summary) and the
build's HTML export use the same ones without the notebook importing nbconvert (seconds of import).
"""

from __future__ import annotations

from heartbeats_analysis.paths import PACKAGE_DIR

TEMPLATES_DIR = PACKAGE_DIR / "report" / "templates"
CSS_PATH = TEMPLATES_DIR / "brief.css"
# The brief, the summary and the appendix load nothing from any host.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)
