"""The build engine on fake actions (no notebook, no kernel): which steps run and which are skipped, the
stamps they leave, and the key that decides whether a report is published again."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import pytest

from heartbeats_analysis.build import steps
from heartbeats_analysis.build.hashing import hash_json
from heartbeats_analysis.errors import BuildInterruptedError


class FakeAction:
    """An action that writes its output file and counts its calls."""

    def __init__(self, output, fail: bool = False):
        self.output, self.fail, self.calls = output, fail, 0

    def __call__(self) -> None:
        self.calls += 1
        if self.fail:
            raise RuntimeError("the fake step failed")
        self.output.write_text(f"run {self.calls}\n")


@pytest.fixture
def engine(tmp_path):
    """A step runner writing stamps under tmp_path/stamps, with every listener event recorded."""
    events: list[tuple[str, str]] = []
    result = steps.BuildResult("testville", tmp_path / "report")

    def make(force: bool = False, kernels=None) -> steps._Steps:
        return steps._Steps(tmp_path / "stamps", force, lambda n, s, _: events.append((n, s)), result, kernels)

    return SimpleNamespace(make=make, events=events, result=result, stamps=tmp_path / "stamps", out=tmp_path / "out")


def test_a_new_step_runs_and_leaves_a_stamp_of_its_inputs(engine):
    action = FakeAction(engine.out)
    assert engine.make().run("02-staffing", {"params": {"agency": "testville"}}, [engine.out], action) is True
    assert action.calls == 1
    stamp = json.loads((engine.stamps / "02-staffing.json").read_text())
    assert stamp == {"key": hash_json({"params": {"agency": "testville"}})}
    assert engine.events == [("02-staffing", "started"), ("02-staffing", "ran")]
    assert [(name, status) for name, status, _ in engine.result.steps] == [("02-staffing", "ran")]


def test_unchanged_inputs_skip_the_step(engine):
    action = FakeAction(engine.out)
    engine.make().run("03-crime", {"tables": "abc"}, [engine.out], action)
    assert engine.make().run("03-crime", {"tables": "abc"}, [engine.out], action) is False
    assert action.calls == 1
    assert engine.events[-1] == ("03-crime", "skipped")
    assert [status for _, status, _ in engine.result.steps] == ["ran", "skipped"]


def test_changed_inputs_rerun_the_step(engine):
    action = FakeAction(engine.out)
    engine.make().run("07-program-model", {"params": {"draws": 100}}, [engine.out], action)
    assert engine.make().run("07-program-model", {"params": {"draws": 200}}, [engine.out], action) is True
    assert action.calls == 2
    assert json.loads((engine.stamps / "07-program-model.json").read_text())["key"] == hash_json(
        {"params": {"draws": 200}}
    )


def test_a_missing_output_reruns_the_step_even_with_a_matching_stamp(engine):
    action = FakeAction(engine.out)
    engine.make().run("04-stops", {"x": 1}, [engine.out], action)
    engine.out.unlink()
    assert engine.make().run("04-stops", {"x": 1}, [engine.out], action) is True
    assert action.calls == 2 and engine.out.is_file()


def test_force_reruns_an_up_to_date_step(engine):
    action = FakeAction(engine.out)
    engine.make().run("05-force", {"x": 1}, [engine.out], action)
    assert engine.make(force=True).run("05-force", {"x": 1}, [engine.out], action) is True
    assert action.calls == 2


def test_a_failed_step_leaves_no_stamp_and_runs_again_next_time(engine):
    good = FakeAction(engine.out)
    engine.make().run("06-calls", {"x": 1}, [engine.out], good)
    broken = FakeAction(engine.out, fail=True)
    with pytest.raises(RuntimeError, match="the fake step failed"):
        engine.make().run("06-calls", {"x": 2}, [engine.out], broken)
    assert not (engine.stamps / "06-calls.json").exists()  # the old stamp no longer describes the output
    assert [status for _, status, _ in engine.result.steps] == ["ran"]  # the failure is not recorded as run
    assert engine.make().run("06-calls", {"x": 1}, [engine.out], good) is True  # not skipped on the old stamp


def test_an_interrupted_build_starts_no_further_step(engine):
    action = FakeAction(engine.out)
    with pytest.raises(BuildInterruptedError, match="testville"):
        engine.make(kernels=SimpleNamespace(closed=True)).run("02-staffing", {}, [engine.out], action)
    assert action.calls == 0 and engine.events == []


def test_the_publish_key_follows_every_step_and_the_pdf_choice(engine):
    action = FakeAction(engine.out)
    runner = engine.make()
    runner.run("02-staffing", {"x": 1}, [engine.out], action)
    runner.run("90-brief", {"y": 1}, [engine.out], action)
    key = steps.publish_key(engine.stamps, with_pdf=True)
    assert key == hash_json(
        {"steps": {"02-staffing": hash_json({"x": 1}), "90-brief": hash_json({"y": 1})}, "pdf": True}
    )
    assert steps.publish_key(engine.stamps, with_pdf=True) == key  # nothing changed: publish is skipped
    assert steps.publish_key(engine.stamps, with_pdf=False) != key  # adding or dropping the PDF republishes
    runner.run("02-staffing", {"x": 2}, [engine.out], action)
    assert steps.publish_key(engine.stamps, with_pdf=True) != key  # any step's new inputs republish


def test_the_published_stamp_is_read_back(tmp_path):
    version = tmp_path / "ferguson-1"
    version.mkdir()
    assert steps._read_stamp(version) is None  # a version without a stamp is never taken as current
    (version / steps.STAMP_FILE).write_text(json.dumps({"key": "abc"}) + "\n")
    assert steps._read_stamp(version) == "abc"


AGENCY_STEPS = [*steps.ANALYSIS_NOTEBOOKS, steps.MODEL_NOTEBOOK, steps.BRIEF_NOTEBOOK]


def _recording_steps(slow: str = "", fail: str = ""):
    """run_step for _run_agency_steps: records when each step starts and ends; `slow` takes 0.5 s, `fail` raises."""
    import threading
    import time

    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run_step(name: str) -> None:
        with lock:
            events.append(("start", name))
        if name == slow:
            time.sleep(0.5)
        if name == fail:
            with lock:
                events.append(("end", name))
            raise RuntimeError(f"{name} failed")
        with lock:
            events.append(("end", name))

    return run_step, events


def test_the_model_runs_beside_the_analysis_it_does_not_read_and_the_brief_after_everything(monkeypatch):
    monkeypatch.setenv("HEARTBEATS_JOBS", "2")
    unread = [n for n in steps.ANALYSIS_NOTEBOOKS if n not in steps.CLAIMS_READ[steps.MODEL_NOTEBOOK]]
    assert unread == ["03-crime"]
    run_step, events = _recording_steps(slow="03-crime")
    steps._run_agency_steps(AGENCY_STEPS, run_step)
    order = [f"{kind} {name}" for kind, name in events]
    assert sorted(name for kind, name in events if kind == "start") == sorted(AGENCY_STEPS)
    for read in steps.CLAIMS_READ[steps.MODEL_NOTEBOOK]:
        assert order.index(f"end {read}") < order.index("start 07-program-model")
    assert order.index("start 07-program-model") < order.index("end 03-crime")  # the slow crime notebook beside it
    assert order[-2:] == ["start 90-brief", "end 90-brief"]


def test_the_browser_is_launched_once_the_analyses_have_ended_while_the_model_runs(monkeypatch):
    """The model waits (up to 10 s) for the launch, which must come once every analysis has ended, not after it."""
    monkeypatch.setenv("HEARTBEATS_JOBS", "2")
    launched = threading.Event()
    run_step, events = _recording_steps(slow="03-crime")

    def model_waits_for_the_launch(name: str) -> None:
        if name == steps.MODEL_NOTEBOOK:
            assert launched.wait(timeout=10), "the browser was not launched while the model ran"
            assert ("end", "03-crime") in events  # the last analysis to end
        run_step(name)

    launches: list[int] = []

    def launch() -> None:
        launches.append(len(events))
        launched.set()

    steps._run_agency_steps(AGENCY_STEPS, model_waits_for_the_launch, beside_model_done=launch)
    assert len(launches) == 1
    assert ("start", "90-brief") not in events[: launches[0]]


def test_the_launch_comes_once_every_analysis_has_succeeded_and_never_after_a_failure():
    from concurrent.futures import Future

    def ended() -> Future:
        future = Future()
        future.set_result(None)
        return future

    calls: list[str] = []
    pending = Future()
    steps._when_all_done([ended(), ended(), pending], lambda: calls.append("launch"))
    assert calls == []
    pending.set_result(None)
    assert calls == ["launch"]
    steps._when_all_done([ended()], lambda: calls.append("at once"))
    assert calls == ["launch", "at once"]
    failed, cancelled = Future(), Future()
    failed.set_exception(RuntimeError("a notebook failed"))
    cancelled.cancel()  # what Ctrl-C does to the analyses not yet started
    steps._when_all_done([ended(), failed], lambda: calls.append("after a failure"))
    steps._when_all_done([ended(), cancelled], lambda: calls.append("after a Ctrl-C"))
    assert calls == ["launch", "at once"]
    steps._when_all_done([ended()], lambda: 1 / 0)  # a launch that raises is left to the brief's step to report


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_failed_analysis_launches_no_browser(monkeypatch, jobs):
    monkeypatch.setenv("HEARTBEATS_JOBS", jobs)
    run_step, _ = _recording_steps(fail="05-force")
    launches: list[str] = []
    with pytest.raises(RuntimeError, match="05-force failed"):
        steps._run_agency_steps(AGENCY_STEPS, run_step, beside_model_done=lambda: launches.append("launch"))
    assert launches == []


@pytest.mark.parametrize("failing", ["04-stops", "03-crime", "07-program-model"])
def test_a_failed_step_is_raised_after_those_running_finish_and_nothing_later_starts(monkeypatch, failing):
    monkeypatch.setenv("HEARTBEATS_JOBS", "2")
    run_step, events = _recording_steps(slow="03-crime", fail=failing)
    with pytest.raises(RuntimeError, match=f"{failing} failed"):
        steps._run_agency_steps(AGENCY_STEPS, run_step)
    started = [name for kind, name in events if kind == "start"]
    assert sorted(name for kind, name in events if kind == "end") == sorted(started)  # none left running
    assert set(steps.ANALYSIS_NOTEBOOKS) <= set(started) and "90-brief" not in started
    assert ("07-program-model" in started) == (failing != "04-stops")  # its input failed: the model never starts


def test_one_job_runs_the_steps_one_after_another_in_build_order(monkeypatch):
    monkeypatch.setenv("HEARTBEATS_JOBS", "1")
    run_step, events = _recording_steps()
    steps._run_agency_steps(AGENCY_STEPS, run_step)
    assert [name for kind, name in events if kind == "start"] == AGENCY_STEPS


def _claim_id(notebook: str) -> str:
    return notebook.replace("-", "_") + ".ran"


def test_the_model_reads_the_claims_of_the_notebooks_it_depends_on_and_no_others(tmp_path):
    from heartbeats_analysis.report.notebook_io import NotebookContext

    for notebook in steps.ANALYSIS_NOTEBOOKS:
        ctx = NotebookContext.for_notebook(tmp_path, notebook)
        ctx.claims.record(_claim_id(notebook), 1, "count", f"{notebook} ran.")
        ctx.save_claims()
    model = NotebookContext.for_notebook(tmp_path, steps.MODEL_NOTEBOOK)
    assert sorted(c.id for c in model.earlier_claims()) == sorted(
        _claim_id(n) for n in steps.CLAIMS_READ[steps.MODEL_NOTEBOOK]
    )
    assert _claim_id("03-crime") not in model.earlier_claims()
    hand_run = NotebookContext.for_notebook(tmp_path, "99-exploration")  # not in CLAIMS_READ: every claim so far
    assert len(list(hand_run.earlier_claims())) == len(steps.ANALYSIS_NOTEBOOKS)
    cache_inputs = [p.stem for p in steps._claims_read_by(steps.MODEL_NOTEBOOK, tmp_path / "claims")]
    assert cache_inputs == sorted(steps.CLAIMS_READ[steps.MODEL_NOTEBOOK])


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_jobs_setting_is_a_parameter_error(monkeypatch, value):
    monkeypatch.setenv("HEARTBEATS_JOBS", value)
    with pytest.raises(steps.ParameterError, match="HEARTBEATS_JOBS"):
        steps.parallel_jobs()


# ---- a build's browser and kernels are shut down at once ------------------------------------------------------------


class _Closable:
    def __init__(self, meeting: threading.Barrier | None = None, error: Exception | None = None):
        self.meeting, self.error, self.closed = meeting, error, False

    def close(self) -> None:
        if self.meeting is not None:
            self.meeting.wait(timeout=10)  # breaks (and fails the close) unless the other close runs meanwhile
        self.closed = True
        if self.error is not None:
            raise self.error


def test_resources_are_closed_at_the_same_time():
    meeting = threading.Barrier(2)
    browser, kernels = _Closable(meeting), _Closable(meeting)
    with steps.closed_together(browser, None, kernels) as given:
        assert given == (browser, None, kernels)
    assert browser.closed and kernels.closed and not meeting.broken


def test_a_failing_close_is_raised_once_the_others_have_closed():
    failing, other = _Closable(error=RuntimeError("the browser did not stop")), _Closable()
    with pytest.raises(RuntimeError, match="the browser did not stop"), steps.closed_together(failing, other):
        pass
    assert other.closed


def test_resources_are_closed_when_the_build_fails():
    kernels = _Closable()
    with pytest.raises(KeyError), steps.closed_together(kernels, None):
        raise KeyError("a notebook failed")
    assert kernels.closed
