"""modemd.ini and keywords.ini: the samples pass; every broken file names file, section, key and what is expected."""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from datetime import time as dtime
from pathlib import Path

import pytest

from modemd import config as config_module
from modemd.checks import check_all
from modemd.config import SCHEMA, ConfigError, load
from modemd.receive.keywords import KeywordError, load_keywords

REPO = Path(__file__).resolve().parent.parent


def problems_of(path: Path) -> list[config_module.Problem]:
    with pytest.raises(ConfigError) as info:
        load(path)
    return [p for p in info.value.problems if not p.warning]


def only(problems, **expected):
    """The one problem, whose fields match ``expected`` (message by regex)."""
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    for field, value in expected.items():
        if field == "message":
            assert re.search(value, problem.message), str(problem)
        else:
            assert getattr(problem, field) == value, str(problem)
    return problem


# ---------------------------------------------------------------------------
# The shipped samples


def sample_keys(path: Path) -> dict[str, dict[str, str]]:
    """Keys of a sample INI per section, commented out (";key = value") or not."""
    keys: dict[str, dict[str, str]] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line.strip("[] ")
            keys[section] = {}
        match = re.match(r"^;?([a-z_]+) =\s?(.*)$", line)
        if match and section:
            keys[section].setdefault(match.group(1), match.group(2).strip())
    return keys


def test_sample_modemd_ini_loads_and_mirrors_every_default():
    config = load(REPO / "config" / "modemd.ini")
    assert config.modemd.timezone.key == "Asia/Jakarta"
    assert list(config.modems) == ["modem1"]
    assert config.modems["modem1"].driver == "at"
    sample = sample_keys(REPO / "config" / "modemd.ini")
    expected = {**SCHEMA, "modem:modem1": config_module.MODEM_KEYS}
    for section, keys in expected.items():
        for key, spec in keys.items():
            assert key in sample[section], f"[{section}] {key} is not in config/modemd.ini"
            # what the sample sets for a real install (paths, driver) may differ from the defaults
            real_install = section in ("modemd", "modem:modem1") or (section, key) == ("web", "secret_key_file")
            if not real_install or key in ("log_level", "timezone", "run_on_receive_timeout"):
                assert sample[section][key] == spec.default, (
                    f"[{section}] {key}: sample {sample[section][key]!r}, code {spec.default!r}"
                )


def test_sample_keywords_ini_loads():
    table = load_keywords(REPO / "config" / "keywords.ini")
    assert set(table.names()) == {"INFO", "DISHUB", "DINKES"}
    assert table.find("perhubungan").name == "DISHUB"
    assert table.find("Humas").name == "INFO"
    assert "{case}" in table.keywords["DISHUB"].reply


def test_check_passes_on_samples_with_their_owners(write_config, sqlite_db, officials):
    path = write_config(
        (REPO / "config" / "modemd.ini")
        .read_text()
        .replace("sqlite:////var/lib/modemd/modemd.db", "sqlite:///modemd.db")
        .replace("state_dir = /var/lib/modemd", "state_dir = ."),
        (REPO / "config" / "keywords.ini").read_text(),
    )
    result = check_all(path)
    assert result.ok, [str(p) for p in result.problems]


# ---------------------------------------------------------------------------
# Broken modemd.ini


def test_unknown_driver(write_config):
    path = write_config("[modem:m1]\ndriver = huawei\ndevice = /dev/ttyUSB0\n")
    only(
        problems_of(path), section="modem:m1", key="driver", line=5, message=r"unknown driver 'huawei'.*at, gammu, sim"
    )


def test_missing_driver(write_config):
    path = write_config("[modem:m1]\ndevice = /dev/ttyUSB0\n")
    only(problems_of(path), section="modem:m1", key="driver", message="missing key driver")


def test_missing_device_for_at_and_gammu(write_config):
    path = write_config("[modem:m1]\ndriver = at\n[modem:m2]\ndriver = gammu\n[modem:sim]\ndriver = sim\n")
    problems = problems_of(path)
    assert {(p.section, p.key) for p in problems} == {("modem:m1", "device"), ("modem:m2", "device")}
    assert all("missing key device" in p.message for p in problems)


def test_bad_timezone(write_config):
    path = write_config("[modemd]\ndatabase = sqlite:///x.db\ntimezone = Asia/Jakrta\n")
    only(problems_of(path), section="modemd", key="timezone", line=3, message="expected a time zone name.*Asia/Jakarta")


def test_baudrate_is_a_rate_or_auto(write_config):
    modem = "[modem:m1]\ndriver = at\ndevice = /dev/ttyUSB0\nbaudrate = {}\n"
    assert load(write_config(modem.format("AUTO"))).modems["m1"].settings["baudrate"] == "auto"
    assert load(write_config(modem.format("9600"))).modems["m1"].settings["baudrate"] == "9600"
    only(
        problems_of(write_config(modem.format("fast"))),
        section="modem:m1",
        key="baudrate",
        message="expected auto or a rate such as 9600",
    )


def test_sender_id_longer_than_8(write_config):
    path = write_config("[sms]\nsender_id = HUMASKOTA1\n")
    only(problems_of(path), section="sms", key="sender_id", message="at most 8 characters")


def test_bad_values_are_all_reported_at_once(write_config):
    path = write_config(
        "[sms]\nmax_attempts = many\ndeadline = soon\nretry_intervals = 1m, x\n"
        "[web]\nlisten = localhost\n[notify]\ndaily_time = 25:00\nrecap_numbers = 0812, 081200000001\n"
    )
    problems = problems_of(path)
    assert {(p.section, p.key) for p in problems} == {
        ("sms", "max_attempts"),
        ("sms", "deadline"),
        ("sms", "retry_intervals"),
        ("web", "listen"),
        ("notify", "daily_time"),
        ("notify", "recap_numbers"),
    }
    for problem in problems:
        assert problem.line is not None and problem.file == str(path)
        assert "expected" in problem.message or "not a valid phone number" in problem.message


def test_routing_to_unknown_modem_and_operator(write_config):
    path = write_config("[modem:m1]\ndriver = sim\n[routing]\ntelkomsel = m2\nmobile8 = m1\n")
    problems = problems_of(path)
    assert {(p.section, p.key) for p in problems} == {("routing", "telkomsel"), ("routing", "mobile8")}


def test_unreadable_file(write_config, tmp_path):
    path = write_config("")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # root reads anything; make it unreadable another way
            path.chmod(stat.S_IRUSR)
            path.unlink()
            path.mkdir()
            only(problems_of(path), file=str(path), message="is a directory|cannot read")
        else:
            only(problems_of(path), file=str(path), message="permission denied")
    finally:
        if path.is_dir():
            path.rmdir()


def test_missing_file(tmp_path):
    only(problems_of(tmp_path / "nope.ini"), message="file not found")


def test_not_utf8_and_garbage_lines(write_config, tmp_path):
    path = tmp_path / "latin.ini"
    path.write_bytes(b"[modemd]\nlog_level = info\n; caf\xe9\n")
    only(problems_of(path), message="not UTF-8")
    path.write_text("[modemd]\nthis line has no equals sign\n")
    only(problems_of(path), line=2, message="expected key = value")
    path.write_text("log_level = info\n")
    only(problems_of(path), line=1, message="before the first \\[section\\]")


def test_duplicate_section_and_key(write_config, tmp_path):
    path = tmp_path / "dup.ini"
    path.write_text("[modemd]\nlog_level = info\n[modemd]\n")
    only(problems_of(path), section="modemd", line=3, message="appears twice")
    path.write_text("[web]\nlisten = 127.0.0.1:1\nlisten = 127.0.0.1:2\n")
    only(problems_of(path), section="web", key="listen", line=3, message="appears twice")


def test_unknown_keys_are_warnings_not_errors(write_config):
    path = write_config("[sms]\nvalidty = max\n[colours]\nred = yes\n")
    config = load(path)
    warnings = {(w.section, w.key) for w in config.warnings}
    assert ("sms", "validty") in warnings and ("colours", None) in warnings


def test_relative_paths_come_from_the_ini_folder(write_config, tmp_path):
    path = write_config(
        "[modem:sim1]\ndriver = sim\n[modem:dummy]\ndriver = gammu\nmodel = dummy\nconnection = none\ndevice = dummydir\n"
    )
    config = load(path)
    assert config.keywords_path == tmp_path / "keywords.ini"
    assert config.database_url == f"sqlite:///{tmp_path / 'modemd.db'}"
    assert config.modems["sim1"].settings["device"] == str(tmp_path / "sim-sim1")
    assert config.modems["dummy"].settings["device"] == str(tmp_path / "dummydir")
    # [sms] values reach the drivers as strings
    assert config.modems["sim1"].settings["validity"] == "max"
    assert float(config.modems["sim1"].settings["reassembly_timeout"]) == 1800.0


# ---------------------------------------------------------------------------
# Broken keywords.ini


def keyword_problems(tmp_path, text):
    path = tmp_path / "kw.ini"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KeywordError) as info:
        load_keywords(path)
    return [p for p in info.value.problems if not p.warning]


def test_duplicate_keyword_any_case(tmp_path):
    problems = keyword_problems(tmp_path, "[DISHUB]\nowner = a\n[dishub]\nowner = b\n")
    only(problems, section="dishub", line=3, message="DISHUB is already used by \\[DISHUB\\]")


def test_alias_clashing_with_keyword_or_alias(tmp_path):
    problems = keyword_problems(
        tmp_path, "[INFO]\nowner = a\naliases = TANYA\n[DISHUB]\nowner = b\naliases = jalan, Tanya, INFO\n"
    )
    assert [(p.section, p.key) for p in problems] == [("DISHUB", "aliases"), ("DISHUB", "aliases")]
    assert all(p.line == 6 for p in problems)


def test_keyword_without_owner_and_bad_names(tmp_path):
    problems = keyword_problems(
        tmp_path, "[DISHUB]\ndescription = x\n[JALAN RUSAK]\nowner = a\n[OK]\nowner = a\nreply = nomor {kasus}\n"
    )
    assert {(p.section, p.key) for p in problems} == {("DISHUB", "owner"), ("JALAN RUSAK", None), ("OK", "reply")}


def test_keyword_owned_by_unknown_or_disabled_user(write_config, sqlite_db, officials):
    from modemd import users

    users.disable(officials["dinkes"])
    path = write_config("", keywords="[INFO]\nowner = humas\n[DISHUB]\nowner = nobody\n[DINKES]\nowner = dinkes\n")
    result = check_all(path)
    assert not result.ok
    errors = {(p.section, p.key): p for p in result.errors}
    assert set(errors) == {("DISHUB", "owner"), ("DINKES", "owner")}
    assert "'nobody' is not a user" in errors[("DISHUB", "owner")].message
    assert errors[("DISHUB", "owner")].line == 4
    assert "disabled" in errors[("DINKES", "owner")].message


def test_check_reports_problems_of_both_files_at_once(write_config, tmp_path):
    path = write_config("[modemd]\ndatabase = sqlite:///modemd.db\ntimezone = Mars/Base\n", keywords="[A]\nowner = x\n")
    # modemd.ini is broken: its problems come first, keywords cannot be located without it
    result = check_all(path)
    assert [(p.section, p.key) for p in result.errors] == [("modemd", "timezone")]
    # modemd.ini fine: the keywords file and the (empty) database are reported together
    path = write_config("", keywords="[A]\nowner = x\n[B B]\n")
    result = check_all(path)
    assert {(p.section, p.key) for p in result.errors} == {("A", None), ("B B", None), ("modemd", "database")}
    assert any("run `modemd db upgrade`" in p.message for p in result.errors)


def test_problem_text_names_file_line_section_and_key(write_config):
    path = write_config("[modem:m1]\ndriver = huawei\ndevice = /dev/x\n")
    text = str(problems_of(path)[0])
    assert text.startswith(f"{path}:5: error: [modem:m1] driver: unknown driver")


def test_configparser_is_strict_about_interpolation(write_config):
    # "%" in a template must survive: no interpolation
    path = write_config("[sms]\nunknown_keyword_reply = Diskon 50% {keywords}\n")
    assert load(path).sms.unknown_keyword_reply == "Diskon 50% {keywords}"


# --------------------------------------------------------------------------
# Typed sections: config.sms.expiry, declared in modemd/settings.py, kept equal to SCHEMA here


def _declared_and_schema_types(cls, schema):
    """(field name, declared type) of ``cls`` and (key, type the schema's parser returns) of ``schema``."""
    import typing

    from modemd import settings

    hints = typing.get_type_hints(cls, vars(settings))
    declared = [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]
    expected = []
    for key, spec in schema.items():
        returns = typing.get_type_hints(spec.parse, vars(config_module))["return"]
        if spec.path:  # resolved to a Path when set; an empty default stays ""
            returns = Path if spec.default else Path | str
        expected.append((key, returns))
    return declared, expected


@pytest.mark.parametrize("section", [s for s in SCHEMA if s != "routing"])
def test_each_section_class_declares_exactly_the_schema_keys_and_types(section):
    from modemd.settings import SECTIONS

    declared, expected = _declared_and_schema_types(SECTIONS[section], SCHEMA[section])
    assert declared == expected


def test_modem_settings_declare_exactly_the_modem_keys_and_types():
    from modemd.config import MODEM_KEYS
    from modemd.settings import ModemSettings

    declared, expected = _declared_and_schema_types(ModemSettings, MODEM_KEYS)
    assert declared == expected


def test_defaults_are_the_schema_defaults_with_no_file(tmp_path):
    from modemd.config import Config

    config = Config.defaults(tmp_path)
    assert config.sms.expiry == 24 * 3600.0 == SCHEMA["sms"]["expiry"].parse(SCHEMA["sms"]["expiry"].default)
    assert config.sms.max_attempts == 4
    assert config.sms.retry_intervals == [60.0, 300.0, 900.0]
    assert config.notify.recap_time == dtime(17, 0)
    assert config.web.listen == ("127.0.0.1", 8080)
    assert config.keywords_path == tmp_path.resolve() / "keywords.ini"
    assert config.web.logo == ""
    for section in SCHEMA:
        for key, spec in SCHEMA[section].items() if section != "routing" else ():
            if not spec.path:
                assert getattr(getattr(config, section), key) == spec.parse(spec.default), (section, key)


def test_sections_are_frozen_and_misspelt_settings_fail_loudly():
    from modemd.config import Config

    config = Config.defaults()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.sms.expiry = 1.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        config.sms.expirey  # type: ignore[attr-defined]  # noqa: B018


def test_loaded_values_reach_the_typed_sections(write_config):
    path = write_config(
        "[sms]\nexpiry = 2h\nretry_intervals = 30s, 2m\n[notify]\nrecap_time = 16:30\n"
        "[modem:a]\ndriver = sim\ncommand_timeout = 4s\nbalance_low = 500\n"
    )
    config = load(path)
    assert config.sms.expiry == 7200.0
    assert config.sms.retry_intervals == [30.0, 120.0]
    assert config.notify.recap_time == dtime(16, 30)
    assert config.modems["a"].typed.command_timeout == 4.0
    assert config.modems["a"].typed.balance_low == 500
    assert config.modems["a"].typed.send_timeout == 60.0  # the schema's default
    assert config.get("notify", "recap_time") == dtime(16, 30)  # the dynamic lookup agrees


def test_extra_init_commands_one_per_line_or_separated_by_semicolons(write_config):
    # the sample said "separated by ;" while the driver split only on lines: the whole line went out as one command
    from modemd.drivers.at import ATDriver

    path = write_config(
        "[modem:m1]\ndriver = at\ndevice = /dev/ttyUSB0\ninit = AT^CURC=0;AT+CSMP=17,167,0,0\n    at+cmee=1;+CNMI=2,1\n"
    )
    settings = load(path).modems["m1"].settings
    assert ATDriver("m1", settings).init_commands == ["AT^CURC=0", "AT+CSMP=17,167,0,0", "at+cmee=1;+CNMI=2,1"]
