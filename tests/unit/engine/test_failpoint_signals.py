"""The failpoint actions that stop the process by a signal (used by the cluster
failover tests, tests/cluster/test_master_failover.py): ``sigkill`` ends it at once,
``sigterm`` delivers SIGTERM (the default handler ends it) and never returns."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from hedgerow._internal import failpoints

_SCRIPT = (
    "import sys; from hedgerow._internal import failpoints; "
    "failpoints.hit('x.y.z'); print('after', flush=True)"
)


@pytest.mark.parametrize(
    ("action", "sig"), [("sigkill", signal.SIGKILL), ("sigterm", signal.SIGTERM)]
)
def test_signal_actions_stop_the_process_at_the_failpoint(action: str, sig: int) -> None:
    r = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        env={"HEDGEROW_FAILPOINTS": f"x.y.z={action}", "PATH": ""},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == -sig, r
    assert b"after" not in r.stdout


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown failpoint action 'sigstop'"):
        failpoints.arm("x.y.z", "sigstop")
