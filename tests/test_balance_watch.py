"""The daemon reads each modem's balance and warns about it once per episode (real daemon, real modems)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, timezone

from modemd import config as config_module
from modemd.config import Config
from modemd.drivers.at import ATDriver
from modemd.jobs.balancewatch import NO_NETWORK_RETRY, BalanceWatch
from modemd.send import outqueue
from modemd.store.models import ModemStatus, OutboundMessage
from tests.fakemodem import FakeModem, wait_until
from tests.test_daemon import SIM, Running, run_daemon  # noqa: F401  (run_daemon: the fixture)

DEFAULTS = Config.defaults()  # the schema's settings, no file

ADMIN_PHONE = "+6281200000009"  # the admin account of the `officials` fixture
LOW_SMS = "SMS Center: pulsa modem usb1 tinggal Rp 4.500 (batas Rp 10.000). Isi ulang agar SMS tetap terkirim."


def wib_today() -> date:
    return datetime.now(timezone(timedelta(hours=7))).date()


def worker_of(running: Running):
    [worker] = running.daemon.workers
    return worker


def ask_again(running: Running, fake: FakeModem) -> None:
    """Make the worker's next turn a balance check (as balance_every would), and wait for the USSD."""
    asked = len(fake.ussd_requests)
    worker = worker_of(running)
    worker.balance_watch.next_at = 0.0
    worker.wake.set()
    assert wait_until(lambda: len(fake.ussd_requests) > asked, 20)


def notifications() -> list[tuple[str, str]]:
    return [
        (m.recipient, m.text)
        for m in OutboundMessage.select().where(OutboundMessage.kind == "notification").order_by(OutboundMessage.id)
    ]


def test_the_balance_is_read_at_start_and_kept_with_its_time(run_daemon):
    run_daemon(SIM)
    assert wait_until(lambda: (ModemStatus.get_or_none(ModemStatus.name == "sim1") or ModemStatus()).balance, 20)
    status = ModemStatus.get(ModemStatus.name == "sim1")
    assert status.balance.startswith("Sisa pulsa Rp 25.000. Masa aktif s/d")
    assert abs(status.balance_at - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=1)
    assert status.balance_warning is None and notifications() == []


def test_low_credit_is_warned_once_per_episode_by_log_and_sms(run_daemon, caplog):
    caplog.set_level(logging.INFO, logger="modemd.balance")
    with FakeModem(ussd_reply="Sisa pulsa Rp 4.500. Aktif s/d 31-12-2030") as fake:
        ini = f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\nbalance_low = 10000\n"
        running = run_daemon(ini)
        assert wait_until(lambda: (ADMIN_PHONE, LOW_SMS) in fake.sent_texts(), 20)  # the SMS really went out
        warned = [r for r in caplog.records if r.levelno == logging.WARNING and "below the low mark" in r.message]
        assert len(warned) == 1 and "usb1: credit Rp 4.500 is below the low mark Rp 10.000" in warned[0].message
        assert ModemStatus.get(ModemStatus.name == "usb1").balance_warning == "low"

        ask_again(running, fake)  # six hours later: still low, same episode
        running.stop()
        outqueue.enqueue("081211112222", "penanda", "manual", config=DEFAULTS)  # sent before the balance question
        running = run_daemon(ini)  # and a restart does not start a new one
        assert wait_until(lambda: ("+6281211112222", "penanda") in fake.sent_texts(), 20)
        assert wait_until(lambda: sum("balance read" in r.message for r in caplog.records) == 3, 20)
        assert len(fake.ussd_requests) == 3 and notifications() == [(ADMIN_PHONE, LOW_SMS)]

        fake.ussd_reply = "Sisa pulsa Rp 50.000. Aktif s/d 31-12-2030"  # topped up: the episode ends
        ask_again(running, fake)
        assert wait_until(lambda: ModemStatus.get(ModemStatus.name == "usb1").balance_warning is None, 20)
        fake.ussd_reply = "Sisa pulsa Rp 4.500. Aktif s/d 31-12-2030"  # and a new one begins
        ask_again(running, fake)
        assert wait_until(lambda: len(notifications()) == 2, 20)
    assert notifications() == [(ADMIN_PHONE, LOW_SMS)] * 2
    assert len([r for r in caplog.records if "below the low mark" in r.message]) == 2


def test_an_active_period_ending_within_7_days_is_sent_to_the_admin_numbers(run_daemon):
    until = wib_today() + timedelta(days=3)
    reply = f"Pulsa Anda Rp 50.000, aktif s.d. {until:%d-%m-%Y}. Tenggang s.d. {until + timedelta(days=30):%d-%m-%Y}"
    with FakeModem(ussd_reply=reply) as fake:
        run_daemon(
            f"[notify]\nadmin_numbers = 0813 1111 0001, 0813-1111-0002\n"
            f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\n"
        )
        assert wait_until(lambda: len(notifications()) == 2, 20)
    text = (
        f"SMS Center: masa aktif kartu SIM modem usb1 berakhir {until:%d-%m-%Y}. "
        "Isi ulang pulsa agar nomor tidak hangus."
    )
    assert notifications() == [("+6281311110001", text), ("+6281311110002", text)]  # not the admin account
    status = ModemStatus.get(ModemStatus.name == "usb1")
    assert status.balance == reply and status.balance_warning == "expiring"


def test_no_network_yet_is_asked_again_within_a_minute_not_in_six_hours(officials, write_config):
    with FakeModem(registration="not registered") as fake:
        config = config_module.load(write_config(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\n"))
        driver = ATDriver("usb1", config.modems["usb1"].settings)
        driver.connect()
        try:
            watch = BalanceWatch(config.modems["usb1"], config)
            assert watch.every == 6 * 3600 and watch.due(100.0)
            assert watch.check(driver, now=100.0) is None
            assert watch.next_at == 100.0 + NO_NETWORK_RETRY and not watch.due(100.0 + NO_NETWORK_RETRY - 1)
            assert ModemStatus.get_or_none(ModemStatus.name == "usb1") is None  # nothing read, nothing stored
            fake.registration = "home"
            reading = watch.check(driver, now=100.0 + NO_NETWORK_RETRY)
        finally:
            driver.close()
    assert reading.amount == 12345 and watch.next_at == 100.0 + NO_NETWORK_RETRY + 6 * 3600


def test_no_balance_ussd_means_no_balance_checks(run_daemon):
    with FakeModem() as fake:
        outqueue.enqueue("081211112222", "halo", "manual", config=DEFAULTS)
        run_daemon(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\nbalance_ussd =\n")
        # a send comes after the balance step of the worker's turn: by then a check would have asked
        assert wait_until(lambda: fake.sent_texts() == [("+6281211112222", "halo")], 20)
    assert fake.ussd_requests == [] and fake.count("AT+CUSD") == 0


def test_messages_waiting_at_connect_go_before_the_balance_question(run_daemon):
    """The operator may take seconds (up to ussd_timeout) to answer *888#: the queue does not wait for it."""
    with FakeModem(ussd_delay=3.0) as fake:
        ids = [outqueue.enqueue("081211112222", f"menunggu {n}", "manual", config=DEFAULTS).id for n in range(3)]
        run_daemon(f"[modem:usb1]\ndriver = at\ndevice = {fake.device}\n")
        assert wait_until(lambda: OutboundMessage.select().where(OutboundMessage.state == "sent").count() == 3, 30)
        assert wait_until(lambda: (ModemStatus.get_or_none(ModemStatus.name == "usb1") or ModemStatus()).balance, 30)
        commands = [c.upper() for c in fake.commands]
        first_send = next(i for i, c in enumerate(commands) if c.startswith("AT+CMGS="))
        first_ussd = next(i for i, c in enumerate(commands) if c.startswith("AT+CUSD=1"))
        assert first_send < first_ussd, commands[: first_ussd + 5]
        assert len(ids) == 3


def test_a_balance_question_put_off_by_a_busy_queue_is_asked_within_the_longest_wait(write_config):
    from modemd.jobs import balancewatch

    config = config_module.load(write_config("[modem:usb1]\ndriver = sim\n"))
    watch = BalanceWatch(config.modems["usb1"], config)
    assert watch.may_wait(100.0) and watch.may_wait(100.0 + balancewatch.LONGEST_WAIT - 1)
    assert not watch.may_wait(100.0 + balancewatch.LONGEST_WAIT)  # asked now, however busy the queue
