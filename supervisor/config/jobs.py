"""The registry's ``jobs:``: scheduled HTTP calls and commands, run by systemd as generated timers.

A job names *what* runs and *when*; Mission Control generates its ``.timer`` and
``.service`` (``supervisor/config/generate.py``) and supervises the timer like any
other, with a budget derived from the schedule.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from supervisor.config.durations import Duration
from supervisor.config.probes import Schedule, Zone, check_url, status_ranges
from supervisor.config.schema import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)
from supervisor.core.model import Anomalies, OnHung, OnStale

JOB_PREFIX = "missionctl-job-"
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEADER = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")  # an HTTP token (RFC 9110)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\$?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def check_job_name(name: str) -> str:
    """A job's name: it becomes ``missionctl-job-NAME.timer`` and ``.service``."""
    if not _JOB_NAME.match(name):
        raise ValueError(f"invalid job name {name!r}: 1-64 letters, digits, '_', '.', '-', starting alphanumeric")
    return name


def job_unit(name: str) -> str:
    """The stem of a job's generated units."""
    return f"{JOB_PREFIX}{name}"


def _no_newline(value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("must be one line")
    return value


Line = Annotated[str, AfterValidator(_no_newline)]


class SecretValue(_Model):
    """A header value that is a secret: from the environment file (``value_env``) or a file (``value_file``)."""

    value_env: str | None = None
    value_file: str | None = None

    @model_validator(mode="after")
    def _one(self) -> SecretValue:
        if (self.value_env is None) == (self.value_file is None):
            raise ValueError("give value_env or value_file")
        if self.value_env is not None and not _ENV_NAME.match(self.value_env):
            raise ValueError(f"invalid environment variable name {self.value_env!r}")
        if self.value_file is not None and not self.value_file.startswith("/"):
            raise ValueError("value_file is an absolute path")
        return self


def _header_value(value: object) -> str | SecretValue:
    """A header's value: one line of text, or a secret ``{value_env: NAME}`` / ``{value_file: PATH}``."""
    if isinstance(value, str):
        return _no_newline(value)
    if isinstance(value, SecretValue):
        return value
    if isinstance(value, dict):
        try:
            return SecretValue.model_validate(value)
        except ValidationError as exc:
            raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    raise ValueError("a header value is text, or {value_env: NAME} or {value_file: PATH}")


HeaderValue = Annotated[str | SecretValue, PlainValidator(_header_value)]


class HttpSpec(_Model):
    """``http: {url, method, headers, body, timeout, expect}``."""

    url: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    headers: dict[str, HeaderValue] = Field(default_factory=dict)
    body: str | dict[str, Any] | list[Any] | None = None  # a mapping or list is sent as JSON
    timeout: Duration = Field(30.0, gt=0, le=3600)
    expect: str = "200-299"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("expect")
    @classmethod
    def _expect(cls, value: str) -> str:
        if not status_ranges(value):
            raise ValueError("expect: list at least one HTTP status, e.g. 200-299")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _HEADER.match(name):
                raise ValueError(f"invalid header name {name!r}")
        return value


class RetrySpec(_Model):
    """``retries: {max: 3, backoff: 10s}``: attempts after the first, waiting backoff, 2×backoff, 4×backoff..."""

    max: int = Field(2, ge=0, le=20)
    backoff: Duration = Field(5.0, ge=0, le=3600)


class JobSpec(_Model):
    """An entry of ``jobs:``: when (``schedule`` or ``every``), what (``http`` or ``command``), how it is supervised."""

    schedule: Schedule | None = None
    every: Duration | None = Field(None, ge=1)
    timezone: Zone | None = None
    http: HttpSpec | None = None
    command: tuple[Annotated[str, Field(min_length=1, max_length=4096)], ...] | None = None
    user: str | None = None  # command jobs: run as this user (default: a dynamic user of its own)
    working_directory: str | None = None
    environment_file: str | None = None
    retries: RetrySpec = RetrySpec()
    critical: bool = False
    max_stale: Duration | None = Field(None, gt=0)
    max_runtime: Duration | None = Field(None, gt=0)
    min_runtime: Duration | None = Field(None, gt=0)
    on_stale: OnStale | None = None
    on_hung: OnHung | None = None
    anomalies: Anomalies | None = None
    output_lines: int | None = Field(None, ge=0, le=1000)
    depends_on: tuple[str, ...] = ()
    description: Line | None = Field(None, max_length=200)

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None and not _USER.match(value):
            raise ValueError(f"invalid user name {value!r}")
        return value

    @field_validator("working_directory", "environment_file")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("/") or any(c.isspace() for c in value)):
            raise ValueError("an absolute path without spaces")
        return value

    @field_validator("command")
    @classmethod
    def _argv(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            if not value:
                raise ValueError("command: give the program and its arguments, e.g. [/usr/local/bin/backup, --full]")
            if not value[0].startswith("/"):
                raise ValueError(f"command: the program is an absolute path, got {value[0]!r}")
            if any(c in arg for arg in value for c in "\n\r\x00"):
                raise ValueError("command: an argument must be one line")
        return value

    @model_validator(mode="after")
    def _shape(self) -> JobSpec:
        if (self.schedule is None) == (self.every is None):
            raise ValueError("give exactly one of schedule: CRON-OR-ONCALENDAR or every: DURATION")
        if (self.http is None) == (self.command is None):
            raise ValueError("give exactly one of http: {url: ...} or command: [PROGRAM, ARGS...]")
        if self.http is not None and (self.user or self.working_directory or self.environment_file):
            raise ValueError("user, working_directory and environment_file are for command jobs")
        if self.min_runtime is not None and self.max_runtime is not None and self.min_runtime >= self.max_runtime:
            raise ValueError("min_runtime must be shorter than max_runtime")
        return self

    def attempts_s(self) -> float:
        """The longest an HTTP job's attempts and waits can take (its service's start timeout follows)."""
        if self.http is None:
            return 0.0
        tries = self.retries.max + 1
        waits = sum(self.retries.backoff * float(2**i) for i in range(self.retries.max))
        return float(tries * self.http.timeout + waits)
