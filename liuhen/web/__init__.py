"""Web: the top layer: pages and API operations that compose several areas (dashboard, case
page, records page, audit log), the API and URL assembly, and serve/demo/scheduler."""
