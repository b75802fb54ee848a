"""Devices: recording devices registered with the number printed on them; their lifecycle
comes next (第十八条, 第二十一条, 第二十二条)."""
