"""The sidecar's configuration: one TOML file, validated once into a frozen, typed object.

Sources, later ones winning:
1. the built-in defaults of the dataclasses below (secrets have none);
2. the TOML file named by ``--config`` or ``MUG_CONFIG`` (none: the embedded defaults alone);
3. environment variables ``MUG_<SECTION>_<KEY>`` (``MUG_FORUM_API_KEY``, ``MUG_SERVER_PORT``, ...).

A secret may instead be read from a file: ``<key>_file`` in the TOML section or ``MUG_<SECTION>_<KEY>_FILE``
in the environment (the usual shape of container and systemd secrets). Unknown sections and keys, values of
the wrong type and missing secrets are errors that name the dotted key.
"""

from __future__ import annotations

import dataclasses
import json
import string
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from sidecar.forum.port import MAX_SUSPEND_REASON
from sidecar.membership.records import MemberStatus

MASK = "********"
MIN_WEBHOOK_SECRET_LENGTH = 12  # Discourse refuses shorter webhook secrets (FACTS.md §1).


class ConfigError(ValueError):
    """The configuration is invalid; the message names the dotted key at fault."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


def secret(doc: str) -> Any:
    """A secret: no default, masked when shown, may come from ``<key>_file``."""
    return field(default=None, metadata={"secret": True, "doc": doc})


def setting(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class ServerConfig:
    host: str = setting("127.0.0.1", "Address `mug-sidecar serve` listens on.")
    port: int = setting(8080, "Port `mug-sidecar serve` listens on.")
    threads: int = setting(8, "Request threads of `mug-sidecar serve`.")
    state_dir: str = setting("var", "Directory for local state (generated secrets in the embedded mode).")


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = setting(
        "sqlite:///var/mug-sidecar.db",
        "SQLAlchemy URL. SQLite (the embedded default) or postgresql+psycopg://user@host/db.",
    )


@dataclass(frozen=True)
class ForumConfig:
    url: str = setting("", "Base URL of the Discourse forum; empty runs against the bundled simulator.")
    api_username: str = setting("system", "Admin user the API key acts as (Api-Username header).")
    api_key: str | None = secret("Global admin API key of the forum. Required when forum.url is set.")
    webhook_secret: str | None = secret(
        "Secret of the forum's webhook (at least 12 characters). Required when forum.url is set;"
        " in the embedded mode one is generated under server.state_dir."
    )
    connect_timeout_seconds: float = setting(5.0, "Seconds to wait for a connection to the forum.")
    read_timeout_seconds: float = setting(30.0, "Seconds to wait for the forum's answer.")
    rate_limit: int = setting(
        50, "Forum API calls allowed in any rate_window_seconds, shared by every process of the sidecar."
    )
    rate_window_seconds: float = setting(
        60.0, "The window of forum.rate_limit (Discourse's own limit: 60/minute)."
    )
    rate_burst: int = setting(10, "Calls that may go at once after a quiet spell (below forum.rate_limit).")
    max_wait_seconds: float = setting(
        5.0, "Longest a call waits for the budget or a 429; beyond it the job is retried later."
    )
    retries: int = setting(2, "Retries of idempotent calls after a 5xx or a network error.")
    dry_run: bool = setting(False, "Record and report forum writes without sending them.")


@dataclass(frozen=True)
class WebhooksConfig:
    max_body_bytes: int = setting(1_048_576, "Largest webhook body accepted; larger ones get 413.")


@dataclass(frozen=True)
class WorkerConfig:
    max_attempts: int = setting(8, "Attempts before a failing delivery is marked dead.")
    retry_base_seconds: float = setting(10.0, "First retry delay; doubles with each attempt (with jitter).")
    retry_max_seconds: float = setting(3600.0, "Longest retry delay.")
    lease_seconds: float = setting(
        300.0, "How long a claim lasts; a delivery whose worker died runs again after this."
    )
    poll_seconds: float = setting(
        1.0,
        "How long an idle worker waits before looking for work again (serve's own worker is woken at once"
        " by each delivery its web app stores).",
    )
    batch_size: int = setting(
        20,
        "Due deliveries a worker claims at once (then runs one by one): one claim instead of one each."
        " Those it has not started when it stops are given back.",
    )
    separate_process: bool = setting(
        True,
        "Run serve's worker in a process of its own (true), beside the web app, or as a thread of the web"
        " app's process (false). Python runs one thread of a process at a time: in its own process the"
        " worker does not take turns with the intake. A database in memory always gets a thread.",
    )


@dataclass(frozen=True)
class LoggingConfig:
    level: str = setting("INFO", "Log level: DEBUG, INFO, WARNING or ERROR.")
    format: str = setting("auto", "auto (JSON lines unless on a terminal), json or text.")


@dataclass(frozen=True)
class MembershipConfig:
    accepted_statuses: tuple[str, ...] = setting(
        ("active", "grace", "deferred"),
        "Member statuses that can be eligible (of pending, active, grace, deferred; terminated never is).",
    )
    grace_days: int = setting(
        30, "Days after paid_through a member stays eligible (eligible through paid_through + this)."
    )
    individual_memberships: bool = setting(
        True, "Whether members without an organization (individual memberships) can be eligible."
    )
    import_max_ineligible_share: float = setting(
        0.10,
        "Largest share of existing members an import may make ineligible without --force"
        " (a broken file must not look like a mass termination).",
    )


@dataclass(frozen=True)
class RegistrationConfig:
    member_groups: tuple[str, ...] = setting(
        ("members",), "Forum groups an approved member is added to (the sidecar only ever removes these)."
    )
    ineligible: str = setting(
        "hold", "What happens to an ineligible sign-up: hold (for staff) or reject (delete)."
    )
    approve_on_domain: bool = setting(
        False, "Approve a sign-up whose email domain belongs to an active organization but matches no member."
    )
    member_number_field: str = setting(
        "", "Id of the forum user field holding the member number (empty: match on email only)."
    )
    pending_check_minutes: float = setting(
        15.0, "How often pending forum accounts are checked again (recovers lost webhooks)."
    )
    policy_version: str = setting("1", "Version of the privacy policy a sign-up consents to.")


DEFAULT_SUSPEND_MESSAGE = """Hello {username},

Your account on the MUG forum has been suspended because {why}. Forum access is a benefit of membership in
the Mitel User Group.

To renew, contact the MUG membership office (or your organization's membership contact). Once the
membership is in good standing again, your account is restored automatically, with its groups.

MUG membership"""

DEFAULT_GRACE_MESSAGE = """Hello {username},

Our records show that {why}. You keep full access to the forum until {grace_ends}; after that day the
account is suspended until the membership is renewed.

To renew, contact the MUG membership office (or your organization's membership contact). If you have paid
already, thank you: nothing else is needed, and this message can be ignored.

MUG membership"""


@dataclass(frozen=True)
class TerminationConfig:
    board_group: str = setting("board", "Forum group whose members are the Board (they approve deferrals).")
    deferral_approvals: int = setting(
        2, "Distinct Board members who must approve a deferral before it takes effect."
    )
    max_deferral_days: int = setting(180, "Longest a deferral may run, in days from the day it is requested.")
    max_share: float = setting(
        0.10, "Largest share of active members one sweep may terminate without --force."
    )
    max_count: int = setting(100, "Most members one sweep may terminate without --force.")
    suspend_reason: str = setting(
        "Membership ended", "Reason shown on the suspended forum account (neutral; at most 300 characters)."
    )
    suspend_message: str = setting(
        DEFAULT_SUSPEND_MESSAGE,
        "Emailed with the suspension; placeholders {username} and {why} (why the membership ended).",
    )
    grace_message_title: str = setting(
        "Your MUG membership dues are overdue", "Title of the private message sent when grace begins."
    )
    grace_message: str = setting(
        DEFAULT_GRACE_MESSAGE,
        "Private message sent when grace begins (empty: none); placeholders {username}, {why}, {grace_ends}.",
    )
    resume_minutes: float = setting(
        1.0,
        "How often the worker finishes an interrupted sweep or runs one an import or a deferral asked for.",
    )


DEFAULT_PM_MESSAGE = """Hello {username},

Your post {post_url} seems to contain information that should not be shared on the forum:

{findings}

Everyone who can read the topic can see it, and it stays in the post's edit history. Please edit the post
and take it out (the pencil icon under the post). If it is a password or a key, please change it too: it may
have been seen already.

If this is a mistake (a made-up example, say), there is nothing to do: a moderator will have a look.

Thank you,
The MUG forum moderators"""

SCAN_ACTIONS = ("pm", "flag", "hide")


@dataclass(frozen=True)
class ScanningActionsConfig:
    critical: tuple[str, ...] = setting(
        ("pm", "flag"),
        "Actions for critical findings (cards, national ids, bank details, keys, passwords):"
        " pm (private message to the author), flag (notify the moderators), hide (hide the post at once).",
    )
    high: tuple[str, ...] = setting(
        ("pm",), "Actions for high findings (personal phone, email, birth date, address)."
    )
    medium: tuple[str, ...] = setting((), "Actions for medium findings (a queue entry is always made).")
    low: tuple[str, ...] = setting((), "Actions for low findings (a queue entry is always made).")


@dataclass(frozen=True)
class ScanningConfig:
    fingerprint_key: str | None = secret(
        "Key of the findings' HMAC fingerprints (unset: one generated per installation in server.state_dir)."
    )
    severity: tuple[str, ...] = setting(
        (), 'Severity overrides by type, as "TYPE=critical|high|medium|low" (e.g. "IP_ADDRESS=low").'
    )
    allow_fingerprints: tuple[str, ...] = setting((), "Fingerprints never reported (values judged harmless).")
    allow_values: tuple[str, ...] = setting(
        (),
        "Regular expressions; a value matching one in full is never reported (e.g. a lab's address range).",
    )
    allow_domains: tuple[str, ...] = setting(
        ("mitelusergroup.org", "mug.org"),
        "Email domains (and their subdomains) never reported: the association's own public contacts.",
    )
    custom_rules: tuple[str, ...] = setting(
        (),
        'Extra types, each "TYPE|severity|validator|regex" (validator: none, luhn, iban or aba; a capture'
        " group 1 marks the value).",
    )
    private_messages: bool = setting(False, "Scan private messages too (other posts are always scanned).")
    pm_window_minutes: float = setting(
        10.0, "At most one private message to an author per this many minutes, however often they edit."
    )
    pm_title: str = setting(
        "About your post in \u201c{topic}\u201d",
        "Title of the private message; placeholders {topic}, {username}.",
    )
    pm_message: str = setting(
        DEFAULT_PM_MESSAGE,
        "The private message; placeholders {username}, {post_url}, {topic} and {findings} (one line per"
        " finding: what it is and its masked preview, never the value).",
    )
    flag_message: str = setting(
        "This post may contain sensitive information ({types}). The author has been asked privately to edit"
        " it. Reported automatically by the MUG sidecar.",
        "Message of the moderators' flag; placeholder {types} (the kinds found, never the values).",
    )
    actions: ScanningActionsConfig = field(default_factory=ScanningActionsConfig)


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    forum: ForumConfig = field(default_factory=ForumConfig)
    webhooks: WebhooksConfig = field(default_factory=WebhooksConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    membership: MembershipConfig = field(default_factory=MembershipConfig)
    registration: RegistrationConfig = field(default_factory=RegistrationConfig)
    termination: TerminationConfig = field(default_factory=TerminationConfig)
    scanning: ScanningConfig = field(default_factory=ScanningConfig)

    @property
    def uses_simulator(self) -> bool:
        return not self.forum.url


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMATS = ("auto", "json", "text")


def sections() -> dict[str, type[Any]]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config)}


def _field_types(section_cls: type[Any]) -> dict[str, tuple[dataclasses.Field[Any], Any]]:
    hints = typing.get_type_hints(section_cls)
    return {f.name: (f, hints[f.name]) for f in dataclasses.fields(section_cls)}


def env_name(section: str, key: str) -> str:
    return f"MUG_{section}_{key}".upper().replace(".", "_")


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read, merge and validate the configuration. Raises ConfigError naming the key at fault."""
    env = {} if env is None else env
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError("config", f"cannot read {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("config", f"{path} is not valid TOML: {exc}") from exc

    built: dict[str, Any] = {}
    section_types = sections()
    for name in raw:
        if name not in section_types:
            raise ConfigError(name, f"unknown section (known: {', '.join(section_types)})")
    for name, section_cls in section_types.items():
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(name, "must be a table ([" + name + "])")
        built[name] = _build_section(name, section_cls, table, env)
    config = Config(**built)
    _check_rules(config)
    return config


def _build_section(name: str, cls: type[Any], table: dict[str, Any], env: Mapping[str, str]) -> Any:
    fields = _field_types(cls)
    secret_files = {f"{key}_file": key for key, (f, _) in fields.items() if f.metadata.get("secret")}
    for key in table:
        if key not in fields and key not in secret_files:
            raise ConfigError(f"{name}.{key}", "unknown key")
    values: dict[str, Any] = {}
    for key, (f, typ) in fields.items():
        dotted = f"{name}.{key}"
        if isinstance(typ, type) and dataclasses.is_dataclass(typ):  # a subtable: [scanning.actions]
            sub = table.get(key, {})
            if not isinstance(sub, dict):
                raise ConfigError(dotted, f"must be a table ([{dotted}])")
            values[key] = _build_section(dotted, typ, sub, env)
            continue
        value: Any = dataclasses.MISSING
        if key in table:
            value = _coerce(dotted, typ, table[key])
        if f.metadata.get("secret") and f"{key}_file" in table:
            value = _read_secret_file(f"{dotted}_file", table[f"{key}_file"])
        var = env_name(name, key)
        if var in env:
            value = _coerce_env(f"{dotted} (from {var})", typ, env[var])
        if f.metadata.get("secret") and f"{var}_FILE" in env:
            value = _read_secret_file(f"{dotted}_file (from {var}_FILE)", env[f"{var}_FILE"])
        if value is not dataclasses.MISSING:
            values[key] = value
    return cls(**values)


def _read_secret_file(key: str, path: Any) -> str:
    if not isinstance(path, str):
        raise ConfigError(key, "must be a file path (string)")
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(key, f"cannot read secret file {path}: {exc.strerror}") from exc


def _base_type(typ: Any) -> Any:
    """``str | None`` -> ``str``; other types unchanged."""
    if isinstance(typ, types.UnionType) or typing.get_origin(typ) is Union:
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        return args[0]
    return typ


def _coerce(key: str, typ: Any, value: Any) -> Any:
    base = _base_type(typ)
    if typing.get_origin(base) is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, f"must be a list of strings, got {value!r}")
        return tuple(value)
    # bool is an int in Python: check it first so `port = true` is refused.
    if base is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"must be true or false, got {value!r}")
        return value
    if base is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"must be an integer, got {value!r}")
        return value
    if base is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"must be a number, got {value!r}")
        return float(value)
    if base is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"must be a string, got {value!r}")
        return value
    raise ConfigError(key, f"unsupported setting type {base!r}")  # pragma: no cover - schema defect


def _json_list(text: str) -> tuple[str, ...] | None:
    """A list given in the environment as a JSON array of strings (``["A|high|none|x{2,4}", ...]``), for
    items that hold commas (regular expressions); None when ``text`` is not one, and it is read as a
    comma-separated list."""
    if not text.lstrip().startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None  # "[0-9]+,[a-f]+": a comma-separated list of expressions that open with a class
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return tuple(value)


def _coerce_env(key: str, typ: Any, text: str) -> Any:
    base = _base_type(typ)
    if typing.get_origin(base) is tuple:
        listed = _json_list(text)
        if listed is not None:
            return listed
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if base is bool:
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(key, f"must be true or false, got {text!r}")
    if base is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(key, f"must be an integer, got {text!r}") from None
    if base is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(key, f"must be a number, got {text!r}") from None
    return text


def _check_rules(config: Config) -> None:
    if not 0 < config.server.port < 65536:
        raise ConfigError("server.port", f"must be between 1 and 65535, got {config.server.port}")
    if config.server.threads < 1:
        raise ConfigError("server.threads", "must be at least 1")
    if not config.database.url:
        raise ConfigError("database.url", "must not be empty")
    if not config.database.url.startswith(("sqlite", "postgresql")):
        raise ConfigError("database.url", "must be a sqlite:// or postgresql+psycopg:// URL")
    if config.forum.url:
        if not config.forum.url.startswith(("http://", "https://")):
            raise ConfigError("forum.url", f"must be an http(s) URL, got {config.forum.url!r}")
        if not config.forum.api_key:
            raise ConfigError("forum.api_key", "is required when forum.url is set (a secret: no default)")
        if not config.forum.webhook_secret:
            raise ConfigError(
                "forum.webhook_secret", "is required when forum.url is set (a secret: no default)"
            )
    if not config.forum.api_username:
        raise ConfigError("forum.api_username", "must not be empty")
    forum = config.forum
    for key in ("connect_timeout_seconds", "read_timeout_seconds", "rate_window_seconds"):
        if getattr(forum, key) <= 0:
            raise ConfigError(f"forum.{key}", "must be greater than 0")
    if forum.max_wait_seconds < 0:
        raise ConfigError("forum.max_wait_seconds", "must not be negative")
    if forum.retries < 0:
        raise ConfigError("forum.retries", "must not be negative")
    if forum.rate_limit < 2:
        raise ConfigError("forum.rate_limit", "must be at least 2")
    if not 1 <= forum.rate_burst < forum.rate_limit:
        raise ConfigError("forum.rate_burst", "must be at least 1 and less than forum.rate_limit")
    secret_value = config.forum.webhook_secret
    if secret_value is not None and len(secret_value) < MIN_WEBHOOK_SECRET_LENGTH:
        raise ConfigError(
            "forum.webhook_secret",
            f"must be at least {MIN_WEBHOOK_SECRET_LENGTH} characters (Discourse refuses shorter ones)",
        )
    if config.webhooks.max_body_bytes < 1024:
        raise ConfigError("webhooks.max_body_bytes", "must be at least 1024")
    worker = config.worker
    if worker.max_attempts < 1:
        raise ConfigError("worker.max_attempts", "must be at least 1")
    if not 1 <= worker.batch_size <= 1000:
        raise ConfigError("worker.batch_size", "must be between 1 and 1000")
    for key in ("retry_base_seconds", "retry_max_seconds", "lease_seconds", "poll_seconds"):
        if getattr(worker, key) <= 0:
            raise ConfigError(f"worker.{key}", "must be greater than 0")
    if worker.retry_max_seconds < worker.retry_base_seconds:
        raise ConfigError("worker.retry_max_seconds", "must not be less than worker.retry_base_seconds")
    if config.logging.level.upper() not in _LOG_LEVELS:
        raise ConfigError("logging.level", f"must be one of {', '.join(_LOG_LEVELS)}")
    if config.logging.format not in _LOG_FORMATS:
        raise ConfigError("logging.format", f"must be one of {', '.join(_LOG_FORMATS)}")
    _check_membership(config.membership)
    registration = config.registration
    if registration.ineligible not in ("hold", "reject"):
        raise ConfigError("registration.ineligible", "must be hold or reject")
    if registration.pending_check_minutes <= 0:
        raise ConfigError("registration.pending_check_minutes", "must be greater than 0")
    if not registration.policy_version.strip():
        raise ConfigError("registration.policy_version", "must not be empty")
    _check_termination(config.termination)
    _check_scanning(config.scanning)


def _check_scanning(scanning: ScanningConfig) -> None:
    from sidecar.scanner.scanner import RuleError, ScanSettings

    for key in ("custom_rules", "severity", "allow_values"):
        try:  # custom rules first: a severity may name a custom rule's type
            ScanSettings.parse(
                custom_rules=scanning.custom_rules,
                **({key: getattr(scanning, key)} if key != "custom_rules" else {}),
            )
        except RuleError as exc:
            raise ConfigError(f"scanning.{key}", str(exc)) from None
    for level in ("critical", "high", "medium", "low"):
        for action in getattr(scanning.actions, level):
            if action not in SCAN_ACTIONS:
                raise ConfigError(
                    f"scanning.actions.{level}",
                    f"unknown action {action!r} (known: {', '.join(SCAN_ACTIONS)})",
                )
        if "hide" in getattr(scanning.actions, level) and "flag" not in getattr(scanning.actions, level):
            raise ConfigError(f"scanning.actions.{level}", "hide works through the flag: add flag too")
    if scanning.pm_window_minutes < 0:
        raise ConfigError("scanning.pm_window_minutes", "must not be negative")
    _check_template("scanning.pm_title", scanning.pm_title, frozenset({"topic", "username"}))
    _check_template(
        "scanning.pm_message", scanning.pm_message, frozenset({"username", "post_url", "topic", "findings"})
    )
    _check_template("scanning.flag_message", scanning.flag_message, frozenset({"types"}))
    fingerprint_key = scanning.fingerprint_key
    if fingerprint_key is not None and len(fingerprint_key) < 16:
        raise ConfigError("scanning.fingerprint_key", "must be at least 16 characters")


_SUSPEND_PLACEHOLDERS = frozenset({"username", "why"})
_GRACE_PLACEHOLDERS = frozenset({"username", "why", "grace_ends"})


def _check_template(key: str, text: str, allowed: frozenset[str]) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ConfigError(
            key, f"is not a valid template ({exc}); write a literal brace as {{{{ or }}}}"
        ) from None
    unknown = sorted(names - allowed)
    if unknown:
        raise ConfigError(key, f"unknown placeholder {{{unknown[0]}}} (known: {', '.join(sorted(allowed))})")


def _check_termination(termination: TerminationConfig) -> None:
    if not termination.board_group.strip():
        raise ConfigError("termination.board_group", "must name a forum group")
    if termination.deferral_approvals < 1:
        raise ConfigError("termination.deferral_approvals", "must be at least 1")
    if termination.max_deferral_days < 1:
        raise ConfigError("termination.max_deferral_days", "must be at least 1")
    if not 0 <= termination.max_share <= 1:
        raise ConfigError("termination.max_share", "must be between 0 and 1")
    if termination.max_count < 0:
        raise ConfigError("termination.max_count", "must not be negative")
    reason = termination.suspend_reason.strip()
    if not reason or len(reason) > MAX_SUSPEND_REASON:
        raise ConfigError(
            "termination.suspend_reason", f"must be between 1 and {MAX_SUSPEND_REASON} characters"
        )
    _check_template("termination.suspend_message", termination.suspend_message, _SUSPEND_PLACEHOLDERS)
    _check_template("termination.grace_message", termination.grace_message, _GRACE_PLACEHOLDERS)
    if termination.grace_message.strip() and not termination.grace_message_title.strip():
        raise ConfigError("termination.grace_message_title", "must not be empty while grace_message is set")
    if termination.resume_minutes <= 0:
        raise ConfigError("termination.resume_minutes", "must be greater than 0")


_ACCEPTABLE_STATUSES = tuple(s.value for s in MemberStatus if s is not MemberStatus.TERMINATED)


def _check_membership(membership: MembershipConfig) -> None:
    if not membership.accepted_statuses:
        raise ConfigError("membership.accepted_statuses", "must name at least one status")
    for status in membership.accepted_statuses:
        if status == MemberStatus.TERMINATED:
            raise ConfigError("membership.accepted_statuses", "terminated members are never eligible")
        if status not in _ACCEPTABLE_STATUSES:
            raise ConfigError(
                "membership.accepted_statuses",
                f"unknown status {status!r} (known: {', '.join(_ACCEPTABLE_STATUSES)})",
            )
    if membership.grace_days < 0:
        raise ConfigError("membership.grace_days", "must not be negative")
    if not 0 <= membership.import_max_ineligible_share <= 1:
        raise ConfigError("membership.import_max_ineligible_share", "must be between 0 and 1")


def render_masked(config: Config) -> str:
    """The effective configuration as TOML, secrets masked (set) or commented out (unset)."""
    lines: list[str] = []
    for name in sections():
        _render_section(lines, name, getattr(config, name))
    return "\n".join(lines)


def _render_section(lines: list[str], name: str, section: Any) -> None:
    lines.append(f"[{name}]")
    subtables = []
    for key, (f, typ) in _field_types(type(section)).items():
        value = getattr(section, key)
        if dataclasses.is_dataclass(typ):
            subtables.append((f"{name}.{key}", value))
        elif f.metadata.get("secret"):
            lines.append(f'{key} = "{MASK}"' if value else f"# {key} is not set")
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    lines.append("")
    for sub_name, sub in subtables:
        _render_section(lines, sub_name, sub)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # A JSON string is a TOML basic string: quotes, backslashes and newlines escaped the same way.
    return json.dumps(str(value), ensure_ascii=False)


def documented_keys() -> dict[str, str]:
    """Every dotted key with its documentation (checked against config.example.toml by a test)."""
    docs: dict[str, str] = {}
    for name, cls in sections().items():
        _document(docs, name, cls)
    return docs


def _document(docs: dict[str, str], name: str, cls: type[Any]) -> None:
    for key, (f, typ) in _field_types(cls).items():
        if isinstance(typ, type) and dataclasses.is_dataclass(typ):
            _document(docs, f"{name}.{key}", typ)
        else:
            docs[f"{name}.{key}"] = str(f.metadata.get("doc", ""))
