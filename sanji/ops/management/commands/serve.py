"""``sanji serve``: run the platform under gunicorn (threads; persistent database connections)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from sanji.ops.gunicorn_config import DEFAULT_THREADS, default_workers


def gunicorn_argv(*, host: str, port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "sanji.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sanji.ops.gunicorn_worker.BalancedThreadWorker",
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
        "--config",
        "python:sanji.ops.gunicorn_config",
    ]


class Command(BaseCommand):
    help = "Serve the platform with gunicorn on SANJI_PORT (default 8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("SANJI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("SANJI_PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("SANJI_WORKERS") or default_workers(settings.DATABASES["default"])),
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("SANJI_THREADS", DEFAULT_THREADS))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        argv = gunicorn_argv(
            host=options["host"], port=options["port"], workers=options["workers"], threads=options["threads"]
        )
        self.stdout.write(f"Serving Sanji at http://{options['host']}:{options['port']}/")
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 — replaces this process with gunicorn
