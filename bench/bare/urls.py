from django.urls import path
from rest_framework import generics, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import User


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "role", "is_active", "must_change_password", "created_at", "updated_at"]
        fields += ["last_login"]


class IsAdminRole(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.role == "admin"


class Me(APIView):
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class Users(generics.ListAPIView):
    permission_classes = [permissions.IsAuthenticated, IsAdminRole]
    serializer_class = UserSerializer
    queryset = User.objects.order_by("username")


urlpatterns = [path("auth/me", Me.as_view()), path("users", Users.as_view())]
