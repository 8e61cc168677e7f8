"""How an ``evaluate`` (or ``report``) run ends: the errors of writing its output in one
line, and its report on stderr (rejects and notices the output could not hold, the
summary, the calendar's end) with the exit code."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

from lifecycle_rules.errors import LifecycleRulesError


@contextlib.contextmanager
def output_errors(out: Any, *, raw: bool = False) -> Iterator[None]:
    """Around a run that writes through ``out`` (RunOutputs, DbOutputs): an OSError is one
    line naming the file (``out.failure``), except a closed pipe, and any OSError with
    ``raw`` (a database run's are not about files); any error once the output was
    committed says so in a note ("output complete"), so nobody reruns for nothing."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, BrokenPipeError) or raw:
            raise
        raise LifecycleRulesError(out.failure(exc)) from None
    except BaseException as exc:
        if out.committed:
            exc.add_note("output complete")
        raise


def report_run(args: argparse.Namespace, summary: Any, out: Any, calendar: Any, *extra: str) -> int:
    """The end of an ``evaluate`` run on stderr: rejects and notices the output could not
    hold, the summary (and ``extra`` lines), the calendar's end; the exit code."""
    from lifecycle_rules.io.calendars import end_warning

    summary.notices = out.noticed  # with the output's own (cells a worksheet could not hold)
    for r in out.held_rejects:
        print(json.dumps(r.to_dict(), ensure_ascii=False), file=sys.stderr)
    for n in out.held_notices:
        print(f"lifecycle-rules: notice: {n['project_id']} ({n['locator']}): {n['notice']}", file=sys.stderr)
    if not args.quiet:
        for line in [*summary.lines(), *extra]:
            print(f"lifecycle-rules: {line}", file=sys.stderr)
        if out.rejected:
            print(f"lifecycle-rules: {out.rejected} rejected record(s) written to {out.where('rejects')}",
                  file=sys.stderr)
        said = end_warning(calendar, args.as_of, "--as-of")
        if said:
            print(f"lifecycle-rules: warning: {said}", file=sys.stderr)
    return 1 if out.rejected and not args.allow_rejects else 0
