"""Audit actions of the devices app (第二十一条, 第二十二条)."""

event_device_registered = "device.registered"
event_device_changed = "device.changed"
event_device_viewed = "device.viewed"
event_device_listed = "device.listed"
# The lifecycle (one action per transition, so the audit log reads as the device's history).
event_device_put_in_service = "device.put_in_service"
event_device_fault_reported = "device.fault_reported"
event_device_repair_started = "device.repair_started"
event_device_repaired = "device.repaired"
event_device_retired = "device.retired"
# Who holds it, its checks and its upkeep.
event_device_checked_out = "device.checked_out"
event_device_returned = "device.returned"
event_device_assigned = "device.assigned"
event_device_checked = "device.checked"
event_device_maintained = "device.maintained"
