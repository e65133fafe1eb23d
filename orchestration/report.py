"""The nightly HTML report after every run of the nightly job, good or blocked (runs started by
the schedule or the UI; `make run` writes it itself, see touchline/pipeline.py)."""

import dagster as dg

from orchestration.jobs import nightly_job
from touchline import settings
from touchline.report import ReportInputs, check_result, step_failure, write_report


def _write_for_run(context: dg.RunStatusSensorContext) -> dg.SkipReason | None:
    run_id = context.dagster_run.run_id
    records = context.instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    checks = [check_result(r.event_log_entry.dagster_event.event_specific_data) for r in records]
    failures = context.instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    checks += [step_failure(r.event_log_entry.step_key) for r in failures]
    s = settings.load()
    if not s.warehouse.exists():
        return dg.SkipReason(f"no warehouse at {s.warehouse} yet")
    path = write_report(s, ReportInputs(run_id=run_id, checks=checks))
    context.log.info(f"wrote {path}")
    return None


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[nightly_job],
                      default_status=dg.DefaultSensorStatus.RUNNING, description="Writes report.html after a good night.")
def report_after_success(context: dg.RunStatusSensorContext):
    return _write_for_run(context)


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.FAILURE, monitored_jobs=[nightly_job],
                      default_status=dg.DefaultSensorStatus.RUNNING,
                      description="Writes report.html after a blocked night: what broke, beside the marts analysts still have.")
def report_after_failure(context: dg.RunStatusSensorContext):
    return _write_for_run(context)


REPORT_SENSORS = [report_after_success, report_after_failure]
