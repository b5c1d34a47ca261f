"""The `routebook` command line.

Exit codes: 0 success, 1 a check failed (invalid policy, budget exceeded),
2 usage or input error. Every command imports what it needs when it runs,
so `routebook --help` and the app start without loading LiteLLM.
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_POLICY = PROJECT_ROOT / "policies" / "support.yaml"
EXAMPLE_SAMPLE = PROJECT_ROOT / "fixtures" / "support.jsonl"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="routebook",
        description="Write an LLM routing policy and see, per segment, what it costs"
        " and what it breaks. With no command, opens the app on the bundled example.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    edit = commands.add_parser("edit", help="open the app on a policy")
    edit.add_argument(
        "policy", help="policy YAML file (offered from a template if missing)"
    )
    edit.add_argument("--sample", help="sample JSONL file to preview against")

    check = commands.add_parser("check", help="validate a policy; exit 1 when invalid")
    check.add_argument("policy")

    for name, text in (
        ("preview", "per-segment routing, quality and cost report"),
        ("gate", "exit 1 when any segment regresses beyond its budget"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("policy")
        command.add_argument("--sample", required=True, help="sample JSONL file")
        if name == "preview":
            command.add_argument(
                "--format",
                choices=("table", "json"),
                default="table",
                help="output format",
            )
            command.add_argument(
                "--no-checks",
                action="store_true",
                help="skip the output checks (faster on large samples); checks the"
                " policy uses as grades still run",
            )
        else:
            command.add_argument(
                "--strict",
                action="store_true",
                help="also fail segments with fewer graded requests than min_samples",
            )
            command.add_argument("--format", choices=("table", "json"), default="table")

    _add_optional_commands(commands)
    return parser


def _add_optional_commands(commands) -> None:
    """Register commands whose modules may not exist in every build."""
    for module_name in ("import_cmd", "diff_cmd", "run_cmd"):
        try:
            module = __import__(f"tui.{module_name}", fromlist=["add_parser"])
        except ImportError:
            continue
        module.add_parser(commands)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("policy", "sample", "old", "new", "file"):
        if getattr(args, name, None) == "":
            parser.error(f"the {name} path is empty; give a file name")
    try:
        code = _dispatch(parser, args)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print("routebook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (`| head`) closed the pipe; stop quietly, as shell tools do.
        _silence_stdout()
        return 141
    except OSError as error:
        if not _is_stdout_error(error):
            raise
        _silence_stdout()
        print(
            f"routebook: error: cannot write to standard output: {error}",
            file=sys.stderr,
        )
        return EXIT_USAGE


def _is_stdout_error(error: OSError | None = None) -> bool:
    """Tell whether an OSError came from writing stdout (disk full, closed pipe).

    Errors about files carry the file's name; a failed write to stdout does not.
    """
    if error is not None and error.filename is None:
        if error.errno in (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EBADF):
            return True
    try:
        sys.stdout.flush()
    except OSError:
        return True
    return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _dispatch(parser, args) -> int:
    from .core.problems import InputError

    try:
        if args.command is None:
            return _open_app(str(EXAMPLE_POLICY), str(EXAMPLE_SAMPLE))
        if args.command == "edit":
            return _open_app(args.policy, args.sample)
        if args.command == "check":
            from .commands import check

            return check(args.policy)
        if args.command in ("preview", "gate"):
            from .commands import gate, preview

            if args.command == "preview":
                return preview(
                    args.policy, args.sample, args.format, not args.no_checks
                )
            return gate(args.policy, args.sample, args.strict, args.format)
        return args.handler(args)
    except InputError as error:
        _report_input_error(error)
        return EXIT_USAGE
    except OSError as error:
        if _is_stdout_error(error):
            raise
        # Unreadable or unwritable files that no command turned into an InputError.
        print(f"routebook: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RuntimeError as error:
        from .core.tokens import TokenizerUnavailableError

        if not isinstance(error, TokenizerUnavailableError):
            raise
        print(f"routebook: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _report_input_error(error) -> None:
    """Print located problems first, each at the start of its own line."""
    from .format import printable

    lines = [problem.format() for problem in error.problems]
    for line in lines:
        print(printable(line), file=sys.stderr)
    message = str(error)
    if message not in lines:
        print(printable(f"routebook: error: {message}"), file=sys.stderr)


def _open_app(policy: str, sample: str | None) -> int:
    from .app.main import run_app

    return run_app(policy, sample)


if __name__ == "__main__":
    sys.exit(main())
