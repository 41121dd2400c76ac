"""Configuration: default.yaml, a site file merged over it, one-line errors."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from console import settings
from console.errors import ConfigError
from console.settings import Step


def site(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(path, monkeypatch=None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        settings.load(path)
    err = info.value
    assert "\n" not in str(err), "a config error is one line"
    return err


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv("DUTYROOM_CONFIG", raising=False)


# --------------------------------------------------------------------------- defaults


def test_default_loads_with_documented_values():
    s = settings.load()
    assert s.timezone == "Asia/Shanghai"
    assert str(s.tz) == "Asia/Shanghai"
    assert s.report_limits["I"].report == 30 and s.report_limits["I"].written == 60
    assert s.report_limits["II"].report == 30
    assert s.report_limits["IV"].followup is None
    assert s.wo_type_days == {"enquiry": 2, "help": 10, "complaint": 15, "report": 15,
                              "suggestion": 10}
    assert s.sv_classes == {"urgent": (3, True), "normal": (7, True), "complex": (15, True)}
    assert s.followup_at == ("08:00", "17:00")
    assert s.leader_closes == ("I", "II")
    assert s.chain("report", "I")[0] == Step("值班员", 5)
    assert [st.name for st in s.chain("report", "I")] == [
        "值班员", "带班领导", "应急办主任", "秘书长", "分管副市长"]
    # supervision has only a default chain: any class falls back to it
    assert s.chain("supervision", "urgent") == s.chain("supervision", "default")
    assert dt.date(2026, 10, 1) in s.calendar.holidays
    assert dt.date(2026, 10, 10) in s.calendar.extra
    assert s.references["report"].format(year=2026, seq=1) == "BG-2026-0001"
    assert len(s.sources) == 1 and s.sources[0].endswith("default.yaml")


def test_site_file_overrides_one_key_and_keeps_the_rest(tmp_path):
    path = site(tmp_path, """
        site:
          name: 某市政府总值班室
        escalation:
          report:
            IV:
              - {name: 值班员, wait: 30}
    """)
    s = settings.load(path)
    assert s.site_name == "某市政府总值班室"
    assert s.timezone == "Asia/Shanghai"  # sibling key from default.yaml survives
    assert s.language == "zh-CN"  # the shipped default: the site's language
    assert s.chain("report", "IV") == (Step("值班员", 30),)  # a list is replaced whole
    assert len(s.chain("report", "I")) == 5  # other chains untouched
    assert s.sources[-1] == str(path)


def test_site_file_nested_merge(tmp_path):
    s = settings.load(site(tmp_path, "reporting:\n  levels:\n    III: {report: 90, written: 200, followup: 600}\n"))
    assert s.report_limits["III"].report == 90
    assert s.report_limits["I"].report == 30


def test_empty_site_file_is_fine(tmp_path):
    s = settings.load(site(tmp_path, "# nothing\n"))
    assert s.site_name == settings.load().site_name


def test_env_var_names_the_site_file(tmp_path, monkeypatch):
    path = site(tmp_path, "console:\n  sweep_seconds: 2\n")
    monkeypatch.setenv("DUTYROOM_CONFIG", str(path))
    s = settings.load()
    assert s.sweep_seconds == 2.0
    assert str(path) in s.sources


def test_explicit_path_wins_over_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("DUTYROOM_CONFIG", str(site(tmp_path, "console:\n  sweep_seconds: 2\n",
                                                  "env.yaml")))
    s = settings.load(site(tmp_path, "console:\n  sweep_seconds: 7\n"))
    assert s.sweep_seconds == 7.0


def test_env_var_errors_name_that_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DUTYROOM_CONFIG", str(site(tmp_path, "console:\n  bell: maybe\n",
                                                  "env.yaml")))
    with pytest.raises(ConfigError) as info:
        settings.load()
    assert str(info.value) == "env.yaml: console.bell: expected true or false, got 'maybe'"


def test_overrides_merge_last():
    s = settings.load(overrides={"database": {"url": "sqlite:////tmp/x.db"}})
    assert s.database_url == "sqlite:////tmp/x.db"


# --------------------------------------------------------------------------- errors


def test_chain_wait_error_names_file_key_path_and_problem(tmp_path):
    path = site(tmp_path, """
        escalation: {report: {I: [{name: 值班员, wait: 5}, {name: 带班领导, wait: 10}, {name: x, wait: "ten"}]}}
    """)
    err = error_of(path)
    assert str(err) == 'site.yaml: escalation.report.I[2].wait: expected minutes, got "ten"'
    assert err.file == "site.yaml"
    assert err.path == "escalation.report.I[2].wait"


def test_unknown_key_is_refused(tmp_path):
    err = error_of(site(tmp_path, "site:\n  name: x\n  colour: red\n"))
    assert str(err).startswith("site.yaml: site.colour: unknown setting")


def test_unknown_top_level_key_is_refused(tmp_path):
    err = error_of(site(tmp_path, "sitee:\n  name: x\n"))
    assert str(err).startswith("site.yaml: sitee: unknown setting")


def test_unknown_key_inside_a_step(tmp_path):
    err = error_of(site(tmp_path, "escalation:\n  report:\n    I: [{name: a, wait: 5, who: b}]\n"))
    assert str(err) == "site.yaml: escalation.report.I[0].who: unknown key (use name and wait)"


def test_bad_timezone(tmp_path):
    err = error_of(site(tmp_path, "site:\n  timezone: Mars/Olympus\n"))
    assert str(err) == "site.yaml: site.timezone: unknown time zone 'Mars/Olympus'"


@pytest.mark.parametrize("bad", ["2026-13-01", "2026-02-30", "tomorrow"])
def test_bad_holiday_date(tmp_path, bad):
    err = error_of(site(tmp_path, f"calendar:\n  holidays: [2026-01-01, {bad}]\n"))
    assert str(err) == f"site.yaml: calendar.holidays[1]: expected a date YYYY-MM-DD, got '{bad}'"


def test_bad_extra_workday(tmp_path):
    err = error_of(site(tmp_path, "calendar:\n  extra_workdays: [2026-10-32]\n"))
    assert str(err).startswith("site.yaml: calendar.extra_workdays[0]: expected a date")


def test_bad_weekday(tmp_path):
    err = error_of(site(tmp_path, "calendar:\n  workdays: [mon, tues]\n"))
    assert str(err).startswith("site.yaml: calendar.workdays[1]: expected one of")


def test_bad_followup_time(tmp_path):
    err = error_of(site(tmp_path, 'reporting:\n  followup_at: ["08:00", "25:00"]\n'))
    assert str(err) == """site.yaml: reporting.followup_at[1]: expected a time "HH:MM", got '25:00'"""


def test_negative_number(tmp_path):
    err = error_of(site(tmp_path, "database:\n  retries: -1\n"))
    assert str(err) == "site.yaml: database.retries: expected a whole number ≥ 0, got -1"


def test_bad_level_name(tmp_path):
    err = error_of(site(tmp_path, "reporting:\n  levels:\n    V: {report: 1, written: 2, followup: 3}\n"))
    assert str(err).startswith("site.yaml: reporting.levels.V: expected one of I, II, III, IV")


def test_unknown_chain_names(tmp_path):
    err = error_of(site(tmp_path, "escalation:\n  supervision:\n    urgent: [{name: a, wait: 1}]\n"))
    assert str(err) == ("site.yaml: escalation.supervision.urgent: expected one of default, "
                        "got 'urgent'")
    err = error_of(site(tmp_path, "escalation:\n  work_order:\n    asap: [{name: a, wait: 1}]\n"))
    assert str(err) == ("site.yaml: escalation.work_order.asap: expected one of normal, urgent, "
                        "very_urgent, default, got 'asap'")


def test_default_chain_stands_in_for_a_missing_one(tmp_path):
    s = settings.load(site(tmp_path, "escalation:\n  work_order:\n    default: [{name: 值班员, wait: 9}]\n"))
    assert s.chain("work_order", "urgent")[0] == Step("值班员", 60)  # the shipped one stays
    assert s.chain("work_order", "default") == (Step("值班员", 9),)


def test_empty_chain(tmp_path):
    err = error_of(site(tmp_path, "escalation:\n  report:\n    II: []\n"))
    assert str(err) == "site.yaml: escalation.report.II: an escalation chain needs at least one step"


def test_bad_database_url(tmp_path):
    err = error_of(site(tmp_path, "database:\n  url: mysql://x\n"))
    assert str(err).startswith("site.yaml: database.url: expected sqlite")


def test_invalid_yaml_names_the_line(tmp_path):
    err = error_of(site(tmp_path, "site:\n  name: [unclosed\nfoo: 1\n"))
    assert str(err).startswith("site.yaml: line 3: not valid YAML:")


def test_tab_indentation_names_the_line(tmp_path):
    err = error_of(site(tmp_path, "site:\n  name: x\n\ttimezone: UTC\n"))
    assert str(err).startswith("site.yaml: line 3: not valid YAML")


def test_top_level_not_a_mapping(tmp_path):
    err = error_of(site(tmp_path, "- a\n- b\n"))
    assert str(err) == "site.yaml: expected a mapping of settings at the top level"


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    err = error_of(missing)
    assert str(err) == f"{missing}: no such file"


def test_missing_env_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DUTYROOM_CONFIG", str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError) as info:
        settings.load()
    assert str(info.value).endswith("gone.yaml: no such file")


def test_shipped_language_is_the_sites_whatever_lang_says(monkeypatch):
    # issue 10 §7: an SSH client's C.UTF-8 must not turn one console English
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert settings.language_of(settings.load()) == "zh-CN"


def test_language_of(monkeypatch, tmp_path):
    s = settings.load(site(tmp_path, "site:\n  language: auto\n"))  # auto remains an option
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert settings.language_of(s) == "zh-CN"
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert settings.language_of(s) == "en"
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    assert settings.language_of(s) == "zh-CN"


# --------------------------------------------------------------------------- hostile files
# issue 9 §7: each was a traceback or was accepted and failed later; now one line naming
# the file and the key path.


def test_invalid_utf8_is_one_line(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_bytes(b"site:\n  name: \xff\xfe\n")
    assert str(error_of(path)) == "site.yaml: line 2: not UTF-8 text"


@pytest.mark.parametrize("text", [
    "a: " + "[" * 20000 + "]" * 20000 + "\n",
    "".join("  " * i + f"k{i}:\n" for i in range(3000)),
], ids=["brackets", "mappings"])
def test_deep_nesting_is_one_line(tmp_path, text):
    err = error_of(site(tmp_path, text))
    assert str(err).startswith("site.yaml: not valid YAML: line ")
    assert "nested deeper than" in str(err)


@pytest.mark.parametrize("text, expected", [
    ("calendar:\n  workdays: []\n",
     "site.yaml: calendar.workdays: expected at least one working day"),
    ("hotline:\n  types:\n    help: {working_days: 100000000}\n",
     "site.yaml: hotline.types.help.working_days: expected working days ≤ 365, got 100000000"),
    ("references:\n  report: 'BG-{year}'\n",
     "site.yaml: references.report: expected a format using {year} and {seq}, at most 40 "
     "characters, got 'BG-{year}'"),
    ("console:\n  sweep_seconds: .nan\n",
     "site.yaml: console.sweep_seconds: expected a number from 0.5 to 3600, got nan"),
    ("console:\n  sweep_seconds: .inf\n",
     "site.yaml: console.sweep_seconds: expected a number from 0.5 to 3600, got inf"),
    ("escalation:\n  supervision:\n    default:\n      - {name: a, wait: .inf}\n",
     "site.yaml: escalation.supervision.default[0].wait: expected minutes, got inf"),
    ("escalation:\n  supervision:\n    default:\n      - {name: a, wait: 99999999}\n",
     "site.yaml: escalation.supervision.default[0].wait: expected minutes ≤ 44640, "
     "got 99999999"),
])
def test_out_of_range_values_are_refused_at_load(tmp_path, text, expected):
    assert str(error_of(site(tmp_path, text))) == expected


def test_reference_format_must_number_each_report(tmp_path):
    for fmt in ("BG-{year}-{seq.__class__}", "BG-{seq:>100000000}", "{seq}" + "x" * 50, "{0}"):
        err = error_of(site(tmp_path, f"references:\n  report: '{fmt}'\n"))
        assert str(err).startswith("site.yaml: references.report: expected a format")


def test_huge_integer_is_one_line(tmp_path):
    err = error_of(site(tmp_path, "database:\n  retries: " + "9" * 5000 + "\n"))
    assert str(err).startswith("site.yaml: not valid YAML: ")


# any file → settings or one ConfigError line, never another exception

_KEYS = st.sampled_from(["site", "calendar", "workdays", "hotline", "types", "help",
                         "working_days", "references", "report", "console", "sweep_seconds",
                         "escalation", "supervision", "default", "name", "wait", "language",
                         "timezone", "reporting", "levels", "I", "followup", "database", "url"])
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(["{seq}", "mon", "zh-CN", "2026-13-01", "Asia/Shanghai", ".nan"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children,
                                                                         max_size=4),
    max_leaves=20)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_property_any_site_mapping_loads_or_is_one_line(tmp_path, data):
    import yaml

    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        settings.load(path)
    except ConfigError as err:
        assert "\n" not in str(err)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=200) | st.text(max_size=200).map(lambda s: s.encode()))
def test_property_any_bytes_load_or_are_one_line(tmp_path, blob):
    path = tmp_path / "site.yaml"
    path.write_bytes(blob)
    try:
        settings.load(path)
    except ConfigError as err:
        assert "\n" not in str(err)
