"""Views: patient.py (booking flow and portal), accounts.py (sign up, sign in), staff views.

Per-IP rate limits live in booking/ratelimit.py.
"""
