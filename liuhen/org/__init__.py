"""Org: the bureau's units (a tree) and its officers with their enforcement qualification
(第三条, 第十一条)."""
