"""`heartbeats`: one command line for the whole pipeline."""

from __future__ import annotations

import atexit
import gc
import os
import sys
import time
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from heartbeats_analysis.errors import BuildInterruptedError, HeartbeatsError, OutputNotWritableError, ParameterError
from heartbeats_analysis.paths import MIRROR_ENV_VAR, absolutise_folder_variables, require_project_root

# Importing nbformat (papermill and nbconvert import it) took 2.5 s, 2 s of it in one optional module: jsonschema
# checks the "iri" string format with rfc3987_syntax when that is installed (JupyterLab's jupyter-events asks for
# it), and rfc3987_syntax compiles an Earley grammar when imported. Every build waited for it before its first
# notebook. No schema this command line validates (the notebook format's) uses that format, so its process hides
# the module: jsonschema then leaves "iri" unchecked, as wherever the module is not installed. Kernels and other
# programs are not affected. (`None` in sys.modules makes an import raise ImportError, which jsonschema expects.)
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Build the Project Heartbeats evidence brief from pinned, checksummed public data.",
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, highlight=False)
out = Console(highlight=False)


@dataclass(frozen=True)
class Output:
    """How much one invocation prints: 0 quiet, 1 normal, 2 verbose. `main` sets it for the invocation;
    each command reads it once, in its own thread, and hands it to the progress printers."""

    level: int = 1

    def say(self, message: str, level: int = 1) -> None:
        if self.level >= level:
            console.print(message)

    @property
    def shows_progress_bar(self) -> bool:
        return console.is_terminal and self.level >= 1


# Not click's context object: Typer runs on a click of its own, which `import click` does not reach.
_OUTPUT: ContextVar[Output | None] = ContextVar("heartbeats_output", default=None)


def _output() -> Output:
    return _OUTPUT.get() or Output()


def _fail(error: HeartbeatsError) -> None:
    console.print(f"[bold red]Error:[/] {error}", soft_wrap=True)
    raise typer.Exit(error.exit_code)


def _guarded(function):
    """Turn project errors into a one-paragraph message and a non-zero exit code."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except HeartbeatsError as error:
            _fail(error)
        except KeyboardInterrupt:
            console.print("[bold red]Interrupted.[/] The published report, if any, was left as it was.")
            raise typer.Exit(BuildInterruptedError.exit_code) from None
        except PermissionError as error:
            console.print(f"[bold red]Error:[/] permission denied: {error.filename}. Check the folder's permissions.")
            raise typer.Exit(OutputNotWritableError.exit_code) from None
        except OSError as error:
            console.print(f"[bold red]Error:[/] {error.strerror or error} ({error.filename or ''}).")
            raise typer.Exit(OutputNotWritableError.exit_code) from None

    return wrapper


_FREEZE_REGISTERED = False


def _freeze_objects_at_exit() -> None:
    """When the command's process ends, after its exit handlers, keep the objects it holds out of the interpreter's
    last garbage collection (gc.freeze): a build's process holds the libraries, notebooks and claims, and that
    collection took 0.2-0.25 s after every build. Exit handlers and module teardown still run."""
    global _FREEZE_REGISTERED
    if not _FREEZE_REGISTERED:
        _FREEZE_REGISTERED = True
        atexit.register(gc.freeze)  # registered first among this command's handlers, so it runs after them


@app.callback()
def main(
    ctx: typer.Context,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and the final summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every step, including skipped ones.")] = False,
) -> None:
    _OUTPUT.set(Output(0 if quiet else 2 if verbose else 1))
    _freeze_objects_at_exit()
    try:
        require_project_root()
    except HeartbeatsError as error:
        _fail(error)
    absolutise_folder_variables()


@app.command()
@_guarded
def fetch(
    mirror: Annotated[
        Path | None,
        typer.Option(help=f"Copy from this mirror folder instead of downloading (default: ${MIRROR_ENV_VAR})."),
    ] = None,
) -> None:
    """Fetch every raw file in the data registry into data/raw/ and verify its sha256."""
    from heartbeats_analysis.ingest import fetch as fetching
    from heartbeats_analysis.ingest.registry import load_registry

    entries = load_registry()
    source = mirror or fetching.mirror_from_env()
    say = _output().say
    say(f"Fetching {len(entries)} raw files " + (f"from the mirror {source}" if source else "from their upstream URLs"))
    counts = {"present": 0, "copied": 0, "downloaded": 0}

    def progress(entry, how):
        counts[how] += 1
        say(f"  {how:<10} {entry.path}", level=2 if how == "present" else 1)

    fetching.fetch(entries, mirror=source, progress=progress)
    out.print(
        f"Raw data ready: {counts['present']} already present, {counts['copied']} copied, "
        f"{counts['downloaded']} downloaded; all verified."
    )


@app.command()
@_guarded
def verify() -> None:
    """Check every raw file against the sha256 in the data registry."""
    from heartbeats_analysis.ingest import fetch as fetching
    from heartbeats_analysis.ingest.registry import load_registry

    fetching.verify()
    out.print(f"All {len(load_registry())} raw files match the data registry.")


@app.command()
@_guarded
def clean(
    force: Annotated[
        bool, typer.Option(help="Rebuild even if nothing changed, the statewide threshold fit included.")
    ] = False,
) -> None:
    """Clean the raw files into validated tables in data/processed/ (runs notebooks/01-clean)."""
    from heartbeats_analysis.build.steps import BuildResult, run_clean
    from heartbeats_analysis.ingest import fetch as fetching
    from heartbeats_analysis.paths import processed_dir

    fetching.verify()
    result = BuildResult("(shared)", processed_dir())
    run_clean(force=force, listener=_listener(_output()), result=result)
    from heartbeats_analysis.build.threshold_fit import run_threshold_fit

    run_threshold_fit(force=force, listener=_listener(_output()), result=result)
    out.print(f"Processed tables in {processed_dir()}")


@app.command("list-agencies")
@_guarded
def list_agencies(
    all_: Annotated[bool, typer.Option("--all", help="List every agency, not only those with FBI data.")] = False,
) -> None:
    """List the agencies a brief can be built for."""
    from heartbeats_analysis.ingest.tables import load_table

    agencies = load_table("agencies")
    if not all_ and "in_ucr" in agencies:
        agencies = agencies[agencies["in_ucr"].fillna(False).astype(bool)]
    table = Table("slug", "name", "ORI", "census geography")
    for row in agencies.itertuples():
        table.add_row(
            str(row.agency_slug),
            str(row.display_name),
            str(getattr(row, "ori", "") or ""),
            str(getattr(row, "census_name", "") or ""),
        )
    out.print(table)
    out.print(f"{len(agencies)} agencies" + ("" if all_ else " with FBI data (use --all for every agency)"))


def _refuse_empty_options(params_file: Path | None, agency: str | None, ori: str | None) -> None:
    """An option given with an empty value (often an unset shell variable) is an error, never the default."""
    problems = [
        f"{option} is empty (an unset shell variable?): give {what}, or leave the option out"
        for option, value, what in (
            ("--agency", agency, "an agency slug, name or ORI"),
            ("--ori", ori, "an ORI such as MO09528"),
            ("--params", params_file, "a YAML parameters file"),
        )
        if value is not None and str(value).strip() in ("", ".")
    ]
    if problems:
        raise ParameterError("; ".join(problems) + ".")


def _resolve_params(params_file, agency, ori, sets):
    """The build parameters and where each came from, and the options that gave them: ``--agency`` or ``--ori``
    without ``--params`` use the agency's own parameters file when there is one."""
    from heartbeats_analysis.params import load_params

    _refuse_empty_options(params_file, agency, ori)
    params_file, agency, ori = _agency_params_file(params_file, agency, ori)
    base = {}
    if agency:
        base["agency"] = agency
    if ori:
        base["agency"] = ori
    params, origin = load_params(params_file, sets, base=base)
    return params, origin, (params_file, agency, ori)


def _agency_params_file(params_file, agency, ori):
    """``--agency``/``--ori`` without ``--params``: the agency's own parameters file when params/ has one (as
    `heartbeats batch` does), so that every command builds the same brief for an agency. Returns the file, the
    agency and the ORI to pass on (None when the file names the agency)."""
    from heartbeats_analysis.errors import TableMissingError
    from heartbeats_analysis.ingest.agency_lookup import resolve_agency
    from heartbeats_analysis.params import params_file_for

    query = agency or ori
    if params_file is not None or not query:
        return params_file, agency, ori
    own = params_file_for(query)
    if own is None:
        try:
            own = params_file_for(resolve_agency(query))
        except TableMissingError:  # no agency table yet: the build cleans first and resolves the name then
            own = None
    if own is None:
        return None, agency, ori
    _output().say(f"Using params/{own.name}, the agency's parameters file (--params chooses another)")
    return Path(os.path.relpath(own)), None, None  # relative, as a user types it: the table of origins shows it


@app.command()
@_guarded
def params(
    params_file: Annotated[Path | None, typer.Option("--params", help="YAML parameters file.")] = None,
    agency: Annotated[str | None, typer.Option(help="Agency slug, VSR or UCR name.")] = None,
    ori: Annotated[str | None, typer.Option(help="Agency ORI (7 or 9 characters).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: NAME=VALUE (repeatable).")] = None,
    init: Annotated[
        bool, typer.Option("--init", help="Write params/<agency>.yaml: a commented template of the agency's facts.")
    ] = False,
) -> None:
    """Print the effective parameters and where each came from (or, with --init, write a template)."""
    import yaml

    if init:
        _write_params_template(agency or ori)
        return
    values, origin, _ = _resolve_params(params_file, agency, ori, set_)
    table = Table("parameter", "value", "from")
    for name, value in values.model_dump(mode="json").items():
        table.add_row(name, yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("..."), origin[name])
    out.print(table)


def _write_params_template(agency: str | None) -> None:
    from heartbeats_analysis.errors import ParameterError
    from heartbeats_analysis.ingest.agency_lookup import resolve_agency
    from heartbeats_analysis.params import params_template
    from heartbeats_analysis.paths import PARAMS_DIR

    if not agency:
        raise ParameterError("--init needs --agency (or --ori): the agency whose facts the file will hold")
    slug = resolve_agency(agency)
    path = PARAMS_DIR / f"{slug}.yaml"
    if path.exists():
        raise ParameterError(f"{path.name} already exists in params/: edit it, or move it away to write a new one")
    path.write_text(params_template(slug), encoding="utf-8")
    out.print(f"Wrote params/{path.name}: fill in the facts you have, with their sources, then run")
    out.print(f"  heartbeats build --params params/{path.name}")


def _listener(output: Output, total: int | None = None):
    """Print each step with its timing and a count of steps finished; on a terminal, also a progress bar."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    finished = {"n": 0}
    bar = None
    if total and output.shows_progress_bar:
        bar = Progress(
            TextColumn("  build"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        task = bar.add_task("steps", total=total)
        bar.start()

    def count() -> str:
        return f"[{finished['n']}/{total}] " if total else ""

    def listen(step: str, status: str, seconds: float) -> None:
        if status == "started":
            output.say(f"  [cyan]running[/]  {step} ...")
            return
        finished["n"] += 1
        if status == "skipped":
            output.say(f"  {count()}[dim]skipped[/] {step} (inputs unchanged)", level=2)
        else:
            output.say(f"  {count()}[green]done[/]    {step} in {seconds:.1f} s")
        if bar is not None:
            bar.advance(task)
            if total and finished["n"] >= total:
                bar.stop()

    return listen


class _BatchProgress:
    """Each brief as it finishes, with a count; on a terminal, also a progress bar."""

    def __init__(self, output: Output):
        self.output = output
        self.total = 0
        self.done = 0
        self.bar = None

    def started(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.total = total
        if self.output.shows_progress_bar:
            self.bar = Progress(
                TextColumn("  briefs"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.task = self.bar.add_task("briefs", total=total)
            self.bar.start()

    def finished(self, result) -> None:
        self.done += 1
        outcome = "[green]built[/] " if result.ok else "[red]failed[/]"
        cause = "" if result.ok else f": {result.detail}"
        self.output.say(f"  [{self.done}/{self.total}] {outcome} {result.agency} in {result.seconds:.1f} s{cause}")
        if self.bar is not None:
            self.bar.advance(self.task)
            if self.done >= self.total:
                self.bar.stop()


def _step_count() -> int:
    from heartbeats_analysis.build.steps import agency_steps

    return 3 + len(agency_steps())  # clean, the statewide threshold fit, the agency's notebooks, publish


@app.command()
@_guarded
def build(
    params_file: Annotated[Path | None, typer.Option("--params", help="YAML parameters file.")] = None,
    agency: Annotated[str | None, typer.Option(help="Agency slug, VSR or UCR name (fuzzy-matched).")] = None,
    ori: Annotated[str | None, typer.Option(help="Agency ORI (7 or 9 characters).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override: NAME=VALUE (repeatable).")] = None,
    force: Annotated[
        bool,
        typer.Option(
            help="Rebuild every step even if its inputs are unchanged (the statewide threshold fit reruns "
            "only with `heartbeats clean --force` or new stops data)."
        ),
    ] = False,
    pdf: Annotated[bool, typer.Option(help="Also print the brief to PDF.")] = True,
    local: Annotated[
        bool, typer.Option("--local", help="Build in this process even when a build server (`heartbeats serve`) runs.")
    ] = False,
) -> None:
    """Build one agency's brief into reports/<agency>/ (HTML, PDF, claims, manifest, appendix)."""
    if not local:
        from heartbeats_analysis.build.server import forward

        argv = _build_arguments(_output(), params_file, agency, ori, set_, force, pdf)
        served = forward(argv, BuildInterruptedError.exit_code)
        if served is not None:
            raise typer.Exit(served)

    from heartbeats_analysis.build.steps import build as run_build
    from heartbeats_analysis.params import canonical_command

    values, _, (params_file, agency, ori) = _resolve_params(params_file, agency, ori, set_)
    command = canonical_command(params_file, agency, ori, set_)
    started = time.perf_counter()
    output = _output()
    output.say(f"Building the brief for {values.agency!r}")
    result = run_build(values, force=force, listener=_listener(output, _step_count()), command=command, with_pdf=pdf)
    ran = sum(1 for _, status, _ in result.steps if status == "ran")
    readability = _readability(result.report_dir)
    outputs = f"{result.brief_html}" + (f" and {result.brief_pdf}" if pdf else "")
    if result.pdf_pending:
        outputs = f"{result.brief_html} (the build server prints {result.brief_pdf} next, in a few seconds)"
    out.print(
        f"Built {result.agency} in {time.perf_counter() - started:.1f} s ({ran} step(s) ran, "
        f"{len(result.steps) - ran} unchanged): {outputs}"
        + (f"; summary readability {readability}" if readability else "")
    )


def _build_arguments(output: Output, params_file, agency, ori, sets, force: bool, pdf: bool) -> list[str]:
    """The command line that repeats this build in the build server's process."""
    argv = {0: ["--quiet"], 1: [], 2: ["--verbose"]}[output.level] + ["build", "--local"]
    if params_file is not None:
        argv += ["--params", str(params_file)]
    if agency is not None:
        argv += ["--agency", agency]
    if ori is not None:
        argv += ["--ori", ori]
    for assignment in sets or []:
        argv += ["--set", assignment]
    return argv + (["--force"] if force else []) + ([] if pdf else ["--no-pdf"])


def run_command(argv: list[str]) -> int:
    """Run one command line in this process, as the build server does; its exit code."""
    try:
        app(args=argv, prog_name="heartbeats")  # standalone: prints usage errors, always ends in SystemExit
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 1
    return 0


@app.command()
def serve(
    stop: Annotated[bool, typer.Option("--stop", help="Stop this project's running build server.")] = False,
    idle_minutes: Annotated[float, typer.Option(min=1, help="Stop after this many minutes without a build.")] = 120,
) -> None:
    """Keep kernels and the PDF browser warm for `heartbeats build` (the analyst's loop: a changed assumption
    rebuilds in seconds). Runs until Ctrl-C, --stop, or idle_minutes without a build."""
    import os
    import sys

    from heartbeats_analysis.build import server

    if stop:
        stopped = server.stop_server()
        out.print("Build server stopped." if stopped else "No build server of this project and environment runs.")
        return
    # What `--set assumptions.*` checks before any notebook runs (4-5 s of imports): loaded once, here.
    from heartbeats_analysis.model import assumptions  # noqa: F401

    try:
        restart = server.run_server(run_command, idle_minutes, say=lambda message: console.print(message))
    except KeyboardInterrupt:
        console.print("Build server stopped.")
        return
    except RuntimeError as error:
        console.print(f"[bold red]Error:[/] {error}")
        raise typer.Exit(HeartbeatsError.exit_code) from None
    if restart:
        os.execv(sys.executable, [sys.executable, "-m", "heartbeats_analysis.cli", *sys.argv[1:]])


def _readability(report_dir: Path) -> str:
    import json

    path = report_dir / "claims.json"
    if not path.is_file():
        return ""
    for claim in json.loads(path.read_text()):
        if claim["id"] == "brief.readability_grade":
            return f"grade {claim['value']}"
    return ""


@app.command()
@_guarded
def batch(
    agencies: Annotated[
        list[str] | None, typer.Argument(help="Agencies to build (default: every agency with complete data).")
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            min=0,
            help="Warm kernels the builds share, so notebooks run at once (default: HEARTBEATS_JOBS or one per core).",
        ),
    ] = 0,
    pdf: Annotated[bool, typer.Option(help="Also print each brief to PDF.")] = True,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override for every agency: NAME=VALUE.")] = None,
    executor: Annotated[
        str,
        typer.Option(
            help="threads: builds in this process (default); dask: builds as Dask tasks, each worker with warm kernels."
        ),
    ] = "threads",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Address of a running dask.distributed scheduler (with --executor dask; default: a LocalCluster)."
        ),
    ] = None,
) -> None:
    """Build briefs for many agencies in parallel, with a summary table and reports/index.html."""
    from heartbeats_analysis.build.batch import run_batch
    from heartbeats_analysis.paths import reports_dir

    if agencies and any(not agency.strip() for agency in agencies):
        raise ParameterError("An agency argument is empty (an unset shell variable?): name each agency, or none.")
    results = run_batch(
        agencies or None,
        jobs=jobs or None,
        with_pdf=pdf,
        sets=set_ or [],
        say=_output().say,
        listener=_BatchProgress(_output()),
        executor=executor,
        scheduler=scheduler,
    )
    table = Table("agency", "status", "seconds", "output / cause")
    for r in results:
        table.add_row(r.agency, "[green]ok[/]" if r.ok else "[red]failed[/]", f"{r.seconds:.1f}", r.detail)
    out.print(table)
    failed = [r for r in results if not r.ok]
    out.print(f"{len(results) - len(failed)} of {len(results)} briefs built; index: {reports_dir() / 'index.html'}")
    if failed:
        raise typer.Exit(HeartbeatsError.exit_code)


if __name__ == "__main__":
    app()
