"""Audit actions of the evidence vault (第二十六条 (三): reads and refusals are logged too).

Shared by both vault engineers: add new actions here, do not rename existing ones (they are
stored in the hash-chained audit log).
"""

# Pages and playback (views.py).
event_recording_viewed = "recording.viewed"
event_recording_listed = "recording.listed"
event_recording_streamed = "recording.streamed"
event_recording_downloaded = "recording.downloaded"
event_recording_late_report_viewed = "recording.late_report_viewed"
event_upload_page_viewed = "recording.upload_page_viewed"

# Derived media (tasks.py).
event_recording_derived = "recording.derived"
event_recording_derivation_failed = "recording.derivation_failed"
