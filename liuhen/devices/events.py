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

# 审计操作的名称 (core.display): what the audit log page, its exports and the CLI show.
ACTION_LABELS = {
    event_device_registered: "登记设备",
    event_device_changed: "修改设备",
    event_device_viewed: "查看设备",
    event_device_listed: "查看设备列表",
    event_device_put_in_service: "设备投入使用",
    event_device_fault_reported: "报告设备故障",
    event_device_repair_started: "设备送修",
    event_device_repaired: "设备修复",
    event_device_retired: "设备报废",
    event_device_checked_out: "领用设备",
    event_device_returned: "归还设备",
    event_device_assigned: "指定设备使用人",
    event_device_checked: "设备使用前检查",
    event_device_maintained: "设备维护",
}

# 审计详情中的字段名称 (core.display).
DETAIL_LABELS = {
    "battery_percent": "电量（%）",
    "free_storage_mb": "剩余存储（MB）",
    "clock_offset_seconds": "时钟偏差（秒）",
    "at": "时间",
    "holding": "领用记录",
    "officer_name": "人员姓名",
    "organisation": "维修单位",
    "performed_by": "维护人",
    "repairer": "维修人",
}
