from django.urls import path

from liuhen.keeping import views

urlpatterns = [
    path("keeping/retention/", views.retention_table, name="keeping_retention_table"),
    path("keeping/holds/", views.hold_list, name="keeping_holds"),
    path("keeping/holds/<int:pk>/release/", views.hold_release, name="keeping_hold_release"),
    path("keeping/disposal/", views.disposal_page, name="keeping_disposal"),
    path("keeping/disposal/<int:pk>/", views.disposal_register,
         name="keeping_disposal_register"),
    path("keeping/disposal/<int:pk>/pdf", views.disposal_register_pdf,
         name="keeping_disposal_register_pdf"),
    path("keeping/cases/<int:pk>/case-file/", views.case_file_assemble,
         name="keeping_case_file_assemble"),
    path("keeping/case-files/<int:pk>/bind/", views.case_file_bind,
         name="keeping_case_file_bind"),
    path("keeping/case-files/<int:pk>/pdf", views.case_file_pdf, name="keeping_case_file_pdf"),
    path("keeping/cases/<int:pk>/long-term/", views.case_long_term,
         name="keeping_case_long_term"),
    path("keeping/recordings/<int:pk>/long-term/", views.recording_long_term,
         name="keeping_recording_long_term"),
    path("keeping/packages/", views.package_list, name="keeping_packages"),
    path("keeping/packages/<int:pk>/verify/", views.package_verify,
         name="keeping_package_verify"),
    path("keeping/packages/<int:pk>/report.<str:fmt>", views.package_report,
         name="keeping_package_report"),
    path("keeping/burns/<int:pk>/image", views.burn_image, name="keeping_burn_image"),
    path("keeping/burns/", views.burn_register, name="keeping_burns"),
    path("keeping/burns/<int:pk>/check/", views.burn_check, name="keeping_burn_check"),
    path("keeping/burns/export.csv", views.burn_export, name="keeping_burns_export"),
]
