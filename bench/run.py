"""Run the benchmarks: ``python -m bench.run [--only NAME] [--engine sqlite|postgresql]``.

Each module ``bench/bench_*.py`` exposes ``NAME`` and ``run(engine: str) -> list[dict]``. Every
(module, engine) pair runs once, in a fresh child process whose ``DATABASE_URL`` points at a fresh,
migrated database: SQLite in a temporary file, PostgreSQL as database ``sanji_bench`` (dropped and
re-created on ``postgres://postgres@127.0.0.1:5432``; override with ``SANJI_BENCH_PG``). Results are
merged into ``bench/results.json``: a result replaces the earlier one with the same name and engine;
results of other benchmarks stay.

A result is ``{"name", "value", "unit", "size", "engine", "anchor": {"name", "value", "unit"} | null,
"ratio": value / anchor.value | null, "notes"}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results.json"
ENGINES = ("sqlite", "postgresql")
PG_SERVER = os.environ.get("SANJI_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_DATABASE = "sanji_bench"


def discover() -> list[ModuleType]:
    return [importlib.import_module(f"bench.{path.stem}") for path in sorted(BENCH_DIR.glob("bench_*.py"))]


def fresh_database(engine: str, workdir: Path) -> str:
    """A new empty database for one run; returns its DATABASE_URL."""
    if engine == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    return f"{PG_SERVER}/{PG_DATABASE}"


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    import sqlite3

    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql_server": _pg_version(),
    }


def _pg_version() -> str | None:
    try:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else None
    except Exception:
        return None


def run_one(module: ModuleType, engine: str) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"sanji-bench-{module.NAME}-{engine}-"))
    try:
        url = fresh_database(engine, workdir)
        out = workdir / "results.json"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SANJI_DATA_DIR": str(workdir / "data"),
            "DJANGO_SETTINGS_MODULE": "sanji.settings",
        }
        cmd = [
            sys.executable,
            "-m",
            "bench.run",
            "--child",
            module.__name__,
            "--engine",
            engine,
            "--out",
            str(out),
        ]
        print(f"== {module.NAME} on {engine}", flush=True)
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        results: list[dict[str, Any]] = json.loads(out.read_text())
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def child(module_name: str, engine: str, out: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    module = importlib.import_module(module_name)
    results = [_complete(r, engine) for r in module.run(engine)]
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))


def _complete(result: dict[str, Any], engine: str) -> dict[str, Any]:
    anchor = result.get("anchor")
    ratio = result.get("ratio")
    if ratio is None and anchor and anchor.get("value"):
        ratio = round(result["value"] / anchor["value"], 4)
    return {
        "name": result["name"],
        "value": result["value"],
        "unit": result["unit"],
        "size": result.get("size"),
        "engine": engine,
        "anchor": anchor,
        "ratio": ratio,
        "notes": result.get("notes", ""),
    }


def merge(new: list[dict[str, Any]]) -> None:
    existing: list[dict[str, Any]] = []
    if RESULTS.exists():
        existing = json.loads(RESULTS.read_text()).get("results", [])
    replaced = {(r["name"], r["engine"]) for r in new}
    kept = [r for r in existing if (r["name"], r["engine"]) not in replaced]
    document = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "results": sorted(kept + new, key=lambda r: (r["name"], r["engine"])),
    }
    RESULTS.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="run only the benchmark with this NAME")
    parser.add_argument("--engine", choices=ENGINES, help="run on this engine only (default: both)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.engine, args.out)
        return

    modules = [m for m in discover() if args.only in (None, m.NAME)]
    if not modules:
        parser.error(f"no benchmark named {args.only!r}")
    engines = [args.engine] if args.engine else list(ENGINES)
    new: list[dict[str, Any]] = []
    for module in modules:
        for engine in engines:
            results = run_one(module, engine)
            for r in results:
                print(f"   {r['name']}: {r['value']} {r['unit']}  ({r['notes']})", flush=True)
            new.extend(results)
            merge(new)  # written after each run, so a later failure keeps what was measured
    print(f"results: {RESULTS}")


if __name__ == "__main__":
    main()
