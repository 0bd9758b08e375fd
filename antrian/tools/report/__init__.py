"""The daily report: figures from the events (figures.py), the files it writes
(files.py: CSV and HTML) and its PNG charts (charts.py, which needs matplotlib).
"""
