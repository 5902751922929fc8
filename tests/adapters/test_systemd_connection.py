"""What systemd's errors mean to us: a unit that is not there, a lost connection, or a call that failed."""

from __future__ import annotations

import errno

import pytest
from pystemd.dbusexc import DBusError

from supervisor.adapters.systemd.connection import ConnectionLost, SystemdError, UnitGone, wrap


@pytest.mark.parametrize(
    ("err_no", "name", "kind"),
    [
        # sd-bus gives NoSuchUnit ENOENT, as it gives a socket that is not there: the name decides
        (-errno.ENOENT, b"org.freedesktop.systemd1.NoSuchUnit", UnitGone),
        (-errno.EBADR, b"org.freedesktop.DBus.Error.UnknownObject", UnitGone),
        (-errno.ENOENT, b"org.freedesktop.DBus.Error.UnknownProperty", UnitGone),
        (-errno.EBADR, b"org.freedesktop.DBus.Error.UnknownInterface", UnitGone),
        (-errno.EBADR, b"org.freedesktop.DBus.Error.UnknownMethod", UnitGone),
        (-errno.ENOENT, None, ConnectionLost),  # the socket is gone
        (-errno.ECONNRESET, None, ConnectionLost),
        (-errno.ECONNREFUSED, None, ConnectionLost),
        (-errno.ENOTCONN, b"org.freedesktop.DBus.Error.Disconnected", ConnectionLost),
        (-errno.ETIMEDOUT, b"org.freedesktop.DBus.Error.NoReply", ConnectionLost),
        (-errno.EACCES, b"org.freedesktop.DBus.Error.AccessDenied", SystemdError),
        (-errno.EIO, b"org.freedesktop.systemd1.UnitMasked", SystemdError),
    ],
)
def test_each_error_is_classified_by_its_name_before_its_errno(err_no: int, name: bytes | None, kind: type) -> None:
    got = wrap(DBusError(err_no, name, b"said by the manager"))
    assert type(got) is kind
    assert "said by the manager" in str(got)
