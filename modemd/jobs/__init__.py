"""What runs on a timetable beside the message flow: the scheduler, notifications to
officials, the recap (rekap), broadcasts and their review, the SIM balance watch and
the privacy purge.
"""
