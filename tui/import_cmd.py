"""`routebook import`: convert CSV or JSONL from other tools into a sample file.

Imported cheaply by the CLI when it builds its parser; the importer itself is
loaded only when the command runs.
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK = 0
EXIT_USAGE = 2

# Problems listed before the rest are only counted.
MAX_PROBLEMS_SHOWN = 50

DESCRIPTION = """\
Convert a CSV, TSV or JSONL file into a Routebook sample file through a column
mapping. Each --map item is TARGET=COLUMN (read a column) or TARGET:=VALUE (a
constant). TARGET is id, prompt, messages, reference, weight,
metadata.NAME[:TYPE] (TYPE: str, int, float, bool, json) or
outputs[MODEL].FIELD, where MODEL may read columns in braces
(outputs[openai/{strong_model}].text=strong_output). A --map value without '='
is a YAML or JSON mapping file. See docs/import.md.
"""

EPILOG = """\
example:
  routebook import answers.csv -o sample.jsonl \\
    --map id=row_id --map prompt=question --map metadata.locale=lang \\
    --map 'outputs[openai/gpt-4o].text=answer' \\
    --map 'outputs[openai/gpt-4o].grade=is_correct'
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the `import` command; its handler is `cmd_import`."""
    parser = subparsers.add_parser(
        "import",
        help="convert CSV or JSONL from other tools into a sample file",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    parser.set_defaults(handler=cmd_import)
    return parser


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="CSV, TSV or JSONL file to read")
    parser.add_argument(
        "--map",
        dest="map_items",
        action="append",
        required=True,
        metavar="ITEM",
        help="TARGET=COLUMN, TARGET:=VALUE or a mapping file; repeat for each "
        "field, later items replace earlier ones for the same target",
    )
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="keep only rows where COLUMN equals VALUE (COLUMN!=VALUE drops them "
        "instead); repeat to require several",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="OUT",
        help="sample file to write (replaced atomically); default: standard output",
    )
    parser.add_argument(
        "--format",
        choices=("csv", "tsv", "jsonl"),
        help="input format; default: from the file extension",
    )


def cmd_import(args: argparse.Namespace) -> int:
    """Run `routebook import` for parsed arguments and return the exit code."""
    from tui.core.importer import import_file, parse_mapping
    from tui.core.problems import InputError

    try:
        mapping = parse_mapping(args.map_items, where=args.where)
        summary = import_file(args.file, mapping, args.output, fmt=args.format)
    except InputError as error:
        _print_input_error(error)
        return EXIT_USAGE

    if summary.problems:
        _print_problems(summary.problems)
        target = "standard output" if summary.output == "-" else summary.output
        _error(
            f"{len(summary.problems)} invalid rows in {args.file}; "
            f"nothing was written to {target}"
        )
        return EXIT_USAGE

    _print_summary(summary)
    return EXIT_OK


def _print_input_error(error) -> None:
    located = {problem.format() for problem in error.problems}
    for line in str(error).splitlines():
        if line in located:
            print(line, file=sys.stderr)
        else:
            _error(line)


def _print_problems(problems) -> None:
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        print(problem.format(), file=sys.stderr)
    hidden = len(problems) - MAX_PROBLEMS_SHOWN
    if hidden > 0:
        print(f"... and {hidden} more", file=sys.stderr)


def _print_summary(summary) -> None:
    target = "standard output" if summary.output == "-" else summary.output
    message = (
        f"routebook: wrote {summary.requests_written} requests to {target} "
        f"(read {summary.rows_read} rows"
    )
    if summary.rows_filtered:
        message += f", {summary.rows_filtered} left out by --where"
    print(message + ")", file=sys.stderr)

    for model, texts in summary.texts_per_model.items():
        grades = summary.grades_per_model.get(model, 0)
        print(f"  {model}: {texts} texts, {grades} grades", file=sys.stderr)


def _error(message: str) -> None:
    print(f"routebook: error: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command on its own: `python -m tui.import_cmd FILE --map ...`."""
    parser = argparse.ArgumentParser(
        prog="routebook import",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    return cmd_import(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
