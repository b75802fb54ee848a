from django.urls import path

from liuhen.supervision.views import spot_checks, violations

urlpatterns = [
    path("supervision/violations/", violations.violation_list, name="violation_list"),
    path("supervision/violations/detect/", violations.violation_detect, name="violation_detect"),
    path("supervision/violations/new/", violations.violation_report, name="violation_report"),
    path("supervision/violations/<int:pk>/", violations.violation_detail, name="violation_detail"),
    path("supervision/violations/<int:pk>/<slug:action>/", violations.violation_action,
         name="violation_action"),
    path("supervision/spot-checks/", spot_checks.spot_check_list, name="spot_check_list"),
    path("supervision/spot-checks/<int:pk>/", spot_checks.spot_check_detail,
         name="spot_check_detail"),
    path("supervision/spot-checks/<int:pk>/redraw/", spot_checks.spot_check_redraw,
         name="spot_check_redraw"),
    path("supervision/spot-checks/items/<int:pk>/", spot_checks.item_review,
         name="spot_check_item"),
    path("supervision/spot-checks/items/<int:pk>/rectification/",
         spot_checks.rectification_request, name="rectification_request"),
    path("supervision/rectifications/", spot_checks.rectification_list,
         name="rectification_list"),
    path("supervision/ledger/", spot_checks.ledger_view, name="ledger"),
    path("supervision/ledger.xlsx", spot_checks.ledger_view, {"fmt": "xlsx"},
         name="ledger_xlsx"),
    path("supervision/ledger.pdf", spot_checks.ledger_view, {"fmt": "pdf"}, name="ledger_pdf"),
]
