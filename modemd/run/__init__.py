"""The daemon's machinery (``modemd run``): the daemon and one worker per modem, their
health board and progress (systemd watchdog), sd_notify, logging set-up, and the
probe a worker answers for ``modemd probe`` (survey, remoteprobe).
"""
