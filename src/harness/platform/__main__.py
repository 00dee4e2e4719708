"""`python -m harness.platform up`: the embedded platform for a person to try, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys

SERVICES = ("gateway", "rag", "agent", "query")
DEMO_TENANT = "demo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.platform",
        description="Run the reference platform on this machine, as the suite runs it. `up` starts the embedded "
                    "NATS and PostgreSQL, the scripted language model and the gateway, rag, agent and query "
                    "services, prints each endpoint, one per line, and stops everything on Ctrl-C or SIGTERM.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up",
        help="start the whole platform and keep it running until Ctrl-C or SIGTERM",
        description="Start the embedded NATS and PostgreSQL, the scripted language model and the gateway, rag, "
                    "agent and query services; print each endpoint, one per line; wait until Ctrl-C or SIGTERM, "
                    "then stop everything.",
    )
    up.add_argument("--model-url", help="the services call this OpenAI-compatible endpoint instead of a scripted "
                                        "model of their own: a suite run's, with -D model_port (e.g. "
                                        "http://127.0.0.1:8999/v1)")
    up.add_argument("--otlp-endpoint", help="the services export their telemetry here (a suite run's receiver, "
                                            "with -D otlp_port), instead of to a receiver of their own")
    commands.add_parser(
        "down",
        help="stop the warm platform a run kept with -D keep=yes (make cold)",
        description="Stop this checkout's warm platform (the servers, the scripted model's services) that a run "
                    "kept with -D keep=yes, and remove its record; says so when there is none.",
    )
    external = commands.add_parser(
        "external",
        help="run the suite against the platform as an external deployment, then stop it (make external)",
        description="Start the platform with the suite's scripted model and telemetry receiver as its provider "
                    "and exporter, run behave with -D platform=external and the platform's endpoints, stop the "
                    "platform, and exit with behave's status. Arguments after -- go to behave.",
    )
    external.add_argument("behave_args", nargs="*", help="behave's own arguments (after --)")
    args = parser.parse_args(argv)
    if args.command == "down":
        from harness.infra.warm import take_down

        print("warm platform stopped" if take_down() else "no warm platform was running", file=sys.stderr)
        return 0
    missing = _missing_module()
    if missing:
        print(f"cannot start the platform: the module {missing} does not exist yet.", file=sys.stderr)
        return 1
    if args.command == "external":
        from harness.platform.external import run_against_platform

        return run_against_platform(args.behave_args)
    return _up(args.model_url, args.otlp_endpoint)


def _missing_module() -> str | None:
    for module in ("ai_platform.services", *(f"ai_platform.services.{name}" for name in SERVICES)):
        try:
            if importlib.util.find_spec(module) is None:
                return module
        except ModuleNotFoundError:
            return module
    return None


def _up(model_url: str | None = None, otlp_endpoint: str | None = None) -> int:
    # Imported here so that --help and the missing-module check answer at once (LiteLLM is slow to import).
    from ai_contract.subjects import tenant_inbox_prefix
    from harness.infra.errors import ConfigurationError
    from harness.infra.nats_auth import without_credentials
    from harness.platform.environment import deployment_settings, service_environment
    from harness.platform.launch import write_launch_file
    from harness.platform.processes import ServiceFleet, ServiceUnavailable
    from harness.session import SuiteSession

    try:
        session = SuiteSession({})  # its exit guards turn SIGTERM into SystemExit
    except ConfigurationError as exc:
        print(f"cannot start the platform: {exc}", file=sys.stderr)
        return 1
    session.scripted_model_url, session.exporting_to = model_url, otlp_endpoint
    # With a provider of another process's (a suite run's, not up yet), the services are up when they answer
    # /health; their /ready turns 200 once the provider answers, and the suite waits for it.
    fleet = ServiceFleet(session.infra.record, ready_path="/health" if model_url else "/ready")
    try:
        services = fleet.start(SERVICES, service_environment(session))
        endpoints = {
            "nats": session.infra.nats_url(),
            "database": session.database_url,
            "model": model_url or session.model_server.base_url,
            **{name: services[name].url for name in SERVICES},
        }
        # How a suite run may start more instances of these services, with its own settings (-D launch_file).
        settings = deployment_settings(session)
        endpoints["launch"] = str(write_launch_file(session.infra.record.new_temp_dir() / "launch.json",
                                                    {name: fleet.default_launch(name, settings) for name in SERVICES}))
        for name, url in endpoints.items():
            print(f"{name:<9} {url}", flush=True)
        # Who may call: the operator (issues tenant keys, removes tenants) and a demo tenant, one line each.
        print(f"operator-key {session.operator_key}", flush=True)
        demo_key = _issued_key(services['rag'].url, session.operator_key, DEMO_TENANT)
        print(f"key {DEMO_TENANT} {demo_key}", flush=True)
        # A tenant's client on the bus: the server without the service user, the tenant's key as the token, and
        # the inbox prefix its replies come to (CONTRACTS.md, "Bus permissions").
        print(f"nats-tenant {DEMO_TENANT} {without_credentials(endpoints['nats'])} token {demo_key} "
              f"inbox-prefix {tenant_inbox_prefix(DEMO_TENANT)}", flush=True)
        print("running; Ctrl-C stops everything", file=sys.stderr, flush=True)
        signal.pause()
    except (ServiceUnavailable, ConfigurationError) as exc:
        print(f"cannot start the platform: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        fleet.close()  # services first: they would otherwise see their database and model vanish
        session.close()
    print("stopped", file=sys.stderr)
    return 0


def _issued_key(service_url: str, operator_key: str, tenant_id: str) -> str:
    """The tenant's key, as any operator gets it: from the operator route of a service."""
    import httpx

    from ai_contract import routes

    answer = httpx.post(service_url + routes.tenant_keys(tenant_id),
                        headers={"Authorization": f"Bearer {operator_key}"})
    answer.raise_for_status()
    return answer.json()["data"]["key"]


if __name__ == "__main__":
    sys.exit(main())
