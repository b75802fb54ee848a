from django.urls import path

from liuhen.disclosure import use_views, views

urlpatterns = [
    path("disclosure/", views.index, name="disclosure_index"),
    path("disclosure/copies/new/", views.copy_new, name="disclosure_copy_new"),
    path("disclosure/copies/<int:pk>/", views.copy_detail, name="disclosure_copy"),
    path("disclosure/copies/<int:pk>/preview.jpg", views.copy_preview,
         name="disclosure_copy_preview"),
    path("disclosure/copies/<int:pk>/download", views.copy_download,
         name="disclosure_copy_download"),
    path("disclosure/copies/<int:pk>/<str:action>/", views.copy_action,
         name="disclosure_copy_action"),
    path("disclosure/supplies/", views.supply_register, name="disclosure_supply_register"),
    path("disclosure/supplies/export.<str:fmt>", views.supply_register,
         name="disclosure_supply_register_export"),
    path("disclosure/supplies/new/", views.supply_new, name="disclosure_supply_new"),
    path("disclosure/supplies/<int:pk>/", views.supply_detail, name="disclosure_supply"),
    path("disclosure/supplies/<int:pk>/download", views.supply_download,
         name="disclosure_supply_download"),
    path("disclosure/supplies/<int:pk>/<str:action>/", views.supply_action,
         name="disclosure_supply_action"),
    path("documents/<int:doc_id>/view/", views.document_viewer, name="document_viewer"),
    path("documents/<int:doc_id>/view/<int:page>.png", views.document_page,
         name="document_viewer_page"),
    path("disclosure/marks/", views.marks_page, name="disclosure_marks"),
    path("disclosure/unusual/", views.unusual_page, name="disclosure_unusual"),
    # Internal copies and exports under a grant (复制、拷贝/导出, 第十六条).
    path("use/", use_views.index, name="use_index"),
    path("use/register/", use_views.register, name="use_register"),
    path("use/copies/new/", use_views.copy_new, name="use_copy_new"),
    path("use/copies/<int:pk>/", use_views.copy_detail, name="use_copy"),
    path("use/copies/<int:pk>/download", use_views.copy_download, name="use_copy_download"),
    path("use/exports/new/", use_views.export_new, name="use_export_new"),
    path("use/exports/<int:pk>/", use_views.export_detail, name="use_export"),
    path("use/exports/<int:pk>/download", use_views.export_download,
         name="use_export_download"),
]
