"""Staff views: staff.py (the front desk), aesthetician.py (their day), reports.py.

The patient's pages live in portal/, accounts (sign up, sign in) in accounts/.
"""
