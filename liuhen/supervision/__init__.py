"""Supervision by the legal affairs office (第三条, 第二十三条至第二十六条): violations of
第二十六条 detected and handled; next: spot checks, the inspection ledger, circulars, training."""
