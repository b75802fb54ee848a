"""Rules: what 第五条–第十条 require, as data; the engine, each case's completeness, the archive
gate (第十条, 第十二条) and the reports."""
