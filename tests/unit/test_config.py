import json
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from sidecar.cli import main
from sidecar.config import MASK, Config, ConfigError, documented_keys, load_config

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
FORUM_SECRET = "forum-webhook-secret-123"
API_KEY = "api-key-0123456789abcdef"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_no_file_gives_the_embedded_defaults() -> None:
    config = load_config(None, {})
    assert config == Config()
    assert config.database.url.startswith("sqlite:///var/")
    assert config.uses_simulator
    assert config.forum.api_key is None
    assert config.forum.webhook_secret is None
    assert config.webhooks.max_body_bytes == 1_048_576


def test_example_config_loads_and_documents_every_key() -> None:
    config = load_config(EXAMPLE, {})
    assert config == Config()
    text = EXAMPLE.read_text()
    parsed = tomllib.loads(text)
    for dotted in documented_keys():
        section, key = dotted.rsplit(".", 1)
        header = text.index(f"[{section}]\n")
        table = parsed
        for part in section.split("."):
            table = table.get(part, {})
        shown = key in table or re.search(rf"^# {key}_file = ", text[header:], re.M)
        assert shown, f"{dotted} is not in config.example.toml"
        # The line above the key (in its own section) is its comment.
        written = re.search(rf"^(# )?{key}(_file)? = ", text[header:], re.M)
        assert written is not None, f"{dotted} is not in its section [{section}]"
        block = text[: header + written.start()]
        assert block.rstrip().splitlines()[-1].startswith("#"), f"{dotted} has no comment"


def test_toml_values_and_environment_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[server]
port = 9000
[forum]
url = "https://forum.example.org"
api_key = "{API_KEY}"
webhook_secret = "{FORUM_SECRET}"
[worker]
retry_base_seconds = 5
""",
    )
    config = load_config(path, {"MUG_SERVER_PORT": "9100", "MUG_FORUM_API_USERNAME": "mug-bot"})
    assert config.server.port == 9100
    assert config.forum.api_username == "mug-bot"
    assert config.forum.url == "https://forum.example.org"
    assert config.worker.retry_base_seconds == 5.0
    assert not config.uses_simulator


def test_secrets_from_files(tmp_path: Path) -> None:
    (tmp_path / "key").write_text(API_KEY + "\n")
    (tmp_path / "hook").write_text(FORUM_SECRET)
    path = write(tmp_path, f'[forum]\nurl = "https://f.example.org"\napi_key_file = "{tmp_path / "key"}"\n')
    config = load_config(path, {"MUG_FORUM_WEBHOOK_SECRET_FILE": str(tmp_path / "hook")})
    assert config.forum.api_key == API_KEY
    assert config.forum.webhook_secret == FORUM_SECRET


@pytest.mark.parametrize(
    ("toml", "env", "key"),
    [
        ("[server]\nprot = 1\n", {}, "server.prot"),
        ("[sever]\nport = 1\n", {}, "sever"),
        ('[server]\nport = "80"\n', {}, "server.port"),
        ("[server]\nport = true\n", {}, "server.port"),
        ("[server]\nport = 70000\n", {}, "server.port"),
        ("", {"MUG_SERVER_PORT": "eighty"}, "server.port (from MUG_SERVER_PORT)"),
        ('[forum]\nurl = "https://f.example.org"\n', {}, "forum.api_key"),
        ('[forum]\nurl = "https://f.example.org"\n', {"MUG_FORUM_API_KEY": API_KEY}, "forum.webhook_secret"),
        ("", {"MUG_FORUM_WEBHOOK_SECRET": "short"}, "forum.webhook_secret"),
        ('[forum]\nurl = "ftp://f.example.org"\n', {}, "forum.url"),
        (
            "",
            {"MUG_FORUM_API_KEY_FILE": "/nonexistent/key"},
            "forum.api_key_file (from MUG_FORUM_API_KEY_FILE)",
        ),
        ('[logging]\nlevel = "LOUD"\n', {}, "logging.level"),
        ("[worker]\nmax_attempts = 0\n", {}, "worker.max_attempts"),
        ("server = 1\n", {}, "server"),
    ],
)
def test_invalid_configuration_names_the_key(
    tmp_path: Path, toml: str, env: dict[str, str], key: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, toml), env)
    assert err.value.key == key
    assert str(err.value).startswith(f"{key}: ")


def test_unreadable_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml", {})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[server\n"), {})


def test_config_is_frozen() -> None:
    config = load_config(None, {})
    with pytest.raises(AttributeError):
        config.server.port = 1  # type: ignore[misc]


def test_check_config_masks_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, '[forum]\nurl = "https://forum.example.org"\n')
    result = CliRunner().invoke(
        main,
        ["--config", str(path), "check-config"],
        env={"MUG_FORUM_API_KEY": API_KEY, "MUG_FORUM_WEBHOOK_SECRET": FORUM_SECRET},
    )
    assert result.exit_code == 0, result.output
    assert API_KEY not in result.output
    assert FORUM_SECRET not in result.output
    assert f'api_key = "{MASK}"' in result.stdout
    assert 'url = "https://forum.example.org"' in result.stdout
    # What it prints is itself a valid configuration (with the masks as values).
    assert tomllib.loads(result.stdout)["server"]["port"] == 8080


def test_check_config_exits_1_naming_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[worker]\nmax_attempts = 'many'\n")
    result = CliRunner().invoke(main, ["--config", str(path), "check-config"], env={"MUG_CONFIG": None})
    assert result.exit_code == 1
    assert "worker.max_attempts: must be an integer" in result.stderr


def test_mug_config_environment_variable_selects_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 8123\n")
    result = CliRunner().invoke(main, ["check-config"], env={"MUG_CONFIG": str(path)})
    assert result.exit_code == 0, result.output
    assert "port = 8123" in result.stdout


def test_environment_lists_are_comma_separated_or_a_json_array_for_items_with_commas() -> None:
    rule = r"TICKET|low|none|TKT-(\d{4,8})"
    config = load_config(
        None,
        {
            "MUG_SCANNING_CUSTOM_RULES": json.dumps([rule]),
            "MUG_SCANNING_ALLOW_DOMAINS": " example.org, lab.example.net ,",
            "MUG_SCANNING_ALLOW_VALUES": "[0-9]+,[a-f]+",  # not JSON: expressions that open with a class
        },
    )
    assert config.scanning.custom_rules == (rule,)
    assert config.scanning.allow_domains == ("example.org", "lab.example.net")
    assert config.scanning.allow_values == ("[0-9]+", "[a-f]+")


def test_an_environment_list_split_at_a_comma_inside_a_rule_is_refused_by_name() -> None:
    # Not a JSON array: read as a comma-separated list, which cuts the rule's expression in two.
    with pytest.raises(
        ConfigError, match=re.escape("scanning.custom_rules: custom rule 'TICKET|low|none|TKT-(")
    ):
        load_config(None, {"MUG_SCANNING_CUSTOM_RULES": r"TICKET|low|none|TKT-(\d{4,8})"})
