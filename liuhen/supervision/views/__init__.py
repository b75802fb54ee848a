"""Pages of supervision: violations (第二十六条) and spot checks with the ledger (第二十三条)."""
