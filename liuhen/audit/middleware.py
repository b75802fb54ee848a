from liuhen.audit import context


class AuditContextMiddleware:
    """Binds the request's session and source IP to every audit entry written while serving it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        via = "api" if request.path.startswith("/api/") else "web"
        with context.using(context.from_request(request, via=via)):
            return self.get_response(request)
