"""``lakehouse``: query, inspect and build the lake from a terminal.

    lakehouse sql "select …" [--format table|csv|json] [--max-rows N]   a read-only query ("-": from stdin)
    lakehouse status [--format …]       every table and view with rows and last snapshot; latest ingestion
    lakehouse shell [--duckdb]          an interactive SQL session on the lake, read-only
    lakehouse dbt ARGS…                 dbt of this venv, pointed at the lake (under the writer lock)
    lakehouse init                      install the DuckDB extensions and create the lake
    lakehouse catalog build|search|show|lineage|site    the data catalog (pipelines/cli_catalog.py)
    lakehouse serve [--host 127.0.0.1] [--port 8000]    the data API, the one screen and the Data Docs, read-only

Every location comes from ``pipelines.settings`` (LAKEHOUSE_ROOT, LAKEHOUSE_CATALOG, …). Readers attach
the lake READ_ONLY and never take the writer lock, so they work while a pipeline writes. ``sql`` and
``shell`` run queries only (see ``refusal``): a READ_ONLY attach alone would not stop ``ATTACH`` of the
catalog read-write, ``COPY … TO`` or a DuckLake maintenance call, i.e. a second writer beside the lock.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines import cli_catalog
from pipelines import settings as settings_module
from pipelines.cli_output import jsonable, render_table, write_csv, write_json
from pipelines.lake import extensions, meta
from pipelines.lake.connection import LakeMissing, current_snapshot, lake_exists, reader, retry_transient, s3_secret_sql
from pipelines.lake.inspect import LATEST_LOADS, lake_objects, last_snapshots, row_counts
from pipelines.lake.lock import WriterLockTimeout, writer_lock
from pipelines.lake.sql import literal
from pipelines.settings import LAKE_ALIAS, Settings

PROG = "lakehouse"
FORMATS = ("table", "csv", "json")
TABLE_MAX_ROWS = 1000  # a terminal cannot show more usefully; csv/json are for pipes and stay complete
FETCH_ROWS = 2048
# dbt subcommands that never attach the lake read-write, so they need not wait for the writer lock
# (docs and debug do attach it read-write).
DBT_READ_ONLY = frozenset({"parse", "compile", "ls", "list", "deps", "clean"})
PROMPT, CONTINUATION = "lake> ", "  ...> "


class CliError(Exception):
    """A user mistake worth one line, not a traceback."""


def one_line(exc: BaseException) -> str:
    """DuckDB's message without its "LINE 1: …" and caret lines, which only make sense in a monospace box."""
    lines = [line.strip() for line in str(exc).splitlines()]
    kept = [line for line in lines if line and not line.startswith("LINE ") and set(line) != {"^"}]
    text = " ".join(kept) or type(exc).__name__
    if "read-only mode" in text:
        text += " (the lake is read-only here: the pipelines write it, e.g. `make run` or `lakehouse dbt`)"
    return text


# ------------------------------------------------------------------------------------------ queries only

# The statement types `sql` and `shell` run. SELECT is also what DuckDB makes of SHOW, DESCRIBE, SUMMARIZE,
# FROM …, WITH … SELECT, VALUES, TABLE and the reading pragmas (table_info, show_tables, database_size,
# version, …); the pragmas that change the session parse as PRAGMA or SET and are refused with the rest.
# (SET enable_external_access = false is no second fence here: DuckLake reads its Parquet files through the
# same file system, so the lake's tables stop reading; and it lets ATTACH 'ducklake:sqlite:…' through.)
QUERY_TYPES = frozenset({"SELECT", "EXPLAIN"})
# Functions a SELECT can call that write the lake's data files or catalog even when it is attached
# READ_ONLY (DuckLake maintenance, with or without the ducklake_ prefix as in lake.merge_adjacent_files(),
# and a checkpoint, which flushes and merges files), and those that run SQL given as a string.
WRITING_FUNCTIONS = frozenset({
    "add_data_files", "cleanup_old_files", "commit", "delete_orphaned_files", "expire_snapshots",
    "flush_inlined_data", "merge_adjacent_files", "rewrite_data_files", "set_commit_message", "set_option",
    "checkpoint", "force_checkpoint",
    "query", "json_execute_serialized_sql", "sqlite_query", "postgres_query", "postgres_execute",
})
EXPLAIN_OPTIONS = frozenset({"analyze", "analyse", "verbose"})
_NAME = re.compile(r'"(?:[^"]|"")*"|\w+')


def _tokens(sql: str) -> list[tuple[int, str]]:
    """(position, text) of each token outside comments; names unquoted and lower-cased, "(" and ")" as is."""
    tokens = []
    # DuckDB gives UTF-8 byte offsets; Python indexes characters (a Chinese literal is 3 bytes a character)
    at_byte = {len(sql[:i].encode()): i for i in range(len(sql) + 1)} if not sql.isascii() else None
    for byte_pos, kind in duckdb.tokenize(sql):
        pos = at_byte[byte_pos] if at_byte is not None else byte_pos
        match = _NAME.match(sql, pos) if kind in (duckdb.token_type.identifier, duckdb.token_type.keyword) else None
        if match is None:
            tokens.append((pos, sql[pos]))
        else:
            name = match.group()
            tokens.append((pos, (name[1:-1].replace('""', '"') if name.startswith('"') else name).lower()))
    return tokens


def _one_select(sql: str) -> bool:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return False
    return len(statements) == 1 and statements[0].type.name == "SELECT"


def _explained(sql: str, tokens: list[tuple[int, str]]) -> str:
    """The statement an EXPLAIN is about (EXPLAIN ANALYZE runs it): what follows its options."""
    i = 1  # tokens[0] is EXPLAIN
    while i < len(tokens):
        pos, word = tokens[i]
        if word in EXPLAIN_OPTIONS:
            i += 1
        elif word == "(" and not _one_select(sql[pos:]):  # an option list, e.g. (ANALYZE, FORMAT json)
            depth = 0
            while i < len(tokens):
                depth += {"(": 1, ")": -1}.get(tokens[i][1], 0)
                i += 1
                if depth == 0:
                    break
        else:
            return sql[pos:]
    return ""


def statement_label(statement: duckdb.Statement) -> str:
    kind = statement.type.name
    if kind.isidentifier():
        return kind.replace("_", " ")
    tokens = _tokens(statement.query)  # a type the bindings cannot name
    return tokens[0][1].upper() if tokens else kind


def refusal(statement: duckdb.Statement) -> str | None:
    """What makes ``statement`` more than a read (its type or the writing call), None for a query."""
    if statement.type.name not in QUERY_TYPES:
        return statement_label(statement)
    tokens = _tokens(statement.query)
    for (_, word), (_, following) in itertools.pairwise(tokens):
        if following == "(" and word.removeprefix("ducklake_") in WRITING_FUNCTIONS:
            return f"{word}()"
    if statement.type.name == "EXPLAIN":
        try:
            inner = duckdb.extract_statements(_explained(statement.query, tokens))
        except duckdb.Error:
            inner = []
        if len(inner) != 1:
            return "EXPLAIN"
        if inner[0].type.name != "SELECT":
            return f"EXPLAIN {statement_label(inner[0])}"
    return None


def only_queries(statements: list[duckdb.Statement]) -> None:
    """Refuse the lot, before any runs, unless every statement is a query."""
    for statement in statements:
        why = refusal(statement)
        if why is not None:
            raise CliError(f"only queries are allowed here (got {why}); the lake is written by the pipelines")


# ---------------------------------------------------------------------------------------------- results

def batches(con: duckdb.DuckDBPyConnection) -> Iterator[list[tuple]]:
    while batch := con.fetchmany(FETCH_ROWS):
        yield batch


def limited(source: Iterator[list[tuple]], max_rows: int, cut: list[bool]) -> Iterator[list[tuple]]:
    """At most ``max_rows`` rows (0: all); sets cut[0] when rows were left out."""
    left = max_rows
    for batch in source:
        if max_rows and len(batch) >= left:
            cut[0] = len(batch) > left or next(source, None) is not None
            yield batch[:left]
            return
        left -= len(batch)
        yield batch


def table_text(con: duckdb.DuckDBPyConnection, max_rows: int) -> str:
    """The result as a table; the footer counts every row, shown or not."""
    columns = [d[0] for d in con.description]
    shown: list[tuple] = []
    total = 0
    for batch in batches(con):
        if not max_rows or len(shown) < max_rows:
            shown.extend(batch[: max_rows - len(shown)] if max_rows else batch)
        total += len(batch)
    return render_table(columns, shown, total)


def emit(con: duckdb.DuckDBPyConnection, fmt: str, max_rows: int) -> None:
    """Print the pending result of ``con`` to stdout in ``fmt``."""
    if fmt == "table":
        print(table_text(con, max_rows))
        return
    columns = [d[0] for d in con.description]
    cut = [False]
    rows = limited(batches(con), max_rows, cut)
    write = write_csv if fmt == "csv" else write_json
    count = write(sys.stdout, columns, rows)
    if cut[0]:
        print(f"{PROG}: output cut at {count} rows (--max-rows)", file=sys.stderr)


# -------------------------------------------------------------------------------------------------- sql

def cmd_sql(args: argparse.Namespace) -> int:
    sql = sys.stdin.read() if args.query == "-" else args.query
    default = TABLE_MAX_ROWS if args.format == "table" else 0
    max_rows = default if args.max_rows is None else args.max_rows
    statements = duckdb.extract_statements(sql)  # a syntax error stops here, before attaching the lake
    if not statements:
        raise CliError("no SQL given")
    only_queries(statements)  # so does anything but a query, before the first statement runs
    with reader(settings_module.load()) as con:
        for statement in statements:  # the statements checked, not the text parsed again
            retry_transient(lambda s=statement: con.execute(s))
        if con.description is not None:  # like con.execute(sql), the last statement's result is the answer
            emit(con, args.format, max_rows)
    return 0


# ----------------------------------------------------------------------------------------------- status

INGESTION_COLUMNS = ("dataset", "partitions", "first_partition", "last_partition", "files", "files_rejected",
                     "rows_read", "rows_loaded", "rows_quarantined", "rows_warned", "reconciles", "contract_version",
                     "last_loaded_at")
# The summary per dataset adds up the files of the latest batch of every partition (LATEST_LOADS).
INGESTION_SQL = f"""
    WITH latest AS ({LATEST_LOADS})
    SELECT dataset, count(DISTINCT partition_key), min(partition_key), max(partition_key), count(*),
           count(*) FILTER (WHERE status = 'rejected'), sum(rows_read)::BIGINT, sum(rows_loaded)::BIGINT,
           sum(rows_quarantined)::BIGINT, coalesce(sum(rows_warned), 0)::BIGINT,
           bool_and(rows_read = rows_loaded + rows_quarantined), string_agg(DISTINCT contract_version, ', '),
           date_trunc('second', max(finished_at))
    FROM latest GROUP BY dataset ORDER BY dataset"""

OBJECT_COLUMNS = ("schema", "name", "kind", "rows", "last_snapshot", "snapshot_time")


def status_warning(message: str) -> None:
    print(f"{PROG} status: {message}", file=sys.stderr)


def collect_status(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    objects = lake_objects(con)
    last = last_snapshots(con)
    snapshot = current_snapshot(con)
    [at] = con.execute(f"SELECT date_trunc('second', snapshot_time) FROM {LAKE_ALIAS}.snapshots() "
                       "WHERE snapshot_id = ?", [snapshot]).fetchone()
    has_log = ("meta", "ingestion_log", "table") in objects
    counts = row_counts(con, [(s, n) for s, n, _ in objects], on_error=status_warning)
    return {
        "snapshot_id": snapshot, "snapshot_time": at,
        "objects": [(s, n, k, counts[(s, n)], *last.get((s, n), (None, None))) for s, n, k in objects],
        "ingestion": retry_transient(lambda: con.execute(INGESTION_SQL).fetchall()) if has_log else None,
    }


def print_status(status: dict[str, object], settings: Settings, fmt: str) -> None:
    ingestion = status["ingestion"] or []
    if fmt == "json":
        doc = {"catalog": settings.catalog, "data_path": settings.data_path,
               "snapshot_id": status["snapshot_id"], "snapshot_time": status["snapshot_time"],
               "objects": [dict(zip(OBJECT_COLUMNS, r, strict=True)) for r in status["objects"]],
               "ingestion": [dict(zip(INGESTION_COLUMNS, r, strict=True)) for r in ingestion]}
        print(json.dumps(jsonable(doc), ensure_ascii=False, indent=2))
    elif fmt == "csv":  # two RFC 4180 tables, one blank line apart
        write_csv(sys.stdout, OBJECT_COLUMNS, [status["objects"]])
        sys.stdout.write("\r\n")
        write_csv(sys.stdout, INGESTION_COLUMNS, [ingestion])
    else:
        print(f"lake {settings.catalog} (data {settings.data_path})\n"
              f"current snapshot {status['snapshot_id']} at {status['snapshot_time']}\n")
        print("Tables and views")
        print(render_table(OBJECT_COLUMNS, status["objects"]))
        print("\nLatest ingestion per dataset (meta.ingestion_log, latest load of each partition)")
        if status["ingestion"] is None:
            print("meta.ingestion_log does not exist: run `lakehouse init`")
        elif not ingestion:
            print("meta.ingestion_log is empty: nothing has been ingested yet")
        else:
            print(render_table(INGESTION_COLUMNS, ingestion))


def cmd_status(args: argparse.Namespace) -> int:
    settings = settings_module.load()
    with reader(settings) as con:
        status = collect_status(con)
    print_status(status, settings, args.format)
    return 0


# ------------------------------------------------------------------------------------------------ shell

def statement_complete(text: str) -> bool:
    """True when the last thing outside quotes and comments is ';' (so ';' inside 'a;b' does not end it)."""
    quote, last, i = "", "", 0
    while i < len(text):
        ch, two = text[i], text[i:i + 2]
        if quote:
            if (quote == "--" and ch == "\n") or (quote == "/*" and two == "*/"):
                i += 1 if quote == "--" else 2
                quote = ""
                continue
            if ch == quote:
                quote = ""
                last = ch
        elif two in ("--", "/*"):
            quote = two
            i += 1
        elif ch in "'\"":
            quote = last = ch
        elif not ch.isspace():
            last = ch
        i += 1
    return not quote.strip("-") and last == ";"  # an open "--" comment ends with the line


SHELL_HELP = """\
.tables          tables and views of the lake
.schema NAME     the columns of a table or view (e.g. .schema marts.fct_green_loan_balance_monthly)
.help            this text
.quit, .exit     leave (or Ctrl-D)
SQL statements end with ';' and may span lines; Ctrl-C cancels the statement being typed."""


class Shell:
    """Feeds lines of input to the lake: dot commands, and SQL once a statement is complete."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.buffer: list[str] = []
        self.failed = False

    def feed(self, line: str) -> bool:
        """Take one line; False when the user asked to leave."""
        if not self.buffer and line.strip().startswith("."):
            return self.dot(line.strip().rstrip(";").split())
        if self.buffer or line.strip():
            self.buffer.append(line)
        if self.buffer and statement_complete("\n".join(self.buffer)):
            self.flush()
        return True

    def flush(self) -> None:
        text, self.buffer = "\n".join(self.buffer), []
        if text.strip():
            self.run(text)

    def error(self, exc: BaseException) -> None:
        self.failed = True
        print(f"Error: {one_line(exc)}", file=sys.stderr)

    def run(self, text: str) -> None:
        try:
            statements = duckdb.extract_statements(text)
            only_queries(statements)  # all of them before the first runs
            for statement in statements:
                retry_transient(lambda s=statement: self.con.execute(s))
                if self.con.description is not None:
                    print(table_text(self.con, TABLE_MAX_ROWS))
        except (duckdb.Error, CliError) as exc:
            self.error(exc)

    def dot(self, words: list[str]) -> bool:
        command, rest = words[0], words[1:]
        if command in (".quit", ".exit", ".q"):
            return False
        if command == ".help":
            print(SHELL_HELP)
        elif command == ".tables":
            print(render_table(("schema", "name", "kind"), lake_objects(self.con)))
        elif command == ".schema" and len(rest) == 1:
            self.run(f"DESCRIBE {rest[0]};")
        elif command == ".schema":
            self.error(CliError("usage: .schema NAME"))
        else:
            self.error(CliError(f"unknown command {command} (try .help)"))
        return True


def history_path() -> Path:
    return Path.home() / ".lakehouse_history"


def _readline():
    try:
        import readline
    except ImportError:  # not on every platform; the shell works without history then
        return None
    with contextlib.suppress(OSError):
        readline.read_history_file(history_path())
    readline.set_history_length(2000)
    return readline


def _collapse_history(readline, start: int) -> None:
    """Keep a multi-line statement as one history entry, so arrow-up brings the whole statement back."""
    end = readline.get_current_history_length()
    if end - start < 2:
        return
    lines = [readline.get_history_item(i) for i in range(start + 1, end + 1)]
    for pos in range(end - 1, start - 1, -1):
        readline.remove_history_item(pos)
    readline.add_history(" ".join(line.strip() for line in lines))


def interactive(shell: Shell) -> int:
    readline = _readline()
    snapshot = current_snapshot(shell.con)
    print(f"{PROG} shell: the lake is attached read-only as `{LAKE_ALIAS}` (snapshot {snapshot}). "
          "End statements with ';'; .help for commands.")
    start = readline.get_current_history_length() if readline else 0
    try:
        while True:
            try:
                line = input(CONTINUATION if shell.buffer else PROMPT)
            except EOFError:
                print()
                return 0
            except KeyboardInterrupt:  # cancel what is being typed, stay in the shell
                print()
                shell.buffer = []
                start = readline.get_current_history_length() if readline else 0
                continue
            try:
                if not shell.feed(line):
                    return 0
            except KeyboardInterrupt:
                print("interrupted", file=sys.stderr)
            if readline and not shell.buffer:
                _collapse_history(readline, start)
                start = readline.get_current_history_length()
    finally:
        if readline:
            with contextlib.suppress(OSError):
                readline.write_history_file(history_path())


def piped(shell: Shell) -> int:
    """Run the statements on stdin; an error is reported and the next statement runs, exit 1 at the end."""
    for line in sys.stdin:
        if not shell.feed(line.rstrip("\r\n")):
            break
    else:
        shell.flush()  # a last statement without ';'
    return 1 if shell.failed else 0


def duckdb_cli() -> str | None:
    """A ``duckdb`` binary on PATH of this very DuckDB version (our extensions are built for it)."""
    path = shutil.which("duckdb")
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return path if out.split()[:1] == [f"v{duckdb.__version__}"] else None


def duckdb_cli_setup(settings: Settings) -> list[str]:
    """The statements that give the duckdb binary the read-only attach ``connect()`` gives Python.

    Only the attach: the duckdb binary runs whatever it is given, ATTACH and COPY included, which is why
    ``lakehouse shell`` uses it only when asked (--duckdb).
    """
    commands = [f"SET GLOBAL {key} = {literal(value) if isinstance(value, str) else str(value).lower()}"
                for key, value in extensions.connection_config(settings).items()]
    if settings.data_on_object_storage:
        commands.append(s3_secret_sql(settings))
    commands += [f"ATTACH {literal(settings.attach_uri)} AS {LAKE_ALIAS} "
                 f"(DATA_PATH {literal(settings.data_path)}, READ_ONLY)", f"USE {LAKE_ALIAS}"]
    return commands


def cmd_shell(args: argparse.Namespace) -> int:
    settings = settings_module.load()
    tty = sys.stdin.isatty()
    binary = duckdb_cli() if tty and args.duckdb else None
    if tty and args.duckdb and binary is None:
        warn(f"no duckdb v{duckdb.__version__} on PATH: using the built-in shell")
    with reader(settings) as con:  # also checks the lake exists and the extensions are installed
        if binary is None:
            shell = Shell(con)
            return interactive(shell) if tty else piped(shell)
    cmd = [binary]
    for command in duckdb_cli_setup(settings):
        cmd += ["-cmd", command + ";"]
    return subprocess.run(cmd).returncode


# -------------------------------------------------------------------------------------------------- dbt

def warn(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def dbt_plan(args: list[str]) -> tuple[str | None, bool]:
    """dbt's subcommand (the first word that is not an option) and whether it writes the lake.

    Unsure means writes: an option's value mistaken for the subcommand only costs waiting for the lock.
    """
    sub = next((a for a in args if not a.startswith("-")), None)
    return sub, sub is not None and sub not in DBT_READ_ONLY


def cmd_dbt(args: argparse.Namespace) -> int:
    settings = settings_module.load()
    dbt = Path(sys.executable).parent / "dbt"
    if not dbt.exists():
        raise CliError(f"{dbt} not found: install the project (`make setup`)")
    _, writes = dbt_plan(args.dbt_args)
    extensions.install(settings)  # dbt loads them from the project's extension_directory
    # DBT_PROFILES_DIR does what --profiles-dir does, for every subcommand and wherever the args put it.
    env = {**os.environ, **settings.dbt_env(), "DBT_PROFILES_DIR": str(settings.dbt_project_dir)}
    cmd = [str(dbt), *args.dbt_args]
    if not writes:
        return subprocess.run(cmd, cwd=settings.dbt_project_dir, env=env).returncode
    if not lake_exists(settings):
        meta.bootstrap(settings)  # our way, so the SQLite catalog starts in WAL mode for the readers
    with writer_lock(settings.lock_file, settings.lock_timeout_s, f"dbt {' '.join(args.dbt_args)}", warn):
        from pipelines.quality import dbt_results

        # tests read what the pipeline's tests have not passed on yet; the manifest of the last parse tells which
        # singular tests' SQL is still the one that passed (none: every test reads everything)
        parsed = settings.dbt_project_dir / "target" / "manifest.json"
        manifest = json.loads(parsed.read_text(encoding="utf-8")) if parsed.exists() else {}
        with reader(settings) as con:
            env[dbt_results.WATERMARKS_ENV] = dbt_results.watermarks_env(con, manifest)
        code = subprocess.run(cmd, cwd=settings.dbt_project_dir, env=env).returncode
    if code != 0:
        explain_test_failures(settings, args.dbt_args)
    return code


def dbt_option(dbt_args: list[str], name: str) -> str | None:
    for i, arg in enumerate(dbt_args):
        if arg == name and i + 1 < len(dbt_args):
            return dbt_args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def explain_test_failures(settings: Settings, dbt_args: list[str]) -> None:
    """After a failed build, the rule and the offending rows of each failed test (dbt prints only a count)."""
    from pipelines.quality import dbt_failures

    project = Path(dbt_option(dbt_args, "--project-dir") or settings.dbt_project_dir).resolve()
    target = Path(dbt_option(dbt_args, "--target-path") or os.environ.get("DBT_TARGET_PATH") or "target")
    target = target if target.is_absolute() else project / target
    try:
        run_results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    with reader(settings) as con:
        for failure in dbt_failures.failures(run_results, manifest, project, con):
            print(failure, file=sys.stderr)


# ------------------------------------------------------------------------------------------------- init

def cmd_init(args: argparse.Namespace) -> int:
    settings = settings_module.load()
    installed = extensions.install(settings)
    done = f"installed {', '.join(installed)}" if installed else "up to date"
    print(f"duckdb extensions: {done} ({settings.extension_dir})")
    meta.bootstrap(settings)
    with reader(settings) as con:
        snapshot = current_snapshot(con)
    print(f"lake ready (attached as `{LAKE_ALIAS}`, snapshot {snapshot})\n"
          f"  catalog      {settings.catalog}\n"
          f"  data         {settings.data_path}\n"
          f"  writer lock  {settings.lock_file}")
    return 0


# ------------------------------------------------------------------------------------------------- main

def cmd_serve(args: argparse.Namespace) -> int:
    """The data API (pipelines/api) on this machine, read-only on the lake; uvicorn until Ctrl-C."""
    import uvicorn

    from pipelines.api.app import create_app

    app = create_app(settings_module.load())  # a bad api_access.yml fails here, before the port opens
    base = f"http://{args.host}:{args.port}"
    print(f"{PROG} serve: the one screen {base}/ · the API {base}/api/v1 (OpenAPI: /openapi.json) · "
          f"Data Docs {base}/data-docs/", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


COMMANDS = {"sql": cmd_sql, "status": cmd_status, "shell": cmd_shell, "dbt": cmd_dbt, "init": cmd_init,
            "serve": cmd_serve,
            "catalog": cli_catalog.cmd_catalog}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Query, inspect and build the lake.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sql = sub.add_parser("sql", help="run a read-only query against the lake")
    sql.add_argument("query", help='the SQL, or "-" to read it from stdin')
    sql.add_argument("--format", choices=FORMATS, default="table")
    sql.add_argument("--max-rows", type=int, default=None, metavar="N",
                     help=f"print at most N rows (0: all; default {TABLE_MAX_ROWS} for table, all else)")
    status = sub.add_parser("status", help="tables and views with rows and last snapshot; latest ingestion")
    status.add_argument("--format", choices=FORMATS, default="table")
    shell = sub.add_parser("shell", help="an interactive SQL session on the lake (read-only)")
    shell.add_argument("--duckdb", action="store_true",
                       help="the duckdb CLI of this DuckDB version instead, if on PATH; it does not refuse "
                            "writing statements (ATTACH, COPY, …) as the built-in shell does")
    shell.add_argument("--builtin", action="store_true", help=argparse.SUPPRESS)  # the default now
    sub.add_parser("dbt", help="run dbt on the lake; every further argument goes to dbt", add_help=False)
    sub.add_parser("init", help="install the DuckDB extensions and create the lake")
    cli_catalog.add_parser(sub)
    serve = sub.add_parser("serve", help="serve the published marts over HTTP (the data API, read-only)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: localhost only)")
    serve.add_argument("--port", type=int, default=8000)
    return parser


def _stdout_gone() -> None:
    """After a closed pipe (``… | head``), point stdout at /dev/null so exiting does not complain."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["dbt"]:  # everything after `dbt` is dbt's, its --help and --version included
        args = argparse.Namespace(command="dbt", dbt_args=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        _stdout_gone()
        return 1
    except (CliError, cli_catalog.CatalogCliError, LakeMissing, WriterLockTimeout, duckdb.Error, OSError) as exc:
        print(f"{PROG} {args.command}: {one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug still gets one line here; the type says where to look
        print(f"{PROG} {args.command}: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
