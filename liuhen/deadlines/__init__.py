"""Deadlines: the working-day calendar (holidays, weekend workdays) and every case's statutory
deadlines, stored for the dashboard (行政处罚法 第六十条 etc.; 第十条 keeps their trace)."""
