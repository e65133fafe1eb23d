"""The pieces of `touchline bench`: stage times from a Dagster run, the RSS sampler, the raw scan,
the held-back night and the report. No timing assertions (the machine may be busy)."""

import json
import textwrap
import time
from datetime import date, timedelta

import dagster as dg
import pytest

from touchline import bench

MiB = 2**20


def test_stage_times_from_a_tiny_dagster_run(tmp_path):
    @dg.asset(name="normalize_exports")
    def ingestion_like() -> int:
        return 1

    @dg.asset_check(asset="normalize_exports", blocking=True)
    def rows_accounted_for() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset(name="touchline_dbt_assets", deps=["normalize_exports"])
    def dbt_like(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        for command in ("build --vars {\"a\": 1} --select fct_touchpoints", "docs generate --static"):
            context.log.info(f"Running dbt command: `/venv/bin/dbt {command}`.")
            context.log.info(f"Finished dbt command: `/venv/bin/dbt {command}`.")
        return dg.MaterializeResult(metadata={"Execution Duration": 0.25, "unique_id": "model.touchline.fct_touchpoints"})

    @dg.asset(name="something_else", deps=["touchline_dbt_assets"])
    def other() -> int:
        return 2

    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    job = dg.Definitions(assets=[ingestion_like, dbt_like, other], asset_checks=[rows_accounted_for],
                         jobs=[dg.define_asset_job("j")], executor=dg.in_process_executor).resolve_job_def("j")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        started = time.time()
        result = job.execute_in_process(instance=instance)
        ended = time.time()
    assert result.success

    events = bench.stages_from_events(bench.event_entries(home, result.run_id))
    stages = {s["key"]: s["stage"] for s in events["steps"]}
    assert stages["normalize_exports"] == "ingestion"
    assert stages["touchline_dbt_assets"] == "dbt"
    assert stages["something_else"] == "other_steps"
    assert [st for key, st in stages.items() if "rows_accounted_for" in key] == ["checks"]
    assert all(s["status"] == "success" and s["attempts"] == 1 and s["seconds"] >= 0 for s in events["steps"])
    assert events["dbt"]["models"] == 1 and events["dbt"]["model_seconds"] == 0.25
    assert [c["command"] for c in events["dbt"]["commands"]] == ["dbt build", "dbt docs generate"]  # each, not the last one only
    assert all(c["seconds"] >= 0 for c in events["dbt"]["commands"])

    parts = bench.breakdown(started, ended, events, samples=[(events["run_start"] + 1e-6, 5 * MiB)])
    assert sum(parts["seconds"].values()) == pytest.approx(ended - started)
    assert min(parts["seconds"].values()) >= 0
    assert parts["peak_rss"]  # the one sample landed in some stage


def test_the_sampler_sums_rss_over_the_child_and_its_descendants(tmp_path):
    child = textwrap.dedent("""
        import subprocess, sys, time
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; x = b'g' * (200 * 2**20); time.sleep(2)"])
        x = b'c' * (100 * 2**20)
        grandchild.wait()
    """)
    run = bench.run_child(["-c", child], env=None, log_path=tmp_path / "child.log", result_path=tmp_path / "none.json",
                          interval=0.05)
    assert run.returncode == 0, (tmp_path / "child.log").read_text()
    assert run.peak_rss >= 280 * MiB  # 100 MiB + 200 MiB, plus two interpreters
    assert run.peak_by_process["pipeline"] >= 100 * MiB
    assert run.peak_by_process["python -c"] >= 200 * MiB
    assert run.cpu_seconds > 0 and run.result == {}
    assert run.peak_rss == max(rss for _, rss in run.samples)


def test_held_back_night_and_raw_scan_count_every_export_row(tmp_path):
    landing, night = tmp_path / "landing", tmp_path / "night"
    gen = bench.generate_landing(landing, night, people=60, days=5, seed=2, end=date(2026, 10, 30), log=lambda _: None)
    assert {p.name for p in night.glob("*/*")} == {"2026-10-31"}
    assert not list(landing.glob("*/2026-10-31"))
    assert max(p.name for p in landing.glob("*/*")) == "2026-10-30"

    history = bench.raw_scan(landing)
    bench.land_night(night, landing)
    everything = bench.raw_scan(landing)
    assert history["rows"] < everything["rows"] and everything["files"] == gen["files"]
    for source, written in gen["rows_by_source"].items():
        assert everything["by_source"][source]["rows"] == written, source  # short rows and broken JSON lines too


def test_report_json_markdown_and_targets(tmp_path):
    def run(kind, wall, rows, success=True):
        return {"kind": kind, "label": "full rebuild" if kind == "full" else "next night", "success": success,
                "failed_steps": [] if success else ["touchline_dbt_assets"], "failed_checks": [], "error": None,
                "rows_read": rows, "wall_seconds": wall, "rows_per_second": rows / wall, "ingestion_rows_per_second": rows,
                "cpu_seconds": wall, "peak_rss_bytes": 3 * 2**30, "peak_rss_stage": "dbt",
                "stages": dict.fromkeys(bench.STAGES, wall / len(bench.STAGES)),
                "floor": {"seconds": 0.5, "rows_per_second": rows * 2}, "dbt": {}}

    def scale(people, rows, full_wall, night_wall, full_ok=True):
        gen = {"rows": rows, "files": 10, "bytes": 10**6, "seconds": 1.0, "rows_per_second": rows,
               "night": {"day": "2026-10-31", "files": 1, "bytes": 10**4}}
        return {"label": f"{people:,} people x 90 days", "people": people, "days": 90, "generation": gen,
                "runs": [run("full", full_wall, rows, full_ok), run("night", night_wall, rows, full_ok)]}

    # the largest scale's full rebuild failed (as a 100 M build did, out of memory in dbt)
    scales = [scale(1000, 1_000_000, 100.0, 90.0), scale(10_000, 10_000_000, 1300.0, 12.0),
              scale(100_000, 100_000_000, 1800.0, 900.0, full_ok=False)]
    scales[1]["runs"][0]["dbt"] = {"models": 2, "model_seconds": 9.0, "tests": 1, "test_seconds": 1.0,
                                   "slowest": [{"node": "model.touchline.fct_touchpoints", "kind": "model", "seconds": 8.0}],
                                   "commands": [{"command": "dbt build", "seconds": 10.0}, {"command": "dbt docs generate", "seconds": 2.0}]}
    scales[1]["runs"][0]["stages"] = {**dict.fromkeys(bench.STAGES, 0.0), "dbt": 1000.0, "ingestion": 200.0, "checks": 60.0, "startup": 40.0}
    report = {"started_at": "2026-11-25T10:00:00+00:00", "note": "indicative", "scales": scales,
              "config": {"rss_sample_interval_seconds": 0.2}, "targets": bench.evaluate_targets(scales),
              "machine": {"host": "box", "cpu_model": "cpu", "cores_logical": 2, "ram_bytes": 24 * 2**30, "python": "3.11",
                          "packages": {"dagster": "1.13"}, "git": {"commit": "abc", "dirty": False},
                          "load_average_at_start": [1.0, 1.0, 1.0], "load_average_at_end": [2.0, 2.0, 2.0]}}
    targets = {(t["target"], t["where"]): t for t in report["targets"]}
    assert targets[("full rebuild, 10 M touchpoints", "10,000,000 rows read")]["met"] is False
    assert targets[("peak memory, 10 M touchpoints", "10,000,000 rows read")]["met"] is True
    # a failed build is no full rebuild: not met, its time and peak only "until the run failed"; no
    # night ratio or growth is computed from it
    failed = targets[("full rebuild, 100 M touchpoints", "100,000,000 rows read")]
    assert failed["met"] is False and failed["measured"] == "the run failed after 30 min 0 s"
    assert failed["why"].startswith("failed: touchline_dbt_assets; ")
    peak = targets[("peak memory, 100 M touchpoints", "100,000,000 rows read")]
    assert peak["met"] is None and peak["measured"] == "3.00 GiB until the run failed"  # under 12 GiB, but not a whole run
    assert not [t for t in report["targets"] if "100,000 people" in t["where"]]
    assert targets[("next night vs full rebuild", "10,000 people x 90 days")]["met"] is True
    assert targets[("next night vs full rebuild", "1,000 people x 90 days")]["met"] is False
    assert targets[("time grows at most 12x per 10x data", "1,000 people x 90 days -> 10,000 people x 90 days")]["met"] is False
    # a missed time target says where the run's time went: its largest stages, dbt's slowest nodes
    assert targets[("full rebuild, 10 M touchpoints", "10,000,000 rows read")]["why"] == "dbt 1000.0 s (slowest nodes fct_touchpoints 8.0 s), ingestion 200.0 s, checks 60.0 s"
    assert targets[("peak memory, 10 M touchpoints", "10,000,000 rows read")]["why"] is None  # met
    assert targets[("next night vs full rebuild", "1,000 people x 90 days")]["why"].startswith("night: ")
    # the generator is measured at the scale near 10 M rows, not projected from a larger one
    generator = targets[("demo generator, 10 M touchpoints", "10,000 people x 90 days")]
    assert (generator["measured"], generator["met"], generator["projected"]) == ("1.0 s", True, False)
    without_10m = {t["target"]: t for t in bench.evaluate_targets([scales[0], scales[2]])}["demo generator, 10 M touchpoints"]
    assert (without_10m["where"], without_10m["projected"]) == ("100,000 people x 90 days", True)  # the largest, projected

    json_path, md_path = bench.write_report(report, tmp_path / "results")
    assert json_path.name == "20261125T100000Z-box.json" and md_path.suffix == ".md"
    assert json.loads(json_path.read_text())["scales"][1]["runs"][0]["wall_seconds"] == 1300.0
    text = md_path.read_text()
    assert "| 10,000 people x 90 days | full rebuild | 10,000,000 | 1300.0 s |" in text
    assert "the run FAILED (touchline_dbt_assets)" in text and "indicative" in text
    assert "full rebuild: dbt build 10.0 s, dbt docs generate 2.0 s of the step; dbt's own node times" in text
    assert "2 models 9.0 s, 1 tests 1.0 s; slowest fct_touchpoints 8.0 s" in text
    assert "| full rebuild, 10 M touchpoints | < 45.0 s | 21 min 40 s | **no** | 10,000,000 rows read | dbt 1000.0 s" in text
    assert (tmp_path / "results" / "latest.md").read_text() == text
    # a run that failed before any step (no failed step or check) is named by its error's last line
    crashed = {**scales[2]["runs"][0], "failed_steps": [], "error": "Traceback (most recent call last):\n  ...\nOSError: disk full\n"}
    assert "the run FAILED (OSError: disk full);" in bench.markdown({**report, "scales": [{**scales[2], "runs": [crashed]}]})


def test_a_work_folder_the_bench_did_not_make_is_never_deleted(tmp_path):
    (tmp_path / "mine").mkdir()
    with pytest.raises(RuntimeError, match="not made by touchline bench"):
        bench._fresh_dir(tmp_path / "mine")
    made = bench._fresh_dir(tmp_path / "scale")
    (made / "data").mkdir()
    assert bench._fresh_dir(tmp_path / "scale") == made and not (made / "data").exists()



def test_the_night_runs_as_the_schedule_tick_of_the_next_morning(tmp_path):
    from touchline.bench import schedule_tick
    from touchline.settings import load

    s = load({"TOUCHLINE_DATA": str(tmp_path), "TOUCHLINE_SCHEDULE_TIMEZONE": "America/New_York"})
    tick = schedule_tick(s, "2026-12-01")
    assert tick.isoformat() == "2026-12-02T02:00:00-05:00"
    assert (tick - timedelta(days=1)).date() == date(2026, 12, 1)  # the schedule's "yesterday" (orchestration/jobs.py: nightly_days) is the night
