"""Which parts of the platform's contract the run's scenarios exercised, read from the run's own spans.

The universe is every operation of each service's OpenAPI document and every NATS subject of the contract
(`ai.<component>.<operation>`, without the tenant). What was exercised is tallied as spans arrive at the suite's
OTLP receiver (a scenario's spans are dropped when it ends, so nothing is left to read at the end of the run):
a service's SERVER span names the method, the route template and the status; a platform worker's `nats.process`
span (it handled a message) or `nats.publish` span (it sent one) names the subject. Only traces that hold the
suite's client span count: those are the scenarios' requests, their Then steps' reads included. Contract
fuzzing's schemathesis sends no traceparent, so its requests start traces of their own and count for nothing.

An HTTP operation counts as exercised when it answered a scenario below 400 at least once: a route that only
ever refused at the door (no key, a wrong method, a bad body) never did its work.

At the end of the run `reports/coverage.json` holds {measured, covered, uncovered, counts, ...};
`python -m harness.reporting.coverage reports/coverage.json` prints what is uncovered and exits 1 if anything is.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ai_contract import routes, subjects
from harness.reporting.paths import report_path

if TYPE_CHECKING:
    from harness.traces.model import ReceivedSpan

REPORT = report_path("coverage.json")
SERVICES = ("gateway", "rag", "agent", "query")
CLIENT_SPAN = "acceptance.client"  # the suite's span around every request it sends (harness.drivers.telemetry)
SUITE_SERVICE = "acceptance-suite"  # spans made in the suite's own process
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# The contract's subjects without their tenant, dead letters included for each component whose workers park.
SUBJECTS = tuple(name.rsplit(".", 1)[0] for name in (
    subjects.agent_messages("t"), subjects.agent_tasks("t"), subjects.agent_results("t"),
    subjects.gateway_requests("t"), subjects.rag_ingest("t"), subjects.rag_queries("t"),
    *(subjects.dead_letter(component, "t") for component in ("agent", "gateway", "rag"))))
# What no span can show, and what exercises it instead: the services trace no probe (their instrumentation leaves
# /health and /ready out, so the readiness polls of every start are no one's request).
UNTRACED = {f"{service} GET {path}": "probes are not traced; the readiness feature calls them on every service"
            for service in SERVICES for path in (routes.HEALTH, routes.READY)}
SHOWN = 8  # uncovered operations named in the run's closing summary; the report holds them all
DOCUMENT_TIMEOUT_S = 5.0


def operation_of(span: ReceivedSpan) -> tuple[str, str] | None:
    """The contract operation a platform span shows, and how it went (an HTTP status, or ok/error for a message):
    ("rag DELETE /api/v1/rag/documents/{document_id}", "204"), ("nats ai.rag.ingest", "ok"); None for any other."""
    if span.service_name == SUITE_SERVICE:
        return None
    attributes = span.attributes
    if span.kind == "SERVER" and "http.route" in attributes:
        method = attributes.get("http.request.method") or attributes.get("http.method")
        status = attributes.get("http.response.status_code") or attributes.get("http.status_code")
        service = span.service_name.removesuffix("-service")
        return f"{service} {str(method).upper()} {attributes['http.route']}", str(status)
    if span.name in ("nats.process", "nats.publish"):
        subject = str(attributes.get("messaging.destination.name", ""))
        if subject.startswith("ai."):
            return f"nats {subject.rsplit('.', 1)[0]}", "error" if span.is_error else "ok"
    return None


class CoverageTally:
    """Thread-safe: the receiver's handler threads and the in-process capture report spans as they arrive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_trace: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        self._scenario_traces: set[str] = set()

    def observe(self, spans: Iterable[ReceivedSpan]) -> None:
        for span in spans:
            if span.name == CLIENT_SPAN and span.service_name == SUITE_SERVICE:
                with self._lock:
                    self._scenario_traces.add(span.trace_id)
                continue
            served = operation_of(span)
            if served is not None:
                with self._lock:
                    self._by_trace[span.trace_id][served] += 1

    def served(self) -> dict[str, Counter[str]]:
        """What the platform did for the scenarios: operation -> how often, by outcome."""
        found: dict[str, Counter[str]] = defaultdict(Counter)
        with self._lock:
            for trace_id in self._scenario_traces & self._by_trace.keys():
                for (operation, outcome), count in self._by_trace[trace_id].items():
                    found[operation][outcome] += count
        return found


def operations_of(service: str, document: Mapping[str, Any]) -> list[str]:
    """Every operation of a service's OpenAPI document, as "<service> <METHOD> <path template>"."""
    return [f"{service} {method.upper()} {path}" for path, item in document.get("paths", {}).items()
            for method in HTTP_METHODS if method in item]


def exercised(operation: str, outcomes: Mapping[str, int]) -> bool:
    """A route did its work when it answered below 400; a subject when a worker handled or sent a message on it."""
    if operation.startswith("nats "):
        return sum(outcomes.values()) > 0
    return any(outcome.isdigit() and int(outcome) < 400 for outcome in outcomes)


def build_report(documents: Mapping[str, Mapping[str, Any]], served: Mapping[str, Mapping[str, int]]) -> dict:
    """The report of a run: what of the contract the scenarios exercised, what they did not, and the counts."""
    universe = [op for service, document in documents.items() for op in operations_of(service, document)]
    universe += [f"nats {name}" for name in SUBJECTS]
    untraced = {op: reason for op, reason in UNTRACED.items() if op in universe}
    covered = [op for op in universe if op not in untraced and exercised(op, served.get(op, {}))]
    uncovered = [op for op in universe if op not in untraced and op not in covered]
    return {
        "measured": True,
        "services": sorted(documents),
        "missing_services": [service for service in SERVICES if service not in documents],
        "covered": covered,
        "uncovered": uncovered,
        "untraced": untraced,
        "counts": {op: dict(sorted(served.get(op, {}).items())) for op in universe if op not in untraced},
        "outside_the_contract": sorted(set(served) - set(universe)),
    }


def fetch_documents(urls: Mapping[str, str]) -> dict[str, dict]:
    """Each service's OpenAPI document, from where it listens, all at once; a service that does not answer is
    left out."""
    if not urls:
        return {}

    def fetch(service_url: tuple[str, str]) -> tuple[str, dict | None]:
        service, url = service_url
        try:
            answer = httpx.get(f"{url}/openapi.json", timeout=DOCUMENT_TIMEOUT_S, trust_env=False)
            return service, answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return service, None

    with ThreadPoolExecutor(len(urls)) as pool:
        return {service: document for service, document in pool.map(fetch, urls.items()) if document is not None}


def write_report(report: dict, path: Path = REPORT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")


def merge_reports(reports: list[dict]) -> dict:
    """The coverage of one run made of several (the parallel runner's workers): an operation any of them
    exercised is covered, and a service is missing only when none of them started it."""
    measured = [report for report in reports if report.get("measured")]
    if not measured:
        return reports[0] if reports else not_measured("no worker measured it")
    counts: dict[str, Counter[str]] = {}
    for report in measured:
        for operation, outcomes in report["counts"].items():
            counts.setdefault(operation, Counter()).update(outcomes)
    covered = list(dict.fromkeys(op for report in measured for op in report["covered"]))
    universe = list(dict.fromkeys(op for report in measured for op in report["covered"] + report["uncovered"]))
    return {
        "measured": True,
        "services": sorted({service for report in measured for service in report["services"]}),
        "missing_services": [service for service in SERVICES
                             if all(service in report["missing_services"] for report in measured)],
        "covered": covered,
        "uncovered": [op for op in universe if op not in covered],
        "untraced": {op: why for report in measured for op, why in report["untraced"].items()},
        "counts": {op: dict(sorted(outcomes.items())) for op, outcomes in counts.items()},
        "outside_the_contract": sorted({op for report in measured for op in report["outside_the_contract"]}),
    }


def not_measured(reason: str) -> dict:
    return {"measured": False, "reason": reason}


def summary_line(report: Mapping[str, Any], path: Path = REPORT) -> str:
    """One line for the end of the run."""
    if not report.get("measured"):
        return f"coverage: not measured, {report['reason']}"
    covered, uncovered = report["covered"], report["uncovered"]
    line = (f"coverage: scenarios exercised {len(covered)} of {len(covered) + len(uncovered)} operations and "
            f"subjects of the contract ({path})")
    if report["missing_services"]:
        line += f"; never started: {', '.join(report['missing_services'])}"
    if uncovered:
        more = f" and {len(uncovered) - SHOWN} more" if len(uncovered) > SHOWN else ""
        line += f"; not exercised: {', '.join(uncovered[:SHOWN])}{more}"
    return line


def check(path: Path) -> int:
    """0 when the run's scenarios exercised the whole contract (or coverage was not measured, said in a sentence),
    1 when anything was left out, with the list."""
    if not path.exists():
        print(f"coverage: no report at {path}; it is written at the end of a behave run", file=sys.stderr)
        return 1
    report = json.loads(path.read_text())
    if not report.get("measured"):
        print(f"coverage: not checked, {report['reason']}")
        return 0
    failed = False
    if report["missing_services"]:
        failed = True
        print(f"coverage: the run never started the {' and '.join(report['missing_services'])} service(s), so the "
              "check cannot know their operations; it is meant for a whole run")
    if report["uncovered"]:
        failed = True
        print(f"coverage: {len(report['uncovered'])} operation(s) or subject(s) of the contract no scenario "
              "exercised:")
        for operation in report["uncovered"]:
            seen = report["counts"].get(operation) or {}
            why = f" (only refused: {', '.join(f'{k} x{v}' for k, v in seen.items())})" if seen else ""
            print(f"  {operation}{why}")
    if not failed:
        print(f"coverage: every operation and subject of the contract was exercised ({len(report['covered'])}; "
              f"not traced: {len(report['untraced'])})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(check(Path(sys.argv[1]) if len(sys.argv) > 1 else REPORT))
