"""The project's URLs with the catalogue at /catalog/ (until the integrator includes it in sanji.urls).

The project URLconf is included by name, so this test module does not import the layer above catalog.
"""

from django.urls import include, path

urlpatterns = [
    path("catalog/", include("sanji.catalog.urls")),
    path("", include("sanji.urls")),
]
