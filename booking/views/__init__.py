"""Views: patient.py (booking flow and portal), accounts.py (sign up, sign in), aesthetician.py
(the aesthetician's day and charts). The front desk's views live in the desk app.

Per-IP rate limits live in booking/ratelimit.py.
"""
