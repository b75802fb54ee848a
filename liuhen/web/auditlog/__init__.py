"""The audit log page, its CSV export and API: above access (they check audit.view)."""
