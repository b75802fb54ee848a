"""Audit actions of the devices app (第二十一条)."""

event_device_registered = "device.registered"
event_device_changed = "device.changed"
event_device_viewed = "device.viewed"
event_device_listed = "device.listed"
