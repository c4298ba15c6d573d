"""The names under which gapsearch stores what happened to a trial, defined once.

Every writer and every reader of these user attributes takes the name from here, so that the worker loop,
the objective, the dead-worker check, the run summary, the console and the tracker agree.
"""

from __future__ import annotations

#: Why a trial failed, in one line (set by the objective, the worker loop and the dead-worker check).
FAIL_REASON = "fail_reason"
#: How :data:`FAIL_REASON` begins when the trial was interrupted by a stop request, not by a fault of its own.
STOPPED_BY = "the worker was stopped by"

__all__ = ["FAIL_REASON", "STOPPED_BY"]
