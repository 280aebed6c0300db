"""SimpleJWT's views at the paths its documentation uses, and one API view of the app."""

from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView


@api_view(["GET"])
def me(request: Request) -> Response:
    """The signed-in user (JWTAuthentication, IsAuthenticated: the project's defaults)."""
    user = request.user
    return Response({"id": user.pk, "username": user.get_username(), "email": user.email})


urlpatterns = [
    path("api/token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("api/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("api/token/blacklist/", TokenBlacklistView.as_view(), name="token_blacklist"),
    path("api/me/", me),
]
