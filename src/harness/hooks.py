"""Behave hooks, kept here so environment.py stays a list of one-liners."""

from __future__ import annotations

import sys
import time

import psutil

from harness.reporting import label_scenario
from harness.session import SuiteSession
from harness.world import World

NEEDS_SCRIPTED_MODEL = "scripted"
NEEDS_NATS_CONTROL = "nats-control"
NEEDS_SERVICE_CONTROL = "service-control"
IN_SUITE_PROCESS = "nats"  # messaging scenarios host their workers, and so their model calls, in the suite


def before_all(context) -> None:
    context.session = SuiteSession(context.config.userdata)
    # A testrun-level cleanup runs even when a later hook fails or the run is interrupted.
    context.add_cleanup(_close_session, context.session)
    if context.session.infra.reaped:
        print(f"cleaned up after an earlier killed run: {', '.join(context.session.infra.reaped)}", file=sys.stderr)


def before_scenario(context, scenario) -> None:
    label_scenario(scenario)
    session = context.session
    reason = _reason_to_skip(set(scenario.effective_tags), session)
    if reason:
        scenario.skip(reason)
        return
    if not hasattr(session, "first_scenario_at"):  # seconds since the behave process started
        session.first_scenario_at = time.time() - psutil.Process().create_time()
    context.world = World(session, context.add_cleanup)
    context.add_cleanup(context.world.cleanup)  # registered first, so it runs after every driver's cleanup


def _reason_to_skip(tags: set[str], session: SuiteSession) -> str | None:
    """Why this run cannot play the scenario, or None."""
    external = session.platform_mode == "external"
    if NEEDS_SCRIPTED_MODEL in tags and not session.scripted:
        return "needs the scripted language model (answers or faults); not run with -D llm=live"
    if NEEDS_SCRIPTED_MODEL in tags and external and IN_SUITE_PROCESS not in tags:
        return "scripts the language model, but an external platform's services call their own model"
    if NEEDS_SERVICE_CONTROL in tags and external:
        return "stops or redeploys a service, which only the embedded platform mode can do (-D platform=external)"
    if NEEDS_NATS_CONTROL in tags and not session.infra.can_control_nats:
        return f"stops and restarts NATS, which only the embedded mode can do (mode: {session.infra.mode})"
    return None


def _close_session(session: SuiteSession) -> None:
    started = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in session.infra.startup_seconds.items())
    first = getattr(session, "first_scenario_at", None)
    session.close()
    if first is not None:
        print(f"suite: first scenario began {first:.2f} s after launch; servers started on first use: "
              f"{started or 'none'}", file=sys.stderr)
