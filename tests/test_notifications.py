"""Scheduled notifications as plain functions of a given time: hourly, daily, deadlines, recap.

Times below are the centre's local time (Asia/Jakarta, UTC+7); 23 November 2026 is a Monday.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from modemd import config as config_module
from modemd.config import Config
from modemd.jobs import notifications, recap
from modemd.receive.keywords import load_keywords
from modemd.store.models import Case, InboundMessage, NotificationSent, OutboundMessage, User

DEFAULTS = Config.defaults()  # the schema's settings, no file

JAKARTA = ZoneInfo("Asia/Jakarta")

NOTIFY_INI = """
[web]
base_url = https://sms.pemda.go.id

[notify]
recap_numbers = 081300000001, 081300000002
escalate_after = 1h
"""


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Local Jakarta time in November 2026 -> naive UTC."""
    local = datetime(2026, 11, day, hour, minute, second, tzinfo=JAKARTA)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def receive(
    owner: User | None,
    keyword: str | None,
    when: datetime,
    *,
    citizen: str = "+6281311112222",
    answered_at: datetime | None = None,
    status: str = "open",
    deadline: datetime | None = None,
) -> Case:
    """A citizen's SMS routed into a new case, as the router would leave it."""
    case = Case.create(
        keyword=keyword,
        owner=owner,
        citizen=citizen,
        status=status,
        opened_at=when,
        deadline_at=deadline or when + timedelta(hours=3),
        last_message_at=when,
        answered_at=answered_at,
    )
    InboundMessage.create(
        modem="sim",
        sender_raw=citizen,
        sender=citizen,
        text=f"{keyword or 'HALO'} jalan rusak",
        received_at=when,
        route="case" if keyword else "unrouted",
        keyword=keyword,
        case=case,
    )
    return case


@pytest.fixture
def config(write_config):
    return config_module.load(write_config(NOTIFY_INI))


@pytest.fixture
def keywords(config):
    return load_keywords(config.keywords_path)


def notifications_to(number: str) -> list[str]:
    return [
        m.text
        for m in OutboundMessage.select()
        .where(OutboundMessage.recipient == number, OutboundMessage.kind == "notification")
        .order_by(OutboundMessage.id)
    ]


# --------------------------------------------------------------------------
# Hourly


def test_hourly_notifies_only_officials_with_new_messages_once(officials, config, keywords):
    receive(officials["dishub"], "DISHUB", at(23, 13, 10))
    receive(officials["dishub"], "DISHUB", at(23, 13, 40), citizen="+6281311113333")
    receive(officials["humas"], "INFO", at(23, 13, 20))
    receive(officials["dinkes"], "DINKES", at(23, 12, 50))  # the previous hour: already told at 13:00

    outcome = notifications.hourly(at(23, 14, 0, 2), config, keywords)

    assert outcome.period == "2026-11-23T14" and len(outcome.queued) == 2
    assert notifications_to("+6281200000002") == ["Ada 2 SMS baru untuk DISHUB. Buka https://sms.pemda.go.id"]
    assert notifications_to("+6281200000001") == ["Ada 1 SMS baru untuk INFO. Buka https://sms.pemda.go.id"]
    assert notifications_to("+6281200000003") == []
    message = OutboundMessage.get(OutboundMessage.recipient == "+6281200000002")
    assert (message.state, message.priority) == ("pending", 10)
    assert message.expires_at == message.created_at + timedelta(hours=1)  # stale after an hour: never a burst
    sent = NotificationSent.get(NotificationSent.job == "hourly", NotificationSent.target == "dishub")
    assert sent.period == "2026-11-23T14" and sent.message_id == message.id

    # the same period again (a second run, a restart a minute later): nothing more
    assert notifications.hourly(at(23, 14, 0, 30), config, keywords).queued == []
    assert notifications.hourly(at(23, 14, 59), config, keywords).queued == []
    assert OutboundMessage.select().count() == 2


def test_hourly_after_downtime_sends_one_catch_up_not_a_burst(officials, config, keywords):
    for hour in (9, 10, 11):
        receive(officials["dishub"], "DISHUB", at(23, hour, 10), citizen=f"+62813111100{hour}")
    # the daemon was down from 09:00 to 12:40: one pass at start-up
    outcome = notifications.hourly(at(23, 12, 40), config, keywords)
    assert outcome.period == "2026-11-23T12" and len(outcome.queued) == 1
    assert notifications_to("+6281200000002") == ["Ada 1 SMS baru untuk DISHUB. Buka https://sms.pemda.go.id"]
    assert notifications.hourly(at(23, 12, 41), config, keywords).queued == []


def test_hourly_is_silent_at_night_and_the_morning_one_covers_the_night(officials, config, keywords):
    receive(officials["dishub"], "DISHUB", at(23, 19, 30))
    receive(officials["dishub"], "DISHUB", at(24, 2, 15), citizen="+6281311113333")
    for night in (at(23, 20, 0, 2), at(24, 2, 0, 2), at(24, 3, 0, 2), at(24, 6, 0, 2)):
        outcome = notifications.hourly(night, config, keywords)
        assert outcome.queued == [] and outcome.skipped == "outside office hours"
    # 07:00 is the first slot since 17:00 yesterday
    assert len(notifications.hourly(at(24, 7, 0, 2), config, keywords).queued) == 1
    assert notifications_to("+6281200000002") == ["Ada 2 SMS baru untuk DISHUB. Buka https://sms.pemda.go.id"]


def test_hourly_skips_sundays_and_officials_without_a_usable_phone(officials, config, keywords, make_user):
    nophone = make_user("camat")
    receive(nophone, "INFO", at(23, 10, 5))
    officials["dinkes"].active = False
    officials["dinkes"].save()
    receive(officials["dinkes"], "DINKES", at(23, 10, 6))
    assert notifications.hourly(at(23, 11, 0, 2), config, keywords).queued == []
    receive(officials["dishub"], "DISHUB", at(29, 10, 5))  # Sunday 29 November
    assert notifications.hourly(at(29, 11, 0, 2), config, keywords).skipped == "outside office hours"
    assert OutboundMessage.select().count() == 0


def test_hourly_can_be_switched_off(officials, write_config, keywords):
    config = config_module.load(write_config(NOTIFY_INI + "hourly = no\n"))
    receive(officials["dishub"], "DISHUB", at(23, 13, 10))
    assert notifications.hourly(at(23, 14, 0, 2), config, keywords).skipped == "disabled"


def test_a_misspelt_placeholder_stays_visible_instead_of_crashing(officials, write_config, keywords):
    config = config_module.load(write_config(NOTIFY_INI + "hourly_text = Ada {jumlah} SMS {count} {keywords\n"))
    receive(officials["dishub"], "DISHUB", at(23, 13, 10))
    notifications.hourly(at(23, 14, 0, 2), config, keywords)
    assert notifications_to("+6281200000002") == ["Ada {jumlah} SMS {count} {keywords"]
    config = config_module.load(write_config(NOTIFY_INI + "hourly_text = Ada {jumlah} SMS baru ({keywords})\n"))
    receive(officials["dishub"], "DISHUB", at(23, 14, 10))
    notifications.hourly(at(23, 15, 0, 2), config, keywords)
    assert notifications_to("+6281200000002")[-1] == "Ada {jumlah} SMS baru (DISHUB)"


# --------------------------------------------------------------------------
# Daily


def test_daily_reminds_only_officials_with_unanswered_messages_of_the_day(officials, config, keywords):
    receive(officials["dishub"], "DISHUB", at(23, 8, 0))
    receive(officials["dishub"], "DISHUB", at(23, 9, 0), citizen="+6281311113333")
    receive(
        officials["dishub"],
        "DISHUB",
        at(23, 10, 0),
        citizen="+6281311114444",
        answered_at=at(23, 10, 30),
        status="answered",
    )
    receive(officials["dishub"], "DISHUB", at(22, 9, 0), citizen="+6281311115555")  # yesterday
    receive(officials["humas"], "INFO", at(23, 9, 0), answered_at=at(23, 9, 5), status="answered")
    receive(officials["dinkes"], "DINKES", at(23, 15, 30))  # after the reminder time

    outcome = notifications.daily(at(23, 15, 0, 2), config, keywords)

    assert outcome.period == "2026-11-23" and len(outcome.queued) == 1
    assert notifications_to("+6281200000002") == [
        "2 SMS hari ini belum dijawab (DISHUB). Batas jawab 3 jam. Buka https://sms.pemda.go.id"
    ]
    assert notifications.daily(at(23, 16, 0), config, keywords).queued == []
    assert notifications.daily(at(24, 8, 0), config, keywords).queued == []  # same period, next morning


def test_a_follow_up_after_the_reply_counts_as_unanswered(officials, config, keywords):
    case = receive(officials["dishub"], "DISHUB", at(23, 8, 0), answered_at=at(23, 8, 30))
    InboundMessage.create(
        modem="sim",
        sender_raw=case.citizen,
        sender=case.citizen,
        text="DISHUB kapan?",
        received_at=at(23, 11, 0),
        route="case",
        keyword="DISHUB",
        case=case,
    )
    notifications.daily(at(23, 15, 0, 2), config, keywords)
    assert notifications_to("+6281200000002")[0].startswith("1 SMS hari ini belum dijawab")


def test_daily_missed_during_downtime_is_caught_up_once_outside_quiet_hours(officials, config, keywords):
    receive(officials["dishub"], "DISHUB", at(23, 9, 0))
    # down at 15:00; started at 22:00 (quiet hours): wait
    assert notifications.daily(at(23, 22, 0), config, keywords).skipped == "late catch-up waits for office hours"
    # next morning at 07:05: yesterday's reminder, once
    outcome = notifications.daily(at(24, 7, 5), config, keywords)
    assert outcome.period == "2026-11-23" and len(outcome.queued) == 1
    assert notifications.daily(at(24, 7, 6), config, keywords).queued == []


# --------------------------------------------------------------------------
# Deadlines


def test_deadline_alerts_the_owner_once_then_escalates_to_admins_and_approvers_once(officials, config, keywords):
    case = receive(officials["dishub"], "DISHUB", at(23, 9, 0))  # deadline 12:00
    receive(officials["humas"], "INFO", at(23, 9, 0), answered_at=at(23, 11, 0), status="answered")

    assert notifications.deadlines(at(23, 11, 59), config, keywords)[0].queued == []
    alert, escalate = notifications.deadlines(at(23, 12, 1), config, keywords)
    assert len(alert.queued) == 1 and escalate.queued == []
    assert notifications_to("+6281200000002") == [
        f"SMS #{case.id} (DISHUB) belum dijawab, batas waktu lewat. Buka https://sms.pemda.go.id/cases/{case.id}"
    ]
    assert all(not o.queued for o in notifications.deadlines(at(23, 12, 30), config, keywords))

    alert, escalate = notifications.deadlines(at(23, 13, 0, 1), config, keywords)
    assert alert.queued == [] and len(escalate.queued) == 2
    expected = f"SMS #{case.id} (DISHUB, dishub) belum dijawab 1 jam setelah batas waktu."
    assert notifications_to("+6281200000009") == [expected]  # admin
    assert notifications_to("+6281200000008") == [expected]  # ketua (approver)
    assert all(not o.queued for o in notifications.deadlines(at(23, 14, 0), config, keywords))
    assert len(notifications_to("+6281200000002")) == 1


def test_deadline_catch_up_sends_one_sms_per_person_naming_every_case(officials, config, keywords):
    cases = [receive(officials["dishub"], "DISHUB", at(23, 8, m), citizen=f"+628131111{m:04d}") for m in range(7)]
    alert, escalate = notifications.deadlines(at(23, 16, 0), config, keywords)  # after a long downtime
    assert len(alert.queued) == 1 and len(escalate.queued) == 2
    ids = [c.id for c in cases]
    assert notifications_to("+6281200000002") == [
        f"SMS #{', '.join(map(str, ids[:5]))} dan 2 lainnya (DISHUB) belum dijawab, batas waktu lewat. "
        "Buka https://sms.pemda.go.id"
    ]
    assert NotificationSent.select().where(NotificationSent.job == "deadline").count() == 7
    assert NotificationSent.select().where(NotificationSent.job == "escalate").count() == 14
    # a new overdue case later alerts on its own
    new = receive(officials["dishub"], "DISHUB", at(23, 14, 0), citizen="+6281399990000")
    alert, _ = notifications.deadlines(at(23, 17, 0), config, keywords)
    assert len(alert.queued) == 1 and notifications_to("+6281200000002")[-1].startswith(f"SMS #{new.id} (DISHUB)")


def test_deadline_alerts_wait_for_office_hours_and_skip_stale_cases(officials, config, keywords):
    receive(officials["dishub"], "DISHUB", at(23, 19, 0))  # deadline 22:00, in quiet hours
    receive(officials["dinkes"], "DINKES", at(18, 9, 0))  # five days ago
    assert notifications.deadlines(at(23, 22, 30), config, keywords)[0].skipped == "outside office hours"
    alert, _ = notifications.deadlines(at(24, 7, 0), config, keywords)
    assert len(alert.queued) == 1
    assert notifications_to("+6281200000003") == []


# --------------------------------------------------------------------------
# Recap


def test_recap_numbers_follow_the_counting_rules(officials, keywords):
    receive(officials["dishub"], "DISHUB", at(23, 8, 0), answered_at=at(23, 9, 0))  # within
    receive(officials["dishub"], "DISHUB", at(23, 8, 0), answered_at=at(23, 12, 0))  # late
    receive(officials["dishub"], "DISHUB", at(23, 9, 0))  # overdue at 17:00
    receive(officials["humas"], "INFO", at(23, 15, 0))  # waiting until 18:00
    receive(officials["humas"], "INFO", at(23, 8, 0), status="closed")  # closed as spam
    receive(None, None, at(23, 10, 0))  # unknown keyword
    receive(officials["dishub"], "DISHUB", at(22, 9, 0))  # yesterday

    summary = recap.daily_recap(
        date(2026, 11, 23),
        JAKARTA,
        keyword_names=keywords.names(),
        as_of=at(23, 17, 0),
        recap_time=DEFAULTS.notify.recap_time,
    )

    assert (summary.received, summary.unrouted, summary.cases) == (6, 1, 6)
    assert (summary.answered, summary.within_deadline, summary.overdue, summary.waiting) == (2, 1, 3, 1)
    lines = {k.keyword: k for k in summary.keywords}
    assert (lines["DISHUB"].cases, lines["DISHUB"].answered, lines["DISHUB"].overdue) == (3, 2, 2)
    assert (lines["INFO"].cases, lines["INFO"].waiting) == (2, 1)
    assert lines["DINKES"].cases == 0
    assert summary.keywords[-1].keyword == recap.NO_KEYWORD
    text = recap.sms_text(summary, DEFAULTS.notify.recap_text)
    assert text == (
        "Rekap SMS 22/11 17.00 s.d. 23/11 17.00: masuk 6 (6 kasus), dijawab 2, tepat waktu 1, terlambat 3. "
        "Per kata kunci (kasus/dijawab): DISHUB 3/2, INFO 2/0, - 1/0"
    )


def test_recap_goes_to_each_leadership_number_once_per_day(officials, config, keywords):
    receive(officials["dishub"], "DISHUB", at(23, 8, 0), answered_at=at(23, 9, 0))
    assert notifications.recap(at(23, 16, 59), config, keywords).period == "2026-11-22"
    NotificationSent.delete().execute()
    OutboundMessage.delete().execute()
    outcome = notifications.recap(at(23, 17, 0, 2), config, keywords)
    assert outcome.period == "2026-11-23" and len(outcome.queued) == 2
    first = notifications_to("+6281300000001")
    assert first == notifications_to("+6281300000002")
    assert first[0].startswith("Rekap SMS 22/11 17.00 s.d. 23/11 17.00: masuk 1 (1 kasus), dijawab 1, tepat waktu 1")
    assert notifications.recap(at(23, 18, 0), config, keywords).queued == []


def test_no_recap_numbers_means_no_recap(officials, write_config, keywords):
    config = config_module.load(write_config("[notify]\n"))
    assert notifications.recap(at(23, 17, 0, 2), config, keywords).skipped == "no recap_numbers"


# --------------------------------------------------------------------------
# Exactly once, under a race and with bad data


def test_a_key_recorded_meanwhile_by_another_process_rolls_back_its_sms(officials, config):
    NotificationSent.create(job="hourly", period="2026-11-23T14", target="dishub")
    plans = [
        notifications.Planned("+6281200000002", "Ada 1 SMS", [("hourly", "2026-11-23T14", "dishub")]),
        notifications.Planned("+6281200000001", "Ada 2 SMS", [("hourly", "2026-11-23T14", "humas")]),
        notifications.Planned("bukan nomor", "Ada 3 SMS", [("hourly", "2026-11-23T14", "rusak")]),
    ]
    queued = notifications.deliver(plans, config)
    assert len(queued) == 1
    assert [m.recipient for m in OutboundMessage.select()] == ["+6281200000001"]
    assert {s.target for s in NotificationSent.select()} == {"dishub", "humas"}


def test_office_days_and_spans():
    assert notifications.parse_days("mon-sat") == frozenset(range(6))
    assert notifications.parse_days("sen-jum") == frozenset(range(5))
    assert notifications.parse_days("fri-mon") == frozenset({4, 5, 6, 0})
    assert notifications.parse_days("mon, wed,fri") == frozenset({0, 2, 4})
    assert notifications.parse_days("") == frozenset(range(7))
    for bad in ("monday-funday", "mon-tue-wed", "libur"):
        with pytest.raises(ValueError):
            notifications.parse_days(bad)
    quiet = (time(21), time(6))
    assert notifications.in_range(time(2), quiet) and notifications.in_range(time(21), quiet)
    assert not notifications.in_range(time(12), quiet)
    assert notifications.in_range(time(3), None)


def test_bad_office_days_are_a_configuration_error(write_config):
    with pytest.raises(config_module.ConfigError) as error:
        config_module.load(write_config("[notify]\noffice_days = senin-jumat-sabtu\n"))
    assert "[notify] office_days: expected days such as mon-sat" in str(error.value)
    assert config_module.load(write_config("[notify]\noffice_days = sen-jum\n")).notify.office_days == "sen-jum"


def test_every_pass_works_on_each_database(any_db, write_config):
    """The same queries on SQLite, PostgreSQL and MariaDB (column comparisons, grouping, IN lists)."""
    from modemd import users

    config = config_module.load(write_config(NOTIFY_INI))
    dishub = users.create_user("dishub", "official", "rahasia-123", phone_number="081200000002")
    users.create_user("admin", "admin", "rahasia-123", phone_number="081200000009")
    receive(dishub, "DISHUB", at(23, 9, 10))
    receive(dishub, "DISHUB", at(23, 9, 20), citizen="+6281311113333", answered_at=at(23, 9, 40), status="answered")
    jobs = ("hourly", "daily", "deadline", "escalate", "recap")

    def run(when):
        outcomes = {o.job: o for o in notifications.run_all(when, config, None)}
        return [len(outcomes[j].queued) for j in jobs]

    assert run(at(23, 10, 0, 5)) == [1, 0, 0, 0, 2]  # yesterday's recap is caught up too
    assert run(at(23, 16, 30)) == [0, 1, 1, 1, 0]
    assert run(at(23, 17, 0, 5)) == [0, 0, 0, 0, 2]
    assert run(at(23, 17, 1)) == [0, 0, 0, 0, 0]
    assert OutboundMessage.select().count() == 8
