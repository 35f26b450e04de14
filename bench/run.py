"""Run the benchmarks: ``python -m bench.run [--only NAME] [--engine sqlite|postgresql]``.

Each module ``bench/bench_*.py`` exposes ``NAME`` and ``run(engine: str) -> list[dict]``. Every
(module, engine) pair runs once, in a fresh child process whose ``DATABASE_URL`` points at a fresh,
migrated database of its own: SQLite in a temporary file, PostgreSQL as database ``--db-name``
(default ``sanji_bench_<pid>``, so concurrent runs never share one; created on
``postgres://postgres@127.0.0.1:5432``, override with ``SANJI_BENCH_PG``; dropped after the run).

``--keep`` keeps the database (and its data directory, which holds the keys its encrypted columns
need) under ``<tmp>/sanji-bench-keep/<db-name>-<engine>/`` instead of dropping it; ``--reuse`` runs
again on such a kept database (migrated forward, not re-created) and tells the benchmark so
(``SANJI_BENCH_REUSE=1``): benchmarks that support it skip seeding what is already there (the
million-case fill of ``cases_worklist`` takes minutes). ``--reuse`` implies ``--keep``.

Results are merged into ``bench/results.json`` under an exclusive lock and replaced atomically, so
concurrent runs keep each other's results: a result replaces the earlier one with the same name and
engine; results of other benchmarks stay.

A result is ``{"name", "value", "unit", "size", "engine", "anchor": {"name", "value", "unit"} | null,
"ratio": value / anchor.value | null, "notes"}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import functools
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results.json"
ENGINES = ("sqlite", "postgresql")
PG_SERVER = os.environ.get("SANJI_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
KEEP_DIR = Path(tempfile.gettempdir()) / "sanji-bench-keep"


def discover() -> list[ModuleType]:
    return [importlib.import_module(f"bench.{path.stem}") for path in sorted(BENCH_DIR.glob("bench_*.py"))]


def default_db_name() -> str:
    return f"sanji_bench_{os.getpid()}"


def _check_db_name(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name[0].isalpha() or len(name) > 60:
        raise argparse.ArgumentTypeError(f"{name!r}: letters, digits and _ only, starting with a letter")
    return name.lower()


def fresh_database(engine: str, workdir: Path, db_name: str) -> str:
    """A new empty database for one run; returns its DATABASE_URL."""
    if engine == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {db_name}")
    return f"{PG_SERVER}/{db_name}"


def existing_database(engine: str, workdir: Path, db_name: str) -> str:
    """The DATABASE_URL of a kept database (``--reuse``); refuses if it is not there."""
    if engine == "sqlite":
        path = workdir / "bench.sqlite3"
        if not path.exists():
            raise SystemExit(f"--reuse: no kept SQLite database at {path}")
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres") as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone() is None:
            raise SystemExit(f"--reuse: no kept PostgreSQL database {db_name}")
    return f"{PG_SERVER}/{db_name}"


def drop_database(engine: str, db_name: str) -> None:
    if engine != "postgresql":
        return
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine() -> dict[str, Any]:
    cpu = cpu_model()
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


def run_one(
    module: ModuleType, engine: str, *, db_name: str, keep: bool = False, reuse: bool = False
) -> list[dict[str, Any]]:
    keep = keep or reuse
    if keep:
        workdir = KEEP_DIR / f"{db_name}-{engine}"
        if not reuse:
            shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix=f"sanji-bench-{module.NAME}-{engine}-"))
    try:
        url = (
            existing_database(engine, workdir, db_name) if reuse else fresh_database(engine, workdir, db_name)
        )
        out = workdir / "results.json"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SANJI_DATA_DIR": str(workdir / "data"),
            "DJANGO_SETTINGS_MODULE": "sanji.settings",
            "SANJI_BENCH_REUSE": "1" if reuse else "",
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
        if keep:
            print(f"   kept: {url} (data dir {workdir / 'data'}); run again with --reuse", flush=True)
        else:
            drop_database(engine, db_name)
            shutil.rmtree(workdir, ignore_errors=True)


def child(module_name: str, engine: str, out: Path) -> None:
    import django

    python_speed_ms()  # before the benchmark: the machine is quiet then, not after it
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    module = importlib.import_module(module_name)
    results = [_complete(r, engine) for r in module.run(engine)]
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))


@functools.cache
def python_speed_ms() -> float:
    """A fixed pure-Python loop (10 million additions), best of 5, in ms: the speed of one core for
    the interpreter, recorded with every result. Sessions run on different machines (the same code
    measured twice as slow on one as on another), so a figure is read beside this one."""
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - began)
    return round(best * 1000, 1)


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
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "measured_on": {"cpu": cpu_model(), "python_loop_ms": python_speed_ms()},
    }


def merge(new: list[dict[str, Any]], results_path: Path = RESULTS) -> None:
    """Merge ``new`` into the results file: read, merge and replace under an exclusive lock.

    The lock (``<results>.lock``, ``flock``) serialises concurrent runs' merges, so none loses
    another's results; the new document is written to a temporary file and renamed over the old one,
    so a reader never sees half a file.
    """
    lock_path = results_path.with_name(results_path.name + ".lock")
    about = machine()  # outside the lock: it may wait for the PostgreSQL server
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            existing: list[dict[str, Any]] = []
            if results_path.exists():
                existing = json.loads(results_path.read_text()).get("results", [])
            replaced = {(r["name"], r["engine"]) for r in new}
            kept = [r for r in existing if (r["name"], r["engine"]) not in replaced]
            document = {
                "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": about,
                "results": sorted(kept + new, key=lambda r: (r["name"], r["engine"])),
            }
            fd, tmp = tempfile.mkstemp(dir=results_path.parent, prefix=f".{results_path.name}.")
            try:
                with os.fdopen(fd, "w") as fh:
                    fh.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
                os.replace(tmp, results_path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="run only the benchmark with this NAME")
    parser.add_argument("--engine", choices=ENGINES, help="run on this engine only (default: both)")
    parser.add_argument(
        "--db-name",
        type=_check_db_name,
        default=default_db_name(),
        help="name of this run's database (PostgreSQL) and kept directory (default: sanji_bench_<pid>)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database after the run")
    parser.add_argument("--reuse", action="store_true", help="run on the database kept under --db-name")
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
            results = run_one(module, engine, db_name=args.db_name, keep=args.keep, reuse=args.reuse)
            for r in results:
                print(f"   {r['name']}: {r['value']} {r['unit']}  ({r['notes']})", flush=True)
            new.extend(results)
            merge(new)  # written after each run, so a later failure keeps what was measured
    print(f"results: {RESULTS}")


if __name__ == "__main__":
    main()
