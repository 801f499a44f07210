"""Reports for leadership (``/laporan``): any period, filtered, computed in SQL on every database.

Banjarnegara Pasal 7 c, e and Muara Enim Pasal 3 (2) ask for recaps and
inventories of problems for the leadership. The parts, one job each:

* :mod:`.period` -- the period asked for (today, this week, this month, a year,
  from-to) as local dates and naive-UTC bounds, and the previous one of the
  same length;
* :mod:`.sqltime` -- the few expressions that differ between SQLite,
  PostgreSQL and MariaDB (seconds between two times, the hour a time falls in);
* :mod:`.figures` -- the figures themselves, counted by the database;
* :mod:`.summary` -- those figures read from the summary the database's
  triggers keep per UTC hour (:mod:`modemd.store.report_summary`), where it
  gives the very same numbers;
* :mod:`.tables` -- the figures as named tables (what the page, the printed
  report, the CSV and the XLSX all show), and the extension point for more;
* :mod:`.export` -- those tables as CSV and XLSX;
* :mod:`.flow_steps` -- the verified complaint flow's time per step and agency,
  added at the tables' extension point.

The counting rules are the recap's (:mod:`modemd.jobs.recap`): everything
under a case's *current* keyword, so a case re-assigned to another keyword
(and so another agency) counts there only.
"""
