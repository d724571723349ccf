"""Border-area reports over time: the periodic review a province writes about its border communes.

areas.py     what a report is about: a province's border communes, a list of communes or pre-2025
             districts, the communes within N km of the border, the whole border, a saved area
figures.py   the yearly series of each indicator over the area, the change over the period,
             thresholds, the communes that improved most and least, the join across the 2025 reform
             (figures_years.py: the values of each year; figures_sections.py: the sections)
saved.py     named areas (stored by geoborder.indicators.saved_areas, which maps and queries read
             too) and targets (imported like indicator tables): beside a SQLite indicator
             database, or in tables of the PostgreSQL one
targets.py   reading a target table (CSV / XLSX) and checking it; met / not met when the target's
             year has data, on track / off track by the trend when it is after the last year
             with data, no data (and why)
cache.py     reviews and their documents held until what they are made of changes
charts.py    matplotlib figures: series, communes by class, the maps of the first and last year
html.py      the HTML page (web/templates/report.html), pdf.py the A4 PDF, xlsx.py the workbook
crossings.py the gates and crossings section (no data until the border records exist)
mapsheet.py  a printed map sheet (PDF / PNG): mapsheet_layout.py (papers, extents), _layers.py
             (the map), _furniture.py (legend, scale bar, north arrow, inset), _text.py (the words)
process.py   the document process: the PDF, the HTML page and the map sheets are drawn in a
             short-lived child process, so a worker never imports matplotlib (snapshot.py: what
             the child is given of the store; documents.py: the review's PDF and HTML through it)
"""
