"""The coverage report: what the scenarios exercised, tallied from spans as they arrive, and the check CI runs."""

import json

from harness.reporting import coverage
from harness.traces.model import ReceivedSpan
from harness.traces.store import TelemetryStore

DOCUMENTS = {
    "rag": {"paths": {
        "/api/v1/rag/documents": {"get": {}, "post": {}},
        "/api/v1/rag/documents/{document_id}": {"get": {}, "delete": {}, "parameters": []},
        "/health": {"get": {}},
    }},
    "agent": {"paths": {"/api/v1/agents/{agent_id}/execute": {"post": {}}}},
}
_ids = iter(range(1, 10_000))


def span(trace: str, name: str, kind: str = "SERVER", service: str = "rag-service", status: str = "UNSET",
         **attributes) -> ReceivedSpan:
    return ReceivedSpan(trace_id=trace, span_id=f"{next(_ids):016x}", parent_span_id=None, name=name, kind=kind,
                        start_ns=0, end_ns=1, status_code=status, attributes=attributes,
                        resource={"service.name": service})


def client(trace: str) -> ReceivedSpan:
    return span(trace, coverage.CLIENT_SPAN, kind="CLIENT", service=coverage.SUITE_SERVICE)


def served(route: str, method: str, status: int, trace: str = "t1", service: str = "rag-service",
           stable: bool = True) -> ReceivedSpan:
    """A service's SERVER span, with the stable HTTP attributes or the old ones."""
    if stable:
        return span(trace, f"{method} {route}", service=service, **{
            "http.route": route, "http.request.method": method, "http.response.status_code": status})
    return span(trace, f"{method} {route}", service=service,
                **{"http.route": route, "http.method": method, "http.status_code": status})


def test_a_server_span_names_its_service_method_route_and_status_in_either_convention():
    stable = coverage.operation_of(served("/api/v1/rag/documents/{document_id}", "DELETE", 204))
    old = coverage.operation_of(served("/api/v1/agents/{agent_id}/execute", "POST", 200, service="agent-service",
                                       stable=False))
    assert stable == ("rag DELETE /api/v1/rag/documents/{document_id}", "204")
    assert old == ("agent POST /api/v1/agents/{agent_id}/execute", "200")


def test_a_message_span_names_its_subject_without_the_tenant():
    handled = span("t", "nats.process", kind="CONSUMER", **{"messaging.destination.name": "ai.rag.ingest.acme-12"})
    parked = span("t", "nats.publish", kind="PRODUCER", status="ERROR",
                  **{"messaging.destination.name": "ai.dlq.gateway.acme-12"})
    assert coverage.operation_of(handled) == ("nats ai.rag.ingest", "ok")
    assert coverage.operation_of(parked) == ("nats ai.dlq.gateway", "error")


def test_the_suites_own_spans_and_other_spans_are_no_operation():
    suite_server = span("t", "GET /x", service=coverage.SUITE_SERVICE, **{"http.route": "/x", "http.method": "GET"})
    inner = span("t", "rag.query", kind="INTERNAL")
    assert coverage.operation_of(suite_server) is None
    assert coverage.operation_of(inner) is None
    assert coverage.operation_of(client("t")) is None


def test_only_traces_holding_the_suites_client_span_count_whatever_the_order_of_arrival():
    tally = coverage.CoverageTally()
    store = TelemetryStore()
    store.listen(tally.observe)
    store.add_spans([served("/api/v1/rag/documents", "POST", 201, trace="scenario")])
    store.add_spans([client("scenario")])  # the suite's span ends after the service's: it arrives later
    store.add_spans([served("/api/v1/rag/documents/{document_id}", "DELETE", 204, trace="fuzz")])
    store.forget(["scenario", "fuzz"])  # a scenario's end drops its spans; the tally keeps what it saw

    assert tally.served() == {"rag POST /api/v1/rag/documents": {"201": 1}}


def test_a_route_that_only_refused_is_not_exercised_and_its_refusals_are_counted():
    tally = coverage.CoverageTally()
    tally.observe([client("a"), served("/api/v1/rag/documents", "GET", 401, trace="a"),
                   served("/api/v1/rag/documents", "GET", 405, trace="a"),
                   served("/api/v1/rag/documents", "POST", 201, trace="a"),
                   served("/api/v1/rag/documents", "POST", 422, trace="a")])
    report = coverage.build_report(DOCUMENTS, tally.served())

    assert "rag POST /api/v1/rag/documents" in report["covered"]
    assert "rag GET /api/v1/rag/documents" in report["uncovered"]
    assert report["counts"]["rag GET /api/v1/rag/documents"] == {"401": 1, "405": 1}


def test_the_report_holds_every_operation_and_subject_once_and_probes_apart():
    report = coverage.build_report(DOCUMENTS, {"nats ai.rag.ingest": {"ok": 2}})
    universe = report["covered"] + report["uncovered"]

    assert sorted(universe) == sorted({*universe}), "an operation listed twice"
    assert "rag DELETE /api/v1/rag/documents/{document_id}" in report["uncovered"]
    assert "agent POST /api/v1/agents/{agent_id}/execute" in report["uncovered"]
    assert "nats ai.dlq.rag" in report["uncovered"] and "nats ai.agent.results" in report["uncovered"]
    assert report["covered"] == ["nats ai.rag.ingest"]
    assert list(report["untraced"]) == ["rag GET /health"]
    assert report["missing_services"] == ["gateway", "query"]


def test_the_check_passes_a_whole_contract_and_fails_naming_what_is_left(tmp_path, capsys):
    whole = {op: {"200": 1} for s, d in DOCUMENTS.items() for op in coverage.operations_of(s, d)}
    whole |= {f"nats {name}": {"ok": 1} for name in coverage.SUBJECTS}
    path = tmp_path / "coverage.json"
    documents = {**DOCUMENTS, "gateway": {"paths": {}}, "query": {"paths": {}}}

    coverage.write_report(coverage.build_report(documents, whole), path)
    assert coverage.check(path) == 0

    coverage.write_report(coverage.build_report(documents, {**whole, "agent POST /api/v1/agents/{agent_id}/execute":
                                                            {"422": 3}}), path)
    assert coverage.check(path) == 1
    said = capsys.readouterr().out
    assert "agent POST /api/v1/agents/{agent_id}/execute (only refused: 422 x3)" in said


def test_the_check_fails_when_a_service_never_started_and_skips_a_run_without_telemetry(tmp_path, capsys):
    path = tmp_path / "coverage.json"
    whole = {op: {"200": 1} for s, d in DOCUMENTS.items() for op in coverage.operations_of(s, d)}
    whole |= {f"nats {name}": {"ok": 1} for name in coverage.SUBJECTS}
    coverage.write_report(coverage.build_report(DOCUMENTS, whole), path)
    assert coverage.check(path) == 1
    assert "never started the gateway and query service(s)" in capsys.readouterr().out

    path.write_text(json.dumps(coverage.not_measured("the platform's spans do not reach the suite")))
    assert coverage.check(path) == 0
    assert "not checked, the platform's spans do not reach the suite" in capsys.readouterr().out
    assert coverage.check(tmp_path / "absent.json") == 1
