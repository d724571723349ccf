"""The border's own records (issue 16): what the people who run a border keep that is not a
commune indicator.

- gate events (`gates.py`): proposed, agreed, approved, opened, upgraded, closed, reopened ...
  of each crossing point (gates, openings (lối mở), border markets), with date, legal reference
  and source; a gate's class and status at any date follow from them (`gate_state`, `gates_at`).
  The events the source pack states are seeded from `layers/gate_events_seed.csv`;
- crossings per gate and period (`crossings.py`): people out / in, vehicles, goods exported /
  imported with their currency; totals per gate, province, partner country and period;
- marker inspections (`markers.py`): per marker (or reference stake) number, date, condition,
  patrol kind, unit; the latest condition, a marker's history, markers not inspected since;
- cooperation (`cooperation.py`): relations between a Vietnamese province and partner provinces.

Their columns are in `kinds.py`, their vocabularies in `vocabularies.py`, the readers of their
cells in `cells.py`. They are imported (`importing.py`, a row of each kind read in `rows.py`:
CSV/XLSX, the same report as indicator imports: matched, ambiguous, unknown with line and column,
nothing written on refusal) into the indicator database
(`db.py` SQLite, `db_postgis.py` PostgreSQL), as new tables beside the indicator ones, and with
the same API keys. `records_for(indicator_db)` (`open.py`) gives the records of that database.
"""
