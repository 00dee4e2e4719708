"""Behave hooks, kept here so environment.py stays a list of one-liners."""

from __future__ import annotations

import os
import sys
import time
from typing import NoReturn

import psutil

from harness.infra import ConfigurationError
from harness.reporting import coverage, label_scenario
from harness.reporting.profile import RunProfile
from harness.reporting.progress_fix import mark_cleanup_errors
from harness.reporting.run_reports import start_run_reports, suite_userdata
from harness.reporting.run_summary import RunSummary
from harness.reporting.transcript import TranscriptFile, record_scenario
from harness.session import SuiteSession
from harness.world import World

NEEDS_SCRIPTED_MODEL = "scripted"
NEEDS_NATS_CONTROL = "nats-control"
# These scenarios check what only a real model can show (-D llm=local): real embeddings, a real server's usage.
NEEDS_LOCAL_MODEL = "local"
NEEDS_SERVICE_CONTROL = "service-control"
# These scenarios read the spans and metrics the platform exports to the suite's OTLP receiver.
NEEDS_TELEMETRY = "telemetry"
# These scenarios deploy a service with operator settings of their own (timeouts, fallbacks, prices, a cache TTL,
# a debug log, a second instance): what an external platform's operator decides.
DEPLOYS = "deploys"
# These scenarios start their own instances of the platform's services, on a NATS of their own.
OWN_WORKERS = "own-workers"
# These scenarios read the platform's stored rows directly, where the stored chunks themselves are the point.
NEEDS_STORAGE = "storage"
# These scenarios specify the codec library itself: no platform service is involved.
LIBRARY = "library"


def before_all(context) -> None:
    mark_cleanup_errors()
    try:
        context.session = session = SuiteSession(suite_userdata(context.config.userdata))
    except ConfigurationError as error:
        _stop_run(error)
    context.transcript = TranscriptFile()
    context.run_summary = RunSummary(session.infra.mode, session.llm_profile, session.platform_mode)
    context.run_profile = RunProfile()
    # A testrun-level cleanup runs even when a later hook fails or the run is interrupted.
    context.documents = {}  # each service's OpenAPI document, read in after_all while the services still run
    context.add_cleanup(_close_session, session, context.run_summary, context.run_profile, context.documents)
    start_run_reports(context, context.run_summary)
    if session.warm_note:
        print(session.warm_note, file=sys.stderr)
    if context.session.infra.reaped:
        print(f"cleaned up after an earlier killed run: {', '.join(context.session.infra.reaped)}", file=sys.stderr)


def before_scenario(context, scenario) -> None:
    label_scenario(scenario)
    session = context.session
    context.run_profile.scenario_began(session.service_starts)
    tags = set(scenario.effective_tags)
    reason = _reason_to_skip(tags, session)
    if reason:
        context.run_summary.skip(scenario, reason)  # shown at the end of the run, in Allure and in JUnit
        return
    if not hasattr(session, "first_scenario_at"):  # seconds since the behave process started
        session.first_scenario_at = time.time() - psutil.Process().create_time()
    launched = session.platform_mode == "external" and bool(tags & {OWN_WORKERS, DEPLOYS, NEEDS_SERVICE_CONTROL})
    context.run_summary.ran(library=LIBRARY in tags, launched=launched)
    context.world = World(session, context.add_cleanup, own_workers=OWN_WORKERS in tags,
                          stops_services=NEEDS_SERVICE_CONTROL in tags)
    if NEEDS_TELEMETRY in tags:  # its metric checks measure from a settled reading taken before each action
        context.world.telemetry.settle_metrics_before_actions()
    context.add_cleanup(context.world.cleanup)  # registered first, so it runs after every driver's cleanup


def before_step(context, step) -> None:
    world = getattr(context, "world", None)
    if world is not None:
        world.step_type = step.step_type


def _reason_to_skip(tags: set[str], session: SuiteSession) -> str | None:
    """Why this run cannot play the scenario, or None."""
    external = session.platform_mode == "external"
    if NEEDS_SCRIPTED_MODEL in tags and not session.scripted:
        return f"needs the scripted language model (answers or faults); not run with -D llm={session.llm_profile}"
    if NEEDS_LOCAL_MODEL in tags and session.llm_profile != "local":
        return "checks the platform with the real local models; runs with -D llm=local"
    if NEEDS_SCRIPTED_MODEL in tags and external and not session.scripted_external:
        return ("scripts the language model, which an external platform calls only when deployed with the suite's "
                "scripted model as its provider (-D model_port=<port>)")
    launches = not external or session.launch_file  # instances of its own, with settings, replicas, to stop
    if OWN_WORKERS in tags and not launches:
        return ("starts its own instances of the platform's services, which an external platform lets the suite do "
                "only through its launch file (-D launch_file=<path>)")
    if DEPLOYS in tags and not launches:
        return ("deploys a service with operator settings of its own (a timeout, fallbacks, prices, a cache TTL), "
                "which an external platform lets the suite do only through its launch file (-D launch_file=<path>)")
    if NEEDS_SERVICE_CONTROL in tags and not launches:
        return ("stops a service of its own, which an external platform lets the suite launch only through its "
                "launch file (-D launch_file=<path>)")
    if NEEDS_STORAGE in tags and external and not os.environ.get("DATABASE_URL"):
        return "reads the platform's stored rows, which an external platform's run does only with its DATABASE_URL"
    if NEEDS_TELEMETRY in tags and not session.telemetry_reachable:
        return ("reads the platform's traces and metrics, which an external platform sends the suite only when "
                "-D otlp_port=<port> is set (and its OTEL_EXPORTER_OTLP_ENDPOINT points there)")
    if NEEDS_NATS_CONTROL in tags and OWN_WORKERS not in tags and not session.infra.can_control_nats:
        return f"stops and restarts NATS, which only the embedded mode can do (mode: {session.infra.mode})"
    return None


def after_all(context) -> None:
    """While the services still run: their OpenAPI documents, the universe of the coverage report."""
    if context.session.telemetry_reachable:
        context.documents.update(coverage.fetch_documents(context.session.services_started))


def _close_session(session: SuiteSession, summary: RunSummary, profile: RunProfile, documents: dict) -> None:
    servers, starts = dict(session.infra.startup_seconds), list(session.service_starts)
    first = getattr(session, "first_scenario_at", None)
    try:
        session.close()  # the services' last spans land before the receiver stops
    finally:  # a report of this run, even when a server did not stop cleanly: never an earlier run's
        summary.coverage = _write_coverage(session, documents)
    profile.write(servers, starts)
    timing = None if first is None else f"first scenario began {first:.2f} s after launch"
    summary.write(timing)
    print("\n".join(profile.lines(servers, starts)), file=sys.stderr)


def _write_coverage(session: SuiteSession, documents: dict) -> str:
    """reports/coverage.json for this run (written afresh every run), and its line for the run's end."""
    if not session.telemetry_reachable:
        report = coverage.not_measured("the platform's spans do not reach the suite (an external platform without "
                                       "-D otlp_port)")
    elif not documents:
        report = coverage.not_measured("no scenario talked to a service of the platform")
    else:
        report = coverage.build_report(documents, session.coverage.served())
    coverage.write_report(report)
    return coverage.summary_line(report)


def after_scenario(context, scenario) -> None:
    """Before the cleanups reset the scripted model's journal: write the scenario's part of the transcript."""
    session = context.session
    context.run_profile.scenario_ended(scenario, session.service_starts)
    journal = session.model_journal  # None in the live profile: no server of the suite's sees its calls
    if journal is not None:
        record_scenario(context.transcript, journal.journal(), scenario)


def _stop_run(error: ConfigurationError) -> NoReturn:
    """One sentence, exit status 2, no scenario. behave turns any exception from before_all, SystemExit too, into
    HOOK-ERROR, "ABORTED: By user." and summary lines; and nothing has started yet, so there is nothing to stop."""
    sys.stdout.flush()
    print(f"configuration error: {error}", file=sys.stderr, flush=True)
    os._exit(2)
