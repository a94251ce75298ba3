"""Views still in booking: aesthetician.py (the aesthetician's day and charts).

The patient's pages live in portal/, accounts (sign up, sign in) in accounts/.
"""
