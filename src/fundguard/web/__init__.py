"""Web platform: login, roles, data scope, 监管驾驶舱, 疑点 review, rule library, operation log."""
